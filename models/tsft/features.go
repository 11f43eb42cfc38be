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
	// Ref holds, per cell, the weights of the reference latencies in the
	// cell's layer-wise prior (len(Cells)×len(refs); nil until SetPrior).
	Ref  []float32
	Refs int
}

// PriorLambda is the ridge strength of the layer-wise prior: a penalty
// λ‖β‖² on the coefficients of the operation counts (intercept free).
const PriorLambda = 0.1

// SetPrior prepares the layer-wise prior of Config.Prior: the ridge
// regression (PriorLambda) of the latencies of the reference cells refs on
// the operation counts, evaluated at every cell. The fit is linear in the
// reference latencies y, so the prior of cell c is Σ_k Ref[c,k]·y[k]; Ref
// is computed here once. It returns an error for a reference index out of
// range or fewer than 2 references.
func (f *Features) SetPrior(refs []int) error {
	n := len(refs)
	if n < 2 {
		return fmt.Errorf("tsft: the prior needs at least 2 reference cells, got %d", n)
	}
	x := make([][NumOps]float64, n)
	var mean [NumOps]float64
	for i, r := range refs {
		if r < 0 || r >= len(f.Cells) {
			return fmt.Errorf("tsft: reference cell %d out of range (%d cells)", r, len(f.Cells))
		}
		for _, op := range f.Cells[r] {
			x[i][op]++
		}
		for k := range mean {
			mean[k] += x[i][k] / float64(n)
		}
	}
	// M = (XcᵀXc + λI)⁻¹, Xc the centred counts.
	var a [NumOps][NumOps]float64
	for i := range x {
		for p := 0; p < NumOps; p++ {
			for q := 0; q < NumOps; q++ {
				a[p][q] += (x[i][p] - mean[p]) * (x[i][q] - mean[q])
			}
		}
	}
	for p := range a {
		a[p][p] += PriorLambda
	}
	m, ok := invert(a)
	if !ok {
		return fmt.Errorf("tsft: the prior's normal equations are singular")
	}
	// Ref[c,k] = 1/n + (x_c − x̄)ᵀ M (x_k − x̄).
	f.Ref, f.Refs = make([]float32, len(f.Cells)*n), n
	for c, cell := range f.Cells {
		var d [NumOps]float64
		for _, op := range cell {
			d[op]++
		}
		var u [NumOps]float64 // Mᵀ(x_c − x̄); M is symmetric
		for p := 0; p < NumOps; p++ {
			for q := 0; q < NumOps; q++ {
				u[p] += m[p][q] * (d[q] - mean[q])
			}
		}
		for k := range x {
			v := 1 / float64(n)
			for p := 0; p < NumOps; p++ {
				v += u[p] * (x[k][p] - mean[p])
			}
			f.Ref[c*n+k] = float32(v)
		}
	}
	return nil
}

// invert returns the inverse of a symmetric positive definite matrix by
// Gauss–Jordan elimination with partial pivoting.
func invert(a [NumOps][NumOps]float64) (inv [NumOps][NumOps]float64, ok bool) {
	for i := range inv {
		inv[i][i] = 1
	}
	for col := 0; col < NumOps; col++ {
		piv := col
		for r := col + 1; r < NumOps; r++ {
			if abs(a[r][col]) > abs(a[piv][col]) {
				piv = r
			}
		}
		if abs(a[piv][col]) < 1e-12 {
			return inv, false
		}
		a[col], a[piv] = a[piv], a[col]
		inv[col], inv[piv] = inv[piv], inv[col]
		d := a[col][col]
		for k := 0; k < NumOps; k++ {
			a[col][k] /= d
			inv[col][k] /= d
		}
		for r := 0; r < NumOps; r++ {
			if r == col || a[r][col] == 0 {
				continue
			}
			g := a[r][col]
			for k := 0; k < NumOps; k++ {
				a[r][k] -= g * a[col][k]
				inv[r][k] -= g * inv[col][k]
			}
		}
	}
	return inv, true
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
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
	edge, node, ref []float32
	refs            int
	g               Graphs
	withGraph       bool
}

// Ref returns the batch's prior weights on t (nil when the features have
// no prior, see Features.SetPrior).
func (b *Batch) Ref(t *nn.Tape) *nn.Tensor {
	if b.refs == 0 {
		return nil
	}
	return t.Const(len(b.ref)/b.refs, b.refs, b.ref)
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
	b.refs = f.Refs
	if f.Refs > 0 {
		b.ref = grow(b.ref, n*f.Refs)
		for k, i := range idx {
			copy(b.ref[k*f.Refs:(k+1)*f.Refs], f.Ref[i*f.Refs:])
		}
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
