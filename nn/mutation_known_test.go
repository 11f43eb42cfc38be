package nn_test

// Known values for boundaries that a mutation run of ./nn found unguarded
// (see the review of its survivors): an equality case of a comparison that
// only an input placed exactly on the boundary can reach.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// TestDropoutDrawEqualToPIsKept: inverted dropout drops element i iff its
// draw u_i < p. Float64 draws are the multiples of 2⁻⁵³ in [0, 1), so for
// such a p, P(u < p) = p exactly, while dropping on u ≤ p would drop with
// probability p + 2⁻⁵³. Taking p equal to the generator's first draw puts
// that draw exactly on the boundary: the element must be kept and scaled
// by 1/(1−p).
func TestDropoutDrawEqualToPIsKept(t *testing.T) {
	u := rand.New(rand.NewPCG(7, 8)).Float64()
	if !(u > 0 && u < 1) {
		t.Fatalf("first draw %v: choose another seed", u)
	}
	if s := u * (1 << 53); s != math.Trunc(s) {
		t.Fatalf("draw %v is not a multiple of 2⁻⁵³", u)
	}
	tp := nn.NewTape()
	x := tp.Leaf(1, 1, []float32{3})
	y := tp.Dropout(x, u, rand.New(rand.NewPCG(7, 8)))
	want := 3 / (1 - u)
	if got := float64(y.Data[0]); !(math.Abs(got-want) <= 1e-6*want) {
		t.Fatalf("Dropout with p = its first draw %v: %v, want kept 3/(1−p) = %v", u, got, want)
	}
}

// TestTanhSameAtEveryPositionAtCutOver: Tanh is elementwise, so equal inputs
// give equal outputs wherever they sit in the tensor. The first multiple of
// 8 elements may take a vector path and the tail a scalar one; at the small-
// argument cut-over of the approximation, ±float32(0.0004), both must make
// the same choice (the rational form there is about 3 ulp below x, so
// returning x on one path only shows). Each value must also be within the
// documented 1e-6 of math.Tanh.
func TestTanhSameAtEveryPositionAtCutOver(t *testing.T) {
	edge := float32(0.0004)
	for _, v := range []float32{
		edge, -edge,
		math.Nextafter32(edge, 0), math.Nextafter32(edge, 1),
		-math.Nextafter32(edge, 0), -math.Nextafter32(edge, 1),
	} {
		tp := nn.NewInference()
		in := make([]float32, 17) // 16 on a vector path, the 17th on the scalar tail
		for i := range in {
			in[i] = v
		}
		out := tp.Tanh(tp.Const(1, len(in), in))
		want := math.Tanh(float64(v))
		for i, y := range out.Data {
			if math.Float32bits(y) != math.Float32bits(out.Data[0]) {
				t.Fatalf("Tanh(%v) = %v at position 0 but %v at position %d", v, out.Data[0], y, i)
			}
			if d := math.Abs(float64(y) - want); !(d <= 1e-6) {
				t.Fatalf("Tanh(%v) = %v at position %d, want %v within 1e-6", v, y, i, want)
			}
		}
	}
}

// TestHuberInfiniteDeltaAndResidual: with delta = +Inf the documented form
// is 0.5·d² wherever |d| ≤ delta, which holds for every d including ±Inf
// (Inf ≤ Inf), so an infinite residual gives the loss +Inf, not the NaN of
// the linear branch delta·(|d| − 0.5·delta) = Inf·(Inf − Inf).
func TestHuberInfiniteDeltaAndResidual(t *testing.T) {
	inf := float32(math.Inf(1))
	tp := nn.NewInference()
	for _, p := range []float32{inf, -inf} {
		l := tp.Huber(tp.Const(1, 2, []float32{p, 3}), tp.Const(1, 2, []float32{0, 1}), inf)
		if v := float64(l.Data[0]); !math.IsInf(v, 1) {
			t.Fatalf("Huber(pred [%v 3], target [0 1], delta +Inf) = %v, want +Inf", p, v)
		}
	}
	// The finite element alone: 0.5·(3−1)² = 2, mean over 1.
	l := tp.Huber(tp.Const(1, 1, []float32{3}), tp.Const(1, 1, []float32{1}), inf)
	if v := l.Data[0]; v != 2 {
		t.Fatalf("Huber(3, 1, delta +Inf) = %v, want 0.5·2² = 2", v)
	}
}

// TestMisuseOfDropoutAndHuber: a NaN dropout probability and a Huber
// threshold that is not positive (NaN, 0, −1) panic with "nn:" instead of
// returning zeros or a negative loss.
func TestMisuseOfDropoutAndHuber(t *testing.T) {
	expectPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "nn:") {
				t.Errorf("%s: recovered %v, want an nn: panic", name, r)
			}
		}()
		f()
	}
	tp := nn.NewTape()
	x := tp.Const(1, 2, []float32{1, 2})
	expectPanic("dropout NaN", func() { tp.Dropout(x, math.NaN(), rand.New(rand.NewPCG(1, 1))) })
	for _, d := range []float32{float32(math.NaN()), 0, -1} {
		expectPanic(fmt.Sprintf("huber delta %v", d), func() { tp.Huber(x, tp.Const(1, 2, []float32{0, 0}), d) })
	}
}
