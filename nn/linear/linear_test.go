package linear_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestGradients(t *testing.T) {
	for _, noBias := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(1, 2))
		m := linear.New(linear.Config{In: 4, Out: 3, NoBias: noBias}, rng)
		nntest.CheckParamFields(t, m)
		nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return m.Forward(tp, x[0]) },
			[]*nn.Tensor{nntest.RandTensor(rng, 5, 4, -1, 1)}, m, nntest.Options{})
	}
}

func TestValidate(t *testing.T) {
	if (linear.Config{In: 0, Out: 3}).Validate() == nil {
		t.Fatal("zero input width accepted")
	}
}
