package nasbench201

import (
	"fmt"
	"strconv"
	"strings"
)

// NumArchs is the number of distinct cells of the NAS-Bench-201 search space
// (5 operations on each of 6 edges: 5⁶).
const NumArchs = 15625

// NumEdges is the number of edges of a cell: every pair (u→v), u < v, of its
// 4 nodes.
const NumEdges = 6

// NumNodes is the number of nodes of the op-on-node graph of Encode: the
// input, one node per edge operation, and the output.
const NumNodes = NumEdges + 2

// NumOps is the number of candidate operations on an edge.
const NumOps = 5

// NumOpFeatures is the number of columns of the one-hot operation matrix of
// Encode: input, output, then the NumOps operations.
const NumOpFeatures = NumOps + 2

// The operation indices, the values held in an Arch.
const (
	OpNone    = 0 // none: the edge outputs zeros
	OpSkip    = 1 // skip_connect: identity
	OpConv1x1 = 2 // nor_conv_1x1: ReLU → Conv 1×1 → BatchNorm
	OpConv3x3 = 3 // nor_conv_3x3: ReLU → Conv 3×3 → BatchNorm
	OpAvgPool = 4 // avg_pool_3x3: 3×3 average pooling, stride 1
)

// The columns of Encode's one-hot operation matrix: FeatInput for the input
// node, FeatOutput for the output node, FeatOp+op for the node of an edge
// with operation op.
const (
	FeatInput  = 0
	FeatOutput = 1
	FeatOp     = 2
)

// OpNames are the NAS-Bench-201 names of the operations, indexed by
// operation index (OpNone … OpAvgPool).
var OpNames = [NumOps]string{"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}

// Edges lists the cell edges (from, to) in the order of the architecture
// string and of Arch: (0→1) | (0→2) (1→2) | (0→3) (1→3) (2→3).
var Edges = [NumEdges][2]int{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}

// Arch is one NAS-Bench-201 cell: the operation index (OpNone … OpAvgPool)
// on each edge, in the order of Edges. Every cell of the network uses the
// same Arch. The zero value is the all-none cell.
type Arch [NumEdges]uint8

// ParseArch parses a NAS-Bench-201 architecture string such as
//
//	|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
//
// The string has three groups separated by '+', one per node 1, 2, 3; group
// v lists the v edges into node v as "op~u" between '|' characters, with u
// = 0, 1, …, v-1 in this order. Parsing is strict, so that
// ParseArch(s).String() == s for every accepted s; the error says which
// part is wrong.
func ParseArch(s string) (Arch, error) {
	var a Arch
	groups := strings.Split(s, "+")
	if len(groups) != 3 {
		return a, fmt.Errorf("nasbench201: arch %q: %d groups separated by '+', want 3", s, len(groups))
	}
	k := 0
	for g, group := range groups {
		node := g + 1
		if len(group) < 2 || group[0] != '|' || group[len(group)-1] != '|' {
			return a, fmt.Errorf("nasbench201: arch %q: group %d (node %d) %q must start and end with '|'", s, g+1, node, group)
		}
		parts := strings.Split(group[1:len(group)-1], "|")
		if len(parts) != node {
			return a, fmt.Errorf("nasbench201: arch %q: node %d has %d input edges, want %d", s, node, len(parts), node)
		}
		for u, part := range parts {
			name, from, ok := strings.Cut(part, "~")
			if !ok {
				return a, fmt.Errorf("nasbench201: arch %q: node %d: edge %q lacks '~<input node>'", s, node, part)
			}
			op := opIndex(name)
			if op < 0 {
				return a, fmt.Errorf("nasbench201: arch %q: node %d: unknown operation %q (want one of %s)", s, node, name, strings.Join(OpNames[:], ", "))
			}
			if from != strconv.Itoa(u) {
				return a, fmt.Errorf("nasbench201: arch %q: node %d: edge %d has input node %q, want %d", s, node, u+1, from, u)
			}
			a[k] = uint8(op)
			k++
		}
	}
	return a, nil
}

func opIndex(name string) int {
	for i, n := range OpNames {
		if n == name {
			return i
		}
	}
	return -1
}

// String returns the NAS-Bench-201 architecture string of a, the inverse of
// ParseArch. An operation index ≥ NumOps is written as "op<k>", which
// ParseArch refuses.
func (a Arch) String() string {
	var b strings.Builder
	b.Grow(100)
	k := 0
	for node := 1; node <= 3; node++ {
		if node > 1 {
			b.WriteByte('+')
		}
		b.WriteByte('|')
		for u := 0; u < node; u++ {
			if op := a[k]; int(op) < NumOps {
				b.WriteString(OpNames[op])
			} else {
				b.WriteString("op")
				b.WriteString(strconv.Itoa(int(op)))
			}
			b.WriteByte('~')
			b.WriteString(strconv.Itoa(u))
			b.WriteByte('|')
			k++
		}
	}
	return b.String()
}

// Valid reports whether every operation index of a is below NumOps.
func (a Arch) Valid() bool {
	for _, op := range a {
		if int(op) >= NumOps {
			return false
		}
	}
	return true
}

// code is the base-5 number of a (edge 0 least significant), a dense key
// in [0, NumArchs) for a valid Arch.
func (a Arch) code() int {
	c := 0
	for k := NumEdges - 1; k >= 0; k-- {
		c = c*NumOps + int(a[k])
	}
	return c
}

// Connected reports whether some path from the cell's input (node 0) to its
// output (node 3) uses no "none" edge. A cell that is not connected outputs
// zeros whatever its input; 341 of the 15,625 cells are such. Some devices
// (pixel3, raspi4) measured most of them at a few microseconds, presumably
// because their runtimes removed the dead computation.
func (a Arch) Connected() bool {
	reach := [4]bool{true}
	for k, e := range Edges { // Edges is in topological order of e[1]
		if a[k] != OpNone && reach[e[0]] {
			reach[e[1]] = true
		}
	}
	return reach[3]
}

// Encode returns the op-on-node graph of a used by BRP-NAS and HELP, before
// any pruning: node 0 is the input, node 1+k the operation of edge k (in the
// order of Edges), node 7 the output.
//
// adj[i][j] is 1 when node i feeds node j, else 0. The node of edge (u→v)
// is fed by the input node if u == 0, and otherwise by the node of every
// edge (w→u); it feeds the node of every edge (v→x), and the output node if
// v == 3. The graph is the same for every Arch (a "none" edge keeps its node
// and links; its one-hot row says it is none). BRP-NAS's
// get_matrix_and_ops(prune=True) additionally removes none nodes, bypasses
// skip nodes and drops nodes off every input→output path; that is not done
// here.
//
// ops[i] is a one-hot row over NumOpFeatures columns: column FeatInput (0)
// for the input node, FeatOutput (1) for the output node, and column 2+op
// for an operation node, that is 2 none, 3 skip_connect, 4 nor_conv_1x1,
// 5 nor_conv_3x3, 6 avg_pool_3x3.
//
// Encode panics if a is not Valid.
func (a Arch) Encode() (adj [NumNodes][NumNodes]float32, ops [NumNodes][NumOpFeatures]float32) {
	if !a.Valid() {
		panic(fmt.Sprintf("nasbench201: Encode of invalid Arch %v", [NumEdges]uint8(a)))
	}
	const out = NumNodes - 1
	for k, e := range Edges {
		if e[0] == 0 {
			adj[0][1+k] = 1
		}
		for j, f := range Edges {
			if f[0] == e[1] {
				adj[1+k][1+j] = 1
			}
		}
		if e[1] == 3 {
			adj[1+k][out] = 1
		}
		ops[1+k][FeatOp+int(a[k])] = 1
	}
	ops[0][FeatInput] = 1
	ops[out][FeatOutput] = 1
	return adj, ops
}
