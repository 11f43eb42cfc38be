package topology_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/cpntrain/cpntrain/datasets/topology"
)

func ExampleGraph_KShortestPaths() {
	// A square 0-1-2-3 with a diagonal 0-2, in the CFR-RL format.
	const square = "Node_num: 4\tEdge_num: 10\n" +
		"Link_index\tSource\tDestination\tOSPF\tCapacity(kbps)\n" +
		"0 0 1 100 1000000\n1 1 0 100 1000000\n" +
		"2 1 2 100 1000000\n3 2 1 100 1000000\n" +
		"4 2 3 100 1000000\n5 3 2 100 1000000\n" +
		"6 3 0 100 1000000\n7 0 3 100 1000000\n" +
		"8 0 2 150 1000000\n9 2 0 150 1000000\n"
	g, err := topology.ReadCFRRL(strings.NewReader(square), "square")
	if err != nil {
		panic(err)
	}
	for _, p := range g.KShortestPaths(0, 2, 3, topology.DelayCost) {
		fmt.Printf("nodes %v, links %v, %.2f ms\n", g.PathNodes(p), p, g.PathCost(p, topology.DelayCost)*1e3)
	}
	// Output:
	// nodes [0 2], links [8], 0.87 ms
	// nodes [0 1 2], links [0 2], 1.16 ms
	// nodes [0 3 2], links [7 5], 1.16 ms
}

func ExampleWaxman() {
	rng := rand.New(rand.NewPCG(1, 2))
	g := topology.Waxman(50, 0.4, 0.2, rng)
	tm := topology.Gravity(g, 10e9, rng) // 10 Gbit/s in total
	sum := 0.0
	for _, row := range tm {
		for _, v := range row {
			sum += v
		}
	}
	fmt.Println(g.N, g.StronglyConnected(), len(g.Links) > 2*(g.N-1), fmt.Sprintf("%.3g", sum))
	// Output:
	// 50 true true 1e+10
}
