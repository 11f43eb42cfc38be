package nn

import (
	"math"
	"testing"
)

// TestLeakyPos: the branch-free sign test agrees with x > 0 on the
// boundary cases and on every 2^20-th bit pattern.
func TestLeakyPos(t *testing.T) {
	nan := float32(math.NaN())
	cases := []float32{0, float32(math.Copysign(0, -1)), 1, -1, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), nan, -nan}
	for b := uint64(0); b < 1<<32; b += 1 << 20 {
		cases = append(cases, math.Float32frombits(uint32(b)))
	}
	for _, x := range cases {
		want := 0
		if x > 0 {
			want = 1
		}
		if got := leakyPos(x); got != want {
			t.Errorf("leakyPos(%v, bits %#x) = %d, want %d", x, math.Float32bits(x), got, want)
		}
	}
}
