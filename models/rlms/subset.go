package rlms

import (
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// SubsetActor picks which of the chosen candidate's paths carry data
// (Config.Subsets): a masked categorical over the 2^P − 1 non-empty
// subsets of its P path rows, subset s being the rows of the bits of s+1.
// Subsets with a repeated row (PathMask false) are not allowed. The logit
// of subset S is
//
//	Head([mean_{j∈S} h_(i,j) ‖ h_i ‖ |S|/P]) + γ·[S = the wf split's support]
//
// with γ learned (from PriorSubsetScale, with Config.Prior). The path
// actor then splits over S only. Splitting and choosing paths are apart
// because their costs are not alike: when paths share a bottleneck link
// the best split is often one path, and a continuous split reaches it
// only by crossing worse splits (each path sharing the link halves the
// others' rate), which the policy gradient of a continuous split does not
// do. Its action is rl.Action{Index: s}.
//
// It shares the node actor's encoder (Params does not visit it) and is a
// ConditionalActor on the node actor's choice.
type SubsetActor struct {
	Config Config
	Head   *mlp.Model
	// Prior is the 1×1 weight γ of the wf-support indicator (nil without
	// Config.Prior).
	Prior *nn.Param

	node    *NodeActor
	scr     batch
	actions []rl.Action
}

// Initial value of the subset prior's scale γ (Config.Prior).
const PriorSubsetScale = 4

// PriorSupport is the smallest water-filling share counted in the wf
// split's support (cpn's default MinSplit).
const PriorSupport = 0.02

// subsetPenalty is subtracted from the logits of paths outside the subset.
const subsetPenalty = 30

// MaxSubsetPaths bounds P with Config.Subsets (2^P − 1 subsets).
const MaxSubsetPaths = 8

// NumSubsets returns the number of non-empty subsets of p path rows.
func NumSubsets(p int) int { return 1<<p - 1 }

// SubsetRows returns the path rows of subset s (bits of s+1).
func SubsetRows(s int) []int {
	var rows []int
	for m := uint(s + 1); m != 0; m &= m - 1 {
		rows = append(rows, bits.TrailingZeros(m))
	}
	return rows
}

// Params implements nn.Module: "head/…" and "prior".
func (a *SubsetActor) Params(visit func(string, *nn.Param)) {
	a.Head.Params(nn.Prefix("head", visit))
	if a.Prior != nil {
		visit("prior", a.Prior)
	}
}

func (a *SubsetActor) out(r int) []rl.Action {
	if cap(a.actions) < r {
		a.actions = make([]rl.Action, r)
	}
	return a.actions[:r]
}

// logits fills b, encodes it, selects the candidates (prev[0], or the node
// actor's mode) and returns the R × NumSubsets(P) subset logits; b.sMask
// holds the allowed subsets.
func (a *SubsetActor) logits(t *nn.Tape, b *batch, obs []cpn.Obs, prev [][]rl.Action) *nn.Tensor {
	hc, hp := a.node.prepare(t, b, obs, prev)
	return a.head(t, b, hc, hp)
}

// head returns the subset logits of the candidates chosen in b.
func (a *SubsetActor) head(t *nn.Tape, b *batch, hc, hp *nn.Tensor) *nn.Tensor {
	p, ns := b.p, NumSubsets(b.p)
	b.sIdx, b.sSeg, b.sNode = b.sIdx[:0], b.sSeg[:0], growInt(b.sNode, b.r*ns)
	b.sSize, b.sPrior = grow(b.sSize, b.r*ns), grow(b.sPrior, b.r*ns)
	b.sMask = growBool(b.sMask, b.r*ns)
	for r := 0; r < b.r; r++ {
		c := r*b.k + b.nodes[r]
		var support uint
		for j := 0; j < p; j++ {
			if b.pathMask[c*p+j] && b.pathWF[c*p+j] >= PriorSupport {
				support |= 1 << j
			}
		}
		for s := 0; s < ns; s++ {
			q := r*ns + s
			m := uint(s + 1)
			ok := true
			for j := 0; j < p; j++ {
				if m>>j&1 == 1 {
					ok = ok && b.pathMask[c*p+j]
					b.sIdx = append(b.sIdx, c*p+j)
					b.sSeg = append(b.sSeg, q)
				}
			}
			b.sMask[q] = ok
			b.sNode[q] = c
			b.sSize[q] = float32(bits.OnesCount(m)) / float32(p)
			b.sPrior[q] = 0
			if m == support {
				b.sPrior[q] = 1
			}
		}
	}
	n := b.r * ns
	x := t.ConcatCols(t.SegmentMean(t.Gather(hp, b.sIdx), b.sSeg, n), t.Gather(hc, b.sNode), t.Const(n, 1, b.sSize))
	l := a.Head.Forward(t, x)
	if a.Prior != nil {
		l = t.Add(l, t.Mul(t.Const(n, 1, b.sPrior), a.Prior.V))
	}
	return t.Reshape(l, b.r, ns)
}

// ActGiven implements agent.ConditionalActor: one allowed subset
// per observation, sampled.
func (a *SubsetActor) ActGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	b := batchFor(t, &a.scr)
	l := a.logits(t, b, obs, prev)
	b.idx = dist.NewCategorical(t, l, b.sMask).Sample(rng, b.idx)
	return a.setIndex(b.idx[:len(obs)])
}

// ModeGiven implements agent.ConditionalActor: the allowed subset of
// largest logit.
func (a *SubsetActor) ModeGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action) []rl.Action {
	b := batchFor(t, &a.scr)
	l := a.logits(t, b, obs, prev)
	b.idx = growInt(b.idx, len(obs))
	argmaxAllowed(l.Data, b.sMask, b.r, l.Cols, b.idx)
	return a.setIndex(b.idx)
}

// EvaluateGiven implements agent.ConditionalActor.
func (a *SubsetActor) EvaluateGiven(t *nn.Tape, obs []cpn.Obs, prev [][]rl.Action, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("rlms: SubsetActor.Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	b := batchFor(t, &a.scr)
	l := a.logits(t, b, obs, prev)
	idx := make([]int, len(obs))
	for i, act := range actions {
		if act.Index < 0 || act.Index >= l.Cols {
			panic(fmt.Sprintf("rlms: SubsetActor.Evaluate: subset %d outside [0,%d)", act.Index, l.Cols))
		}
		idx[i] = act.Index
	}
	c := dist.NewCategorical(t, l, b.sMask)
	return c.LogProb(idx), c.Entropy()
}

// Act, Mode and Evaluate implement agent.Actor on the node actor's
// mode.
func (a *SubsetActor) Act(t *nn.Tape, obs []cpn.Obs, rng *rand.Rand) []rl.Action {
	return a.ActGiven(t, obs, nil, rng)
}

func (a *SubsetActor) Mode(t *nn.Tape, obs []cpn.Obs) []rl.Action { return a.ModeGiven(t, obs, nil) }

func (a *SubsetActor) Evaluate(t *nn.Tape, obs []cpn.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.EvaluateGiven(t, obs, nil, actions)
}

func (a *SubsetActor) setIndex(idx []int) []rl.Action {
	acts := a.out(len(idx))
	for i, s := range idx {
		acts[i] = rl.Action{Index: s}
	}
	return acts
}
