package embedding_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/embedding"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := embedding.New(embedding.Config{Num: 5, Dim: 3}, rng)
	nntest.CheckParamFields(t, m)
	nntest.GradCheck(t, func(tp *nn.Tape, _ []*nn.Tensor) *nn.Tensor { return m.Forward(tp, []int{4, 0, 4, 2}) }, nil, m, nntest.Options{})
}

func TestLookup(t *testing.T) {
	m := embedding.New(embedding.Config{Num: 3, Dim: 2}, rand.New(rand.NewPCG(1, 1)))
	y := m.Forward(nn.NewInference(), []int{2})
	if y.Data[0] != m.Table.V.At(2, 0) || y.Data[1] != m.Table.V.At(2, 1) {
		t.Fatalf("lookup of id 2 gave %v", y.Data)
	}
}
