package deepsets_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/nntest"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// configs returns one small configuration per pooling variant.
func configs() map[string]deepsets.Config {
	phi := mlp.Config{Sizes: []int{3, 5, 4}, Act: nn.Tanh, OutAct: nn.Tanh}
	rho := mlp.Config{Sizes: []int{4, 5, 2}, Act: nn.Tanh}
	return map[string]deepsets.Config{
		"sum":           {Phi: phi, Rho: rho},
		"mean":          {Phi: phi, Rho: rho, Pool: deepsets.Mean},
		"max":           {Phi: phi, Rho: rho, Pool: deepsets.Max},
		"attention":     {Phi: phi, Rho: rho, Pool: deepsets.Attention},
		"attention-mlp": {Phi: phi, Rho: rho, Pool: deepsets.Attention, Score: mlp.Config{Sizes: []int{4, 3, 1}, Act: nn.Tanh}},
		"attention-per-feature": {Phi: phi, Rho: rho, Pool: deepsets.Attention,
			Score: mlp.Config{Sizes: []int{4, 4}}},
		"identity-rho": {Phi: phi},
	}
}

// Sets 0 and 2 have three and two elements, set 1 is empty, set 3 has one;
// rows of a set are not contiguous.
var seg = []int{0, 2, 0, 3, 2, 0}

const nsets = 4

func TestGradients(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := deepsets.New(cfg, rng)
			nntest.CheckParamFields(t, m)
			if err := nn.CheckPaths(m); err != nil {
				t.Fatal(err)
			}
			x := nntest.RandTensor(rng, len(seg), 3, -1, 1)
			nntest.GradCheck(t, func(tp *nn.Tape, xs []*nn.Tensor) *nn.Tensor {
				return m.Forward(tp, xs[0], seg, nsets)
			}, []*nn.Tensor{x}, m, nntest.Options{})
		})
	}
}

func TestShapesAndEmptySet(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m := deepsets.New(cfg, rng)
			tp := nn.NewInference()
			x := nntest.RandTensor(rng, len(seg), 3, -1, 1)
			y := m.Forward(tp, x, seg, nsets)
			if y.Rows != nsets || y.Cols != m.Out() {
				t.Fatalf("output %s, want %d×%d", y.Shape(), nsets, m.Out())
			}
			// The empty set 1 is ρ(0).
			zero := tp.Zeros(1, m.Latent())
			want := zero
			if m.Rho != nil {
				want = m.Rho.Forward(tp, zero)
			}
			for j := 0; j < m.Out(); j++ {
				if d := math.Abs(float64(y.At(1, j) - want.At(0, j))); d > 1e-6 {
					t.Fatalf("empty set gives %v, want ρ(0) = %v", y.Row(1), want.Data)
				}
			}
		})
	}
}

// TestPermutationInvariance shuffles the rows of a batch (and their segment
// ids): every set's output must stay the same.
func TestPermutationInvariance(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			m := deepsets.New(cfg, rng)
			x := nntest.RandTensor(rng, len(seg), 3, -1, 1)
			perm := rng.Perm(len(seg))
			px := nn.New(x.Rows, x.Cols)
			pseg := make([]int, len(seg))
			for i, p := range perm {
				copy(px.Row(i), x.Row(p))
				pseg[i] = seg[p]
			}
			tp := nn.NewInference()
			a := m.Forward(tp, x, seg, nsets)
			b := m.Forward(tp, px, pseg, nsets)
			for i := range a.Data {
				if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-5 {
					t.Fatalf("permuted rows change the output: %v vs %v", a.Data, b.Data)
				}
			}
		})
	}
}

func TestKnownValues(t *testing.T) {
	// φ = identity-like Linear with weight 1 and bias 0; check every pooling
	// against a hand computation on sets {1, 2, 3} and {5}.
	x := nn.FromSlice(4, 1, []float32{1, 5, 2, 3})
	s := []int{0, 1, 0, 0}
	want := map[deepsets.Pooling][]float32{
		deepsets.Sum:  {6, 5},
		deepsets.Mean: {2, 5},
		deepsets.Max:  {3, 5},
		// Scorer s(z) = z: weights softmax(1, 2, 3) over the first set.
		deepsets.Attention: {float32((1*math.E + 2*math.Exp(2) + 3*math.Exp(3)) / (math.E + math.Exp(2) + math.Exp(3))), 5},
	}
	for pool, w := range want {
		m := deepsets.New(deepsets.Config{Phi: mlp.Config{Sizes: []int{1, 1}}, Pool: pool}, rand.New(rand.NewPCG(1, 1)))
		m.Phi.Layers[0].W.V.Data[0], m.Phi.Layers[0].B.V.Data[0] = 1, 0
		if m.Score != nil {
			m.Score.Layers[0].W.V.Data[0], m.Score.Layers[0].B.V.Data[0] = 1, 0
		}
		y := m.Forward(nn.NewInference(), x, s, 2)
		for i := range w {
			if math.Abs(float64(y.Data[i]-w[i])) > 1e-5 {
				t.Errorf("%s pooling: got %v, want %v", pool, y.Data, w)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	phi := mlp.Config{Sizes: []int{3, 4}}
	bad := map[string]deepsets.Config{
		"no phi":               {},
		"bad phi size":         {Phi: mlp.Config{Sizes: []int{3, 0}}},
		"rho width":            {Phi: phi, Rho: mlp.Config{Sizes: []int{5, 1}}},
		"bad rho":              {Phi: phi, Rho: mlp.Config{Sizes: []int{4}}},
		"bad pooling":          {Phi: phi, Pool: "median"},
		"score without attn":   {Phi: phi, Score: mlp.Config{Sizes: []int{4, 1}}},
		"score width":          {Phi: phi, Pool: deepsets.Attention, Score: mlp.Config{Sizes: []int{4, 2}}},
		"score input":          {Phi: phi, Pool: deepsets.Attention, Score: mlp.Config{Sizes: []int{3, 1}}},
		"bad phi activation":   {Phi: mlp.Config{Sizes: []int{3, 4}, Act: "gelu"}},
		"bad score activation": {Phi: phi, Pool: deepsets.Attention, Score: mlp.Config{Sizes: []int{4, 1}, OutAct: "x"}},
	}
	for name, cfg := range bad {
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "deepsets: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			deepsets.New(cfg, rand.New(rand.NewPCG(1, 1)))
		}()
	}
	for name, cfg := range configs() {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPanics(t *testing.T) {
	m := deepsets.New(configs()["attention"], rand.New(rand.NewPCG(1, 1)))
	x := nn.New(3, 3)
	cases := map[string]func(){
		"short seg":    func() { m.Forward(nn.NewTape(), x, []int{0, 0}, 1) },
		"long seg":     func() { m.Forward(nn.NewTape(), x, []int{0, 0, 0, 0}, 1) },
		"id too large": func() { m.Forward(nn.NewTape(), x, []int{0, 1, 2}, 2) },
		"negative id":  func() { m.Forward(nn.NewTape(), x, []int{0, -1, 0}, 2) },
		"negative n":   func() { m.Forward(nn.NewTape(), nn.New(0, 3), nil, -1) },
		"width":        func() { m.Forward(nn.NewTape(), nn.New(3, 2), []int{0, 0, 0}, 1) },
		"pool width":   func() { m.Pool(nn.NewTape(), nn.New(3, 2), []int{0, 0, 0}, 1) },
		"pool seg":     func() { m.Pool(nn.NewTape(), nn.New(3, 4), []int{0, 0}, 1) },
		"sizes":        func() { deepsets.SegmentIDs([]int{1, -1}) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				s, ok := recover().(string)
				if !ok || !strings.HasPrefix(s, "deepsets: ") {
					t.Fatalf("want a panic with a deepsets: message, got %v", s)
				}
			}()
			f()
		})
	}
}

func TestSegmentIDs(t *testing.T) {
	got := deepsets.SegmentIDs([]int{2, 0, 3})
	want := []int{0, 0, 2, 2, 2}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestForwardZeroAlloc(t *testing.T) {
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			m := deepsets.New(cfg, rng)
			x := nntest.RandTensor(rng, len(seg), 3, -1, 1)
			tp := nn.NewInference()
			run := func() {
				tp.Reset()
				m.Forward(tp, x, seg, nsets)
			}
			run()
			if a := testing.AllocsPerRun(50, run); a != 0 {
				t.Fatalf("Forward allocates %v times per call on an inference tape", a)
			}
		})
	}
}

// batch draws n sets of 1..10 scalars uniform in [0, 1).
func batch(rng *rand.Rand, n int) (x []float32, seg []int, sums, maxes []float32) {
	sums = make([]float32, n)
	maxes = make([]float32, n)
	for s := 0; s < n; s++ {
		k := 1 + rng.IntN(10)
		for range k {
			v := float32(rng.Float64())
			x = append(x, v)
			seg = append(seg, s)
			sums[s] += v
			maxes[s] = max(maxes[s], v)
		}
	}
	return x, seg, sums, maxes
}

// train fits m to target(sums, maxes) with Adam and returns the held-out
// predictions and targets on 1000 fresh sets.
func train(t *testing.T, m *deepsets.Model, steps int, lr float64, target func(sums, maxes []float32) []float32) (pred, want []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	opt := optim.NewAdam(nn.Collect(m), optim.AdamConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	tp := nn.NewTape()
	const bs = 32
	for step := 0; step < steps; step++ {
		tp.Reset()
		x, s, sums, maxes := batch(rng, bs)
		y := m.Forward(tp, tp.Const(len(x), 1, x), s, bs)
		loss := tp.MSE(y, tp.Const(bs, 1, target(sums, maxes)))
		tp.Backward(loss)
		opt.Step()
	}
	const held = 1000
	x, s, sums, maxes := batch(rand.New(rand.NewPCG(99, 100)), held)
	y := m.Forward(nn.NewInference(), nn.FromSlice(len(x), 1, x), s, held)
	return y.Data, target(sums, maxes)
}

// TestLearnsSum: sum pooling learns the sum of a set of 1..10 scalars in
// [0, 1). Held-out relative L1 error Σ|ŷ−y| / Σ|y| must be below 5 %
// (about 0.5 % is reached).
func TestLearnsSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	m := deepsets.New(deepsets.Config{
		Phi: mlp.Config{Sizes: []int{1, 16, 16}, Act: nn.ReLU, OutAct: nn.ReLU},
		Rho: mlp.Config{Sizes: []int{16, 16, 1}, Act: nn.ReLU},
	}, rng)
	pred, want := train(t, m, 600, 3e-3, func(sums, _ []float32) []float32 { return sums })
	var num, den float64
	for i := range want {
		num += math.Abs(float64(pred[i] - want[i]))
		den += math.Abs(float64(want[i]))
	}
	rel := num / den
	t.Logf("held-out relative L1 error of the sum: %.4f", rel)
	if rel >= 0.05 {
		t.Fatalf("relative error %.4f, want < 0.05", rel)
	}
}

// TestLearnsMax: max pooling learns the maximum of a set of 1..10 scalars in
// [0, 1). Held-out MSE must be below 1e-3 (the variance of the target is
// about 2.6e-2; about 1e-4 is reached).
func TestLearnsMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	m := deepsets.New(deepsets.Config{
		Phi:  mlp.Config{Sizes: []int{1, 16, 16}, Act: nn.ReLU, OutAct: nn.ReLU},
		Rho:  mlp.Config{Sizes: []int{16, 16, 1}, Act: nn.ReLU},
		Pool: deepsets.Max,
	}, rng)
	pred, want := train(t, m, 600, 3e-3, func(_, maxes []float32) []float32 { return maxes })
	var mse float64
	for i := range want {
		d := float64(pred[i] - want[i])
		mse += d * d
	}
	mse /= float64(len(want))
	t.Logf("held-out MSE of the max: %.3g", mse)
	if mse >= 1e-3 {
		t.Fatalf("MSE %.3g, want < 1e-3", mse)
	}
}

func BenchmarkForward(b *testing.B) {
	for _, n := range []int{16, 256} {
		b.Run(map[int]string{16: "Small", 256: "Large"}[n], func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := deepsets.New(deepsets.Config{
				Phi:  mlp.Config{Sizes: []int{8, 32, 32}, Act: nn.ReLU, OutAct: nn.ReLU},
				Rho:  mlp.Config{Sizes: []int{32, 32, 8}, Act: nn.ReLU},
				Pool: deepsets.Attention,
			}, rng)
			x := nntest.RandTensor(rng, n, 8, -1, 1)
			s := make([]int, n)
			for i := range s {
				s[i] = i % 4
			}
			tp := nn.NewInference()
			b.ReportAllocs()
			for b.Loop() {
				tp.Reset()
				m.Forward(tp, x, s, 4)
			}
		})
	}
}

// TestNoElements: a batch whose sets are all empty pools to zeros.
func TestNoElements(t *testing.T) {
	for name, cfg := range configs() {
		m := deepsets.New(cfg, rand.New(rand.NewPCG(1, 1)))
		tp := nn.NewTape()
		y := m.Forward(tp, tp.Leaf(0, 3, nil), nil, 2)
		if y.Rows != 2 || y.Cols != m.Out() {
			t.Fatalf("%s: output %s", name, y.Shape())
		}
		tp.Backward(tp.Sum(y))
		if z := m.Forward(nn.NewInference(), nn.New(0, 3), nil, 0); z.Rows != 0 {
			t.Fatalf("%s: no sets gives %s", name, z.Shape())
		}
	}
}
