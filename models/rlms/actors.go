package rlms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// NodeActor is the node-selection policy π_node(i|s): a masked categorical
// over the K candidates with logit_i = Head(h_i), h_i the embedding of
// compute vertex i. Its action is rl.Action{Index: i}.
//
// It owns the actor encoder, which PathActor shares: Params visits the
// encoder, PathActor's does not, so an optimizer over both actors (as
// agent.Agent.ActorModules) sees every parameter once and receives
// the gradients of both actors in the shared encoder.
//
// Act, Mode and the inference-tape calls reuse scratch buffers and must not
// run concurrently; on a recording tape every call allocates its own
// buffers, so Evaluate may run concurrently on different tapes.
type NodeActor struct {
	Config  Config
	Encoder *Encoder
	// Head maps a Dim-wide compute embedding to one logit.
	Head *mlp.Model
	// Prior is the 1×1 weight of log(est_i/min est) in the logits
	// (Config.Prior; nil without).
	Prior *nn.Param

	scr     batch
	actions []rl.Action
}

// Params implements nn.Module: "encoder/…", "head/…" and "prior" (with
// Config.Prior).
func (a *NodeActor) Params(visit func(string, *nn.Param)) {
	a.Encoder.Params(nn.Prefix("encoder", visit))
	a.Head.Params(nn.Prefix("head", visit))
	if a.Prior != nil {
		visit("prior", a.Prior)
	}
}

// batchFor returns the scratch batch on an inference tape and a fresh one
// on a recording tape (whose ops keep references to it until Backward).
func batchFor(t *nn.Tape, scr *batch) *batch {
	if t.Recording() {
		return new(batch)
	}
	return scr
}

// logits fills b from obs and returns the R×K logits with the embeddings.
func (a *NodeActor) logits(t *nn.Tape, b *batch, obs []cpn.Obs) (logits, hc, hp *nn.Tensor) {
	b.fill(obs, a.Config.K, a.Config.P, a.Encoder.edges())
	hc, hp = a.Encoder.forward(t, b)
	return a.head(t, b, hc), hc, hp
}

// head returns the R×K logits of the compute embeddings hc.
func (a *NodeActor) head(t *nn.Tape, b *batch, hc *nn.Tensor) *nn.Tensor {
	l := a.Head.Forward(t, hc)
	if a.Prior != nil {
		l = t.Add(l, t.Mul(t.Const(b.r*b.k, 1, b.prior), a.Prior.V))
	}
	return t.Reshape(l, b.r, b.k)
}

// Logits returns the R×K candidate logits of obs (masked candidates
// included; the policy ignores them).
func (a *NodeActor) Logits(t *nn.Tape, obs []cpn.Obs) *nn.Tensor {
	l, _, _ := a.logits(t, batchFor(t, &a.scr), obs)
	return l
}

func (a *NodeActor) out(r int) []rl.Action {
	if cap(a.actions) < r {
		a.actions = make([]rl.Action, r)
	}
	return a.actions[:r]
}

// Act implements agent.Actor: one candidate per observation, sampled
// among the allowed ones. The result is reused by the next call.
func (a *NodeActor) Act(t *nn.Tape, obs []cpn.Obs, rng *rand.Rand) []rl.Action {
	b := batchFor(t, &a.scr)
	l, _, _ := a.logits(t, b, obs)
	b.idx = dist.NewCategorical(t, l, b.nodeMask).Sample(rng, b.idx)
	acts := a.out(len(obs))
	for i, n := range b.idx[:len(obs)] {
		acts[i] = rl.Action{Index: n}
	}
	return acts
}

// Mode implements agent.Actor: the allowed candidate of largest
// logit. The result is reused by the next call.
func (a *NodeActor) Mode(t *nn.Tape, obs []cpn.Obs) []rl.Action {
	b := batchFor(t, &a.scr)
	l, _, _ := a.logits(t, b, obs)
	b.idx = growInt(b.idx, len(obs))
	argmaxAllowed(l.Data, b.nodeMask, b.r, b.k, b.idx)
	acts := a.out(len(obs))
	for i, n := range b.idx {
		acts[i] = rl.Action{Index: n}
	}
	return acts
}

// Evaluate implements agent.Actor: the R×1 log-probabilities of the
// chosen candidates and the R×1 entropies over the allowed ones.
func (a *NodeActor) Evaluate(t *nn.Tape, obs []cpn.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("rlms: NodeActor.Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	b := batchFor(t, &a.scr)
	l, _, _ := a.logits(t, b, obs)
	b.idx = growInt(b.idx, len(obs))
	for i, act := range actions {
		b.idx[i] = act.Index
	}
	c := dist.NewCategorical(t, l, b.nodeMask)
	return c.LogProb(b.idx), c.Entropy()
}

// PathActor is the split policy π_path(x|s, i) given the chosen candidate
// i: for each of i's P path rows, Head([h_path ‖ h_i]) gives one logit,
// α = softplus(logits) + PathAlphaFloor, and the split x is
// Dirichlet(α) over the P rows. Its action is rl.Action{Values: x}, P
// non-negative values summing to 1. With P = 1 the split is always [1]
// (log-probability and entropy 0).
//
// It shares the actor encoder of its NodeActor and does NOT visit it in
// Params (see NodeActor). Its *Given methods take the chosen candidate of
// observation r from prev[0][r].Index (agent.ConditionalActor) and,
// with Config.Subsets, the chosen path subset from prev[1][r].Index: the
// split is then over that subset's paths only. The plain Act, Mode and
// Evaluate, which have no chosen candidate, use the candidate (and
// subset) the node (and subset) actor's Mode would pick.
//
// The same concurrency rules as NodeActor's apply. Action values are
// freshly allocated on every call and may be kept.
type PathActor struct {
	Config Config
	// Head maps [path embedding ‖ chosen compute embedding] (2·Dim) to
	// one logit.
	Head *mlp.Model

	// LogStd is the 1×1 log σ of the logistic-normal split (nil for the
	// Dirichlet).
	LogStd *nn.Param
	// Prior is the 1×1 weight of log(water-filling share + PriorEps) in
	// the logits (Config.Prior; nil without).
	Prior *nn.Param

	node    *NodeActor   // shared encoder; node head for the plain methods
	subset  *SubsetActor // Config.Subsets: the subset head for the plain methods
	scr     batch
	actions []rl.Action
}

// Params implements nn.Module: "head/…", "log_std" and "prior" (the
// encoder is NodeActor's).
func (a *PathActor) Params(visit func(string, *nn.Param)) {
	a.Head.Params(nn.Prefix("head", visit))
	if a.LogStd != nil {
		visit("log_std", a.LogStd)
	}
	if a.Prior != nil {
		visit("prior", a.Prior)
	}
}

func (a *PathActor) logisticNormal() bool { return a.Config.Split == SplitLogisticNormal }

// Encoder returns the actor encoder the path actor shares with its node
// actor.
func (a *PathActor) Encoder() *Encoder { return a.node.Encoder }

// alpha returns the R×P Dirichlet concentrations over the paths of the
// candidates chosen in b (after b.choose).
func (a *PathActor) alpha(t *nn.Tape, b *batch, hc, hp *nn.Tensor) *nn.Tensor {
	x := t.ConcatCols(t.Gather(hp, b.pRows), t.Gather(hc, b.nRows))
	l := a.Head.Forward(t, x)
	if a.Prior != nil {
		l = t.Add(l, t.Mul(t.Const(b.r*b.p, 1, b.pathPrior), a.Prior.V))
	}
	l = t.Reshape(l, b.r, b.p)
	if a.subset != nil {
		// Paths outside the chosen subset get the constant logit −30 (a
		// share below 10⁻¹³, which the environment drops: cpn's MinSplit):
		// the head's output there is multiplied by 0, so the noise sampled
		// on those paths sends no gradient into the head.
		b.sPen = grow(b.sPen, 2*b.r*b.p)
		keep, pen := b.sPen[:b.r*b.p], b.sPen[b.r*b.p:]
		for r := 0; r < b.r; r++ {
			m := b.subsets[r] + 1
			if m < 1 || m >= 1<<b.p {
				panic(fmt.Sprintf("rlms: observation %d: subset %d outside [0,%d)", r, b.subsets[r], NumSubsets(b.p)))
			}
			for j := 0; j < b.p; j++ {
				keep[r*b.p+j], pen[r*b.p+j] = 1, 0
				if m>>j&1 == 0 {
					keep[r*b.p+j], pen[r*b.p+j] = 0, -subsetPenalty
				}
			}
		}
		l = t.Add(t.Mul(l, t.Const(b.r, b.p, keep)), t.Const(b.r, b.p, pen))
	}
	if a.logisticNormal() {
		return l // the logits
	}
	return t.AddScalar(t.Softplus(l), PathAlphaFloor)
}

// PathAlphaFloor is the smallest Dirichlet concentration of the path
// actor: α = softplus(logits) + 1. With every α ≥ 1 the Dirichlet is
// unimodal and its log-density bounded, and the deterministic split is its
// mode (α−1)/(α₀−P), which can be exactly 0 on a path. A floor near 0
// (rl/policy's AlphaFloor) lets the policy learn concentrations below 1,
// whose samples sit near the simplex's vertices while the mean is
// interior: on the CPN simulator the mean split of such a policy was 12 %
// slower than its own samples (53 vs 47 ms on Abilene).
const PathAlphaFloor = 1

// modeRow writes to dst the deterministic split of one row of the path
// head's output: softmax(logits) for the logistic-normal split, the
// Dirichlet mode (α−1)/(α₀−P) of concentrations α ≥ 1 otherwise (the
// uniform split where α₀ = P). ModeGiven and Model.Decision share it.
func (a *PathActor) modeRow(dst, out []float32) {
	var s float32
	if a.logisticNormal() {
		mx := out[0]
		for _, v := range out {
			mx = max(mx, v)
		}
		for j, v := range out {
			dst[j] = float32(math.Exp(float64(v - mx)))
			s += dst[j]
		}
		for j := range dst {
			dst[j] /= s
		}
		return
	}
	for _, v := range out {
		s += max(v-1, 0)
	}
	for j, v := range out {
		if s < 1e-6 {
			dst[j] = 1 / float32(len(out))
		} else {
			dst[j] = max(v-1, 0) / s
		}
	}
}

// prepare fills b, encodes it and selects the candidates: prev[0][r].Index,
// or the node actor's mode when prev is empty. It returns the embeddings.
func (a *NodeActor) prepare(t *nn.Tape, b *batch, obs []cpn.Obs, prev [][]rl.Action) (hc, hp *nn.Tensor) {
	b.fill(obs, a.Config.K, a.Config.P, a.Encoder.edges())
	hc, hp = a.Encoder.forward(t, b)
	b.idx = growInt(b.idx, len(obs))
	if len(prev) == 0 {
		l := a.head(t, b, hc)
		argmaxAllowed(l.Data, b.nodeMask, b.r, b.k, b.idx)
	} else {
		if len(prev[0]) != len(obs) {
			panic(fmt.Sprintf("rlms: %d node actions for %d observations", len(prev[0]), len(obs)))
		}
		for i, act := range prev[0] {
			b.idx[i] = act.Index
		}
	}
	b.choose(b.idx)
	return hc, hp
}

// prepare selects the candidates (see NodeActor.prepare) and, with
// Config.Subsets, the path subsets (prev[1], or the subset actor's mode),
// and returns the path head's output.
func (a *PathActor) prepare(t *nn.Tape, b *batch, obs []cpn.Obs, prev [][]rl.Action) (alpha *nn.Tensor) {
	hc, hp := a.node.prepare(t, b, obs, prev)
	if a.subset == nil {
		return a.alpha(t, b, hc, hp)
	}
	b.subsets = growInt(b.subsets, len(obs))
	if len(prev) >= 2 {
		if len(prev[1]) != len(obs) {
			panic(fmt.Sprintf("rlms: PathActor: %d subset actions for %d observations", len(prev[1]), len(obs)))
		}
		for i, act := range prev[1] {
			b.subsets[i] = act.Index
		}
	} else {
		l := a.subset.head(t, b, hc, hp)
		argmaxAllowed(l.Data, b.sMask, b.r, l.Cols, b.subsets)
	}
	return a.alpha(t, b, hc, hp)
}

// Alpha returns the R×P Dirichlet concentrations of the split over the
// paths of candidate nodes[r] of obs[r].
func (a *PathActor) Alpha(t *nn.Tape, obs []cpn.Obs, nodes []int) *nn.Tensor {
	prev := make([]rl.Action, len(nodes))
	for i, n := range nodes {
		prev[i].Index = n
	}
	return a.prepare(t, batchFor(t, &a.scr), obs, [][]rl.Action{prev})
}

// setValues stores row r of the fresh R×P tensor s as action r's values.
func (a *PathActor) setValues(s *nn.Tensor) []rl.Action {
	if cap(a.actions) < s.Rows {
		a.actions = make([]rl.Action, s.Rows)
	}
	acts := a.actions[:s.Rows]
	for i := range acts {
		acts[i] = rl.Action{Values: s.Row(i)}
	}
	return acts
}

// ones returns a fresh R×1 tensor of ones (the split of P = 1).
func ones(r int) *nn.Tensor {
	s := nn.New(r, 1)
	for i := range s.Data {
		s.Data[i] = 1
	}
	return s
}

// ActGiven implements agent.ConditionalActor: a split sampled from
// the Dirichlet over the paths of the chosen candidate.
func (a *PathActor) ActGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	if a.Config.P == 1 {
		return a.setValues(ones(len(obs)))
	}
	alpha := a.prepare(t, batchFor(t, &a.scr), obs, prev)
	if a.logisticNormal() {
		return a.setValues(dist.NewLogisticNormal(t, alpha, a.LogStd.V).Sample(rng))
	}
	return a.setValues(dist.NewDirichlet(t, alpha).Sample(rng))
}

// ModeGiven implements agent.ConditionalActor: the Dirichlet mode
// (α−1)/(α₀−P) (see PathAlphaFloor), ratios non-negative summing to 1.
func (a *PathActor) ModeGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action) []rl.Action {
	if a.Config.P == 1 {
		return a.setValues(ones(len(obs)))
	}
	out := a.prepare(t, batchFor(t, &a.scr), obs, prev)
	modes := nn.New(out.Rows, out.Cols) // fresh: action values may be kept
	for r := 0; r < out.Rows; r++ {
		a.modeRow(modes.Row(r), out.Row(r))
	}
	return a.setValues(modes)
}

// EvaluateGiven implements agent.ConditionalActor: the R×1
// log-densities of the splits and the R×1 Dirichlet entropies. Every
// action must hold P values.
func (a *PathActor) EvaluateGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("rlms: PathActor.Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	r, p := len(obs), a.Config.P
	for i, act := range actions {
		if len(act.Values) != p {
			panic(fmt.Sprintf("rlms: PathActor.Evaluate: action %d has %d values, want %d", i, len(act.Values), p))
		}
	}
	if p == 1 {
		return t.Zeros(r, 1), t.Zeros(r, 1)
	}
	b := batchFor(t, &a.scr)
	alpha := a.prepare(t, b, obs, prev)
	b.vals = grow(b.vals, r*p)
	for i, act := range actions {
		copy(b.vals[i*p:], act.Values)
	}
	if a.logisticNormal() {
		d := dist.NewLogisticNormal(t, alpha, a.LogStd.V)
		return d.LogProb(t.Const(r, p, b.vals)), d.Entropy()
	}
	d := dist.NewDirichlet(t, alpha)
	return d.LogProb(t.Const(r, p, b.vals)), d.Entropy()
}

// Act implements agent.Actor: ActGiven on the node actor's mode.
func (a *PathActor) Act(t *nn.Tape, obs []cpn.Obs, rng *rand.Rand) []rl.Action {
	return a.ActGiven(t, obs, nil, rng)
}

// Mode implements agent.Actor: ModeGiven on the node actor's mode.
func (a *PathActor) Mode(t *nn.Tape, obs []cpn.Obs) []rl.Action { return a.ModeGiven(t, obs, nil) }

// Evaluate implements agent.Actor: EvaluateGiven on the node actor's
// mode.
func (a *PathActor) Evaluate(t *nn.Tape, obs []cpn.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.EvaluateGiven(t, obs, nil, actions)
}

// Critic is the state value V(s) = Head([mean_i h_i ‖ mean_q h_q ‖ task]),
// with its own encoder: the means run over the existing candidates
// (NodeMask) and over their real paths (PathMask).
//
// Value reuses scratch buffers on an inference tape (not concurrently) and
// allocates its own on a recording tape.
type Critic struct {
	Config  Config
	Encoder *Encoder
	// Head maps 2·Dim + TaskFeatures columns to the value.
	Head *mlp.Model
	// After maps [h_i ‖ mean of i's path embeddings ‖ task] (2·Dim +
	// TaskFeatures) to V(s, i), the value once candidate i is chosen
	// (Config.Staged; nil without).
	After *mlp.Model

	scr batch
}

// Params implements nn.Module: "encoder/…", "head/…" and "after/…"
// (Config.Staged).
func (c *Critic) Params(visit func(string, *nn.Param)) {
	c.Encoder.Params(nn.Prefix("encoder", visit))
	c.Head.Params(nn.Prefix("head", visit))
	if c.After != nil {
		c.After.Params(nn.Prefix("after", visit))
	}
}

// StagedCritic is a critic built with Config.Staged seen as an
// agent.StagedCritic: its ValueAfter is the path actor's baseline.
// (Critic itself does not have the method, so that a critic without the
// staged head is never taken for one.)
type StagedCritic struct{ *Critic }

// ValueAfter implements agent.StagedCritic: the R×1 values V(s, i)
// of obs once candidate prev[0][r].Index is chosen — or, given the path
// subsets prev[1] too (Config.Subsets), V(s, i, S), whose path mean runs
// over the subset's paths. It panics without Config.Staged.
func (c StagedCritic) ValueAfter(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action) *nn.Tensor {
	if c.After == nil {
		panic("rlms: ValueAfter of a critic without the staged head (Config.Staged)")
	}
	if len(prev) == 0 || len(prev[0]) != len(obs) {
		panic(fmt.Sprintf("rlms: Critic.ValueAfter: no node action for each of %d observations", len(obs)))
	}
	b := batchFor(t, &c.scr)
	b.fill(obs, c.Config.K, c.Config.P, c.Encoder.edges())
	b.idx = growInt(b.idx, len(obs))
	for i, a := range prev[0] {
		b.idx[i] = a.Index
	}
	b.choose(b.idx)
	if len(prev) >= 2 && len(prev[1]) != len(obs) {
		panic(fmt.Sprintf("rlms: Critic.ValueAfter: %d subset actions for %d observations", len(prev[1]), len(obs)))
	}
	b.pIdx, b.pSeg = b.pIdx[:0], b.pSeg[:0]
	for q, row := range b.pRows {
		// With a chosen subset (prev[1], Config.Subsets), its paths only.
		if b.pathMask[row] && (len(prev) < 2 || (prev[1][q/b.p].Index+1)>>(q%b.p)&1 == 1) {
			b.pIdx = append(b.pIdx, row)
			b.pSeg = append(b.pSeg, q/b.p)
		}
	}
	hc, hp := c.Encoder.forward(t, b)
	nodes := make([]int, b.r)
	for r, i := range b.idx {
		nodes[r] = r*b.k + i
	}
	mp := t.SegmentMean(t.Gather(hp, b.pIdx), b.pSeg, b.r)
	return c.After.Forward(t, t.ConcatCols(t.Gather(hc, nodes), mp, t.Const(b.r, TaskFeatures, b.task)))
}

// Value implements agent.Critic: the R×1 values of obs.
func (c *Critic) Value(t *nn.Tape, obs []cpn.Obs) *nn.Tensor {
	b := batchFor(t, &c.scr)
	b.fill(obs, c.Config.K, c.Config.P, c.Encoder.edges())
	b.pools()
	hc, hp := c.Encoder.forward(t, b)
	mc := t.SegmentMean(t.Gather(hc, b.cIdx), b.cSeg, b.r)
	mp := t.SegmentMean(t.Gather(hp, b.pIdx), b.pSeg, b.r)
	return c.Head.Forward(t, t.ConcatCols(mc, mp, t.Const(b.r, TaskFeatures, b.task)))
}
