package attention_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/attention"
	"github.com/cpntrain/cpntrain/nn/linear"
)

// setLinear overwrites a layer's In×Out weight (row-major, input-major as
// the linear package stores it) and bias.
func setLinear(t *testing.T, l *linear.Model, w, b []float32) {
	t.Helper()
	if len(w) != len(l.W.V.Data) || len(b) != len(l.B.V.Data) {
		t.Fatalf("setLinear: %d weights and %d biases for a %s layer", len(w), len(b), l.W.V.Shape())
	}
	copy(l.W.V.Data, w)
	copy(l.B.V.Data, b)
}

func checkRows(t *testing.T, what string, got *nn.Tensor, want [][]float64, tol float64) {
	t.Helper()
	if got.Rows != len(want) || got.Cols != len(want[0]) {
		t.Fatalf("%s: shape %s, want %d×%d", what, got.Shape(), len(want), len(want[0]))
	}
	for i, row := range want {
		for j, w := range row {
			if g := float64(got.Data[i*got.Cols+j]); math.IsNaN(g) || math.Abs(g-w) > tol {
				t.Fatalf("%s[%d][%d] = %.7g, want %.7g\n got %v", what, i, j, g, w, got.Data)
			}
		}
	}
}

// TestForwardKnownValueOneHead: Dim = 4, one head (d_h = 4, scale
// 1/√4 = ½), weights set by hand so that each projection is distinguishable:
//
//	Wq = 2·I, Wk swaps columns 0↔1 and 2↔3, Wv = diag(10, 20, 30, 40) with
//	bias 1, Wo = I with bias (0, 0, 0, −1); other biases 0.
//
// q = [[ln 3, 0, 0, 0], [0, 0, ln 2, 0]] → Q = [[2 ln 3, 0, 0, 0], [0, 0, 2 ln 2, 0]].
// kv = [[0, 1, 0, 0], [0, 0, 0, 1]] → K = [[1, 0, 0, 0], [0, 0, 1, 0]],
//
//	V = [[1, 21, 1, 1], [1, 1, 1, 41]].
//
// Scores Q·Kᵀ/2 = [[ln 3, 0], [0, ln 2]] → softmax rows (¾, ¼) and (⅓, ⅔).
// Heads A·V: row 0 = ¾V₁ + ¼V₂ = (1, 16, 1, 11),
//
//	row 1 = ⅓V₁ + ⅔V₂ = (1, 23/3, 1, 83/3).
//
// Out = heads + (0, 0, 0, −1) = [[1, 16, 1, 10], [1, 23/3, 1, 80/3]].
// With a 1/d_h scale instead, the scores would be ln 3/2 and ln 2/2 and the
// first weight row (0.634, 0.366); with Q and K swapped, different again.
func TestForwardKnownValueOneHead(t *testing.T) {
	m := attention.New(attention.Config{Dim: 4, Heads: 1}, rand.New(rand.NewPCG(1, 1)))
	setLinear(t, m.Q, []float32{
		2, 0, 0, 0,
		0, 2, 0, 0,
		0, 0, 2, 0,
		0, 0, 0, 2,
	}, []float32{0, 0, 0, 0})
	setLinear(t, m.K, []float32{
		0, 1, 0, 0,
		1, 0, 0, 0,
		0, 0, 0, 1,
		0, 0, 1, 0,
	}, []float32{0, 0, 0, 0})
	setLinear(t, m.V, []float32{
		10, 0, 0, 0,
		0, 20, 0, 0,
		0, 0, 30, 0,
		0, 0, 0, 40,
	}, []float32{1, 1, 1, 1})
	setLinear(t, m.Out, []float32{
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 1,
	}, []float32{0, 0, 0, -1})
	tp := nn.NewInference()
	ln2, ln3 := float32(math.Ln2), float32(math.Log(3))
	q := tp.Const(2, 4, []float32{ln3, 0, 0, 0, 0, 0, ln2, 0})
	kv := tp.Const(2, 4, []float32{0, 1, 0, 0, 0, 0, 0, 1})
	out, ws := m.Attend(tp, q, kv, nil, true)
	if len(ws) != 1 {
		t.Fatalf("%d weight tensors, want 1", len(ws))
	}
	checkRows(t, "weights", ws[0], [][]float64{{0.75, 0.25}, {1.0 / 3, 2.0 / 3}}, 1e-6)
	checkRows(t, "output", out, [][]float64{{1, 16, 1, 10}, {1, 23.0 / 3, 1, 80.0 / 3}}, 2e-5)
	// Forward is Attend without the weights.
	checkRows(t, "Forward output", m.Forward(tp, q, kv, nil), [][]float64{{1, 16, 1, 10}, {1, 23.0 / 3, 1, 80.0 / 3}}, 2e-5)
}

// TestForwardKnownValueTwoHeads: Dim = 4, two heads (d_h = 2, scale 1/√2),
// every projection the identity with zero bias, so head 1 sees columns 0–1
// and head 2 columns 2–3. Two identical queries
// q = (√2·ln 2, 0, 0, √2·ln 3), three keys/values
// kv = [[1, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]], and a mask that hides
// key 0 from query 1.
//
// Query 0: head 1 scores (√2 ln 2·(1, 0, 1))/√2 = (ln 2, 0, ln 2) → (2, 1, 2)/5,
//
//	output 2/5·(1, 0) + 1/5·(0, 1) + 2/5·(1, 0) = (0.8, 0.2);
//	head 2 scores (ln 3, 0, 0) → (3, 1, 1)/5, output 3/5·(0, 1) = (0, 0.6).
//
// Query 1 (key 0 masked): head 1 (·, 0, ln 2) → (0, ⅓, ⅔), output (⅔, ⅓);
//
//	head 2 (·, 0, 0) → (0, ½, ½), output (0, 0).
//
// Out = [head 1, head 2] = [[0.8, 0.2, 0, 0.6], [⅔, ⅓, 0, 0]].
func TestForwardKnownValueTwoHeads(t *testing.T) {
	m := attention.New(attention.Config{Dim: 4, Heads: 2}, rand.New(rand.NewPCG(1, 1)))
	eye := []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}
	for _, l := range []*linear.Model{m.Q, m.K, m.V, m.Out} {
		setLinear(t, l, eye, []float32{0, 0, 0, 0})
	}
	tp := nn.NewInference()
	a, b := float32(math.Sqrt2*math.Ln2), float32(math.Sqrt2*math.Log(3))
	q := tp.Const(2, 4, []float32{a, 0, 0, b, a, 0, 0, b})
	kv := tp.Const(3, 4, []float32{1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0})
	mask := []bool{true, true, true, false, true, true}
	out, ws := m.Attend(tp, q, kv, mask, true)
	if len(ws) != 2 {
		t.Fatalf("%d weight tensors, want 2", len(ws))
	}
	checkRows(t, "head 1 weights", ws[0], [][]float64{{0.4, 0.2, 0.4}, {0, 1.0 / 3, 2.0 / 3}}, 1e-6)
	checkRows(t, "head 2 weights", ws[1], [][]float64{{0.6, 0.2, 0.2}, {0, 0.5, 0.5}}, 1e-6)
	checkRows(t, "output", out, [][]float64{{0.8, 0.2, 0, 0.6}, {2.0 / 3, 1.0 / 3, 0, 0}}, 1e-6)
	// Without the mask both queries give row 0.
	checkRows(t, "unmasked output", m.Forward(tp, q, kv, nil), [][]float64{{0.8, 0.2, 0, 0.6}, {0.8, 0.2, 0, 0.6}}, 1e-6)
}

// TestSegmentMask: queries in segments (0, 0, 1), keys in (1, 0, 1, 0):
// query i may attend key j iff segQ[i] == segK[j].
func TestSegmentMask(t *testing.T) {
	got := attention.SegmentMask([]int{0, 0, 1}, []int{1, 0, 1, 0})
	want := []bool{
		false, true, false, true,
		false, true, false, true,
		true, false, true, false,
	}
	if len(got) != len(want) {
		t.Fatalf("mask has %d entries, want %d", len(got), len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("mask %v, want %v", got, want)
		}
	}
}

// TestValidate: Dim and Heads must be positive with Heads dividing Dim, and
// KVDim non-negative (0 means Dim); New panics on what Validate rejects and
// a mask of the wrong size panics.
func TestValidate(t *testing.T) {
	for _, c := range []attention.Config{
		{Dim: 0, Heads: 1}, {Dim: -4, Heads: 2}, {Dim: 4, Heads: 0}, {Dim: 4, Heads: -2},
		{Dim: 4, Heads: 3}, {Dim: 4, Heads: 2, KVDim: -1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	for _, c := range []attention.Config{{Dim: 1, Heads: 1}, {Dim: 4, Heads: 4}, {Dim: 6, Heads: 3, KVDim: 1}, {Dim: 4, Heads: 2, KVDim: 0}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v rejected: %v", c, err)
		}
	}
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	mustPanic("New with Heads 3 for Dim 4", func() { attention.New(attention.Config{Dim: 4, Heads: 3}, rng) })
	m := attention.New(attention.Config{Dim: 4, Heads: 2}, rng)
	tp := nn.NewInference()
	q, kv := tp.Zeros(2, 4), tp.Zeros(3, 4)
	mustPanic("a 5-entry mask for 2×3", func() { m.Forward(tp, q, kv, make([]bool, 5)) })
	mustPanic("a 7-entry mask for 2×3", func() { m.Forward(tp, q, kv, make([]bool, 7)) })
}
