package exportrun

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// TestExportErrors: every refusal names the file or the value at fault,
// and nothing is written.
func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "mlp.safetensors")
	m := mlp.New(mlp.Config{Sizes: []int{2, 3, 1}, Act: "relu"}, rand.New(rand.NewPCG(1, 1)))
	if err := checkpoints.Save(other, m, nil, checkpoints.Meta{ModelKind: "mlp"}); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("not a file"), 0o644)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Model: other, Format: "tflite"}, `unknown format "tflite"`},
		{Config{Model: filepath.Join(dir, "none.safetensors"), Format: "onnx"}, "none.safetensors"},
		{Config{Model: junk, Format: "onnx"}, "junk.safetensors"},
		{Config{Model: other, Format: "onnx"}, `ONNX export of "mlp" models is not built (safetensors and pt are; ONNX: tsft, rlms, mecdqn, dsppo, decima)`},
	} {
		_, err := Export(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // (the refusals above)
		t.Errorf("%d files in the folder after refusals, want the 2 inputs", len(entries))
	}
}

// TestGenericExport: any checkpoint's parameters are read with
// '.'-separated names and the engine's values, and written to safetensors
// and .pt with a sidecar.
func TestGenericExport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mlp.safetensors")
	m := mlp.New(mlp.Config{Sizes: []int{2, 3, 1}, Act: "relu"}, rand.New(rand.NewPCG(1, 1)))
	if err := checkpoints.Save(path, m, nil, checkpoints.Meta{ModelKind: "mlp", ModelConfig: []byte(`{"sizes":[2,3,1]}`)}); err != nil {
		t.Fatal(err)
	}
	g, err := loadGeneric(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"0.w": m.Layers[0].W.V.Data, "0.b": m.Layers[0].B.V.Data, "1.w": m.Layers[1].W.V.Data, "1.b": m.Layers[1].B.V.Data}
	if len(g.ts) != 4 {
		t.Fatalf("%d tensors, want 4", len(g.ts))
	}
	for _, ts := range g.ts {
		w, ok := want[ts.Name]
		if !ok || len(w) != len(ts.Data) {
			t.Fatalf("tensor %s: unexpected", ts.Name)
		}
		for i := range w {
			if w[i] != ts.Data[i] {
				t.Fatalf("%s[%d] = %v, want %v", ts.Name, i, ts.Data[i], w[i])
			}
		}
	}
	for _, f := range []string{"safetensors", "pt"} {
		rep, err := Export(Config{Model: path, Format: f})
		if err != nil || rep.Sidecar == "" {
			t.Fatalf("%s: %+v %v", f, rep, err)
		}
	}
}

// TestLinearTensors: our in × out weight becomes PyTorch's out × in.
func TestLinearTensors(t *testing.T) {
	ts := linearTensors("l", []float32{1, 2, 3, 4, 5, 6}, 2, 3, []float32{7, 8, 9}) // rows (1 2 3), (4 5 6)
	want := []float32{1, 4, 2, 5, 3, 6}
	if ts[0].Name != "l.weight" || ts[0].Shape[0] != 3 || ts[0].Shape[1] != 2 || ts[1].Name != "l.bias" || ts[1].Shape[0] != 3 {
		t.Fatalf("tensors %+v", ts)
	}
	for i, v := range want {
		if ts[0].Data[i] != v {
			t.Fatalf("weight %v, want %v", ts[0].Data, want)
		}
	}
}
