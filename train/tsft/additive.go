package tsft

import (
	"math"

	"github.com/cpntrain/cpntrain/models/tsft"
)

// Additive is a per-device layer-wise latency model:
// B + Σ_op Beta[op]·count(op in the cell). Latency on several devices is
// close to a sum of per-operation costs; a network adapted from 10–50
// samples captures that structure only approximately, so Adapt blends the
// network with this model (see Adapted).
//
// It differs from models/baselines.LayerWise (the published baseline, a
// ridge with a fixed tiny λ): the ridge strength here is chosen by exact
// leave-one-out cross-validation over a grid that includes "no model",
// which matters with 10 samples.
type Additive struct {
	B    float32
	Beta [tsft.NumOps]float32
	// Lambda is the chosen ridge strength (+Inf: no model, predicts 0).
	Lambda float64
}

// Apply adds the model's prediction for cells idx to pred, in place.
func (c Additive) Apply(f *tsft.Features, idx []int, pred []float32) []float32 {
	if math.IsInf(c.Lambda, 1) {
		return pred
	}
	for i, j := range idx {
		v := c.B
		for _, op := range f.Cells[j] {
			v += c.Beta[op]
		}
		pred[i] += v
	}
	return pred
}

// ridgeGrid is the candidate ridge strengths (on count features).
var ridgeGrid = []float64{1e-3, 1e-2, 1e-1, 1, 10, 100}

// FitAdditive fits the additive model to targets r on the cells idx.
func FitAdditive(f *tsft.Features, idx []int, r []float32) Additive {
	n := len(idx)
	none := Additive{Lambda: math.Inf(1)}
	if n < 3 {
		return none
	}
	const p = tsft.NumOps
	x := make([][p]float64, n)
	var mx [p]float64
	var my float64
	for i, j := range idx {
		for _, op := range f.Cells[j] {
			x[i][op]++
		}
		for k := 0; k < p; k++ {
			mx[k] += x[i][k] / float64(n)
		}
		my += float64(r[i]) / float64(n)
	}
	// Centre features and targets (the intercept is not penalised).
	xc := make([][p]float64, n)
	yc := make([]float64, n)
	for i := range x {
		for k := 0; k < p; k++ {
			xc[i][k] = x[i][k] - mx[k]
		}
		yc[i] = float64(r[i]) - my
	}
	var g [p][p]float64
	var xty [p]float64
	for i := range xc {
		for a := 0; a < p; a++ {
			xty[a] += xc[i][a] * yc[i]
			for b := 0; b < p; b++ {
				g[a][b] += xc[i][a] * xc[i][b]
			}
		}
	}
	// LOO error of "no model" is the mean squared residual itself.
	best := none
	bestErr := 0.0
	for _, v := range r {
		bestErr += float64(v) * float64(v)
	}
	bestErr /= float64(n)
	for _, lam := range ridgeGrid {
		var a [p][p]float64
		for i := 0; i < p; i++ {
			for j := 0; j < p; j++ {
				a[i][j] = g[i][j]
			}
			a[i][i] += lam
		}
		inv, ok := invert(a)
		if !ok {
			continue
		}
		var beta [p]float64
		for i := 0; i < p; i++ {
			for j := 0; j < p; j++ {
				beta[i] += inv[i][j] * xty[j]
			}
		}
		// Exact LOO residual of ridge with an unpenalised intercept:
		// e_i / (1 − h_ii), h_ii = 1/n + x̃_iᵀ (X̃ᵀX̃ + λI)⁻¹ x̃_i.
		var loo float64
		for i := range xc {
			var fit, h float64
			for a2 := 0; a2 < p; a2++ {
				fit += xc[i][a2] * beta[a2]
				var s float64
				for b := 0; b < p; b++ {
					s += inv[a2][b] * xc[i][b]
				}
				h += xc[i][a2] * s
			}
			h += 1 / float64(n)
			e := (yc[i] - fit) / (1 - h)
			loo += e * e
		}
		loo /= float64(n)
		if loo < bestErr {
			bestErr = loo
			c := Additive{Lambda: lam}
			b0 := my
			for k := 0; k < p; k++ {
				c.Beta[k] = float32(beta[k])
				b0 -= beta[k] * mx[k]
			}
			c.B = float32(b0)
			best = c
		}
	}
	return best
}

// invert inverts a small symmetric positive-definite matrix by Gauss–Jordan
// elimination with partial pivoting.
func invert(a [tsft.NumOps][tsft.NumOps]float64) ([tsft.NumOps][tsft.NumOps]float64, bool) {
	const p = tsft.NumOps
	var inv [p][p]float64
	for i := 0; i < p; i++ {
		inv[i][i] = 1
	}
	for c := 0; c < p; c++ {
		piv := c
		for r := c + 1; r < p; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		if math.Abs(a[piv][c]) < 1e-12 {
			return inv, false
		}
		a[c], a[piv] = a[piv], a[c]
		inv[c], inv[piv] = inv[piv], inv[c]
		d := a[c][c]
		for k := 0; k < p; k++ {
			a[c][k] /= d
			inv[c][k] /= d
		}
		for r := 0; r < p; r++ {
			if r == c || a[r][c] == 0 {
				continue
			}
			f := a[r][c]
			for k := 0; k < p; k++ {
				a[r][k] -= f * a[c][k]
				inv[r][k] -= f * inv[c][k]
			}
		}
	}
	return inv, true
}
