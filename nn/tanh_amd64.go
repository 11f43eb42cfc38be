//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

var tanhAVX = cpu.X86.HasAVX && cpu.X86.HasAVX2

// tanhAVX2 writes tanh32 of n values (a multiple of 8) from src to dst with
// the same float32 operations in the same order as tanh32 (no fused
// multiply-add), so results are bit-identical to the scalar code.
//
//go:noescape
func tanhAVX2(dst, src *float32, n int)

// tanhSlice sets dst[i] = tanh32(src[i]).
func tanhSlice(dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	done := 0
	if tanhAVX && n >= 8 {
		done = n &^ 7
		tanhAVX2(&dst[0], &src[0], done)
	}
	for i := done; i < n; i++ {
		dst[i] = tanh32(src[i])
	}
}
