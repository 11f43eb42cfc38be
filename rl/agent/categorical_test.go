package agent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
)

// TestCategoricalHeadByHand: logits (0, ln 2, ln 3, 9) with the last
// action masked are the probabilities 1/6, 2/6, 3/6, 0: action 2's
// log-probability is ln ½, the entropy −Σ p ln p, the mode 2, and
// samples never take the masked action and follow the probabilities.
func TestCategoricalHeadByHand(t *testing.T) {
	h := CategoricalHead[int]{Logits: func(tp *nn.Tape, obs []int) (*nn.Tensor, []bool) {
		var l []float32
		var m []bool
		for range obs {
			l = append(l, 0, float32(math.Ln2), float32(math.Log(3)), 9)
			m = append(m, true, true, true, false)
		}
		return tp.Const(len(obs), 4, l), m
	}}
	lp, ent := h.Evaluate(nn.NewInference(), []int{0}, []rl.Action{{Index: 2}})
	p := []float64{1.0 / 6, 2.0 / 6, 3.0 / 6}
	var want float64
	for _, q := range p {
		want -= q * math.Log(q)
	}
	if math.Abs(float64(lp.Data[0])-math.Log(0.5)) > 1e-6 || math.Abs(float64(ent.Data[0])-want) > 1e-6 {
		t.Fatalf("log-prob %v (want ln ½), entropy %v (want %v)", lp.Data[0], ent.Data[0], want)
	}
	if m := h.Mode(nn.NewInference(), []int{0, 1}); m[0].Index != 2 || m[1].Index != 2 {
		t.Fatalf("mode %v", m)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	count := make([]int, 4)
	for range 3000 {
		acts, lps := h.ActLogProb(nn.NewInference(), []int{0}, rng)
		count[acts[0].Index]++
		if math.Abs(float64(lps[0])-math.Log(p[acts[0].Index])) > 1e-6 {
			t.Fatalf("sampled %d with log-prob %v", acts[0].Index, lps[0])
		}
	}
	for i, q := range p {
		if math.Abs(float64(count[i])/3000-q) > 0.03 {
			t.Errorf("action %d drawn %d times in 3000, want about %.0f", i, count[i], 3000*q)
		}
	}
	if count[3] != 0 {
		t.Errorf("the masked action was drawn %d times", count[3])
	}
}
