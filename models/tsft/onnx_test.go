package tsft

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// TestONNX: on 300 cells (every 52nd of NAS-Bench-201), in ONNX Runtime,
//   - the network with the embedding as an input and with it folded into
//     the first layer's bias both give Forward's latencies within 1e-5;
//   - PerOpONNX gives b + Σ_e beta[op_e], summed here by hand;
//   - DisconnectedONNX is 1 exactly where nasbench201.Arch.Connected is
//     false, and 0 elsewhere.
func TestONNX(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	m := New(DefaultConfig(), rng)
	// Latencies of order 1, as a trained model's (the initialisation's
	// are of order 0.01, where float32 cancellation shows at 1e-5).
	last := m.Head.Layers[len(m.Head.Layers)-1]
	for i := range last.W.V.Data {
		last.W.V.Data[i] *= 30
	}
	emb := make([]float32, m.Config.Embed)
	for i := range emb {
		emb[i] = rng.Float32()
	}
	beta := [NumOps]float32{0.5, -1, 2, 0.25, -0.75}
	var cells []Cell
	for i := 0; i < 15625; i += 52 {
		var c Cell
		for e, v := 0, i; e < NumEdges; e, v = e+1, v/NumOps {
			c[e] = uint8(v % NumOps)
		}
		cells = append(cells, c)
	}
	f, err := NewFeatures(cells)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(cells))
	g := onnx.NewGraph("tsft_parts")
	edge := g.Input("edge_ops", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: EdgeFeatures}}, "")
	embIn := g.Input("embedding", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: int64(m.Config.Embed)}}, "")
	withInput, err := m.ONNX(g, edge, nil, embIn)
	if err != nil {
		t.Fatal(err)
	}
	folded, err := m.ONNX(g, edge, emb, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct{ v, name string }{{withInput, "with_input"}, {folded, "folded"}, {PerOpONNX(g, edge, "perop", 0.125, beta), "per_op"},
		{DisconnectedONNX(g, edge), "dead"}} {
		g.Output(o.v, o.name, onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: 1}}, "")
	}
	path := filepath.Join(t.TempDir(), "parts.onnx")
	if err := os.WriteFile(path, (&onnx.Model{Graph: g, Producer: "test"}).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, path)
	embs := make([]float32, 0, len(cells)*len(emb))
	for range cells {
		embs = append(embs, emb...)
	}
	out := onnxtest.Run(t, path, map[string]onnxtest.Input{"edge_ops": onnxtest.F32([]int64{n, EdgeFeatures}, f.Edge),
		"embedding": onnxtest.F32([]int64{n, int64(m.Config.Embed)}, embs)})
	tp := nn.NewInference()
	want := m.Forward(tp, tp.Const(int(n), EdgeFeatures, f.Edge), nil, tp.Const(1, len(emb), emb), nil).Data
	onnxtest.Close(t, "embedding as input", out["with_input"].Data, want, 1e-5)
	onnxtest.Close(t, "embedding folded", out["folded"].Data, want, 1e-5)
	perOp, dead := make([]float32, n), make([]float32, n)
	var nDead int
	for i, c := range cells {
		perOp[i] = 0.125
		for _, op := range c {
			perOp[i] += beta[op]
		}
		if !nasbench201.Arch(c).Connected() {
			dead[i] = 1
			nDead++
		}
	}
	onnxtest.Close(t, "per-op", out["per_op"].Data, perOp, 1e-6)
	if nDead == 0 {
		t.Fatal("no disconnected cell among the test cells")
	}
	for i, d := range out["dead"].Data {
		if float32(d) != dead[i] {
			t.Fatalf("cell %v: disconnected %v, want %v", cells[i], d, dead[i])
		}
	}
}
