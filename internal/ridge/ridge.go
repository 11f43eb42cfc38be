// Package ridge is the project's one ridge-regression solver: the
// layer-wise and FLOPS latency baselines (models/baselines) and the
// additive model of TSFT's layer-wise blend (models/tsft) fit
//
//	y ≈ b + Σ_j β_j x_j,  minimising ‖y − b − Xβ‖² + λ‖D β‖²
//
// with it. The intercept b is not penalised. D is the identity (Centre: λ
// acts on the coefficients in the units of x) or the columns' standard
// deviations (Standardise: λ acts on the coefficients of the standardised
// columns).
//
// # Method
//
// New centres the columns (and, for Standardise, scales them to unit
// population variance), giving the n×q design Z of the q columns with
// non-zero variance, and factorises it once by a thin singular value
// decomposition Z = U S Vᵀ (one-sided Jacobi, which works on Z itself and
// never forms ZᵀZ, so it does not square Z's condition number). Every
// penalty then costs O(nq):
//
//	γ(λ)  = V diag(s_k / (s_k² + λ)) Uᵀ ỹ          (ỹ = y − ȳ)
//	h_ii  = 1/n + Σ_k u_ik² s_k² / (s_k² + λ)      (hat-matrix diagonal)
//	LOO_i = (ỹ_i − (Zγ)_i) / (1 − h_ii)            (leave-one-out residual)
//
// The leave-one-out residual is exact: it equals the error on sample i of
// the same ridge refitted without sample i, as long as the penalty matrix
// does not depend on the data. That holds for Centre; for Standardise the
// column scales are those of all n samples, not re-estimated without
// sample i.
//
// Singular values at or below max(n, q)·ε·s_max (ε the float64 machine
// epsilon) are treated as zero: with λ = 0 the fit is then the minimum-norm
// least-squares solution instead of dividing by rounding noise.
//
// # No model
//
// λ = +Inf stands for "no model": b = 0, β = 0, a prediction of 0 whatever
// x, whose leave-one-out residual is y_i itself. It is not the λ → ∞ limit
// of the ridge above (that limit keeps the unpenalised intercept ȳ); it lets
// a λ grid compete with predicting nothing, which is what a residual model
// needs when the few samples carry no signal.
package ridge

import (
	"errors"
	"fmt"
	"math"
)

// Scaling selects the column scaling D of the penalty.
type Scaling int

const (
	// Centre centres the columns only: the penalty is λ‖β‖² in the units
	// of x.
	Centre Scaling = iota
	// Standardise centres the columns and scales them to unit population
	// variance (Σ_i z_ij² = n): the penalty is λ‖β_std‖², β_std the
	// coefficients of the standardised columns.
	Standardise
)

// Problem is a ridge regression factorised for any number of penalties (see
// the package documentation). It is immutable after New and safe for
// concurrent use.
type Problem struct {
	n, p   int
	ym     float64   // mean target
	yc     []float64 // centred targets ỹ
	y      []float64 // targets (the residuals of "no model")
	mean   []float64 // column means, p
	scale  []float64 // column scales (1 for Centre), p
	active []int     // the columns of non-zero variance, q

	// The kept singular triplets of Z = U S Vᵀ: s[k] > 0, u[k] the k-th
	// left singular vector (n values), v[k] the k-th right one (q values,
	// over active), uty[k] = u[k]·ỹ.
	s   []float64
	u   [][]float64
	v   [][]float64
	uty []float64
}

// New prepares the ridge regression of y on the n×p row-major matrix x
// (n = len(y) ≥ 1). A column whose variance is zero (its population
// standard deviation at most 1e-12 of its mean's magnitude) is left out: its
// β_j is 0 whatever λ, the intercept absorbing it. New returns an error for
// bad shapes, a NaN or infinite value in x or y, or a column whose variance
// overflows.
func New(x []float64, p int, y []float64, sc Scaling) (*Problem, error) {
	n := len(y)
	if n == 0 || p < 0 || len(x) != n*p {
		return nil, fmt.Errorf("ridge: bad shapes: %d values for %d samples × %d columns", len(x), n, p)
	}
	if sc != Centre && sc != Standardise {
		return nil, fmt.Errorf("ridge: unknown scaling %d", sc)
	}
	for i, v := range x {
		if !finite(v) {
			return nil, fmt.Errorf("ridge: x[%d][%d] is %v", i/p, i%p, v)
		}
	}
	pr := &Problem{n: n, p: p, y: append([]float64(nil), y...), yc: make([]float64, n),
		mean: make([]float64, p), scale: make([]float64, p)}
	for i, v := range y {
		if !finite(v) {
			return nil, fmt.Errorf("ridge: y[%d] is %v", i, v)
		}
		pr.ym += v
	}
	pr.ym /= float64(n)
	for i, v := range y {
		pr.yc[i] = v - pr.ym
	}
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			pr.mean[j] += x[i*p+j]
		}
	}
	for j := range pr.mean {
		pr.mean[j] /= float64(n)
	}
	sd := make([]float64, p)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			d := x[i*p+j] - pr.mean[j]
			sd[j] += d * d
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(n))
		if !finite(sd[j]) {
			return nil, fmt.Errorf("ridge: column %d overflows (its variance is %v)", j, sd[j])
		}
		if sd[j] > 1e-12*math.Abs(pr.mean[j]) {
			pr.active = append(pr.active, j)
		}
		pr.scale[j] = 1
		if sc == Standardise && sd[j] > 0 {
			pr.scale[j] = sd[j]
		}
	}
	// Z, stored by columns.
	q := len(pr.active)
	z := make([][]float64, q)
	for a, j := range pr.active {
		z[a] = make([]float64, n)
		for i := 0; i < n; i++ {
			z[a][i] = (x[i*p+j] - pr.mean[j]) / pr.scale[j]
		}
	}
	s, v := jacobiSVD(z)
	smax := 0.0
	for _, sk := range s {
		smax = math.Max(smax, sk)
	}
	tol := float64(max(n, q)) * epsilon * smax
	for k, sk := range s {
		if !(sk > tol) {
			continue
		}
		u := make([]float64, n)
		var uty float64
		for i := range u {
			u[i] = z[k][i] / sk
			uty += u[i] * pr.yc[i]
		}
		pr.s = append(pr.s, sk)
		pr.u = append(pr.u, u)
		pr.v = append(pr.v, v[k])
		pr.uty = append(pr.uty, uty)
	}
	return pr, nil
}

// epsilon is the float64 machine epsilon, 2⁻⁵².
const epsilon = 0x1p-52

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func checkLambda(lambda float64) error {
	if math.IsNaN(lambda) || lambda < 0 {
		return fmt.Errorf("ridge: penalty %v (want ≥ 0 or +Inf)", lambda)
	}
	return nil
}

// Rank returns the number of singular values kept: the rank of the centred
// (scaled) design, at most min(n−1, p).
func (pr *Problem) Rank() int { return len(pr.s) }

// Fit returns the intercept and the p coefficients, in the units of x, of
// the ridge with penalty lambda (see the package documentation; +Inf is "no
// model": b = 0 and β = 0). It returns an error for a negative or NaN
// lambda or a non-finite result.
func (pr *Problem) Fit(lambda float64) (b float64, beta []float64, err error) {
	if err := checkLambda(lambda); err != nil {
		return 0, nil, err
	}
	beta = make([]float64, pr.p)
	if math.IsInf(lambda, 1) {
		return 0, beta, nil
	}
	for k, sk := range pr.s {
		c := sk / (sk*sk + lambda) * pr.uty[k]
		for a, j := range pr.active {
			beta[j] += pr.v[k][a] * c
		}
	}
	b = pr.ym
	for j := range beta {
		beta[j] /= pr.scale[j]
		b -= beta[j] * pr.mean[j]
	}
	for _, v := range beta {
		if !finite(v) {
			return 0, nil, errors.New("ridge: non-finite coefficient")
		}
	}
	if !finite(b) {
		return 0, nil, errors.New("ridge: non-finite intercept")
	}
	return b, beta, nil
}

// LOO returns the exact leave-one-out residuals of the ridge with penalty
// lambda: LOO[i] = y_i − (prediction for sample i of the fit without sample
// i), computed without refitting (see the package documentation). A sample
// the fit reproduces whatever its target (h_ii = 1 up to rounding, as with a
// single sample) has no leave-one-out prediction: its residual is +Inf. For
// lambda = +Inf ("no model") the residuals are the targets. It returns an
// error for a negative or NaN lambda.
func (pr *Problem) LOO(lambda float64) ([]float64, error) {
	if err := checkLambda(lambda); err != nil {
		return nil, err
	}
	if math.IsInf(lambda, 1) {
		return append([]float64(nil), pr.y...), nil
	}
	res := append([]float64(nil), pr.yc...)
	h := make([]float64, pr.n)
	for i := range h {
		h[i] = 1 / float64(pr.n)
	}
	for k, sk := range pr.s {
		shrink := sk * sk / (sk*sk + lambda)
		c := shrink * pr.uty[k]
		for i, uik := range pr.u[k] {
			res[i] -= uik * c
			h[i] += uik * uik * shrink
		}
	}
	for i := range res {
		if d := 1 - h[i]; d > 1e-12 {
			res[i] /= d
		} else {
			res[i] = math.Inf(1)
		}
	}
	return res, nil
}

// LOOMSE returns the mean of the squared leave-one-out residuals (see LOO).
func (pr *Problem) LOOMSE(lambda float64) (float64, error) {
	res, err := pr.LOO(lambda)
	if err != nil {
		return 0, err
	}
	var e float64
	for _, r := range res {
		e += r * r
	}
	return e / float64(pr.n), nil
}

// SelectLOO returns the penalty of grid with the least leave-one-out mean
// squared error, and that error. Ties keep the earlier entry, so the order
// of grid is the order of preference (put +Inf, "no model", first to prefer
// it on a tie). It returns an error for an empty grid or an invalid penalty.
func (pr *Problem) SelectLOO(grid []float64) (lambda, mse float64, err error) {
	if len(grid) == 0 {
		return 0, 0, errors.New("ridge: empty penalty grid")
	}
	for i, l := range grid {
		e, err := pr.LOOMSE(l)
		if err != nil {
			return 0, 0, err
		}
		if i == 0 || e < mse {
			lambda, mse = l, e
		}
	}
	return lambda, mse, nil
}

// jacobiSVD orthogonalises the columns of z in place by one-sided Jacobi
// (Hestenes) rotations, z ← z·V, and returns the column norms s (the
// singular values, in the columns' order) and the columns of V
// (v[k][a] = V[a][k]). Afterwards z[k] = s[k]·u_k.
func jacobiSVD(z [][]float64) (s []float64, v [][]float64) {
	q := len(z)
	v = make([][]float64, q)
	for k := range v {
		v[k] = make([]float64, q)
		v[k][k] = 1
	}
	const tol = 1e-15
	for sweep := 0; sweep < 100; sweep++ {
		rotated := false
		for j := 0; j < q-1; j++ {
			for k := j + 1; k < q; k++ {
				var alpha, beta, gamma float64
				for i := range z[j] {
					alpha += z[j][i] * z[j][i]
					beta += z[k][i] * z[k][i]
					gamma += z[j][i] * z[k][i]
				}
				if gamma == 0 || math.Abs(gamma) <= tol*math.Sqrt(alpha)*math.Sqrt(beta) {
					continue
				}
				rotated = true
				// The rotation by angle θ, t = tan θ the smaller root of
				// t² + 2ζt − 1 = 0, makes columns j and k orthogonal.
				zeta := (beta - alpha) / (2 * gamma)
				t := math.Copysign(1, zeta) / (math.Abs(zeta) + math.Hypot(1, zeta))
				c := 1 / math.Hypot(1, t)
				sn := c * t
				rotate(z[j], z[k], c, sn)
				rotate(v[j], v[k], c, sn)
			}
		}
		if !rotated {
			break
		}
	}
	s = make([]float64, q)
	for k := range z {
		var ss float64
		for _, x := range z[k] {
			ss += x * x
		}
		s[k] = math.Sqrt(ss)
	}
	return s, v
}

// rotate replaces (a, b) by (c·a − s·b, s·a + c·b).
func rotate(a, b []float64, c, s float64) {
	for i := range a {
		x, y := a[i], b[i]
		a[i] = c*x - s*y
		b[i] = s*x + c*y
	}
}
