package mpnn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mpnn"
)

// One message-passing round over the undirected path 0 – 1 – 2 (each edge
// listed in both directions) with mean aggregation.
func ExampleModel_Propagate() {
	m := mpnn.New(mpnn.Config{In: 4, Msg: 8, Out: 4, Act: nn.ReLU, Aggr: mpnn.Mean, Residual: true},
		rand.New(rand.NewPCG(1, 2)))
	h := nn.New(3, 4)
	src := []int{0, 1, 1, 2}
	dst := []int{1, 0, 2, 1}
	out := m.Propagate(nn.NewInference(), h, src, dst, nil)
	fmt.Println(out.Shape())
	// Output: 3×4
}

// Two compute nodes and three candidate paths: paths 0 and 1 reach compute
// node 1, path 2 reaches compute node 0.
func ExampleNewSyncGNN() {
	m := mpnn.NewSyncGNN(mpnn.SyncGNNConfig{ComputeIn: 5, PathIn: 3, Dim: 16, MsgHidden: []int{32}, Act: nn.ReLU},
		rand.New(rand.NewPCG(1, 2)))
	src, dst, err := mpnn.BipartiteEdges([]int{1, 1, 0}, 2)
	if err != nil {
		panic(err)
	}
	hc, hp := m.Forward(nn.NewInference(), nn.New(2, 5), nn.New(3, 3), src, dst)
	fmt.Println(src, dst, hc.Shape(), hp.Shape())
	// Output: [2 1 3 1 4 0] [1 2 1 3 0 4] 2×16 3×16
}
