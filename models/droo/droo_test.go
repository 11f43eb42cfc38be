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

// TestQuantizeAtOneHalf: an entry of exactly ½ is a 0 in the first
// candidate and the threshold of the second, which then offloads it:
// x = (0.5, 0.8) → (0, 1), (1, 1).
func TestQuantizeAtOneHalf(t *testing.T) {
	got := Quantize([]float64{0.5, 0.8}, 2)
	if !slices.Equal(got[0], []bool{false, true}) || !slices.Equal(got[1], []bool{true, true}) {
		t.Errorf("candidates %v, want [false true] [true true]", got)
	}
}

// TestEncodeKnownValues: one task's row by hand: 4 Mbit → 0.4, 2 Gcycles
// → 2, deadline 3 s, gain 1e-9 → −0.9, battery 50 of 100 J → 0.5,
// preference 0.6.
func TestEncodeKnownValues(t *testing.T) {
	// Two sets of two tasks: the hand task is the second set's second, at
	// row 3; the other rows are zero tasks (features 0 but the log gain).
	m, _ := New(2, rand.New(rand.NewPCG(1, 1)))
	zero := mec.Task{Gain: 1}
	a := &mec.Set{Cfg: mec.DefaultConfig(2), Tasks: []mec.Task{zero, zero}}
	b := &mec.Set{Cfg: mec.DefaultConfig(2), Tasks: []mec.Task{zero, {Input: 4e6, Cycles: 2e9, Deadline: 3, Gain: 1e-9, Battery: 50, Pref: 0.6}}}
	dst := make([]float32, 4*Features)
	m.Encode([]*mec.Set{a, b}, dst)
	for i, w := range []float32{0.4, 2, 3, -0.9, 0.5, 0.6} {
		if d := dst[3*Features+i] - w; d > 1e-6 || d < -1e-6 {
			t.Errorf("feature %d = %v, want %v", i, dst[3*Features+i], w)
		}
	}
	for i, v := range dst[:3*Features] {
		if v != 0 {
			t.Errorf("value %d of the zero tasks' rows = %v", i, v)
		}
	}
}

// TestDecideWithOneCandidate: with K = 1 the decision offloads exactly
// the tasks of positive logit (sigmoid above ½).
func TestDecideWithOneCandidate(t *testing.T) {
	m, _ := New(8, rand.New(rand.NewPCG(5, 6)))
	s, _ := mec.NewSet(mec.DefaultConfig(8), 3)
	inf := nn.NewInference()
	sol, _ := m.Decide(inf, s, 1)
	z := append([]float32(nil), m.Logits(inf, []*mec.Set{s}).Data...)
	on := 0
	for i, v := range z {
		if sol.Offload[i] != (v > 0) {
			t.Fatalf("task %d: logit %v, offloaded %v", i, v, sol.Offload[i])
		}
		if sol.Offload[i] {
			on++
		}
	}
	if on == 0 || on == 8 {
		t.Logf("all logits of one sign (%d positive): the check is weaker", on)
	}
}

// TestBounds: New takes 1 … MaxDevices devices; Load takes K in
// [1, D+1].
func TestBounds(t *testing.T) {
	for d, ok := range map[int]bool{0: false, 1: true, mec.MaxDevices: true, mec.MaxDevices + 1: false} {
		if _, err := New(d, rand.New(rand.NewPCG(1, 1))); (err == nil) != ok {
			t.Errorf("New(%d): %v", d, err)
		}
	}
	m, _ := New(3, rand.New(rand.NewPCG(1, 1)))
	for k, ok := range map[int]bool{0: false, 1: true, 4: true, 5: false} {
		path := t.TempDir() + "/m.safetensors"
		if err := m.Save(path, k, 1); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Load(path); (err == nil) != ok {
			t.Errorf("K = %d: %v", k, err)
		}
	}
}
