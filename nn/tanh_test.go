package nn

import (
	"math"
	"testing"
)

func TestTanhApproximation(t *testing.T) {
	var worst float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 1e-4 // [-20, 20]
		d := math.Abs(float64(tanh32(x)) - math.Tanh(float64(x)))
		worst = math.Max(worst, d)
	}
	if worst > 1e-6 {
		t.Fatalf("max |tanh32 − tanh| = %g", worst)
	}
	if tanh32(float32(math.Inf(1))) != 1 || tanh32(float32(math.Inf(-1))) != -1 {
		t.Fatal("tanh32(±Inf) must be ±1")
	}
	t.Logf("max abs error %.3g", worst)
}

// TestTanhSliceMatchesScalar: the vector path gives the scalar results bit
// for bit (also for NaN, ±Inf, tiny and clamped inputs, and odd tails).
func TestTanhSliceMatchesScalar(t *testing.T) {
	src := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0.0003, 0.0003, 9, -9, 7.9, 1e-30}
	for i := 0; i < 1001; i++ {
		src = append(src, float32(i-500)*0.0173)
	}
	dst := make([]float32, len(src))
	tanhSlice(dst, src)
	for i, x := range src {
		want := tanh32(x)
		if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
			t.Fatalf("tanhSlice(%v) = %v, scalar %v", x, dst[i], want)
		}
	}
}

func BenchmarkTanhSlice(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i-512) / 100
	}
	d := make([]float32, 1024)
	for b.Loop() {
		tanhSlice(d, x)
	}
}

func BenchmarkTanh32(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i-512) / 100
	}
	var s float32
	for b.Loop() {
		for _, v := range x {
			s += tanh32(v)
		}
	}
	_ = s
}

func BenchmarkTanhMath(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i-512) / 100
	}
	var s float32
	for b.Loop() {
		for _, v := range x {
			s += float32(math.Tanh(float64(v)))
		}
	}
	_ = s
}
