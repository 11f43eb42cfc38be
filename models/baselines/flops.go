package baselines

import (
	"fmt"
	"math/rand/v2"
)

// flopsRidge is the ridge penalty of the FLOPs + params regression (FLOPs
// and parameter counts of NAS-Bench-201 networks are nearly collinear).
const flopsRidge = 1e-6

// FLOPS is the FLOPs proxy baseline: latency regressed on the network's
// FLOPs by least squares, y ≈ a·FLOPs + b (optionally + c·Params, see
// NewFLOPSParams). Fit ignores the adjacency and op matrices.
type FLOPS struct {
	withParams bool
	fitted     bool
	b          float64
	beta       []float64 // a, then c when withParams
}

var _ Predictor = (*FLOPS)(nil)

// NewFLOPS returns the FLOPS baseline of the HELP and BRP-NAS papers:
// ordinary least squares y ≈ a·FLOPs + b on the target-device samples. With
// a single sample, or samples of equal FLOPs, a is 0 and b the mean target.
func NewFLOPS() Predictor { return &FLOPS{} }

// NewFLOPSParams returns a variant of the FLOPS baseline with the parameter
// count as a second regressor, y ≈ a·FLOPs + c·Params + b, fitted by ridge
// regression on standardised regressors with a tiny penalty (1e-6·n) because
// the two are nearly collinear on NAS-Bench-201 (both are sums of the same
// per-convolution costs). It is not a published baseline; NewFLOPS is.
func NewFLOPSParams() Predictor { return &FLOPS{withParams: true} }

// Name implements Predictor: "flops" or "flops+params".
func (f *FLOPS) Name() string {
	if f.withParams {
		return "flops+params"
	}
	return "flops"
}

// Coef returns the fitted intercept b and slope a (and c, the parameter
// coefficient, which is 0 for NewFLOPS) in the units of Sample.FLOPs and
// Sample.Params. It panics before a successful Fit.
func (f *FLOPS) Coef() (b, a, c float64) {
	if !f.fitted {
		panic(errNotFitted(f.Name()))
	}
	if f.withParams {
		return f.b, f.beta[0], f.beta[1]
	}
	return f.b, f.beta[0], 0
}

// Fit implements Predictor; rng is not used. It returns an error for NaN or
// infinite FLOPs (or Params, for NewFLOPSParams).
func (f *FLOPS) Fit(train []Sample, y []float32, _ *rand.Rand) error {
	if err := checkXY(f.Name(), train, y); err != nil {
		return err
	}
	p := 1
	if f.withParams {
		p = 2
	}
	x := make([]float64, 0, len(train)*p)
	yy := make([]float64, len(y))
	for i := range train {
		s := &train[i]
		if !finite(s.FLOPs) {
			return fmt.Errorf("baselines: %s: sample %d: FLOPs is %v", f.Name(), i, s.FLOPs)
		}
		if f.withParams && !finite(s.Params) {
			return fmt.Errorf("baselines: %s: sample %d: Params is %v", f.Name(), i, s.Params)
		}
		x = append(x, s.FLOPs)
		if f.withParams {
			x = append(x, s.Params)
		}
		yy[i] = float64(y[i])
	}
	lambda := 0.0
	if f.withParams {
		lambda = flopsRidge
	}
	b, beta, err := fitStandardised(x, p, yy, lambda)
	if err != nil {
		return fmt.Errorf("baselines: %s: %w", f.Name(), err)
	}
	f.b, f.beta, f.fitted = b, beta, true
	return nil
}

// Predict implements Predictor.
func (f *FLOPS) Predict(xs []Sample, dst []float32) []float32 {
	if !f.fitted {
		panic(errNotFitted(f.Name()))
	}
	dst = grow(dst, len(xs))
	for i := range xs {
		v := f.b + f.beta[0]*xs[i].FLOPs
		if f.withParams {
			v += f.beta[1] * xs[i].Params
		}
		dst[i] = float32(v)
	}
	return dst
}
