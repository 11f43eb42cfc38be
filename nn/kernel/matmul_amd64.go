//go:build !purego

package kernel

//go:generate go run gen_asm.go

import (
	"golang.org/x/sys/cpu"
)

// AVX512 is the AVX-512 micro-kernel implementation (16-lane ZMM vectors,
// tiles of up to 6×64 or 8×48 elements of C, 16×8 with two rows per vector
// for narrow blocks). It needs AVX-512F and VL besides AVX2 and FMA: use it
// only when Available lists it.
type AVX512 struct{}

// Name implements Kernel.
func (AVX512) Name() string { return "avx512" }

// MatMul implements Kernel.
func (AVX512) MatMul(dst, a, b []float32, m, k, n int, transA, transB, acc bool) {
	matmulSIMD(isaAVX512, dst, a, b, m, k, n, transA, transB, acc)
}

// AVX2 is the AVX2+FMA micro-kernel implementation (8-lane YMM vectors,
// tiles of up to 6×16 or 8×8 elements of C). Use it only when Available
// lists it (cpu.X86.HasAVX2 && cpu.X86.HasFMA).
type AVX2 struct{}

// Name implements Kernel.
func (AVX2) Name() string { return "avx2" }

// MatMul implements Kernel.
func (AVX2) MatMul(dst, a, b []float32, m, k, n int, transA, transB, acc bool) {
	matmulSIMD(isaAVX2, dst, a, b, m, k, n, transA, transB, acc)
}

var (
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// platformKernels lists the SIMD kernels usable on this CPU, fastest first.
func platformKernels() []Kernel {
	var ks []Kernel
	if hasAVX512 {
		ks = append(ks, AVX512{})
	}
	if hasAVX2 {
		ks = append(ks, AVX2{})
	}
	return ks
}

func (x isa) tile(mr, nv int, p *tileArgs) {
	switch x {
	case isaAVX512:
		k512Tile(mr, nv, p)
	case isaPair:
		kp512Tile(mr, p)
	default:
		k256Tile(mr, nv, p)
	}
}

// transposeSIMD writes the cols×rows transpose of the rows×cols matrix src
// into dst.
func (x isa) transpose(dst, src []float32, rows, cols int) {
	if x == isaAVX512 {
		var t trArgs
		t.ldd = rows * 4
		t.lds = cols * 4
		for j0 := 0; j0 < rows; j0 += 16 {
			r := min(16, rows-j0)
			t.rows = r
			t.rowmask = 1<<r - 1
			for p0 := 0; p0 < cols; p0 += 16 {
				c := min(16, cols-p0)
				t.cols = c
				t.colmask = 1<<c - 1
				t.src = &src[j0*cols+p0]
				t.dst = &dst[p0*rows+j0]
				transpose16(&t)
			}
		}
		return
	}
	var t trArgs
	t.ldd = rows * 4
	t.lds = cols * 4
	r8, c8 := rows&^7, cols&^7
	for j0 := 0; j0 < r8; j0 += 8 {
		for p0 := 0; p0 < c8; p0 += 8 {
			t.src = &src[j0*cols+p0]
			t.dst = &dst[p0*rows+j0]
			transpose8(&t)
		}
	}
	transposeGo(dst, src, rows, cols, 0, r8, c8, cols)
	transposeGo(dst, src, rows, cols, r8, rows, 0, cols)
}
