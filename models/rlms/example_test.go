package rlms_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// A serving decision for a task with 5 candidate nodes (the last one
// missing) and 3 paths each.
func ExampleModel_Decision() {
	m := rlms.New(rlms.DefaultConfig(), rand.New(rand.NewPCG(1, 2)))
	o := cpn.Obs{
		K: 5, P: 3,
		Task:     cpn.Task{Bytes: 3e6, Images: 8},
		Nodes:    make([]cpn.Candidate, 5),
		Paths:    make([]cpn.Path, 5*3),
		NodeMask: []bool{true, true, true, true, false},
		PathMask: make([]bool, 5*3),
	}
	for i := range 4 {
		o.Nodes[i] = cpn.Candidate{ComputeMs: 10 + float64(i), Hops: 1 + i, Class: cpn.GPU,
			WaterFillMs: 20, SharedWaterFillMs: 25, SinglePathMs: 30, EstimateMs: 35 + float64(i)}
		for j := range 3 {
			o.Paths[i*3+j] = cpn.Path{ProbeMs: 5, PropMs: 4, BottleneckBps: 1e9, Hops: 3, Util: 0.5, AloneMs: 29,
				SharedBottleneckBps: 5e8, BandwidthShare: 1.0 / 3, SpeedShare: 1.0 / 3, WaterFill: 1.0 / 3, SharedWaterFill: 1.0 / 3, Split: 1.0 / 3}
			o.PathMask[i*3+j] = true
		}
	}
	node, ratios := m.Decision(o)
	var sum float32
	for _, r := range ratios {
		sum += r
	}
	fmt.Printf("candidate allowed: %v, %d ratios summing to %.3f\n", o.NodeMask[node], len(ratios), sum)
	fmt.Println("parameters:", nn.NumParams(m) > 0)
	// Output:
	// candidate allowed: true, 3 ratios summing to 1.000
	// parameters: true
}
