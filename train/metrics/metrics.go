// Package metrics holds the evaluation metrics of supervised training: MSE,
// Spearman's ρ and Kendall's τ.
package metrics

import (
	"math"
	"sort"
)

// MSE returns the mean squared error between pred and target (NaN when
// empty or of different lengths).
func MSE(pred, target []float32) float64 {
	if len(pred) != len(target) || len(pred) == 0 {
		return math.NaN()
	}
	var s float64
	for i, p := range pred {
		d := float64(p) - float64(target[i])
		s += d * d
	}
	return s / float64(len(pred))
}

// ranks returns the 1-based ranks of x, ties sharing their average rank.
func ranks(x []float32) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// Spearman returns Spearman's rank correlation ρ of a and b: the Pearson
// correlation of their ranks, ties sharing their average rank (as
// scipy.stats.spearmanr). NaN when undefined (fewer than two values, a
// constant input, or different lengths).
func Spearman(a, b []float32) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	return pearson(ranks(a), ranks(b))
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Kendall returns Kendall's τ-b of a and b (O(n²); for the small sets where
// it is reported). NaN when undefined.
func Kendall(a, b []float32) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	var con, dis, ta, tb float64
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			da := sign(a[i] - a[j])
			db := sign(b[i] - b[j])
			switch {
			case da == 0 && db == 0:
			case da == 0:
				ta++
			case db == 0:
				tb++
			case da == db:
				con++
			default:
				dis++
			}
		}
	}
	d := math.Sqrt((con + dis + ta) * (con + dis + tb))
	if d == 0 {
		return math.NaN()
	}
	return (con - dis) / d
}

func sign(x float32) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// MeanStd returns the mean and the sample standard deviation of xs (std 0
// for a single value).
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}
