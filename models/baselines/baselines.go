package baselines

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/internal/ridge"
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

// fitStandardised fits y ≈ b + Σ_j β_j x_j (x row-major n×p) by ridge
// regression on standardised columns (centred, unit population variance):
// the penalty is lambda·n·‖β_std‖², the intercept is not penalised, and the
// coefficients are returned in the original units. A column of zero
// variance gets β_j = 0; lambda = 0 is least squares (minimum-norm when the
// columns are collinear). The solver is internal/ridge.
func fitStandardised(x []float64, p int, y []float64, lambda float64) (b float64, beta []float64, err error) {
	pr, err := ridge.New(x, p, y, ridge.Standardise)
	if err != nil {
		return 0, nil, err
	}
	return pr.Fit(lambda * float64(len(y)))
}
