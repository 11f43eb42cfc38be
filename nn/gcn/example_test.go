package gcn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/gcn"
)

// A batch of two directed cells (3 and 2 nodes) encoded with forward and
// backward propagation weights, then read out to one row per cell.
func ExampleModel_Embed() {
	g, err := gcn.NewGraph(5, []int{0, 1, 0, 3}, []int{1, 2, 2, 4}, []int{0, 0, 0, 1, 1}, 2)
	if err != nil {
		panic(err)
	}
	m := gcn.New(gcn.Config{In: 6, Hidden: []int{32, 32}, Act: nn.ReLU, LayerNorm: true, Direction: gcn.Both},
		rand.New(rand.NewPCG(1, 2)))
	x := nn.New(5, 6) // e.g. one-hot operation types
	fmt.Println(m.Embed(nn.NewInference(), x, g).Shape())
	// Output: 2×32
}
