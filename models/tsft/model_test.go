package tsft

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/internal/ridge"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func randCells(n int, rng *rand.Rand) []Cell {
	cells := make([]Cell, n)
	for i := range cells {
		for e := range cells[i] {
			cells[i][e] = uint8(rng.IntN(NumOps))
		}
	}
	return cells
}

func TestGradientsWithGNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := New(Config{Embed: 3, GNNDim: 3, GNNLayers: 2, Hidden: []int{5}}, rng)
	nntest.CheckParamFields(t, m)
	f, err := NewFeatures(randCells(4, rng))
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	b.Fill(f, []int{0, 1, 2, 3}, true)
	emb := nntest.RandTensor(rng, 1, 3, 0, 1)
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		return m.Forward(tp, b.Edge(tp), b.Graphs(), x[0], b.Ref(tp))
	}, []*nn.Tensor{emb}, m, nntest.Options{})
}

// TestCellGCNMatchesPerNodeConvolution compares the Kronecker formulation
// with the direct per-node GCN: h'_i = ReLU(Σ_j Â_f[i,j] h_j W_f + Σ_j Â_b[i,j] h_j W_b + b).
func TestCellGCNMatchesPerNodeConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := newCellGCN(NodeTypes, 4, 1, rng)
	nn.Normal(0.5)(g.Layers[0].B, rng)
	cells := randCells(3, rng)
	f, _ := NewFeatures(cells)
	x := nn.FromSlice(3, NumNodes*NodeTypes, f.Node)
	got := g.Forward(nn.NewInference(), x)
	l := g.Layers[0]
	for c := 0; c < 3; c++ {
		for i := 0; i < NumNodes; i++ {
			for y := 0; y < 4; y++ {
				v := float64(l.B.V.Data[y])
				for j := 0; j < NumNodes; j++ {
					af, ab := float64(adjF[j*NumNodes+i]), float64(adjB[j*NumNodes+i]) // stored transposed
					for k := 0; k < NodeTypes; k++ {
						h := float64(f.Node[c*NumNodes*NodeTypes+j*NodeTypes+k])
						v += af*h*float64(l.WF.V.At(k, y)) + ab*h*float64(l.WB.V.At(k, y))
					}
				}
				v = math.Max(v, 0)
				if d := math.Abs(v - float64(got.At(c, i*4+y))); d > 1e-5 {
					t.Fatalf("cell %d node %d feature %d: %v, direct %v", c, i, y, got.At(c, i*4+y), v)
				}
			}
		}
	}
}

func TestCellDAG(t *testing.T) {
	src, dst := CellDAG()
	if len(src) != 10 {
		t.Fatalf("cell DAG has %d edges, want 10", len(src))
	}
	for k := range src {
		if src[k] >= dst[k] {
			t.Fatalf("edge %d→%d is not forward in the canonical order", src[k], dst[k])
		}
	}
}

func TestNewFeaturesRejectsBadOps(t *testing.T) {
	if _, err := NewFeatures([]Cell{{0, 1, 2, 3, 4, 5}}); err == nil {
		t.Fatal("operation 5 accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Embed: 0, Hidden: []int{4}}, {Embed: 2}, {Embed: 2, Hidden: []int{4}, GNNDim: 3}} {
		if c.Validate() == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// TestSetPriorMatchesRidge: Σ_k Ref[c,k]·y[k] is the ridge regression
// (penalty PriorLambda on the op-count coefficients, free intercept) of
// the reference latencies y on the op counts, evaluated at cell c. The
// reference is internal/ridge's SVD solver (ridge.Centre), another
// algorithm than SetPrior's normal equations.
func TestSetPriorMatchesRidge(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cells := randCells(50, rng)
	f, err := NewFeatures(cells)
	if err != nil {
		t.Fatal(err)
	}
	refs := []int{3, 7, 11, 19, 23, 29, 31, 37, 41, 43}
	if err := f.SetPrior(refs); err != nil {
		t.Fatal(err)
	}
	y := make([]float64, len(refs))
	x := make([]float64, 0, len(refs)*NumOps)
	for i, r := range refs {
		y[i] = rng.Float64()
		var cnt [NumOps]float64
		for _, op := range cells[r] {
			cnt[op]++
		}
		x = append(x, cnt[:]...)
	}
	pr, err := ridge.New(x, NumOps, y, ridge.Centre)
	if err != nil {
		t.Fatal(err)
	}
	b, beta, err := pr.Fit(PriorLambda)
	if err != nil {
		t.Fatal(err)
	}
	for c, cell := range cells {
		want := b
		for _, op := range cell {
			want += beta[op]
		}
		var got float64
		for k := range refs {
			got += float64(f.Ref[c*len(refs)+k]) * y[k]
		}
		if math.Abs(got-want) > 1e-5 {
			t.Fatalf("cell %d: prior %v, ridge %v", c, got, want)
		}
	}
	if err := f.SetPrior([]int{1}); err == nil {
		t.Error("one reference accepted")
	}
	// Two references are the fewest that define a line: accepted, and
	// Σ_k Ref[c,k] = 1 (the intercept reproduces a constant device).
	if err := f.SetPrior([]int{3, 7}); err != nil {
		t.Fatalf("two references refused: %v", err)
	}
	if s := f.Ref[0] + f.Ref[1]; math.Abs(float64(s)-1) > 1e-6 {
		t.Errorf("prior weights of cell 0 sum to %v, want 1", s)
	}
	if err := f.SetPrior([]int{1, 50}); err == nil {
		t.Error("reference out of range accepted")
	}
}

// TestForwardPriorInput: a model whose only non-zero weights pass the
// prior input through a ReLU unit outputs the prior Σ Ref·emb (positive
// here); the gradient check covers the prior path.
func TestForwardPriorInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m := New(Config{Embed: 3, Hidden: []int{2}, Prior: true}, rng)
	cells := randCells(4, rng)
	f, _ := NewFeatures(cells)
	if err := f.SetPrior([]int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	var b Batch
	b.Fill(f, []int{0, 1, 2, 3}, false)
	emb := nntest.RandTensor(rng, 1, 3, 0.5, 1)
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		return m.Forward(tp, b.Edge(tp), nil, x[0], b.Ref(tp))
	}, []*nn.Tensor{emb}, m, nntest.Options{})

	for _, p := range nn.Collect(m) {
		clear(p.Param.V.Data)
	}
	l0, l1 := m.Head.Layers[0], m.Head.Layers[1]
	in := EdgeFeatures + 3 // the prior column
	l0.W.V.Data[in*2+0] = 1
	l0.B.V.Data[0] = 10 // keep the unit active; removed by the output bias
	l1.W.V.Data[0] = 1
	l1.B.V.Data[0] = -10
	tp := nn.NewInference()
	out := m.Forward(tp, b.Edge(tp), nil, emb, b.Ref(tp))
	for c := 0; c < 4; c++ {
		var want float64
		for k := 0; k < 3; k++ {
			want += float64(f.Ref[c*3+k]) * float64(emb.Data[k])
		}
		if math.Abs(float64(out.Data[c])-want) > 1e-4 {
			t.Fatalf("cell %d: %v, want the prior %v", c, out.Data[c], want)
		}
	}
	// Without ref the model refuses.
	defer func() {
		if recover() == nil {
			t.Fatal("Forward without prior weights did not panic")
		}
	}()
	m.Forward(tp, b.Edge(tp), nil, emb, nil)
}
