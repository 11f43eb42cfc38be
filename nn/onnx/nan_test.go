package onnx_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// TestONNXNaN: non-finite outputs of ONNX Runtime reach the tests as NaN
// and ±Inf (JSON has neither; a harness that read them as 0 would let a
// NaN pass for a 0): log(x) of x = (−1, 0, 1) is (NaN, −Inf, 0).
func TestONNXNaN(t *testing.T) {
	g := onnx.NewGraph("log")
	x := g.Input("x", onnx.Float, onnx.D(3), "")
	g.Output(g.Op("Log", []string{x}), "y", onnx.Float, onnx.D(3), "")
	path := filepath.Join(t.TempDir(), "log.onnx")
	if err := os.WriteFile(path, (&onnx.Model{Graph: g, Producer: "test"}).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	y := onnxtest.Run(t, path, map[string]onnxtest.Input{"x": onnxtest.F32([]int64{3}, []float32{-1, 0, 1})})["y"].Data
	if !math.IsNaN(y[0]) || !math.IsInf(y[1], -1) || y[2] != 0 {
		t.Fatalf("log(-1, 0, 1) = %v, want (NaN, -Inf, 0)", y)
	}
}
