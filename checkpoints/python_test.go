package checkpoints

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// pythonReader reads a checkpoint with the Python standard library only:
// it parses the safetensors header, verifies the documented checksum and
// decodes every tensor with struct, printing {"meta":…, "tensors":{name:
// {"shape":…, "values":…}}} as JSON.
const pythonReader = `
import hashlib, json, struct, sys
raw = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
digest = meta["sha256"]
assert hashlib.sha256(raw.replace(digest.encode(), b"0" * 64, 1)).hexdigest() == digest, "checksum"
data = raw[8 + n:]
out = {}
for name, t in header.items():
    assert t["dtype"] == "F32", name
    b, e = t["data_offsets"]
    out[name] = {"shape": t["shape"], "values": list(struct.unpack("<%df" % ((e - b) // 4), data[b:e]))}
json.dump({"meta": meta, "tensors": out}, sys.stdout)
`

// TestPythonReader checks that a plain safetensors reader written in Python
// (no torch, no safetensors package) verifies the checksum and reads the
// same values. It is skipped without /usr/bin/python3.
func TestPythonReader(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no python3:", err)
	}
	m := newTinyModel(4)
	opt := optim.NewAdamW(nn.Collect(m), optim.DefaultAdamWConfig())
	train(m, opt, 2)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := Save(path, m, opt, testMeta()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", pythonReader, path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		Meta    map[string]string
		Tensors map[string]struct {
			Shape  []int
			Values []float64
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Meta["format"] != Format || got.Meta["model_kind"] != "tiny" || got.Meta["step"] != "1234" {
		t.Errorf("metadata seen by python: %v", got.Meta)
	}
	want := map[string]*nn.Tensor{}
	for _, np := range nn.Collect(m) {
		want["model/"+np.Path] = np.Param.V
	}
	for k, b := range opt.State().Buffers {
		want["optim/"+k] = b
	}
	if len(got.Tensors) != len(want) {
		t.Errorf("python sees %d tensors, want %d", len(got.Tensors), len(want))
	}
	for name, w := range want {
		g, ok := got.Tensors[name]
		if !ok {
			t.Errorf("python does not see %q", name)
			continue
		}
		if len(g.Shape) != 2 || g.Shape[0] != w.Rows || g.Shape[1] != w.Cols || len(g.Values) != len(w.Data) {
			t.Errorf("%s: python shape %v with %d values, want %s", name, g.Shape, len(g.Values), w.Shape())
			continue
		}
		for i, v := range w.Data {
			if float32(g.Values[i]) != v {
				t.Errorf("%s[%d]: python %v, Go %v", name, i, g.Values[i], v)
			}
		}
	}
}
