package kernel

// Available returns the implementations usable on this CPU, fastest first;
// Generic is always last. Use it for benchmark tables and cross-checks.
func Available() []Kernel {
	return append(platformKernels(), Generic{})
}

func init() {
	// The fastest measured implementation on the engine's shapes comes
	// first (see the benchmarks in kernel_bench_test.go).
	Active = Available()[0]
}
