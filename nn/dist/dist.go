// Package dist holds the action distributions of the policies: a masked
// categorical (discrete choices such as a compute node), a diagonal Gaussian
// (continuous actions) and a Dirichlet (split ratios over k paths that sum
// to 1).
//
// Each distribution is built from tape tensors (R rows = R independent
// distributions, e.g. a batch of states), so LogProb and Entropy are
// differentiable with respect to the network outputs that parameterise
// them. Sampling uses an explicit *rand.Rand and records nothing.
//
// Shapes: LogProb and Entropy return R×1 columns.
package dist

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
)

// Categorical is a batch of categorical distributions over the columns of
// Logits, restricted to the allowed entries of Mask (nil: all allowed).
type Categorical struct {
	Logits *nn.Tensor
	Mask   []bool
	t      *nn.Tape
	logp   *nn.Tensor
}

// NewCategorical returns the distributions softmax(logits) over allowed
// entries. It panics if a row allows nothing or the mask has the wrong size.
func NewCategorical(t *nn.Tape, logits *nn.Tensor, mask []bool) *Categorical {
	return &Categorical{Logits: logits, Mask: mask, t: t, logp: t.MaskedLogSoftmax(logits, mask)}
}

// LogProbs returns the R×n log-probabilities (−Inf where masked).
func (c *Categorical) LogProbs() *nn.Tensor { return c.logp }

// LogProb returns the R×1 log-probabilities of actions (one per row).
func (c *Categorical) LogProb(actions []int) *nn.Tensor { return c.t.PickCols(c.logp, actions) }

// Entropy returns the R×1 entropies over allowed entries.
func (c *Categorical) Entropy() *nn.Tensor { return c.t.Entropy(c.Logits, c.Mask) }

// Sample draws one action per row into dst (allocated when nil or short).
// A masked entry is never drawn.
func (c *Categorical) Sample(rng *rand.Rand, dst []int) []int {
	r, n := c.logp.Rows, c.logp.Cols
	if cap(dst) < r {
		dst = make([]int, r)
	}
	dst = dst[:r]
	for i := 0; i < r; i++ {
		u := rng.Float64()
		var acc float64
		last := -1
		dst[i] = -1
		for j, l := range c.logp.Data[i*n : (i+1)*n] {
			if c.Mask != nil && !c.Mask[i*n+j] {
				continue
			}
			last = j
			acc += math.Exp(float64(l))
			if u < acc {
				dst[i] = j
				break
			}
		}
		if dst[i] < 0 { // rounding left u above the total: take the last allowed
			dst[i] = last
		}
	}
	return dst
}

// Mode returns the most probable allowed action of each row.
func (c *Categorical) Mode(dst []int) []int {
	r, n := c.logp.Rows, c.logp.Cols
	if cap(dst) < r {
		dst = make([]int, r)
	}
	dst = dst[:r]
	for i := 0; i < r; i++ {
		best := -1
		for j, l := range c.logp.Data[i*n : (i+1)*n] {
			if c.Mask != nil && !c.Mask[i*n+j] {
				continue
			}
			if best < 0 || l > c.logp.Data[i*n+best] {
				best = j
			}
		}
		dst[i] = best
	}
	return dst
}

// Gaussian is a batch of diagonal Gaussians N(Mean, exp(LogStd)²).
type Gaussian struct {
	Mean, LogStd *nn.Tensor
	t            *nn.Tape
}

// NewGaussian returns the distributions; logStd is R×d or 1×d (shared,
// state-independent, as CleanRL's continuous PPO).
func NewGaussian(t *nn.Tape, mean, logStd *nn.Tensor) *Gaussian {
	if logStd.Cols != mean.Cols || (logStd.Rows != mean.Rows && logStd.Rows != 1) {
		panic(fmt.Sprintf("dist: Gaussian log-std %s does not fit mean %s", logStd.Shape(), mean.Shape()))
	}
	return &Gaussian{Mean: mean, LogStd: logStd, t: t}
}

var halfLog2Pi = float32(0.5 * math.Log(2*math.Pi))

// LogProb returns Σ_j log N(x_ij; μ_ij, σ_j²) per row (x is R×d, a constant).
func (g *Gaussian) LogProb(x *nn.Tensor) *nn.Tensor {
	t := g.t
	z := t.Div(t.Sub(x, g.Mean), t.Exp(g.LogStd))
	lp := t.Sub(t.Scale(t.Square(z), -0.5), g.LogStd)
	return t.AddScalar(t.SumRows(lp), -halfLog2Pi*float32(g.Mean.Cols))
}

// Entropy returns Σ_j (log σ_j + ½ log 2πe) per row.
func (g *Gaussian) Entropy() *nn.Tensor {
	t := g.t
	ls := g.LogStd
	if ls.Rows != g.Mean.Rows { // broadcast the shared log-std to every row
		ls = t.Add(ls, t.Zeros(g.Mean.Rows, ls.Cols))
	}
	return t.AddScalar(t.SumRows(ls), (halfLog2Pi+0.5)*float32(g.Mean.Cols))
}

// Sample draws x = μ + σ·ε into a new R×d tensor (no gradient).
func (g *Gaussian) Sample(rng *rand.Rand) *nn.Tensor {
	r, d := g.Mean.Rows, g.Mean.Cols
	x := nn.New(r, d)
	for i := 0; i < r; i++ {
		for j := 0; j < d; j++ {
			li := j
			if g.LogStd.Rows > 1 {
				li = i*d + j
			}
			s := math.Exp(float64(g.LogStd.Data[li]))
			x.Data[i*d+j] = g.Mean.Data[i*d+j] + float32(s*rng.NormFloat64())
		}
	}
	return x
}

// Dirichlet is a batch of Dirichlet distributions over the simplex, with
// concentrations Alpha (R×k, all > 0). Its samples are split ratios: k
// non-negative values summing to 1.
type Dirichlet struct {
	Alpha *nn.Tensor
	t     *nn.Tape
}

// NewDirichlet returns the distributions. Policies usually produce alpha as
// softplus(logits) + a small floor so it stays positive.
func NewDirichlet(t *nn.Tape, alpha *nn.Tensor) *Dirichlet {
	if alpha.Cols < 2 {
		panic(fmt.Sprintf("dist: Dirichlet needs at least 2 components, got %s", alpha.Shape()))
	}
	return &Dirichlet{Alpha: alpha, t: t}
}

// LogProb returns log Γ(α₀) − Σ log Γ(α_j) + Σ (α_j − 1) log x_j per row.
// x is R×k on the open simplex (a constant); components are clamped at 1e-12
// before the log so that a sampled exact zero stays finite.
func (d *Dirichlet) LogProb(x *nn.Tensor) *nn.Tensor {
	t := d.t
	logx := t.Log(t.Clamp(x, 1e-12, 1))
	a0 := t.SumRows(d.Alpha)
	s := t.Sub(t.Lgamma(a0), t.SumRows(t.Lgamma(d.Alpha)))
	return t.Add(s, t.SumRows(t.Mul(t.AddScalar(d.Alpha, -1), logx)))
}

// Entropy returns log B(α) + (α₀ − k)ψ(α₀) − Σ (α_j − 1)ψ(α_j) per row.
func (d *Dirichlet) Entropy() *nn.Tensor {
	t := d.t
	k := float32(d.Alpha.Cols)
	a0 := t.SumRows(d.Alpha)
	logB := t.Sub(t.SumRows(t.Lgamma(d.Alpha)), t.Lgamma(a0))
	h := t.Add(logB, t.Mul(t.AddScalar(a0, -k), t.Digamma(a0)))
	return t.Sub(h, t.SumRows(t.Mul(t.AddScalar(d.Alpha, -1), t.Digamma(d.Alpha))))
}

// Mean returns α/α₀ as a new R×k tensor (no gradient): the expected split.
func (d *Dirichlet) Mean() *nn.Tensor {
	r, k := d.Alpha.Rows, d.Alpha.Cols
	m := nn.New(r, k)
	for i := 0; i < r; i++ {
		var s float32
		for _, a := range d.Alpha.Data[i*k : (i+1)*k] {
			s += a
		}
		for j, a := range d.Alpha.Data[i*k : (i+1)*k] {
			m.Data[i*k+j] = a / s
		}
	}
	return m
}

// Sample draws one point of the simplex per row (normalised Gamma(α_j, 1)
// variates) into a new R×k tensor (no gradient).
func (d *Dirichlet) Sample(rng *rand.Rand) *nn.Tensor {
	r, k := d.Alpha.Rows, d.Alpha.Cols
	x := nn.New(r, k)
	for i := 0; i < r; i++ {
		var s float64
		row := make([]float64, k)
		for j, a := range d.Alpha.Data[i*k : (i+1)*k] {
			row[j] = Gamma(rng, float64(a))
			s += row[j]
		}
		if s == 0 { // all variates underflowed (tiny α): fall back to the mean
			copy(x.Data[i*k:(i+1)*k], d.Mean().Data[i*k:(i+1)*k])
			continue
		}
		for j := range row {
			x.Data[i*k+j] = float32(row[j] / s)
		}
	}
	return x
}

// Gamma draws from Gamma(shape, 1) by Marsaglia and Tsang's method (2000),
// with the shape+1 boost for shape < 1. It returns NaN for shape ≤ 0.
func Gamma(rng *rand.Rand, shape float64) float64 {
	if !(shape > 0) {
		return math.NaN()
	}
	if shape < 1 {
		u := rng.Float64()
		return Gamma(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
