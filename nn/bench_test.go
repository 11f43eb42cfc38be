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
