package mpnn_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/mpnn"
	"github.com/cpntrain/cpntrain/nn/nntest"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// A 5-node graph: node 4 has no incoming edge, node 0 has three.
var (
	src = []int{1, 2, 3, 0, 2, 4}
	dst = []int{0, 0, 0, 1, 3, 2}
)

const numNodes = 5

func configs() map[string]mpnn.Config {
	base := mpnn.Config{In: 3, Msg: 4, Out: 2, MsgHidden: []int{5}, UpdHidden: []int{4}, Act: nn.Tanh}
	with := func(f func(c *mpnn.Config)) mpnn.Config {
		c := base
		f(&c)
		return c
	}
	return map[string]mpnn.Config{
		"sum":       base,
		"mean":      with(func(c *mpnn.Config) { c.Aggr = mpnn.Mean }),
		"max":       with(func(c *mpnn.Config) { c.Aggr = mpnn.Max }),
		"deepsets":  with(func(c *mpnn.Config) { c.Aggr = mpnn.DeepSets; c.AggHidden = []int{3} }),
		"edges":     with(func(c *mpnn.Config) { c.EdgeIn = 2 }),
		"residual":  with(func(c *mpnn.Config) { c.Out = 3; c.Residual = true; c.OutAct = nn.Tanh }),
		"no hidden": with(func(c *mpnn.Config) { c.MsgHidden, c.UpdHidden = nil, nil }),
	}
}

func edgeFeat(rng *rand.Rand, cfg mpnn.Config) *nn.Tensor {
	if cfg.EdgeIn == 0 {
		return nil
	}
	return nntest.RandTensor(rng, len(src), cfg.EdgeIn, -1, 1)
}

func TestGradients(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := mpnn.New(cfg, rng)
			checkParams(t, m)
			h := nntest.RandTensor(rng, numNodes, cfg.In, -1, 1)
			inputs := []*nn.Tensor{h}
			if e := edgeFeat(rng, cfg); e != nil {
				inputs = append(inputs, e)
			}
			nntest.GradCheck(t, func(tp *nn.Tape, xs []*nn.Tensor) *nn.Tensor {
				var e *nn.Tensor
				if len(xs) > 1 {
					e = xs[1]
				}
				return m.Propagate(tp, xs[0], src, dst, e)
			}, inputs, m, nntest.Options{})
		})
	}
}

// checkParams runs the wiring checks on a model and on its parts
// (CheckParamFields does not look inside interface fields).
func checkParams(t *testing.T, m *mpnn.Model) {
	t.Helper()
	nntest.CheckParamFields(t, m)
	nntest.CheckParamFields(t, m.Message)
	nntest.CheckParamFields(t, m.Aggregator)
	nntest.CheckParamFields(t, m.Update)
	if err := nn.CheckPaths(m); err != nil {
		t.Fatal(err)
	}
	want := nn.NumParams(m.Message) + nn.NumParams(m.Aggregator) + nn.NumParams(m.Update)
	if got := nn.NumParams(m); got != want {
		t.Fatalf("model visits %d parameters, parts hold %d", got, want)
	}
}

// TestAgainstLoops recomputes Propagate edge by edge and node by node with
// the model's own MLPs.
func TestAgainstLoops(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m := mpnn.New(cfg, rng)
			h := nntest.RandTensor(rng, numNodes, cfg.In, -1, 1)
			e := edgeFeat(rng, cfg)
			tp := nn.NewInference()
			got := m.Propagate(tp, h, src, dst, e)
			msgNet := m.Message.(*mpnn.MLPMessage).Net
			updNet := m.Update.(*mpnn.MLPUpdate).Net
			for i := 0; i < numNodes; i++ {
				agg := make([]float32, cfg.Msg)
				n := 0
				for k := range src {
					if dst[k] != i {
						continue
					}
					in := append(append([]float32{}, h.Row(i)...), h.Row(src[k])...)
					if e != nil {
						in = append(in, e.Row(k)...)
					}
					msg := msgNet.Forward(tp, tp.Const(1, len(in), in)).Data
					if cfg.Aggr == mpnn.DeepSets {
						msg = m.Aggregator.(*mpnn.DeepSetsAgg).Set.Phi.Forward(tp, tp.Const(1, len(msg), msg)).Data
					}
					for j, v := range msg {
						switch {
						case cfg.Aggr == mpnn.Max && n == 0:
							agg[j] = v
						case cfg.Aggr == mpnn.Max:
							agg[j] = max(agg[j], v)
						default:
							agg[j] += v
						}
					}
					n++
				}
				if cfg.Aggr == mpnn.Mean && n > 0 {
					for j := range agg {
						agg[j] /= float32(n)
					}
				}
				in := append(append([]float32{}, h.Row(i)...), agg...)
				want := updNet.Forward(tp, tp.Const(1, len(in), in)).Data
				for j := range want {
					if cfg.Residual {
						want[j] += h.At(i, j)
					}
					if math.Abs(float64(got.At(i, j)-want[j])) > 1e-5 {
						t.Fatalf("node %d: got %v, want %v", i, got.Row(i), want)
					}
				}
			}
		})
	}
}

// TestEquivariance relabels the nodes and shuffles the edges: the output
// rows must be permuted the same way.
func TestEquivariance(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			m := mpnn.New(cfg, rng)
			h := nntest.RandTensor(rng, numNodes, cfg.In, -1, 1)
			e := edgeFeat(rng, cfg)
			perm := rng.Perm(numNodes) // node v becomes perm[v]
			ph := nn.New(numNodes, cfg.In)
			for v, p := range perm {
				copy(ph.Row(p), h.Row(v))
			}
			order := rng.Perm(len(src))
			psrc, pdst := make([]int, len(src)), make([]int, len(src))
			var pe *nn.Tensor
			if e != nil {
				pe = nn.New(e.Rows, e.Cols)
			}
			for k, o := range order {
				psrc[k], pdst[k] = perm[src[o]], perm[dst[o]]
				if e != nil {
					copy(pe.Row(k), e.Row(o))
				}
			}
			tp := nn.NewInference()
			a := m.Propagate(tp, h, src, dst, e)
			b := m.Propagate(tp, ph, psrc, pdst, pe)
			for v, p := range perm {
				for j := 0; j < a.Cols; j++ {
					if math.Abs(float64(a.At(v, j)-b.At(p, j))) > 1e-5 {
						t.Fatalf("node %d: %v, relabelled %v", v, a.Row(v), b.Row(p))
					}
				}
			}
		})
	}
}

// scaleMsg is a custom message without parameters: M(h_i, h_j) = 2·h_j.
type scaleMsg struct{}

func (scaleMsg) Message(t *nn.Tape, _, hSrc, _ *nn.Tensor) *nn.Tensor { return t.Scale(hSrc, 2) }
func (scaleMsg) Params(func(string, *nn.Param))                       {}

// keepUpd is a custom update U(h, m) = m.
type keepUpd struct{}

func (keepUpd) Update(_ *nn.Tape, _, m *nn.Tensor) *nn.Tensor { return m }
func (keepUpd) Params(func(string, *nn.Param))                {}

func TestCustomParts(t *testing.T) {
	m := &mpnn.Model{Message: scaleMsg{}, Aggregator: mpnn.SumAgg{}, Update: keepUpd{}}
	h := nn.FromSlice(numNodes, 1, []float32{1, 10, 100, 1000, 10000})
	got := m.Propagate(nn.NewInference(), h, src, dst, nil)
	want := []float32{2 * 1110, 2, 2 * 10000, 2 * 100, 0}
	for i, w := range want {
		if got.Data[i] != w {
			t.Fatalf("got %v, want %v", got.Data, want)
		}
	}
	if n := nn.NumParams(m); n != 0 {
		t.Fatalf("custom parts have %d parameters", n)
	}
}

func TestDeepSetsAggregatorPaths(t *testing.T) {
	m := mpnn.New(configs()["deepsets"], rand.New(rand.NewPCG(1, 1)))
	paths := nn.ParamPaths(m)
	want := []string{"aggregate/phi/0/b", "aggregate/phi/0/w", "aggregate/phi/1/b", "aggregate/phi/1/w",
		"message/0/b", "message/0/w", "message/1/b", "message/1/w",
		"update/0/b", "update/0/w", "update/1/b", "update/1/w"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	// Any deepsets.Model fits, e.g. attention pooling with a ρ.
	set := deepsets.New(deepsets.Config{Phi: mlp.Config{Sizes: []int{4, 4}, Act: nn.Tanh},
		Rho: mlp.Config{Sizes: []int{4, 4}}, Pool: deepsets.Attention}, rand.New(rand.NewPCG(1, 1)))
	m.Aggregator = &mpnn.DeepSetsAgg{Set: set}
	rng := rand.New(rand.NewPCG(2, 2))
	nntest.GradCheck(t, func(tp *nn.Tape, xs []*nn.Tensor) *nn.Tensor {
		return m.Propagate(tp, xs[0], src, dst, nil)
	}, []*nn.Tensor{nntest.RandTensor(rng, numNodes, 3, -1, 1)}, m, nntest.Options{})
}

func TestValidate(t *testing.T) {
	ok := mpnn.Config{In: 3, Msg: 4, Out: 2}
	with := func(f func(c *mpnn.Config)) mpnn.Config {
		c := ok
		f(&c)
		return c
	}
	bad := map[string]mpnn.Config{
		"zero in":          with(func(c *mpnn.Config) { c.In = 0 }),
		"zero msg":         with(func(c *mpnn.Config) { c.Msg = 0 }),
		"zero out":         with(func(c *mpnn.Config) { c.Out = 0 }),
		"negative edge":    with(func(c *mpnn.Config) { c.EdgeIn = -1 }),
		"residual width":   with(func(c *mpnn.Config) { c.Residual = true }),
		"agg hidden":       with(func(c *mpnn.Config) { c.AggHidden = []int{3} }),
		"hidden zero":      with(func(c *mpnn.Config) { c.MsgHidden = []int{0} }),
		"bad act":          with(func(c *mpnn.Config) { c.Act = "swish" }),
		"bad out act":      with(func(c *mpnn.Config) { c.OutAct = "swish" }),
		"bad aggregation":  with(func(c *mpnn.Config) { c.Aggr = "median" }),
		"bad deepsets hid": with(func(c *mpnn.Config) { c.Aggr = mpnn.DeepSets; c.AggHidden = []int{-2} }),
	}
	for name, cfg := range bad {
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "mpnn: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
		mustPanic(t, name, func() { mpnn.New(cfg, rand.New(rand.NewPCG(1, 1))) })
	}
	sbad := map[string]mpnn.SyncGNNConfig{
		"zero dim":   {ComputeIn: 2, PathIn: 3},
		"zero in":    {PathIn: 3, Dim: 4},
		"rounds":     {ComputeIn: 2, PathIn: 3, Dim: 4, Rounds: -1},
		"bad aggr":   {ComputeIn: 2, PathIn: 3, Dim: 4, Aggr: "x"},
		"bad hidden": {ComputeIn: 2, PathIn: 3, Dim: 4, UpdHidden: []int{0}},
	}
	for name, cfg := range sbad {
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "mpnn: ") {
			t.Errorf("%s: Validate gave %v", name, err)
		}
		mustPanic(t, name, func() { mpnn.NewSyncGNN(cfg, rand.New(rand.NewPCG(1, 1))) })
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestPanics(t *testing.T) {
	m := mpnn.New(configs()["sum"], rand.New(rand.NewPCG(1, 1)))
	me := mpnn.New(configs()["edges"], rand.New(rand.NewPCG(1, 1)))
	s := mpnn.NewSyncGNN(mpnn.SyncGNNConfig{ComputeIn: 2, PathIn: 3, Dim: 4}, rand.New(rand.NewPCG(1, 1)))
	h := nn.New(numNodes, 3)
	cases := map[string]func(){
		"lengths":         func() { m.Propagate(nn.NewTape(), h, []int{0, 1}, []int{0}, nil) },
		"src range":       func() { m.Propagate(nn.NewTape(), h, []int{5}, []int{0}, nil) },
		"dst range":       func() { m.Propagate(nn.NewTape(), h, []int{0}, []int{-1}, nil) },
		"edge rows":       func() { me.Propagate(nn.NewTape(), h, src, dst, nn.New(2, 2)) },
		"edge missing":    func() { me.Propagate(nn.NewTape(), h, src, dst, nil) },
		"edge width":      func() { me.Propagate(nn.NewTape(), h, src, dst, nn.New(len(src), 3)) },
		"edge unexpected": func() { m.Propagate(nn.NewTape(), h, src, dst, nn.New(len(src), 2)) },
		"syncgnn widths":  func() { s.Forward(nn.NewTape(), nn.New(2, 3), nn.New(1, 3), nil, nil) },
		"syncgnn edges":   func() { s.Forward(nn.NewTape(), nn.New(2, 2), nn.New(1, 3), []int{0}, []int{3}) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				s, ok := recover().(string)
				if !ok || !strings.HasPrefix(s, "mpnn: ") {
					t.Fatalf("want a panic with an mpnn: message, got %v", s)
				}
			}()
			f()
		})
	}
}

func TestBipartiteEdges(t *testing.T) {
	src, dst, err := mpnn.BipartiteEdges([]int{1, 0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Paths are vertices 2, 3, 4.
	wantSrc := []int{2, 1, 3, 0, 4, 1}
	wantDst := []int{1, 2, 0, 3, 1, 4}
	for k := range wantSrc {
		if src[k] != wantSrc[k] || dst[k] != wantDst[k] {
			t.Fatalf("got %v → %v, want %v → %v", src, dst, wantSrc, wantDst)
		}
	}
	for name, c := range map[string]struct {
		reach []int
		n     int
	}{"negative count": {nil, -1}, "too large": {[]int{0, 2}, 2}, "negative": {[]int{-1}, 2}, "no compute": {[]int{0}, 0}} {
		s0, d0 := make([]int, 1, 8), make([]int, 1, 8)
		s, d, err := mpnn.AppendBipartiteEdges(s0, d0, c.reach, c.n)
		if err == nil || !strings.HasPrefix(err.Error(), "mpnn: ") {
			t.Errorf("%s: error %v", name, err)
		}
		if len(s) != 1 || len(d) != 1 {
			t.Errorf("%s: buffers changed on error", name)
		}
	}
}

func syncConfigs() map[string]mpnn.SyncGNNConfig {
	return map[string]mpnn.SyncGNNConfig{
		"paper":    {ComputeIn: 2, PathIn: 3, Dim: 4, MsgHidden: []int{5}, UpdHidden: []int{5}, Act: nn.Tanh},
		"rounds":   {ComputeIn: 2, PathIn: 3, Dim: 4, Rounds: 2, Act: nn.Tanh, Aggr: mpnn.Mean, Residual: true},
		"deepsets": {ComputeIn: 2, PathIn: 3, Dim: 3, Act: nn.Tanh, Aggr: mpnn.DeepSets},
	}
}

// Three compute nodes, four paths; compute node 2 is reached by no path.
var reach = []int{0, 0, 1, 0}

func TestSyncGNNGradients(t *testing.T) {
	ssrc, sdst, err := mpnn.BipartiteEdges(reach, 3)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range syncConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			m := mpnn.NewSyncGNN(cfg, rng)
			nntest.CheckParamFields(t, m)
			for _, r := range m.Rounds {
				checkParams(t, r)
			}
			if err := nn.CheckPaths(m); err != nil {
				t.Fatal(err)
			}
			c := nntest.RandTensor(rng, 3, 2, -1, 1)
			p := nntest.RandTensor(rng, len(reach), 3, -1, 1)
			nntest.GradCheck(t, func(tp *nn.Tape, xs []*nn.Tensor) *nn.Tensor {
				hc, hp := m.Forward(tp, xs[0], xs[1], ssrc, sdst)
				return tp.ConcatRows(hc, hp)
			}, []*nn.Tensor{c, p}, m, nntest.Options{})
		})
	}
}

func TestSyncGNNShapesAndStructure(t *testing.T) {
	ssrc, sdst, _ := mpnn.BipartiteEdges(reach, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	m := mpnn.NewSyncGNN(syncConfigs()["paper"], rng)
	if len(m.Rounds) != 1 {
		t.Fatalf("default rounds %d, want 1", len(m.Rounds))
	}
	tp := nn.NewInference()
	c := nntest.RandTensor(rng, 3, 2, -1, 1)
	p := nntest.RandTensor(rng, len(reach), 3, -1, 1)
	hc, hp := m.Forward(tp, c, p, ssrc, sdst)
	if hc.Rows != 3 || hc.Cols != 4 || hp.Rows != len(reach) || hp.Cols != 4 {
		t.Fatalf("outputs %s, %s", hc.Shape(), hp.Shape())
	}
	// Compute node 2 has no path: its output is U(h, 0) whatever the paths.
	// Changing path 2 (which reaches node 1) must leave nodes 0 and 2 alone.
	before := append([]float32(nil), hc.Data...)
	p.Set(2, 0, p.At(2, 0)+1)
	hc2, _ := m.Forward(tp, c, p, ssrc, sdst)
	for j := 0; j < 4; j++ {
		if hc2.At(0, j) != before[j] || hc2.At(2, j) != before[8+j] {
			t.Fatal("a path changed a compute node it does not reach")
		}
	}
	changed := false
	for j := 0; j < 4; j++ {
		changed = changed || hc2.At(1, j) != before[4+j]
	}
	if !changed {
		t.Fatal("a path did not change the compute node it reaches")
	}
}

func TestZeroAlloc(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := mpnn.New(cfg, rng)
			h := nntest.RandTensor(rng, numNodes, cfg.In, -1, 1)
			e := edgeFeat(rng, cfg)
			tp := nn.NewInference()
			run := func() {
				tp.Reset()
				m.Propagate(tp, h, src, dst, e)
			}
			run()
			if a := testing.AllocsPerRun(50, run); a != 0 {
				t.Fatalf("Propagate allocates %v times per call", a)
			}
		})
	}
	ssrc, sdst, _ := mpnn.BipartiteEdges(reach, 3)
	for name, cfg := range syncConfigs() {
		t.Run("syncgnn/"+name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := mpnn.NewSyncGNN(cfg, rng)
			c := nntest.RandTensor(rng, 3, 2, -1, 1)
			p := nntest.RandTensor(rng, len(reach), 3, -1, 1)
			tp := nn.NewInference()
			run := func() {
				tp.Reset()
				m.Forward(tp, c, p, ssrc, sdst)
			}
			run()
			if a := testing.AllocsPerRun(50, run); a != 0 {
				t.Fatalf("Forward allocates %v times per call", a)
			}
		})
	}
}

// hopGraph is a random connected undirected graph of 8–15 nodes (a random
// spanning tree plus a few extra edges) with one source node; target[v] is
// min(hop distance from the source, k).
type hopGraph struct {
	n        int
	src, dst []int // both directions
	feat     []float32
	target   []float32
}

func randomHopGraph(rng *rand.Rand, k int) hopGraph {
	n := 8 + rng.IntN(8)
	label := rng.Perm(n)
	adj := make([][]int, n)
	g := hopGraph{n: n}
	add := func(a, b int) {
		for _, c := range adj[a] {
			if c == b {
				return
			}
		}
		adj[a] = append(adj[a], b)
		adj[b] = append(adj[b], a)
		g.src = append(g.src, a, b)
		g.dst = append(g.dst, b, a)
	}
	for i := 1; i < n; i++ {
		add(label[i], label[rng.IntN(i)])
	}
	for range rng.IntN(n / 2) {
		if a, b := rng.IntN(n), rng.IntN(n); a != b {
			add(a, b)
		}
	}
	s := rng.IntN(n)
	g.feat = make([]float32, n)
	g.feat[s] = 1
	dist := make([]int, n)
	for i := range dist {
		dist[i] = -1
	}
	dist[s] = 0
	queue := []int{s}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, u := range adj[v] {
			if dist[u] < 0 {
				dist[u] = dist[v] + 1
				queue = append(queue, u)
			}
		}
	}
	g.target = make([]float32, n)
	for i, d := range dist {
		g.target[i] = float32(min(d, k))
	}
	return g
}

// batchGraphs joins graphs into one disjoint graph.
func batchGraphs(gs []hopGraph) (n int, src, dst []int, feat, target []float32) {
	for _, g := range gs {
		for k := range g.src {
			src = append(src, g.src[k]+n)
			dst = append(dst, g.dst[k]+n)
		}
		feat = append(feat, g.feat...)
		target = append(target, g.target...)
		n += g.n
	}
	return n, src, dst, feat, target
}

// TestLearnsHopDistance: one message-passing layer (max aggregation,
// residual update) applied K = 4 times with shared weights learns
// min(hop distance from the marked source, K) on random connected graphs of
// 8–15 nodes. Held-out: at least 95 % of the nodes must get the exact
// distance after rounding (about 99–100 % is reached).
func TestLearnsHopDistance(t *testing.T) {
	const k, dim = 4, 16
	rng := rand.New(rand.NewPCG(41, 42))
	embed := linear.New(linear.Config{In: 1, Out: dim}, rng)
	layer := mpnn.New(mpnn.Config{In: dim, Msg: dim, Out: dim, UpdHidden: []int{dim},
		Act: nn.ReLU, Aggr: mpnn.Max, Residual: true}, rng)
	head := linear.New(linear.Config{In: dim, Out: 1}, rng)
	model := nn.Modules{{Name: "embed", M: embed}, {Name: "layer", M: layer}, {Name: "head", M: head}}
	forward := func(tp *nn.Tape, n int, src, dst []int, feat []float32) *nn.Tensor {
		h := embed.Forward(tp, tp.Const(n, 1, feat))
		for range k {
			h = layer.Propagate(tp, h, src, dst, nil)
		}
		return head.Forward(tp, h)
	}
	opt := optim.NewAdam(nn.Collect(model), optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	tp := nn.NewTape()
	gs := make([]hopGraph, 16)
	for step := 0; step < 600; step++ {
		for i := range gs {
			gs[i] = randomHopGraph(rng, k)
		}
		n, s, d, feat, target := batchGraphs(gs)
		tp.Reset()
		loss := tp.MSE(forward(tp, n, s, d, feat), tp.Const(n, 1, target))
		tp.Backward(loss)
		opt.Step()
	}
	held := make([]hopGraph, 200)
	hr := rand.New(rand.NewPCG(43, 44))
	for i := range held {
		held[i] = randomHopGraph(hr, k)
	}
	n, s, d, feat, target := batchGraphs(held)
	pred := forward(nn.NewInference(), n, s, d, feat)
	correct := 0
	for i, y := range target {
		if float32(math.Round(float64(pred.Data[i]))) == y {
			correct++
		}
	}
	acc := float64(correct) / float64(n)
	t.Logf("held-out hop-distance accuracy: %.4f over %d nodes", acc, n)
	if acc < 0.95 {
		t.Fatalf("accuracy %.4f, want ≥ 0.95", acc)
	}
}

// TestSyncGNNLearnsBipartiteSums: one SyncGNN round learns, for every
// compute node, the sum of the first feature of the paths that reach it
// (0–4 paths), and for every path, the first feature of the compute node it
// reaches. Held-out MSE must be below 1 % of each target's variance (below
// 0.01 % is reached: both targets are exactly representable).
func TestSyncGNNLearnsBipartiteSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	m := mpnn.NewSyncGNN(mpnn.SyncGNNConfig{ComputeIn: 2, PathIn: 3, Dim: 16, MsgHidden: []int{16}, UpdHidden: []int{16},
		Act: nn.ReLU}, rng)
	headC := linear.New(linear.Config{In: 16, Out: 1}, rng)
	headP := linear.New(linear.Config{In: 16, Out: 1}, rng)
	model := nn.Modules{{Name: "syncgnn", M: m}, {Name: "head_c", M: headC}, {Name: "head_p", M: headP}}
	type sample struct {
		c, p       *nn.Tensor
		src, dst   []int
		yc, yp     []float32
		numCompute int
	}
	draw := func(rng *rand.Rand, scenes int) sample {
		var s sample
		var cf, pf []float32
		var reach []int
		for range scenes {
			nc, np := 2+rng.IntN(4), 1+rng.IntN(8)
			base := s.numCompute
			load := make([]float32, nc)
			sums := make([]float32, nc)
			for i := range nc {
				load[i] = float32(rng.Float64())
				cf = append(cf, load[i], float32(rng.Float64()))
			}
			for range np {
				c := rng.IntN(nc)
				bw := float32(rng.Float64())
				pf = append(pf, bw, float32(rng.Float64()), float32(rng.Float64()))
				reach = append(reach, base+c)
				sums[c] += bw
				s.yp = append(s.yp, load[c])
			}
			s.yc = append(s.yc, sums...)
			s.numCompute += nc
		}
		var err error
		if s.src, s.dst, err = mpnn.BipartiteEdges(reach, s.numCompute); err != nil {
			t.Fatal(err)
		}
		s.c = nn.FromSlice(s.numCompute, 2, cf)
		s.p = nn.FromSlice(len(reach), 3, pf)
		return s
	}
	forward := func(tp *nn.Tape, s sample) (*nn.Tensor, *nn.Tensor) {
		hc, hp := m.Forward(tp, s.c, s.p, s.src, s.dst)
		return headC.Forward(tp, hc), headP.Forward(tp, hp)
	}
	opt := optim.NewAdam(nn.Collect(model), optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	tp := nn.NewTape()
	for step := 0; step < 800; step++ {
		s := draw(rng, 16)
		tp.Reset()
		pc, pp := forward(tp, s)
		loss := tp.Add(tp.MSE(pc, tp.Const(len(s.yc), 1, s.yc)), tp.MSE(pp, tp.Const(len(s.yp), 1, s.yp)))
		tp.Backward(loss)
		opt.Step()
	}
	s := draw(rand.New(rand.NewPCG(47, 48)), 300)
	pc, pp := forward(nn.NewInference(), s)
	for _, c := range []struct {
		name string
		pred []float32
		want []float32
	}{{"compute", pc.Data, s.yc}, {"path", pp.Data, s.yp}} {
		var mean, variance, mse float64
		for _, y := range c.want {
			mean += float64(y)
		}
		n := float64(len(c.want))
		mean /= n
		for i, y := range c.want {
			variance += (float64(y) - mean) * (float64(y) - mean) / n
			d := float64(c.pred[i] - y)
			mse += d * d / n
		}
		rel := mse / variance
		t.Logf("%s: held-out MSE %.3g, target variance %.3g, ratio %.2g", c.name, mse, variance, rel)
		if !(rel < 0.01) {
			t.Errorf("%s: MSE / variance %.4f, want < 0.01", c.name, rel)
		}
	}
}

// TestNoEdges: without edges every node aggregates zeros; without nodes the
// output is empty.
func TestNoEdges(t *testing.T) {
	for name, cfg := range configs() {
		m := mpnn.New(cfg, rand.New(rand.NewPCG(1, 1)))
		var e *nn.Tensor
		if cfg.EdgeIn > 0 {
			e = nn.New(0, cfg.EdgeIn)
		}
		tp := nn.NewTape()
		h := tp.Leaf(numNodes, cfg.In, make([]float32, numNodes*cfg.In))
		out := m.Propagate(tp, h, nil, nil, e)
		want := m.Update.Update(nn.NewInference(), nn.New(numNodes, cfg.In), nn.New(numNodes, cfg.Msg))
		for i := range want.Data {
			if math.Abs(float64(out.Data[i]-want.Data[i])) > 1e-6 {
				t.Fatalf("%s: got %v, want U(h, 0) = %v", name, out.Data, want.Data)
			}
		}
		tp.Backward(tp.Sum(out))
		if z := m.Propagate(nn.NewInference(), nn.New(0, cfg.In), nil, nil, e); z.Rows != 0 || z.Cols != cfg.Out {
			t.Fatalf("%s: no nodes gives %s", name, z.Shape())
		}
	}
	s := mpnn.NewSyncGNN(syncConfigs()["paper"], rand.New(rand.NewPCG(1, 1)))
	hc, hp := s.Forward(nn.NewInference(), nn.New(2, 2), nn.New(0, 3), nil, nil)
	if hc.Rows != 2 || hp.Rows != 0 {
		t.Fatalf("no paths: %s, %s", hc.Shape(), hp.Shape())
	}
}

func BenchmarkPropagate(b *testing.B) {
	for _, size := range []struct {
		name string
		n, e int
	}{{"Small", 16, 48}, {"Large", 512, 2048}} {
		b.Run(size.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := mpnn.New(mpnn.Config{In: 32, Msg: 32, Out: 32, MsgHidden: []int{32}, UpdHidden: []int{32}, Act: nn.ReLU}, rng)
			h := nntest.RandTensor(rng, size.n, 32, -1, 1)
			s, d := make([]int, size.e), make([]int, size.e)
			for k := range s {
				s[k], d[k] = rng.IntN(size.n), rng.IntN(size.n)
			}
			for _, mode := range []string{"inference", "train"} {
				b.Run(mode, func(b *testing.B) {
					tp := nn.NewInference()
					if mode == "train" {
						tp = nn.NewTape()
					}
					b.ReportAllocs()
					for b.Loop() {
						tp.Reset()
						out := m.Propagate(tp, h, s, d, nil)
						if mode == "train" {
							tp.Backward(tp.Sum(out))
						}
					}
				})
			}
		})
	}
}
