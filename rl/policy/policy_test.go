package policy_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

type vec = testenv.Vec

func TestParamsAndInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := policy.New[vec](4, rl.Space{Kind: rl.Box, N: 2}, policy.DefaultConfig(), rng)
	want := []string{"actor/0/b", "actor/0/w", "actor/1/b", "actor/1/w", "actor/2/b", "actor/2/w",
		"critic/0/b", "critic/0/w", "critic/1/b", "critic/1/w", "critic/2/b", "critic/2/w", "log_std"}
	got := nn.ParamPaths(p)
	if len(got) != len(want) {
		t.Fatalf("paths %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("paths %v, want %v", got, want)
		}
	}
	// Hidden weights: orthogonal columns or rows with gain √2.
	w := p.Actor.Layers[1].W.V // 64×64
	for i := 0; i < 64; i++ {
		for j := 0; j < 64; j++ {
			var d float64
			for k := 0; k < 64; k++ {
				d += float64(w.At(k, i)) * float64(w.At(k, j))
			}
			want := 0.0
			if i == j {
				want = 2
			}
			if math.Abs(d-want) > 1e-4 {
				t.Fatalf("WᵀW[%d,%d] = %v, want %v", i, j, d, want)
			}
		}
	}
}

func TestMaskedNeverSampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := policy.New[vec](2, rl.Space{Kind: rl.Discrete, N: 4}, policy.DefaultConfig(), rng)
	obs := []vec{
		{X: []float32{1, 0}, Mask: []bool{false, true, false, true}},
		{X: []float32{0, 1}}, // no mask: everything allowed
		{X: []float32{1, 1}, Mask: []bool{false, false, true, false}},
	}
	tape := nn.NewInference()
	seen := map[int]bool{}
	for range 2000 {
		tape.Reset()
		acts, lp, _ := p.Act(tape, obs, rng)
		if a := acts[0].Index; a != 1 && a != 3 {
			t.Fatalf("masked action %d sampled", a)
		}
		if acts[2].Index != 2 || math.Abs(float64(lp[2])) > 1e-6 {
			t.Fatalf("single allowed action: got %d with log-prob %v", acts[2].Index, lp[2])
		}
		seen[acts[1].Index] = true
	}
	if len(seen) != 4 {
		t.Errorf("unmasked observation sampled only %v", seen)
	}
}

// Act's log-probabilities and values agree with Evaluate's, for every head.
func TestActMatchesEvaluate(t *testing.T) {
	for _, space := range []rl.Space{{Kind: rl.Discrete, N: 3}, {Kind: rl.Box, N: 2}, {Kind: rl.Simplex, N: 3}} {
		rng := rand.New(rand.NewPCG(5, 6))
		p := policy.New[vec](3, space, policy.DefaultConfig(), rng)
		obs := []vec{{X: []float32{0.1, -0.2, 0.3}}, {X: []float32{1, 2, 3}}}
		inf := nn.NewInference()
		acts, lp, v := p.Act(inf, obs, rng)
		acts = append([]rl.Action(nil), acts...)
		lp, v = append([]float32(nil), lp...), append([]float32(nil), v...)
		tape := nn.NewTape()
		elp, ent, ev := p.Evaluate(tape, obs, acts)
		for i := range obs {
			if math.Abs(float64(elp.Data[i]-lp[i])) > 1e-4 || math.Abs(float64(ev.Data[i]-v[i])) > 1e-6 {
				t.Errorf("%v row %d: Evaluate (%v, %v) vs Act (%v, %v)", space.Kind, i, elp.Data[i], ev.Data[i], lp[i], v[i])
			}
			if math.IsNaN(float64(ent.Data[i])) {
				t.Errorf("%v: NaN entropy", space.Kind)
			}
		}
		// Gradients flow into every parameter.
		tape.Backward(tape.Add(tape.Sum(elp), tape.Add(tape.Sum(ent), tape.Sum(ev))))
		for _, np := range nn.Collect(p) {
			var s float64
			for _, g := range np.Param.V.Grad {
				s += math.Abs(float64(g))
			}
			if s == 0 && np.Path != "actor/2/b" {
				t.Errorf("%v: no gradient for %s", space.Kind, np.Path)
			}
		}
		if space.Kind == rl.Simplex {
			for _, a := range acts {
				if err := rl.CheckAction(space, a, nil); err != nil {
					t.Errorf("sampled split invalid: %v", err)
				}
			}
		}
		m := p.Mode(inf, obs)
		if err := rl.CheckAction(space, m[0], nil); err != nil {
			t.Errorf("%v mode invalid: %v", space.Kind, err)
		}
	}
}
