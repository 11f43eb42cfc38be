package baselines_test

import (
	"fmt"

	"github.com/cpntrain/cpntrain/models/baselines"
)

// cellOps builds a Sample whose six edge nodes hold the given op columns
// (the adjacency is irrelevant to the layer-wise baseline).
func cellOps(ops ...int) baselines.Sample {
	var s baselines.Sample
	s.Ops[0][baselines.OpInput] = 1
	s.Ops[7][baselines.OpOutput] = 1
	for i, op := range ops {
		s.Ops[i+1][op] = 1
	}
	return s
}

// The layer-wise baseline recovers a per-op latency table from end-to-end
// latencies: here 0.1 for the rest of the network, 0.02 per 1×1 and 0.1 per
// 3×3 convolution, 0.01 per pooling, 0.005 per skip and 0 for none.
func ExampleNewLayerWise() {
	const (
		none = baselines.OpNone
		skip = baselines.OpSkip
		c1   = baselines.OpConv1x1
		c3   = baselines.OpConv3x3
		pool = baselines.OpAvgPool
	)
	train := []baselines.Sample{
		cellOps(c3, c3, c3, c3, c3, c3),
		cellOps(c1, c1, none, skip, pool, c3),
		cellOps(none, none, none, none, none, c1),
		cellOps(pool, pool, skip, skip, c3, c1),
		cellOps(skip, none, none, none, none, none),
		cellOps(c3, pool, none, c1, pool, skip),
	}
	y := []float32{0.7, 0.255, 0.12, 0.25, 0.105, 0.245}
	p := baselines.NewLayerWise()
	if err := p.Fit(train, y, nil); err != nil {
		panic(err)
	}
	b, cost := p.(*baselines.LayerWise).Table()
	fmt.Printf("b %.3f  skip %.3f  conv1x1 %.3f  conv3x3 %.3f  pool %.3f\n",
		b, cost[skip], cost[c1], cost[c3], cost[pool])
	pred := p.Predict([]baselines.Sample{cellOps(c3, c3, c1, none, none, none)}, nil)
	fmt.Printf("predicted %.3f\n", pred[0])
	// Output:
	// b 0.100  skip 0.005  conv1x1 0.020  conv3x3 0.100  pool 0.010
	// predicted 0.320
}
