package optim_test

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// point is a module with a single 1×2 parameter.
type point struct{ X *nn.Param }

func (p *point) Params(visit func(string, *nn.Param)) { visit("x", p.X) }

// Minimise f(x) = (x₀-3)² + (x₁+1)² with Adam, a warm-up and cosine decay.
func ExampleNewAdam() {
	m := &point{X: nn.NewParam(1, 2)}
	params := nn.Collect(m)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	sched := optim.Cosine{Base: 0.1, Min: 1e-4, Warmup: 10, Total: 500}
	for range 500 {
		x := m.X.V.Data
		m.X.V.Grad[0] = 2 * (x[0] - 3)
		m.X.V.Grad[1] = 2 * (x[1] + 1)
		optim.ClipGradNorm(params, 1)
		optim.ApplySchedule(opt, sched)
		opt.Step()
	}
	fmt.Printf("x = (%.3f, %.3f) after %d steps\n", m.X.V.Data[0], m.X.V.Data[1], opt.StepCount())
	// Output: x = (3.000, -1.000) after 500 steps
}

// The learning rate of a cosine schedule with two warm-up steps.
func ExampleCosine() {
	s := optim.Cosine{Base: 1, Min: 0, Warmup: 2, Total: 6}
	for step := int64(0); step <= 6; step++ {
		fmt.Printf("%.3f ", s.LR(step))
	}
	fmt.Println()
	// Output: 0.500 1.000 1.000 0.854 0.500 0.146 0.000
}

// Linear decay to zero is CleanRL's anneal_lr.
func ExampleLinear() {
	s := optim.Linear{Base: 2.5e-4, Total: 4}
	for it := int64(0); it < 4; it++ {
		fmt.Printf("%.4g ", s.LR(it))
	}
	fmt.Println()
	// Output: 0.00025 0.0001875 0.000125 6.25e-05
}
