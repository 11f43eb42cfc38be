//go:build !amd64 || purego

package nn

// tanhSlice sets dst[i] = tanh32(src[i]).
func tanhSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = tanh32(x)
	}
}
