//go:build amd64 && !purego

package kernel

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

func TestTileArgsLayout(t *testing.T) {
	var a tileArgs
	var r trArgs
	got := []uintptr{
		unsafe.Offsetof(a.a), unsafe.Offsetof(a.b), unsafe.Offsetof(a.c), unsafe.Offsetof(a.k),
		unsafe.Offsetof(a.rsA), unsafe.Offsetof(a.csA), unsafe.Offsetof(a.ldb), unsafe.Offsetof(a.ldc),
		unsafe.Offsetof(a.kmask), unsafe.Offsetof(a.acc), unsafe.Offsetof(a.partial), unsafe.Offsetof(a.ymask),
		unsafe.Offsetof(r.dst), unsafe.Offsetof(r.src), unsafe.Offsetof(r.ldd), unsafe.Offsetof(r.lds),
		unsafe.Offsetof(r.rows), unsafe.Offsetof(r.cols), unsafe.Offsetof(r.colmask), unsafe.Offsetof(r.rowmask),
	}
	want := []uintptr{0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 96, 0, 8, 16, 24, 32, 40, 48, 56}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("field %d at offset %d, gen_asm.go assumes %d", i, got[i], want[i])
		}
	}
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, x := range []isa{isaAVX2, isaAVX512} {
		if x == isaAVX512 && !hasAVX512 || x == isaAVX2 && !hasAVX2 {
			continue
		}
		for rows := 1; rows <= 40; rows++ {
			for cols := 1; cols <= 40; cols++ {
				src := randSlice(r, rows*cols)
				dst := make([]float32, rows*cols+5)
				for i := range dst {
					dst[i] = sentinel
				}
				x.transpose(dst, src, rows, cols)
				for j := 0; j < rows; j++ {
					for p := 0; p < cols; p++ {
						if dst[p*rows+j] != src[j*cols+p] {
							t.Fatalf("isa %d %dx%d: dst[%d,%d] wrong", x, rows, cols, p, j)
						}
					}
				}
				for i := rows * cols; i < len(dst); i++ {
					if dst[i] != sentinel {
						t.Fatalf("isa %d %dx%d: wrote past the end", x, rows, cols)
					}
				}
			}
		}
	}
}

// TestParallelBitwise checks that products large enough to be split across
// goroutines give bit-identical results to the single-threaded run.
func TestParallelBitwise(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs")
	}
	defer func(v int) { maxThreads = v }(maxThreads)
	r := rand.New(rand.NewPCG(10, 11))
	shapes := [][3]int{{256, 256, 256}, {255, 129, 257}, {131, 900, 90}, {64, 1030, 140}}
	for _, kern := range platformKernels() {
		x := isaAVX2
		if _, ok := kern.(AVX512); ok {
			x = isaAVX512
		}
		for _, s := range shapes {
			m, k, n := s[0], s[1], s[2]
			p := newPlan(x, nil, nil, nil, m, k, n, false, false)
			maxThreads = 8
			if parallelism(&p) < 2 {
				t.Fatalf("%s %v: not run in parallel", kern.Name(), s)
			}
			for v := 0; v < 8; v++ {
				tA, tB, acc := v&1 != 0, v&2 != 0, v&4 != 0
				a := randSlice(r, m*k)
				b := randSlice(r, k*n)
				c0 := randSlice(r, m*n)
				d1 := append([]float32(nil), c0...)
				d2 := append([]float32(nil), c0...)
				maxThreads = 8
				kern.MatMul(d1, a, b, m, k, n, tA, tB, acc)
				maxThreads = 1
				kern.MatMul(d2, a, b, m, k, n, tA, tB, acc)
				for i := range d1 {
					if d1[i] != d2[i] {
						t.Fatalf("%s %v v=%d: element %d differs: %g (parallel) vs %g (serial)", kern.Name(), s, v, i, d1[i], d2[i])
					}
				}
			}
		}
	}
}
