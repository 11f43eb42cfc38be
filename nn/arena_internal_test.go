package nn

import (
	"math"
	"testing"
)

// TestArenaReusesBuffers: after Reset a pass of the same shapes gets back
// the same value, gradient and int buffers (no allocation in steady state),
// cleared where the op needs it; larger requests get fresh buffers.
func TestArenaReusesBuffers(t *testing.T) {
	tp := NewTape()
	a := tp.intBuf(3)
	b := tp.intBuf(5)
	a[0], b[0] = 1, 2
	if a[0] != 1 || len(a) != 3 || len(b) != 5 {
		t.Fatal("intBuf slices overlap or have the wrong length")
	}
	x := tp.Leaf(1, 3, []float32{1, 2, 3})
	tp.Backward(tp.Sum(x))
	gx := &x.Grad[0]
	dx := &x.Data[0]

	tp.Reset()
	a2 := tp.intBuf(3) // same capacity: reused
	b2 := tp.intBuf(7) // larger: new
	c2 := tp.intBuf(2) // a third buffer: new
	if &a2[0] != &a[0] {
		t.Fatal("intBuf did not reuse a buffer of exactly the needed size")
	}
	if len(b2) != 7 || len(c2) != 2 || &c2[0] == &a2[0] || &b2[0] == &a2[0] {
		t.Fatal("intBuf returned a wrong or shared buffer")
	}
	x2 := tp.Leaf(1, 3, []float32{4, 5, 6})
	if &x2.Data[0] != dx {
		t.Fatal("arena did not reuse a value buffer of exactly the needed size")
	}
	tp.Backward(tp.Sum(x2))
	if &x2.Grad[0] != gx {
		t.Fatal("arena did not reuse a gradient buffer of exactly the needed size")
	}
	// The reused gradient starts from zero: ∂Σx = 1, not 2.
	for _, g := range x2.Grad {
		if g != 1 {
			t.Fatalf("reused gradient %v, want all 1", x2.Grad)
		}
	}
}

// TestTanhSmallArgumentIsIdentity: below 4e-4 in magnitude tanh32 returns x
// itself (tanh x = x − x³/3 + …, and x³/3 < 2.2e-11 is under half an ulp of
// x there), including subnormals where the rational form would lose bits.
func TestTanhSmallArgumentIsIdentity(t *testing.T) {
	for _, x := range []float32{3.9e-4, -3.9e-4, 1e-30, -1e-30, 1e-40, -1e-40, math.SmallestNonzeroFloat32} {
		if got := tanh32(x); got != x {
			t.Fatalf("tanh32(%g) = %g, want x itself", x, got)
		}
	}
	// An empty slice is a no-op (no vector call on a zero-length buffer).
	tanhSlice(nil, nil)
	tanhSlice(make([]float32, 0, 8), []float32{})
	// Beyond the clamp the result is exactly ±1.
	for _, c := range []struct{ x, want float32 }{{8, 1}, {-8, -1}, {100, 1}, {-100, -1}} {
		if got := tanh32(c.x); got != c.want {
			t.Fatalf("tanh32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}
