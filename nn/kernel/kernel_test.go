package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

const sentinel = float32(-12345.5)

// refMatMul computes op(a)·op(b) (+ c0) in float64, and the sum of the
// absolute values of the terms of each element (for the error bound).
func refMatMul(c0, a, b []float32, m, k, n int, transA, transB, acc bool) (ref, mag []float64) {
	ref = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, ms float64
			if acc {
				s = float64(c0[i*n+j])
				ms = math.Abs(s)
			}
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*m+i]
				} else {
					av = a[i*k+p]
				}
				if transB {
					bv = b[j*k+p]
				} else {
					bv = b[p*n+j]
				}
				t := float64(av) * float64(bv)
				s += t
				ms += math.Abs(t)
			}
			ref[i*n+j] = s
			mag[i*n+j] = ms
		}
	}
	return ref, mag
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// checkOne runs kern on one problem and compares it with the reference.
func checkOne(t *testing.T, kern Kernel, r *rand.Rand, m, k, n int, transA, transB, acc bool) {
	t.Helper()
	a := randSlice(r, m*k)
	b := randSlice(r, k*n)
	c0 := randSlice(r, m*n)
	const pad = 37
	dst := make([]float32, m*n+pad)
	copy(dst, c0)
	for i := m * n; i < len(dst); i++ {
		dst[i] = sentinel
	}
	if !acc {
		for i := 0; i < m*n; i++ {
			dst[i] = float32(math.NaN()) // must be overwritten
		}
	}
	kern.MatMul(dst, a, b, m, k, n, transA, transB, acc)
	ref, mag := refMatMul(c0, a, b, m, k, n, transA, transB, acc)
	for i := 0; i < m*n; i++ {
		tol := 2e-6*float64(k+2)*mag[i] + 1e-30
		if d := math.Abs(float64(dst[i]) - ref[i]); !(d <= tol) {
			t.Fatalf("%s m=%d k=%d n=%d tA=%v tB=%v acc=%v: dst[%d,%d] = %g, want %g (tol %g)",
				kern.Name(), m, k, n, transA, transB, acc, i/n, i%n, dst[i], ref[i], tol)
		}
	}
	for i := m * n; i < len(dst); i++ {
		if dst[i] != sentinel {
			t.Fatalf("%s m=%d k=%d n=%d tA=%v tB=%v acc=%v: dst[%d] beyond m*n was written",
				kern.Name(), m, k, n, transA, transB, acc, i)
		}
	}
}

var testDims = []int{0, 1, 2, 3, 5, 7, 8, 13, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 61, 63, 64, 65, 67, 70}

func TestMatMulShapes(t *testing.T) {
	for _, kern := range Available() {
		t.Run(kern.Name(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for _, m := range testDims {
				for _, n := range testDims {
					k := testDims[r.IntN(len(testDims))]
					for v := 0; v < 8; v++ {
						checkOne(t, kern, r, m, k, n, v&1 != 0, v&2 != 0, v&4 != 0)
					}
				}
			}
			// Single rows use blocks of up to 8 vectors.
			for _, n := range []int{72, 80, 100, 113, 127, 128, 129, 200} {
				k := 1 + r.IntN(70)
				for v := 0; v < 8; v++ {
					checkOne(t, kern, r, 1, k, n, v&1 != 0, v&2 != 0, v&4 != 0)
				}
			}
			// Random shapes in 1..70, every k.
			for k := 0; k <= 70; k++ {
				m, n := 1+r.IntN(70), 1+r.IntN(70)
				v := r.IntN(8)
				checkOne(t, kern, r, m, k, n, v&1 != 0, v&2 != 0, v&4 != 0)
			}
		})
	}
}

func TestMatMulLarge(t *testing.T) {
	shapes := [][3]int{{256, 256, 256}, {256, 70, 256}, {1, 256, 256}, {256, 256, 1}, {67, 256, 131}, {97, 1100, 33}}
	if testing.Short() {
		shapes = shapes[:2]
	}
	for _, kern := range Available() {
		r := rand.New(rand.NewPCG(3, 4))
		for _, s := range shapes {
			for v := 0; v < 8; v++ {
				checkOne(t, kern, r, s[0], s[1], s[2], v&1 != 0, v&2 != 0, v&4 != 0)
			}
		}
	}
}

// TestMatMulNaN checks that a NaN in b reaches exactly the elements of C that
// depend on it.
func TestMatMulNaN(t *testing.T) {
	for _, kern := range Available() {
		a := []float32{1, 2, 3, 4}
		b := []float32{float32(math.NaN()), 1, 1, 1}
		dst := make([]float32, 4)
		kern.MatMul(dst, a, b, 2, 2, 2, false, false, false)
		if !math.IsNaN(float64(dst[0])) || !math.IsNaN(float64(dst[2])) || math.IsNaN(float64(dst[1])) {
			t.Errorf("%s: NaN not propagated per element: %v", kern.Name(), dst)
		}
	}
}

func TestMatMulPanicsOnShortSlices(t *testing.T) {
	for _, kern := range Available() {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic for short dst", kern.Name())
				}
			}()
			kern.MatMul(make([]float32, 3), make([]float32, 4), make([]float32, 4), 2, 2, 2, false, false, false)
		}()
	}
}

// engineShapes are the products of the MLP 32→64→64→8 train step at batch 64
// and of batch-1 inference.
type shape struct {
	name           string
	m, k, n        int
	transA, transB bool
	acc            bool
}

var engineShapes = []shape{
	{"fwd1_64x32x64", 64, 32, 64, false, false, true},
	{"fwd2_64x64x64", 64, 64, 64, false, false, true},
	{"fwd3_64x64x8", 64, 64, 8, false, false, true},
	{"dX1_64x64x32_NT", 64, 64, 32, false, true, true},
	{"dX2_64x64x64_NT", 64, 64, 64, false, true, true},
	{"dX3_64x8x64_NT", 64, 8, 64, false, true, true},
	{"dW1_32x64x64_TN", 32, 64, 64, true, false, true},
	{"dW2_64x64x64_TN", 64, 64, 64, true, false, true},
	{"dW3_64x64x8_TN", 64, 64, 8, true, false, true},
	{"inf1_1x32x64", 1, 32, 64, false, false, false},
	{"inf2_1x64x64", 1, 64, 64, false, false, false},
	{"inf3_1x64x8", 1, 64, 8, false, false, false},
}

func TestMatMulEngineShapes(t *testing.T) {
	for _, kern := range Available() {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range engineShapes {
			for _, acc := range []bool{false, true} {
				checkOne(t, kern, r, s.m, s.k, s.n, s.transA, s.transB, acc)
			}
		}
	}
}

func TestMatMulZeroAllocs(t *testing.T) {
	for _, kern := range Available() {
		for _, s := range engineShapes {
			for v := 0; v < 8; v++ {
				tA, tB, acc := v&1 != 0, v&2 != 0, v&4 != 0
				a := make([]float32, s.m*s.k)
				b := make([]float32, s.k*s.n)
				dst := make([]float32, s.m*s.n)
				kern.MatMul(dst, a, b, s.m, s.k, s.n, tA, tB, acc) // warm pools
				allocs := testing.AllocsPerRun(50, func() {
					kern.MatMul(dst, a, b, s.m, s.k, s.n, tA, tB, acc)
				})
				if allocs != 0 {
					t.Errorf("%s %s tA=%v tB=%v acc=%v: %v allocs per run", kern.Name(), s.name, tA, tB, acc, allocs)
				}
			}
		}
	}
}

// TestMatMulConcurrent runs many products at once (transB uses pooled
// scratch space; large sizes use the worker pool).
func TestMatMulConcurrent(t *testing.T) {
	for _, kern := range Available() {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 7))
				for it := 0; it < 20; it++ {
					m, k, n := 1+r.IntN(90), 1+r.IntN(90), 1+r.IntN(90)
					if it%5 == 0 {
						m, k, n = 260, 130, 260
					}
					a := randSlice(r, m*k)
					b := randSlice(r, k*n)
					dst := make([]float32, m*n)
					want := make([]float32, m*n)
					kern.MatMul(dst, a, b, m, k, n, false, true, false)
					Generic{}.MatMul(want, a, b, m, k, n, false, true, false)
					for i := range dst {
						if d := math.Abs(float64(dst[i] - want[i])); d > 1e-4*float64(k) {
							errs <- fmt.Errorf("%s goroutine %d: %dx%dx%d: dst[%d]=%g want %g", kern.Name(), g, m, k, n, i, dst[i], want[i])
							return
						}
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
