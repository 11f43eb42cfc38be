package baselines

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// NumNodes is the number of nodes of the op-on-node encoding of a
// NAS-Bench-201 cell: the input, the six edge operations and the output.
const NumNodes = 8

// Columns of Sample.Ops: the one-hot node types.
const (
	OpInput    = iota // the cell input (node 0)
	OpOutput          // the cell output (node 7)
	OpNone            // "none": the edge carries zeros
	OpSkip            // "skip_connect": identity
	OpConv1x1         // "nor_conv_1x1": ReLU-conv1x1-BN
	OpConv3x3         // "nor_conv_3x3": ReLU-conv3x3-BN
	OpAvgPool         // "avg_pool_3x3"
	NumOpTypes        // the number of columns of Sample.Ops
)

// Sample is one NAS-Bench-201 cell as the baselines see it.
//
// Adj[i][j] is 1 when node i feeds node j (0 otherwise; no self-loops), and
// row i of Ops is the one-hot type of node i (columns OpInput … OpAvgPool).
// FLOPs and Params describe the whole CIFAR-10 network built from the cell;
// only the FLOPS predictors read them, in any unit (they only need to be
// consistent between Fit and Predict).
type Sample struct {
	Adj           [NumNodes][NumNodes]float32
	Ops           [NumNodes][NumOpTypes]float32
	FLOPs, Params float64
}

// Predictor is a latency predictor fitted on the few samples measured on the
// target device.
//
// Fit replaces whatever the predictor learnt before. Predict writes the
// prediction for xs[i] into dst[i] and returns dst[:len(xs)], allocating a
// new slice when cap(dst) < len(xs) (dst may be nil); it panics if the
// predictor has not been fitted. A Predictor is not safe for concurrent use
// with Fit.
type Predictor interface {
	// Name identifies the predictor in result tables ("flops",
	// "layer-wise", "brp-nas", …).
	Name() string
	// Fit learns y[i] ≈ f(train[i]). y holds normalised latencies. It
	// returns an error, and leaves the predictor unchanged, when train is
	// empty, when len(y) != len(train), or when y or a sample value the
	// predictor reads is NaN or infinite. Predictors that draw random
	// numbers take them from rng (nil is an error for those only).
	Fit(train []Sample, y []float32, rng *rand.Rand) error
	// Predict returns the predictions for xs (see the type documentation).
	Predict(xs []Sample, dst []float32) []float32
}

// errNotFitted is the panic value of Predict before a successful Fit.
func errNotFitted(name string) string {
	return fmt.Sprintf("baselines: %s: Predict before a successful Fit", name)
}

// checkXY validates the common Fit arguments: a non-empty training set with
// one finite target per sample.
func checkXY(name string, train []Sample, y []float32) error {
	if len(train) == 0 {
		return fmt.Errorf("baselines: %s: empty training set", name)
	}
	if len(y) != len(train) {
		return fmt.Errorf("baselines: %s: %d targets for %d samples", name, len(y), len(train))
	}
	for i, v := range y {
		if !finite(float64(v)) {
			return fmt.Errorf("baselines: %s: target %d is %v", name, i, v)
		}
	}
	return nil
}

// checkGraphs reports a sample whose adjacency or op matrix holds NaN or
// ±Inf.
func checkGraphs(name string, train []Sample) error {
	for k := range train {
		s := &train[k]
		for i := range s.Adj {
			for j, v := range s.Adj[i] {
				if !finite(float64(v)) {
					return fmt.Errorf("baselines: %s: sample %d: Adj[%d][%d] is %v", name, k, i, j, v)
				}
			}
			for j, v := range s.Ops[i] {
				if !finite(float64(v)) {
					return fmt.Errorf("baselines: %s: sample %d: Ops[%d][%d] is %v", name, k, i, j, v)
				}
			}
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// grow returns dst[:n], reallocated when too short.
func grow(dst []float32, n int) []float32 {
	if cap(dst) < n {
		return make([]float32, n)
	}
	return dst[:n]
}

// ridge fits y ≈ b + Σ_j β_j x_j by least squares with a small ridge
// penalty: the columns of x are centred and scaled to unit variance, the
// penalty is lambda·n·‖β_std‖² (the intercept is not penalised), and the
// coefficients are mapped back to the original units. A column of zero
// variance gets β_j = 0. x is row-major n×p.
func ridge(x []float64, p int, y []float64, lambda float64) (b float64, beta []float64, err error) {
	n := len(y)
	if n == 0 || len(x) != n*p {
		return 0, nil, errors.New("baselines: ridge: bad shapes")
	}
	mean := make([]float64, p)
	scale := make([]float64, p)
	var ym float64
	for i := 0; i < n; i++ {
		ym += y[i]
		for j := 0; j < p; j++ {
			mean[j] += x[i*p+j]
		}
	}
	ym /= float64(n)
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			d := x[i*p+j] - mean[j]
			scale[j] += d * d
		}
	}
	// active lists the columns with non-zero variance.
	var active []int
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / float64(n))
		if scale[j] > 1e-12*(math.Abs(mean[j])+1e-300) && scale[j] > 0 {
			active = append(active, j)
		}
	}
	beta = make([]float64, p)
	q := len(active)
	if q > 0 {
		// Normal equations on the standardised active columns.
		g := make([]float64, q*q)
		r := make([]float64, q)
		z := make([]float64, q)
		for i := 0; i < n; i++ {
			for a, j := range active {
				z[a] = (x[i*p+j] - mean[j]) / scale[j]
			}
			dy := y[i] - ym
			for a := 0; a < q; a++ {
				r[a] += z[a] * dy
				for c := 0; c <= a; c++ {
					g[a*q+c] += z[a] * z[c]
				}
			}
		}
		for a := 0; a < q; a++ {
			g[a*q+a] += lambda * float64(n)
			for c := 0; c < a; c++ {
				g[c*q+a] = g[a*q+c]
			}
		}
		sol, err := cholSolve(g, r, q)
		if err != nil {
			return 0, nil, err
		}
		for a, j := range active {
			beta[j] = sol[a] / scale[j]
		}
	}
	b = ym
	for j := range beta {
		b -= beta[j] * mean[j]
	}
	for _, v := range beta {
		if !finite(v) {
			return 0, nil, errors.New("baselines: ridge: non-finite coefficient")
		}
	}
	if !finite(b) {
		return 0, nil, errors.New("baselines: ridge: non-finite intercept")
	}
	return b, beta, nil
}

// cholSolve solves the symmetric positive definite system g·s = r (g is
// q×q row-major) by Cholesky factorisation. It returns an error if g is not
// positive definite.
func cholSolve(g, r []float64, q int) ([]float64, error) {
	l := make([]float64, q*q)
	for i := 0; i < q; i++ {
		for j := 0; j <= i; j++ {
			s := g[i*q+j]
			for k := 0; k < j; k++ {
				s -= l[i*q+k] * l[j*q+k]
			}
			if i == j {
				if !(s > 0) {
					return nil, errors.New("baselines: ridge: normal equations not positive definite")
				}
				l[i*q+i] = math.Sqrt(s)
			} else {
				l[i*q+j] = s / l[j*q+j]
			}
		}
	}
	s := make([]float64, q)
	for i := 0; i < q; i++ { // L·u = r
		v := r[i]
		for k := 0; k < i; k++ {
			v -= l[i*q+k] * s[k]
		}
		s[i] = v / l[i*q+i]
	}
	for i := q - 1; i >= 0; i-- { // Lᵀ·s = u
		v := s[i]
		for k := i + 1; k < q; k++ {
			v -= l[k*q+i] * s[k]
		}
		s[i] = v / l[i*q+i]
	}
	return s, nil
}
