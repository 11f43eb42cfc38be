package lstm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/lstm"
	"github.com/cpntrain/cpntrain/nn/nntest"
	"github.com/cpntrain/cpntrain/nn/optim"
)

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := lstm.New(lstm.Config{In: 3, Hidden: 4, ForgetBias: 1}, rng)
	nntest.CheckParamFields(t, m)
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		hs, last := m.Sequence(tp, x, lstm.State{})
		return tp.ConcatCols(hs[0], last.H, last.C)
	}, []*nn.Tensor{nntest.RandTensor(rng, 2, 3, -1, 1), nntest.RandTensor(rng, 2, 3, -1, 1), nntest.RandTensor(rng, 2, 3, -1, 1)}, m, nntest.Options{})
}

// TestLearnsToCount: reading a sequence of bits, the LSTM's last hidden state
// (through a linear head) predicts how many ones it saw. Sequences of length
// 5–15; held-out accuracy of the rounded count ≥ 95 %.
func TestLearnsToCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cell := lstm.New(lstm.Config{In: 1, Hidden: 16, ForgetBias: 1}, rng)
	head := linear.New(linear.Config{In: 16, Out: 1}, rng)
	model := nn.Modules{{Name: "cell", M: cell}, {Name: "head", M: head}}
	opt := optim.NewAdam(nn.Collect(model), optim.AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	const batch = 32
	sample := func(n int) ([][]float32, []float32) {
		steps := make([][]float32, n)
		count := make([]float32, batch)
		for k := range steps {
			steps[k] = make([]float32, batch)
			for i := range steps[k] {
				if rng.IntN(2) == 1 {
					steps[k][i] = 1
					count[i]++
				}
			}
		}
		return steps, count
	}
	run := func(tp *nn.Tape, steps [][]float32) *nn.Tensor {
		xs := make([]*nn.Tensor, len(steps))
		for k, s := range steps {
			xs[k] = tp.Const(batch, 1, s)
		}
		_, last := cell.Sequence(tp, xs, lstm.State{})
		return head.Forward(tp, last.H)
	}
	tp := nn.NewTape()
	for it := 0; it < 1500; it++ {
		steps, count := sample(5 + rng.IntN(11))
		tp.Reset()
		pred := run(tp, steps)
		// Scale targets to O(1) for the regression.
		tp.Backward(tp.MSE(pred, tp.Scale(tp.Const(batch, 1, count), 0.1)))
		optim.ClipGradNorm(nn.Collect(model), 1)
		opt.Step()
	}
	inf := nn.NewInference()
	correct, total := 0, 0
	for r := 0; r < 10; r++ {
		steps, count := sample(5 + rng.IntN(11))
		inf.Reset()
		pred := run(inf, steps)
		for i := range count {
			if math.Round(float64(pred.Data[i])*10) == float64(count[i]) {
				correct++
			}
			total++
		}
	}
	acc := float64(correct) / float64(total)
	t.Logf("count accuracy %.3f", acc)
	if acc < 0.95 {
		t.Fatalf("LSTM did not learn to count: accuracy %.3f < 0.95", acc)
	}
}
