package tsft

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
)

// CellGCN is a graph convolutional network (Kipf and Welling 2017) over the
// op-on-node DAG of NAS-Bench-201 cells, with separate weights for the
// forward and the backward direction of the edges (as in Wen et al.'s
// neural predictor for directed cells):
//
//	H' = ReLU(Â_f H W_f + Â_b H W_b + b),  Â_f = D^-½(A+I)D^-½, Â_b the same for Aᵀ
//
// Every cell has the same DAG (a "none" operation is a node type), so a
// batch is B cells × 8 nodes with node features flattened per cell, and one
// layer is a single matmul with Kron(Â_fᵀ, W_f) + Kron(Â_bᵀ, W_b): the cost
// of an MLP layer, no gather/scatter.
//
// Shapes: input B×(8·In) (node-major), output B×(8·Dim).
type CellGCN struct {
	Layers []*cellLayer
}

type cellLayer struct {
	WF, WB, B *nn.Param
	in, out   int
}

// Params implements nn.Module: "<layer>/wf", "<layer>/wb", "<layer>/b".
func (g *CellGCN) Params(visit func(string, *nn.Param)) {
	for i, l := range g.Layers {
		v := nn.Prefix(fmt.Sprint(i), visit)
		v("wf", l.WF)
		v("wb", l.WB)
		v("b", l.B)
	}
}

// normAdj returns D^-½(A+I)D^-½ of the cell DAG, transposed when back.
var adjF, adjB = cellAdj(false), cellAdj(true)

func cellAdj(back bool) []float32 {
	var a [NumNodes][NumNodes]float64
	src, dst := CellDAG()
	for k := range src {
		i, j := src[k], dst[k] // message from i to j: row j, column i
		if back {
			i, j = j, i
		}
		a[j][i] = 1
	}
	var deg [NumNodes]float64
	for i := 0; i < NumNodes; i++ {
		a[i][i] = 1
		for j := 0; j < NumNodes; j++ {
			deg[i] += a[i][j]
		}
	}
	out := make([]float32, NumNodes*NumNodes)
	// Store Âᵀ: the Kron factor for row-major flattened node features.
	for i := 0; i < NumNodes; i++ {
		for j := 0; j < NumNodes; j++ {
			out[j*NumNodes+i] = float32(a[i][j] / math.Sqrt(deg[i]*deg[j]))
		}
	}
	return out
}

func newCellGCN(in, dim, layers int, rng *rand.Rand) *CellGCN {
	g := &CellGCN{}
	for l := 0; l < layers; l++ {
		c := &cellLayer{WF: nn.NewParam(in, dim), WB: nn.NewParam(in, dim), B: nn.NewParam(1, dim), in: in, out: dim}
		nn.XavierUniform(1)(c.WF, rng)
		nn.XavierUniform(1)(c.WB, rng)
		g.Layers = append(g.Layers, c)
		in = dim
	}
	return g
}

// Forward runs the layers on x (B×(8·In)).
func (g *CellGCN) Forward(t *nn.Tape, x *nn.Tensor) *nn.Tensor {
	af := t.Const(NumNodes, NumNodes, adjF)
	ab := t.Const(NumNodes, NumNodes, adjB)
	ones := t.Const(1, NumNodes, onesNodes[:])
	for _, l := range g.Layers {
		k := t.Add(t.Kron(af, l.WF.V), t.Kron(ab, l.WB.V))
		x = t.ReLU(t.Linear(x, k, t.Kron(ones, l.B.V)))
	}
	return x
}

var onesNodes = [NumNodes]float32{1, 1, 1, 1, 1, 1, 1, 1}
