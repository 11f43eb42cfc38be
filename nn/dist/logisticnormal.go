package dist

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
)

// LogisticNormal is a batch of logistic-normal distributions over the
// simplex: z ~ N(Logits, σ²·I) per row, x = softmax(z), with one shared
// σ = exp(LogStd) (a 1×1 tensor, usually a learned parameter). Its samples
// are split ratios; its deterministic split is softmax(Logits).
//
// softmax is invariant to adding a constant to z, so the density of x is
// that of the k−1 log-ratios d_j = log x_j − log x_k, which are Gaussian
// with mean m_j = l_j − l_k and covariance σ²(I + 11ᵀ):
//
//	log p(x) = −(‖e‖² − (Σ_j e_j)²/k) / (2σ²) − (k−1)(log σ + ½ log 2π) − ½ log k − Σ_j log x_j
//
// with e = d − m. The last term (the Jacobian of x ↦ d) does not depend on
// the parameters and is left out, as is usual for policy gradients: LogProb
// is the log-density of the log-ratios.
type LogisticNormal struct {
	Logits, LogStd *nn.Tensor
	t              *nn.Tape
}

// NewLogisticNormal returns the distributions (logits R×k, k ≥ 2; logStd
// 1×1).
func NewLogisticNormal(t *nn.Tape, logits, logStd *nn.Tensor) *LogisticNormal {
	if logits.Cols < 2 || logStd.Rows != 1 || logStd.Cols != 1 {
		panic(fmt.Sprintf("dist: LogisticNormal needs R×k logits (k ≥ 2) and a 1×1 log-std, got %s and %s", logits.Shape(), logStd.Shape()))
	}
	return &LogisticNormal{Logits: logits, LogStd: logStd, t: t}
}

// LogProb returns the log-density of the log-ratios of x (R×k, a constant
// on the open simplex; components are clamped at 1e-30 before the log).
func (d *LogisticNormal) LogProb(x *nn.Tensor) *nn.Tensor {
	t := d.t
	r, k := x.Rows, x.Cols
	lr := make([]float32, r*(k-1))
	for i := 0; i < r; i++ {
		last := math.Log(math.Max(float64(x.Data[i*k+k-1]), 1e-30))
		for j := 0; j < k-1; j++ {
			lr[i*(k-1)+j] = float32(math.Log(math.Max(float64(x.Data[i*k+j]), 1e-30)) - last)
		}
	}
	m := t.Sub(t.SliceCols(d.Logits, 0, k-1), t.SliceCols(d.Logits, k-1, k))
	e := t.Sub(t.Const(r, k-1, lr), m)
	s := t.SumRows(e)
	q := t.Sub(t.SumRows(t.Square(e)), t.Scale(t.Square(s), 1/float32(k)))
	invVar := t.Exp(t.Scale(d.LogStd, -2))
	c := float32(float64(k-1)*0.5*math.Log(2*math.Pi) + 0.5*math.Log(float64(k)))
	return t.AddScalar(t.Sub(t.Scale(t.Mul(q, invVar), -0.5), t.Scale(d.LogStd, float32(k-1))), -c)
}

// Entropy returns the entropy of the log-ratios' Gaussian per row:
// (k−1)(log σ + ½ log 2πe) + ½ log k.
func (d *LogisticNormal) Entropy() *nn.Tensor {
	t := d.t
	k := d.Logits.Cols
	c := float32(float64(k-1)*0.5*math.Log(2*math.Pi*math.E) + 0.5*math.Log(float64(k)))
	h := t.AddScalar(t.Scale(d.LogStd, float32(k-1)), c)
	return t.Add(t.Zeros(d.Logits.Rows, 1), h)
}

// Mode returns softmax(Logits) as a new R×k tensor (no gradient): the
// split of the noise-free logits.
func (d *LogisticNormal) Mode() *nn.Tensor {
	return softmaxRows(d.Logits.Data, d.Logits.Rows, d.Logits.Cols, nil, 0)
}

// Sample draws x = softmax(Logits + σ·ε) per row into a new R×k tensor.
func (d *LogisticNormal) Sample(rng *rand.Rand) *nn.Tensor {
	return softmaxRows(d.Logits.Data, d.Logits.Rows, d.Logits.Cols, rng, math.Exp(float64(d.LogStd.Data[0])))
}

// softmaxRows returns softmax(l + σε) per row of the r×k logits l (ε ~ N(0,1)
// from rng; no noise when rng is nil).
func softmaxRows(l []float32, r, k int, rng *rand.Rand, sigma float64) *nn.Tensor {
	x := nn.New(r, k)
	z := make([]float64, k)
	for i := 0; i < r; i++ {
		mx := math.Inf(-1)
		for j := range z {
			z[j] = float64(l[i*k+j])
			if rng != nil {
				z[j] += sigma * rng.NormFloat64()
			}
			mx = math.Max(mx, z[j])
		}
		var s float64
		for j := range z {
			z[j] = math.Exp(z[j] - mx)
			s += z[j]
		}
		for j := range z {
			x.Data[i*k+j] = float32(z[j] / s)
		}
	}
	return x
}
