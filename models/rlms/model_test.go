package rlms

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/nntest"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
	}{
		{"encoder", func(c *Config) { c.Encoder = "gcn" }},
		{"empty encoder", func(c *Config) { c.Encoder = "" }},
		{"dim", func(c *Config) { c.Dim = 0 }},
		{"hidden", func(c *Config) { c.Hidden = -1 }},
		{"rounds", func(c *Config) { c.Rounds = -1 }},
		{"mlp rounds", func(c *Config) { c.Encoder, c.Rounds = EncoderMLP, 2 }},
		{"k", func(c *Config) { c.K = 0 }},
		{"p", func(c *Config) { c.P = 0 }},
	} {
		cfg := ok
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "rlms:") {
			t.Errorf("%s: Validate() = %v, want an rlms error", c.name, err)
		}
	}
}

func TestShapes(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		cfg := Config{Encoder: enc, Dim: 8, Hidden: 6, K: 5, P: 3}
		m := New(cfg, rand.New(rand.NewPCG(1, 2)))
		rng := rand.New(rand.NewPCG(3, 4))
		obs := randBatch(rng, 4, 5, 3, 0.3)
		for _, tp := range []*nn.Tape{nn.NewInference(), nn.NewTape()} {
			hc, hp := m.Node.Encoder.Encode(tp, obs)
			want := map[string][2]int{
				"hc":     {20, 8},
				"hp":     {60, 8},
				"logits": {4, 5},
				"alpha":  {4, 3},
				"value":  {4, 1},
			}
			got := map[string]*nn.Tensor{
				"hc": hc, "hp": hp,
				"logits": m.Node.Logits(tp, obs),
				"alpha":  m.Path.Alpha(tp, obs, []int{0, 1, 2, 3}),
				"value":  m.Critic.Value(tp, obs),
			}
			node := m.Node.Act(tp, obs, rng)
			lp, ent := m.Node.Evaluate(tp, obs, node)
			got["node logp"], got["node entropy"] = lp, ent
			split := m.Path.ActGiven(tp, obs, [][]rl.Action{node}, rng)
			lp, ent = m.Path.EvaluateGiven(tp, obs, [][]rl.Action{node}, split)
			got["path logp"], got["path entropy"] = lp, ent
			for _, k := range []string{"node logp", "node entropy", "path logp", "path entropy"} {
				want[k] = [2]int{4, 1}
			}
			for k, w := range want {
				if g := got[k]; g.Rows != w[0] || g.Cols != w[1] {
					t.Errorf("%s, recording %v: %s is %s, want %d×%d", enc, tp.Recording(), k, g.Shape(), w[0], w[1])
				}
			}
			for i, a := range split {
				if len(a.Values) != 3 {
					t.Errorf("%s: split %d has %d values", enc, i, len(a.Values))
				}
			}
		}
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		m := New(tinyConfig(enc), rand.New(rand.NewPCG(1, 2)))
		nntest.CheckParamFields(t, m)
		nntest.CheckParamFields(t, m.Node)
		nntest.CheckParamFields(t, m.Path)
		nntest.CheckParamFields(t, m.Critic)
		if err := nn.CheckPaths(m); err != nil {
			t.Fatal(err)
		}
		all := nn.Collect(m) // panics on a parameter visited twice
		prefixes := map[string]int{}
		for _, p := range all {
			parts := strings.SplitN(p.Path, "/", 3)
			prefixes[parts[0]+"/"+parts[1]]++
		}
		for _, pre := range []string{"actor/encoder", "actor/node", "actor/path", "critic/encoder", "critic/head"} {
			if prefixes[pre] == 0 {
				t.Errorf("%s: no parameter under %s (have %v)", enc, pre, prefixes)
			}
		}
		if len(prefixes) != 5 {
			t.Errorf("%s: unexpected prefixes %v", enc, prefixes)
		}
		// The agent sees the same parameters, the shared encoder once.
		agent := nn.Collect(agentOf(m))
		if len(agent) != len(all) || nn.NumParams(agentOf(m)) != nn.NumParams(m) {
			t.Errorf("%s: agent has %d tensors, model %d", enc, len(agent), len(all))
		}
		if n := len(nn.Collect(m.Path)); n != len(m.Path.Head.Layers)*2 {
			t.Errorf("%s: path actor visits %d tensors, want only its head's", enc, n)
		}
	}
}

// TestMasksRespected: masked candidates are never sampled, and Mode and
// Decision pick the best allowed candidate even when the overall best is
// masked.
func TestMasksRespected(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		m := New(Config{Encoder: enc, Dim: 8, Hidden: 8, K: 5, P: 3}, rand.New(rand.NewPCG(5, 6)))
		// Large output weights so the logits differ clearly.
		nn.Normal(1)(m.Node.Head.Layers[2].W, rand.New(rand.NewPCG(1, 1)))
		rng := rand.New(rand.NewPCG(7, 8))
		o := randObs(rng, 5, 3, 0)
		inf := nn.NewInference()
		logits := append([]float32(nil), m.Node.Logits(inf, []cpn.Obs{o}).Data...)
		best := 0
		for i, l := range logits {
			if l > logits[best] {
				best = i
			}
		}
		o.NodeMask = []bool{true, true, true, true, true}
		o.NodeMask[best] = false
		o.NodeMask[(best+2)%5] = false
		second := -1
		for i, l := range logits {
			if o.NodeMask[i] && (second < 0 || l > logits[second]) {
				second = i
			}
		}
		obs := make([]cpn.Obs, 2000)
		for i := range obs {
			obs[i] = o
		}
		counts := make([]int, 5)
		for _, a := range m.Node.Act(inf, obs, rng) {
			counts[a.Index]++
		}
		for i, c := range counts {
			if !o.NodeMask[i] && c > 0 {
				t.Errorf("%s: masked candidate %d sampled %d times", enc, i, c)
			}
			if o.NodeMask[i] && c == 0 {
				t.Errorf("%s: allowed candidate %d never sampled in 2000 draws (counts %v)", enc, i, counts)
			}
		}
		if got := m.Node.Mode(inf, obs[:1])[0].Index; got != second {
			t.Errorf("%s: Mode = %d, want %d (best allowed; overall best %d masked)", enc, got, second, best)
		}
		if got, _ := m.Decision(o); got != second {
			t.Errorf("%s: Decision = %d, want %d", enc, got, second)
		}
		if got := m.Path.Mode(inf, obs[:1]); len(got[0].Values) != 3 {
			t.Errorf("%s: path Mode without a node gave %v", enc, got[0].Values)
		}
	}
}

func checkSimplex(t *testing.T, what string, v []float32, p int) {
	t.Helper()
	if len(v) != p {
		t.Fatalf("%s: %d ratios, want %d", what, len(v), p)
	}
	var s float64
	for _, x := range v {
		if !(x > 0) || x > 1 {
			t.Errorf("%s: ratio %v not in (0, 1]: %v", what, x, v)
		}
		s += float64(x)
	}
	if math.Abs(s-1) > 1e-5 {
		t.Errorf("%s: ratios sum to %v: %v", what, s, v)
	}
}

func TestRatios(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		m := New(Config{Encoder: enc, Dim: 8, Hidden: 8, K: 4, P: 3}, rand.New(rand.NewPCG(9, 1)))
		rng := rand.New(rand.NewPCG(2, 3))
		obs := randBatch(rng, 300, 4, 3, 0.3)
		inf := nn.NewInference()
		nodes := append([]rl.Action(nil), m.Node.Act(inf, obs, rng)...)
		prev := [][]rl.Action{nodes}
		for i, a := range m.Path.ActGiven(inf, obs, prev, rng) {
			checkSimplex(t, enc+" sample", a.Values, 3)
			if err := rl.CheckAction(rl.Space{Kind: rl.Simplex, N: 3}, a, nil); err != nil {
				t.Errorf("%s: sample %d: %v", enc, i, err)
			}
		}
		for _, a := range m.Path.ModeGiven(inf, obs, prev) {
			checkSimplex(t, enc+" mode", a.Values, 3)
		}
		for _, o := range obs[:20] {
			_, r := m.Decision(o)
			checkSimplex(t, enc+" decision", r, 3)
		}
	}
}

// TestActionValuesKept: split values stay valid after later calls (Train
// stores them across collection steps).
func TestActionValuesKept(t *testing.T) {
	t.Parallel()
	m := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 1)))
	rng := rand.New(rand.NewPCG(2, 2))
	obs := randBatch(rng, 3, 3, 2, 0)
	inf := nn.NewInference()
	prev := [][]rl.Action{{{Index: 0}, {Index: 1}, {Index: 2}}}
	first := m.Path.ActGiven(inf, obs, prev, rng)
	kept := []float32{first[0].Values[0], first[1].Values[0], first[2].Values[0]}
	vals := [][]float32{first[0].Values, first[1].Values, first[2].Values}
	inf.Reset()
	m.Path.ActGiven(inf, obs, prev, rng)
	for i := range kept {
		if vals[i][0] != kept[i] {
			t.Errorf("action %d values changed by the next call", i)
		}
	}
}

// TestGradients checks the gradients of the node and path log-probabilities
// and entropies and of the value against finite differences, for every
// parameter.
// gradCheckBatch gives m's heads larger output weights than CleanRL's 0.01
// (so their gradients are not negligible against the tolerance) and
// returns 3 observations of 3 candidates × 2 paths with a chosen
// candidate and a 2-way split each.
func gradCheckBatch(m *Model) (obs []cpn.Obs, nodes, splits []rl.Action) {
	rng := rand.New(rand.NewPCG(13, 14))
	nn.Normal(0.5)(m.Node.Head.Layers[2].W, rng)
	nn.Normal(0.5)(m.Path.Head.Layers[2].W, rng)
	obs = randBatch(rng, 3, 3, 2, 0.3)
	nodes = make([]rl.Action, len(obs))
	splits = make([]rl.Action, len(obs))
	for i, o := range obs {
		for j, ok := range o.NodeMask {
			if ok {
				nodes[i].Index = j
			}
		}
		x := float32(0.2 + 0.6*rng.Float64())
		splits[i].Values = []float32{x, 1 - x}
	}
	return obs, nodes, splits
}

func TestGradients(t *testing.T) {
	t.Parallel()
	for _, v := range []struct{ enc, split string }{{EncoderSyncGNN, ""}, {EncoderMLP, ""}, {EncoderSyncGNN, SplitLogisticNormal}} {
		enc := v.enc
		cfg := tinyConfig(enc)
		cfg.Split = v.split
		m := New(cfg, rand.New(rand.NewPCG(11, 12)))
		obs, nodes, splits := gradCheckBatch(m)
		prev := [][]rl.Action{nodes}
		nntest.GradCheck(t, func(tp *nn.Tape, _ []*nn.Tensor) *nn.Tensor {
			nlp, nent := m.Node.Evaluate(tp, obs, nodes)
			plp, pent := m.Path.EvaluateGiven(tp, obs, prev, splits)
			return tp.ConcatRows(nlp, nent, plp, pent, m.Critic.Value(tp, obs))
		}, nil, m, nntest.Options{})
	}
}

// TestSharedEncoderGradients: the path actor's loss alone reaches the
// shared actor encoder, not the critic's.
func TestSharedEncoderGradients(t *testing.T) {
	t.Parallel()
	m := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 2)))
	obs := randBatch(rand.New(rand.NewPCG(3, 3)), 4, 3, 2, 0)
	nn.ZeroGrads(m)
	tp := nn.NewTape()
	prev := [][]rl.Action{{{Index: 0}, {Index: 1}, {Index: 2}, {Index: 0}}}
	lp, _ := m.Path.EvaluateGiven(tp, obs, prev, []rl.Action{
		{Values: []float32{0.3, 0.7}}, {Values: []float32{0.5, 0.5}}, {Values: []float32{0.9, 0.1}}, {Values: []float32{0.2, 0.8}}})
	tp.Backward(tp.Sum(lp))
	norm := func(mod nn.Module) float64 {
		var s float64
		mod.Params(func(_ string, p *nn.Param) {
			for _, g := range p.V.Grad {
				s += float64(g) * float64(g)
			}
		})
		return s
	}
	if norm(m.Node.Encoder) == 0 {
		t.Error("the path actor's loss does not reach the shared encoder")
	}
	if norm(m.Critic) != 0 || norm(m.Node.Head) != 0 {
		t.Error("the path actor's loss reaches the critic or the node head")
	}
}

// TestPermutationEquivariance: with SyncGNN, reordering the candidates
// reorders the logits and keeps the value and each candidate's split.
func TestPermutationEquivariance(t *testing.T) {
	t.Parallel()
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 8, Hidden: 8, K: 5, P: 3}, rand.New(rand.NewPCG(4, 5)))
	nn.Normal(1)(m.Node.Head.Layers[2].W, rand.New(rand.NewPCG(1, 1)))
	nn.Normal(1)(m.Path.Head.Layers[2].W, rand.New(rand.NewPCG(1, 2)))
	rng := rand.New(rand.NewPCG(6, 7))
	inf := nn.NewInference()
	for trial := 0; trial < 10; trial++ {
		o := randObs(rng, 5, 3, 0.3)
		perm := rng.Perm(5)
		po := permute(o, perm)
		l := append([]float32(nil), m.Node.Logits(inf, []cpn.Obs{o}).Data...)
		pl := m.Node.Logits(inf, []cpn.Obs{po}).Data
		for i, s := range perm {
			if d := math.Abs(float64(pl[i] - l[s])); d > 1e-5 {
				t.Errorf("trial %d: logit of permuted candidate %d is %v, original %d is %v", trial, i, pl[i], s, l[s])
			}
		}
		v := m.Critic.Value(inf, []cpn.Obs{o}).Item()
		pv := m.Critic.Value(inf, []cpn.Obs{po}).Item()
		if math.Abs(float64(v-pv)) > 1e-5 {
			t.Errorf("trial %d: value %v, permuted %v", trial, v, pv)
		}
		for i, s := range perm {
			a := append([]float32(nil), m.Path.Alpha(inf, []cpn.Obs{o}, []int{s}).Data...)
			pa := m.Path.Alpha(inf, []cpn.Obs{po}, []int{i}).Data
			for j := range a {
				if math.Abs(float64(a[j]-pa[j])) > 1e-5 {
					t.Errorf("trial %d: α of candidate %d: %v, permuted %v", trial, s, a, pa)
					break
				}
			}
		}
	}
}

// TestMLPEncoderHasNoMessagePassing: with the mlp encoder, path features
// do not reach the node logits; with SyncGNN they do.
func TestMLPEncoderHasNoMessagePassing(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		m := New(Config{Encoder: enc, Dim: 8, Hidden: 8, K: 4, P: 3}, rand.New(rand.NewPCG(8, 9)))
		nn.Normal(1)(m.Node.Head.Layers[2].W, rand.New(rand.NewPCG(1, 1)))
		rng := rand.New(rand.NewPCG(10, 11))
		o := randObs(rng, 4, 3, 0)
		for q := range o.PathMask {
			o.PathMask[q] = true
		}
		inf := nn.NewInference()
		l := append([]float32(nil), m.Node.Logits(inf, []cpn.Obs{o}).Data...)
		o2 := o
		for q := range o2.Paths {
			perturb(&o2, q, rng)
		}
		l2 := m.Node.Logits(inf, []cpn.Obs{o2}).Data
		var diff float64
		for i := range l {
			diff = math.Max(diff, math.Abs(float64(l[i]-l2[i])))
		}
		switch {
		case enc == EncoderMLP && diff != 0:
			t.Errorf("mlp: changing path features changed the node logits by %v", diff)
		case enc == EncoderSyncGNN && diff < 1e-4:
			t.Errorf("syncgnn: path features do not reach the node logits (max change %v)", diff)
		}
	}
}

// TestRepeatedPathsSendNoMessage: with SyncGNN, a masked (repeated) path
// row does not change its candidate's logit.
func TestRepeatedPathsSendNoMessage(t *testing.T) {
	t.Parallel()
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 8, Hidden: 8, K: 3, P: 3}, rand.New(rand.NewPCG(1, 3)))
	nn.Normal(1)(m.Node.Head.Layers[2].W, rand.New(rand.NewPCG(1, 1)))
	o := randObs(rand.New(rand.NewPCG(2, 4)), 3, 3, 0)
	o.PathMask = []bool{true, true, false, true, true, true, true, false, false}
	inf := nn.NewInference()
	l := append([]float32(nil), m.Node.Logits(inf, []cpn.Obs{o}).Data...)
	perturb(&o, 2, rand.New(rand.NewPCG(5, 5)))
	if l2 := m.Node.Logits(inf, []cpn.Obs{o}).Data; l2[0] != l[0] {
		t.Errorf("a masked path row changed its candidate's logit: %v → %v", l[0], l2[0])
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		run := func() ([]float32, []rl.Action, []float32) {
			m := New(Config{Encoder: enc, Dim: 8, Hidden: 8, K: 4, P: 3}, rand.New(rand.NewPCG(21, 22)))
			var ps []float32
			for _, p := range nn.Collect(m) {
				ps = append(ps, p.Param.V.Data...)
			}
			rng := rand.New(rand.NewPCG(23, 24))
			obs := randBatch(rand.New(rand.NewPCG(25, 26)), 16, 4, 3, 0.3)
			inf := nn.NewInference()
			nodes := append([]rl.Action(nil), m.Node.Act(inf, obs, rng)...)
			var vals []float32
			for _, a := range m.Path.ActGiven(inf, obs, [][]rl.Action{nodes}, rng) {
				vals = append(vals, a.Values...)
			}
			return ps, nodes, vals
		}
		p1, n1, v1 := run()
		p2, n2, v2 := run()
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%s: parameter %d differs: %v vs %v", enc, i, p1[i], p2[i])
			}
		}
		for i := range n1 {
			if n1[i].Index != n2[i].Index {
				t.Fatalf("%s: node action %d differs", enc, i)
			}
		}
		for i := range v1 {
			if v1[i] != v2[i] {
				t.Fatalf("%s: split value %d differs", enc, i)
			}
		}
	}
}

// TestDecision: Decision equals the actors' modes and allocates nothing in
// steady state.
func TestDecision(t *testing.T) {
	// Not parallel: AllocsPerRun.
	for _, v := range []struct{ enc, split string }{{EncoderSyncGNN, ""}, {EncoderMLP, ""}, {EncoderSyncGNN, SplitLogisticNormal}} {
		enc := v.enc
		m := New(Config{Encoder: enc, Dim: 16, Hidden: 16, K: 5, P: 3, Split: v.split}, rand.New(rand.NewPCG(31, 32)))
		nn.Normal(1)(m.Node.Head.Layers[2].W, rand.New(rand.NewPCG(1, 1)))
		nn.Normal(1)(m.Path.Head.Layers[2].W, rand.New(rand.NewPCG(1, 2)))
		obs := randBatch(rand.New(rand.NewPCG(33, 34)), 20, 5, 3, 0.3)
		inf := nn.NewInference()
		nodes := m.Node.Mode(inf, obs)
		splits := m.Path.ModeGiven(inf, obs, [][]rl.Action{nodes})
		for i, o := range obs {
			n, r := m.Decision(o)
			if n != nodes[i].Index {
				t.Errorf("%s: obs %d: Decision node %d, Mode %d", enc, i, n, nodes[i].Index)
			}
			for j := range r {
				if math.Abs(float64(r[j]-splits[i].Values[j])) > 1e-6 {
					t.Errorf("%s: obs %d: Decision split %v, ModeGiven %v", enc, i, r, splits[i].Values)
					break
				}
			}
		}
		if a := testing.AllocsPerRun(50, func() { m.Decision(obs[3]) }); a != 0 {
			t.Errorf("%s: Decision allocates %v times per call", enc, a)
		}
	}
}

func TestSinglePath(t *testing.T) {
	t.Parallel()
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 4, Hidden: 4, K: 3, P: 1}, rand.New(rand.NewPCG(1, 1)))
	rng := rand.New(rand.NewPCG(2, 2))
	obs := randBatch(rng, 5, 3, 1, 0.3)
	tp := nn.NewTape()
	nodes := m.Node.Act(tp, obs, rng)
	splits := m.Path.ActGiven(tp, obs, [][]rl.Action{nodes}, rng)
	for _, a := range splits {
		if len(a.Values) != 1 || a.Values[0] != 1 {
			t.Fatalf("single-path split %v, want [1]", a.Values)
		}
	}
	lp, ent := m.Path.EvaluateGiven(tp, obs, [][]rl.Action{nodes}, splits)
	if lp.Rows != 5 || ent.Rows != 5 || lp.Data[0] != 0 || ent.Data[0] != 0 {
		t.Errorf("single-path log-prob %v, entropy %v", lp, ent)
	}
	if _, r := m.Decision(obs[0]); len(r) != 1 || r[0] != 1 {
		t.Errorf("single-path Decision split %v", r)
	}
}

func TestMisusePanics(t *testing.T) {
	t.Parallel()
	m := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 1)))
	rng := rand.New(rand.NewPCG(2, 2))
	good := randObs(rng, 3, 2, 0)
	wrongK := randObs(rng, 4, 2, 0)
	short := good
	short.Paths = short.Paths[:5]
	inf := nn.NewInference()
	for name, f := range map[string]func(){
		"wrong K":     func() { m.Node.Mode(inf, []cpn.Obs{wrongK}) },
		"short paths": func() { m.Critic.Value(inf, []cpn.Obs{short}) },
		"node out of range": func() {
			m.Path.ModeGiven(inf, []cpn.Obs{good}, [][]rl.Action{{{Index: 3}}})
		},
		"split length": func() {
			m.Path.EvaluateGiven(nn.NewTape(), []cpn.Obs{good}, [][]rl.Action{{{Index: 0}}}, []rl.Action{{Values: []float32{1}}})
		},
		"no candidate": func() {
			o := good
			o.NodeMask = []bool{false, false, false}
			m.Decision(o)
		},
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "rlms:") {
					t.Errorf("%s: panic %v, want an rlms message", name, r)
				}
			}()
			f()
		}()
	}
}

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, enc := range encoders {
		cfg := Config{Encoder: enc, Dim: 8, Hidden: 6, K: 4, P: 3}
		m := New(cfg, rand.New(rand.NewPCG(41, 42)))
		path := filepath.Join(dir, enc+".safetensors")
		if err := m.Save(path, 123); err != nil {
			t.Fatal(err)
		}
		got, meta, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Config != cfg || meta.Step != 123 || meta.ModelKind != Kind {
			t.Errorf("%s: loaded config %+v, meta %+v", enc, got.Config, meta)
		}
		want := nn.Collect(m)
		for i, p := range nn.Collect(got) {
			if p.Path != want[i].Path {
				t.Fatalf("%s: parameter %d is %s, want %s", enc, i, p.Path, want[i].Path)
			}
			for j, v := range p.Param.V.Data {
				if v != want[i].Param.V.Data[j] {
					t.Fatalf("%s: %s[%d] = %v, saved %v", enc, p.Path, j, v, want[i].Param.V.Data[j])
				}
			}
		}
		o := randObs(rand.New(rand.NewPCG(1, 1)), 4, 3, 0.3)
		n1, r1 := m.Decision(o)
		n2, r2 := got.Decision(o)
		if n1 != n2 || r1[0] != r2[0] {
			t.Errorf("%s: decisions differ after load: %d %v vs %d %v", enc, n1, r1, n2, r2)
		}
	}
	// A checkpoint of another kind is refused.
	other := filepath.Join(dir, "other.safetensors")
	m := New(tinyConfig(EncoderMLP), rand.New(rand.NewPCG(1, 1)))
	if err := checkpoints.Save(other, m, nil, checkpoints.Meta{ModelKind: "tsft", ModelConfig: m.ConfigJSON()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(other); err == nil || !strings.Contains(err.Error(), "tsft") {
		t.Errorf("loading a tsft checkpoint: %v", err)
	}
	if _, _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("loading a missing file succeeded")
	}
	if _, err := ParseConfig([]byte(`{"encoder":"mlp","dim":4,"hidden":4,"k":3,"p":2,"heads":3}`)); err == nil {
		t.Error("ParseConfig accepted an unknown field")
	}
	var cerr *checkpoints.Error
	if _, _, err := Load(filepath.Join(dir, "missing")); !errors.As(err, &cerr) {
		t.Errorf("missing file: error %T, want *checkpoints.Error", err)
	}
}

// TestInferenceAllocations: on an inference tape the node actor and the
// critic allocate nothing in steady state; the path actor only its fresh
// split values.
func TestInferenceAllocations(t *testing.T) {
	// Not parallel: AllocsPerRun.
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 16, Hidden: 16, K: 5, P: 3}, rand.New(rand.NewPCG(1, 2)))
	rng := rand.New(rand.NewPCG(3, 4))
	obs := randBatch(rng, 8, 5, 3, 0.2)
	inf := nn.NewInference()
	prev := [][]rl.Action{append([]rl.Action(nil), m.Node.Act(inf, obs, rng)...)}
	full := New(Config{Encoder: EncoderSyncGNN, Dim: 16, Hidden: 16, K: 5, P: 3, Split: SplitLogisticNormal, Prior: true, Subsets: true}, rand.New(rand.NewPCG(1, 2)))
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"NodeActor.Act", 0, func() { m.Node.Act(inf, obs, rng) }},
		{"NodeActor.Mode", 0, func() { m.Node.Mode(inf, obs) }},
		{"Critic.Value", 0, func() { m.Critic.Value(inf, obs) }},
		{"PathActor.ModeGiven", 2, func() { m.Path.ModeGiven(inf, obs, prev) }}, // the fresh split tensor: header and data
		{"Model.Decision with subsets and the prior", 0, func() { full.Decision(obs[0]) }},
		{"SubsetActor.ModeGiven", 0, func() { full.Subset.ModeGiven(inf, obs, prev) }},
	} {
		run := func() { inf.Reset(); c.f() }
		run()
		if a := testing.AllocsPerRun(20, run); a > c.max {
			t.Errorf("%s allocates %v times per call, want at most %v", c.name, a, c.max)
		}
	}
}

// TestPriorAndStagedGradients: the prior's scales and the staged value
// head get the gradients finite differences give, and ValueAfter has one
// value per observation.
func TestPriorAndStagedGradients(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(EncoderSyncGNN)
	cfg.Split, cfg.Prior, cfg.Staged = SplitLogisticNormal, true, true
	m := New(cfg, rand.New(rand.NewPCG(11, 12)))
	obs, nodes, splits := gradCheckBatch(m)
	prev := [][]rl.Action{nodes}
	if v := (StagedCritic{m.Critic}).ValueAfter(nn.NewInference(), obs, prev); v.Rows != len(obs) || v.Cols != 1 {
		t.Fatalf("ValueAfter is %s for %d observations", v.Shape(), len(obs))
	}
	names := map[string]bool{}
	for _, p := range nn.Collect(m) {
		names[p.Path] = true
	}
	for _, n := range []string{"actor/node/prior", "actor/path/prior", "actor/path/log_std", "critic/after/0/w"} {
		if !names[n] {
			t.Errorf("the model does not visit %s", n)
		}
	}
	nntest.GradCheck(t, func(tp *nn.Tape, _ []*nn.Tensor) *nn.Tensor {
		nlp, _ := m.Node.Evaluate(tp, obs, nodes)
		plp, _ := m.Path.EvaluateGiven(tp, obs, prev, splits)
		return tp.ConcatRows(nlp, plp, StagedCritic{m.Critic}.ValueAfter(tp, obs, prev))
	}, nil, m, nntest.Options{})
}

// TestPathEdges: with Config.PathEdges a path's embedding (after the one
// round) depends on the features of the paths it overlaps, and on no
// other path's; without, on none.
func TestPathEdges(t *testing.T) {
	t.Parallel()
	for _, pe := range []bool{false, true} {
		m := New(Config{Encoder: EncoderSyncGNN, Dim: 8, Hidden: 8, K: 2, P: 3, PathEdges: pe}, rand.New(rand.NewPCG(1, 3)))
		o := randObs(rand.New(rand.NewPCG(2, 4)), 2, 3, 0)
		for q := range o.PathMask {
			o.PathMask[q] = true
		}
		// Candidate 0: paths 0 and 1 share a link; path 2 shares none.
		o.Overlap = make([]bool, 2*3*3)
		o.Overlap[0*3+1], o.Overlap[1*3+0] = true, true
		inf := nn.NewInference()
		_, hp := m.Node.Encoder.Encode(inf, []cpn.Obs{o})
		before := append([]float32(nil), hp.Data...)
		perturb(&o, 1, rand.New(rand.NewPCG(5, 5))) // path 1 of candidate 0
		_, hp = m.Node.Encoder.Encode(inf, []cpn.Obs{o})
		changed := func(row int) bool {
			for c := 0; c < 8; c++ {
				if hp.Data[row*8+c] != before[row*8+c] {
					return true
				}
			}
			return false
		}
		if got := changed(0); got != pe {
			t.Errorf("path edges %v: path 0's embedding changed with its overlapping path 1's features: %v", pe, got)
		}
		if changed(2) {
			t.Errorf("path edges %v: path 2 (no shared link) changed with path 1's features", pe)
		}
	}
	if err := (Config{Encoder: EncoderMLP, Dim: 8, Hidden: 8, K: 2, P: 3, PathEdges: true}).Validate(); err == nil {
		t.Error("the mlp encoder accepted path edges")
	}
}

// TestSubsets: the subset actor never picks a subset with a repeated path
// row, the split is over the chosen subset only, the shapes hold and the
// gradients are right.
func TestSubsets(t *testing.T) {
	t.Parallel()
	if got := SubsetRows(4); len(got) != 2 || got[0] != 0 || got[1] != 2 { // bits of 5
		t.Fatalf("SubsetRows(4) = %v, want [0 2]", got)
	}
	if NumSubsets(3) != 7 {
		t.Fatalf("NumSubsets(3) = %d", NumSubsets(3))
	}
	cfg := tinyConfig(EncoderSyncGNN)
	cfg.Split, cfg.Prior, cfg.Subsets = SplitLogisticNormal, true, true
	cfg.K, cfg.P = 3, 3
	m := New(cfg, rand.New(rand.NewPCG(5, 6)))
	rng := rand.New(rand.NewPCG(7, 8))
	obs := randBatch(rng, 6, 3, 3, 0.3)
	inf := nn.NewInference()
	for trial := 0; trial < 20; trial++ {
		nodes := m.Node.Act(inf, obs, rng)
		nodesCopy := append([]rl.Action(nil), nodes...)
		subs := append([]rl.Action(nil), m.Subset.ActGiven(inf, obs, [][]rl.Action{nodesCopy}, rng)...)
		splits := m.Path.ActGiven(inf, obs, [][]rl.Action{nodesCopy, subs}, rng)
		for r, o := range obs {
			in := map[int]bool{}
			for _, j := range SubsetRows(subs[r].Index) {
				in[j] = true
				if !o.PathMask[nodesCopy[r].Index*3+j] {
					t.Fatalf("observation %d: subset %d holds the repeated row %d", r, subs[r].Index, j)
				}
			}
			for j, x := range splits[r].Values {
				if !in[j] && x > 1e-9 {
					t.Fatalf("observation %d: path %d outside subset %v gets %v", r, j, SubsetRows(subs[r].Index), x)
				}
			}
		}
	}
	node, ratios := m.Decision(obs[0])
	if len(ratios) != 3 || node < 0 || node >= 3 {
		t.Fatalf("Decision %d %v", node, ratios)
	}
	nn.Normal(0.5)(m.Subset.Head.Layers[2].W, rng)
	nodes := make([]rl.Action, len(obs))
	subs := make([]rl.Action, len(obs))
	for i, o := range obs {
		for j, ok := range o.NodeMask {
			if ok {
				nodes[i].Index = j
			}
		}
		subs[i].Index = 0 // path 0 alone, always allowed
	}
	nntest.GradCheck(t, func(tp *nn.Tape, _ []*nn.Tensor) *nn.Tensor {
		lp, ent := m.Subset.EvaluateGiven(tp, obs, [][]rl.Action{nodes}, subs)
		return tp.ConcatRows(lp, ent)
	}, nil, m, nntest.Options{})
}

// TestLoadOtherShapes: a checkpoint whose tensors do not fit the model its
// config describes (as one trained on other observation features) is
// refused with an error that says so.
func TestLoadOtherShapes(t *testing.T) {
	t.Parallel()
	small := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 2)))
	cfg := tinyConfig(EncoderSyncGNN)
	cfg.Dim *= 2
	b, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := checkpoints.Save(path, small, nil, checkpoints.Meta{ModelKind: Kind, ModelConfig: b}); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(path)
	if err == nil || !errors.Is(err, checkpoints.ErrShape) || !strings.Contains(err.Error(), "observation features") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load = %v, want a shape error naming the file and the likely cause", err)
	}
}
