// Package kernel holds the dense numeric kernels the nn engine is built on,
// behind one small interface so that the fastest measured implementation can
// be swapped in without touching ops or layers.
//
// All matrices are row-major float32 slices. The package never allocates in
// its hot paths.
package kernel

// Kernel is the set of dense primitives the engine needs.
type Kernel interface {
	// Name identifies the implementation in benchmark tables.
	Name() string
	// MatMul computes dst = op(a)·op(b) (acc == false) or dst += op(a)·op(b)
	// (acc == true), where dst is m×n, op(a) is m×k and op(b) is k×n.
	// op(a) = aᵀ when transA (a is then stored k×m), likewise for b (stored
	// n×k when transB). dst must not alias a or b.
	MatMul(dst, a, b []float32, m, k, n int, transA, transB, acc bool)
}

// Active is the kernel the engine uses. It is chosen at start-up (see
// select.go) and may be replaced by tests and benchmarks.
var Active Kernel = Generic{}

// Generic is the portable pure-Go reference implementation.
type Generic struct{}

// Name implements Kernel.
func (Generic) Name() string { return "generic" }

// MatMul implements Kernel.
func (Generic) MatMul(dst, a, b []float32, m, k, n int, transA, transB, acc bool) {
	checkLens(dst, a, b, m, k, n)
	if !acc {
		clear(dst[:m*n])
	}
	switch {
	case !transA && !transB:
		for i := 0; i < m; i++ {
			d := dst[i*n : i*n+n]
			ar := a[i*k : i*k+k]
			for p, av := range ar {
				if av == 0 {
					continue
				}
				br := b[p*n : p*n+n]
				for j, bv := range br {
					d[j] += av * bv
				}
			}
		}
	case transA && !transB: // a is k×m
		for p := 0; p < k; p++ {
			ar := a[p*m : p*m+m]
			br := b[p*n : p*n+n]
			for i, av := range ar {
				if av == 0 {
					continue
				}
				d := dst[i*n : i*n+n]
				for j, bv := range br {
					d[j] += av * bv
				}
			}
		}
	case !transA && transB: // b is n×k
		for i := 0; i < m; i++ {
			ar := a[i*k : i*k+k]
			d := dst[i*n : i*n+n]
			for j := 0; j < n; j++ {
				br := b[j*k : j*k+k]
				var s float32
				for p, av := range ar {
					s += av * br[p]
				}
				d[j] += s
			}
		}
	default: // a is k×m, b is n×k
		for i := 0; i < m; i++ {
			d := dst[i*n : i*n+n]
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*m+i] * b[j*k+p]
				}
				d[j] += s
			}
		}
	}
}

func checkLens(dst, a, b []float32, m, k, n int) {
	if m < 0 || k < 0 || n < 0 || len(dst) < m*n || len(a) < m*k || len(b) < k*n {
		panic("kernel: MatMul: slice too short for shape")
	}
}
