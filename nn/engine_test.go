package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// TestInferenceZeroAlloc: the no-tape path allocates nothing per call in
// steady state (MLP 32→64→64→8, batch 1, the serving shape).
func TestInferenceZeroAlloc(t *testing.T) {
	m := mlp.New(mlp.Config{Sizes: []int{32, 64, 64, 8}, Act: nn.ReLU}, rand.New(rand.NewPCG(1, 2)))
	tp := nn.NewInference()
	in := make([]float32, 32)
	for i := range in {
		in[i] = float32(i) / 32
	}
	run := func() {
		tp.Reset()
		x := tp.Const(1, 32, in)
		y := m.Forward(tp, x)
		_ = tp.Softmax(y)
	}
	run()
	if a := testing.AllocsPerRun(200, run); a != 0 {
		t.Fatalf("inference allocates %.1f times per call, want 0", a)
	}
}

// TestDeterminism: same seed, one goroutine → bit-identical parameters after
// N Adam steps of a small regression.
func TestDeterminism(t *testing.T) {
	train := func(seed uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, 1))
		m := mlp.New(mlp.Config{Sizes: []int{4, 16, 16, 1}, Act: nn.Tanh}, rng)
		opt := optim.NewAdam(nn.Collect(m), optim.AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
		tp := nn.NewTape()
		x := nn.New(32, 4)
		y := nn.New(32, 1)
		for step := 0; step < 50; step++ {
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			for i := 0; i < 32; i++ {
				y.Data[i] = x.Data[i*4] * x.Data[i*4+1]
			}
			tp.Reset()
			tp.Backward(tp.MSE(tp.Dropout(m.Forward(tp, x), 0.1, rng), y))
			optim.ClipGradNorm(nn.Collect(m), 1)
			opt.Step()
		}
		var out []float32
		for _, p := range nn.Collect(m) {
			out = append(out, p.Param.V.Data...)
		}
		return out
	}
	a, b, c := train(42), train(42), train(43)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("same seed gave different parameters")
	}
	if same(a, c) {
		t.Fatal("different seeds gave identical parameters")
	}
}
