package optim

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/nn"
)

// clipEps is added to the norm in the clipping factor, as in PyTorch.
const clipEps = 1e-6

// ClipGradNorm rescales the gradients of params in place so that their global
// L2 norm (the norm of all gradient values taken together) is at most maxNorm,
// as torch.nn.utils.clip_grad_norm_ does, and returns the norm before
// clipping.
//
// The gradients are multiplied by c = maxNorm/(norm+1e-6) when c < 1, i.e.
// when norm > maxNorm - 1e-6; otherwise they are left unchanged. The norm is
// accumulated in float64. Pass maxNorm = math.Inf(1) to only measure the norm.
//
// If the norm is NaN or infinite (some gradient is NaN or ±Inf),
// ClipGradNorm returns it and leaves every
// gradient unchanged, so that the caller can skip the optimizer step (and
// zero the gradients) instead of corrupting the parameters. It panics if
// maxNorm is negative or NaN.
func ClipGradNorm(params []nn.NamedParam, maxNorm float64) (totalNorm float64) {
	if !(maxNorm >= 0) {
		panic(fmt.Sprintf("optim: ClipGradNorm: invalid maxNorm %v", maxNorm))
	}
	var sum float64
	for _, np := range params {
		sum += sumSquares(np.Param.V.Grad)
	}
	norm := math.Sqrt(sum)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	coef := maxNorm / (norm + clipEps)
	if coef >= 1 {
		return norm
	}
	c := float32(coef)
	for _, np := range params {
		g := np.Param.V.Grad
		for i := range g {
			g[i] *= c
		}
	}
	return norm
}

// sumSquares returns Σ x² in float64, with four partial sums so that the
// additions pipeline.
func sumSquares(x []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}
