package metrics

import (
	"math"
	"testing"
)

// Known values computed by hand from the textbook definitions (the
// arithmetic is in the comments); none comes from running this package.

func TestMSEKnown(t *testing.T) {
	// d = pred − target = [−1, 0, 2]: (1 + 0 + 4)/3 = 5/3.
	if v := MSE([]float32{1, 2, 3}, []float32{2, 2, 1}); !near(v, 5.0/3) {
		t.Errorf("MSE = %v, want 5/3", v)
	}
	// A single pair: (0.5 − (−1.5))² / 1 = 4.
	if v := MSE([]float32{0.5}, []float32{-1.5}); !near(v, 4) {
		t.Errorf("MSE of one pair = %v, want 4", v)
	}
	if v := MSE([]float32{1, 2}, []float32{1, 2}); v != 0 {
		t.Errorf("MSE of equal slices = %v, want 0", v)
	}
	for name, v := range map[string]float64{
		"different lengths": MSE([]float32{1, 2}, []float32{1}),
		"empty":             MSE(nil, nil),
	} {
		if !math.IsNaN(v) {
			t.Errorf("MSE of %s = %v, want NaN", name, v)
		}
	}
}

func TestRanksKnown(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		want []float64
	}{
		// Sorted: −1.2 (1), 0.3 (2), 0.9 (3), 2.5 (4), 5 (5).
		{[]float32{0.3, -1.2, 5, 2.5, 0.9}, []float64{2, 1, 5, 4, 3}},
		// 10 ×3 at sorted positions 1–3 → (1+2+3)/3 = 2; 20 ×2 at 4–5 →
		// 4.5; 30 at 6.
		{[]float32{10, 20, 10, 30, 20, 10}, []float64{2, 4.5, 2, 6, 4.5, 2}},
		// All tied: (1+2+3)/3 = 2.
		{[]float32{7, 7, 7}, []float64{2, 2, 2}},
		{[]float32{4}, []float64{1}},
	} {
		got := ranks(c.x)
		for i := range c.want {
			if len(got) != len(c.want) || got[i] != c.want[i] {
				t.Errorf("ranks(%v) = %v, want %v", c.x, got, c.want)
				break
			}
		}
	}
}

func TestSpearmanKnown(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float32
		want float64
	}{
		// No ties: ranks a = [2 1 5 4 3], b = [1 2 3 4 5]; d = [1 −1 2 0 −2],
		// Σd² = 10; ρ = 1 − 6·10/(5·(25−1)) = 1 − 60/120 = 0.5.
		{"no ties", []float32{0.3, -1.2, 5, 2.5, 0.9}, []float32{10, 20, 30, 40, 50}, 0.5},
		// Ranks [1 2 3 4 5] and [2 1 4 3 5]: Σd² = 4, ρ = 1 − 24/120 = 0.8.
		{"two swaps", []float32{1, 2, 3, 4, 5}, []float32{2, 1, 4, 3, 5}, 0.8},
		// Ties in both: ranks a = [1.5 1.5 3 4], b = [3 1.5 1.5 4], both of
		// mean 2.5; dx = [−1 −1 .5 1.5], dy = [.5 −1 −1 1.5];
		// Σdxdy = −.5 + 1 − .5 + 2.25 = 2.25, Σdx² = Σdy² = 4.5;
		// ρ = 2.25/4.5 = 0.5.
		{"ties in both", []float32{1, 1, 2, 3}, []float32{2, 1, 1, 3}, 0.5},
		// Two values, reversed: ranks [1 2] and [2 1], ρ = −1.
		{"two values", []float32{1, 2}, []float32{5, 3}, -1},
	} {
		if v := Spearman(c.a, c.b); !(math.Abs(v-c.want) <= 1e-12) { // NaN fails too
			t.Errorf("%s: Spearman = %v, want %v", c.name, v, c.want)
		}
	}
	for name, v := range map[string]float64{
		"different lengths": Spearman([]float32{1, 2, 3}, []float32{1, 2}),
		"one value":         Spearman([]float32{1}, []float32{2}),
		"constant second":   Spearman([]float32{1, 2, 3}, []float32{4, 4, 4}),
	} {
		if !math.IsNaN(v) {
			t.Errorf("Spearman of %s = %v, want NaN", name, v)
		}
	}
}

func TestKendallKnown(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float32
		want float64
	}{
		// Pairs (i<j) of a = [1 2 3 4], b = [1 3 2 4]: only (1,2) is
		// discordant; C = 5, D = 1, no ties: τ = (5−1)/6 = 2/3.
		{"no ties", []float32{1, 2, 3, 4}, []float32{1, 3, 2, 4}, 2.0 / 3},
		// Ties in b only: b = [1 2 2 3]: pair (1,2) tied in b, the other 5
		// concordant. τ-b = 5/√((6−0)·(6−1)) = 5/√30.
		{"ties in b", []float32{1, 2, 3, 4}, []float32{1, 2, 2, 3}, 5 / math.Sqrt(30)},
		// a = [1 1 2 2 3], b = [1 1 3 2 2]: (0,1) tied in both; (2,3) tied
		// in a only; (3,4) tied in b only; (2,4) discordant; the other 6
		// concordant. n0 = 10, ties in a n1 = 2, in b n2 = 2:
		// τ-b = (6−1)/√((10−2)(10−2)) = 5/8.
		{"ties in both", []float32{1, 1, 2, 2, 3}, []float32{1, 1, 3, 2, 2}, 0.625},
		// a = [3 1 2], b = [1 2 2]: (0,1) D, (0,2) D, (1,2) tied in b:
		// τ-b = (0−2)/√(3·2) = −2/√6.
		{"discordant with a tie", []float32{3, 1, 2}, []float32{1, 2, 2}, -2 / math.Sqrt(6)},
		// Values that sum to the same but differ: a = [−1 1], b = [1 2]:
		// concordant, τ = 1.
		{"two values", []float32{-1, 1}, []float32{1, 2}, 1},
		{"two values reversed", []float32{1, 2}, []float32{2, 1}, -1},
	} {
		if v := Kendall(c.a, c.b); !(math.Abs(v-c.want) <= 1e-12) { // NaN fails too
			t.Errorf("%s: Kendall = %v, want %v", c.name, v, c.want)
		}
	}
	for name, v := range map[string]float64{
		"different lengths": Kendall([]float32{1, 2, 3}, []float32{1, 2}),
		"one value":         Kendall([]float32{1}, []float32{2}),
		"constant first":    Kendall([]float32{1, 1, 1}, []float32{1, 2, 3}), // every pair tied in a: n0 − n1 = 0
	} {
		if !math.IsNaN(v) {
			t.Errorf("Kendall of %s = %v, want NaN", name, v)
		}
	}
}

func TestSign(t *testing.T) {
	for x, want := range map[float32]int{2.5: 1, -0.25: -1, 0: 0} {
		if got := sign(x); got != want {
			t.Errorf("sign(%v) = %d, want %d", x, got, want)
		}
	}
}

func TestMeanStdKnown(t *testing.T) {
	for _, c := range []struct {
		xs        []float64
		mean, std float64
	}{
		// Mean 40/8 = 5; Σ(x−5)² = 9+1+1+1+0+0+4+16 = 32; sample std √(32/7).
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		// Mean 2; Σ(x−2)² = 2; √(2/1).
		{[]float64{1, 3}, 2, math.Sqrt2},
		// A large offset (timestamps, …): deviations −0.1, 0, 0.1 give
		// Σ = 0.02, std √(0.02/2) = 0.1 — the two-pass formula keeps it;
		// Σ(x² − mean²) (the same in exact arithmetic) loses it to
		// cancellation at 1e8 (ulp 1.5e-8, squares ulp ~2).
		{[]float64{1e8 + 0.1, 1e8 + 0.2, 1e8 + 0.3}, 1e8 + 0.2, 0.1},
		// One value: std 0 by definition.
		{[]float64{5}, 5, 0},
	} {
		m, s := MeanStd(c.xs)
		// Relative 1e-12 on the mean, 1e-6 on the std (the offset
		// inputs are 1e8 + 0.1 … only to ~1.5e-8).
		if !(math.Abs(m-c.mean) <= 1e-12*math.Abs(c.mean)) || !(math.Abs(s-c.std) <= 1e-6) {
			t.Errorf("MeanStd(%v) = %v, %v; want %v, %v", c.xs, m, s, c.mean, c.std)
		}
	}
	if m, s := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("MeanStd(nil) = %v, %v; want NaN, NaN", m, s)
	}
}
