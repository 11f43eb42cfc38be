package rlms

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// edgeKind says which SyncGNN edges a batch gets.
type edgeKind int

const (
	noEdges       edgeKind = iota // the MLP encoder
	nodePathEdges                 // the paper's: candidate ↔ its paths
	withPathEdges                 // and path ↔ path where paths share a link
)

// batch is a batch of R observations laid out as one disjoint graph — R·K
// compute vertices (row r·K+i is candidate i of observation r) and R·K·P
// path vertices (row (r·K+i)·P+j is path j of that candidate) — plus the
// index buffers of the heads. All slices are reused from call to call.
//
// Tape ops keep references to the edge, index and mask slices until
// Backward, so a batch used on a recording tape must not be refilled
// before Backward has run: the actors and the critic use a fresh batch on
// recording tapes and their own reused one on inference tapes (batchFor).
type batch struct {
	r, k, p int

	compute  []float32 // R·K × ComputeIn
	paths    []float32 // R·K·P × PathIn
	task     []float32 // R × TaskFeatures
	prior    []float32 // R·K: log(est_i / min est) of every candidate
	pathWF   []float32 // R·K·P: the controller's split (Path.Split)
	nodeMask []bool    // R·K
	pathMask []bool    // R·K·P
	src, dst []int     // SyncGNN edges, compute vertices first

	// Critic pools: the compute rows of existing candidates and the path
	// rows of their real (unmasked) paths, with their observation ids.
	cIdx, cSeg, pIdx, pSeg []int

	// Path head: the chosen candidate of each observation, the rows of its
	// P paths (R·P) and its compute row repeated P times (R·P).
	nodes, pRows, nRows []int

	pathPrior []float32 // R·P: log(pathWF + PriorEps) of the chosen candidates' paths

	// Subset head (SubsetActor.head): member rows and segments, the
	// chosen compute row, size, wf-support indicator and mask per subset.
	sIdx, sSeg, sNode []int
	sSize, sPrior     []float32
	sMask             []bool
	// subsets: the chosen subset of every observation (PathActor).
	subsets []int
	sPen    []float32 // R×P keep mask, then R×P logit penalties (subsets)

	// Action buffers.
	idx  []int
	vals []float32
}

// fill lays out obs, which must all have k candidates and p path rows, and
// builds the SyncGNN edges when edges is set. It panics with an "rlms:"
// message on an observation of another shape.
//
// Edges: node → path for every path row, and path → node for the rows
// PathMask allows (a masked row repeats a path or is absent, and must not
// count twice in the node's aggregate). Vertex ids are those of
// mpnn.SyncGNN.Forward: compute vertices 0 … R·K−1, then path vertices.
func (b *batch) fill(obs []cpn.Obs, k, p int, edges edgeKind) {
	r := len(obs)
	b.r, b.k, b.p = r, k, p
	nc, np := r*k, r*k*p
	b.compute = grow(b.compute, nc*ComputeIn)
	b.paths = grow(b.paths, np*PathIn)
	b.task = grow(b.task, r*TaskFeatures)
	b.prior = grow(b.prior, nc)
	b.pathWF = grow(b.pathWF, np)
	b.nodeMask = growBool(b.nodeMask, nc)
	b.pathMask = growBool(b.pathMask, np)
	for ri, o := range obs {
		checkObs(ri, o, k, p)
		task := b.task[ri*TaskFeatures : (ri+1)*TaskFeatures]
		encodeTask(o.Task, task)
		minEst := minEstimate(o)
		for i := 0; i < k; i++ {
			row := b.compute[(ri*k+i)*ComputeIn : (ri*k+i+1)*ComputeIn]
			ok := o.NodeMask == nil || o.NodeMask[i]
			if ok {
				encodeNode(&o.Nodes[i], minEst, row)
			} else {
				clear(row[:NodeFeatures])
			}
			copy(row[NodeFeatures:], task)
			b.prior[ri*k+i] = row[NodeEstRatio]
			b.nodeMask[ri*k+i] = ok
		}
		for q := 0; q < k*p; q++ {
			row := b.paths[(ri*k*p+q)*PathIn : (ri*k*p+q+1)*PathIn]
			if j := repeats(o, q, p); j >= 0 { // a repeated row: the measurements' features of the row it repeats
				copy(row, b.paths[(ri*k*p+j)*PathIn:(ri*k*p+j)*PathIn+PathFeatures])
				encodeShares(&o.Paths[q], row)
			} else {
				encodePath(&o.Paths[q], row)
			}
			copy(row[PathFeatures:], task)
			b.pathWF[ri*k*p+q] = o.Paths[q].Split
			b.pathMask[ri*k*p+q] = o.PathMask == nil || o.PathMask[q]
		}
	}
	b.src, b.dst = b.src[:0], b.dst[:0]
	if edges == noEdges {
		return
	}
	if cap(b.src) < 2*np {
		b.src, b.dst = make([]int, 0, 2*np), make([]int, 0, 2*np)
	}
	for q := 0; q < np; q++ {
		c, v := q/p, nc+q
		b.src = append(b.src, c)
		b.dst = append(b.dst, v)
		if b.pathMask[q] {
			b.src = append(b.src, v)
			b.dst = append(b.dst, c)
		}
	}
	if edges != withPathEdges {
		return
	}
	for ri, o := range obs {
		for q, ov := range o.Overlap {
			if ov { // path j of candidate i shares a link with its path k
				i, j, kk := q/(p*p), q/p%p, q%p
				b.src = append(b.src, nc+(ri*k+i)*p+kk)
				b.dst = append(b.dst, nc+(ri*k+i)*p+j)
			}
		}
	}
}

// repeats returns the earlier path row of the same candidate whose
// measurements path row q (masked: a repeat) has, or −1.
func repeats(o cpn.Obs, q, p int) int {
	if o.PathMask == nil || o.PathMask[q] {
		return -1
	}
	a := &o.Paths[q]
	for j := q - q%p; j < q; j++ {
		b := &o.Paths[j]
		if a.ProbeMs == b.ProbeMs && a.PropMs == b.PropMs && a.BottleneckBps == b.BottleneckBps && a.Hops == b.Hops &&
			a.Util == b.Util && a.AloneMs == b.AloneMs && a.SharedLinks == b.SharedLinks && a.SharedBottleneckBps == b.SharedBottleneckBps {
			return j
		}
	}
	return -1
}

// pools fills the critic's pooling indices (after fill).
func (b *batch) pools() {
	b.cIdx, b.cSeg, b.pIdx, b.pSeg = b.cIdx[:0], b.cSeg[:0], b.pIdx[:0], b.pSeg[:0]
	for c, ok := range b.nodeMask[:b.r*b.k] {
		if !ok {
			continue
		}
		b.cIdx = append(b.cIdx, c)
		b.cSeg = append(b.cSeg, c/b.k)
		for q := c * b.p; q < (c+1)*b.p; q++ {
			if b.pathMask[q] {
				b.pIdx = append(b.pIdx, q)
				b.pSeg = append(b.pSeg, c/b.k)
			}
		}
	}
}

// choose records the chosen candidate of every observation and fills the
// path head's gather rows (after fill). It panics on a candidate outside
// [0, K).
func (b *batch) choose(nodes []int) {
	if len(nodes) != b.r {
		panic(fmt.Sprintf("rlms: %d chosen candidates for %d observations", len(nodes), b.r))
	}
	b.nodes = growInt(b.nodes, b.r)
	copy(b.nodes, nodes)
	b.pRows = growInt(b.pRows, b.r*b.p)
	b.nRows = growInt(b.nRows, b.r*b.p)
	b.pathPrior = grow(b.pathPrior, b.r*b.p)
	for r, i := range nodes {
		if i < 0 || i >= b.k {
			panic(fmt.Sprintf("rlms: observation %d: chosen candidate %d outside [0,%d)", r, i, b.k))
		}
		c := r*b.k + i
		for j := 0; j < b.p; j++ {
			b.pRows[r*b.p+j] = c*b.p + j
			b.nRows[r*b.p+j] = c
			b.pathPrior[r*b.p+j] = float32(math.Log(max(float64(b.pathWF[c*b.p+j]), 0) + PriorEps))
		}
	}
}

// argmaxAllowed writes into dst (len R) the allowed column of largest logit
// of every row of the R×K logits (the first on ties). It panics on a row
// that allows nothing.
func argmaxAllowed(logits []float32, mask []bool, r, k int, dst []int) {
	for i := 0; i < r; i++ {
		best := -1
		for j := 0; j < k; j++ {
			if mask[i*k+j] && (best < 0 || logits[i*k+j] > logits[i*k+best]) {
				best = j
			}
		}
		if best < 0 {
			panic(fmt.Sprintf("rlms: observation %d allows no candidate", i))
		}
		dst[i] = best
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growInt(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	return b[:n]
}

func growBool(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	return b[:n]
}
