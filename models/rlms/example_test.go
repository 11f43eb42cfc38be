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
		Task:     []float32{0.5, 3},
		Nodes:    make([]float32, 5*cpn.NodeFeatures),
		Paths:    make([]float32, 5*3*cpn.PathFeatures),
		NodeMask: []bool{true, true, true, true, false},
		PathMask: make([]bool, 5*3),
	}
	for i := range o.Nodes[:4*cpn.NodeFeatures] {
		o.Nodes[i] = float32(i%7) / 7
	}
	for q := range o.PathMask[:4*3] {
		o.PathMask[q] = true
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
