package deepsets_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// Two sets of 2-d points, of sizes 3 and 1, in one batch without padding.
func ExampleModel_Forward() {
	m := deepsets.New(deepsets.Config{
		Phi:  mlp.Config{Sizes: []int{2, 16, 8}, Act: nn.ReLU, OutAct: nn.ReLU},
		Rho:  mlp.Config{Sizes: []int{8, 16, 1}, Act: nn.ReLU},
		Pool: deepsets.Attention,
	}, rand.New(rand.NewPCG(1, 2)))
	x := nn.FromSlice(4, 2, []float32{0, 1, 2, 3, 4, 5, 6, 7})
	seg := deepsets.SegmentIDs([]int{3, 1}) // [0 0 0 1]
	y := m.Forward(nn.NewInference(), x, seg, 2)
	fmt.Println(seg, y.Shape())
	// Output: [0 0 0 1] 2×1
}
