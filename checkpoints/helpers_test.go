package checkpoints

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// tinyModel is a test module with two parameters.
type tinyModel struct {
	W, B *nn.Param
}

func (m *tinyModel) Params(visit func(string, *nn.Param)) {
	visit("layer/w", m.W)
	visit("layer/b", m.B)
}

// newTinyModel returns a 3×4 weight and a 1×4 bias filled from seed.
func newTinyModel(seed uint64) *tinyModel {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &tinyModel{W: nn.NewParam(3, 4), B: nn.NewParam(1, 4)}
	for _, p := range []*nn.Param{m.W, m.B} {
		for i := range p.V.Data {
			p.V.Data[i] = float32(rng.NormFloat64())
		}
	}
	return m
}

// fakeGrads fills the gradients of m deterministically from its values.
func fakeGrads(m nn.Module) {
	m.Params(func(_ string, p *nn.Param) {
		for i, v := range p.V.Data {
			p.V.Grad[i] = 0.3*v - 0.1 + float32(i%3)*0.05
		}
	})
}

// train takes n optimizer steps on fake gradients.
func train(m nn.Module, opt optim.Optimizer, n int) {
	for range n {
		fakeGrads(m)
		opt.Step()
	}
}

// values returns a copy of all parameter values of m.
func values(m nn.Module) map[string][]float32 {
	out := map[string][]float32{}
	m.Params(func(path string, p *nn.Param) { out[path] = append([]float32(nil), p.V.Data...) })
	return out
}

// testMeta is a Meta with every field set.
func testMeta() Meta {
	pcg := rand.NewPCG(42, 43)
	pcg.Uint64()
	rng, err := pcg.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return Meta{
		ModelKind:   "tiny",
		ModelConfig: json.RawMessage(`{"hidden": 4, "act": "relu"}`),
		Step:        1234,
		RNGState:    rng,
		Extra: map[string]json.RawMessage{
			"buffer_pos": json.RawMessage(`17`),
			"best":       json.RawMessage(`{"score":0.5,"step":1000}`),
		},
	}
}

// validFile returns the bytes of a checkpoint of a trained tiny model with
// Adam state, and the model.
func validFile(t testing.TB) ([]byte, *tinyModel, *optim.Adam) {
	t.Helper()
	m := newTinyModel(1)
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	train(m, opt, 3)
	b, err := encodeCheckpoint(m, opt, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	return b, m, opt
}

// decompose parses a valid file back into tensors and metadata (without
// the checksum), to be changed and re-encoded with encode.
func decompose(t testing.TB, b []byte) ([]outTensor, map[string]string) {
	t.Helper()
	f, err := parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var ts []outTensor
	for i := range f.tensors {
		e := &f.tensors[i]
		ts = append(ts, outTensor{name: e.name, rows: int(e.shape[0]), cols: int(e.shape[1]), data: f.f32(e)})
	}
	meta := map[string]string{}
	for k, v := range f.meta {
		if k != checksumKey {
			meta[k] = v
		}
	}
	return ts, meta
}

// mustEncode is encode that fails the test on error.
func mustEncode(t testing.TB, ts []outTensor, meta map[string]string) []byte {
	t.Helper()
	b, err := encode(ts, meta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assemble builds a file from a hand-written JSON header and a data
// section, padding the header with spaces. If the header holds the
// placeholder checksum "sha256":"000…0", it is replaced by the file's digest,
// so that hand-made files with unusual contents pass the checksum.
func assemble(header string, data []byte) []byte {
	for (8+len(header))%8 != 0 {
		header += " "
	}
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(append(b, header...), data...)
	if pos, err := digestSpan(b[8:8+len(header)], checksumPlaceholder); err == nil {
		copy(b[8+pos:], fileDigest(b, pos))
	}
	return b
}

// metaJSON returns the __metadata__ object of a valid checkpoint without
// optimizer state, with the placeholder checksum, as JSON.
func metaJSON(edit func(map[string]string)) string {
	m := map[string]string{
		keyFormat: Format, keyVersion: FormatVersion, keyModelKind: "tiny", keyModelConfig: "null",
		keyStep: "0", keyRNG: "", keyOptim: "null", keyExtra: "{}", checksumKey: checksumPlaceholder,
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// writeTemp writes b to a new file in a temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// target is a model and optimizer to load into, with snapshots to check
// that a failed load changed nothing.
type target struct {
	m      *tinyModel
	opt    *optim.Adam
	before map[string][]float32
	state  optim.State
}

func newTarget() *target {
	m := newTinyModel(77)
	opt := optim.NewAdam(nn.Collect(m), optim.AdamConfig{LR: 0.5, Beta1: 0.5, Beta2: 0.5, Eps: 1e-3})
	train(m, opt, 1)
	return &target{m: m, opt: opt, before: values(m), state: opt.State()}
}

// unchanged fails the test if the model or the optimizer changed.
func (tg *target) unchanged(t testing.TB) {
	t.Helper()
	if !reflect.DeepEqual(values(tg.m), tg.before) {
		t.Error("the model was modified by a failed load")
	}
	if !reflect.DeepEqual(tg.opt.State(), tg.state) {
		t.Error("the optimizer was modified by a failed load")
	}
}

// replaceOnce replaces the single occurrence of old in b (which must exist).
func replaceOnce(t testing.TB, b []byte, old, new string) []byte {
	t.Helper()
	s := string(b)
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q occurs %d times", old, strings.Count(s, old))
	}
	return []byte(strings.Replace(s, old, new, 1))
}
