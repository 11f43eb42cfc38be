package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// oneValue returns a single 1×1 parameter x = x0.
func oneValue(x0 float32) []nn.NamedParam {
	p := nn.NewParam(1, 1)
	p.V.Data[0] = x0
	return []nn.NamedParam{{Path: "x", Param: p}}
}

// runOne applies the gradients gs one step each (the gradient function is
// evaluated at the current x) and returns x after every step.
func runOne(o Optimizer, params []nn.NamedParam, grad func(x float64) float64, steps int) []float64 {
	var xs []float64
	for range steps {
		x := params[0].Param.V.Data[0]
		params[0].Param.V.Grad[0] = float32(grad(float64(x)))
		o.Step()
		xs = append(xs, float64(params[0].Param.V.Data[0]))
	}
	return xs
}

func checkSeq(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s: after step %d x = %.8g, want %.8g (all: %v)", what, i+1, got[i], want[i], got)
			return
		}
	}
}

// TestHandComputedVariants: the SGD and Adam variants TestHandComputed does
// not cover, from x = 1, worked out by hand.
func TestHandComputedVariants(t *testing.T) {
	t.Parallel()
	one := func(float64) float64 { return 1 }
	zero := func(float64) float64 { return 0 }

	// Nesterov, lr 0.1, μ 0.9, gradient 1:
	//   step 1: b = 1, d = 1 + 0.9·1 = 1.9, x = 1 − 0.19 = 0.81;
	//   step 2: b = 0.9·1 + 1 = 1.9, d = 1 + 0.9·1.9 = 2.71, x = 0.81 − 0.271 = 0.539;
	//   step 3: b = 0.9·1.9 + 1 = 2.71, d = 1 + 2.439 = 3.439, x = 0.539 − 0.3439 = 0.1951.
	p := oneValue(1)
	checkSeq(t, "nesterov", runOne(NewSGD(p, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true}), p, one, 3),
		[]float64{0.81, 0.539, 0.1951}, 1e-6)

	// Dampening 0.5, μ 0.9, lr 0.1, gradient 1 (no dampening on step 1):
	//   step 1: b = 1, x = 0.9; step 2: b = 0.9 + 0.5·1 = 1.4, x = 0.76;
	//   step 3: b = 1.26 + 0.5 = 1.76, x = 0.584.
	p = oneValue(1)
	checkSeq(t, "dampening", runOne(NewSGD(p, SGDConfig{LR: 0.1, Momentum: 0.9, Dampening: 0.5}), p, one, 3),
		[]float64{0.9, 0.76, 0.584}, 1e-6)

	// Plain SGD, weight decay 0.5, lr 0.1, gradient 1:
	//   step 1: d = 1 + 0.5·1 = 1.5, x = 0.85; step 2: d = 1 + 0.425 = 1.425, x = 0.7075.
	p = oneValue(1)
	checkSeq(t, "sgd weight decay", runOne(NewSGD(p, SGDConfig{LR: 0.1, WeightDecay: 0.5}), p, one, 2),
		[]float64{0.85, 0.7075}, 1e-6)

	// Momentum 0.5 with weight decay 0.5, lr 0.1, gradient 0 (pure decay):
	//   step 1: d = 0.5, b = 0.5, x = 0.95;
	//   step 2: d = 0.475, b = 0.25 + 0.475 = 0.725, x = 0.95 − 0.0725 = 0.8775.
	p = oneValue(1)
	checkSeq(t, "momentum weight decay", runOne(NewSGD(p, SGDConfig{LR: 0.1, Momentum: 0.5, WeightDecay: 0.5}), p, zero, 2),
		[]float64{0.95, 0.8775}, 1e-6)

	// Adam with L2 decay λ = 0.5, gradient 0, lr 0.01, β = (0.9, 0.999):
	//   step 1: g = 0.5, m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25, x = 1 − 0.01·0.5/0.5 = 0.99;
	//   step 2: g = 0.495, m = 0.045 + 0.0495 = 0.0945, v = 0.00024975 + 0.000245025 = 0.000494775,
	//           m̂ = 0.0945/0.19 = 0.49736842, v̂ = 0.000494775/0.001999 = 0.24751126, √v̂ = 0.49750504,
	//           x = 0.99 − 0.01·0.49736842/0.49750504 = 0.99 − 0.00999725 = 0.98000275.
	p = oneValue(1)
	checkSeq(t, "adam L2", runOne(NewAdam(p, AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5}), p, zero, 2),
		[]float64{0.99, 0.98000275}, 1e-7)

	// Adam with a gradient that changes sign, β = (0.5, 0.75), lr 0.1, ε 0:
	//   step 1: g = 2: m = 1, v = 1, m̂ = 1/0.5 = 2, v̂ = 1/0.25 = 4, x = 1 − 0.1·2/2 = 0.9;
	//   step 2: g = −1: m = 0.5 − 0.5 = 0, x unchanged 0.9;
	//   step 3: g = −1: m = −0.5, v = 0.75·(0.75 + 0.25) + 0.25 = 1,
	//           m̂ = −0.5/0.875 = −0.57142857, v̂ = 1/(1 − 0.421875) = 1.72972973, √v̂ = 1.31519190,
	//           x = 0.9 + 0.1·0.57142857/1.31519190 = 0.9 + 0.04344830 = 0.94344830.
	p = oneValue(1)
	seq := []float64{2, -1, -1}
	k := 0
	g := func(float64) float64 { k++; return seq[k-1] }
	checkSeq(t, "adam sign change", runOne(NewAdam(p, AdamConfig{LR: 0.1, Beta1: 0.5, Beta2: 0.75}), p, g, 3),
		[]float64{0.9, 0.9, 0.9434483}, 1e-7)

	// AdamW, λ = 0.5, lr 0.1, constant gradient 1, β = (0.9, 0.999):
	// the decay is applied to x before the Adam step, which moves by lr
	// (m̂ = g, v̂ = g²): x₁ = 1·0.95 − 0.1 = 0.85, x₂ = 0.85·0.95 − 0.1 = 0.7075.
	p = oneValue(1)
	checkSeq(t, "adamw", runOne(NewAdamW(p, AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5}), p, one, 2),
		[]float64{0.85, 0.7075}, 1e-6)
}

// TestAdamVectorKernel: parameters of 8 values or more go through the
// vector kernel (AVX on amd64) for their first multiple of 8 values; it is
// documented to be bit-identical to the scalar loop. A 3×7 parameter (16
// values in the vector kernel, 5 in the loop) and a 2×8 one (all 16 in the
// vector kernel) must match, bit for bit, 37 separate 1×1 parameters (all
// in the loop), and both must match the float64 reference. No other test
// has a parameter of 8 or more values.
func TestAdamVectorKernel(t *testing.T) {
	t.Parallel()
	cfgs := []struct {
		name string
		cfg  AdamConfig
		w    bool
	}{
		{"adam", AdamConfig{LR: 0.05, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1}, false},
		{"adamw", AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}, true},
	}
	for _, c := range cfgs {
		rng := rand.New(rand.NewPCG(61, 62))
		bigP := []nn.NamedParam{{Path: "a", Param: nn.NewParam(3, 7)}, {Path: "b", Param: nn.NewParam(2, 8)}}
		var small []nn.NamedParam
		for _, np := range bigP {
			for i := range np.Param.V.Data {
				v := float32(rng.NormFloat64())
				np.Param.V.Data[i] = v
				sp := nn.NewParam(1, 1)
				sp.V.Data[0] = v
				small = append(small, nn.NamedParam{Path: fmt.Sprint("s", len(small)), Param: sp})
			}
		}
		n := len(small)
		mk := func(p []nn.NamedParam) Optimizer {
			if c.w {
				return NewAdamW(p, c.cfg)
			}
			return NewAdam(p, c.cfg)
		}
		ob, os := mk(bigP), mk(small)
		ref := refAdam(c.cfg, c.w)
		x := flatten(bigP)
		for step := 1; step <= 5; step++ {
			g := make([]float64, n)
			for i := range g {
				switch i % 7 {
				case 3:
					g[i] = 0
				case 5:
					g[i] = rng.NormFloat64() * 1e-3
				default:
					g[i] = rng.NormFloat64() * 2
				}
			}
			setGrads(bigP, g)
			setGrads(small, g)
			ob.Step()
			os.Step()
			ref(x, g, step)
			got := flatten(bigP)
			for i, v := range got {
				if s := small[i].Param.V.Data[0]; float32(v) != s {
					t.Fatalf("%s step %d value %d: vector kernel %.9g, scalar loop %.9g", c.name, step, i, v, s)
				}
				if d := math.Abs(v - x[i]); !(d <= 2e-6*(1+math.Abs(x[i]))) {
					t.Fatalf("%s step %d value %d: %.9g, float64 reference %.9g", c.name, step, i, v, x[i])
				}
			}
			for _, np := range bigP {
				for i, gr := range np.Param.V.Grad {
					if gr != 0 {
						t.Fatalf("%s step %d: gradient %s[%d] = %v after Step, want 0", c.name, step, np.Path, i, gr)
					}
				}
			}
		}
	}
}

// TestValidateBoundaries: the edges of every documented range. LR, Eps,
// WeightDecay and Momentum may be exactly 0; betas may be exactly 0 but not
// 1; Dampening may be any finite number; Nesterov needs Momentum > 0 and
// Dampening == 0.
func TestValidateBoundaries(t *testing.T) {
	t.Parallel()
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []SGDConfig{
		{}, {LR: 0.1, Momentum: 0.5, Nesterov: true}, {LR: 1, Momentum: 0.9, Dampening: -0.5},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v rejected: %v", c, err)
		}
	}
	for _, c := range []SGDConfig{
		{LR: -1e-9}, {LR: inf}, {LR: nan}, {LR: 1, Momentum: -1e-9}, {LR: 1, Momentum: inf},
		{LR: 1, WeightDecay: -1e-9}, {LR: 1, Dampening: nan}, {LR: 1, Dampening: inf}, {LR: 1, Dampening: -inf},
		{LR: 1, Nesterov: true}, {LR: 1, Momentum: 0.9, Dampening: 0.1, Nesterov: true},
		{LR: 1, Momentum: 0.9, Dampening: -0.1, Nesterov: true},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	for _, c := range []AdamConfig{
		{}, {LR: 1, Beta1: 0.999999, Beta2: 0.999999, Eps: 1, WeightDecay: 1},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v rejected: %v", c, err)
		}
	}
	for _, c := range []AdamConfig{
		{LR: -1e-9}, {LR: inf}, {Beta1: 1}, {Beta1: -1e-9}, {Beta1: nan}, {Beta2: 1}, {Beta2: -1e-9}, {Beta2: nan},
		{Eps: -1e-9}, {Eps: inf}, {WeightDecay: -1e-9}, {WeightDecay: inf},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	// SetLR: 0 is a valid rate, +Inf is not.
	o := NewSGD(oneValue(1), SGDConfig{LR: 1})
	o.SetLR(0)
	if o.LR() != 0 {
		t.Errorf("SetLR(0) gave %v", o.LR())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("SetLR(+Inf) did not panic")
			}
		}()
		o.SetLR(inf)
	}()
}

// TestClipGradNormBlocks: parameters long enough for the 4-way unrolled
// sum (9 values: two blocks and a tail; 4 values: one block), every lane
// holding a value other than ±1. Squares: 4+9+36+16 + 25+4+100+4 + 36 = 234
// and 16+4+1+1 = 22, total 256, norm 16. Clipping to 4 multiplies by
// 4/(16+1e-6); clipping to 0 zeroes every gradient (0 is a valid maxNorm).
func TestClipGradNormBlocks(t *testing.T) {
	t.Parallel()
	mk := func() []nn.NamedParam {
		a, b := nn.NewParam(3, 3), nn.NewParam(1, 4)
		copy(a.V.Grad, []float32{2, 3, 6, 4, 5, 2, 10, 2, 6})
		copy(b.V.Grad, []float32{4, 2, 1, 1})
		return []nn.NamedParam{{Path: "a", Param: a}, {Path: "b", Param: b}}
	}
	ps := mk()
	if n := ClipGradNorm(ps, math.Inf(1)); n != 16 {
		t.Fatalf("norm = %v, want 16", n)
	}
	if n := ClipGradNorm(ps, 4); n != 16 {
		t.Fatalf("norm before clipping = %v, want 16", n)
	}
	c := float32(4 / (16 + 1e-6))
	for i, want := range []float32{2, 3, 6, 4, 5, 2, 10, 2, 6} {
		if got := ps[0].Param.V.Grad[i]; got != want*c {
			t.Fatalf("clipped a[%d] = %v, want %v", i, got, want*c)
		}
	}
	if n := ClipGradNorm(ps, math.Inf(1)); math.Abs(n-4) > 1e-5 {
		t.Errorf("norm after clipping to 4 = %v", n)
	}
	ps = mk()
	if n := ClipGradNorm(ps, 0); n != 16 {
		t.Fatalf("norm = %v, want 16", n)
	}
	for _, np := range ps {
		for i, g := range np.Param.V.Grad {
			if g != 0 {
				t.Fatalf("maxNorm 0 left %s[%d] = %v, want 0", np.Path, i, g)
			}
		}
	}
}

// TestGroupEdgeCases: an empty group, SetLR on every member, a fresh group
// (step 0) restored, the largest exact step count 2⁵³, and rejected step
// values (missing, negative, fractional, beyond 2⁵³).
func TestGroupEdgeCases(t *testing.T) {
	t.Parallel()
	var empty Group
	if empty.LR() != 0 || empty.StepCount() != 0 {
		t.Errorf("empty group: LR %v, StepCount %d, want 0 and 0", empty.LR(), empty.StepCount())
	}
	mk := func() Group {
		return Group{
			{Name: "actor", Opt: NewAdam(oneValue(1), DefaultAdamConfig())},
			{Name: "critic", Opt: NewSGD(oneValue(2), SGDConfig{LR: 0.5, Momentum: 0.9})},
		}
	}
	g := mk()
	g.SetLR(0.25)
	if g[0].Opt.LR() != 0.25 || g[1].Opt.LR() != 0.25 || g.LR() != 0.25 {
		t.Errorf("SetLR(0.25): member rates %v and %v", g[0].Opt.LR(), g[1].Opt.LR())
	}
	// A fresh group's state (every step 0) loads.
	fresh := mk().State()
	if err := g.LoadState(fresh); err != nil {
		t.Fatalf("loading a step-0 state: %v", err)
	}
	if g.StepCount() != 0 || g.LR() != 1e-3 {
		t.Errorf("after loading a fresh state: step %d lr %v, want 0 and 1e-3", g.StepCount(), g.LR())
	}
	clone := func(s State) State {
		c := State{Kind: s.Kind, Step: s.Step, Hyper: map[string]float64{}, Buffers: s.Buffers}
		for k, v := range s.Hyper {
			c.Hyper[k] = v
		}
		return c
	}
	big := clone(fresh)
	big.Hyper["actor/step"], big.Hyper["critic/step"] = 1<<53, 1<<53
	if err := g.LoadState(big); err != nil {
		t.Fatalf("step 2⁵³ rejected: %v", err)
	}
	if g.StepCount() != 1<<53 || g[1].Opt.StepCount() != 1<<53 {
		t.Errorf("steps %d and %d after loading 2⁵³", g.StepCount(), g[1].Opt.StepCount())
	}
	for name, edit := range map[string]func(State){
		"missing step":    func(s State) { delete(s.Hyper, "critic/step") },
		"negative step":   func(s State) { s.Hyper["actor/step"] = -1 },
		"fractional step": func(s State) { s.Hyper["actor/step"] = 2.5 },
		"step above 2⁵³":  func(s State) { s.Hyper["actor/step"] = 1<<53 + 2 },
		"missing kind":    func(s State) { delete(s.Hyper, "actor/kind:adam") },
	} {
		bad := clone(fresh)
		edit(bad)
		if err := g.LoadState(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestScheduleEdges: StepDecay decaying every single step and Linear over a
// single step (the smallest valid Every and Total).
func TestScheduleEdges(t *testing.T) {
	t.Parallel()
	// Every = 1: 1·0.5³ = 0.125 at step 3.
	if got := (StepDecay{Base: 1, Gamma: 0.5, Every: 1}).LR(3); got != 0.125 {
		t.Errorf("StepDecay every step, LR(3) = %v, want 0.125", got)
	}
	// Total = 1: Base at step 0, End from step 1.
	l := Linear{Base: 1, End: 0.2, Total: 1}
	if l.LR(0) != 1 || l.LR(1) != 0.2 {
		t.Errorf("Linear over one step: LR(0) = %v, LR(1) = %v, want 1 and 0.2", l.LR(0), l.LR(1))
	}
}
