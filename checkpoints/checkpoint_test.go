package checkpoints

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// TestRoundTrip saves a model with optimizer state, loads both into fresh
// instances and checks identical values, metadata and subsequent steps.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	mkOpts := map[string]func([]nn.NamedParam) optim.Optimizer{
		"adam":  func(p []nn.NamedParam) optim.Optimizer { return optim.NewAdam(p, optim.DefaultAdamConfig()) },
		"adamw": func(p []nn.NamedParam) optim.Optimizer { return optim.NewAdamW(p, optim.DefaultAdamWConfig()) },
		"sgd": func(p []nn.NamedParam) optim.Optimizer {
			return optim.NewSGD(p, optim.SGDConfig{LR: 0.01, Momentum: 0.9, Nesterov: true})
		},
		"plain-sgd": func(p []nn.NamedParam) optim.Optimizer { return optim.NewSGD(p, optim.SGDConfig{LR: 0.01}) },
	}
	for name, mk := range mkOpts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := newTinyModel(1)
			opt := mk(nn.Collect(m))
			train(m, opt, 3)
			opt.SetLR(opt.LR() / 3) // a non-default rate must come back
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			meta := testMeta()
			if err := Save(path, m, opt, meta); err != nil {
				t.Fatal(err)
			}

			m2 := newTinyModel(2)
			opt2 := mk(nn.Collect(m2))
			got, err := Load(path, m2, opt2, ExpectKind("tiny"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(values(m2), values(m)) {
				t.Fatal("loaded values differ")
			}
			want := meta
			want.ModelConfig = json.RawMessage(`{"hidden":4,"act":"relu"}`)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("meta:\n got %+v\nwant %+v", got, want)
			}
			if !reflect.DeepEqual(opt2.State(), opt.State()) {
				t.Errorf("optimizer state differs after load")
			}
			// The RNG state restores the generator.
			var a, b rand.PCG
			if err := a.UnmarshalBinary(meta.RNGState); err != nil {
				t.Fatal(err)
			}
			if err := b.UnmarshalBinary(got.RNGState); err != nil {
				t.Fatal(err)
			}
			if a.Uint64() != b.Uint64() {
				t.Error("restored RNG diverges")
			}
			// Identical subsequent steps.
			train(m, opt, 4)
			train(m2, opt2, 4)
			if !reflect.DeepEqual(values(m2), values(m)) {
				t.Error("values differ after 4 more steps")
			}
			if opt2.StepCount() != 7 {
				t.Errorf("step count %d, want 7", opt2.StepCount())
			}
		})
	}
}

// TestRoundTripWithoutOptimizer covers saving without an optimizer, empty
// metadata, and loading a training checkpoint without one.
func TestRoundTripWithoutOptimizer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := newTinyModel(1)
	path := filepath.Join(dir, "model.safetensors")
	if err := Save(path, m, nil, Meta{}); err != nil {
		t.Fatal(err)
	}
	m2 := newTinyModel(2)
	got, err := Load(path, m2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Meta{}) {
		t.Errorf("meta %+v, want zero", got)
	}
	if !reflect.DeepEqual(values(m2), values(m)) {
		t.Error("values differ")
	}
	// The file has no optimizer state: loading with one fails.
	tg := newTarget()
	if _, err := Load(path, tg.m, tg.opt); !errors.Is(err, ErrOptimizer) {
		t.Errorf("got %v, want ErrOptimizer", err)
	}
	tg.unchanged(t)

	// A training checkpoint loads for inference without its optimizer.
	b, src, _ := validFile(t)
	path = writeTemp(t, "train.safetensors", b)
	m3 := newTinyModel(3)
	if _, err := Load(path, m3, nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(values(m3), values(src)) {
		t.Error("values differ")
	}
}

// TestSave covers overwriting, refusal of non-finite values, and that a
// failed save leaves neither the old file changed nor temporary files.
func TestSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	m := newTinyModel(1)
	if err := Save(path, m, nil, Meta{Step: 1}); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}

	m.B.V.Data[2] = float32(math.Inf(1))
	err = Save(path, m, nil, Meta{Step: 2})
	var ce *Error
	if !errors.Is(err, ErrNonFinite) || !errors.As(err, &ce) || ce.Tensor != "model/layer/b" || ce.File != path {
		t.Errorf("saving Inf: got %v", err)
	}
	m.B.V.Data[2] = 0
	if err := Save(path, m, nil, Meta{ModelConfig: json.RawMessage(`{bad`)}); err == nil {
		t.Error("invalid ModelConfig JSON accepted")
	}
	if err := Save(path, m, nil, Meta{Extra: map[string]json.RawMessage{"x": json.RawMessage(`[1,`)}}); err == nil {
		t.Error("invalid Extra JSON accepted")
	}
	now, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now, old) {
		t.Error("a failed save changed the file")
	}

	// Overwrite.
	if err := Save(path, m, nil, Meta{Step: 3}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, newTinyModel(5), nil)
	if err != nil || got.Step != 3 {
		t.Errorf("after overwrite: step %d, %v", got.Step, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the checkpoint", names)
	}

	// A missing directory is an error naming the file.
	bad := filepath.Join(dir, "no", "such", "dir", "ck.safetensors")
	if err := Save(bad, m, nil, Meta{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("saving into a missing directory: %v", err)
	}
	// Malformed parameter paths are refused.
	mm := nn.Modules{{Name: "", M: m}, {Name: "x/", M: newTinyModel(3)}}
	if err := Save(path, mm, nil, Meta{}); err == nil {
		t.Error("malformed parameter path accepted")
	}
}

// TestFileLayout checks the bytes against the documented format.
func TestFileLayout(t *testing.T) {
	t.Parallel()
	b, m, _ := validFile(t)
	n := binary.LittleEndian.Uint64(b)
	if (8+n)%8 != 0 {
		t.Errorf("data section at %d, not 8-byte aligned", 8+n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	keys := []string{"extra", "format", "format_version", "model_config", "model_kind", "optim", "rng_state", "sha256", "step"}
	var got []string
	for k := range meta {
		got = append(got, k)
	}
	if len(got) != len(keys) {
		t.Errorf("metadata keys %v, want %v", got, keys)
	}
	if meta["format"] != "cpntrain-checkpoint" || meta["format_version"] != "1" || meta["step"] != "1234" ||
		meta["model_kind"] != "tiny" || meta["model_config"] != `{"hidden":4,"act":"relu"}` ||
		meta["extra"] != `{"best":{"score":0.5,"step":1000},"buffer_pos":17}` {
		t.Errorf("metadata %v", meta)
	}
	var om optimMeta
	if err := json.Unmarshal([]byte(meta["optim"]), &om); err != nil || om.Kind != "adam" || om.Step != 3 || om.Hyper["beta2"] != 0.999 {
		t.Errorf("optim metadata %q: %v", meta["optim"], err)
	}
	// The documented checksum: SHA-256 of the file with the digits zeroed.
	zeroed := bytes.Replace(b, []byte(meta["sha256"]), []byte(strings.Repeat("0", 64)), 1)
	if fileDigest(zeroed, bytes.Index(zeroed[8:], []byte(strings.Repeat("0", 64)))) != meta["sha256"] {
		t.Error("checksum does not follow the documented definition")
	}
	var w struct {
		DType       string  `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(header["model/layer/w"], &w); err != nil {
		t.Fatal(err)
	}
	if w.DType != "F32" || !reflect.DeepEqual(w.Shape, []int{3, 4}) {
		t.Errorf("model/layer/w entry %+v", w)
	}
	data := b[8+n:]
	for i, v := range m.W.V.Data {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[w.DataOffsets[0]+int64(4*i):])); got != v {
			t.Fatalf("value %d: %v in file, %v in model", i, got, v)
		}
	}
	for _, name := range []string{"optim/layer/w/exp_avg", "optim/layer/w/exp_avg_sq", "optim/layer/b/exp_avg", "optim/layer/b/exp_avg_sq", "model/layer/b"} {
		if _, ok := header[name]; !ok {
			t.Errorf("no tensor %q", name)
		}
	}
	// Deterministic: same inputs, same bytes.
	again, _, _ := validFile(t)
	if !bytes.Equal(again, b) {
		t.Error("encoding is not deterministic")
	}
}

// TestLoadErrors checks every rejection: the error kind, that it names the
// file and the tensor, and that nothing was modified.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	valid, _, _ := validFile(t)
	ts, meta := decompose(t, valid)
	edit := func(f func([]outTensor, map[string]string) []outTensor) []byte {
		t2 := append([]outTensor(nil), ts...)
		m2 := map[string]string{}
		for k, v := range meta {
			m2[k] = v
		}
		return mustEncode(t, f(t2, m2), m2)
	}
	without := func(ts []outTensor, name string) []outTensor {
		var out []outTensor
		for _, x := range ts {
			if x.name != name {
				out = append(out, x)
			}
		}
		return out
	}
	withData := func(ts []outTensor, name string, f func([]float32)) []outTensor {
		for i := range ts {
			if ts[i].name == name {
				d := append([]float32(nil), ts[i].data...)
				f(d)
				ts[i].data = d
			}
		}
		return ts
	}
	dataStart := 8 + int(binary.LittleEndian.Uint64(valid))
	flip := func(at int) []byte {
		b := append([]byte(nil), valid...)
		b[at] ^= 0x40
		return b
	}
	w4 := make([]byte, 4*12) // zeroed data for a 3×4 tensor
	b4 := make([]byte, 4*4)

	cases := []struct {
		name   string
		file   []byte
		opts   []LoadOption
		noOpt  bool
		kind   error
		tensor string
		msg    string
	}{
		{name: "checksum data", file: flip(len(valid) - 3), kind: ErrChecksum},
		{name: "checksum metadata", file: replaceOnce(t, valid, `"step":"1234"`, `"step":"1235"`), kind: ErrChecksum},
		{name: "checksum removed", file: replaceOnce(t, valid, `"sha256":"`, `"sha257":"`), kind: ErrChecksum, msg: "no \"sha256\""},
		{name: "truncated data", file: valid[:len(valid)-10], kind: ErrCorrupt, tensor: "optim/layer/w/exp_avg_sq", msg: "truncated"},
		{name: "truncated header", file: valid[:dataStart-5], kind: ErrCorrupt, msg: "beyond the end of the"},
		{name: "truncated length", file: valid[:5], kind: ErrCorrupt, msg: "truncated"},
		{name: "empty", file: nil, kind: ErrCorrupt},
		{name: "header length too large", file: append(binary.LittleEndian.AppendUint64(nil, 1<<40), valid[8:]...), kind: ErrCorrupt, msg: "beyond the end of the"},
		{name: "header length zero", file: append(binary.LittleEndian.AppendUint64(nil, 0), valid[8:]...), kind: ErrCorrupt},
		{name: "corrupt JSON", file: flip(9), kind: ErrCorrupt},
		{name: "corrupt JSON end", file: replaceOnce(t, valid, "]}}", "]}]"), kind: ErrCorrupt},
		{name: "not an object", file: assemble(`["x"]`, nil), kind: ErrCorrupt},
		{name: "trailing JSON", file: assemble(`{} {}`, nil), kind: ErrCorrupt, msg: "after the header"},
		{name: "duplicate key", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]},"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[16,32]}}`, make([]byte, 32)), kind: ErrCorrupt, msg: "duplicate"},
		{name: "metadata not strings", file: assemble(`{"__metadata__":{"step":5}}`, nil), kind: ErrCorrupt, msg: "string"},
		{name: "unknown field", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16],"x":1}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "no dtype", file: assemble(`{"model/layer/b":{"shape":[1,4],"data_offsets":[0,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "three offsets", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "unknown dtype", file: assemble(`{"model/layer/b":{"dtype":"F33","shape":[1,4],"data_offsets":[0,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b", msg: "dtype"},
		{name: "negative dim", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "huge shape", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "offsets out of range", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[16,32]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b", msg: "beyond"},
		{name: "negative offset", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[-16,0]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "reversed offsets", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[16,0]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b"},
		{name: "offsets vs shape", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,3],"data_offsets":[0,16]}}`, b4), kind: ErrCorrupt, tensor: "model/layer/b", msg: "needs 12"},
		{name: "overlap", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]},"model/layer/w":{"dtype":"F32","shape":[3,4],"data_offsets":[8,56]}}`, make([]byte, 56)), kind: ErrCorrupt, tensor: "model/layer/w", msg: "overlap"},
		{name: "gap", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]},"model/layer/w":{"dtype":"F32","shape":[3,4],"data_offsets":[20,68]}}`, make([]byte, 68)), kind: ErrCorrupt, tensor: "model/layer/w", msg: "gap"},
		{name: "trailing data", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]}}`, make([]byte, 20)), kind: ErrCorrupt, msg: "after the last tensor"},

		{name: "not cpntrain", file: assemble(`{"model/layer/b":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]}}`, b4), kind: ErrFormat, msg: "no \"format\""},
		{name: "other format", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyFormat] = "pt" })+`}`, nil), kind: ErrFormat, msg: `format "pt"`},
		{name: "version", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyVersion] = "2" })+`}`, nil), kind: ErrFormat, msg: "unsupported format_version"},
		{name: "missing step", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { delete(m, keyStep) })+`}`, nil), kind: ErrFormat, msg: `"step": missing`},
		{name: "bad step", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyStep] = "12x" })+`}`, nil), kind: ErrFormat, msg: `"step"`},
		{name: "bad rng", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyRNG] = "%%%" })+`}`, nil), kind: ErrFormat, msg: `"rng_state"`},
		{name: "bad config", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyModelConfig] = "{" })+`}`, nil), kind: ErrFormat, msg: `"model_config"`},
		{name: "bad extra", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyExtra] = "[1]" })+`}`, nil), kind: ErrFormat, msg: `"extra"`},
		{name: "bad optim", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyOptim] = `{"kind":"adam","lr":1}` })+`}`, nil), kind: ErrFormat, msg: `"optim"`},
		{name: "bad checksum syntax", file: assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[checksumKey] = "abc" })+`}`, nil), kind: ErrChecksum, msg: "hex"},

		{name: "wrong dtype", file: assemble(`{"__metadata__":`+metaJSON(nil)+`,"model/layer/b":{"dtype":"F64","shape":[1,4],"data_offsets":[0,32]},"model/layer/w":{"dtype":"F32","shape":[3,4],"data_offsets":[32,80]}}`, make([]byte, 80)), noOpt: true, kind: ErrDType, tensor: "model/layer/b", msg: "F64"},
		{name: "not 2-D", file: assemble(`{"__metadata__":`+metaJSON(nil)+`,"model/layer/b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"model/layer/w":{"dtype":"F32","shape":[3,4],"data_offsets":[16,64]}}`, append(b4, w4...)), noOpt: true, kind: ErrShape, tensor: "model/layer/b", msg: "[rows, cols]"},
		{name: "kind", file: valid, opts: []LoadOption{ExpectKind("syncgnn")}, kind: ErrKind, msg: `"tiny", want "syncgnn"`},
		{name: "missing tensor", file: edit(func(ts []outTensor, _ map[string]string) []outTensor { return without(ts, "model/layer/b") }), kind: ErrMissing, tensor: "model/layer/b"},
		{name: "extra tensor", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return append(ts, outTensor{name: "model/layer/z", rows: 1, cols: 1, data: []float32{1}})
		}), kind: ErrUnexpected, tensor: "model/layer/z"},
		{name: "foreign tensor", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return append(ts, outTensor{name: "weights", rows: 1, cols: 1, data: []float32{1}})
		}), kind: ErrUnexpected, tensor: "weights"},
		{name: "optim tensor without optim", file: edit(func(ts []outTensor, m map[string]string) []outTensor { m[keyOptim] = "null"; return ts }), noOpt: true, kind: ErrUnexpected, tensor: "optim/layer/b/exp_avg"},
		{name: "shape", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			for i := range ts {
				if ts[i].name == "model/layer/w" {
					ts[i].rows, ts[i].cols = 4, 3
				}
			}
			return ts
		}), kind: ErrShape, tensor: "model/layer/w", msg: "[4 3]"},
		{name: "NaN parameter", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return withData(ts, "model/layer/w", func(d []float32) { d[5] = float32(math.NaN()) })
		}), kind: ErrNonFinite, tensor: "model/layer/w", msg: "index 5"},
		{name: "Inf parameter", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return withData(ts, "model/layer/b", func(d []float32) { d[0] = float32(math.Inf(-1)) })
		}), kind: ErrNonFinite, tensor: "model/layer/b"},
		{name: "Inf buffer", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return withData(ts, "optim/layer/w/exp_avg", func(d []float32) { d[1] = float32(math.Inf(1)) })
		}), kind: ErrNonFinite, tensor: "optim/layer/w/exp_avg"},
		{name: "missing buffer", file: edit(func(ts []outTensor, _ map[string]string) []outTensor { return without(ts, "optim/layer/b/exp_avg_sq") }), kind: ErrOptimizer, tensor: "optim/layer/b/exp_avg_sq", msg: "missing"},
		{name: "extra buffer", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			return append(ts, outTensor{name: "optim/layer/b/momentum_buffer", rows: 1, cols: 4, data: make([]float32, 4)})
		}), kind: ErrOptimizer, tensor: "optim/layer/b/momentum_buffer", msg: "unexpected"},
		{name: "buffer shape", file: edit(func(ts []outTensor, _ map[string]string) []outTensor {
			for i := range ts {
				if ts[i].name == "optim/layer/b/exp_avg" {
					ts[i].rows, ts[i].cols = 4, 1
				}
			}
			return ts
		}), kind: ErrOptimizer, tensor: "optim/layer/b/exp_avg", msg: "shape"},
		{name: "optimizer kind", file: edit(func(ts []outTensor, m map[string]string) []outTensor {
			m[keyOptim] = strings.Replace(m[keyOptim], `"adam"`, `"adamw"`, 1)
			return ts
		}), kind: ErrOptimizer, msg: `kind "adamw", want "adam"`},
		{name: "optimizer hyper", file: edit(func(ts []outTensor, m map[string]string) []outTensor {
			m[keyOptim] = strings.Replace(m[keyOptim], `"beta1":0.9`, `"beta1":1.5`, 1)
			return ts
		}), kind: ErrOptimizer, msg: "beta1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "bad.safetensors", tc.file)
			tg := newTarget()
			var opt optim.Optimizer = tg.opt
			if tc.noOpt {
				opt = nil
			}
			_, err := Load(path, tg.m, opt, tc.opts...)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != path || ce.Op != "load" || ce.Tensor != tc.tensor {
				t.Errorf("error %#v: want file %q and tensor %q", ce, path, tc.tensor)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || (tc.tensor != "" && !strings.Contains(msg, `"`+tc.tensor+`"`)) || !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q should name the file, tensor %q and contain %q", msg, tc.tensor, tc.msg)
			}
			tg.unchanged(t)
		})
	}
	// A missing file.
	tg := newTarget()
	path := filepath.Join(t.TempDir(), "none.safetensors")
	if _, err := Load(path, tg.m, tg.opt); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadZeroSize checks that empty tensors and an empty model round-trip.
func TestLoadZeroSize(t *testing.T) {
	t.Parallel()
	type empty struct{ nn.Modules }
	m := &tinyModel{W: nn.NewParam(0, 4), B: nn.NewParam(1, 0)}
	path := filepath.Join(t.TempDir(), "z.safetensors")
	if err := Save(path, m, nil, Meta{ModelKind: "z"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, &tinyModel{W: nn.NewParam(0, 4), B: nn.NewParam(1, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, empty{}, nil, Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, empty{}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	valid, _, _ := validFile(t)
	path := writeTemp(t, "ck.safetensors", valid)
	info, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Checkpoint || !info.ChecksumOK || info.ChecksumErr != nil || info.File != path || info.Size != int64(len(valid)) {
		t.Errorf("info %+v", info)
	}
	if info.Meta.ModelKind != "tiny" || info.Meta.Step != 1234 || info.Optim == nil || info.Optim.Kind != "adam" || info.Optim.Step != 3 {
		t.Errorf("meta %+v optim %+v", info.Meta, info.Optim)
	}
	var names []string
	for _, ti := range info.Tensors {
		names = append(names, ti.Name)
	}
	want := []string{"model/layer/b", "model/layer/w", "optim/layer/b/exp_avg", "optim/layer/b/exp_avg_sq", "optim/layer/w/exp_avg", "optim/layer/w/exp_avg_sq"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("tensors %v, want %v", names, want)
	}
	if ti := info.Tensors[1]; ti.DType != "F32" || !reflect.DeepEqual(ti.Shape, []int64{3, 4}) || ti.Offsets[1]-ti.Offsets[0] != 48 {
		t.Errorf("model/layer/w: %+v", ti)
	}
	if info.HeaderBytes+info.DataBytes+8 != info.Size {
		t.Errorf("sizes %d + %d + 8 != %d", info.HeaderBytes, info.DataBytes, info.Size)
	}

	// A damaged file is still described, with the checksum failure.
	bad := append([]byte(nil), valid...)
	bad[len(bad)-1] ^= 1
	info, err = Inspect(writeTemp(t, "bad.safetensors", bad))
	if err != nil || info.ChecksumOK || !errors.Is(info.ChecksumErr, ErrChecksum) || len(info.Tensors) != 6 {
		t.Errorf("damaged: %v, %+v", err, info)
	}

	// Any safetensors file can be inspected.
	info, err = Inspect(writeTemp(t, "other.safetensors", assemble(`{"__metadata__":{"format":"pt"},"x":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`, make([]byte, 16))))
	if err != nil || info.Checkpoint || info.ChecksumOK || info.Metadata["format"] != "pt" || info.Tensors[0].DType != "I64" {
		t.Errorf("foreign file: %v, %+v", err, info)
	}

	// Malformed files are errors.
	if _, err := Inspect(writeTemp(t, "trunc.safetensors", valid[:100])); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := Inspect(writeTemp(t, "v2.safetensors", assemble(`{"__metadata__":`+metaJSON(func(m map[string]string) { m[keyVersion] = "2" })+`}`, nil))); !errors.Is(err, ErrFormat) {
		t.Errorf("version 2: %v", err)
	}
}
