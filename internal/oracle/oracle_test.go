package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/attention"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// Tolerances for comparing our float32 results with gorgonia's float64 ones:
// an element passes when |ours − ref| ≤ rtol·|ref| + atol·max|ref| + floor,
// where max|ref| is taken over the whole tensor (so that elements that are
// tiny through cancellation are judged against the tensor's scale, not their
// own) and floor absorbs float32 round-off in gradients that are exactly zero
// in exact arithmetic (the attention key bias, see zeroGrad).
const (
	rtol  = 1e-4
	atol  = 1e-5
	floor = 1e-7
)

// zeroGrad lists parameters whose gradient is zero in exact arithmetic: the
// key bias adds q_i·b_k to every score of row i, which softmax ignores. Both
// engines must agree that it is (numerically) zero.
var zeroGrad = map[string]bool{"attn/k/b": true}

// ---------------------------------------------------------------------------
// Gorgonia side: a small builder that mirrors our modules in float64.

type gb struct {
	g      *G.ExprGraph
	params map[*nn.Param]*G.Node // our parameter → gorgonia input node
	nconst int
}

func newGB() *gb { return &gb{g: G.NewGraph(), params: map[*nn.Param]*G.Node{}} }

// input adds an r×c float64 input node holding the values of data.
func (b *gb) input(name string, r, c int, data []float64) *G.Node {
	if len(data) != r*c {
		panic(fmt.Sprintf("oracle: %s: %d values for %d×%d", name, len(data), r, c))
	}
	val := tensor.New(tensor.WithShape(r, c), tensor.WithBacking(append([]float64(nil), data...)))
	return G.NewMatrix(b.g, G.Float64, G.WithShape(r, c), G.WithName(name), G.WithValue(val))
}

// constant adds a non-differentiated r×c input (one-hot and ones matrices).
func (b *gb) constant(r, c int, data []float64) *G.Node {
	b.nconst++
	return b.input(fmt.Sprintf("const%d", b.nconst), r, c, data)
}

func (b *gb) ones(r, c int) *G.Node {
	d := make([]float64, r*c)
	for i := range d {
		d[i] = 1
	}
	return b.constant(r, c, d)
}

// param returns (creating on first use) the node holding a copy of p.
func (b *gb) param(path string, p *nn.Param) *G.Node {
	if n, ok := b.params[p]; ok {
		return n
	}
	n := b.input(path, p.V.Rows, p.V.Cols, f64(p.V.Data))
	b.params[p] = n
	return n
}

func (b *gb) mustParam(p *nn.Param) *G.Node {
	n, ok := b.params[p]
	if !ok {
		panic("oracle: parameter used before b.param registered it")
	}
	return n
}

// linear is x·W + 1·b; the bias is broadcast over rows by an outer product
// with a ones column, so no gorgonia broadcasting rule is involved.
func (b *gb) linear(x *G.Node, l *linear.Model) *G.Node {
	y := G.Must(G.Mul(x, b.mustParam(l.W)))
	if l.B != nil {
		rows := x.Shape()[0]
		y = G.Must(G.Add(y, G.Must(G.Mul(b.ones(rows, 1), b.mustParam(l.B)))))
	}
	return y
}

func (b *gb) act(a nn.Activation, x *G.Node) *G.Node {
	switch a {
	case nn.Identity, "none":
		return x
	case nn.ReLU:
		return G.Must(G.Rectify(x))
	case nn.Tanh:
		return G.Must(G.Tanh(x))
	}
	panic(fmt.Sprintf("oracle: activation %q not mirrored", a))
}

func (b *gb) mlp(x *G.Node, m *mlp.Model) *G.Node {
	for i, l := range m.Layers {
		x = b.linear(x, l)
		if i+1 < len(m.Layers) {
			x = b.act(m.Config.Act, x)
		} else {
			x = b.act(m.Config.OutAct, x)
		}
	}
	return x
}

// colBroadcast turns a length-r vector into an r×c matrix with equal columns.
func (b *gb) colBroadcast(v *G.Node, r, c int) *G.Node {
	col := G.Must(G.Reshape(v, tensor.Shape{r, 1}))
	return G.Must(G.Mul(col, b.ones(1, c)))
}

// softmax returns the row-wise softmax (log=false) or log-softmax (log=true)
// of a, written out by hand with the usual max subtraction.
func (b *gb) softmax(a *G.Node, log bool) *G.Node {
	r, c := a.Shape()[0], a.Shape()[1]
	z := G.Must(G.Sub(a, b.colBroadcast(G.Must(G.Max(a, 1)), r, c)))
	e := G.Must(G.Exp(z))
	s := G.Must(G.Sum(e, 1))
	if log {
		return G.Must(G.Sub(z, b.colBroadcast(G.Must(G.Log(s)), r, c)))
	}
	return G.Must(G.HadamardDiv(e, b.colBroadcast(s, r, c)))
}

// attention mirrors attention.Model.Forward(q=kv=x, mask=nil), one head at a
// time on column slices of Q, K and V.
func (b *gb) attention(x *G.Node, m *attention.Model) *G.Node {
	Q := b.linear(x, m.Q)
	K := b.linear(x, m.K)
	V := b.linear(x, m.V)
	H := m.Config.Heads
	dh := m.Config.Dim / H
	scale := G.NewConstant(1 / math.Sqrt(float64(dh)))
	var heads []*G.Node
	for h := 0; h < H; h++ {
		cols := G.S(h*dh, (h+1)*dh)
		qh := G.Must(G.Slice(Q, nil, cols))
		kh := G.Must(G.Slice(K, nil, cols))
		vh := G.Must(G.Slice(V, nil, cols))
		s := G.Must(G.Mul(G.Must(G.Mul(qh, G.Must(G.Transpose(kh)))), scale))
		heads = append(heads, G.Must(G.Mul(b.softmax(s, false), vh)))
	}
	return b.linear(G.Must(G.Concat(1, heads...)), m.Out)
}

// run differentiates loss with respect to wrt, runs the graph, and returns
// the loss and the gradients (row-major, float64).
func (b *gb) run(t *testing.T, loss *G.Node, wrt []*G.Node) (float64, [][]float64) {
	t.Helper()
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatalf("gorgonia Grad: %v", err)
	}
	vm := G.NewTapeMachine(b.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("gorgonia RunAll: %v", err)
	}
	lv, ok := loss.Value().Data().(float64)
	if !ok {
		t.Fatalf("gorgonia loss value is %T, want float64", loss.Value().Data())
	}
	out := make([][]float64, len(wrt))
	for i, gn := range grads {
		out[i] = denseRowMajor(t, gn.Value(), wrt[i].Shape())
	}
	return lv, out
}

// denseRowMajor reads a gorgonia value element by element (robust to views
// and transposed layouts).
func denseRowMajor(t *testing.T, v G.Value, want tensor.Shape) []float64 {
	t.Helper()
	d, ok := v.(*tensor.Dense)
	if !ok {
		t.Fatalf("gradient value is %T, want *tensor.Dense", v)
	}
	if !d.Shape().Eq(want) {
		t.Fatalf("gradient shape %v, want %v", d.Shape(), want)
	}
	r, c := want[0], want[1]
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			x, err := d.At(i, j)
			if err != nil {
				t.Fatalf("gradient At(%d,%d): %v", i, j, err)
			}
			out = append(out, x.(float64))
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Comparison.

type stats struct {
	maxAbs, maxRel       float64
	maxAbsAt, maxRelAt   string
	elems, checkedTensor int
}

// compare checks ours against ref and records the worst errors. The relative
// error of an element is |ours − ref| / max(|ref|, 1e-3·max|ref|), so that
// near-zero elements of a tensor do not dominate it.
func (s *stats) compare(t *testing.T, name string, ours []float32, ref []float64) {
	t.Helper()
	if len(ours) != len(ref) {
		t.Fatalf("%s: %d values, reference has %d", name, len(ours), len(ref))
	}
	var scale float64
	for _, v := range ref {
		scale = math.Max(scale, math.Abs(v))
	}
	for i, v := range ref {
		o := float64(ours[i])
		d := math.Abs(o - v)
		if math.IsNaN(o) || d > rtol*math.Abs(v)+atol*scale+floor {
			t.Fatalf("%s[%d]: ours %.9g, gorgonia %.9g (|diff| %.3g, tensor scale %.3g)", name, i, o, v, d, scale)
		}
		if d > s.maxAbs {
			s.maxAbs, s.maxAbsAt = d, fmt.Sprintf("%s[%d]", name, i)
		}
		if scale < floor {
			continue // a (numerically) zero gradient: no meaningful relative error
		}
		rel := d / math.Max(math.Abs(v), 1e-3*scale)
		if rel > s.maxRel {
			s.maxRel, s.maxRelAt = rel, fmt.Sprintf("%s[%d]", name, i)
		}
	}
	s.elems += len(ref)
	s.checkedTensor++
}

func (s *stats) log(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: %d tensors, %d gradient elements: max rel err %.3g (%s), max abs err %.3g (%s)",
		what, s.checkedTensor, s.elems, s.maxRel, s.maxRelAt, s.maxAbs, s.maxAbsAt)
}

func checkLoss(t *testing.T, ours float32, ref float64) {
	t.Helper()
	d := math.Abs(float64(ours) - ref)
	rel := d / math.Max(math.Abs(ref), 1e-12)
	t.Logf("loss: ours %.9g, gorgonia %.12g, abs err %.3g, rel err %.3g", ours, ref, d, rel)
	if rel > rtol {
		t.Fatalf("loss: ours %.9g, gorgonia %.12g (rel err %.3g > %g)", ours, ref, rel, rtol)
	}
}

// checkNonZero fails if a gradient is identically zero (the check would then
// prove nothing about that parameter).
func checkNonZero(t *testing.T, name string, g []float32) {
	t.Helper()
	for _, v := range g {
		if v != 0 {
			return
		}
	}
	t.Fatalf("%s: gradient is identically zero", name)
}

// checkZero fails unless both gradients are zero up to round-off.
func checkZero(t *testing.T, name string, ours []float32, ref []float64) {
	t.Helper()
	var mo, mr float64
	for i, v := range ours {
		mo = math.Max(mo, math.Abs(float64(v)))
		mr = math.Max(mr, math.Abs(ref[i]))
	}
	t.Logf("%s: gradient zero in exact arithmetic: max |ours| %.3g, max |gorgonia| %.3g", name, mo, mr)
	if mo > floor || mr > floor {
		t.Fatalf("%s: expected a zero gradient, got max |ours| %.3g, max |gorgonia| %.3g", name, mo, mr)
	}
}

// ---------------------------------------------------------------------------
// Helpers.

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func randData(rng *rand.Rand, n int, std float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64() * std)
	}
	return out
}

// oneHot returns the len(idx)×n matrix with a 1 at (k, idx[k]).
func oneHot(idx []int, n int) []float64 {
	out := make([]float64, len(idx)*n)
	for k, i := range idx {
		out[k*n+i] = 1
	}
	return out
}

// transposeData transposes an r×c row-major matrix.
func transposeData(a []float64, r, c int) []float64 {
	out := make([]float64, len(a))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = a[i*c+j]
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Case 1: attention → message passing → MLP head → log-softmax NLL.

type graphModel struct {
	attn          *attention.Model
	msg, upd, out *mlp.Model
}

func (m *graphModel) Params(visit func(string, *nn.Param)) {
	nn.Modules{
		{Name: "attn", M: m.attn},
		{Name: "msg", M: m.msg},
		{Name: "upd", M: m.upd},
		{Name: "head", M: m.out},
	}.Params(visit)
}

func TestGraphModelMatchesGorgonia(t *testing.T) {
	const (
		nodes   = 7
		dim     = 8 // node feature width (attention Dim)
		heads   = 2
		hidden  = 12
		classes = 4
		edges   = 16
	)
	rng := rand.New(rand.NewPCG(20240531, 7))
	m := &graphModel{
		attn: attention.New(attention.Config{Dim: dim, Heads: heads}, rng),
		msg:  mlp.New(mlp.Config{Sizes: []int{2 * dim, hidden, dim}, Act: nn.ReLU, OutAct: nn.Tanh}, rng),
		upd:  mlp.New(mlp.Config{Sizes: []int{2 * dim, hidden, dim}, Act: nn.Tanh, OutAct: nn.ReLU}, rng),
		out:  mlp.New(mlp.Config{Sizes: []int{dim, hidden, classes}, Act: nn.Tanh}, rng),
	}
	xData := randData(rng, nodes*dim, 1)
	src := make([]int, edges)
	dst := make([]int, edges)
	for e := range src {
		src[e] = rng.IntN(nodes)
		dst[e] = (src[e] + 1 + rng.IntN(nodes-1)) % nodes // no self loops
	}
	labels := make([]int, nodes)
	for i := range labels {
		labels[i] = rng.IntN(classes)
	}

	// Our engine, float32.
	params := nn.Collect(m)
	nn.ZeroGrads(m)
	tp := nn.NewTape()
	x := tp.Leaf(nodes, dim, xData)
	h := tp.Add(x, m.attn.Forward(tp, x, x, nil)) // residual attention block
	hSrc := tp.Gather(h, src)
	hDst := tp.Gather(h, dst)
	msg := m.msg.Forward(tp, tp.ConcatCols(hDst, hSrc))
	agg := tp.ScatterAdd(msg, dst, nodes)
	h2 := m.upd.Forward(tp, tp.ConcatCols(h, agg))
	logits := m.out.Forward(tp, h2)
	lp := tp.LogSoftmax(logits)
	loss := tp.Neg(tp.Mean(tp.PickCols(lp, labels)))
	tp.Backward(loss)
	ourLoss := loss.Item()

	// Gorgonia, float64, same parameter values.
	b := newGB()
	var wrt []*G.Node
	for _, np := range params {
		wrt = append(wrt, b.param(np.Path, np.Param))
	}
	gx := b.input("x", nodes, dim, f64(xData))
	wrt = append(wrt, gx)
	gh := G.Must(G.Add(gx, b.attention(gx, m.attn)))
	gSrc := G.Must(G.Mul(b.constant(edges, nodes, oneHot(src, nodes)), gh))
	gDst := G.Must(G.Mul(b.constant(edges, nodes, oneHot(dst, nodes)), gh))
	gMsg := b.mlp(G.Must(G.Concat(1, gDst, gSrc)), m.msg)
	scatter := b.constant(nodes, edges, transposeData(oneHot(dst, nodes), edges, nodes))
	gAgg := G.Must(G.Mul(scatter, gMsg))
	gh2 := b.mlp(G.Must(G.Concat(1, gh, gAgg)), m.upd)
	glp := b.softmax(b.mlp(gh2, m.out), true)
	picked := G.Must(G.Sum(G.Must(G.HadamardProd(b.constant(nodes, classes, oneHot(labels, classes)), glp))))
	gloss := G.Must(G.Mul(picked, G.NewConstant(-1/float64(nodes))))
	refLoss, refGrads := b.run(t, gloss, wrt)

	checkLoss(t, ourLoss, refLoss)
	var s stats
	for i, np := range params {
		g := np.Param.V.Grad
		if zeroGrad[np.Path] {
			checkZero(t, np.Path, g, refGrads[i])
		} else {
			checkNonZero(t, np.Path, g)
		}
		s.compare(t, np.Path, g, refGrads[i])
	}
	checkNonZero(t, "x", x.Grad)
	s.compare(t, "x", x.Grad, refGrads[len(params)])
	s.log(t, "graph model")
}

// ---------------------------------------------------------------------------
// Case 2: plain tanh MLP with an MSE loss.

func TestMLPMSEMatchesGorgonia(t *testing.T) {
	const batch, in, out = 9, 5, 3
	rng := rand.New(rand.NewPCG(42, 4242))
	m := mlp.New(mlp.Config{Sizes: []int{in, 16, 16, out}, Act: nn.Tanh}, rng)
	xData := randData(rng, batch*in, 1)
	yData := randData(rng, batch*out, 1)

	params := nn.Collect(m)
	nn.ZeroGrads(m)
	tp := nn.NewTape()
	x := tp.Leaf(batch, in, xData)
	loss := tp.MSE(m.Forward(tp, x), tp.Const(batch, out, yData))
	tp.Backward(loss)
	ourLoss := loss.Item()

	b := newGB()
	var wrt []*G.Node
	for _, np := range params {
		wrt = append(wrt, b.param(np.Path, np.Param))
	}
	gx := b.input("x", batch, in, f64(xData))
	wrt = append(wrt, gx)
	gy := b.constant(batch, out, f64(yData))
	gloss := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(b.mlp(gx, m), gy))))))
	refLoss, refGrads := b.run(t, gloss, wrt)

	checkLoss(t, ourLoss, refLoss)
	var s stats
	for i, np := range params {
		checkNonZero(t, np.Path, np.Param.V.Grad)
		s.compare(t, np.Path, np.Param.V.Grad, refGrads[i])
	}
	checkNonZero(t, "x", x.Grad)
	s.compare(t, "x", x.Grad, refGrads[len(params)])
	s.log(t, "tanh MLP + MSE")
}
