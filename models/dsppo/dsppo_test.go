package dsppo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// busyObs plays the paper's configuration on a burst queue with the
// first-fit baseline for at least steps steps and until a state where
// tasks wait and at least two placements are allowed, so that nodes
// differ in free resources.
func busyObs(t *testing.T, cfg cluster.Config, steps int) cluster.Obs {
	t.Helper()
	e, err := cluster.NewEnv(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.Reset(3)
	ff := cluster.FirstFit()
	for i := 0; ; i++ {
		allowed := 0
		for _, m := range o.Mask[:len(o.Mask)-1] {
			if m {
				allowed++
			}
		}
		if i >= steps && allowed >= 2 && o.Waiting >= 3 {
			return o
		}
		a, _ := ff.Decide(o)
		s, err := e.Step(a)
		if err != nil || s.Terminated {
			t.Fatalf("no busy state found: %v %v", err, s.Terminated)
		}
		o = s.Obs
	}
}

func burst() cluster.Config {
	c := cluster.PaperConfig()
	c.Queue = cluster.Burst
	return c
}

// permute returns o with its nodes in the order perm (new node i is old
// node perm[i]; the placement actions move with them) and its queue
// reversed.
func permute(o cluster.Obs, perm []int) cluster.Obs {
	slots := (len(o.Mask) - 1) / len(o.Nodes)
	p := o
	p.Memo = nil // a changed observation must not share the original's encoding
	p.Nodes = make([]cluster.NodeState, len(o.Nodes))
	p.Mask = make([]bool, len(o.Mask))
	for i, j := range perm {
		p.Nodes[i] = o.Nodes[j]
		copy(p.Mask[i*slots:(i+1)*slots], o.Mask[j*slots:(j+1)*slots])
	}
	p.Mask[len(p.Mask)-1] = o.Mask[len(o.Mask)-1]
	p.Queue = make([]cluster.Queued, len(o.Queue))
	for i, q := range o.Queue {
		p.Queue[len(o.Queue)-1-i] = q
	}
	return p
}

func probs(a *Actor, o cluster.Obs) []float32 {
	t := nn.NewInference()
	logits, mask := a.Logits(t, []cluster.Obs{o})
	lp := dist.NewCategorical(t, logits, mask).LogProbs().Data
	p := make([]float32, len(lp))
	for i, v := range lp {
		p[i] = float32(math.Exp(float64(v)))
	}
	return p
}

// TestPermutationInvariance: shuffling the nodes (and the waiting tasks)
// gives the same action distribution, the placements' probabilities moving
// with their nodes; the value is unchanged.
func TestPermutationInvariance(t *testing.T) {
	o := busyObs(t, burst(), 400)
	if o.Waiting < 3 || o.Running < 10 {
		t.Fatalf("the observation is not busy enough: %d waiting, %d running", o.Waiting, o.Running)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a := NewActor(DefaultConfig(5), rng)
	c := NewCritic(DefaultConfig(5), rng)
	perm := rng.Perm(len(o.Nodes))
	p := permute(o, perm)
	slots := (len(o.Mask) - 1) / len(o.Nodes)
	po, pp := probs(a, o), probs(a, p)
	allowed := 0
	for i, j := range perm {
		for k := range slots {
			if d := math.Abs(float64(pp[i*slots+k] - po[j*slots+k])); d > 1e-6 {
				t.Fatalf("node %d (was %d) slot %d: probability %v, was %v", i, j, k, pp[i*slots+k], po[j*slots+k])
			}
			if o.Mask[j*slots+k] {
				allowed++
			}
		}
	}
	w := len(po) - 1
	if math.Abs(float64(pp[w]-po[w])) > 1e-6 || allowed < 2 {
		t.Fatalf("wait %v vs %v; %d placements allowed", pp[w], po[w], allowed)
	}
	v1, v2 := c.Value(nn.NewInference(), []cluster.Obs{o}), c.Value(nn.NewInference(), []cluster.Obs{p})
	if math.Abs(float64(v1.Data[0]-v2.Data[0])) > 1e-5 {
		t.Fatalf("value %v after the shuffle, %v before", v2.Data[0], v1.Data[0])
	}
	// Not invariant to what matters: another state gives other values.
	if q := busyObs(t, burst(), 150); math.Abs(float64(c.Value(nn.NewInference(), []cluster.Obs{q}).Data[0]-v1.Data[0])) == 0 {
		t.Error("the value does not depend on the state")
	}
}

// TestMaskedActionsNeverChosen: sampled and modal actions are allowed
// ones, and masked actions have probability 0.
func TestMaskedActionsNeverChosen(t *testing.T) {
	o := busyObs(t, burst(), 300)
	a := NewActor(DefaultConfig(5), rand.New(rand.NewPCG(3, 4)))
	for i, p := range probs(a, o) {
		if !o.Mask[i] && p != 0 {
			t.Fatalf("masked action %d has probability %v", i, p)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	batch := []cluster.Obs{o, o, o, o}
	for range 50 {
		for _, act := range a.Act(nn.NewInference(), batch, rng) {
			if !o.Mask[act.Index] {
				t.Fatalf("sampled masked action %d", act.Index)
			}
		}
	}
	if m := a.Mode(nn.NewInference(), batch[:1])[0]; !o.Mask[m.Index] {
		t.Fatalf("mode %d is masked", m.Index)
	}
}

// TestAnyConfiguration: the same weights schedule a configuration with
// more edge nodes and one cloud server less (other action counts).
func TestAnyConfiguration(t *testing.T) {
	a := NewActor(DefaultConfig(5), rand.New(rand.NewPCG(7, 8)))
	c := burst()
	c.Clusters[0].Nodes--
	c.Clusters[1].Nodes += 6
	o := busyObs(t, c, 100)
	if len(o.Mask) != (33+5)*3+1 {
		t.Fatalf("%d actions", len(o.Mask))
	}
	act := a.Mode(nn.NewInference(), []cluster.Obs{o})[0]
	if err := rl.CheckAction(rl.Space{Kind: rl.Discrete, N: len(o.Mask)}, act, o.Mask); err != nil {
		t.Fatalf("action %d", act.Index)
	}
}

// TestWaitHead: the wait head's output is the wait action's logit (a
// large bias on it makes waiting nearly certain when allowed, and gives
// nothing to a placement).
func TestWaitHead(t *testing.T) {
	o := busyObs(t, burst(), 300)
	if !o.Mask[len(o.Mask)-1] {
		t.Fatal("waiting is not allowed in the test state")
	}
	a := NewActor(DefaultConfig(5), rand.New(rand.NewPCG(9, 9)))
	last := a.Wait.Layers[len(a.Wait.Layers)-1]
	last.B.V.Data[0] += 50
	p := probs(a, o)
	if p[len(p)-1] < 0.999 {
		t.Fatalf("wait probability %v with a +50 bias", p[len(p)-1])
	}
}

// TestSaveLoad: a saved agent decides the same after loading; another
// kind of file is refused.
func TestSaveLoad(t *testing.T) {
	ag, err := NewAgent(Config{Types: 5, Dim: 8, Pool: "attention"}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/m.safetensors"
	if err := Save(path, ag, 12); err != nil {
		t.Fatal(err)
	}
	got, meta, err := Load(path)
	if err != nil || meta.Step != 12 {
		t.Fatalf("Load: %v, step %d", err, meta.Step)
	}
	o := busyObs(t, burst(), 200)
	p1, p2 := probs(ag.Actors[0].(*Actor), o), probs(got.Actors[0].(*Actor), o)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("action %d: %v after loading, %v before", i, p2[i], p1[i])
		}
	}
	v1, v2 := ag.Critic.Value(nn.NewInference(), []cluster.Obs{o}), got.Critic.Value(nn.NewInference(), []cluster.Obs{o})
	if v1.Data[0] != v2.Data[0] {
		t.Fatalf("value %v after loading, %v before", v2.Data[0], v1.Data[0])
	}
	if _, _, err := Load(t.TempDir() + "/none"); err == nil {
		t.Error("loading a missing file succeeded")
	}
	if err := Save(t.TempDir()+"/x", agent.Agent[cluster.Obs]{}, 0); err == nil {
		t.Error("saving an empty agent succeeded")
	}
}

// TestFlatLayout: the padded vector holds each node's features at its
// position, the decided task first in the queue block, and each
// placement's features at its action's slot; shuffling the nodes changes
// the MLP's output (it is the ablation without invariance).
func TestFlatLayout(t *testing.T) {
	o := busyObs(t, burst(), 300)
	cfg := DefaultConfig(5)
	s := ShapeOf(burst())
	v := flatten(cfg, s, []cluster.Obs{o})
	if len(v) != s.width(cfg) {
		t.Fatalf("width %d, want %d", len(v), s.width(cfg))
	}
	nodes, queue, glob, _, _, enc := features(cfg, []cluster.Obs{o})
	if !slices.Equal(v[NodeDim*5:NodeDim*6], nodes[NodeDim*5:NodeDim*6]) {
		t.Error("node 5's features are not at its place")
	}
	qb := s.Nodes * NodeDim
	if !slices.Equal(v[qb:qb+cfg.queueDim()], queue[:cfg.queueDim()]) || v[qb+o.Task] != 1 {
		t.Error("the decided task is not first in the queue block")
	}
	gb := qb + (s.Queue+1)*cfg.queueDim()
	if !slices.Equal(v[gb:gb+cfg.globalDim()], glob) {
		t.Error("the global features are not after the queue block")
	}
	ob := gb + cfg.globalDim()
	a := enc.optAct[3]
	if !slices.Equal(v[ob+a*OptionDim:ob+(a+1)*OptionDim], enc.opt[3*OptionDim:4*OptionDim]) {
		t.Errorf("placement %d's features are not at its slot", a)
	}
	ag, err := NewFlatAgent(cfg, s, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	p := permute(o, rand.New(rand.NewPCG(3, 3)).Perm(len(o.Nodes)))
	v1 := ag.Critic.Value(nn.NewInference(), []cluster.Obs{o}).Data[0]
	v2 := ag.Critic.Value(nn.NewInference(), []cluster.Obs{p}).Data[0]
	if v1 == v2 {
		t.Error("the MLP's value ignores the node order (it should not: it is the ablation)")
	}
	if act := ag.Actors[0].Mode(nn.NewInference(), []cluster.Obs{o})[0]; !o.Mask[act.Index] {
		t.Errorf("mode %d is masked", act.Index)
	}
}

// twoWays is cluster x (one 2-core node) and y (two 4-core nodes); type
// f runs 30 s on y with 1 core, 10 s on x with 2, 20 s on y with 4;
// queues of `tasks` tasks.
func twoWays(tasks int) cluster.Config {
	return cluster.Config{
		Clusters: []cluster.Cluster{{Name: "x", Nodes: 1, Node: cluster.Resources{CPU: 2}}, {Name: "y", Nodes: 2, Node: cluster.Resources{CPU: 4}}},
		TaskTypes: []cluster.TaskType{{Name: "f", Strategies: []cluster.Strategy{
			{Cluster: "y", Processor: "cpu", Demand: cluster.Resources{CPU: 1}, Runtime: 30},
			{Cluster: "x", Processor: "cpu", Demand: cluster.Resources{CPU: 2}, Runtime: 10},
			{Cluster: "y", Processor: "cpu", Demand: cluster.Resources{CPU: 4}, Runtime: 20},
		}}},
		Queue: cluster.Queue{Tasks: tasks, Horizon: 1}, Weights: cluster.Weights{Alpha: 1},
	}
}

// TestPrior: the fastest-fit prior by hand (placements of 20 s and 30 s
// allowed: 0 and −ln 1.5; waiting −ln 2; masked 0), and a large prior
// makes the policy's mode a fastest allowed placement.
func TestPrior(t *testing.T) {
	c := twoWays(2)
	e, _ := cluster.NewEnv(c)
	e.ResetQueue([]int{0, 0}, []float64{0, 0})
	s, _ := e.Step(rl.Action{Index: 0}) // x busy
	got := priorOf(s.Obs)
	want := []float32{0, 0, -float32(math.Log(1.5)), 0, -float32(math.Log(1.5)), 0, -math.Ln2}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("prior %v, want %v", got, want)
		}
	}
	o := busyObs(t, burst(), 300)
	cfg := DefaultConfig(5)
	cfg.Prior = 50
	a := NewActor(cfg, rand.New(rand.NewPCG(4, 4)))
	m := a.Mode(nn.NewInference(), []cluster.Obs{o})[0].Index
	fast, _ := cluster.Fastest().Decide(o)
	rt := func(i int) float64 { return o.Cfg.TaskTypes[o.Task].Strategies[o.Option(i)].Runtime }
	if m == o.WaitAction() || rt(m) != rt(fast.Index) {
		t.Fatalf("mode %d (%v s), fastest-fit %d (%v s)", m, rt(m), fast.Index, rt(fast.Index))
	}
	// The MLP ablation gets the same prior: its logits move by exactly
	// Prior × priorOf.
	flat := func(k float64) []float32 {
		fc := DefaultConfig(5)
		fc.Prior = k
		ag, err := NewFlatAgent(fc, ShapeOf(*o.Cfg), rand.New(rand.NewPCG(4, 4)))
		if err != nil {
			t.Fatal(err)
		}
		l, _ := ag.Actors[0].(*FlatActor).logits(nn.NewInference(), []cluster.Obs{o})
		return l.Data
	}
	l0, l3, p := flat(0), flat(3), priorOf(o)
	for i := range p {
		if math.Abs(float64(l3[i]-l0[i]-3*p[i])) > 1e-5 {
			t.Fatalf("flat logit %d: %v with prior 3, %v without, prior term %v", i, l3[i], l0[i], p[i])
		}
	}
}

// TestFeaturesByHand: one observation's inputs, by hand. Cluster x (one
// 2-core node), y (two 4-core nodes); type f runs 30 s on y with 1 core,
// 10 s on x with 2, 20 s on y with 4. Two tasks at 0, a third at 5; the
// first runs on x: the second is decided at 0 (x full), one running, one
// to arrive, u = 2/10.
func TestFeaturesByHand(t *testing.T) {
	c := twoWays(3)
	e, _ := cluster.NewEnv(c)
	e.ResetQueue([]int{0, 0, 0}, []float64{0, 0, 5})
	s, _ := e.Step(rl.Action{Index: 0})
	o := s.Obs
	cfg := Config{Types: 1, Dim: 4}
	nodes, queue, glob, _, _, enc := computeFeatures(cfg, []cluster.Obs{o})
	lg := func(x, k float64) float32 { return float32(math.Log1p(x) / k) }
	near := func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 }
	check := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if !near(got[i], want[i]) {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
		}
	}
	// Node 0 (x, full): free 0 of 2 cores; ln(1+2)/20; 1 option of 2 slots; nothing fits.
	n0 := make([]float32, NodeDim)
	n0[cluster.NumResources] = lg(2, 20)
	n0[2*cluster.NumResources] = 0.5
	check("node 0", nodes[:NodeDim], n0)
	// Node 1 (y, free): all 4 cores; 2 options; one fits.
	n1 := make([]float32, NodeDim)
	n1[0], n1[cluster.NumResources] = 1, lg(4, 20)
	n1[2*cluster.NumResources], n1[2*cluster.NumResources+1] = 1, 1
	check("node 1", nodes[NodeDim:2*NodeDim], n1)
	// Placements: x's 10 s (2/2 cores, blocked), y1's 30 s (1/4) and 20 s (4/4), …
	opt := func(cpu, rt, fastest float64, fits float32) []float32 {
		f := make([]float32, OptionDim)
		f[0], f[cluster.NumResources], f[cluster.NumResources+1] = float32(cpu), lg(rt, 7), lg(rt-fastest, 7)
		f[cluster.NumResources+2], f[cluster.NumResources+3] = 1, fits
		return f
	}
	check("x 10 s", enc.opt[:OptionDim], opt(1, 10, 10, 0))
	check("y1 30 s", enc.opt[OptionDim:2*OptionDim], opt(0.25, 30, 10, 1))
	check("y1 20 s", enc.opt[2*OptionDim:3*OptionDim], opt(1, 20, 10, 1))
	if len(enc.optAct) != 5 || enc.optAct[3] != 4 || enc.optNode[3] != 2 {
		t.Fatalf("placements at actions %v, nodes %v", enc.optAct, enc.optNode)
	}
	// Queue: the decided task (type 0, waited 0, decided); no other listed.
	check("queue", queue, []float32{1, 0, 1})
	// Global: type 0, wait 0, ln(1+1)/8 waiting, ln(1+1)/8 running, 1/(1+1+1+1) to arrive, u 0.2, wait allowed.
	check("global", glob, []float32{1, 0, lg(1, 8), lg(1, 8), 0.25, 0.2, 1})
}
