package rlms

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Known-value tests: the heads are replaced by single Linear layers of
// fixed weights, and every output of the actors and the critic is
// re-derived here in float64 from the observation's raw features and the
// encoder's embeddings, following the formulas of the package doc (not the
// code under test).

// linearHead returns an in → out Linear layer (no activation) with weights
// w[i][o] = 0.5·sin(1 + i + 3o) and biases 0.1·cos(1 + o).
func linearHead(in, out int) *mlp.Model {
	m := mlp.New(mlp.Config{Sizes: []int{in, out}}, rand.New(rand.NewPCG(1, 1)))
	l := m.Layers[0]
	for i := 0; i < in; i++ {
		for o := 0; o < out; o++ {
			l.W.V.Data[i*out+o] = float32(0.5 * math.Sin(float64(1+i+3*o)))
		}
	}
	for o := 0; o < out; o++ {
		l.B.V.Data[o] = float32(0.1 * math.Cos(float64(1+o)))
	}
	return m
}

// refLinear is linearHead's output for x, in float64 (from the float32
// weights linearHead stores).
func refLinear(x []float64, out int) []float64 {
	y := make([]float64, out)
	for o := range y {
		y[o] = float64(float32(0.1 * math.Cos(float64(1+o))))
		for i, v := range x {
			y[o] += v * float64(float32(0.5*math.Sin(float64(1+i+3*o))))
		}
	}
	return y
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func cat(xs ...[]float64) []float64 {
	var out []float64
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

// meanRows is the mean of the given rows of an n×d row-major matrix.
func meanRows(m []float64, d int, rows []int) []float64 {
	out := make([]float64, d)
	for _, r := range rows {
		for c := 0; c < d; c++ {
			out[c] += m[r*d+c] / float64(len(rows))
		}
	}
	return out
}

func closeTo(got float32, want, tol float64) bool {
	return math.Abs(float64(got)-want) <= tol*(1+math.Abs(want))
}

// refArgmax is the allowed index of largest value (the first on ties).
func refArgmax(v []float64, allowed func(int) bool) int {
	best := -1
	for i, x := range v {
		if allowed(i) && (best < 0 || x > v[best]) {
			best = i
		}
	}
	return best
}

// TestHeadsKnownValues: with linear heads, the node logits, the subset
// logits and mask, the path logits (prior and subset penalty included),
// the modes, Decision, the node log-probabilities and entropies, V(s) and
// V(s, i[, S]) equal their float64 re-derivations from the formulas:
//
//	logit_i   = Head_node(h_i) + β·est_i              (est_i = Nodes[i·12+9])
//	logit_S   = Head_S([mean_{j∈S} h_(i,j) ‖ h_i ‖ |S|/P]) + γ·[S = {j: real, wf_j ≥ 0.02}]
//	l_j       = Head_path([h_(i,j) ‖ h_i]) + w·log(max(wf_j, 0) + 0.001), or −30 for j ∉ S
//	V(s)      = Head_V([mean_{allowed i} h_i ‖ mean_{allowed i, real j} h_(i,j) ‖ task])
//	V(s, i, S) = Head_after([h_i ‖ mean_{real j ∈ S} h_(i,j) ‖ task])
func TestHeadsKnownValues(t *testing.T) {
	t.Parallel()
	const k, p, d = 3, 3, 4
	cfg := Config{Encoder: EncoderSyncGNN, Dim: d, Hidden: 5, K: k, P: p, Split: SplitLogisticNormal, Prior: true, Staged: true, Subsets: true}
	m := New(cfg, rand.New(rand.NewPCG(3, 1)))
	m.Node.Head = linearHead(d, 1)
	m.Subset.Head = linearHead(2*d+1, 1)
	m.Path.Head = linearHead(2*d, 1)
	m.Critic.Head = linearHead(2*d+TaskFeatures, 1)
	m.Critic.After = linearHead(2*d+TaskFeatures, 1)
	// Scales other than the initial ones, so that the test sees them used.
	beta, w, gamma := -1.5, 0.7, 2.5
	m.Node.Prior.V.Data[0], m.Path.Prior.V.Data[0], m.Subset.Prior.V.Data[0] = float32(beta), float32(w), float32(gamma)

	rng := rand.New(rand.NewPCG(17, 18))
	obs := randBatch(rng, 6, k, p, 0.3)
	// Water-filling shares: some negative (clamped to 0 in the prior), some
	// below PriorSupport, some above.
	wfs := []float32{0.5, 0.01, 0.3, -0.2, 0.9, 0.02, 0.019, 0.7, 0}
	for r := range obs {
		for q := 0; q < k*p; q++ {
			obs[r].Paths[q].Split = wfs[(q+r)%len(wfs)]
		}
	}
	inf := nn.NewInference()
	hcT, hpT := m.Node.Encoder.Encode(inf, obs)
	hc, hp := f64(hcT.Data), f64(hpT.Data)
	chT, cpT := m.Critic.Encoder.Encode(inf, obs)
	ch, cp := f64(chT.Data), f64(cpT.Data)
	const tol = 1e-4

	allowedNode := func(r int) func(int) bool { return func(i int) bool { return obs[r].NodeMask[i] } }
	wf := func(r, c, j int) float64 { return float64(obs[r].Paths[(c%k)*p+j].Split) }
	isReal := func(r, c, j int) bool { return obs[r].PathMask[(c%k)*p+j] }

	// Node logits.
	nodeRef := make([][]float64, len(obs))
	gotL := m.Node.Logits(inf, obs)
	for r, o := range obs {
		nodeRef[r] = make([]float64, k)
		for i := 0; i < k; i++ {
			c := r*k + i
			nodeRef[r][i] = refLinear(hc[c*d:(c+1)*d], 1)[0] + beta*float64(Encode(o).Nodes[i*NodeFeatures+NodeEstRatio])
			if g := gotL.Data[r*k+i]; !closeTo(g, nodeRef[r][i], tol) {
				t.Errorf("obs %d: node logit %d = %v, want %v", r, i, g, nodeRef[r][i])
			}
		}
	}
	modes := m.Node.Mode(inf, obs)
	nodes := make([]rl.Action, len(obs))
	for r := range obs {
		nodes[r].Index = refArgmax(nodeRef[r], allowedNode(r))
		if modes[r].Index != nodes[r].Index {
			t.Errorf("obs %d: node mode %d, want %d (logits %v, mask %v)", r, modes[r].Index, nodes[r].Index, nodeRef[r], obs[r].NodeMask)
		}
	}

	// Node log-probabilities and entropies over the allowed candidates,
	// of the last allowed candidate.
	acts := make([]rl.Action, len(obs))
	for r, o := range obs {
		for i, ok := range o.NodeMask {
			if ok {
				acts[r].Index = i
			}
		}
	}
	lp, ent := m.Node.Evaluate(nn.NewTape(), obs, acts)
	for r := range obs {
		var z float64
		for i := 0; i < k; i++ {
			if obs[r].NodeMask[i] {
				z += math.Exp(nodeRef[r][i])
			}
		}
		var h float64
		for i := 0; i < k; i++ {
			if obs[r].NodeMask[i] {
				pi := math.Exp(nodeRef[r][i]) / z
				h -= pi * math.Log(pi)
			}
		}
		if want := nodeRef[r][acts[r].Index] - math.Log(z); !closeTo(lp.Data[r], want, tol) {
			t.Errorf("obs %d: node log-prob %v, want %v", r, lp.Data[r], want)
		}
		if !closeTo(ent.Data[r], h, tol) {
			t.Errorf("obs %d: node entropy %v, want %v", r, ent.Data[r], h)
		}
	}

	// Subset logits and mask, on each observation's mode candidate.
	ns := NumSubsets(p)
	subsetRef := func(r, i int) (logits []float64, allowed []bool) {
		c := r*k + i
		var support uint
		for j := 0; j < p; j++ {
			// In float32, as the features: a share of exactly 0.02 counts.
			if isReal(r, c, j) && float32(wf(r, c, j)) >= float32(0.02) {
				support |= 1 << j
			}
		}
		for s := 0; s < ns; s++ {
			rows := SubsetRows(s)
			ok := true
			var idx []int
			for _, j := range rows {
				ok = ok && isReal(r, c, j)
				idx = append(idx, c*p+j)
			}
			x := cat(meanRows(hp, d, idx), hc[c*d:(c+1)*d], []float64{float64(len(rows)) / p})
			l := refLinear(x, 1)[0]
			if uint(s+1) == support {
				l += gamma
			}
			logits = append(logits, l)
			allowed = append(allowed, ok)
		}
		return logits, allowed
	}
	b := new(batch)
	sl := m.Subset.logits(inf, b, obs, [][]rl.Action{nodes})
	subs := make([]rl.Action, len(obs))
	for r := range obs {
		ref, allowed := subsetRef(r, nodes[r].Index)
		for s := 0; s < ns; s++ {
			if g := sl.Data[r*ns+s]; !closeTo(g, ref[s], tol) || b.sMask[r*ns+s] != allowed[s] {
				t.Errorf("obs %d: subset %d logit %v allowed %v, want %v %v", r, s, g, b.sMask[r*ns+s], ref[s], allowed[s])
			}
		}
		subs[r].Index = refArgmax(ref, func(s int) bool { return allowed[s] })
	}
	for r, a := range m.Subset.ModeGiven(inf, obs, [][]rl.Action{nodes}) {
		if a.Index != subs[r].Index {
			t.Errorf("obs %d: subset mode %d, want %d", r, a.Index, subs[r].Index)
		}
	}

	// Path logits on the chosen candidate and subset, and their softmax.
	pathRef := func(r, i, s int) []float64 {
		c := r*k + i
		m := uint(s + 1)
		l := make([]float64, p)
		for j := 0; j < p; j++ {
			if m>>j&1 == 0 {
				l[j] = -30
				continue
			}
			q := c*p + j
			l[j] = refLinear(cat(hp[q*d:(q+1)*d], hc[c*d:(c+1)*d]), 1)[0] + w*math.Log(math.Max(wf(r, c, j), 0)+0.001)
		}
		return l
	}
	softmax := func(l []float64) []float64 {
		mx := math.Inf(-1)
		for _, v := range l {
			mx = math.Max(mx, v)
		}
		var z float64
		out := make([]float64, len(l))
		for j, v := range l {
			out[j] = math.Exp(v - mx)
			z += out[j]
		}
		for j := range out {
			out[j] /= z
		}
		return out
	}
	// The whole batch on the mode candidates and subsets (row offsets
	// r·P), then every allowed subset of one observation at a time.
	got := m.Path.prepare(inf, new(batch), obs, [][]rl.Action{nodes, subs})
	for r := range obs {
		ref := pathRef(r, nodes[r].Index, subs[r].Index)
		for j := 0; j < p; j++ {
			if !closeTo(got.Data[r*p+j], ref[j], tol) {
				t.Errorf("batch: obs %d: path logit %d = %v, want %v", r, j, got.Data[r*p+j], ref[j])
			}
		}
	}
	for r := range obs {
		_, allowed := subsetRef(r, nodes[r].Index)
		for s := 0; s < ns; s++ {
			if !allowed[s] {
				continue
			}
			prev := [][]rl.Action{nodes[r : r+1], {{Index: s}}}
			got := m.Path.prepare(inf, new(batch), obs[r:r+1], prev)
			ref := pathRef(r, nodes[r].Index, s)
			for j := 0; j < p; j++ {
				if !closeTo(got.Data[j], ref[j], tol) {
					t.Errorf("obs %d, subset %d: path logit %d = %v, want %v", r, s, j, got.Data[j], ref[j])
				}
			}
			x := softmax(ref)
			for j, v := range m.Path.ModeGiven(inf, obs[r:r+1], prev)[0].Values {
				if !closeTo(v, x[j], tol) {
					t.Errorf("obs %d, subset %d: mode split %d = %v, want %v", r, s, j, v, x[j])
				}
			}
		}
	}
	for r, o := range obs {
		node, ratios := m.Decision(o)
		x := softmax(pathRef(r, nodes[r].Index, subs[r].Index))
		if node != nodes[r].Index {
			t.Errorf("obs %d: Decision node %d, want %d", r, node, nodes[r].Index)
		}
		for j := range x {
			if !closeTo(ratios[j], x[j], tol) {
				t.Errorf("obs %d: Decision split %v, want %v", r, ratios, x)
				break
			}
		}
	}

	// V(s): the critic's own embeddings, means over allowed candidates and
	// their real paths.
	v := m.Critic.Value(inf, obs)
	for r, o := range obs {
		var cs, ps []int
		for i := 0; i < k; i++ {
			if !o.NodeMask[i] {
				continue
			}
			cs = append(cs, r*k+i)
			for j := 0; j < p; j++ {
				if o.PathMask[i*p+j] {
					ps = append(ps, (r*k+i)*p+j)
				}
			}
		}
		want := refLinear(cat(meanRows(ch, d, cs), meanRows(cp, d, ps), f64(Encode(o).Task)), 1)[0]
		if !closeTo(v.Data[r], want, tol) {
			t.Errorf("obs %d: value %v, want %v", r, v.Data[r], want)
		}
	}
	// V(s, i) and V(s, i, S).
	for _, withS := range []bool{false, true} {
		prev := [][]rl.Action{nodes}
		if withS {
			prev = append(prev, subs)
		}
		va := StagedCritic{m.Critic}.ValueAfter(inf, obs, prev)
		for r, o := range obs {
			c := r*k + nodes[r].Index
			var ps []int
			for j := 0; j < p; j++ {
				if isReal(r, c, j) && (!withS || uint(subs[r].Index+1)>>j&1 == 1) {
					ps = append(ps, c*p+j)
				}
			}
			want := refLinear(cat(ch[c*d:(c+1)*d], meanRows(cp, d, ps), f64(Encode(o).Task)), 1)[0]
			if !closeTo(va.Data[r], want, tol) {
				t.Errorf("obs %d, subset %v: value after %v, want %v", r, withS, va.Data[r], want)
			}
		}
	}
}

// TestDirichletMLPKnownValues: with the mlp encoder's two MLPs and the
// path head replaced by Linear layers, the compute and path embeddings
// are [node ‖ task]·W + b and [path ‖ task]·W + b of the raw features, the
// Dirichlet concentrations softplus(Head([h_(i,j) ‖ h_i])) + 1, the mode
// (α−1)/(α₀−P) and the log-density
// log Γ(α₀) − Σ log Γ(α_j) + Σ (α_j − 1) log x_j.
func TestDirichletMLPKnownValues(t *testing.T) {
	t.Parallel()
	const k, p, d = 3, 3, 4
	m := New(Config{Encoder: EncoderMLP, Dim: d, Hidden: 5, K: k, P: p}, rand.New(rand.NewPCG(5, 1)))
	m.Node.Encoder.Compute = linearHead(ComputeIn, d)
	m.Node.Encoder.Path = linearHead(PathIn, d)
	m.Path.Head = linearHead(2*d, 1)
	rng := rand.New(rand.NewPCG(19, 20))
	obs := randBatch(rng, 5, k, p, 0.3)
	// Embeddings from the raw features.
	embed := func(r, i int) []float64 {
		f := Encode(obs[r])
		return refLinear(cat(f64(f.Nodes[i*NodeFeatures:(i+1)*NodeFeatures]), f64(f.Task)), d)
	}
	embedPath := func(r, i, j int) []float64 {
		f, q := Encode(obs[r]), i*p+j
		return refLinear(cat(f64(f.Paths[q*PathFeatures:(q+1)*PathFeatures]), f64(f.Task)), d)
	}
	inf := nn.NewInference()
	hc, hp := m.Node.Encoder.Encode(inf, obs)
	for r := range obs {
		for i := 0; i < k; i++ {
			for c, want := range embed(r, i) {
				if g := hc.Data[(r*k+i)*d+c]; !closeTo(g, want, 1e-4) {
					t.Fatalf("obs %d: compute embedding %d[%d] = %v, want %v", r, i, c, g, want)
				}
			}
			for j := 0; j < p; j++ {
				for c, want := range embedPath(r, i, j) {
					if g := hp.Data[((r*k+i)*p+j)*d+c]; !closeTo(g, want, 1e-4) {
						t.Fatalf("obs %d: path embedding %d,%d[%d] = %v, want %v", r, i, j, c, g, want)
					}
				}
			}
		}
	}
	nodes := make([]rl.Action, len(obs))
	splits := make([]rl.Action, len(obs))
	for r, o := range obs {
		for i, ok := range o.NodeMask {
			if ok {
				nodes[r].Index = i
			}
		}
		x := []float32{0.2, 0.5, 0.3}
		if r%2 == 1 {
			x = []float32{0.6, 0.1, 0.3}
		}
		splits[r].Values = x
	}
	prev := [][]rl.Action{nodes}
	alpha := m.Path.Alpha(inf, obs, []int{nodes[0].Index, nodes[1].Index, nodes[2].Index, nodes[3].Index, nodes[4].Index})
	a := make([][]float64, len(obs))
	for r := range obs {
		i := nodes[r].Index
		a[r] = make([]float64, p)
		for j := 0; j < p; j++ {
			l := refLinear(cat(embedPath(r, i, j), embed(r, i)), 1)[0]
			a[r][j] = math.Log1p(math.Exp(l)) + 1
			if g := alpha.Data[r*p+j]; !closeTo(g, a[r][j], 1e-4) {
				t.Errorf("obs %d: α_%d = %v, want %v", r, j, g, a[r][j])
			}
		}
	}
	modes := m.Path.ModeGiven(inf, obs, prev)
	lp, _ := m.Path.EvaluateGiven(nn.NewTape(), obs, prev, splits)
	for r := range obs {
		var a0, s, logp float64
		for j, aj := range a[r] {
			a0 += aj
			s += aj - 1
			lg, _ := math.Lgamma(aj)
			logp += (aj-1)*math.Log(float64(splits[r].Values[j])) - lg
		}
		lg0, _ := math.Lgamma(a0)
		logp += lg0
		for j, aj := range a[r] {
			if want := (aj - 1) / s; !closeTo(modes[r].Values[j], want, 1e-4) {
				t.Errorf("obs %d: mode %v, want (α−1)/(α₀−P) of α %v", r, modes[r].Values, a[r])
				break
			}
		}
		if !closeTo(lp.Data[r], logp, 1e-4) {
			t.Errorf("obs %d: log-density %v, want %v", r, lp.Data[r], logp)
		}
	}
}

// TestModeRowKnown: the deterministic splits of hand-picked head outputs.
func TestModeRowKnown(t *testing.T) {
	t.Parallel()
	dir := &PathActor{Config: Config{Split: SplitDirichlet}}
	ln := &PathActor{Config: Config{Split: SplitLogisticNormal}}
	for _, c := range []struct {
		name string
		a    *PathActor
		out  []float32
		want []float64
	}{
		// α = [2 3 1]: (α−1)/(α₀−P) = [1 2 0]/3.
		{"dirichlet", dir, []float32{2, 3, 1}, []float64{1.0 / 3, 2.0 / 3, 0}},
		// α = [1.5 1 1]: [0.5 0 0]/0.5.
		{"dirichlet one path", dir, []float32{1.5, 1, 1}, []float64{1, 0, 0}},
		// α₀ = P: every α at the floor, the uniform split.
		{"dirichlet flat", dir, []float32{1, 1}, []float64{0.5, 0.5}},
		// α − 1 summing to 1e-7 < 1e-6: uniform too.
		{"dirichlet nearly flat", dir, []float32{1.0000001, 1}, []float64{0.5, 0.5}},
		// softmax([0, ln 3]) = [1 3]/4.
		{"logistic-normal", ln, []float32{0, float32(math.Log(3))}, []float64{0.25, 0.75}},
		// softmax([ln 2, 0, ln 2]) = [2 1 2]/5; the largest is not first.
		{"logistic-normal 3", ln, []float32{float32(math.Ln2), 0, float32(math.Ln2)}, []float64{0.4, 0.2, 0.4}},
		// Large logits: softmax([1000, 999]) = [1, e^−1]/(1 + e^−1) (no
		// overflow: exp(1000) is +Inf).
		{"logistic-normal large", ln, []float32{1000, 999}, []float64{1 / (1 + math.Exp(-1)), math.Exp(-1) / (1 + math.Exp(-1))}},
	} {
		dst := make([]float32, len(c.out))
		c.a.modeRow(dst, c.out)
		for j := range dst {
			if !closeTo(dst[j], c.want[j], 1e-6) {
				t.Errorf("%s: modeRow(%v) = %v, want %v", c.name, c.out, dst, c.want)
				break
			}
		}
	}
}

// TestArgmaxAllowedKnown: per row, the allowed column of largest logit,
// the first on ties.
func TestArgmaxAllowedKnown(t *testing.T) {
	t.Parallel()
	logits := []float32{
		3, 1, 2, // best 0 masked → 2
		-1, -1, -2, // tie → the first, 0
		0, 5, 5, // tie among allowed 1 and 2 → 1
	}
	mask := []bool{
		false, true, true,
		true, true, true,
		true, true, true,
	}
	dst := make([]int, 3)
	argmaxAllowed(logits, mask, 3, 3, dst)
	if dst[0] != 2 || dst[1] != 0 || dst[2] != 1 {
		t.Errorf("argmaxAllowed = %v, want [2 0 1]", dst)
	}
}

// TestFillEdges: the SyncGNN edges of a hand-made batch of 2
// observations × 2 candidates × 3 paths (compute vertices 0–3, path
// vertices 4–15): node → path for every row, path → node for real rows,
// and with path edges, overlapping path k → path j of the same candidate.
func TestFillEdges(t *testing.T) {
	t.Parallel()
	const k, p = 2, 3
	mk := func(mask []bool, overlap ...int) cpn.Obs {
		o := cpn.Obs{K: k, P: p, Task: cpn.Task{Images: 1, Bytes: 1e6},
			Nodes: []cpn.Candidate{{EstimateMs: 1}, {EstimateMs: 1}}, Paths: make([]cpn.Path, k*p),
			PathMask: mask, Overlap: make([]bool, k*p*p)}
		for _, q := range overlap {
			o.Overlap[q] = true
		}
		return o
	}
	// Overlap index i·P·P + j·P + k (path j of candidate i sees its path
	// k): obs 0 index 1 = (0, 0, 1); obs 1 index 11 = (1, 0, 2) and 15 =
	// (1, 2, 0).
	obs := []cpn.Obs{
		mk([]bool{true, true, false, true, false, false}, 1),
		mk([]bool{true, true, true, true, true, false}, 11, 15),
	}
	// Row q = 0…11: node c = q/3 → path vertex 4+q, and back when real.
	base := [][2]int{
		{0, 4}, {4, 0}, {0, 5}, {5, 0}, {0, 6}, // obs 0, candidate 0: rows T T F
		{1, 7}, {7, 1}, {1, 8}, {1, 9}, //        candidate 1: T F F
		{2, 10}, {10, 2}, {2, 11}, {11, 2}, {2, 12}, {12, 2}, // obs 1, candidate 0: T T T
		{3, 13}, {13, 3}, {3, 14}, {14, 3}, {3, 15}, //         candidate 1: T T F
	}
	// Path k → path j at 4 + (r·K + i)·P + k → 4 + (r·K + i)·P + j:
	// obs 0 (0,0,1): 5 → 4; obs 1 (1,0,2): 4+9+2 = 15 → 13; (1,2,0): 13 → 15.
	withPaths := append(append([][2]int(nil), base...), [2]int{5, 4}, [2]int{15, 13}, [2]int{13, 15})
	for _, c := range []struct {
		kind edgeKind
		want [][2]int
	}{{noEdges, nil}, {nodePathEdges, base}, {withPathEdges, withPaths}} {
		b := new(batch)
		b.fill(obs, k, p, c.kind)
		if len(b.src) != len(c.want) || len(b.dst) != len(c.want) {
			t.Errorf("edges %d: %d/%d edges, want %d", c.kind, len(b.src), len(b.dst), len(c.want))
			continue
		}
		for e, w := range c.want {
			if b.src[e] != w[0] || b.dst[e] != w[1] {
				t.Errorf("edges %d: edge %d is %d→%d, want %d→%d", c.kind, e, b.src[e], b.dst[e], w[0], w[1])
			}
		}
	}
}

// TestInitKnown: CleanRL's initialisation as the package doc states it —
// orthogonal weights (the Gram matrix of the smaller dimension is gain²·I)
// with gain √2 in the encoders and hidden layers, 0.01 on the node, path
// and subset outputs, 1 on the values', zero biases — and the priors'
// documented initial scales β = −PriorNodeScale, w = 1, γ =
// PriorSubsetScale.
func TestInitKnown(t *testing.T) {
	t.Parallel()
	for _, enc := range encoders {
		cfg := Config{Encoder: enc, Dim: 6, Hidden: 5, K: 3, P: 2, Split: SplitLogisticNormal, Prior: true, Staged: true, Subsets: true}
		m := New(cfg, rand.New(rand.NewPCG(7, 7)))
		checkOrth := func(name string, p *nn.Param, gain float64) {
			r, c := p.V.Rows, p.V.Cols
			small, big := min(r, c), max(r, c)
			for a := 0; a < small; a++ {
				for b := 0; b < small; b++ {
					var s float64
					for i := 0; i < big; i++ {
						x, y := p.V.Data[i*c+a], p.V.Data[i*c+b]
						if r < c {
							x, y = p.V.Data[a*c+i], p.V.Data[b*c+i]
						}
						s += float64(x) * float64(y)
					}
					want := 0.0
					if a == b {
						want = gain * gain
					}
					if math.Abs(s-want) > 1e-4*(1+gain*gain) {
						t.Errorf("%s %s: Gram[%d][%d] = %v, want %v (orthogonal, gain %v)", enc, name, a, b, s, want, gain)
						return
					}
				}
			}
		}
		checkHead := func(name string, h *mlp.Model, out float64) {
			for i, l := range h.Layers {
				g := math.Sqrt2
				if i == len(h.Layers)-1 {
					g = out
				}
				checkOrth(name, l.W, g)
			}
		}
		checkHead("node head", m.Node.Head, 0.01)
		checkHead("path head", m.Path.Head, 0.01)
		checkHead("subset head", m.Subset.Head, 0.01)
		checkHead("value head", m.Critic.Head, 1)
		checkHead("staged value head", m.Critic.After, 1)
		for _, e := range []*Encoder{m.Node.Encoder, m.Critic.Encoder} {
			e.Params(func(path string, p *nn.Param) {
				switch path[len(path)-1] {
				case 'w':
					checkOrth("encoder "+path, p, math.Sqrt2)
				case 'b':
					for _, v := range p.V.Data {
						if v != 0 {
							t.Errorf("%s: encoder bias %s is not zero: %v", enc, path, p.V.Data)
							break
						}
					}
				}
			})
		}
		m.Params(func(path string, p *nn.Param) {
			if path[len(path)-2:] == "/b" {
				for _, v := range p.V.Data {
					if v != 0 {
						t.Errorf("%s: bias %s is not zero", enc, path)
						break
					}
				}
			}
		})
		if m.Node.Prior.V.Data[0] != -PriorNodeScale || m.Path.Prior.V.Data[0] != 1 || m.Subset.Prior.V.Data[0] != PriorSubsetScale {
			t.Errorf("%s: initial prior scales %v, %v, %v; want %v, 1, %v", enc, m.Node.Prior.V.Data[0], m.Path.Prior.V.Data[0], m.Subset.Prior.V.Data[0], -PriorNodeScale, PriorSubsetScale)
		}
	}
}

// TestLogisticNormalInitialSpread: the untrained logistic-normal split
// samples x = softmax(l + σε) with σ = e^−0.5: with P = 2 and one fixed
// observation, log(x₀/x₁) = l₀ − l₁ + σ(ε₀ − ε₁) has standard deviation
// σ·√2 = 0.8578. 4000 samples estimate it within ±5 % (the standard error
// of a sample standard deviation is ≈ 1/√(2·4000) ≈ 1.1 %).
func TestLogisticNormalInitialSpread(t *testing.T) {
	t.Parallel()
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 4, Hidden: 4, K: 3, P: 2, Split: SplitLogisticNormal}, rand.New(rand.NewPCG(1, 5)))
	rng := rand.New(rand.NewPCG(2, 6))
	o := randObs(rng, 3, 2, 0)
	obs := make([]cpn.Obs, 4000)
	nodes := make([]rl.Action, len(obs))
	for i := range obs {
		obs[i] = o
	}
	var s, s2 float64
	for _, a := range m.Path.ActGiven(nn.NewInference(), obs, [][]rl.Action{nodes}, rng) {
		z := math.Log(float64(a.Values[0]) / float64(a.Values[1]))
		s += z
		s2 += z * z
	}
	n := float64(len(obs))
	std := math.Sqrt((s2 - s*s/n) / (n - 1))
	if want := math.Exp(-0.5) * math.Sqrt2; math.Abs(std-want) > 0.05*want {
		t.Errorf("std of log(x0/x1) = %v, want σ√2 = %v", std, want)
	}
}

// TestPriorDecisionKnown: with the heads' output layers zeroed, the
// untrained prior policy decides as the wf baseline: the allowed candidate
// of smallest estimate (logit −20·log(est_i/min est)), the subset = the
// support {j: wf_j ≥ 0.02} (logit γ = 4, every other 0), and the split
// softmax(log(wf_j + 0.001)) over it, i.e. (wf_j + 0.001)/Σ_S (wf + 0.001).
func TestPriorDecisionKnown(t *testing.T) {
	t.Parallel()
	m := New(Config{Encoder: EncoderSyncGNN, Dim: 4, Hidden: 4, K: 3, P: 3, Split: SplitLogisticNormal, Prior: true, Subsets: true}, rand.New(rand.NewPCG(4, 4)))
	for _, h := range []*mlp.Model{m.Node.Head, m.Path.Head, m.Subset.Head} {
		clear(h.Layers[len(h.Layers)-1].W.V.Data)
	}
	o := randObs(rand.New(rand.NewPCG(8, 8)), 3, 3, 0)
	for q := range o.PathMask {
		o.PathMask[q] = true
	}
	// Estimates: candidate 1 is the cheapest allowed once 2 (the overall
	// cheapest) is masked.
	o.NodeMask = []bool{true, true, false}
	for i, e := range []float64{0.4, 0.1, 0} {
		o.Nodes[i].EstimateMs = 10 * math.Exp(e)
	}
	// Candidate 1's shares: 0.7, 0.01 (below the support's 0.02) and
	// exactly 0.02 (in it: ≥).
	for j, x := range []float32{0.7, 0.01, 0.02} {
		o.Paths[1*3+j].Split = x
	}
	node, ratios := m.Decision(o)
	// Subset {0, 2}: 0.701/0.722 and 0.021/0.722, path 1 e^−30 of them.
	want := []float64{0.701 / 0.722, 0, 0.021 / 0.722}
	if node != 1 {
		t.Fatalf("Decision node %d, want 1 (smallest estimate allowed)", node)
	}
	for j := range want {
		if math.Abs(float64(ratios[j])-want[j]) > 1e-5 {
			t.Fatalf("Decision split %v, want %v", ratios, want)
		}
	}
	// Given the subset of all three paths: (0.701, 0.011, 0.021)/0.733.
	prev := [][]rl.Action{{{Index: 1}}, {{Index: NumSubsets(3) - 1}}}
	got := m.Path.ModeGiven(nn.NewInference(), []cpn.Obs{o}, prev)[0].Values
	for j, w := range []float64{0.701 / 0.733, 0.011 / 0.733, 0.021 / 0.733} {
		if math.Abs(float64(got[j])-w) > 1e-5 {
			t.Fatalf("split over all paths %v, want (wf + 0.001)/Σ", got)
		}
	}
}

// TestMisusePanicsSubsets: out-of-range subsets and mismatched subset
// actions panic with an "rlms:" message (not an index error further on).
func TestMisusePanicsSubsets(t *testing.T) {
	t.Parallel()
	cfg := tinyConfig(EncoderSyncGNN)
	cfg.Split, cfg.Subsets, cfg.Staged = SplitLogisticNormal, true, true
	m := New(cfg, rand.New(rand.NewPCG(1, 1)))
	rng := rand.New(rand.NewPCG(2, 2))
	obs := []cpn.Obs{randObs(rng, 3, 2, 0)}
	node := []rl.Action{{Index: 0}}
	ns := NumSubsets(2) // 3: subsets 0, 1, 2
	inf := nn.NewInference()
	for name, f := range map[string]func(){
		"split on subset NumSubsets": func() {
			m.Path.ModeGiven(inf, obs, [][]rl.Action{node, {{Index: ns}}})
		},
		"split on subset −1": func() {
			m.Path.ModeGiven(inf, obs, [][]rl.Action{node, {{Index: -1}}})
		},
		"split with two subset actions": func() {
			m.Path.ModeGiven(inf, obs, [][]rl.Action{node, {{Index: 0}, {Index: 1}}})
		},
		"evaluate subset NumSubsets": func() {
			m.Subset.EvaluateGiven(nn.NewTape(), obs, [][]rl.Action{node}, []rl.Action{{Index: ns}})
		},
		"evaluate subset −1": func() {
			m.Subset.EvaluateGiven(nn.NewTape(), obs, [][]rl.Action{node}, []rl.Action{{Index: -1}})
		},
		"evaluate two subsets for one observation": func() {
			m.Subset.EvaluateGiven(nn.NewTape(), obs, [][]rl.Action{node}, []rl.Action{{Index: 0}, {Index: 0}})
		},
		"value after with two subset actions": func() {
			StagedCritic{m.Critic}.ValueAfter(inf, obs, [][]rl.Action{node, {{Index: 0}, {Index: 1}}})
		},
		"value after without node actions": func() {
			StagedCritic{m.Critic}.ValueAfter(inf, obs, nil)
		},
		"value after without the staged head": func() {
			StagedCritic{New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 1))).Critic}.ValueAfter(inf, obs, [][]rl.Action{node})
		},
		"node evaluate with two actions": func() {
			m.Node.Evaluate(nn.NewTape(), obs, []rl.Action{{Index: 0}, {Index: 1}})
		},
		"path evaluate with two actions": func() {
			m.Path.EvaluateGiven(nn.NewTape(), obs, [][]rl.Action{node, {{Index: 0}}}, []rl.Action{{Values: []float32{1, 0}}, {Values: []float32{1, 0}}})
		},
		"two node actions for one observation": func() {
			m.Path.ModeGiven(inf, obs, [][]rl.Action{{{Index: 0}, {Index: 1}}})
		},
		"candidate −1": func() {
			m.Path.ModeGiven(inf, obs, [][]rl.Action{{{Index: -1}}})
		},
		"encode nothing": func() { m.Node.Encoder.Encode(inf, nil) },
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

// TestValidateBoundaries: the smallest valid widths and sizes, subsets up
// to MaxSubsetPaths paths, and the combinations the config rejects.
func TestValidateBoundaries(t *testing.T) {
	t.Parallel()
	ln := SplitLogisticNormal
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{Encoder: EncoderMLP, Dim: 1, Hidden: 1, K: 1, P: 1}, true},
		{Config{Encoder: EncoderSyncGNN, Dim: 1, Hidden: 1, K: 1, P: 1, Rounds: 2}, true},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 0, K: 1, P: 1}, false},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: MaxSubsetPaths, Split: ln, Subsets: true}, true},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: MaxSubsetPaths + 1, Split: ln, Subsets: true}, false},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: 2, Split: SplitDirichlet, Subsets: true}, false},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: 2, Split: "beta"}, false},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: 2, Prior: true}, false},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: 2, Prior: true, Split: ln}, true},
		{Config{Encoder: EncoderSyncGNN, Dim: 2, Hidden: 2, K: 1, P: 2, PathEdges: true}, true},
		{Config{Encoder: EncoderMLP, Dim: 2, Hidden: 2, K: 1, P: 2, PathEdges: true}, false},
		{Config{Encoder: EncoderMLP, Dim: 2, Hidden: 2, K: -1, P: 2}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", c.cfg, err, c.ok)
		}
	}
}

// TestObsChecks: an observation of the wrong shape panics with a message
// naming the observation and the expected sizes (here K = 3, P = 2: 3×12
// node and 6×13 path features), and nil masks mean "everything exists".
func TestObsChecks(t *testing.T) {
	t.Parallel()
	m := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 1)))
	rng := rand.New(rand.NewPCG(2, 2))
	good := randObs(rng, 3, 2, 0)
	for want, edit := range map[string]func(o *cpn.Obs){
		"rlms: observation 1 has K=4, P=2; the model wants K=3, P=2": func(o *cpn.Obs) { *o = randObs(rng, 4, 2, 0) },
		"rlms: observation 1 has K=3, P=3; the model wants K=3, P=2": func(o *cpn.Obs) { *o = randObs(rng, 3, 3, 0) },
		"rlms: observation 1 has 2 candidates, want 3":               func(o *cpn.Obs) { o.Nodes = o.Nodes[:2] },
		"rlms: observation 1 has 5 paths, want 3×2":                  func(o *cpn.Obs) { o.Paths = o.Paths[:5] },
		"rlms: observation 1: candidate 2 has device class 3, want 0 … 2": func(o *cpn.Obs) {
			o.Nodes = slices.Clone(o.Nodes)
			o.Nodes[2].Class = 3
		},
		"rlms: observation 1 has a node mask of 2 entries, want 3": func(o *cpn.Obs) { o.NodeMask = o.NodeMask[:2] },
		"rlms: observation 1 has a path mask of 5 entries, want 6": func(o *cpn.Obs) { o.PathMask = o.PathMask[:5] },
		"rlms: observation 1 has a path mask of 7 entries, want 6": func(o *cpn.Obs) { o.PathMask = append(o.PathMask, true) },
	} {
		bad := good
		bad.PathMask = append([]bool(nil), good.PathMask...)
		edit(&bad)
		func() {
			defer func() {
				if r := recover(); r != want {
					t.Errorf("panic %v, want %q", r, want)
				}
			}()
			m.Critic.Value(nn.NewInference(), []cpn.Obs{good, bad})
		}()
	}
	// Nil masks: every candidate and path row exists.
	all := good
	all.NodeMask, all.PathMask = []bool{true, true, true}, []bool{true, true, true, true, true, true}
	none := good
	none.NodeMask, none.PathMask = nil, nil
	inf := nn.NewInference()
	lAll := append([]float32(nil), m.Node.Logits(inf, []cpn.Obs{all}).Data...)
	vAll := m.Critic.Value(inf, []cpn.Obs{all}).Item()
	lNone := m.Node.Logits(inf, []cpn.Obs{none}).Data
	for i := range lAll {
		if lAll[i] != lNone[i] {
			t.Errorf("nil masks: logits %v, want those of all-true masks %v", lNone, lAll)
			break
		}
	}
	if v := m.Critic.Value(inf, []cpn.Obs{none}).Item(); v != vAll {
		t.Errorf("nil masks: value %v, want %v", v, vAll)
	}
}

// TestParamNames: every learned scale is visited once under its name —
// the subset prior only with Config.Prior — so that optimizers and
// checkpoints see it.
func TestParamNames(t *testing.T) {
	t.Parallel()
	for _, prior := range []bool{false, true} {
		cfg := tinyConfig(EncoderSyncGNN)
		cfg.Split, cfg.Subsets, cfg.Prior = SplitLogisticNormal, true, prior
		m := New(cfg, rand.New(rand.NewPCG(1, 1)))
		names := map[string]bool{}
		for _, p := range nn.Collect(m) {
			names[p.Path] = true
		}
		for _, n := range []string{"actor/subset/prior", "actor/node/prior", "actor/path/prior"} {
			if names[n] != prior {
				t.Errorf("prior %v: model visits %s: %v", prior, n, names[n])
			}
		}
		if !names["actor/subset/head/0/w"] || !names["actor/path/log_std"] {
			t.Errorf("prior %v: the subset head or log_std is not visited: %v", prior, names)
		}
	}
}

// TestDecisionSparseNoAllocs: Decision allocates nothing after its first
// call (package doc) also on an observation with a single real path row
// (K = 3, P = 2: 6 node → path edges and 1 path → node edge, fewer than
// the 2·K·P the edge buffers are sized for up front).
func TestDecisionSparseNoAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun.
	m := New(tinyConfig(EncoderSyncGNN), rand.New(rand.NewPCG(1, 1)))
	o := randObs(rand.New(rand.NewPCG(2, 2)), 3, 2, 0)
	o.NodeMask = []bool{true, false, false}
	o.PathMask = []bool{true, false, false, false, false, false}
	m.Decision(o)
	if a := testing.AllocsPerRun(20, func() { m.Decision(o) }); a != 0 {
		t.Errorf("Decision allocates %v times per call", a)
	}
}
