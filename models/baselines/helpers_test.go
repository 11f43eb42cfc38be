package baselines

import (
	"github.com/cpntrain/cpntrain/train/metrics"
	"math"
	"math/rand/v2"
)

// Edge operations of a NAS-Bench-201 cell as the test encodes them: the
// index into Sample.Ops is op + OpNone.
const (
	tNone = iota
	tSkip
	tConv1
	tConv3
	tPool
	tNumOps
)

// cellEdges lists, for each op node 1..6 (the cell edges in the order of
// the architecture string |a~0|+|b~0|c~1|+|d~0|e~1|f~2|), the cell nodes it
// connects: from → to.
var cellEdges = [6][2]int{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}

// cellAdj is the op-on-node adjacency shared by every cell: node 0 feeds
// the edges leaving cell node 0, an edge into cell node k feeds the edges
// leaving k, the edges into cell node 3 feed node 7.
var cellAdj = func() [NumNodes][NumNodes]float32 {
	var a [NumNodes][NumNodes]float32
	for i, e := range cellEdges {
		if e[0] == 0 {
			a[0][i+1] = 1
		}
		if e[1] == 3 {
			a[i+1][7] = 1
		}
		for j, f := range cellEdges {
			if f[0] == e[1] {
				a[i+1][j+1] = 1
			}
		}
	}
	return a
}()

// cell encodes the cell with the given edge operations, with synthetic
// FLOPs and parameter counts (the convolutions dominate both, as in
// NAS-Bench-201).
func cell(ops [6]int) Sample {
	s := Sample{Adj: cellAdj}
	s.Ops[0][OpInput] = 1
	s.Ops[7][OpOutput] = 1
	n1, n3 := 0.0, 0.0
	for i, o := range ops {
		s.Ops[i+1][OpNone+o] = 1
		switch o {
		case tConv1:
			n1++
		case tConv3:
			n3++
		}
	}
	s.FLOPs = 15.6e6 + 1.7e6*n1 + 15.3e6*n3
	s.Params = 0.07e6 + 0.02e6*n1 + 0.17e6*n3
	return s
}

// allCells returns the 5⁶ = 15625 cells and their op vectors.
func allCells() ([]Sample, [][6]int) {
	var xs []Sample
	var ops [][6]int
	for code := 0; code < 15625; code++ {
		var o [6]int
		c := code
		for i := range o {
			o[i] = c % tNumOps
			c /= tNumOps
		}
		xs = append(xs, cell(o))
		ops = append(ops, o)
	}
	return xs, ops
}

// structural is a synthetic latency that depends on the cell's structure,
// not only on its op counts: the costs of the operations on live edges
// (edges on a path from input to output through non-none edges) plus a
// penalty for the deepest chain of convolutions on such a path.
func structural(o [6]int) float64 {
	cost := [tNumOps]float64{tNone: 0, tSkip: 0.05, tConv1: 0.3, tConv3: 1, tPool: 0.2}
	// fwd[k]: cell node k is reachable from node 0; bwd[k]: reaches node 3.
	var fwd, bwd [4]bool
	fwd[0], bwd[3] = true, true
	for k := 1; k < 4; k++ {
		for i, e := range cellEdges {
			if e[1] == k && o[i] != tNone && fwd[e[0]] {
				fwd[k] = true
			}
		}
	}
	for k := 2; k >= 0; k-- {
		for i, e := range cellEdges {
			if e[0] == k && o[i] != tNone && bwd[e[1]] {
				bwd[k] = true
			}
		}
	}
	// depth[k]: the most convolutions on a live path from node 0 to k.
	depth := [4]float64{}
	var y float64
	for i, e := range cellEdges {
		if o[i] == tNone || !fwd[e[0]] || !bwd[e[1]] {
			continue
		}
		y += cost[o[i]]
	}
	for k := 1; k < 4; k++ {
		for i, e := range cellEdges {
			if e[1] != k || o[i] == tNone || !fwd[e[0]] || !bwd[k] {
				continue
			}
			d := depth[e[0]]
			if o[i] == tConv1 || o[i] == tConv3 {
				d++
			}
			depth[k] = math.Max(depth[k], d)
		}
	}
	return y + 0.4*depth[3]
}

// normalise maps v min-max to [0.05, 0.95], as the latency data are.
func normalise(v []float64) []float32 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(0.05 + 0.9*(x-lo)/(hi-lo))
	}
	return out
}

// split draws nTrain training and nTest held-out indices from [0, n).
func split(rng *rand.Rand, n, nTrain, nTest int) (train, test []int) {
	perm := rng.Perm(n)
	return perm[:nTrain], perm[nTrain : nTrain+nTest]
}

// pick returns xs[idx[0]], xs[idx[1]], ….
func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, k := range idx {
		out[i] = xs[k]
	}
	return out
}

// The metrics live in train/metrics; the tests use them under short names.
var (
	MSE      = metrics.MSE
	Spearman = metrics.Spearman
)
