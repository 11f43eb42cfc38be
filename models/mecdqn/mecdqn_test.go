package mecdqn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

func obsOf(t *testing.T, d int, seed uint64, decide int) mec.Obs {
	e, err := mec.NewEnv(mec.DefaultConfig(d))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.Reset(seed)
	for k := range decide {
		s, err := e.Step(rlAction(2*k + k%2))
		if err != nil {
			t.Fatal(err)
		}
		o = s.Obs
	}
	return o
}

// TestBatchRowsDoNotLeak: the convolutions pad each observation with zeros
// at both ends, so a batch gives every observation the values it gets
// alone (the last device of one observation is not the first's
// neighbour); the output is R × 2D.
func TestBatchRowsDoNotLeak(t *testing.T) {
	m := New(DefaultConfig(), rand.New(rand.NewPCG(1, 2)))
	a, b := obsOf(t, 6, 1, 2), obsOf(t, 6, 2, 4)
	inf := nn.NewInference()
	both := append([]float32(nil), m.QValues(inf, []mec.Obs{a, b}).Data...)
	qa := append([]float32(nil), m.QValues(inf, []mec.Obs{a}).Data...)
	qb := m.QValues(inf, []mec.Obs{b})
	if qb.Rows != 1 || qb.Cols != 12 || len(both) != 24 {
		t.Fatalf("shapes: %d×%d, batch %d values", qb.Rows, qb.Cols, len(both))
	}
	// Equal up to rounding: the matmul kernels may sum a batch of rows in
	// another order than a single row (AVX-512 and AVX2 paths differ); a
	// leak between rows changes values by far more.
	close := func(x, y float32) bool {
		return math.Abs(float64(x-y)) <= 1e-6*math.Max(1, math.Abs(float64(y)))
	}
	for i := range qa {
		if !close(both[i], qa[i]) || !close(both[12+i], qb.Data[i]) {
			t.Fatalf("value %d: batch (%v, %v), alone (%v, %v)", i, both[i], both[12+i], qa[i], qb.Data[i])
		}
	}
}

// TestEncodeKnownValues: the device row of a decided, offloaded task and
// the set's shares, by hand (three tasks: offloaded, local, undecided, so
// that decided, offloaded and undecided counts all differ).
func TestEncodeKnownValues(t *testing.T) {
	set := &mec.Set{Cfg: mec.DefaultConfig(3), Tasks: []mec.Task{
		{Input: 4e6, Cycles: 2e9, Deadline: 3, Gain: 1e-9, Battery: 50, Pref: 0.6},
		{Input: 1e6, Cycles: 1e9, Deadline: 1, Gain: 1e-8, Battery: 100, Pref: 0.5},
		{Input: 1e6, Cycles: 1e9, Deadline: 1, Gain: 1e-8, Battery: 100, Pref: 0.5}}}
	o := mec.Obs{Set: set, Decision: []int8{mec.Offloaded, mec.Local, mec.Undecided}}
	dst := make([]float32, 3*Features)
	Encode([]mec.Obs{o}, 3, dst)
	// Task 0: offloaded; 0.4 (4 Mbit/10), 2 Gcycles, 3 s, log10(1e-9)/10 =
	// −0.9, battery 0.5, preference 0.6, λ_t = 0.3, λ_e = 0.7; two of three
	// decided, one of three offloaded, one of three offloaded at its AP.
	want := []float32{0, 0, 1, 0.4, 2, 3, -0.9, 0.5, 0.6, 0.3, 0.7, 2.0 / 3, 1.0 / 3, 1.0 / 3}
	for i, w := range want {
		if d := dst[i] - w; d > 1e-6 || d < -1e-6 {
			t.Errorf("task 0 column %d = %v, want %v", i, dst[i], w)
		}
	}
	for n, oneHot := range [][]float32{{0, 1, 0}, {1, 0, 0}} { // tasks 1 (local) and 2 (undecided)
		row := dst[(n+1)*Features : (n+1)*Features+3]
		if row[0] != oneHot[0] || row[1] != oneHot[1] || row[2] != oneHot[2] {
			t.Errorf("task %d's decision one-hot %v, want %v", n+1, row, oneHot)
		}
	}
}

func rlAction(i int) rl.Action { return rl.Action{Index: i} }

// TestCostFeatures: the five cost columns of a five-task set (task 0
// offloaded, 1 local, 2–4 undecided, one AP) composed by hand from the
// cost model (tested by hand in rl/envs/mec): for task 2, joining makes
// two offloaders (itself and task 0); the externality is what task 0's
// cost rises from one to two sharers; "later" adds half of the two other
// undecided tasks (one), three sharers. For task 0 itself: its cost alone
// (the counts leave it out), no externality.
func TestCostFeatures(t *testing.T) {
	set, err := mec.NewSet(mec.DefaultConfig(5), 4)
	if err != nil {
		t.Fatal(err)
	}
	o := mec.Obs{Set: set, Decision: []int8{mec.Offloaded, mec.Local, mec.Undecided, mec.Undecided, mec.Undecided}}
	dst := make([]float32, 5*Features)
	Encode([]mec.Obs{o}, 5, dst)
	sl := refSlog
	L2, J2 := set.Local(2).Cost, set.Offload(2, 2, 2).Cost
	ext := set.Offload(0, 2, 2).Cost - set.Offload(0, 1, 1).Cost
	L0, J0 := set.Local(0).Cost, set.Offload(0, 1, 1).Cost
	for _, c := range []struct {
		task int
		want []float64
	}{
		{2, []float64{sl(L2), sl(J2), sl(ext), sl(J2 + ext - L2), sl(set.Offload(2, 3, 3).Cost - L2)}},
		{0, []float64{sl(L0), sl(J0), 0, sl(J0 - L0), sl(set.Offload(0, 2, 2).Cost - L0)}}, // three undecided others: one more
	} {
		row := dst[c.task*Features+14 : (c.task+1)*Features]
		for i, w := range c.want {
			if d := float64(row[i]) - w; math.Abs(d) > 1e-5*(1+math.Abs(w)) {
				t.Errorf("task %d cost column %d = %v, want %v", c.task, i, row[i], w)
			}
		}
	}
	if ext <= 0 {
		t.Errorf("a second offloader should raise task 0's cost (got %v): the test would not see the externality", ext)
	}
}

// TestSaveLoad: a saved Q-network gives the same values after loading; a
// DROO file is refused by kind.
func TestSaveLoad(t *testing.T) {
	m := New(Config{Channels: 4, Hidden: 5}, rand.New(rand.NewPCG(1, 1)))
	path := t.TempDir() + "/q.safetensors"
	if err := m.Save(path, 7); err != nil {
		t.Fatal(err)
	}
	got, meta, err := Load(path)
	if err != nil || meta.Step != 7 || got.Config != m.Config {
		t.Fatalf("Load: %v, step %d, config %+v", err, meta.Step, got.Config)
	}
	o := obsOf(t, 4, 3, 1)
	inf := nn.NewInference()
	a := append([]float32(nil), m.QValues(inf, []mec.Obs{o}).Data...)
	b := got.QValues(inf, []mec.Obs{o}).Data
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("Q %d: %v loaded, %v saved", i, b[i], a[i])
		}
	}
}

// TestMemo: the environment's observations carry a memo; Encode fills it
// and later reads it back, giving the same rows as an observation without
// a memo; an encoding stored under another key is not used.
func TestMemo(t *testing.T) {
	o := obsOf(t, 5, 9, 2)
	if o.Memo == nil {
		t.Fatal("the environment's observation has no memo")
	}
	plain := o
	plain.Memo = nil
	want := make([]float32, 5*Features)
	Encode([]mec.Obs{plain}, 5, want)
	for range 2 { // the first fills the memo, the second reads it
		got := make([]float32, 5*Features)
		Encode([]mec.Obs{o}, 5, got)
		if !slices.Equal(got, want) {
			t.Fatal("memoised rows differ from a fresh encoding")
		}
	}
	if o.Memo.Get(memoKey) == nil {
		t.Fatal("Encode did not fill the memo")
	}
	o.Memo.Put("other", make([]float32, 5*Features))
	got := make([]float32, 5*Features)
	Encode([]mec.Obs{o}, 5, got)
	if !slices.Equal(got, want) {
		t.Error("an encoding under another key was used")
	}
}

// TestGridFeatures: the grid columns of a five-task set on one AP, from
// the cost model by hand: at q = ¼, ½, ¾, 1 the sharing is ⌈5q⌉ = 2, 3,
// 4, 5 offloaders; each column pair is O(k, k) − L (slog) and the task's
// rank by it (stable: ties keep index order) over 5.
func TestGridFeatures(t *testing.T) {
	set, _ := mec.NewSet(mec.DefaultConfig(5), 8)
	o := mec.Obs{Set: set, Decision: []int8{mec.Undecided, mec.Offloaded, mec.Undecided, mec.Undecided, mec.Undecided}}
	dst := make([]float32, 5*Features)
	Encode([]mec.Obs{o}, 5, dst)
	sl := refSlog
	for g, k := range []int{2, 3, 4, 5} {
		diff := make([]float64, 5)
		for n := range diff {
			diff[n] = set.Offload(n, k, k).Cost - set.Local(n).Cost
		}
		for n := range diff {
			rank := 0
			for m := range diff {
				if diff[m] < diff[n] || diff[m] == diff[n] && m < n {
					rank++
				}
			}
			row := dst[n*Features : (n+1)*Features]
			if d := float64(row[19+2*g]) - sl(diff[n]); math.Abs(d) > 1e-5*(1+math.Abs(sl(diff[n]))) {
				t.Errorf("q %d task %d: difference %v, want %v", g, n, row[19+2*g], sl(diff[n]))
			}
			if row[19+2*g+1] != float32(rank)/5 {
				t.Errorf("q %d task %d: rank %v, want %v", g, n, row[19+2*g+1], float32(rank)/5)
			}
		}
	}
	// "Later" counts the undecided others: task 0 has three (2, 3, 4), so
	// one more (⌊3/2⌋) offloads with it and task 1: O(3, 3) − L.
	want := sl(set.Offload(0, 3, 3).Cost - set.Local(0).Cost)
	if got := float64(dst[18]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
		t.Errorf("task 0 later = %v, want %v", got, want)
	}
}

// refSlog is sign(x)·ln(1 + |x|) in float64, the reference for slog.
func refSlog(x float64) float64 {
	if x < 0 {
		return -math.Log(1 - x)
	}
	return math.Log(1 + x)
}
