package baselines

import (
	"math"
	"testing"
)

func TestMSE(t *testing.T) {
	t.Parallel()
	if got := MSE([]float32{1, 2, 3}, []float32{1, 0, 6}); math.Abs(got-13.0/3) > 1e-12 {
		t.Errorf("MSE = %g, want 13/3", got)
	}
	if got := MSE(nil, nil); !math.IsNaN(got) {
		t.Errorf("MSE of nothing = %g, want NaN", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MSE of different lengths did not panic")
		}
	}()
	MSE([]float32{1}, []float32{1, 2})
}

func TestSpearman(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, c := range []struct {
		name string
		a, b []float32
		want float64
	}{
		{"monotone", []float32{1, 2, 3, 4, 5}, []float32{0.1, 0.5, 2, 30, 31}, 1},
		{"reversed", []float32{1, 2, 3, 4}, []float32{9, 7, 3, -1}, -1},
		// Ranks (1, 2.5, 2.5, 4) and (1, 2, 3, 4): 4.5/√(4.5·5).
		{"tie in a", []float32{1, 2, 2, 3}, []float32{1, 2, 3, 4}, 4.5 / math.Sqrt(22.5)},
		// scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233.
		{"tie in b", []float32{1, 2, 3, 4, 5}, []float32{5, 6, 7, 8, 7}, 0.8207826816681233},
		// Unordered input with ties on both sides: ranks (2, 4, 2, 2) and
		// (1.5, 3.5, 3.5, 1.5), centred products 2/√(3·4) = 1/√3.
		{"ties in both", []float32{3, 7, 3, 3}, []float32{0, 1, 1, 0}, 1 / math.Sqrt(3)},
		{"constant", []float32{2, 2, 2}, []float32{1, 2, 3}, nan},
		{"one value", []float32{1}, []float32{2}, nan},
		{"nan", []float32{1, float32(nan), 3}, []float32{1, 2, 3}, nan},
	} {
		got := Spearman(c.a, c.b)
		if math.IsNaN(c.want) {
			if !math.IsNaN(got) {
				t.Errorf("%s: got %g, want NaN", c.name, got)
			}
			continue
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: got %.16g, want %.16g", c.name, got, c.want)
		}
		if back := Spearman(c.b, c.a); math.Abs(back-got) > 1e-15 {
			t.Errorf("%s: not symmetric: %g vs %g", c.name, got, back)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Spearman of different lengths did not panic")
		}
	}()
	Spearman([]float32{1, 2}, []float32{1})
}
