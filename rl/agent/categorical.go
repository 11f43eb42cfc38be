package agent

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/rl"
)

// CategoricalHead is the sampling, mode and evaluation of a masked
// categorical policy over R×A logits, for actors that are "scores, a
// mask, a softmax": an actor sets Logits and forwards Act, ActLogProb,
// Mode and Evaluate to it. Its scratch buffers make it unsafe for
// concurrent Act / ActLogProb / Mode calls; Evaluate keeps none.
type CategoricalHead[O any] struct {
	// Logits returns the R×A logits of obs and the R·A mask of allowed
	// actions (row-major).
	Logits func(t *nn.Tape, obs []O) (*nn.Tensor, []bool)

	idx  []int
	acts []rl.Action
	logp []float32
}

// ActLogProb samples one action per observation and returns its
// log-probability (both reused by the next call).
func (h *CategoricalHead[O]) ActLogProb(t *nn.Tape, obs []O, rng *rand.Rand) ([]rl.Action, []float32) {
	logits, mask := h.Logits(t, obs)
	c := dist.NewCategorical(t, logits, mask)
	h.idx = c.Sample(rng, h.idx)
	lps, n := c.LogProbs(), logits.Cols
	h.acts, h.logp = h.acts[:0], h.logp[:0]
	for r, i := range h.idx {
		h.acts = append(h.acts, rl.Action{Index: i})
		h.logp = append(h.logp, lps.Data[r*n+i])
	}
	return h.acts, h.logp
}

// Act samples one action per observation.
func (h *CategoricalHead[O]) Act(t *nn.Tape, obs []O, rng *rand.Rand) []rl.Action {
	acts, _ := h.ActLogProb(t, obs, rng)
	return acts
}

// Mode returns the most probable allowed action per observation.
func (h *CategoricalHead[O]) Mode(t *nn.Tape, obs []O) []rl.Action {
	logits, mask := h.Logits(t, obs)
	h.idx = dist.NewCategorical(t, logits, mask).Mode(h.idx)
	h.acts = h.acts[:0]
	for _, i := range h.idx {
		h.acts = append(h.acts, rl.Action{Index: i})
	}
	return h.acts
}

// Evaluate returns the R×1 log-probabilities of actions and the R×1
// entropies.
func (h *CategoricalHead[O]) Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("agent: Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	logits, mask := h.Logits(t, obs)
	c := dist.NewCategorical(t, logits, mask)
	idx := make([]int, len(actions))
	for i, a := range actions {
		idx[i] = a.Index
	}
	return c.LogProb(idx), c.Entropy()
}
