package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOrthogonal: a tall r×c parameter gets orthonormal columns times the
// gain (WᵀW = gain²·I), a wide one orthonormal rows (WWᵀ = gain²·I), and the
// fill is a function of the generator.
func TestOrthogonal(t *testing.T) {
	for _, c := range []struct {
		r, c int
		gain float64
	}{{5, 3, math.Sqrt2}, {3, 5, 0.01}, {4, 4, 1}, {1, 6, 2}} {
		p := NewParam(c.r, c.c)
		Orthogonal(p, c.gain, rand.New(rand.NewPCG(1, 2)))
		small, big := min(c.r, c.c), max(c.r, c.c)
		for a := 0; a < small; a++ {
			for b := 0; b < small; b++ {
				var d float64
				for k := 0; k < big; k++ {
					var x, y float64
					if c.r >= c.c { // columns a and b
						x, y = float64(p.V.Data[k*c.c+a]), float64(p.V.Data[k*c.c+b])
					} else { // rows a and b
						x, y = float64(p.V.Data[a*c.c+k]), float64(p.V.Data[b*c.c+k])
					}
					d += x * y
				}
				want := 0.0
				if a == b {
					want = c.gain * c.gain
				}
				if math.Abs(d-want) > 1e-5*math.Max(1, want) {
					t.Errorf("%d×%d gain %v: Gram[%d][%d] = %v, want %v", c.r, c.c, c.gain, a, b, d, want)
				}
			}
		}
		q := NewParam(c.r, c.c)
		Orthogonal(q, c.gain, rand.New(rand.NewPCG(1, 2)))
		for i := range p.V.Data {
			if p.V.Data[i] != q.V.Data[i] {
				t.Fatalf("%d×%d: same generator, different fill", c.r, c.c)
			}
		}
	}
}
