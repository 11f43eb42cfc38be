package nasbench201_test

import (
	"fmt"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
)

func ExampleParseArch() {
	a, err := nasbench201.ParseArch("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
	if err != nil {
		fmt.Println(err)
		return
	}
	for k, e := range nasbench201.Edges {
		fmt.Printf("%d→%d %s\n", e[0], e[1], nasbench201.OpNames[a[k]])
	}
	flops, params := a.Cost()
	fmt.Printf("%.2f M FLOPs, %.4f M params, connected %v\n", flops, params, a.Connected())

	_, err = nasbench201.ParseArch("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
	fmt.Println(err != nil)
	// Output:
	// 0→1 nor_conv_3x3
	// 0→2 nor_conv_3x3
	// 1→2 avg_pool_3x3
	// 0→3 skip_connect
	// 1→3 nor_conv_3x3
	// 2→3 skip_connect
	// 113.95 M FLOPs, 0.8024 M params, connected true
	// true
}

func ExampleArch_Encode() {
	a, _ := nasbench201.ParseArch("|nor_conv_1x1~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")
	adj, ops := a.Encode()
	cols := []string{"in", "out", "none", "skip", "c1x1", "c3x3", "pool"}
	for i := range adj {
		label := ""
		for c, x := range ops[i] {
			if x == 1 {
				label = cols[c]
			}
		}
		fmt.Println(adj[i], label)
	}
	// Output:
	// [0 1 1 0 1 0 0 0] in
	// [0 0 0 1 0 1 0 0] c1x1
	// [0 0 0 0 0 0 1 0] none
	// [0 0 0 0 0 0 1 0] skip
	// [0 0 0 0 0 0 0 1] pool
	// [0 0 0 0 0 0 0 1] none
	// [0 0 0 0 0 0 0 1] c3x3
	// [0 0 0 0 0 0 0 0] out
}
