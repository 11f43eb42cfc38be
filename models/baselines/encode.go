package baselines

// brpNodes is the number of nodes of a BRP-NAS graph: the cell's nodes and
// the global node, which comes last.
const brpNodes = NumNodes + 1

// brpGlobal is the index of the global node within a graph.
const brpGlobal = NumNodes

// brpFeatures is the width of a BRP-NAS node feature: the Sample.Ops
// columns and a flag marking the global node.
const brpFeatures = NumOpTypes + 1

// brpGraph is one cell encoded for the BRP-NAS GCN.
type brpGraph struct {
	// src[k] → dst[k] are the message edges (dst sums src's state), without
	// self-loops: each cell node receives from its successors and the
	// global node from every cell node.
	src, dst []int
	// x holds the brpNodes×brpFeatures node features, row-major.
	x [brpNodes * brpFeatures]float32
}

// nodeKind returns the column of the largest positive entry of an Ops row,
// or -1 for an all-zero row.
func nodeKind(row *[NumOpTypes]float32) int {
	k, best := -1, float32(0)
	for c, v := range row {
		if v > best {
			k, best = c, v
		}
	}
	return k
}

// encodeBRP encodes s as the reference BRP-NAS implementation does (EAGLE's
// nasbench201 get_matrix_and_ops with prune=True, keep_dims=True, followed
// by get_adjacency_and_features) when prune is set:
//
//   - a "none" node loses all its edges;
//   - a "skip_connect" node is bypassed (each predecessor is linked to each
//     successor) and loses its edges;
//   - nodes that are not on a path from the input to the output lose their
//     edges;
//   - the features of the remaining operation nodes are their one-hot
//     types; those of removed, none and skip nodes are zero; the input and
//     output always keep theirs.
//
// Without prune the adjacency and the op rows are used as given. Nonzero
// entries of Adj are edges; the diagonal is ignored. In both cases the
// global node gets the flag feature, an edge from every cell node (removed
// ones included, as in the reference), and the messages run against the
// data flow: node i receives from j when i feeds j (the reference computes
// (A + I)·H with A[i][j] = 1 when i feeds j).
func encodeBRP(s *Sample, prune bool) brpGraph {
	var adj [NumNodes][NumNodes]bool
	var kind [NumNodes]int
	for i := range s.Adj {
		kind[i] = nodeKind(&s.Ops[i])
		for j, v := range s.Adj[i] {
			adj[i][j] = v != 0 && i != j
		}
	}
	keep := [NumNodes]bool{}
	for i := range keep {
		keep[i] = true
	}
	if prune {
		isolate := func(v int) {
			for o := 0; o < NumNodes; o++ {
				adj[o][v], adj[v][o] = false, false
			}
		}
		for v := 0; v < NumNodes; v++ {
			switch kind[v] {
			case OpNone:
				isolate(v)
				keep[v] = false
			case OpSkip:
				for p := 0; p < NumNodes; p++ {
					if !adj[p][v] {
						continue
					}
					for q := 0; q < NumNodes; q++ {
						if adj[v][q] && p != q {
							adj[p][q] = true
						}
					}
				}
				isolate(v)
				keep[v] = false
			}
		}
		fw := reach(&adj, &kind, OpInput, false)
		bw := reach(&adj, &kind, OpOutput, true)
		for v := 0; v < NumNodes; v++ {
			if !fw[v] || !bw[v] {
				isolate(v)
				keep[v] = false
			}
		}
	}
	var g brpGraph
	for v := 0; v < NumNodes; v++ {
		if keep[v] || kind[v] == OpInput || kind[v] == OpOutput {
			copy(g.x[v*brpFeatures:v*brpFeatures+NumOpTypes], s.Ops[v][:])
		}
	}
	g.x[brpGlobal*brpFeatures+NumOpTypes] = 1
	for i := 0; i < NumNodes; i++ {
		for j := 0; j < NumNodes; j++ {
			if adj[i][j] {
				g.src = append(g.src, j)
				g.dst = append(g.dst, i)
			}
		}
	}
	for v := 0; v < NumNodes; v++ {
		g.src = append(g.src, v)
		g.dst = append(g.dst, brpGlobal)
	}
	return g
}

// reach marks the nodes reachable from the nodes of the given kind, along
// the edges (back false) or against them (back true).
func reach(adj *[NumNodes][NumNodes]bool, kind *[NumNodes]int, from int, back bool) [NumNodes]bool {
	var seen [NumNodes]bool
	var stack []int
	for v, k := range kind {
		if k == from {
			seen[v] = true
			stack = append(stack, v)
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for o := 0; o < NumNodes; o++ {
			e := adj[v][o]
			if back {
				e = adj[o][v]
			}
			if e && !seen[o] {
				seen[o] = true
				stack = append(stack, o)
			}
		}
	}
	return seen
}
