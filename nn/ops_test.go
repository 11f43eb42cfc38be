package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

type opCase struct {
	name   string
	inputs func(rng *rand.Rand) []*nn.Tensor
	f      func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor
}

func rt(r, c int) func(*rand.Rand) *nn.Tensor {
	return func(rng *rand.Rand) *nn.Tensor { return nntest.RandTensor(rng, r, c, -1, 1) }
}

func pos(r, c int) func(*rand.Rand) *nn.Tensor {
	return func(rng *rand.Rand) *nn.Tensor { return nntest.RandTensor(rng, r, c, 0.5, 2) }
}

func away(r, c int) func(*rand.Rand) *nn.Tensor {
	return func(rng *rand.Rand) *nn.Tensor { return nntest.RandAway(rng, r, c, 0.1) }
}

func ins(gs ...func(*rand.Rand) *nn.Tensor) func(*rand.Rand) []*nn.Tensor {
	return func(rng *rand.Rand) []*nn.Tensor {
		out := make([]*nn.Tensor, len(gs))
		for i, g := range gs {
			out[i] = g(rng)
		}
		return out
	}
}

// distinct returns values spread apart so max / argmax are stable under
// finite differences.
func distinct(r, c int) func(*rand.Rand) *nn.Tensor {
	return func(rng *rand.Rand) *nn.Tensor {
		x := nn.New(r, c)
		perm := rng.Perm(r * c)
		for i, p := range perm {
			x.Data[i] = float32(p)*0.1 - float32(r*c)*0.05
		}
		return x
	}
}

var seg5 = []int{0, 2, 0, 1, 2}

var opCases = []opCase{
	{"MatMul", ins(rt(3, 4), rt(4, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MatMul(x[0], x[1]) }},
	{"MatMulTA", ins(rt(4, 3), rt(4, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MatMulT(x[0], x[1], true, false) }},
	{"MatMulTB", ins(rt(3, 4), rt(5, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MatMulT(x[0], x[1], false, true) }},
	{"MatMulTATB", ins(rt(4, 3), rt(5, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MatMulT(x[0], x[1], true, true) }},
	{"Linear", ins(rt(3, 4), rt(4, 5), rt(1, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Linear(x[0], x[1], x[2]) }},
	{"LinearNoBias", ins(rt(3, 4), rt(4, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Linear(x[0], x[1], nil) }},
	{"Add", ins(rt(3, 4), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Add(x[0], x[1]) }},
	{"AddRowBroadcast", ins(rt(3, 4), rt(1, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Add(x[0], x[1]) }},
	{"AddColBroadcast", ins(rt(3, 1), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Add(x[0], x[1]) }},
	{"SubScalarBroadcast", ins(rt(3, 4), rt(1, 1)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Sub(x[0], x[1]) }},
	{"SubOuter", ins(rt(3, 1), rt(1, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Sub(x[0], x[1]) }},
	{"Mul", ins(rt(3, 4), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Mul(x[0], x[1]) }},
	{"MulBroadcast", ins(rt(3, 4), rt(3, 1)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Mul(x[0], x[1]) }},
	{"Div", ins(rt(3, 4), pos(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Div(x[0], x[1]) }},
	{"DivBroadcast", ins(rt(3, 4), pos(1, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Div(x[0], x[1]) }},
	{"Maximum", ins(distinct(3, 4), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Maximum(x[0], x[1]) }},
	{"Minimum", ins(distinct(3, 4), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Minimum(x[0], x[1]) }},
	{"Scale", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Scale(x[0], -1.7) }},
	{"AddScalar", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.AddScalar(x[0], 0.3) }},
	{"Neg", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Neg(x[0]) }},
	{"ReLU", ins(away(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.ReLU(x[0]) }},
	{"LeakyReLU", ins(away(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.LeakyReLU(x[0], 0.01) }},
	{"Tanh", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Tanh(x[0]) }},
	{"Sigmoid", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Sigmoid(x[0]) }},
	{"Exp", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Exp(x[0]) }},
	{"Log", ins(pos(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Log(x[0]) }},
	{"Softplus", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Softplus(x[0]) }},
	{"Square", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Square(x[0]) }},
	{"Sqrt", ins(pos(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Sqrt(x[0]) }},
	{"Abs", ins(away(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Abs(x[0]) }},
	{"Clamp", ins(away(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Clamp(x[0], -0.05, 0.05) }},
	{"Lgamma", ins(pos(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Lgamma(x[0]) }},
	{"Digamma", ins(pos(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Digamma(x[0]) }},
	{"Sum", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Sum(x[0]) }},
	{"Mean", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Mean(x[0]) }},
	{"SumRows", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SumRows(x[0]) }},
	{"MeanRows", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MeanRows(x[0]) }},
	{"SumCols", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SumCols(x[0]) }},
	{"MeanCols", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MeanCols(x[0]) }},
	{"MaxRows", ins(distinct(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MaxRows(x[0]) }},
	{"MaxCols", ins(distinct(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MaxCols(x[0]) }},
	{"SegmentSum", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentSum(x[0], seg5, 4) }},
	{"SegmentMean", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentMean(x[0], seg5, 4) }},
	{"SegmentMax", ins(distinct(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentMax(x[0], seg5, 4) }},
	{"SegmentSoftmax", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentSoftmax(x[0], seg5, 3) }},
	{"SegmentLogSoftmax", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SegmentLogSoftmax(x[0], seg5, 3) }},
	{"Max", ins(distinct(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Max(x[0]) }},
	{"Kron", ins(rt(2, 3), rt(3, 2)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Kron(x[0], x[1]) }},
	{"ScatterAdd", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.ScatterAdd(x[0], []int{3, 3, 0, 1, 3}, 4) }},
	{"Softmax", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Softmax(x[0]) }},
	{"LogSoftmax", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.LogSoftmax(x[0]) }},
	{"MaskedSoftmax", ins(rt(2, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		return tp.MaskedSoftmax(x[0], []bool{true, false, true, false, true, true})
	}},
	{"MaskedLogSoftmax", ins(rt(2, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		m := []bool{true, false, true, false, true, true}
		// Masked entries are −Inf; pick only allowed ones to keep the check finite.
		return tp.PickCols(tp.MaskedLogSoftmax(x[0], m), []int{2, 1})
	}},
	{"Entropy", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Entropy(x[0], nil) }},
	{"EntropyMasked", ins(rt(2, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		return tp.Entropy(x[0], []bool{true, false, true, false, true, true})
	}},
	{"Gather", ins(rt(4, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Gather(x[0], []int{3, 0, 3, 2, 3}) }},
	{"PickCols", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.PickCols(x[0], []int{3, 0, 1}) }},
	{"ConcatCols", ins(rt(3, 2), rt(3, 4), rt(3, 1)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.ConcatCols(x[0], x[1], x[2]) }},
	{"ConcatRows", ins(rt(2, 3), rt(1, 3), rt(4, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.ConcatRows(x[0], x[1], x[2]) }},
	{"SliceRows", ins(rt(5, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SliceRows(x[0], 1, 4) }},
	{"SliceCols", ins(rt(3, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.SliceCols(x[0], 1, 4) }},
	{"Reshape", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MatMul(tp.Reshape(x[0], 4, 3), x[0]) }},
	{"Transpose", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Transpose(x[0]) }},
	{"MSE", ins(rt(3, 4), rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.MSE(x[0], x[1]) }},
	{"Huber", ins(rt(3, 4), func(rng *rand.Rand) *nn.Tensor { return nntest.RandTensor(rng, 3, 4, 1.5, 3) }),
		func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.Huber(x[0], tp.Scale(x[1], 0.5), 1) }},
	{"CrossEntropy", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.CrossEntropy(x[0], []int{1, 3, 0}) }},
	{"LayerNorm", ins(rt(3, 5), rt(1, 5), rt(1, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.LayerNorm(x[0], x[1], x[2], 1e-5) }},
	{"LayerNormNoAffine", ins(rt(3, 5)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor { return tp.LayerNorm(x[0], nil, nil, 1e-5) }},
	{"Dropout", ins(rt(3, 4)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		// Same mask in every evaluation: a fresh generator with a fixed seed.
		return tp.Dropout(x[0], 0.3, rand.New(rand.NewPCG(3, 4)))
	}},
	{"ReusedInput", ins(rt(3, 3)), func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		return tp.Add(tp.MatMul(x[0], x[0]), tp.Tanh(x[0]))
	}},
}

func TestOpGradients(t *testing.T) {
	for i, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+1, 99))
			nntest.GradCheck(t, c.f, c.inputs(rng), nil, nntest.Options{})
		})
	}
}

func TestDropoutInferenceIsIdentity(t *testing.T) {
	tp := nn.NewInference()
	x := tp.Const(2, 2, []float32{1, 2, 3, 4})
	if y := tp.Dropout(x, 0.5, rand.New(rand.NewPCG(1, 1))); y != x {
		t.Fatal("Dropout on an inference tape must return its input")
	}
}

func TestKnownValues(t *testing.T) {
	tp := nn.NewInference()
	a := tp.Const(2, 3, []float32{1, 2, 3, 4, 5, 6})
	b := tp.Const(3, 2, []float32{7, 8, 9, 10, 11, 12})
	expect(t, "MatMul", tp.MatMul(a, b), []float32{58, 64, 139, 154})
	expect(t, "MatMulTB", tp.MatMulT(a, a, false, true), []float32{14, 32, 32, 77})
	expect(t, "SumRows", tp.SumRows(a), []float32{6, 15})
	expect(t, "SumCols", tp.SumCols(a), []float32{5, 7, 9})
	expect(t, "MaxRows", tp.MaxRows(a), []float32{3, 6})
	expect(t, "SegmentSum", tp.SegmentSum(a, []int{1, 1}, 3), []float32{0, 0, 0, 5, 7, 9, 0, 0, 0})
	expect(t, "SegmentMax", tp.SegmentMax(a, []int{0, 0}, 1), []float32{4, 5, 6})
	expect(t, "Gather", tp.Gather(a, []int{1, 1, 0}), []float32{4, 5, 6, 4, 5, 6, 1, 2, 3})
	expect(t, "Softmax", tp.Softmax(tp.Const(1, 2, []float32{0, float32(math.Log(3))})), []float32{0.25, 0.75})
	expect(t, "SegmentSoftmax", tp.SegmentSoftmax(tp.Const(3, 1, []float32{0, float32(math.Log(3)), 5}), []int{0, 0, 1}, 2), []float32{0.25, 0.75, 1})
	expect(t, "SegmentLogSoftmax", tp.SegmentLogSoftmax(tp.Const(3, 1, []float32{0, float32(math.Log(3)), 5}), []int{0, 0, 1}, 2),
		[]float32{float32(math.Log(0.25)), float32(math.Log(0.75)), 0})
	expect(t, "Max", tp.Max(a), []float32{6})
	expect(t, "Kron", tp.Kron(tp.Const(1, 2, []float32{1, 2}), tp.Const(2, 1, []float32{3, 4})), []float32{3, 6, 4, 8})
	expect(t, "Transpose", tp.Transpose(a), []float32{1, 4, 2, 5, 3, 6})
	expect(t, "ConcatCols", tp.ConcatCols(tp.SliceCols(a, 2, 3), tp.SliceCols(a, 0, 1)), []float32{3, 1, 6, 4})
	expect(t, "Entropy", tp.Entropy(tp.Const(1, 4, []float32{1, 1, 1, 1}), nil), []float32{float32(math.Log(4))})
	expect(t, "EntropyMasked", tp.Entropy(tp.Const(1, 4, []float32{1, 1, 9, 1}), []bool{true, true, false, true}), []float32{float32(math.Log(3))})
	lp := tp.MaskedLogSoftmax(tp.Const(1, 3, []float32{0, 100, 0}), []bool{true, false, true})
	if !math.IsInf(float64(lp.Data[1]), -1) || math.Abs(float64(lp.Data[0])-math.Log(0.5)) > 1e-6 {
		t.Fatalf("MaskedLogSoftmax = %v", lp.Data)
	}
	expect(t, "Huber", tp.Huber(tp.Const(1, 2, []float32{0, 3}), tp.Const(1, 2, []float32{0.5, 0}), 1), []float32{(0.125 + 2.5) / 2})
	if d := nn.Digamma(1); math.Abs(d+0.5772156649015329) > 1e-10 {
		t.Fatalf("Digamma(1) = %v", d)
	}
	if d := nn.Trigamma(1); math.Abs(d-math.Pi*math.Pi/6) > 1e-10 {
		t.Fatalf("Trigamma(1) = %v", d)
	}
}

func expect(t *testing.T, name string, got *nn.Tensor, want []float32) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, got.Len(), len(want))
	}
	for i := range want {
		// Negated so that a NaN result fails too.
		if !(math.Abs(float64(got.Data[i]-want[i])) <= 1e-5*math.Max(1, math.Abs(float64(want[i])))) {
			t.Fatalf("%s: got %v, want %v", name, got.Data, want)
		}
	}
}

func TestShapeErrorsPanicWithPrefix(t *testing.T) {
	cases := map[string]func(tp *nn.Tape){
		"matmul":  func(tp *nn.Tape) { tp.MatMul(nn.New(2, 3), nn.New(2, 3)) },
		"add":     func(tp *nn.Tape) { tp.Add(nn.New(2, 3), nn.New(3, 2)) },
		"gather":  func(tp *nn.Tape) { tp.Gather(nn.New(2, 3), []int{2}) },
		"segment": func(tp *nn.Tape) { tp.SegmentSum(nn.New(2, 3), []int{0, 5}, 2) },
		"mask":    func(tp *nn.Tape) { tp.MaskedSoftmax(nn.New(1, 2), []bool{false, false}) },
		"loss":    func(tp *nn.Tape) { tp.Backward(nn.New(2, 1)) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || len(s) < 4 || s[:4] != "nn: " {
					t.Fatalf("want a panic with an nn: message, got %v", r)
				}
			}()
			f(nn.NewTape())
		})
	}
}

func TestArenaReuseAndGradAccumulation(t *testing.T) {
	w := nn.NewParam(2, 2)
	copy(w.V.Data, []float32{1, 2, 3, 4})
	tp := nn.NewTape()
	for pass := 0; pass < 3; pass++ {
		tp.Reset()
		x := tp.Const(1, 2, []float32{1, 1})
		tp.Backward(tp.Sum(tp.MatMul(x, w.V)))
	}
	// d/dW Σ x·W = xᵀ·1 = all ones per pass, accumulated over 3 passes.
	for _, g := range w.V.Grad {
		if g != 3 {
			t.Fatalf("accumulated grad %v, want all 3", w.V.Grad)
		}
	}
}
