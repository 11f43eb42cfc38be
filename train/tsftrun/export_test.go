package tsftrun

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// allCells returns the 5⁶ = 15,625 NAS-Bench-201 cells and their one-hot
// edge operations.
func allCells(t *testing.T) (*tsft.Features, []int, []float32) {
	t.Helper()
	cells := make([]tsft.Cell, 0, 15625)
	for i := range 15625 {
		var c tsft.Cell
		for e, v := 0, i; e < tsft.NumEdges; e, v = e+1, v/tsft.NumOps {
			c[e] = uint8(v % tsft.NumOps)
		}
		cells = append(cells, c)
	}
	f, err := tsft.NewFeatures(cells)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(cells))
	for i := range idx {
		idx[i] = i
	}
	return f, idx, f.Edge
}

// TestAdaptedONNX: an adapted predictor with every part switched on (a
// correction, a blend with a layer-wise model, a dead-cell offset, a
// millisecond output) exported to ONNX and run in ONNX Runtime on all
// 15,625 cells agrees with Adapted.Predict within 1e-5 relative; the
// checker accepts the file; and the in-graph connectivity agrees with
// nasbench201.Arch.Connected on every cell (0 or 1 exactly).
func TestAdaptedONNX(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	net := tsft.New(tsft.DefaultConfig(), rng)
	emb := make([]float32, 10)
	for i := range emb {
		emb[i] = rng.Float32()
	}
	a := &Adapted{Net: net, Emb: emb, W: 0.7, Dead: -0.12,
		Corr: &Correction{A: 1.3, B: -0.02, Beta: [tsft.NumOps]float32{0.01, -0.03, 0.02, 0.05, -0.01}},
		Add:  tsft.Additive{B: 0.1, Beta: [tsft.NumOps]float32{0, 0.02, 0.04, 0.09, 0.03}, Lambda: 1}}
	am := AdaptedMeta{Device: "test", Shots: 20, Embedding: emb, Ms: &MsMap{Lo: 0.3, Hi: 11}}
	m, err := a.ONNXModel(am, "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tsft.onnx")
	if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, path)
	f, idx, edge := allCells(t)
	want := a.Predict(f, idx, nil)
	var dead int
	for _, c := range f.Cells {
		if !nasbench201.Arch(c).Connected() {
			dead++
		}
	}
	if dead == 0 || dead == len(f.Cells) {
		t.Fatalf("%d disconnected cells: the dead-cell offset is not exercised", dead)
	}
	out := onnxtest.Run(t, path, map[string]onnxtest.Input{"edge_ops": onnxtest.F32([]int64{int64(len(idx)), tsft.EdgeFeatures}, edge)})
	worst := onnxtest.Close(t, "latency", out["latency"].Data, want, 1e-5)
	wantMs := am.Ms.Ms(append([]float32(nil), want...))
	if zeros := slices.Index(wantMs, 0); zeros < 0 {
		t.Fatal("no prediction below the millisecond range: the clamp at 0 is not exercised")
	}
	worstMs := onnxtest.Close(t, "latency_ms", out["latency_ms"].Data, wantMs, 1e-5)
	t.Logf("largest relative difference over %d cells: %.2g (normalised), %.2g (ms)", len(idx), worst, worstMs)

	g := onnx.NewGraph("connected")
	e := g.Input("edge_ops", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: tsft.EdgeFeatures}}, "")
	g.Output(tsft.DisconnectedONNX(g, e), "dead", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: 1}}, "")
	cp := filepath.Join(dir, "connected.onnx")
	if err := os.WriteFile(cp, (&onnx.Model{Graph: g, Producer: "test"}).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := onnxtest.Run(t, cp, map[string]onnxtest.Input{"edge_ops": onnxtest.F32([]int64{int64(len(idx)), tsft.EdgeFeatures}, edge)})["dead"].Data
	for i, c := range f.Cells {
		w := 0.0
		if !nasbench201.Arch(c).Connected() {
			w = 1
		}
		if got[i] != w {
			t.Fatalf("cell %v: in-graph disconnected %v, want %v", c, got[i], w)
		}
	}
}

// TestMsMap: the inverse of the normalisation: Low ↦ Lo, High ↦ Hi,
// halfway ↦ halfway; −1 ↦ 2 − 1.05·4/0.9 < 0, clamped to 0.
func TestMsMap(t *testing.T) {
	got := MsMap{Lo: 2, Hi: 6}.Ms([]float32{0.05, 0.95, 0.5, -1})
	for i, w := range []float32{2, 6, 4, 0} {
		if math.Abs(float64(got[i]-w)) > 1e-6 {
			t.Fatalf("Ms = %v, want (2, 6, 4, 0)", got)
		}
	}
}
