package cpn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestWaterFillKnownAnswers(t *testing.T) {
	for _, c := range []struct {
		name  string
		d, b  []float64
		orig  []int
		bits  float64
		level float64
		x     []float32
	}{
		{"equal paths", []float64{0, 0, 0}, []float64{1, 1, 2}, []int{0, 1, 2}, 4, 1, []float32{0.25, 0.25, 0.5}},
		{"slow path unused", []float64{0, 1, 5}, []float64{1, 1, 1}, []int{0, 1, 2}, 1, 1, []float32{1, 0, 0}},
		{"two of three", []float64{0, 1, 5}, []float64{1, 1, 1}, []int{0, 1, 2}, 3, 2, []float32{2.0 / 3, 1.0 / 3, 0}},
		{"repeated row", []float64{0, 0, 0}, []float64{1, 3, 1}, []int{0, 1, 1}, 4, 1, []float32{0.25, 0.75, 0}},
		{"unsorted delays", []float64{2, 0, 1}, []float64{1, 1, 1}, []int{0, 1, 2}, 3, 2, []float32{0, 2.0 / 3, 1.0 / 3}},
	} {
		x := make([]float32, len(c.d))
		level := waterFill(x, c.d, c.b, c.orig, c.bits)
		if math.Abs(level-c.level) > 1e-9 {
			t.Errorf("%s: level %v, want %v", c.name, level, c.level)
		}
		for j := range x {
			if math.Abs(float64(x[j]-c.x[j])) > 1e-6 {
				t.Errorf("%s: split %v, want %v", c.name, x, c.x)
				break
			}
		}
	}
}

// The water-filling split minimises the largest finishing time
// d_j + x_j·bits/b_j: no split on a fine grid does better.
func TestWaterFillIsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	orig := []int{0, 1, 2}
	for trial := 0; trial < 200; trial++ {
		d := []float64{rng.Float64() * 0.05, rng.Float64() * 0.05, rng.Float64() * 0.05}
		b := []float64{1e6 + rng.Float64()*1e8, 1e6 + rng.Float64()*1e8, 1e6 + rng.Float64()*1e8}
		bits := math.Exp(math.Log(1e5) + rng.Float64()*math.Log(1e3))
		x := make([]float32, 3)
		level := waterFill(x, d, b, orig, bits)
		finish := func(x []float64) float64 {
			var m float64
			for j := range x {
				if x[j] > 0 {
					m = math.Max(m, d[j]+x[j]*bits/b[j])
				}
			}
			return m
		}
		got := finish([]float64{float64(x[0]), float64(x[1]), float64(x[2])})
		if math.Abs(got-level) > 1e-6*level {
			t.Fatalf("trial %d: split %v finishes at %v, level says %v", trial, x, got, level)
		}
		const grid = 100
		for i := 0; i <= grid; i++ {
			for j := 0; i+j <= grid; j++ {
				y := []float64{float64(i) / grid, float64(j) / grid, float64(grid-i-j) / grid}
				if f := finish(y); f < got*(1-1e-6) {
					t.Fatalf("trial %d: split %v finishes at %v, before water-filling's %v (%v)", trial, y, f, got, x)
				}
			}
		}
	}
}
