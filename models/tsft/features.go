package tsft

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn"
)

// Cell is a NAS-Bench-201 cell as the op index (0..4: none, skip_connect,
// nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) of each of its 6 edges, in the
// order of the architecture string (datasets/nasbench201.Arch).
type Cell = [NumEdges]uint8

// cellEdges is the op-on-node DAG shared by every NAS-Bench-201 cell: node
// 0 is the input, node 1+e the operation of cell edge e, node 7 the output.
// Cell edge e goes from cell node edgeFrom[e] to edgeTo[e].
var (
	edgeFrom = [NumEdges]int{0, 0, 1, 0, 1, 2}
	edgeTo   = [NumEdges]int{1, 2, 2, 3, 3, 3}
)

// CellDAG returns the (src, dst) node pairs of the op-on-node DAG, the same
// for every cell (a "none" operation is a node type, not a missing edge).
func CellDAG() (src, dst []int) {
	for e := 0; e < NumEdges; e++ {
		if edgeFrom[e] == 0 {
			src, dst = append(src, 0), append(dst, 1+e)
		}
		for f := 0; f < NumEdges; f++ {
			if edgeFrom[f] == edgeTo[e] {
				src, dst = append(src, 1+e), append(dst, 1+f)
			}
		}
		if edgeTo[e] == 3 {
			src, dst = append(src, 1+e), append(dst, NumNodes-1)
		}
	}
	return src, dst
}

// EdgeOneHot writes the 30 one-hot edge-operation features of c into dst.
func EdgeOneHot(c Cell, dst []float32) {
	clear(dst[:EdgeFeatures])
	for e, op := range c {
		dst[e*NumOps+int(op)] = 1
	}
}

// NodeTypes writes the 8×7 one-hot node types of c into dst (columns:
// input, output, then the 5 operations).
func nodeTypes(c Cell, dst []float32) {
	clear(dst[:NumNodes*NodeTypes])
	dst[0*NodeTypes+0] = 1
	for e, op := range c {
		dst[(1+e)*NodeTypes+2+int(op)] = 1
	}
	dst[(NumNodes-1)*NodeTypes+1] = 1
}

// Features holds the precomputed inputs of a set of cells.
type Features struct {
	Cells []Cell
	Edge  []float32 // len(Cells)×30
	Node  []float32 // len(Cells)×8×7
}

// NewFeatures precomputes the features of cells. It returns an error for an
// operation index out of range.
func NewFeatures(cells []Cell) (*Features, error) {
	f := &Features{Cells: cells, Edge: make([]float32, len(cells)*EdgeFeatures), Node: make([]float32, len(cells)*NumNodes*NodeTypes)}
	for i, c := range cells {
		for e, op := range c {
			if int(op) >= NumOps {
				return nil, fmt.Errorf("tsft: cell %d edge %d has operation %d (want 0..%d)", i, e, op, NumOps-1)
			}
		}
		EdgeOneHot(c, f.Edge[i*EdgeFeatures:])
		nodeTypes(c, f.Node[i*NumNodes*NodeTypes:])
	}
	return f, nil
}

// Graphs is a batch of cell graphs for the GNN encoder: the node types of
// each cell flattened per cell (all cells share the DAG of CellDAG).
type Graphs struct {
	Batch int
	node  []float32
}

// Batch gathers the features of a batch of cells into reusable buffers.
type Batch struct {
	edge, node []float32
	g          Graphs
	withGraph  bool
}

// Edge returns the batch's one-hot edge features on t.
func (b *Batch) Edge(t *nn.Tape) *nn.Tensor {
	return t.Const(len(b.edge)/EdgeFeatures, EdgeFeatures, b.edge)
}

// Graphs returns the batch's cell graphs (nil when filled without graphs).
func (b *Batch) Graphs() *Graphs {
	if !b.withGraph {
		return nil
	}
	return &b.g
}

// Fill gathers the features of the cells idx of f; withGraph also gathers
// node features and the batched cell graph for the GNN encoder.
func (b *Batch) Fill(f *Features, idx []int, withGraph bool) {
	b.withGraph = withGraph
	n := len(idx)
	b.edge = grow(b.edge, n*EdgeFeatures)
	for k, i := range idx {
		copy(b.edge[k*EdgeFeatures:(k+1)*EdgeFeatures], f.Edge[i*EdgeFeatures:])
	}
	if withGraph {
		w := NumNodes * NodeTypes
		b.node = grow(b.node, n*w)
		for k, i := range idx {
			copy(b.node[k*w:(k+1)*w], f.Node[i*w:(i+1)*w])
		}
		b.g = Graphs{Batch: n, node: b.node}
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
