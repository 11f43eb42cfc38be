package nn

import "math"

// Lgamma returns ln Γ(a) elementwise (for a > 0); its derivative is the
// digamma function. Used by the Dirichlet distribution.
func (t *Tape) Lgamma(a *Tensor) *Tensor {
	return t.unary(a, func(x float32) float32 {
		v, _ := math.Lgamma(float64(x))
		return float32(v)
	}, func(x, _ float32) float32 { return float32(Digamma(float64(x))) })
}

// Digamma returns ψ(a) elementwise (for a > 0); its derivative is the
// trigamma function.
func (t *Tape) Digamma(a *Tensor) *Tensor {
	return t.unary(a, func(x float32) float32 { return float32(Digamma(float64(x))) },
		func(x, _ float32) float32 { return float32(Trigamma(float64(x))) })
}

// Digamma returns ψ(x) = d/dx ln Γ(x) for x > 0 (recurrence up to x ≥ 10,
// then the asymptotic series; absolute error below 1e-12).
func Digamma(x float64) float64 {
	if x <= 0 {
		return math.NaN()
	}
	var r float64
	for x < 10 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	return r + math.Log(x) - 0.5/x - f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f*(1.0/132)))))
}

// Trigamma returns ψ′(x) for x > 0 (recurrence up to x ≥ 10, then the
// asymptotic series).
func Trigamma(x float64) float64 {
	if x <= 0 {
		return math.NaN()
	}
	var r float64
	for x < 10 {
		r += 1 / (x * x)
		x++
	}
	f := 1 / (x * x)
	return r + 1/x + f/2 + f/x*(1.0/6-f*(1.0/30-f*(1.0/42-f*(1.0/30))))
}
