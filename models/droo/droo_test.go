package droo

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// TestQuantizeByHand: DROO's order-preserving quantiser on x = (0.9, 0.3,
// 0.55, 0.1). First candidate: threshold ½ → (1, 0, 1, 0). Distances to
// ½: 0.05 (entry 2), 0.2 (entry 1), 0.4 (entries 0 and 3, in index
// order). Second: x_2 = 0.55 > ½, ones where x > 0.55 → (1, 0, 0, 0).
// Third: x_1 = 0.3 ≤ ½, ones where x ≥ 0.3 → (1, 1, 1, 0). Fourth: x_0 =
// 0.9, ones where x > 0.9 → (0, 0, 0, 0). Fifth: x_3 = 0.1, x ≥ 0.1 →
// all ones. K is clipped to D+1.
func TestQuantizeByHand(t *testing.T) {
	got := Quantize([]float64{0.9, 0.3, 0.55, 0.1}, 9)
	want := [][]bool{{true, false, true, false}, {true, false, false, false}, {true, true, true, false},
		{false, false, false, false}, {true, true, true, true}}
	if len(got) != len(want) {
		t.Fatalf("%d candidates, want %d", len(got), len(want))
	}
	for k := range want {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("candidate %d: %v, want %v", k, got[k], want[k])
		}
	}
	if one := Quantize([]float64{0.2, 0.7}, 0); len(one) != 1 || !slices.Equal(one[0], []bool{false, true}) {
		t.Errorf("K = 0: %v, want the threshold candidate alone", one)
	}
}

// TestDecideKeepsTheCheapest: Decide's choice is the cheapest of the
// quantiser's candidates by the set's exact cost, and with K = D+1 never
// worse than with K = 1.
func TestDecideKeepsTheCheapest(t *testing.T) {
	m, err := New(6, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mec.NewSet(mec.DefaultConfig(6), 11)
	inf := nn.NewInference()
	sol, bi := m.Decide(inf, s, 7)
	z := m.Logits(inf, []*mec.Set{s}).Data
	x := make([]float64, 6)
	for i, v := range z {
		x[i] = 1 / (1 + math.Exp(-float64(v)))
	}
	cands := Quantize(x, 7)
	for k, c := range cands {
		if s.Cost(c) < sol.Cost {
			t.Errorf("candidate %d costs %v, below the chosen %v", k, s.Cost(c), sol.Cost)
		}
	}
	if !slices.Equal(cands[bi], sol.Offload) {
		t.Errorf("index %d names %v, the solution is %v", bi, cands[bi], sol.Offload)
	}
	if one, _ := m.Decide(inf, s, 1); one.Cost < sol.Cost {
		t.Errorf("K = 1 cheaper (%v) than K = 7 (%v)", one.Cost, sol.Cost)
	}
	if _, err := New(0, nil); err == nil {
		t.Error("New accepted 0 devices")
	}
}

// TestSaveLoad: a saved network decides like the original after loading,
// with its K; a Q-network file or garbage is refused with the path named.
func TestSaveLoad(t *testing.T) {
	m, _ := New(5, rand.New(rand.NewPCG(1, 1)))
	path := t.TempDir() + "/d.safetensors"
	if err := m.Save(path, 4, 100); err != nil {
		t.Fatal(err)
	}
	got, k, meta, err := Load(path)
	if err != nil || k != 4 || meta.Step != 100 || got.D != 5 {
		t.Fatalf("Load: %v, K %d, step %d", err, k, meta.Step)
	}
	s, _ := mec.NewSet(mec.DefaultConfig(5), 2)
	inf := nn.NewInference()
	a := append([]float32(nil), m.Logits(inf, []*mec.Set{s}).Data...)
	b := got.Logits(inf, []*mec.Set{s}).Data
	if !slices.Equal(a, b) {
		t.Errorf("logits %v after loading, %v before", b, a)
	}
	bad := t.TempDir() + "/x.safetensors"
	os.WriteFile(bad, []byte("not a checkpoint"), 0o644)
	if _, _, _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("garbage: %v", err)
	}
}
