package metrics

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestKnownValues(t *testing.T) {
	if v := MSE([]float32{1, 2}, []float32{0, 4}); !near(v, 2.5) {
		t.Fatalf("MSE = %v", v)
	}
	if v := Spearman([]float32{1, 2, 3, 4}, []float32{10, 20, 30, 40}); !near(v, 1) {
		t.Fatalf("ρ of a monotone pair = %v", v)
	}
	if v := Spearman([]float32{1, 2, 3}, []float32{3, 2, 1}); !near(v, -1) {
		t.Fatalf("ρ of a reversed pair = %v", v)
	}
	// With ties (scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505138).
	if v := Spearman([]float32{1, 2, 2, 3}, []float32{1, 3, 2, 4}); math.Abs(v-0.9486832980505138) > 1e-12 {
		t.Fatalf("ρ with ties = %v", v)
	}
	// scipy.stats.kendalltau([1,2,2,3],[1,3,2,4]) = 0.9128709291752769 (τ-b).
	if v := Kendall([]float32{1, 2, 2, 3}, []float32{1, 3, 2, 4}); math.Abs(v-0.9128709291752769) > 1e-12 {
		t.Fatalf("τ-b with ties = %v", v)
	}
	if !math.IsNaN(Spearman([]float32{1, 1}, []float32{1, 2})) {
		t.Fatal("ρ of a constant input must be NaN")
	}
	m, s := MeanStd([]float64{1, 2, 3})
	if !near(m, 2) || !near(s, 1) {
		t.Fatalf("MeanStd = %v, %v", m, s)
	}
}
