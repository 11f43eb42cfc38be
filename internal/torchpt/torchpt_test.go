package torchpt

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTorchLoad: PyTorch reads the file with torch.load(weights_only=True)
// into the same names, shapes and values (skipped without python3-torch).
func TestTorchLoad(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch is not installed")
	}
	tensors := []Tensor{
		{Name: "head.0.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-7, -1e30}},
		{Name: "head.0.bias", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
		{Name: "scalar", Shape: []int{}, Data: []float32{42}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, tensors); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.pt")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `
import json, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
assert type(sd).__name__ == "OrderedDict", type(sd)
print(json.dumps([[k, list(v.shape), v.dtype == torch.float32, v.flatten().tolist()] for k, v in sd.items()]))
`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("torch.load: %v\n%s", err, out)
	}
	var got [][4]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(tensors) {
		t.Fatalf("%d tensors back, want %d", len(got), len(tensors))
	}
	for i, w := range tensors {
		var name string
		var shape []int
		var f32 bool
		var vals []float64
		json.Unmarshal(got[i][0], &name)
		json.Unmarshal(got[i][1], &shape)
		json.Unmarshal(got[i][2], &f32)
		json.Unmarshal(got[i][3], &vals)
		if name != w.Name || len(shape) != len(w.Shape) || !f32 || len(vals) != len(w.Data) {
			t.Fatalf("tensor %d: %s %v float32 %v, %d values; want %s %v", i, name, shape, f32, len(vals), w.Name, w.Shape)
		}
		for j := range shape {
			if shape[j] != w.Shape[j] {
				t.Fatalf("%s: shape %v, want %v", name, shape, w.Shape)
			}
		}
		for j, v := range vals {
			if float32(v) != w.Data[j] {
				t.Fatalf("%s[%d] = %v, want %v", name, j, v, w.Data[j])
			}
		}
	}
}

// TestWriteChecks: a shape that does not match the data is an error.
func TestWriteChecks(t *testing.T) {
	if err := Write(&bytes.Buffer{}, []Tensor{{Name: "x", Shape: []int{2, 2}, Data: []float32{1}}}); err == nil {
		t.Error("shape 2×2 with 1 value: no error")
	}
	if err := Write(&bytes.Buffer{}, []Tensor{{Name: "x", Shape: []int{-1}, Data: nil}}); err == nil {
		t.Error("negative dimension: no error")
	}
}
