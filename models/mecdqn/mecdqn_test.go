package mecdqn

import (
	"math/rand/v2"
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
	for i := range qa {
		if both[i] != qa[i] || both[12+i] != qb.Data[i] {
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
