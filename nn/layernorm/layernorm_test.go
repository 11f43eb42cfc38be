package layernorm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/layernorm"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestGradientsAndNormalisation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := layernorm.New(layernorm.Config{Dim: 6})
	nn.Normal(1)(m.Gain, rng)
	nn.Normal(1)(m.Bias, rng)
	nntest.CheckParamFields(t, m)
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return m.Forward(tp, x[0]) },
		[]*nn.Tensor{nntest.RandTensor(rng, 3, 6, -2, 2)}, m, nntest.Options{})

	fresh := layernorm.New(layernorm.Config{Dim: 4})
	y := fresh.Forward(nn.NewInference(), nn.FromSlice(1, 4, []float32{1, 2, 3, 4}))
	var mu, v float64
	for _, x := range y.Data {
		mu += float64(x) / 4
	}
	for _, x := range y.Data {
		v += (float64(x) - mu) * (float64(x) - mu) / 4
	}
	if math.Abs(mu) > 1e-6 || math.Abs(v-1) > 1e-4 {
		t.Fatalf("normalised row has mean %g variance %g", mu, v)
	}
}
