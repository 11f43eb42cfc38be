package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// testModel is a tiny module with two parameters.
type testModel struct {
	W, B *nn.Param
}

func (m *testModel) Params(visit func(string, *nn.Param)) {
	visit("layer/w", m.W)
	visit("layer/b", m.B)
}

// newTestModel returns a 2×3 weight and a 1×3 bias filled from seed.
func newTestModel(seed uint64) *testModel {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &testModel{W: nn.NewParam(2, 3), B: nn.NewParam(1, 3)}
	for _, p := range []*nn.Param{m.W, m.B} {
		for i := range p.V.Data {
			p.V.Data[i] = float32(rng.Float64()*4 - 2)
		}
	}
	return m
}

// quadratic is f(x) = Σ ½·a_k·(x_k - c_k)² over all values of a model,
// flattened in Collect order.
type quadratic struct{ a, c []float64 }

func newQuadratic(n int) quadratic {
	q := quadratic{a: make([]float64, n), c: make([]float64, n)}
	for k := range n {
		q.a[k] = 0.5 + 0.25*float64(k%4)
		q.c[k] = float64(k%5)*0.3 - 0.6
	}
	return q
}

func (q quadratic) value(x []float64) float64 {
	var f float64
	for k, v := range x {
		d := v - q.c[k]
		f += 0.5 * q.a[k] * d * d
	}
	return f
}

func (q quadratic) grad(x []float64) []float64 {
	g := make([]float64, len(x))
	for k, v := range x {
		g[k] = q.a[k] * (v - q.c[k])
	}
	return g
}

// flatten returns the values of params as float64, in order.
func flatten(params []nn.NamedParam) []float64 {
	var out []float64
	for _, np := range params {
		for _, v := range np.Param.V.Data {
			out = append(out, float64(v))
		}
	}
	return out
}

// setGrads writes g (flattened) into the gradients of params.
func setGrads(params []nn.NamedParam, g []float64) {
	k := 0
	for _, np := range params {
		for i := range np.Param.V.Grad {
			np.Param.V.Grad[i] = float32(g[k])
			k++
		}
	}
}

// refStep is a float64 reference update; t counts from 1.
type refStep func(x, g []float64, t int)

// refSGD is torch.optim.SGD's update written out in float64.
func refSGD(c SGDConfig) refStep {
	var buf []float64
	return func(x, g []float64, t int) {
		if buf == nil {
			buf = make([]float64, len(x))
		}
		for k := range x {
			d := g[k] + c.WeightDecay*x[k]
			if c.Momentum != 0 {
				if t == 1 {
					buf[k] = d
				} else {
					buf[k] = c.Momentum*buf[k] + (1-c.Dampening)*d
				}
				if c.Nesterov {
					d += c.Momentum * buf[k]
				} else {
					d = buf[k]
				}
			}
			x[k] -= c.LR * d
		}
	}
}

// refAdam is Adam (decoupled=false) or AdamW written out in float64 from
// Kingma & Ba's Algorithm 1 with PyTorch's placement of ε.
func refAdam(c AdamConfig, decoupled bool) refStep {
	var m, v []float64
	return func(x, g []float64, t int) {
		if m == nil {
			m, v = make([]float64, len(x)), make([]float64, len(x))
		}
		for k := range x {
			gk := g[k]
			if decoupled {
				x[k] *= 1 - c.LR*c.WeightDecay
			} else {
				gk += c.WeightDecay * x[k]
			}
			m[k] = c.Beta1*m[k] + (1-c.Beta1)*gk
			v[k] = c.Beta2*v[k] + (1-c.Beta2)*gk*gk
			mhat := m[k] / (1 - math.Pow(c.Beta1, float64(t)))
			vhat := v[k] / (1 - math.Pow(c.Beta2, float64(t)))
			// PyTorch adds ε to √v/√(1-β2ᵗ), which is √vhat.
			x[k] -= c.LR * mhat / (math.Sqrt(vhat) + c.Eps)
		}
	}
}

type optCase struct {
	name string
	make func([]nn.NamedParam) Optimizer
	ref  func() refStep
}

func optCases() []optCase {
	sgd := func(c SGDConfig) optCase {
		return optCase{
			name: fmt.Sprintf("sgd%+v", c),
			make: func(p []nn.NamedParam) Optimizer { return NewSGD(p, c) },
			ref:  func() refStep { return refSGD(c) },
		}
	}
	adam := func(c AdamConfig, w bool) optCase {
		name := "adam"
		if w {
			name = "adamw"
		}
		return optCase{
			name: fmt.Sprintf("%s%+v", name, c),
			make: func(p []nn.NamedParam) Optimizer {
				if w {
					return NewAdamW(p, c)
				}
				return NewAdam(p, c)
			},
			ref: func() refStep { return refAdam(c, w) },
		}
	}
	return []optCase{
		sgd(SGDConfig{LR: 0.1}),
		sgd(SGDConfig{LR: 0.1, WeightDecay: 0.01}),
		sgd(SGDConfig{LR: 0.05, Momentum: 0.9}),
		sgd(SGDConfig{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 0.02}),
		sgd(SGDConfig{LR: 0.05, Momentum: 0.8, Nesterov: true}),
		adam(DefaultAdamConfig(), false),
		adam(AdamConfig{LR: 0.05, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1}, false),
		adam(AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}, true),
		adam(DefaultAdamWConfig(), true),
	}
}

// TestAgainstReference runs a few steps on a quadratic and compares every
// value with the float64 reference update.
func TestAgainstReference(t *testing.T) {
	t.Parallel()
	for _, tc := range optCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params := nn.Collect(newTestModel(1))
			q := newQuadratic(9)
			opt := tc.make(params)
			ref := tc.ref()
			x := flatten(params)
			for step := 1; step <= 6; step++ {
				setGrads(params, q.grad(flatten(params)))
				gref := q.grad(x)
				opt.Step()
				ref(x, gref, step)
				got := flatten(params)
				for k := range x {
					if d := math.Abs(got[k] - x[k]); d > 2e-6*(1+math.Abs(x[k])) {
						t.Fatalf("step %d, value %d: got %.9g, reference %.9g (diff %.3g)", step, k, got[k], x[k], d)
					}
				}
				for _, np := range params {
					for i, g := range np.Param.V.Grad {
						if g != 0 {
							t.Fatalf("step %d: gradient %s[%d] = %v after Step, want 0", step, np.Path, i, g)
						}
					}
				}
			}
			if opt.StepCount() != 6 {
				t.Errorf("StepCount = %d, want 6", opt.StepCount())
			}
		})
	}
}

// TestHandComputed checks first steps against numbers worked out by hand.
func TestHandComputed(t *testing.T) {
	t.Parallel()
	one := func() []nn.NamedParam {
		p := nn.NewParam(1, 1)
		p.V.Data[0] = 1
		return []nn.NamedParam{{Path: "x", Param: p}}
	}
	// SGD momentum 0.9, lr 0.1, constant gradient 1:
	// b = 1, x = 0.9; b = 1.9, x = 0.71; b = 2.71, x = 0.439.
	params := one()
	sgd := NewSGD(params, SGDConfig{LR: 0.1, Momentum: 0.9})
	for i, want := range []float64{0.9, 0.71, 0.439} {
		params[0].Param.V.Grad[0] = 1
		sgd.Step()
		if got := float64(params[0].Param.V.Data[0]); math.Abs(got-want) > 1e-6 {
			t.Errorf("sgd step %d: x = %v, want %v", i+1, got, want)
		}
	}
	// Adam's first step moves every value by lr·g/(|g|+ε) ≈ lr regardless of
	// the gradient's scale; with a constant gradient every step moves by
	// (almost exactly) lr, since m̂ = g and v̂ = g².
	params = one()
	adam := NewAdam(params, AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	for i, want := range []float64{0.99, 0.98, 0.97} {
		params[0].Param.V.Grad[0] = 250
		adam.Step()
		if got := float64(params[0].Param.V.Data[0]); math.Abs(got-want) > 1e-6 {
			t.Errorf("adam step %d: x = %v, want %v", i+1, got, want)
		}
	}
	// AdamW with zero gradient only decays: x ← x·(1 - lr·λ) = 1·(1 - 0.1·0.5).
	params = one()
	adamw := NewAdamW(params, AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5})
	adamw.Step()
	if got := params[0].Param.V.Data[0]; got != 0.95 {
		t.Errorf("adamw decay: x = %v, want 0.95", got)
	}
}

// TestMinimise checks that every optimizer drives the quadratic to its
// minimum (weight decay excluded, since it moves the minimum). A frozen
// optimizer (no update, or a zero learning rate) keeps the loss at its
// start value, a ratio of 1; the bar is a reduction by 10⁶.
func TestMinimise(t *testing.T) {
	t.Parallel()
	cases := map[string]func([]nn.NamedParam) Optimizer{
		"sgd":      func(p []nn.NamedParam) Optimizer { return NewSGD(p, SGDConfig{LR: 0.1}) },
		"momentum": func(p []nn.NamedParam) Optimizer { return NewSGD(p, SGDConfig{LR: 0.05, Momentum: 0.9}) },
		"nesterov": func(p []nn.NamedParam) Optimizer {
			return NewSGD(p, SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true})
		},
		"adam": func(p []nn.NamedParam) Optimizer {
			return NewAdam(p, AdamConfig{LR: 0.02, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
		},
		"adamw": func(p []nn.NamedParam) Optimizer {
			return NewAdamW(p, AdamConfig{LR: 0.02, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			params := nn.Collect(newTestModel(3))
			q := newQuadratic(9)
			opt := mk(params)
			start := q.value(flatten(params))
			sched := Cosine{Base: opt.LR(), Min: opt.LR() / 100, Total: 1500}
			for range 1500 {
				ApplySchedule(opt, sched)
				setGrads(params, q.grad(flatten(params)))
				opt.Step()
			}
			end := q.value(flatten(params))
			if !(end < 1e-6*start) {
				t.Errorf("loss %g → %g, want below %g", start, end, 1e-6*start)
			}
		})
	}
}

// TestStateRoundTrip checks that State → LoadState into a fresh optimizer
// gives bit-identical subsequent steps, and that State is a deep copy.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range optCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := newQuadratic(9)
			pa := nn.Collect(newTestModel(5))
			a := tc.make(pa)
			for range 3 {
				setGrads(pa, q.grad(flatten(pa)))
				a.Step()
			}
			a.SetLR(a.LR() * 0.5)
			st := a.State()

			// A fresh model with the same values and a fresh optimizer
			// built with a different learning rate: LoadState restores it.
			mb := newTestModel(99)
			pb := nn.Collect(mb)
			for i := range pa {
				copy(pb[i].Param.V.Data, pa[i].Param.V.Data)
			}
			b := tc.make(pb)
			b.SetLR(123)
			if err := b.LoadState(st); err != nil {
				t.Fatal(err)
			}
			if b.StepCount() != 3 || b.LR() != a.LR() {
				t.Fatalf("after LoadState: step %d lr %v, want 3 and %v", b.StepCount(), b.LR(), a.LR())
			}
			// Mutating the snapshot must not affect either optimizer.
			for _, buf := range st.Buffers {
				for i := range buf.Data {
					buf.Data[i] = 1e9
				}
			}
			for range 4 {
				setGrads(pa, q.grad(flatten(pa)))
				setGrads(pb, q.grad(flatten(pb)))
				a.Step()
				b.Step()
			}
			xa, xb := flatten(pa), flatten(pb)
			for k := range xa {
				if xa[k] != xb[k] {
					t.Fatalf("value %d: %v after round trip, %v without", k, xb[k], xa[k])
				}
			}
		})
	}
}

// TestStateKeys checks buffer names and hyper-parameter names.
func TestStateKeys(t *testing.T) {
	t.Parallel()
	params := nn.Collect(newTestModel(1))
	st := NewAdamW(params, DefaultAdamWConfig()).State()
	want := []string{"layer/b/exp_avg", "layer/b/exp_avg_sq", "layer/w/exp_avg", "layer/w/exp_avg_sq"}
	if got := st.BufferKeys(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("adamw buffers %v, want %v", got, want)
	}
	if st.Kind != "adamw" || st.Hyper["weight_decay"] != 0.01 || st.Buffers["layer/w/exp_avg"].Rows != 2 {
		t.Errorf("adamw state %+v", st)
	}
	st = NewSGD(params, SGDConfig{LR: 1}).State()
	if len(st.Buffers) != 0 || st.Kind != "sgd" || st.Hyper["nesterov"] != 0 {
		t.Errorf("plain sgd state %+v, want no buffers", st)
	}
	st = NewSGD(params, SGDConfig{LR: 1, Momentum: 0.5, Nesterov: true}).State()
	if got := st.BufferKeys(); fmt.Sprint(got) != "[layer/b/momentum_buffer layer/w/momentum_buffer]" || st.Hyper["nesterov"] != 1 {
		t.Errorf("momentum sgd state %v %v", got, st.Hyper)
	}
}

// TestLoadStateErrors checks each rejection, the buffer it names, and that
// a rejected state leaves the optimizer unchanged.
func TestLoadStateErrors(t *testing.T) {
	t.Parallel()
	params := nn.Collect(newTestModel(1))
	q := newQuadratic(9)
	src := NewAdam(params, DefaultAdamConfig())
	setGrads(params, q.grad(flatten(params)))
	src.Step()
	good := src.State()

	clone := func(s State) State {
		c := State{Kind: s.Kind, Step: s.Step, Hyper: map[string]float64{}, Buffers: map[string]*nn.Tensor{}}
		for k, v := range s.Hyper {
			c.Hyper[k] = v
		}
		for k, v := range s.Buffers {
			c.Buffers[k] = v.Clone()
		}
		return c
	}
	cases := []struct {
		name, buffer, msg string
		edit              func(*State)
	}{
		{"kind", "", `kind "adamw"`, func(s *State) { s.Kind = "adamw" }},
		{"negative step", "", "negative step", func(s *State) { s.Step = -1 }},
		{"missing hyper", "", `missing hyper-parameter "beta2"`, func(s *State) { delete(s.Hyper, "beta2") }},
		{"unknown hyper", "", `unknown hyper-parameter "momentum"`, func(s *State) { s.Hyper["momentum"] = 0.9 }},
		{"bad beta", "", "beta1", func(s *State) { s.Hyper["beta1"] = 1 }},
		{"nan lr", "", `"lr" is NaN`, func(s *State) { s.Hyper["lr"] = math.NaN() }},
		{"missing buffer", "layer/w/exp_avg_sq", "missing", func(s *State) { delete(s.Buffers, "layer/w/exp_avg_sq") }},
		{"nil buffer", "layer/b/exp_avg", "missing", func(s *State) { s.Buffers["layer/b/exp_avg"] = nil }},
		{"extra buffer", "layer/z/exp_avg", "unexpected", func(s *State) { s.Buffers["layer/z/exp_avg"] = nn.New(1, 1) }},
		{"shape", "layer/w/exp_avg", "shape 3×2", func(s *State) { s.Buffers["layer/w/exp_avg"] = nn.New(3, 2) }},
		{"short data", "layer/b/exp_avg", "with 2 values", func(s *State) {
			s.Buffers["layer/b/exp_avg"] = &nn.Tensor{Rows: 1, Cols: 3, Data: make([]float32, 2)}
		}},
		{"nan buffer", "layer/w/exp_avg", "non-finite", func(s *State) { s.Buffers["layer/w/exp_avg"].Data[4] = float32(math.NaN()) }},
		{"negative second moment", "layer/b/exp_avg_sq", "negative", func(s *State) { s.Buffers["layer/b/exp_avg_sq"].Data[1] = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := NewAdam(nn.Collect(newTestModel(1)), AdamConfig{LR: 0.5, Beta1: 0.5, Beta2: 0.5})
			before := dst.State()
			bad := clone(good)
			tc.edit(&bad)
			err := dst.LoadState(bad)
			var se *StateError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *StateError", err)
			}
			if se.Buffer != tc.buffer || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q (buffer %q), want buffer %q and message containing %q", err, se.Buffer, tc.buffer, tc.msg)
			}
			if tc.buffer != "" && !strings.Contains(err.Error(), tc.buffer) {
				t.Errorf("error %q does not name the buffer", err)
			}
			after := dst.State()
			if after.Step != before.Step || fmt.Sprint(after.Hyper) != fmt.Sprint(before.Hyper) {
				t.Errorf("optimizer changed by a rejected state")
			}
			for k, b := range before.Buffers {
				for i := range b.Data {
					if after.Buffers[k].Data[i] != b.Data[i] {
						t.Fatalf("buffer %s changed by a rejected state", k)
					}
				}
			}
		})
	}
	// SGD: buffers are expected exactly when momentum != 0.
	sgd := NewSGD(params, SGDConfig{LR: 0.1})
	st := NewSGD(params, SGDConfig{LR: 0.1, Momentum: 0.9}).State()
	if err := sgd.LoadState(st); err != nil {
		t.Errorf("sgd: loading a momentum state into a plain SGD: %v", err)
	}
	st.Hyper["momentum"] = 0
	if err := sgd.LoadState(st); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("sgd: momentum buffers without momentum: got %v", err)
	}
	st = NewSGD(params, SGDConfig{LR: 0.1}).State()
	st.Hyper["nesterov"] = 0.5
	if err := sgd.LoadState(st); err == nil || !strings.Contains(err.Error(), "nesterov") {
		t.Errorf("sgd: nesterov 0.5: got %v", err)
	}
	st.Hyper["nesterov"] = 1
	if err := sgd.LoadState(st); err == nil || !strings.Contains(err.Error(), "Nesterov momentum requires") {
		t.Errorf("sgd: nesterov without momentum: got %v", err)
	}
}

// TestPanics checks that misuse panics with an "optim:" message.
func TestPanics(t *testing.T) {
	t.Parallel()
	m := newTestModel(1)
	noGrad := &nn.Param{V: nn.New(2, 2)}
	cases := map[string]func(){
		"bad sgd config":  func() { NewSGD(nn.Collect(m), SGDConfig{LR: -1}) },
		"bad adam config": func() { NewAdam(nn.Collect(m), AdamConfig{LR: 1, Beta1: 1}) },
		"nesterov":        func() { NewSGD(nn.Collect(m), SGDConfig{LR: 1, Nesterov: true}) },
		"duplicate path": func() {
			NewAdam([]nn.NamedParam{{Path: "a", Param: m.W}, {Path: "a", Param: m.B}}, DefaultAdamConfig())
		},
		"same param twice": func() {
			NewAdam([]nn.NamedParam{{Path: "a", Param: m.W}, {Path: "b", Param: m.W}}, DefaultAdamConfig())
		},
		"nil param":   func() { NewSGD([]nn.NamedParam{{Path: "a"}}, SGDConfig{LR: 1}) },
		"no gradient": func() { NewSGD([]nn.NamedParam{{Path: "a", Param: noGrad}}, SGDConfig{LR: 1}) },
		"negative lr": func() { NewAdamW(nn.Collect(m), DefaultAdamWConfig()).SetLR(-1) },
		"nan lr":      func() { NewSGD(nn.Collect(m), SGDConfig{LR: 1}).SetLR(math.NaN()) },
		"resized": func() {
			mm := newTestModel(1)
			o := NewAdam(nn.Collect(mm), DefaultAdamConfig())
			mm.B.V = nn.New(1, 4)
			mm.B.V.SetRequiresGrad(true)
			o.Step()
		},
		"clip maxNorm": func() { ClipGradNorm(nn.Collect(m), -1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "optim: ") {
					t.Errorf("recovered %#v, want a string starting with %q", r, "optim: ")
				}
			}()
			f()
		})
	}
}

// TestNoAllocs checks that Step and ClipGradNorm do not allocate.
func TestNoAllocs(t *testing.T) {
	params := nn.Collect(newTestModel(1))
	opts := map[string]Optimizer{
		"sgd":      NewSGD(params, SGDConfig{LR: 1e-3}),
		"momentum": NewSGD(params, SGDConfig{LR: 1e-3, Momentum: 0.9, WeightDecay: 1e-4}),
		"adam":     NewAdam(params, DefaultAdamConfig()),
		"adamw":    NewAdamW(params, DefaultAdamWConfig()),
	}
	for name, o := range opts {
		if a := testing.AllocsPerRun(100, o.Step); a != 0 {
			t.Errorf("%s: Step allocates %v times per call", name, a)
		}
		if a := testing.AllocsPerRun(100, func() { ApplySchedule(o, Cosine{Base: 1e-3, Warmup: 10, Total: 100}) }); a != 0 {
			t.Errorf("%s: ApplySchedule allocates %v times per call", name, a)
		}
	}
	if a := testing.AllocsPerRun(100, func() { ClipGradNorm(params, 0.5) }); a != 0 {
		t.Errorf("ClipGradNorm allocates %v times per call", a)
	}
}

func TestClipGradNorm(t *testing.T) {
	t.Parallel()
	mk := func(g ...float32) []nn.NamedParam {
		a, b := nn.NewParam(1, 2), nn.NewParam(1, len(g)-2)
		copy(a.V.Grad, g[:2])
		copy(b.V.Grad, g[2:])
		return []nn.NamedParam{{Path: "a", Param: a}, {Path: "b", Param: b}}
	}
	grads := func(ps []nn.NamedParam) []float32 {
		return append(append([]float32(nil), ps[0].Param.V.Grad...), ps[1].Param.V.Grad...)
	}
	// Norm of (3, 0, 4, 0, 12) is 13.
	ps := mk(3, 0, 4, 0, 12)
	if n := ClipGradNorm(ps, 1); n != 13 {
		t.Errorf("norm = %v, want 13", n)
	}
	c := float32(1 / (13 + 1e-6))
	if got, want := fmt.Sprint(grads(ps)), fmt.Sprint([]float32{3 * c, 0, 4 * c, 0, 12 * c}); got != want {
		t.Errorf("clipped grads %s, want %s", got, want)
	}
	if n := ClipGradNorm(ps, math.Inf(1)); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping = %v, want ≈1", n)
	}
	// Below the threshold: unchanged.
	ps = mk(3, 0, 4, 0, 12)
	if n := ClipGradNorm(ps, 20); n != 13 || fmt.Sprint(grads(ps)) != "[3 0 4 0 12]" {
		t.Errorf("norm %v grads %v, want 13 and unchanged", n, grads(ps))
	}
	// Non-finite: reported, gradients untouched.
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		ps = mk(3, bad, 4, 0, 12)
		n := ClipGradNorm(ps, 1)
		if !math.IsNaN(n) && !math.IsInf(n, 1) {
			t.Errorf("norm with %v = %v, want NaN or +Inf", bad, n)
		}
		if g := grads(ps); g[0] != 3 || g[2] != 4 || g[4] != 12 {
			t.Errorf("grads changed on non-finite norm: %v", g)
		}
	}
	// Empty parameter list.
	if n := ClipGradNorm(nil, 1); n != 0 {
		t.Errorf("norm of nothing = %v", n)
	}
}

func BenchmarkStep(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 18} {
		p := nn.NewParam(n/64, 64)
		for i := range p.V.Data {
			p.V.Data[i] = float32(i%17) * 0.01
		}
		grad := make([]float32, n)
		for i := range grad {
			grad[i] = float32(i%13-6) * 0.1
		}
		params := []nn.NamedParam{{Path: "w", Param: p}}
		opts := []struct {
			name string
			o    Optimizer
		}{
			{"sgd-momentum", NewSGD(params, SGDConfig{LR: 1e-3, Momentum: 0.9})},
			{"adam", NewAdam(params, DefaultAdamConfig())},
			{"adamw", NewAdamW(params, DefaultAdamWConfig())},
		}
		for _, o := range opts {
			b.Run(fmt.Sprintf("%s/n=%d", o.name, n), func(b *testing.B) {
				// Fresh gradients every step (Step zeroes them), as in
				// training; the copy is part of the measured time.
				b.ReportAllocs()
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					copy(p.V.Grad, grad)
					o.o.Step()
				}
			})
		}
		b.Run(fmt.Sprintf("clip/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(4 * n))
			copy(p.V.Grad, grad)
			for b.Loop() {
				ClipGradNorm(params, math.Inf(1))
			}
		})
	}
}
