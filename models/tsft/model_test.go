package tsft

import (
	"math"
	"math/rand/v2"
	"testing"

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
		return m.Forward(tp, b.Edge(tp), b.Graphs(), x[0])
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
