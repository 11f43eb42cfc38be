package onnx_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// TestTwoLayerNetwork: Gemm → Relu → Gemm with a dynamic batch, run in
// ONNX Runtime and passed by ONNX's checker, against values computed by
// hand. x = (1, 2): x·W1 = (1·1 + 2·0.5, 1·(−1) + 2·2) = (2, 3), + b1 =
// (−1, 3), relu (0, 3), ·W2 = 0·2 + 3·1 = 3, + 0.5 = 3.5. x = (−1, 0):
// (−1, 1) + b1 = (−4, 1), relu (0, 1), 1 + 0.5 = 1.5.
func TestTwoLayerNetwork(t *testing.T) {
	g := onnx.NewGraph("two_layers")
	x := g.Input("x", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: 2}}, "two features per row")
	h := g.Gemm(x, "l0", []float32{1, -1, 0.5, 2}, 2, 2, []float32{-3, 0})
	h, err := g.Activation(h, "relu")
	if err != nil {
		t.Fatal(err)
	}
	y := g.Gemm(h, "l1", []float32{2, 1}, 2, 1, []float32{0.5})
	g.Output(y, "y", onnx.Float, []onnx.Dim{{Param: "batch"}, {Value: 1}}, "one output per row")
	m := &onnx.Model{Graph: g, Producer: "cpntrain-test", Doc: "hand-checked", Meta: map[string]string{"b": "2", "a": "1"}}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, path)
	out := onnxtest.Run(t, path, map[string]onnxtest.Input{"x": onnxtest.F32([]int64{2, 2}, []float32{1, 2, -1, 0})})
	y0 := out["y"]
	if len(y0.Dims) != 2 || y0.Dims[0] != 2 || y0.Dims[1] != 1 {
		t.Fatalf("output shape %v, want [2 1]", y0.Dims)
	}
	onnxtest.Close(t, "y", y0.Data, []float32{3.5, 1.5}, 1e-6)
}

// TestActivations: every activation name of nn maps to an operator, and
// an unknown one is an error.
func TestActivations(t *testing.T) {
	g := onnx.NewGraph("acts")
	for _, a := range []string{"", "none", "relu", "leaky_relu", "tanh", "sigmoid", "softplus"} {
		if _, err := g.Activation("x", a); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}
	if _, err := g.Activation("x", "gelu"); err == nil {
		t.Error("gelu: no error")
	}
}
