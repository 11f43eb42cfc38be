package mlp_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/nntest"
	"github.com/cpntrain/cpntrain/nn/optim"
)

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := mlp.New(mlp.Config{Sizes: []int{3, 5, 4, 2}, Act: nn.Tanh, OutAct: nn.Sigmoid}, rng)
	nntest.CheckParamFields(t, m)
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return m.Forward(tp, x[0]) },
		[]*nn.Tensor{nntest.RandTensor(rng, 4, 3, -1, 1)}, m, nntest.Options{})
}

func TestParamNames(t *testing.T) {
	m := mlp.New(mlp.Config{Sizes: []int{2, 3, 1}, Act: nn.ReLU}, rand.New(rand.NewPCG(1, 1)))
	got := nn.ParamPaths(m)
	want := []string{"0/b", "0/w", "1/b", "1/w"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("paths %v, want %v", got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []mlp.Config{{Sizes: []int{3}}, {Sizes: []int{3, 0}}, {Sizes: []int{2, 2}, Act: "gelu2"}} {
		if c.Validate() == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// TestLearnsSine is a known-answer learning test: a 1→32→32→1 tanh MLP fits
// sin(x) on [−π, π] to a held-out MSE below 1e-3.
func TestLearnsSine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m := mlp.New(mlp.Config{Sizes: []int{1, 32, 32, 1}, Act: nn.Tanh}, rng)
	opt := optim.NewAdam(nn.Collect(m), optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	const batch = 64
	x := nn.New(batch, 1)
	y := nn.New(batch, 1)
	tp := nn.NewTape()
	for step := 0; step < 3000; step++ {
		for i := 0; i < batch; i++ {
			v := (rng.Float64()*2 - 1) * math.Pi
			x.Data[i] = float32(v)
			y.Data[i] = float32(math.Sin(v))
		}
		tp.Reset()
		tp.Backward(tp.MSE(m.Forward(tp, x), y))
		opt.Step()
	}
	inf := nn.NewInference()
	var mse float64
	const n = 200
	for i := 0; i < n; i++ {
		v := -math.Pi + 2*math.Pi*(float64(i)+0.5)/n
		inf.Reset()
		p := m.Forward(inf, inf.Const(1, 1, []float32{float32(v)}))
		d := float64(p.Data[0]) - math.Sin(v)
		mse += d * d / n
	}
	t.Logf("sine held-out MSE %.2e", mse)
	if mse > 1e-3 {
		t.Fatalf("MLP did not learn sin: held-out MSE %.3g > 1e-3", mse)
	}
}
