package baselines

import (
	"fmt"
	"math"
	"sort"
)

// MSE returns the mean squared error between pred and target, accumulated
// in float64. It returns NaN for empty slices and panics if their lengths
// differ.
func MSE(pred, target []float32) float64 {
	if len(pred) != len(target) {
		panic(fmt.Sprintf("baselines: MSE: %d predictions for %d targets", len(pred), len(target)))
	}
	if len(pred) == 0 {
		return math.NaN()
	}
	var s float64
	for i, p := range pred {
		d := float64(p) - float64(target[i])
		s += d * d
	}
	return s / float64(len(pred))
}

// Spearman returns Spearman's rank correlation ρ between a and b: the
// Pearson correlation of their ranks, tied values sharing the average of
// their ranks (so ties are handled exactly, as scipy.stats.spearmanr). It
// returns NaN when fewer than two values are given, when either slice is
// constant (the correlation is undefined) or when a value is NaN, and
// panics if the lengths differ.
func Spearman(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("baselines: Spearman: lengths %d and %d differ", len(a), len(b)))
	}
	if len(a) < 2 {
		return math.NaN()
	}
	for i := range a {
		if math.IsNaN(float64(a[i])) || math.IsNaN(float64(b[i])) {
			return math.NaN()
		}
	}
	ra, rb := ranks(a), ranks(b)
	n := float64(len(a))
	mean := (n + 1) / 2 // the mean of ranks 1..n, ties included
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the 1-based ranks of x, ties getting their average rank.
func ranks(x []float32) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return x[idx[i]] < x[idx[j]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}
