//go:build !amd64 || purego

package kernel

// platformKernels lists the SIMD kernels usable on this CPU, fastest first:
// none without amd64 assembly (or with the purego build tag).
func platformKernels() []Kernel { return nil }
