//go:build amd64 && !purego

// The SIMD kernels split C into row tiles (at most 6 rows when n > 48, 8
// when n ≤ 48, 16 when n ≤ 8; balanced so tile heights differ by at most
// one) and column blocks (4 vectors = 64 columns for AVX-512, 2 vectors = 16
// columns for AVX2; up to 8 vectors when m = 1). Each tile × block is one call
// of a generated assembly micro-kernel (gen_asm.go) that keeps the whole tile
// of C in vector registers over the k loop, broadcasting A elements with
// general strides (so op(a) = aᵀ costs nothing) and loading B rows directly
// from b. A partial last vector is handled with lane masks. For transB, b is
// first transposed into a pooled scratch buffer. Blocks at most 8 columns wide
// use AVX-512 kernels that hold two rows per ZMM vector.
//
// The decomposition depends only on the shape, and each element of C is
// computed by exactly one micro-kernel call, so results are bitwise identical
// however many goroutines share the work (products of at least parallelFlops
// floating-point operations are split by row tiles).

package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// isa selects the micro-kernel family.
type isa uint8

const (
	isaAVX2 isa = iota
	isaAVX512
	isaPair // AVX-512 paired-row kernels for blocks at most 8 wide
)

// tileArgs describes one micro-kernel call. Field offsets are hard-coded in
// gen_asm.go (and checked by TestTileArgsLayout).
type tileArgs struct {
	a, b, c  *float32 // tile origins
	k        int      // inner dimension (≥ 1)
	rsA, csA int      // bytes between rows of A / between successive p
	ldb, ldc int      // row strides of B and C in bytes
	kmask    uint64   // AVX-512 lane mask of the last vector of a row
	acc      uint64   // non-zero: C += A·B, else C = A·B
	partial  uint64   // non-zero: the last vector of a row is partial (AVX2)
	_        uint64
	ymask    [8]int32 // AVX2 lane mask of the last vector of a row
}

// trArgs describes one transpose block call.
type trArgs struct {
	dst, src         *float32
	ldd, lds         int // row strides in bytes
	rows, cols       int // block size in src (≤ 16, full 8×8 for AVX2)
	colmask, rowmask uint64
}

const (
	// kc is the k-blocking depth: longer inner dimensions are split into
	// chunks accumulated into C one after the other.
	kc = 512
	// parallelFlops is the work (2·m·k·n) above which rows are split
	// across goroutines.
	parallelFlops = 1 << 24
)

var ymasks = func() (t [9][8]int32) {
	for r := range t {
		for i := 0; i < r; i++ {
			t[r][i] = -1
		}
	}
	return
}()

// plan is the fixed decomposition of one MatMul into tiles. It depends only
// on the shape, never on the number of goroutines.
type plan struct {
	x        isa
	dst, a   []float32
	b        []float32 // k×n, row-major
	m, k, n  int
	rsA, csA int // elements
	acc      bool
	tiles    int // number of row tiles
	base     int // rows per tile (the first extra tiles have one more)
	extra    int
}

func newPlan(x isa, dst, a, b []float32, m, k, n int, transA, acc bool) plan {
	var p plan
	p.init(x, dst, a, b, m, k, n, transA, acc)
	return p
}

func (p *plan) init(x isa, dst, a, b []float32, m, k, n int, transA, acc bool) {
	p.x, p.dst, p.a, p.b, p.m, p.k, p.n, p.acc = x, dst, a, b, m, k, n, acc
	p.rsA, p.csA = k, 1
	if transA {
		p.rsA, p.csA = 1, m
	}
	// Rows per tile: at most 6 when the main column block is maxNV vectors
	// wide, else 8; tiles are balanced (sizes differ by at most one).
	var mrMax int
	if x == isaAVX512 {
		switch {
		case n <= 8:
			mrMax = 16 // paired-row kernels
		case n <= 48:
			mrMax = 8
		default:
			mrMax = 6
		}
	} else {
		mrMax = 8
		if n > 8 {
			mrMax = 6
		}
	}
	if m <= mrMax {
		p.tiles, p.base, p.extra = 1, m, 0
		return
	}
	switch mrMax {
	case 16:
		p.tiles = (m + 15) / 16
	case 8:
		p.tiles = (m + 7) / 8
	default:
		p.tiles = (m + 5) / 6
	}
	p.base = m / p.tiles
	p.extra = m - p.base*p.tiles
}

// blockWidth returns the width of the column blocks.
// Single-row kernels take up to 8 vectors, others 4 (AVX-512) or 2 (AVX2).
func blockWidth(x isa, m int) int {
	switch {
	case m == 1 && x == isaAVX512:
		return 128
	case m == 1:
		return 64
	case x == isaAVX512:
		return 64
	default:
		return 16
	}
}

// rowStart returns the first row of tile t.
func (p *plan) rowStart(t int) int { return t*p.base + min(t, p.extra) }

// setBlock sets the lane masks of t for a column block w wide and returns
// the kernel family and the number of vectors per row to use for it.
func setBlock(t *tileArgs, x isa, w int) (isa, int) {
	bsh := uint(3)
	if x == isaAVX512 {
		bsh = 4
	}
	if w <= 8 {
		// A block at most 8 wide runs on paired-row ZMM kernels (AVX-512)
		// or full YMM vectors.
		bsh = 3
		if x == isaAVX512 {
			x = isaPair
		}
	}
	bl := 1 << bsh
	nv := (w + bl - 1) >> bsh
	rem := w - (nv-1)<<bsh
	t.kmask = 1<<rem - 1
	t.partial = 0
	if rem < bl {
		t.partial = 1
	}
	if bl == 8 {
		t.ymask = ymasks[rem]
	}
	return x, nv
}

// run computes the row tiles [t0, t1).
func (p *plan) run(t0, t1 int) {
	nr := blockWidth(p.x, p.m)
	n, k := p.n, p.k
	var t tileArgs
	t.rsA = p.rsA * 4
	t.csA = p.csA * 4
	t.ldb = n * 4
	t.ldc = n * 4
	r0, r1 := p.rowStart(t0), p.rowStart(t1)
	for k0 := 0; k0 < k; k0 += kc {
		t.k = min(kc, k-k0)
		t.acc = 0
		if p.acc || k0 > 0 {
			t.acc = 1
		}
		for j0 := 0; j0 < n; j0 += nr {
			w := min(nr, n-j0)
			x, nv := setBlock(&t, p.x, w)
			t.b = &p.b[k0*n+j0]
			for i0 := r0; i0 < r1; {
				mr := p.base
				if i0 < p.extra*(p.base+1) {
					mr++
				}
				t.a = &p.a[i0*p.rsA+k0*p.csA]
				t.c = &p.dst[i0*n+j0]
				x.tile(mr, nv, &t)
				i0 += mr
			}
		}
	}
}

func matmulSIMD(x isa, dst, a, b []float32, m, k, n int, transA, transB, acc bool) {
	checkLens(dst, a, b, m, k, n)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			clear(dst[:m*n])
		}
		return
	}
	// b is stored n×k: the kernels need it k×n. (With n or k equal to 1
	// both layouts are the same.)
	transB = transB && n > 1 && k > 1
	if m <= 6 && k <= kc && !transB && n <= blockWidth(x, m) {
		// One tile: call its micro-kernel directly.
		var t tileArgs
		t.a, t.b, t.c, t.k = &a[0], &b[0], &dst[0], k
		t.rsA, t.csA = k*4, 4
		if transA {
			t.rsA, t.csA = 4, m*4
		}
		t.ldb, t.ldc = n*4, n*4
		if acc {
			t.acc = 1
		}
		xb, nv := setBlock(&t, x, n)
		xb.tile(m, nv, &t)
		return
	}
	var p plan
	p.init(x, dst, a, b, m, k, n, transA, acc)
	if parts := parallelism(&p); parts > 1 {
		// Each goroutine transposes b itself: reading a copy freshly
		// written by another core would cost more than the transpose.
		var bsrc []float32
		if transB {
			bsrc, p.b = b, nil
		}
		runParallel(p, parts, bsrc)
		return
	}
	var sp *[]float32
	if transB {
		sp = getScratch(k * n)
		x.transpose(*sp, b, n, k)
		p.b = *sp
	}
	p.run(0, p.tiles)
	if sp != nil {
		scratchPool.Put(sp)
	}
}

// maxThreads caps the goroutines one MatMul uses (tests set it to 1 to
// check that results do not depend on it).
var maxThreads = 8

// parallelism returns how many goroutines should share p.
func parallelism(p *plan) int {
	if 2*p.m*p.k*p.n < parallelFlops || p.tiles < 2 {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), runtime.NumCPU(), p.tiles, maxThreads)
}

var scratchPool = sync.Pool{New: func() any { return new([]float32) }}

func getScratch(n int) *[]float32 {
	sp := scratchPool.Get().(*[]float32)
	if cap(*sp) < n {
		*sp = make([]float32, n)
	}
	*sp = (*sp)[:n]
	return sp
}

// Worker pool for large products. The row tiles are cut into units claimed
// in order from a shared counter by the caller and by the helpers it posts to
// long-lived workers, so a helper that starts late (waking an idle CPU can
// take long in a VM) only takes fewer units; a helper that has not started
// when all units are claimed is cancelled. Each unit is always computed the
// same way, so the result does not depend on who computes what.

type task struct {
	p     plan
	bsrc  []float32 // if not nil, b stored n×k, to transpose into p.b
	units int       // number of units
	per   int       // tiles per unit
	next  atomic.Int64
	state [maxHelpers]atomic.Int32 // helper i: 0 pending, 1 running, 2 cancelled
	wg    sync.WaitGroup
}

const maxHelpers = 8

type job struct {
	t *task
	i int
}

var (
	workersOnce sync.Once
	jobs        chan job
)

func startWorkers() {
	jobs = make(chan job, 4*maxHelpers)
	for i := 0; i < min(runtime.NumCPU(), maxHelpers+1)-1; i++ {
		go worker()
	}
}

// spinWait is how long a worker keeps polling for the next job after one,
// so that back-to-back large products find it awake (waking an idle CPU can
// take tens of µs, more in a VM).
const spinWait = 50 * time.Microsecond

func worker() {
	for {
		j := <-jobs
		for {
			if j.t.state[j.i].CompareAndSwap(0, 1) {
				j.t.work()
				j.t.wg.Done()
			}
			var ok bool
			if j, ok = pollJob(); !ok {
				break
			}
		}
	}
}

// pollJob polls the job queue for up to spinWait.
func pollJob() (job, bool) {
	start := time.Now()
	for {
		for i := 0; i < 64; i++ {
			select {
			case j := <-jobs:
				return j, true
			default:
			}
		}
		if time.Since(start) > spinWait {
			return job{}, false
		}
		runtime.Gosched()
	}
}

// work computes units until none is left.
func (t *task) work() {
	p := &t.p
	if t.bsrc != nil {
		if t.next.Load() >= int64(t.units) {
			return
		}
		sp := getScratch(p.k * p.n)
		defer scratchPool.Put(sp)
		p.x.transpose(*sp, t.bsrc, p.n, p.k)
		lp := *p
		lp.b = *sp
		p = &lp
	}
	for {
		u := int(t.next.Add(1) - 1)
		if u >= t.units {
			return
		}
		p.run(u*t.per, min((u+1)*t.per, p.tiles))
	}
}

func runParallel(pv plan, parts int, bsrc []float32) {
	workersOnce.Do(startWorkers)
	helpers := min(parts-1, maxHelpers)
	t := &task{p: pv, bsrc: bsrc}
	// Units of one row tile (a few µs of work at these sizes) keep the
	// time the caller may wait for a helper's last unit short.
	t.per = max(1, t.p.tiles/(64*parts))
	t.units = (t.p.tiles + t.per - 1) / t.per
	t.wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		jobs <- job{t: t, i: i}
	}
	t.work()
	for i := 0; i < helpers; i++ {
		if t.state[i].CompareAndSwap(0, 2) {
			t.wg.Done() // never started: cancelled
		}
	}
	t.wg.Wait()
}

// transposeGo writes dst[p*rows+j] = src[j*cols+p] for j in [j0, j1) and p
// in [p0, p1): part of the cols×rows transpose of the rows×cols matrix src.
func transposeGo(dst, src []float32, rows, cols, j0, j1, p0, p1 int) {
	for j := j0; j < j1; j++ {
		s := src[j*cols+p0 : j*cols+p1]
		for i, v := range s {
			dst[(p0+i)*rows+j] = v
		}
	}
}
