package baselines

import (
	"slices"
	"testing"
)

// edgeSet returns the message edges of g as sorted (src, dst) pairs,
// without the edges into the global node.
func edgeSet(g brpGraph) [][2]int {
	var out [][2]int
	for k, s := range g.src {
		if g.dst[k] != brpGlobal {
			out = append(out, [2]int{s, g.dst[k]})
		}
	}
	return sortEdges(out)
}

// sortEdges sorts pairs in place and returns them.
func sortEdges(out [][2]int) [][2]int {
	slices.SortFunc(out, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	return out
}

// rowOp returns the feature column set in node v's row, or -1.
func rowOp(g brpGraph, v int) int {
	k := -1
	for c := 0; c < brpFeatures; c++ {
		if g.x[v*brpFeatures+c] != 0 {
			k = c
		}
	}
	return k
}

func TestEncodeBRP(t *testing.T) {
	t.Parallel()
	all := [6]int{tConv3, tConv3, tConv3, tConv3, tConv3, tConv3}
	for _, c := range []struct {
		name  string
		ops   [6]int
		prune bool
		edges [][2]int // messages src → dst (dst's successors)
		ops8  [NumNodes]int
	}{
		{
			name: "no pruning keeps the cell", ops: [6]int{tNone, tSkip, tConv1, tConv3, tPool, tNone}, prune: false,
			edges: [][2]int{{1, 0}, {2, 0}, {4, 0}, {3, 1}, {5, 1}, {6, 2}, {6, 3}, {7, 4}, {7, 5}, {7, 6}},
			ops8:  [NumNodes]int{OpInput, OpNone, OpSkip, OpConv1x1, OpConv3x3, OpAvgPool, OpNone, OpOutput},
		},
		{
			name: "all conv3x3", ops: all, prune: true,
			edges: [][2]int{{1, 0}, {2, 0}, {4, 0}, {3, 1}, {5, 1}, {6, 2}, {6, 3}, {7, 4}, {7, 5}, {7, 6}},
			ops8:  [NumNodes]int{OpInput, OpConv3x3, OpConv3x3, OpConv3x3, OpConv3x3, OpConv3x3, OpConv3x3, OpOutput},
		},
		{
			// Edge 0→1 is a skip: the input now feeds nodes 3 and 5 directly.
			name: "skip is bypassed", ops: [6]int{tSkip, tConv3, tConv3, tConv3, tConv3, tConv3}, prune: true,
			edges: [][2]int{{2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 2}, {6, 3}, {7, 4}, {7, 5}, {7, 6}},
			ops8:  [NumNodes]int{OpInput, -1, OpConv3x3, OpConv3x3, OpConv3x3, OpConv3x3, OpConv3x3, OpOutput},
		},
		{
			// Edge 2→3 (node 6) is none: cell node 2 is a dead end, so the
			// edges into it (nodes 2 and 3) are pruned too.
			name: "dead branch is pruned", ops: [6]int{tConv1, tConv3, tPool, tConv3, tConv3, tNone}, prune: true,
			edges: [][2]int{{1, 0}, {4, 0}, {5, 1}, {7, 4}, {7, 5}},
			ops8:  [NumNodes]int{OpInput, OpConv1x1, -1, -1, OpConv3x3, OpConv3x3, -1, OpOutput},
		},
		{
			// Every edge is none: only the input and output keep features.
			name: "empty cell", ops: [6]int{}, prune: true,
			edges: nil,
			ops8:  [NumNodes]int{OpInput, -1, -1, -1, -1, -1, -1, OpOutput},
		},
	} {
		g := encodeBRP(new(cell(c.ops)), c.prune)
		if got := edgeSet(g); !slices.Equal(got, sortEdges(c.edges)) {
			t.Errorf("%s: edges %v, want %v", c.name, got, c.edges)
		}
		for v := 0; v < NumNodes; v++ {
			if got := rowOp(g, v); got != c.ops8[v] {
				t.Errorf("%s: node %d has feature %d, want %d", c.name, v, got, c.ops8[v])
			}
		}
		if rowOp(g, brpGlobal) != NumOpTypes {
			t.Errorf("%s: global node lacks its flag", c.name)
		}
		var intoGlobal []int
		for k, d := range g.dst {
			if d == brpGlobal {
				intoGlobal = append(intoGlobal, g.src[k])
			}
		}
		if !slices.Equal(intoGlobal, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("%s: global node receives from %v, want every cell node", c.name, intoGlobal)
		}
	}
}
