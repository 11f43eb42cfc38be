//go:build amd64 && !purego

package optim

import "golang.org/x/sys/cpu"

var useAVX = cpu.X86.HasAVX && cpu.X86.HasAVX2

// adamAVX updates n elements (a multiple of 8) with AVX: the same float32
// operations in the same order as adamKernel's loop (no fused multiply-add),
// so results are bit-identical to the scalar code and to torch.optim.Adam.
//
//go:noescape
func adamAVX(p, grad, m, v *float32, n int, k *adamScalars)

func adamFast(p, g, m, v []float32, k *adamScalars) int {
	if !useAVX {
		return 0
	}
	n := len(p) &^ 7
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	adamAVX(&p[0], &g[0], &m[0], &v[0], n, k)
	return n
}
