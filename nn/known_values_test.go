package nn_test

// Forward known values (and gradients at kinks and ties) for the ops of the
// engine. Every expected value is worked out by hand in the comments or
// re-derived in float64 from a textbook formula, never taken from the code
// under test. The finite-difference checks of ops_test.go catch wrong
// backward passes; these catch wrong forward passes that a consistent
// backward would hide (a constant, a broadcast stride, a boundary, a mask,
// a stabilising shift) and the tie-breaking rules finite differences
// cannot see.

import (
	"math"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// expectRel is expect with a relative tolerance only (for tiny values).
func expectRel(t *testing.T, name string, got *nn.Tensor, want []float64, rel float64) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, got.Len(), len(want))
	}
	for i, w := range want {
		if d := math.Abs(float64(got.Data[i]) - w); !(d <= rel*math.Abs(w)) {
			t.Fatalf("%s: element %d = %v, want %v (all %v)", name, i, got.Data[i], w, got.Data)
		}
	}
}

// expectShape fails unless x is r×c.
func expectShape(t *testing.T, name string, x *nn.Tensor, r, c int) {
	t.Helper()
	if x.Rows != r || x.Cols != c || len(x.Data) != r*c {
		t.Fatalf("%s: shape %d×%d with %d values, want %d×%d", name, x.Rows, x.Cols, len(x.Data), r, c)
	}
}

// mustPanicNN fails unless f panics with an "nn: " message (a runtime
// index error instead means a bounds check let a bad argument through).
func mustPanicNN(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		s, ok := r.(string)
		if !ok || !strings.HasPrefix(s, "nn: ") {
			t.Fatalf("%s: want a panic with an nn: message, got %v", name, r)
		}
	}()
	f()
}

// grads runs f on leaves holding data and back-propagates Σ f(x); it
// returns ∂Σf/∂x for each input.
func grads(f func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor, in ...*nn.Tensor) [][]float32 {
	tp := nn.NewTape()
	xs := make([]*nn.Tensor, len(in))
	for i, x := range in {
		xs[i] = tp.Leaf(x.Rows, x.Cols, x.Data)
	}
	tp.Backward(tp.Sum(f(tp, xs)))
	out := make([][]float32, len(xs))
	for i, x := range xs {
		out[i] = make([]float32, x.Len())
		copy(out[i], x.Grad)
	}
	return out
}

func expectGrad(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: gradient %v, want %v", name, got, want)
	}
	for i := range want {
		if !(math.Abs(float64(got[i]-want[i])) <= 1e-6*math.Max(1, math.Abs(float64(want[i])))) {
			t.Fatalf("%s: gradient %v, want %v", name, got, want)
		}
	}
}

func TestTensorKnownValues(t *testing.T) {
	x := nn.New(2, 3)
	expectShape(t, "New", x, 2, 3)
	if x.Len() != 6 {
		t.Fatalf("Len = %d, want 2·3 = 6", x.Len())
	}
	x.Set(1, 2, 7) // row-major: element 1·3+2 = 5
	x.Set(0, 1, 4) // element 0·3+1 = 1
	x.Set(1, 0, 9) // element 3
	if x.Data[5] != 7 || x.Data[1] != 4 || x.Data[3] != 9 {
		t.Fatalf("Set wrote %v, want 4 at 1, 9 at 3, 7 at 5", x.Data)
	}
	if x.At(1, 2) != 7 || x.At(0, 1) != 4 || x.At(1, 0) != 9 || x.At(0, 2) != 0 {
		t.Fatalf("At disagrees with Set on %v", x.Data)
	}
	if r := x.Row(1); len(r) != 3 || r[0] != 9 || r[1] != 0 || r[2] != 7 {
		t.Fatalf("Row(1) = %v, want [9 0 7]", r)
	}
	if r := x.Row(0); len(r) != 3 || r[1] != 4 {
		t.Fatalf("Row(0) = %v, want [0 4 0]", r)
	}
	y := nn.FromSlice(2, 3, []float32{1, 2, 3, 4, 5, 6})
	if y.At(1, 1) != 5 || y.At(0, 2) != 3 || y.Len() != 6 {
		t.Fatalf("FromSlice 2×3: At(1,1) = %v (want 5), At(0,2) = %v (want 3)", y.At(1, 1), y.At(0, 2))
	}
	expectShape(t, "New(0,3)", nn.New(0, 3), 0, 3)
	expectShape(t, "New(3,0)", nn.New(3, 0), 3, 0)
	expectShape(t, "FromSlice(0,3)", nn.FromSlice(0, 3, nil), 0, 3)
	expectShape(t, "FromSlice(3,0)", nn.FromSlice(3, 0, nil), 3, 0)
	mustPanicNN(t, "New(-1,2)", func() { nn.New(-1, 2) })
	mustPanicNN(t, "New(2,-1)", func() { nn.New(2, -1) })
	mustPanicNN(t, "FromSlice 5 values for 2×3", func() { nn.FromSlice(2, 3, make([]float32, 5)) })
	// (−1)·(−1) = 1 value: only the sign checks reject it.
	mustPanicNN(t, "FromSlice(-1,-1)", func() { nn.FromSlice(-1, -1, []float32{1}) })

	if v := nn.Scalar(2.5).Item(); v != 2.5 {
		t.Fatalf("Scalar(2.5).Item() = %v", v)
	}
	mustPanicNN(t, "Item on 2×2", func() { nn.New(2, 2).Item() })
	mustPanicNN(t, "Item on 1×2", func() { nn.New(1, 2).Item() })

	g := nn.New(2, 2)
	if g.RequiresGrad() || g.Grad != nil {
		t.Fatal("New must not need a gradient")
	}
	g.SetRequiresGrad(true)
	if !g.RequiresGrad() || len(g.Grad) != 4 {
		t.Fatalf("SetRequiresGrad(true): needs %v, %d gradient values, want true, 4", g.RequiresGrad(), len(g.Grad))
	}
	g.Grad[2] = 3
	g.SetRequiresGrad(true) // keeps the existing buffer
	if g.Grad[2] != 3 {
		t.Fatal("SetRequiresGrad replaced an existing gradient")
	}
	g.ZeroGrad()
	if g.Grad[2] != 0 {
		t.Fatal("ZeroGrad left a value")
	}
	g.SetRequiresGrad(false)
	if g.RequiresGrad() {
		t.Fatal("SetRequiresGrad(false) ignored")
	}

	c := y.Clone()
	c.Data[0] = 100
	if y.Data[0] != 1 || c.At(1, 2) != 6 {
		t.Fatal("Clone must copy the values")
	}

	if s := nn.FromSlice(2, 2, []float32{1, 2.5, -3, 4}).String(); s != "Tensor(2×2)[1 2.5; -3 4]" {
		t.Fatalf("String = %q", s)
	}
	if s := nn.New(2, 3).Shape(); s != "2×3" {
		t.Fatalf("Shape = %q", s)
	}
	// 64 values are printed, 65 are not.
	s64 := nn.New(8, 8).String()
	if !strings.HasPrefix(s64, "Tensor(8×8)[0 0 0 0 0 0 0 0; 0") || strings.Count(s64, ";") != 7 {
		t.Fatalf("String of 8×8 = %q", s64)
	}
	if s := nn.New(1, 65).String(); s != "Tensor(1×65)" {
		t.Fatalf("String of 1×65 = %q", s)
	}
}

func TestTapeArenaAndBackwardBasics(t *testing.T) {
	tp := nn.NewTape()
	if !tp.Recording() || nn.NewInference().Recording() {
		t.Fatal("Recording flags wrong")
	}
	expectShape(t, "Zeros(0,3)", tp.Zeros(0, 3), 0, 3)
	expectShape(t, "Zeros(3,0)", tp.Zeros(3, 0), 3, 0)
	mustPanicNN(t, "Zeros(-1,2)", func() { tp.Zeros(-1, 2) })
	mustPanicNN(t, "Zeros(2,-1)", func() { tp.Zeros(2, -1) })
	mustPanicNN(t, "Const wrong length", func() { tp.Const(2, 2, []float32{1, 2, 3}) })

	// Arena reuse: after Reset the same slots come back zeroed, and a larger
	// shape than a slot ever held gets a fresh buffer.
	src := []float32{1, 2, 3, 4}
	tp.Reset()
	a := tp.Const(2, 2, src)
	src[0] = 9
	if a.Data[0] != 1 {
		t.Fatal("Const must copy its data")
	}
	tp.Const(1, 1, []float32{5})
	tp.Reset()
	z := tp.Zeros(2, 2)
	expect(t, "reused Zeros", z, []float32{0, 0, 0, 0})
	big := tp.Zeros(3, 3) // the second slot held 1 value
	expectShape(t, "grown slot", big, 3, 3)
	expect(t, "grown Zeros", big, make([]float32, 9))

	// Leaf needs a gradient only on a recording tape.
	if !tp.Leaf(1, 1, []float32{1}).RequiresGrad() || nn.NewInference().Leaf(1, 1, []float32{1}).RequiresGrad() {
		t.Fatal("Leaf gradient flag wrong")
	}
	mustPanicNN(t, "Backward on inference tape", func() {
		it := nn.NewInference()
		it.Backward(it.Sum(it.Const(1, 1, []float32{1})))
	})

	// BackwardWith seeds every element: y = 3x (1×2), seed 2 → ∂ = 3·2 = 6.
	tp.Reset()
	x := tp.Leaf(1, 2, []float32{1, -1})
	tp.BackwardWith(tp.Scale(x, 3), 2)
	expectGrad(t, "BackwardWith", x.Grad, []float32{6, 6})

	// Two chained ops: the first recorded op's backward must run too.
	// d/dx Σ (x+1)·2 = 2.
	tp.Reset()
	x = tp.Leaf(1, 3, []float32{1, 2, 3})
	tp.Backward(tp.Sum(tp.Scale(tp.AddScalar(x, 1), 2)))
	expectGrad(t, "chain", x.Grad, []float32{2, 2, 2})

	// A loss that needs no gradient: Backward is a no-op.
	tp.Reset()
	cst := tp.Const(1, 1, []float32{1})
	tp.Backward(tp.Sum(cst))
	if cst.Grad != nil {
		t.Fatal("Backward gave a constant a gradient")
	}
	if nn.P(&nn.Param{V: cst}) != cst {
		t.Fatal("P must return the parameter's value tensor")
	}
}

// binCase: a op b for every op over one broadcast pattern, each result
// worked out by hand.
type binCase struct {
	name                               string
	ar, ac                             int
	a                                  []float32
	br, bc                             int
	b                                  []float32
	add, sub, mul, div, maxim, minimum []float32
}

func TestBinaryOpsKnownValues(t *testing.T) {
	cases := []binCase{
		{
			name: "same shape", ar: 2, ac: 3, a: []float32{1, 2, 3, 4, 5, 6},
			br: 2, bc: 3, b: []float32{2, 2, 2, 8, 5, 1},
			add:     []float32{3, 4, 5, 12, 10, 7},
			sub:     []float32{-1, 0, 1, -4, 0, 5},
			mul:     []float32{2, 4, 6, 32, 25, 6},
			div:     []float32{0.5, 1, 1.5, 0.5, 1, 6},
			maxim:   []float32{2, 2, 3, 8, 5, 6},
			minimum: []float32{1, 2, 2, 4, 5, 1},
		},
		{
			name: "b row 1×3", ar: 2, ac: 3, a: []float32{1, 2, 3, 4, 5, 6},
			br: 1, bc: 3, b: []float32{2, 4, 8},
			add:     []float32{3, 6, 11, 6, 9, 14},
			sub:     []float32{-1, -2, -5, 2, 1, -2},
			mul:     []float32{2, 8, 24, 8, 20, 48},
			div:     []float32{0.5, 0.5, 0.375, 2, 1.25, 0.75},
			maxim:   []float32{2, 4, 8, 4, 5, 8},
			minimum: []float32{1, 2, 3, 2, 4, 6},
		},
		{
			name: "b column 2×1", ar: 2, ac: 3, a: []float32{1, 2, 3, 4, 5, 6},
			br: 2, bc: 1, b: []float32{2, 4},
			add:     []float32{3, 4, 5, 8, 9, 10},
			sub:     []float32{-1, 0, 1, 0, 1, 2},
			mul:     []float32{2, 4, 6, 16, 20, 24},
			div:     []float32{0.5, 1, 1.5, 1, 1.25, 1.5},
			maxim:   []float32{2, 2, 3, 4, 5, 6},
			minimum: []float32{1, 2, 2, 4, 4, 4},
		},
		{
			name: "b scalar", ar: 2, ac: 3, a: []float32{1, 2, 3, 4, 5, 6},
			br: 1, bc: 1, b: []float32{2},
			add:     []float32{3, 4, 5, 6, 7, 8},
			sub:     []float32{-1, 0, 1, 2, 3, 4},
			mul:     []float32{2, 4, 6, 8, 10, 12},
			div:     []float32{0.5, 1, 1.5, 2, 2.5, 3},
			maxim:   []float32{2, 2, 3, 4, 5, 6},
			minimum: []float32{1, 2, 2, 2, 2, 2},
		},
		{
			name: "a column 2×1", ar: 2, ac: 1, a: []float32{2, 4},
			br: 2, bc: 3, b: []float32{1, 2, 3, 4, 5, 8},
			add:     []float32{3, 4, 5, 8, 9, 12},
			sub:     []float32{1, 0, -1, 0, -1, -4},
			mul:     []float32{2, 4, 6, 16, 20, 32},
			div:     []float32{2, 1, 2.0 / 3, 1, 0.8, 0.5},
			maxim:   []float32{2, 2, 3, 4, 5, 8},
			minimum: []float32{1, 2, 2, 4, 4, 4},
		},
		{
			name: "outer 2×1, 1×3", ar: 2, ac: 1, a: []float32{2, 4},
			br: 1, bc: 3, b: []float32{1, 2, 8},
			add:     []float32{3, 4, 10, 5, 6, 12},
			sub:     []float32{1, 0, -6, 3, 2, -4},
			mul:     []float32{2, 4, 16, 4, 8, 32},
			div:     []float32{2, 1, 0.25, 4, 2, 0.5},
			maxim:   []float32{2, 2, 8, 4, 4, 8},
			minimum: []float32{1, 2, 2, 1, 2, 4},
		},
		{
			name: "a scalar", ar: 1, ac: 1, a: []float32{3},
			br: 2, bc: 2, b: []float32{1, 2, 3, 6},
			add:     []float32{4, 5, 6, 9},
			sub:     []float32{2, 1, 0, -3},
			mul:     []float32{3, 6, 9, 18},
			div:     []float32{3, 1.5, 1, 0.5},
			maxim:   []float32{3, 3, 3, 6},
			minimum: []float32{1, 2, 3, 3},
		},
		{
			name: "both scalars", ar: 1, ac: 1, a: []float32{3},
			br: 1, bc: 1, b: []float32{2},
			add: []float32{5}, sub: []float32{1}, mul: []float32{6}, div: []float32{1.5},
			maxim: []float32{3}, minimum: []float32{2},
		},
	}
	tp := nn.NewInference()
	for _, c := range cases {
		a := tp.Const(c.ar, c.ac, c.a)
		b := tp.Const(c.br, c.bc, c.b)
		r, col := max(c.ar, c.br), max(c.ac, c.bc)
		for _, op := range []struct {
			name string
			f    func(a, b *nn.Tensor) *nn.Tensor
			want []float32
		}{
			{"Add", tp.Add, c.add}, {"Sub", tp.Sub, c.sub}, {"Mul", tp.Mul, c.mul},
			{"Div", tp.Div, c.div}, {"Maximum", tp.Maximum, c.maxim}, {"Minimum", tp.Minimum, c.minimum},
		} {
			got := op.f(a, b)
			expectShape(t, c.name+" "+op.name, got, r, col)
			expect(t, c.name+" "+op.name, got, op.want)
		}
	}
	mustPanicNN(t, "Add 2×3 + 2×2", func() { tp.Add(nn.New(2, 3), nn.New(2, 2)) })
	mustPanicNN(t, "Add 2×3 + 3×3", func() { tp.Add(nn.New(2, 3), nn.New(3, 3)) })
}

// TestBinaryGradsBroadcast: ∂Σ(a op b) for every op and broadcast pattern
// of TestBinaryOpsKnownValues against a float64 re-derivation from the
// textbook partials (∂(a±b) = 1, ±1; ∂(ab) = b, a; ∂(a/b) = 1/b, −a/b²;
// max/min pass 1 to the chosen operand, a on ties), summed over the
// elements each operand was broadcast to.
func TestBinaryGradsBroadcast(t *testing.T) {
	shapes := [][4]int{{2, 3, 2, 3}, {2, 3, 1, 3}, {2, 3, 2, 1}, {2, 3, 1, 1}, {2, 1, 2, 3}, {2, 1, 1, 3}, {1, 1, 2, 2}, {1, 3, 2, 3}, {1, 1, 1, 1}}
	// Values chosen with ties (2 vs 2, 4 vs 4) and no zero divisor.
	vals := []float32{2, 4, 1, 3, 2, 5}
	bvals := []float32{1, 2, 3, 4, 5, 8}
	type opDef struct {
		name string
		f    func(tp *nn.Tape, a, b *nn.Tensor) *nn.Tensor
		d    func(x, y float64) (float64, float64)
	}
	ops := []opDef{
		{"Add", (*nn.Tape).Add, func(x, y float64) (float64, float64) { return 1, 1 }},
		{"Sub", (*nn.Tape).Sub, func(x, y float64) (float64, float64) { return 1, -1 }},
		{"Mul", (*nn.Tape).Mul, func(x, y float64) (float64, float64) { return y, x }},
		{"Div", (*nn.Tape).Div, func(x, y float64) (float64, float64) { return 1 / y, -x / (y * y) }},
		{"Maximum", (*nn.Tape).Maximum, func(x, y float64) (float64, float64) {
			if x >= y {
				return 1, 0
			}
			return 0, 1
		}},
		{"Minimum", (*nn.Tape).Minimum, func(x, y float64) (float64, float64) {
			if x <= y {
				return 1, 0
			}
			return 0, 1
		}},
	}
	for _, sh := range shapes {
		ar, ac, br, bc := sh[0], sh[1], sh[2], sh[3]
		r, c := max(ar, br), max(ac, bc)
		a := nn.FromSlice(ar, ac, vals[:ar*ac])
		b := nn.FromSlice(br, bc, bvals[:br*bc])
		for _, op := range ops {
			g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return op.f(tp, x[0], x[1]) }, a, b)
			wa := make([]float64, ar*ac)
			wb := make([]float64, br*bc)
			for i := 0; i < r; i++ {
				for j := 0; j < c; j++ {
					ia := min(i, ar-1)*ac + min(j, ac-1)
					ib := min(i, br-1)*bc + min(j, bc-1)
					da, db := op.d(float64(a.Data[ia]), float64(b.Data[ib]))
					wa[ia] += da
					wb[ib] += db
				}
			}
			name := op.name + " " + a.Shape() + " " + b.Shape()
			for k, w := range wa {
				if !(math.Abs(float64(g[0][k])-w) <= 1e-6*math.Max(1, math.Abs(w))) {
					t.Fatalf("%s: ∂a = %v, want %v", name, g[0], wa)
				}
			}
			for k, w := range wb {
				if !(math.Abs(float64(g[1][k])-w) <= 1e-6*math.Max(1, math.Abs(w))) {
					t.Fatalf("%s: ∂b = %v, want %v", name, g[1], wb)
				}
			}
		}
	}
}

// TestMaxMinTiesGoToA: on a tie the whole gradient goes to a (finite
// differences cannot see the rule; it is documented).
func TestMaxMinTiesGoToA(t *testing.T) {
	a := nn.FromSlice(1, 2, []float32{1, 5})
	b := nn.FromSlice(1, 2, []float32{1, 2})
	// max(1,1) tie → a; max(5,2) = a. ∂a = [1 1], ∂b = [0 0].
	g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Maximum(x[0], x[1]) }, a, b)
	expectGrad(t, "Maximum ∂a", g[0], []float32{1, 1})
	expectGrad(t, "Maximum ∂b", g[1], []float32{0, 0})
	// min(1,1) tie → a; min(5,2) = b. ∂a = [1 0], ∂b = [0 1].
	g = grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Minimum(x[0], x[1]) }, a, b)
	expectGrad(t, "Minimum ∂a", g[0], []float32{1, 0})
	expectGrad(t, "Minimum ∂b", g[1], []float32{0, 1})
}

// TestBinaryGradOneSided: only one operand needs a gradient; the other is a
// constant (the common case of a target or a mask).
func TestBinaryGradOneSided(t *testing.T) {
	tp := nn.NewTape()
	a := tp.Leaf(1, 2, []float32{3, -2})
	b := tp.Const(1, 2, []float32{4, 0.5})
	// Σ a∘b: ∂a = b = [4 0.5]; Σ a/b: ∂a = 1/b = [0.25 2]; Σ a−b: ∂a = 1.
	tp.Backward(tp.Add(tp.Add(tp.Sum(tp.Mul(a, b)), tp.Sum(tp.Div(a, b))), tp.Sum(tp.Sub(a, b))))
	expectGrad(t, "∂a", a.Grad, []float32{4 + 0.25 + 1, 0.5 + 2 + 1})
	if b.Grad != nil {
		t.Fatal("a constant got a gradient")
	}
	tp.Reset()
	a = tp.Const(1, 2, []float32{3, -2})
	b = tp.Leaf(1, 2, []float32{4, 0.5})
	// Σ a∘b: ∂b = a = [3 −2]; Σ a/b: ∂b = −a/b² = [−3/16, 8]; Σ a−b: ∂b = −1.
	tp.Backward(tp.Add(tp.Add(tp.Sum(tp.Mul(a, b)), tp.Sum(tp.Div(a, b))), tp.Sum(tp.Sub(a, b))))
	expectGrad(t, "∂b", b.Grad, []float32{3 - 3.0/16 - 1, -2 + 8 - 1})
}

func TestUnaryOpsKnownValues(t *testing.T) {
	tp := nn.NewInference()
	ln3 := math.Log(3)
	c := func(v ...float64) *nn.Tensor {
		d := make([]float32, len(v))
		for i, x := range v {
			d[i] = float32(x)
		}
		return tp.Const(1, len(v), d)
	}
	// σ(0) = 1/2, σ(ln 3) = 1/(1+1/3) = 3/4, σ(−ln 3) = 1/4, σ(±20) = 1/(1+e^∓20).
	expectRel(t, "Sigmoid", tp.Sigmoid(c(0, ln3, -ln3, 20, -20)),
		[]float64{0.5, 0.75, 0.25, 1 / (1 + math.Exp(-20)), 1 / (1 + math.Exp(20))}, 1e-6)
	// softplus(0) = ln 2, softplus(ln 3) = ln 4, softplus(−ln 3) = ln(4/3),
	// softplus(30) = 30 + ln(1+e^−30), softplus(−30) = ln(1+e^−30) ≈ e^−30.
	expectRel(t, "Softplus", tp.Softplus(c(0, ln3, -ln3, 30, -30)),
		[]float64{math.Ln2, math.Log(4), math.Log(4.0 / 3), 30, math.Exp(-30)}, 1e-6)
	// Far in the tails the stable branches give exactly 1, 0 and x, 0
	// (e^1000 overflows, so the naive forms would give NaN or Inf).
	expect(t, "Sigmoid tails", tp.Sigmoid(c(1000, -1000)), []float32{1, 0})
	expect(t, "Softplus tails", tp.Softplus(c(1000, -1000)), []float32{1000, 0})
	expectRel(t, "Exp", tp.Exp(c(0, 1, -1, 2)), []float64{1, math.E, 1 / math.E, math.E * math.E}, 1e-6)
	expectRel(t, "Log", tp.Log(c(1, math.E, 0.5, 8)), []float64{0, 1, -math.Ln2, 3 * math.Ln2}, 1e-6)
	if v := tp.Log(c(0)).Data[0]; !math.IsInf(float64(v), -1) {
		t.Fatalf("Log(0) = %v, want −Inf", v)
	}
	expect(t, "Square", tp.Square(c(-3, 0.5, 0)), []float32{9, 0.25, 0})
	expect(t, "Sqrt", tp.Sqrt(c(4, 2.25, 0)), []float32{2, 1.5, 0})
	expect(t, "Abs", tp.Abs(c(-2, 0, 3)), []float32{2, 0, 3})
	expect(t, "Neg", tp.Neg(c(1, -2)), []float32{-1, 2})
	expect(t, "Scale", tp.Scale(c(2, -4), -1.5), []float32{-3, 6})
	expect(t, "AddScalar", tp.AddScalar(c(1, -2), 0.25), []float32{1.25, -1.75})
	expect(t, "ReLU", tp.ReLU(c(-2, 0, 3, -0.5)), []float32{0, 0, 3, 0})
	expect(t, "LeakyReLU", tp.LeakyReLU(c(-2, 0, 3), 0.1), []float32{-0.2, 0, 3})
	expect(t, "Clamp", tp.Clamp(c(-3, -1, 0.5, 2, 5), -1, 2), []float32{-1, -1, 0.5, 2, 2})
	expectRel(t, "Tanh", tp.Tanh(c(0.5, -1, 10)), []float64{math.Tanh(0.5), math.Tanh(-1), math.Tanh(10)}, 2e-6)
	expectShape(t, "Tanh of 0×3", tp.Tanh(tp.Zeros(0, 3)), 0, 3)
	// Activation names: leaky_relu uses PyTorch's slope 0.01.
	expect(t, "Apply leaky_relu", tp.Apply(nn.LeakyReLU, c(-1, 2)), []float32{-0.01, 2})
	expect(t, "Apply relu", tp.Apply(nn.ReLU, c(-1, 2)), []float32{0, 2})
	expectRel(t, "Apply sigmoid", tp.Apply(nn.Sigmoid, c(ln3)), []float64{0.75}, 1e-6)
	expectRel(t, "Apply softplus", tp.Apply(nn.Softplus, c(ln3)), []float64{math.Log(4)}, 1e-6)
	expectRel(t, "Apply tanh", tp.Apply(nn.Tanh, c(0.5)), []float64{math.Tanh(0.5)}, 2e-6)
	if x := c(1); tp.Apply(nn.Identity, x) != x || tp.Apply("none", x) != x {
		t.Fatal("identity activation must return its input")
	}
	for _, a := range []nn.Activation{nn.Identity, "none", nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Softplus} {
		if err := a.Validate(); err != nil {
			t.Fatalf("Validate(%q): %v", a, err)
		}
	}
	if nn.Activation("gelu").Validate() == nil {
		t.Fatal("Validate accepted an unknown activation")
	}
}

// TestUnaryGradsAtKinks: the subgradients the docs promise where finite
// differences are undefined, plus the closed-form derivatives at a point.
func TestUnaryGradsAtKinks(t *testing.T) {
	one := func(name string, f func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor, in, want []float32) {
		t.Helper()
		g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return f(tp, x[0]) }, nn.FromSlice(1, len(in), in))
		expectGrad(t, name, g[0], want)
	}
	// |x|' = sign x, 0 at 0.
	one("Abs", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Abs(x) }, []float32{-2, 0, 3}, []float32{-1, 0, 1})
	// ReLU' = 1 where x > 0, else 0 (0 at 0).
	one("ReLU", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.ReLU(x) }, []float32{-2, 0, 3}, []float32{0, 0, 1})
	// LeakyReLU' = 1 where x > 0, slope elsewhere (slope at 0, as PyTorch).
	one("LeakyReLU", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.LeakyReLU(x, 0.1) }, []float32{-2, 0, 3}, []float32{0.1, 0.1, 1})
	// Clamp passes the gradient on [lo, hi] including both ends.
	one("Clamp", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Clamp(x, -1, 2) },
		[]float32{-3, -1, 0.5, 2, 5}, []float32{0, 1, 1, 1, 0})
	// σ'(0) = σ(1−σ) = 1/4; σ'(ln 3) = 3/4·1/4 = 3/16.
	one("Sigmoid", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Sigmoid(x) },
		[]float32{0, float32(math.Log(3))}, []float32{0.25, 3.0 / 16})
	// softplus' = σ: 1/2 at 0, 3/4 at ln 3.
	one("Softplus", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Softplus(x) },
		[]float32{0, float32(math.Log(3))}, []float32{0.5, 0.75})
	// tanh'(0) = 1.
	one("Tanh", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Tanh(x) }, []float32{0}, []float32{1})
	// (x²)' = 2x, (√x)' = 1/(2√x): 1/4 at 4, (ln x)' = 1/x, (eˣ)' = eˣ.
	one("Square", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Square(x) }, []float32{-3}, []float32{-6})
	one("Sqrt", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Sqrt(x) }, []float32{4}, []float32{0.25})
	one("Log", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Log(x) }, []float32{4}, []float32{0.25})
	one("Exp", func(tp *nn.Tape, x *nn.Tensor) *nn.Tensor { return tp.Exp(x) }, []float32{0}, []float32{1})
}

func TestReductionsKnownValues(t *testing.T) {
	tp := nn.NewInference()
	a := tp.Const(2, 3, []float32{1, 2, 3, 4, 5, 6})
	expect(t, "Sum", tp.Sum(a), []float32{21})             // 1+…+6
	expect(t, "Mean", tp.Mean(a), []float32{3.5})          // 21/6
	expect(t, "MeanRows", tp.MeanRows(a), []float32{2, 5}) // 6/3, 15/3
	expect(t, "MeanCols", tp.MeanCols(a), []float32{2.5, 3.5, 4.5})
	expect(t, "Mean empty", tp.Mean(tp.Zeros(0, 3)), []float32{0})
	expect(t, "MeanRows no columns", tp.MeanRows(tp.Zeros(2, 0)), []float32{0, 0})
	expect(t, "MeanCols no rows", tp.MeanCols(tp.Zeros(0, 2)), []float32{0, 0})

	// Maxima of negative rows/columns (not clipped at 0).
	n := tp.Const(3, 2, []float32{-4, -7, -2, -9, -3, -8})
	expect(t, "MaxRows negative", tp.MaxRows(n), []float32{-4, -2, -3})
	expect(t, "MaxCols negative", tp.MaxCols(n), []float32{-2, -7})
	expect(t, "Max negative", tp.Max(n), []float32{-2})
	expectShape(t, "MaxRows 0×0", tp.MaxRows(tp.Zeros(0, 0)), 0, 1)
	expectShape(t, "MaxRows 0×3", tp.MaxRows(tp.Zeros(0, 3)), 0, 1)
	expectShape(t, "MaxCols 0×0", tp.MaxCols(tp.Zeros(0, 0)), 1, 0)
	expectShape(t, "MaxCols 3×0", tp.MaxCols(tp.Zeros(3, 0)), 1, 0)
	mustPanicNN(t, "MaxRows 2×0", func() { tp.MaxRows(tp.Zeros(2, 0)) })
	mustPanicNN(t, "MaxCols 0×2", func() { tp.MaxCols(tp.Zeros(0, 2)) })
	mustPanicNN(t, "Max empty", func() { tp.Max(tp.Zeros(0, 2)) })
	// Two MaxRows in one pass and again after a Reset (the argmax buffers
	// are recycled).
	for pass := 0; pass < 2; pass++ {
		tp.Reset()
		x := tp.Const(2, 2, []float32{1, 5, 7, 3})
		expect(t, "MaxRows pass", tp.MaxRows(x), []float32{5, 7})
		expect(t, "MaxCols pass", tp.MaxCols(x), []float32{7, 5})
		expect(t, "MaxRows again", tp.MaxRows(tp.Const(1, 3, []float32{0, -1, 2})), []float32{2})
	}
}

// TestMaxTiesGoToFirst: the gradient of a maximum goes to the first maximal
// element (row-major for Max, lowest column for MaxRows, lowest row for
// MaxCols and SegmentMax).
func TestMaxTiesGoToFirst(t *testing.T) {
	// Rows [3 1 3] and [−1 −2 −1]: first maxima at columns 0 and 0.
	g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MaxRows(x[0]) },
		nn.FromSlice(2, 3, []float32{3, 1, 3, -1, -2, -1}))
	expectGrad(t, "MaxRows", g[0], []float32{1, 0, 0, 1, 0, 0})
	// Columns [2 2 1] and [−5 −5 −7]: first maxima at row 0.
	g = grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MaxCols(x[0]) },
		nn.FromSlice(3, 2, []float32{2, -5, 2, -5, 1, -7}))
	expectGrad(t, "MaxCols", g[0], []float32{1, 1, 0, 0, 0, 0})
	g = grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Max(x[0]) },
		nn.FromSlice(1, 3, []float32{4, 1, 4}))
	expectGrad(t, "Max", g[0], []float32{1, 0, 0})
	// Segment 0 = rows 0, 1 (tie 2, 2), segment 1 empty, segment 2 = row 2.
	g = grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentMax(x[0], []int{0, 0, 2}, 3) },
		nn.FromSlice(3, 1, []float32{2, 2, -1}))
	expectGrad(t, "SegmentMax", g[0], []float32{1, 0, 1})
}

func TestSegmentOpsKnownValues(t *testing.T) {
	tp := nn.NewInference()
	a := tp.Const(4, 2, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	seg := []int{2, 0, 2, 2}
	// Segment 0 = row 1; segment 1 empty; segment 2 = rows 0, 2, 3; segment 3 empty.
	expect(t, "SegmentSum", tp.SegmentSum(a, seg, 4), []float32{3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8, 0, 0})
	expect(t, "ScatterAdd", tp.ScatterAdd(a, seg, 4), []float32{3, 4, 0, 0, 13, 16, 0, 0})
	expect(t, "SegmentMean", tp.SegmentMean(a, seg, 4), []float32{3, 4, 0, 0, 13.0 / 3, 16.0 / 3, 0, 0})

	// Column maxima per segment over negative values: segment 0 = rows 0..2,
	// column 0 max(−1, −3, −2) = −1 (row 0), column 1 max(5, 7, 5) = 7;
	// segment 1 empty → 0; segment 2 = row 3.
	m := tp.Const(4, 2, []float32{-1, 5, -3, 7, -2, 5, 4, 0})
	expect(t, "SegmentMax", tp.SegmentMax(m, []int{0, 0, 0, 2}, 3), []float32{-1, 7, 0, 0, 4, 0})

	mustPanicNN(t, "segment id == nseg", func() { tp.SegmentSum(a, []int{0, 1, 2, 3}, 3) })
	mustPanicNN(t, "segment id −1", func() { tp.SegmentMean(a, []int{0, -1, 0, 0}, 3) })
	mustPanicNN(t, "segment ids count", func() { tp.SegmentMax(a, []int{0, 0, 0}, 3) })
	expect(t, "segment id nseg−1", tp.SegmentSum(tp.Const(1, 1, []float32{2}), []int{2}, 3), []float32{0, 0, 2})
}

// TestSoftmaxKnownValues: plain, log and masked softmax by hand, at logits
// large enough that an unshifted exp overflows (e^801 = Inf in float64,
// e^101 = Inf in float32), so the max shift is exercised.
func TestSoftmaxKnownValues(t *testing.T) {
	tp := nn.NewInference()
	e := math.E
	// softmax(400, 401) = (1, e)/(1+e); log: (−ln(1+e), 1−ln(1+e)).
	p0, p1 := 1/(1+e), e/(1+e)
	l0, l1 := -math.Log(1+e), 1-math.Log(1+e)
	big := tp.Const(2, 2, []float32{400, 401, -3, -3})
	expectRel(t, "Softmax", tp.Softmax(big), []float64{p0, p1, 0.5, 0.5}, 1e-6)
	expectRel(t, "LogSoftmax", tp.LogSoftmax(big), []float64{l0, l1, -math.Ln2, -math.Ln2}, 1e-5)

	// Masked: row 0 allows columns 0, 2 with logits 0, ln 3 → 1/4, 3/4;
	// row 1 allows columns 1, 2 with logits 0, ln 3 (column 0 is 100 but
	// masked).
	ln3 := float32(math.Log(3))
	x := tp.Const(2, 3, []float32{0, 100, ln3, 100, 0, ln3})
	mask := []bool{true, false, true, false, true, true}
	expectRel(t, "MaskedSoftmax", tp.MaskedSoftmax(x, mask), []float64{0.25, 0, 0.75, 0, 0.25, 0.75}, 1e-6)
	lp := tp.MaskedLogSoftmax(x, mask)
	want := []float64{math.Log(0.25), math.Inf(-1), math.Log(0.75), math.Inf(-1), math.Log(0.25), math.Log(0.75)}
	for i, w := range want {
		g := float64(lp.Data[i])
		if math.IsInf(w, -1) != math.IsInf(g, -1) || (!math.IsInf(w, -1) && !(math.Abs(g-w) <= 1e-6)) {
			t.Fatalf("MaskedLogSoftmax = %v, want %v", lp.Data, want)
		}
	}
	// Without a mask a row of −Inf logits is not rejected (only masks are
	// checked); the shape is kept.
	expectShape(t, "Softmax of −Inf row", tp.Softmax(tp.Const(1, 2, []float32{float32(math.Inf(-1)), float32(math.Inf(-1))})), 1, 2)
	// A masked tensor with rows but no columns has no row to reject.
	expectShape(t, "MaskedSoftmax 2×0", tp.MaskedSoftmax(tp.Zeros(2, 0), []bool{}), 2, 0)
	mustPanicNN(t, "mask length", func() { tp.MaskedSoftmax(x, mask[:5]) })
	mustPanicNN(t, "row with nothing allowed", func() {
		tp.MaskedLogSoftmax(x, []bool{true, false, true, false, false, false})
	})

	// Segment softmax per column: segment 0 = rows 0, 1, segment 1 = row 2,
	// segment 2 empty. Column 0 holds 50, 51 (e^101 overflows float32
	// without the shift); column 1 holds 0, ln 3.
	s := tp.Const(3, 2, []float32{50, 0, 51, ln3, 200, -7})
	sg := []int{0, 0, 1}
	expectRel(t, "SegmentSoftmax", tp.SegmentSoftmax(s, sg, 3), []float64{p0, 0.25, p1, 0.75, 1, 1}, 1e-5)
	ls := tp.SegmentLogSoftmax(s, sg, 3)
	wantLS := []float64{l0, math.Log(0.25), l1, math.Log(0.75), 0, 0}
	for i, w := range wantLS {
		if !(math.Abs(float64(ls.Data[i])-w) <= 2e-5) {
			t.Fatalf("SegmentLogSoftmax = %v, want %v", ls.Data, wantLS)
		}
	}
}

func TestIndexOpsKnownValues(t *testing.T) {
	tp := nn.NewInference()
	a := tp.Const(3, 2, []float32{1, 2, 3, 4, 5, 6})
	mustPanicNN(t, "Gather index == rows", func() { tp.Gather(a, []int{0, 3}) })
	mustPanicNN(t, "Gather index −1", func() { tp.Gather(a, []int{-1}) })
	expectShape(t, "Gather nothing", tp.Gather(a, nil), 0, 2)
	expect(t, "Gather last row", tp.Gather(a, []int{2}), []float32{5, 6})

	// PickCols: row 0 column 1 = 2, row 1 column 0 = 3, row 2 column 1 = 6.
	expect(t, "PickCols", tp.PickCols(a, []int{1, 0, 1}), []float32{2, 3, 6})
	mustPanicNN(t, "PickCols column == cols", func() { tp.PickCols(a, []int{2, 0, 0}) })
	mustPanicNN(t, "PickCols column −1", func() { tp.PickCols(a, []int{0, -1, 0}) })
	mustPanicNN(t, "PickCols count", func() { tp.PickCols(a, []int{0, 0}) })

	expect(t, "ConcatRows", tp.ConcatRows(tp.Const(1, 2, []float32{9, 8}), a), []float32{9, 8, 1, 2, 3, 4, 5, 6})
	expect(t, "ConcatCols", tp.ConcatCols(a, tp.Const(3, 1, []float32{7, 8, 9}), a),
		[]float32{1, 2, 7, 1, 2, 3, 4, 8, 3, 4, 5, 6, 9, 5, 6})
	mustPanicNN(t, "ConcatRows cols", func() { tp.ConcatRows(a, tp.Zeros(1, 3)) })
	mustPanicNN(t, "ConcatCols rows", func() { tp.ConcatCols(a, tp.Zeros(2, 1)) })
	mustPanicNN(t, "ConcatRows nothing", func() { tp.ConcatRows() })
	mustPanicNN(t, "ConcatCols nothing", func() { tp.ConcatCols() })

	expect(t, "SliceRows all", tp.SliceRows(a, 0, 3), []float32{1, 2, 3, 4, 5, 6})
	expect(t, "SliceRows tail", tp.SliceRows(a, 1, 3), []float32{3, 4, 5, 6})
	expectShape(t, "SliceRows empty", tp.SliceRows(a, 2, 2), 0, 2)
	mustPanicNN(t, "SliceRows from −1", func() { tp.SliceRows(a, -1, 1) })
	mustPanicNN(t, "SliceRows to 4", func() { tp.SliceRows(a, 0, 4) })
	mustPanicNN(t, "SliceRows from > to", func() { tp.SliceRows(a, 2, 1) })
	b := tp.Const(2, 3, []float32{1, 2, 3, 4, 5, 6})
	expect(t, "SliceCols all", tp.SliceCols(b, 0, 3), []float32{1, 2, 3, 4, 5, 6})
	expect(t, "SliceCols tail", tp.SliceCols(b, 1, 3), []float32{2, 3, 5, 6})
	expectShape(t, "SliceCols empty", tp.SliceCols(b, 1, 1), 2, 0)
	mustPanicNN(t, "SliceCols from −1", func() { tp.SliceCols(b, -1, 1) })
	mustPanicNN(t, "SliceCols to 4", func() { tp.SliceCols(b, 0, 4) })
	mustPanicNN(t, "SliceCols from > to", func() { tp.SliceCols(b, 2, 1) })

	r := tp.Reshape(b, 3, 2)
	expectShape(t, "Reshape", r, 3, 2)
	expect(t, "Reshape", r, []float32{1, 2, 3, 4, 5, 6})
	mustPanicNN(t, "Reshape 4×2", func() { tp.Reshape(b, 4, 2) })

	// Kron [[1 2];[3 4]] ⊗ [[0 1 2];[3 4 5]]: block (i,j) = a[i,j]·b.
	k := tp.Kron(tp.Const(2, 2, []float32{1, 2, 3, 4}), tp.Const(2, 3, []float32{0, 1, 2, 3, 4, 5}))
	expectShape(t, "Kron", k, 4, 6)
	expect(t, "Kron", k, []float32{
		0, 1, 2, 0, 2, 4,
		3, 4, 5, 6, 8, 10,
		0, 3, 6, 0, 4, 8,
		9, 12, 15, 12, 16, 20,
	})
}

func TestMatMulLinearKnownValues(t *testing.T) {
	tp := nn.NewInference()
	// a = [[1 2 3];[4 5 6]]: aᵀa = [[17 22 27];[22 29 36];[27 36 45]].
	a := tp.Const(2, 3, []float32{1, 2, 3, 4, 5, 6})
	expect(t, "MatMulTA", tp.MatMulT(a, a, true, false), []float32{17, 22, 27, 22, 29, 36, 27, 36, 45})
	// aᵀ of [[1 4];[2 5];[3 6]] is [[1 2 3];[4 5 6]], bᵀ of
	// [[7 9 11];[8 10 12]] is [[7 8];[9 10];[11 12]]: product [[58 64];[139 154]].
	expect(t, "MatMulTATB", tp.MatMulT(tp.Const(3, 2, []float32{1, 4, 2, 5, 3, 6}),
		tp.Const(2, 3, []float32{7, 9, 11, 8, 10, 12}), true, true), []float32{58, 64, 139, 154})
	mustPanicNN(t, "MatMulT inner", func() { tp.MatMulT(a, a, false, false) })

	// x = [[1 2];[0 1]], w = [[1 2 3];[4 5 6]], b = [10 20 30]:
	// x·w = [[9 12 15];[4 5 6]], plus b = [[19 32 45];[14 25 36]].
	x := tp.Const(2, 2, []float32{1, 2, 0, 1})
	w := tp.Const(2, 3, []float32{1, 2, 3, 4, 5, 6})
	bias := tp.Const(1, 3, []float32{10, 20, 30})
	expect(t, "Linear", tp.Linear(x, w, bias), []float32{19, 32, 45, 14, 25, 36})
	expect(t, "Linear no bias", tp.Linear(x, w, nil), []float32{9, 12, 15, 4, 5, 6})
	mustPanicNN(t, "Linear bias cols", func() { tp.Linear(x, w, tp.Zeros(1, 2)) })
	mustPanicNN(t, "Linear bias rows", func() { tp.Linear(x, w, tp.Zeros(2, 3)) })
	mustPanicNN(t, "Linear input", func() { tp.Linear(w, w, nil) })

	// Gradients of Σ out (∂out = 1): ∂b = 1 summed over the 2 rows = [2 2 2];
	// ∂w[k,·] = Σ_i x[i,k]: 1+0 = 1, 2+1 = 3; ∂x[i,k] = Σ_n w[k,n].
	g := grads(func(tp *nn.Tape, v []*nn.Tensor) *nn.Tensor { return tp.Linear(v[0], v[1], v[2]) }, x, w, bias)
	expectGrad(t, "Linear ∂x", g[0], []float32{6, 15, 6, 15}) // row sums of w: 1+2+3, 4+5+6
	expectGrad(t, "Linear ∂w", g[1], []float32{1, 1, 1, 3, 3, 3})
	expectGrad(t, "Linear ∂b", g[2], []float32{2, 2, 2})
}

func TestLossesKnownValues(t *testing.T) {
	tp := nn.NewInference()
	// MSE: differences [1 0 −2 0], squares [1 0 4 0], mean 5/4.
	expect(t, "MSE", tp.MSE(tp.Const(1, 4, []float32{1, 2, 3, 4}), tp.Const(1, 4, []float32{0, 2, 5, 4})), []float32{1.25})
	mustPanicNN(t, "MSE shapes", func() { tp.MSE(tp.Zeros(1, 4), tp.Zeros(4, 1)) })

	// Huber, δ = 2, d = pred − target = [−1 3 −2 2]:
	// |−1| ≤ 2: ½·1 = 0.5; 3 > 2: 2·(3 − 1) = 4; |±2| = δ: ½·4 = 2 = 2·(2 − 1).
	// Mean (0.5 + 4 + 2 + 2)/4 = 2.125.
	pred := nn.FromSlice(1, 4, []float32{0, 0, 0, 0})
	target := nn.FromSlice(1, 4, []float32{1, -3, 2, -2})
	expect(t, "Huber", tp.Huber(pred, target, 2), []float32{2.125})
	// ∂/∂pred = clamp(d, −δ, δ)/n = [−1 2 −2 2]/4; ∂/∂target is its negative.
	g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Huber(x[0], x[1], 2) }, pred, target)
	expectGrad(t, "Huber ∂pred", g[0], []float32{-0.25, 0.5, -0.5, 0.5})
	expectGrad(t, "Huber ∂target", g[1], []float32{0.25, -0.5, 0.5, -0.5})
	expect(t, "Huber empty", tp.Huber(tp.Zeros(0, 2), tp.Zeros(0, 2), 1), []float32{0})
	mustPanicNN(t, "Huber shapes", func() { tp.Huber(tp.Zeros(1, 4), tp.Zeros(4, 1), 1) })

	// Cross-entropy of logits [0 ln3] (p = [¼ ¾]) and [ln3 0] (p = [¾ ¼]),
	// both labelled 1: −(ln ¾ + ln ¼)/2.
	l3 := float32(math.Log(3))
	expectRel(t, "CrossEntropy", tp.CrossEntropy(tp.Const(2, 2, []float32{0, l3, l3, 0}), []int{1, 1}),
		[]float64{-(math.Log(0.75) + math.Log(0.25)) / 2}, 1e-6)
	// Entropy of [¼ ¾] = −(¼ ln ¼ + ¾ ln ¾); masked: column 1 (100) excluded.
	h := -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))
	expectRel(t, "Entropy", tp.Entropy(tp.Const(2, 2, []float32{0, l3, l3, 0}), nil), []float64{h, h}, 1e-6)
	expectRel(t, "Entropy masked", tp.Entropy(tp.Const(2, 3, []float32{0, 100, l3, 7, 7, 7}),
		[]bool{true, false, true, true, true, true}), []float64{h, math.Log(3)}, 1e-6)
}

// TestLayerNormKnownValues: rows normalised with the biased variance and eps
// inside the square root, then gain and bias.
func TestLayerNormKnownValues(t *testing.T) {
	tp := nn.NewInference()
	// Row 0 = [1 2 6]: mean 3, deviations [−2 −1 3], variance (4+1+9)/3 = 14/3,
	// + eps 1/3 = 5: x̂ = [−2 −1 3]/√5.
	// Row 1 = [0 0 3]: mean 1, deviations [−1 −1 2], variance 6/3 = 2,
	// + 1/3 = 7/3: x̂ = [−1 −1 2]·√(3/7).
	x := tp.Const(2, 3, []float32{1, 2, 6, 0, 0, 3})
	eps := float32(1.0 / 3)
	r5, r37 := 1/math.Sqrt(5), math.Sqrt(3.0/7)
	xhat := []float64{-2 * r5, -1 * r5, 3 * r5, -r37, -r37, 2 * r37}
	gain := []float64{1, 2, -1}
	bias := []float64{0.5, 0, 1}
	want := make([]float64, 6)
	wantG := make([]float64, 6)
	wantB := make([]float64, 6)
	for k, h := range xhat {
		want[k] = h*gain[k%3] + bias[k%3]
		wantG[k] = h * gain[k%3]
		wantB[k] = h + bias[k%3]
	}
	approx := func(name string, got *nn.Tensor, want []float64) {
		t.Helper()
		for i, w := range want {
			if !(math.Abs(float64(got.Data[i])-w) <= 1e-6) {
				t.Fatalf("%s = %v, want %v", name, got.Data, want)
			}
		}
	}
	g := tp.Const(1, 3, []float32{1, 2, -1})
	b := tp.Const(1, 3, []float32{0.5, 0, 1})
	approx("LayerNorm", tp.LayerNorm(x, g, b, eps), want)
	approx("LayerNorm no affine", tp.LayerNorm(x, nil, nil, eps), xhat)
	approx("LayerNorm gain only", tp.LayerNorm(x, g, nil, eps), wantG)
	approx("LayerNorm bias only", tp.LayerNorm(x, nil, b, eps), wantB)
	mustPanicNN(t, "LayerNorm gain 1×2", func() { tp.LayerNorm(x, tp.Zeros(1, 2), nil, eps) })
	mustPanicNN(t, "LayerNorm bias 2×3", func() { tp.LayerNorm(x, nil, tp.Zeros(2, 3), eps) })

	// Parameter gradients of Σ out with x constant: ∂bias = rows per column
	// = 2; ∂gain = Σ_rows x̂ per column.
	tr := nn.NewTape()
	xc := tr.Const(2, 3, x.Data)
	gl := tr.Leaf(1, 3, []float32{1, 2, -1})
	bl := tr.Leaf(1, 3, []float32{0.5, 0, 1})
	tr.Backward(tr.Sum(tr.LayerNorm(xc, gl, bl, eps)))
	expectGrad(t, "LayerNorm ∂bias", bl.Grad, []float32{2, 2, 2})
	for j := 0; j < 3; j++ {
		if w := xhat[j] + xhat[3+j]; !(math.Abs(float64(gl.Grad[j])-w) <= 1e-6) {
			t.Fatalf("LayerNorm ∂gain = %v, want column sums of %v", gl.Grad, xhat)
		}
	}
	if xc.Grad != nil {
		t.Fatal("LayerNorm gave a constant input a gradient")
	}
}

func TestLgammaDigammaKnownValues(t *testing.T) {
	const gamma = 0.57721566490153286061 // Euler–Mascheroni
	// ψ(1) = −γ, ψ(½) = −γ − 2 ln 2, ψ(n) = −γ + H_{n−1} (H_9 at 10, H_24 at 25,
	// which the asymptotic series handles without the recurrence).
	h := func(n int) float64 {
		s := 0.0
		for k := 1; k <= n; k++ {
			s += 1 / float64(k)
		}
		return s
	}
	for _, c := range []struct{ x, want float64 }{
		{1, -gamma}, {0.5, -gamma - 2*math.Ln2}, {2, 1 - gamma}, {10, h(9) - gamma}, {25, h(24) - gamma},
	} {
		if d := nn.Digamma(c.x); !(math.Abs(d-c.want) <= 3e-13) {
			t.Fatalf("Digamma(%v) = %.17g, want %.17g", c.x, d, c.want)
		}
	}
	// ψ′(1) = π²/6, ψ′(½) = π²/2, ψ′(n) = π²/6 − Σ_{k<n} 1/k².
	z2 := math.Pi * math.Pi / 6
	h2 := func(n int) float64 {
		s := 0.0
		for k := 1; k <= n; k++ {
			s += 1 / float64(k*k)
		}
		return s
	}
	for _, c := range []struct{ x, want float64 }{
		{1, z2}, {0.5, 3 * z2}, {10, z2 - h2(9)}, {25, z2 - h2(24)},
	} {
		if d := nn.Trigamma(c.x); !(math.Abs(d-c.want) <= 2e-12) {
			t.Fatalf("Trigamma(%v) = %.17g, want %.17g", c.x, d, c.want)
		}
	}
	for _, x := range []float64{0, -1, -0.5} {
		if !math.IsNaN(nn.Digamma(x)) || !math.IsNaN(nn.Trigamma(x)) {
			t.Fatalf("Digamma/Trigamma(%v) must be NaN", x)
		}
	}
	tp := nn.NewInference()
	// ln Γ(1) = ln Γ(2) = 0, ln Γ(½) = ln √π, ln Γ(5) = ln 24.
	expectRel(t, "Lgamma", tp.Lgamma(tp.Const(1, 4, []float32{1, 2, 0.5, 5})),
		[]float64{0, 0, 0.5 * math.Log(math.Pi), math.Log(24)}, 1e-6)
	expectRel(t, "Digamma op", tp.Digamma(tp.Const(1, 2, []float32{1, 0.5})),
		[]float64{-gamma, -gamma - 2*math.Ln2}, 1e-6)
	// (ln Γ)′ = ψ: −γ at 1; ψ′ = ψ₁: π²/6 at 1.
	g := grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Lgamma(x[0]) }, nn.FromSlice(1, 1, []float32{1}))
	expectGrad(t, "Lgamma′", g[0], []float32{-gamma})
	g = grads(func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Digamma(x[0]) }, nn.FromSlice(1, 1, []float32{1}))
	expectGrad(t, "Digamma′", g[0], []float32{float32(z2)})
}
