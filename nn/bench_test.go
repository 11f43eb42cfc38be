package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/optim"
)

func benchMLP(b *testing.B, batch int, train bool) {
	rng := rand.New(rand.NewPCG(0, 0))
	m := mlp.New(mlp.Config{Sizes: []int{32, 64, 64, 8}, Act: nn.ReLU}, rng)
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	x := nn.New(batch, 32)
	y := nn.New(batch, 8)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	tp := nn.NewInference()
	if train {
		tp = nn.NewTape()
	}
	b.ReportAllocs()
	for b.Loop() {
		tp.Reset()
		out := m.Forward(tp, x)
		if train {
			tp.Backward(tp.MSE(out, y))
			opt.Step()
		}
	}
}

func BenchmarkMLPTrainStepBatch64(b *testing.B) { benchMLP(b, 64, true) }
func BenchmarkMLPInferBatch1(b *testing.B)      { benchMLP(b, 1, false) }
func BenchmarkMLPInferBatch64(b *testing.B)     { benchMLP(b, 64, false) }

// BenchmarkLeakyReLU: forward and backward over 2^16 values of random
// sign (the branch-free op), next to the branchy loop it replaced.
func BenchmarkLeakyReLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(0, 0))
	x := nn.New(1024, 64)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	b.Run("op", func(b *testing.B) {
		tp := nn.NewTape()
		for b.Loop() {
			tp.Reset()
			tp.Backward(tp.Sum(tp.LeakyReLU(tp.Leaf(x.Rows, x.Cols, x.Data), 0.01)))
		}
	})
	b.Run("branchy", func(b *testing.B) {
		out, g := make([]float32, len(x.Data)), make([]float32, len(x.Data))
		for b.Loop() {
			for i, v := range x.Data {
				if v > 0 {
					out[i] = v
				} else {
					out[i] = 0.01 * v
				}
			}
			for i, v := range x.Data {
				if v > 0 {
					g[i] += 1
				} else {
					g[i] += 0.01
				}
			}
		}
	})
}
