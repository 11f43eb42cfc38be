package baselines

import (
	"fmt"
	"math/rand/v2"
)

// layerWiseRidge is the ridge penalty (times n, on standardised counts) of
// the layer-wise fit: small enough to recover an exact per-op table to
// 1e-4, large enough to keep the solution finite when the few samples do not
// separate every op type.
const layerWiseRidge = 1e-6

// layerWiseOps are the op types with a latency of their own; OpNone is the
// reference type (its cost is folded into the intercept, see LayerWise).
var layerWiseOps = [...]int{OpSkip, OpConv1x1, OpConv3x3, OpAvgPool}

// LayerWise is the layer-wise baseline: the latency of a network is a fixed
// part plus the sum of the latencies of its operations, with a per-op-type
// table (not per edge position) estimated from the target-device samples:
//
//	y ≈ b + Σ_edges cost(op at that edge) = b + Σ_t cost_t · count_t
//
// where count_t is the number of edges of the cell with op type t (the sum
// of column t of Sample.Ops; Adj is not read). Every NAS-Bench-201 cell has
// six edges, so the counts of the five types sum to 6 and only cost
// differences are identifiable: LayerWise measures costs relative to
// "none" (cost_none = 0) and b absorbs the rest of the network (stem,
// reduction blocks, head) plus 6·cost_none. The table is fitted by ridge
// regression with a tiny penalty (1e-6·n on standardised counts); an op type
// whose count is the same in every sample (absent, say) gets cost 0, its
// cost if any being absorbed in b.
//
// The classic layer-wise predictor sums per-layer latencies measured in
// isolation on the device; the few-shot setting has only end-to-end
// latencies, so the table is estimated from them instead.
type LayerWise struct {
	fitted bool
	b      float64
	cost   [NumOpTypes]float64
}

var _ Predictor = (*LayerWise)(nil)

// NewLayerWise returns the layer-wise baseline (see LayerWise).
func NewLayerWise() Predictor { return &LayerWise{} }

// Name implements Predictor: "layer-wise".
func (*LayerWise) Name() string { return "layer-wise" }

// Table returns the fitted intercept b and the per-op-type costs indexed by
// the Sample.Ops columns (OpSkip … OpAvgPool; OpInput, OpOutput and OpNone
// are 0). It panics before a successful Fit.
func (l *LayerWise) Table() (b float64, cost [NumOpTypes]float64) {
	if !l.fitted {
		panic(errNotFitted(l.Name()))
	}
	return l.b, l.cost
}

// counts returns the number of edges of each modelled op type of s.
func counts(s *Sample) [len(layerWiseOps)]float64 {
	var c [len(layerWiseOps)]float64
	for i := range s.Ops {
		for k, t := range layerWiseOps {
			c[k] += float64(s.Ops[i][t])
		}
	}
	return c
}

// Fit implements Predictor; rng is not used. It returns an error for NaN or
// infinite values in Ops (or Adj).
func (l *LayerWise) Fit(train []Sample, y []float32, _ *rand.Rand) error {
	if err := checkXY(l.Name(), train, y); err != nil {
		return err
	}
	if err := checkGraphs(l.Name(), train); err != nil {
		return err
	}
	p := len(layerWiseOps)
	x := make([]float64, 0, len(train)*p)
	yy := make([]float64, len(y))
	for i := range train {
		c := counts(&train[i])
		x = append(x, c[:]...)
		yy[i] = float64(y[i])
	}
	b, beta, err := fitStandardised(x, p, yy, layerWiseRidge)
	if err != nil {
		return fmt.Errorf("baselines: %s: %w", l.Name(), err)
	}
	l.b = b
	l.cost = [NumOpTypes]float64{}
	for k, t := range layerWiseOps {
		l.cost[t] = beta[k]
	}
	l.fitted = true
	return nil
}

// Predict implements Predictor.
func (l *LayerWise) Predict(xs []Sample, dst []float32) []float32 {
	if !l.fitted {
		panic(errNotFitted(l.Name()))
	}
	dst = grow(dst, len(xs))
	for i := range xs {
		c := counts(&xs[i])
		v := l.b
		for k, t := range layerWiseOps {
			v += l.cost[t] * c[k]
		}
		dst[i] = float32(v)
	}
	return dst
}
