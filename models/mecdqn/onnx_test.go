package mecdqn

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/nn"
)

// TestONNX: the exported Q-network, run in ONNX Runtime on random device
// rows of sets of 1, 2 and 7 devices (the padding at both ends and the set
// pooling), agrees with FromFeatures within 1e-5 relative.
func TestONNX(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := New(DefaultConfig(), rng)
	om, err := m.ONNXModel("test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "q.onnx")
	if err := os.WriteFile(path, om.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, path)
	for _, d := range []int{1, 2, 7} {
		x := make([]float32, d*Features)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		tp := nn.NewInference()
		want := m.FromFeatures(tp, tp.Const(d, Features, x), 1, d).Data // 1 × 2d, column 2n + o
		out := onnxtest.Run(t, path, map[string]onnxtest.Input{"device_features": onnxtest.F32([]int64{int64(d), int64(Features)}, x)})
		got := out["q_values"]
		if len(got.Dims) != 2 || got.Dims[0] != int64(d) || got.Dims[1] != 2 {
			t.Fatalf("%d devices: output shape %v", d, got.Dims)
		}
		worst := onnxtest.Close(t, "q_values", got.Data, want, 1e-5)
		t.Logf("%d devices: largest relative difference %.2g", d, worst)
	}
}
