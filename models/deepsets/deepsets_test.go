package deepsets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	nnds "github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
)

// mlp64 evaluates m on x in float64 from its weights (ReLU hidden, OutAct
// ReLU when relu), independently of the engine.
func mlp64(m *mlp.Model, x []float64, reluOut bool) []float64 {
	for li, l := range m.Layers {
		in, out := l.Config.In, l.Config.Out
		y := make([]float64, out)
		for o := 0; o < out; o++ {
			s := float64(l.B.V.Data[o])
			for i := 0; i < in; i++ {
				s += x[i] * float64(l.W.V.Data[i*out+o])
			}
			if li+1 < len(m.Layers) || reluOut {
				s = math.Max(s, 0)
			}
			y[o] = s
		}
		x = y
	}
	return x
}

func obsOf(g float32, elems ...[2]float32) testenv.Items {
	o := testenv.Items{N: len(elems), ElemDim: 2, G: []float32{g}, Mask: make([]bool, 6)}
	for i, e := range elems {
		o.X = append(o.X, e[0], e[1])
		o.Mask[i] = true
	}
	return o
}

// TestForwardKnownValues: the actor's logits, the critic's value and the
// Q-values equal a float64 re-computation from the weights —
// φ_i = φ([x_i ‖ g]), c = ρ(mean_i φ_i) (sum with Pool = Sum),
// logit_i = ψ([φ_i ‖ c]), V = v(c) — for a batch of two sets of sizes 3
// and 1, with absent elements masked (−Inf log-probability) and zero.
func TestForwardKnownValues(t *testing.T) {
	for _, pool := range []nnds.Pooling{Mean, Sum, ""} { // "" is the default: mean
		cfg := Config{ElemDim: 2, GlobalDim: 1, MaxElems: 6, Dim: 5, Pool: pool}
		rng := rand.New(rand.NewPCG(3, 4))
		a, c, q := NewActor[testenv.Items](cfg, rng), NewCritic[testenv.Items](cfg, rng), NewQNet[testenv.Items](cfg, rng)
		obs := []testenv.Items{obsOf(0.3, [2]float32{0.2, 1.5}, [2]float32{0.9, 0.6}, [2]float32{-0.4, 1.1}), obsOf(-0.7, [2]float32{0.5, 0.5})}
		tp := nn.NewInference()
		logits, mask := a.Logits(tp, obs)
		v := c.Value(tp, obs)
		qv := q.QValues(tp, obs)
		ref := func(e *Encoder, o testenv.Items) (phis [][]float64, ctx []float64) {
			pooled := make([]float64, cfg.Dim)
			for i := 0; i < o.N; i++ {
				x := []float64{float64(o.X[2*i]), float64(o.X[2*i+1]), float64(o.G[0])}
				p := mlp64(e.Layer.Phi, x, true)
				phis = append(phis, p)
				for k := range p {
					pooled[k] += p[k]
				}
			}
			if pool != Sum {
				for k := range pooled {
					pooled[k] /= float64(o.N)
				}
			}
			return phis, mlp64(e.Layer.Rho, pooled, true)
		}
		for r, o := range obs {
			phis, ctx := ref(a.Enc, o)
			qphis, qctx := ref(q.Enc, o)
			_, cctx := ref(c.Enc, o)
			for i := 0; i < 6; i++ {
				got, gotQ := float64(logits.Data[r*6+i]), float64(qv.Data[r*6+i])
				if i >= o.N {
					if mask[r*6+i] || got != 0 || gotQ != 0 {
						t.Errorf("%s: obs %d slot %d absent: mask %v, logit %v, Q %v", pool, r, i, mask[r*6+i], got, gotQ)
					}
					continue
				}
				want := mlp64(a.Head, append(append([]float64(nil), phis[i]...), ctx...), false)[0]
				wantQ := mlp64(q.Head, append(append([]float64(nil), qphis[i]...), qctx...), false)[0]
				if !mask[r*6+i] || math.Abs(got-want) > 1e-5 || math.Abs(gotQ-wantQ) > 1e-5 {
					t.Errorf("%s: obs %d elem %d: logit %v want %v, Q %v want %v, mask %v", pool, r, i, got, want, gotQ, wantQ, mask[r*6+i])
				}
			}
			if want := mlp64(c.Head, cctx, false)[0]; math.Abs(float64(v.Data[r])-want) > 1e-5 {
				t.Errorf("%s: V(obs %d) = %v, want %v", pool, r, v.Data[r], want)
			}
		}
	}
}

// TestPermutationEquivariance: permuting a set's elements permutes the
// logits and Q-values the same way and leaves V unchanged (sum pooling
// included), and the log-probability of "the same element" is unchanged.
func TestPermutationEquivariance(t *testing.T) {
	for _, pool := range []nnds.Pooling{Sum, Max, Attention} {
		equivariance(t, pool)
	}
}

func equivariance(t *testing.T, pool nnds.Pooling) {
	cfg := Config{ElemDim: 2, GlobalDim: 1, MaxElems: 6, Dim: 8, Pool: pool}
	rng := rand.New(rand.NewPCG(5, 6))
	ag := NewAgent[testenv.Items](cfg, rng)
	q := NewQNet[testenv.Items](cfg, rng)
	e := [][2]float32{{0.1, 0.7}, {0.8, 1.9}, {0.4, 0.9}, {0.6, 1.2}}
	perm := []int{2, 0, 3, 1} // element perm[k] goes to slot k
	pe := make([][2]float32, len(e))
	for k, i := range perm {
		pe[k] = e[i]
	}
	o1, o2 := obsOf(0.5, e...), obsOf(0.5, pe...)
	tp := nn.NewInference()
	l1, _ := ag.Actors[0].(*Actor[testenv.Items]).Logits(tp, []testenv.Items{o1})
	l2, _ := ag.Actors[0].(*Actor[testenv.Items]).Logits(tp, []testenv.Items{o2})
	q1, q2 := q.QValues(tp, []testenv.Items{o1}), q.QValues(tp, []testenv.Items{o2})
	v1, v2 := ag.Critic.Value(tp, []testenv.Items{o1}), ag.Critic.Value(tp, []testenv.Items{o2})
	for k, i := range perm {
		if d := math.Abs(float64(l2.Data[k] - l1.Data[i])); d > 1e-5 {
			t.Errorf("logit of element %d moved to slot %d: %v vs %v", i, k, l2.Data[k], l1.Data[i])
		}
		if d := math.Abs(float64(q2.Data[k] - q1.Data[i])); d > 1e-5 {
			t.Errorf("Q of element %d moved to slot %d: %v vs %v", i, k, q2.Data[k], q1.Data[i])
		}
	}
	if d := math.Abs(float64(v1.Data[0] - v2.Data[0])); d > 1e-5 {
		t.Errorf("V changed under permutation: %v vs %v", v1.Data[0], v2.Data[0])
	}
	lp1, _ := ag.Actors[0].Evaluate(tp, []testenv.Items{o1}, []rl.Action{{Index: 3}})
	lp2, _ := ag.Actors[0].Evaluate(tp, []testenv.Items{o2}, []rl.Action{{Index: 2}}) // element 3 is in slot 2
	if d := math.Abs(float64(lp1.Data[0] - lp2.Data[0])); d > 1e-5 {
		t.Errorf("log π of the same element: %v vs %v", lp1.Data[0], lp2.Data[0])
	}
}

// TestMisuse: bad configs and observations fail clearly.
func TestMisuse(t *testing.T) {
	for _, c := range []Config{{ElemDim: 0, MaxElems: 2, Dim: 1}, {ElemDim: 1, MaxElems: 0, Dim: 1}, {ElemDim: 1, MaxElems: 2, Dim: 1, Pool: "median"}} {
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
	cfg := Config{ElemDim: 2, GlobalDim: 1, MaxElems: 2, Dim: 3}
	a := NewActor[testenv.Items](cfg, rand.New(rand.NewPCG(1, 1)))
	for name, o := range map[string]testenv.Items{
		"too many elements": obsOf(0, [2]float32{}, [2]float32{}, [2]float32{}),
		"empty set":         obsOf(0),
		"global features":   {N: 1, ElemDim: 2, X: []float32{1, 2}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			a.Logits(nn.NewInference(), []testenv.Items{o})
		}()
	}
	if _, err := QBuilder[testenv.Items](cfg)(obsOf(0, [2]float32{}), rl.Space{Kind: rl.Discrete, N: 3}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a Q-function for 2 elements accepted 3 actions")
	}
}
