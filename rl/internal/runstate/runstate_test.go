package runstate

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

type st struct {
	Step int64   `json:"step"`
	Xs   []int32 `json:"xs"`
}

type one struct{ p *nn.Param }

func (o one) Params(visit func(string, *nn.Param)) { visit("w", o.p) }

func fixture() (*nn.Param, optim.Optimizer) {
	p := nn.NewParam(2, 2)
	return p, optim.NewAdam([]nn.NamedParam{{Path: "w", Param: p}}, optim.DefaultAdamConfig())
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	p, opt := fixture()
	copy(p.V.Data, []float32{1, 2, 3, 4})
	g := rand.NewPCG(1, 2)
	rand.New(g).Uint64()
	if err := Save(path, "test-run", 3, one{p}, opt, []*rand.PCG{g}, st{Step: 3, Xs: []int32{5}}); err != nil {
		t.Fatal(err)
	}
	next := rand.New(g).Uint64()

	q, opt2 := fixture()
	g2 := rand.NewPCG(9, 9)
	var got st
	ok, err := Load(path, "test-run", one{q}, opt2, []*rand.PCG{g2}, &got)
	if err != nil || !ok {
		t.Fatalf("Load: ok %v, %v", ok, err)
	}
	if got.Step != 3 || len(got.Xs) != 1 || got.Xs[0] != 5 || q.V.Data[3] != 4 {
		t.Fatalf("restored %+v, params %v", got, q.V.Data)
	}
	if v := rand.New(g2).Uint64(); v != next {
		t.Fatalf("restored generator draws %d, the saved one %d", v, next)
	}

	// Missing file: nothing to resume.
	if ok, err := Load(filepath.Join(dir, "none"), "test-run", one{q}, opt2, []*rand.PCG{g2}, &got); ok || err != nil {
		t.Errorf("missing file: ok %v, err %v", ok, err)
	}
	// Wrong kind, wrong generator count, corrupt file: errors naming the file.
	if _, err := Load(path, "other-run", one{q}, opt2, []*rand.PCG{g2}, &got); err == nil {
		t.Error("a checkpoint of another kind was accepted")
	}
	if _, err := Load(path, "test-run", one{q}, opt2, []*rand.PCG{g2, rand.NewPCG(1, 1)}, &got); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("generator count mismatch: %v", err)
	}
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, b, 0o644)
	if _, err := Load(bad, "test-run", one{q}, opt2, []*rand.PCG{g2}, &got); err == nil || !strings.Contains(err.Error(), "bad.safetensors") {
		t.Errorf("corrupt file: %v", err)
	}
}
