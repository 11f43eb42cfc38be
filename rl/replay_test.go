package rl

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestReplayWrapAround(t *testing.T) {
	r := NewReplay[int](4)
	if r.Len() != 0 || r.Pos() != 0 || r.Cap() != 4 {
		t.Fatalf("new buffer: len %d pos %d cap %d", r.Len(), r.Pos(), r.Cap())
	}
	for i := 0; i < 6; i++ {
		r.Add(i, Action{Index: i}, float64(i), i+1, i%2 == 1)
	}
	if r.Len() != 4 || r.Pos() != 2 {
		t.Fatalf("after 6 adds: len %d pos %d, want 4 and 2", r.Len(), r.Pos())
	}
	// Slots 0 and 1 were overwritten by transitions 4 and 5.
	want := []int{4, 5, 2, 3}
	for slot, w := range want {
		tr := r.At(slot)
		if tr.Obs != w || tr.NextObs != w+1 || tr.Action.Index != w || tr.Reward != float64(w) || tr.Terminated != (w%2 == 1) {
			t.Errorf("slot %d = %+v, want transition %d", slot, tr, w)
		}
	}
}

func TestReplaySampleUniform(t *testing.T) {
	const capacity, adds, n = 10, 25, 200000
	r := NewReplay[int](capacity)
	for i := 0; i < adds; i++ {
		r.Add(i, Action{Index: i}, float64(i), i+1, false)
	}
	var b ReplayBatch[int]
	r.Sample(rand.New(rand.NewPCG(1, 2)), n, &b)
	if b.Len() != n || len(b.Obs) != n || len(b.NextObs) != n || len(b.Actions) != n || len(b.Rewards) != n || len(b.Terminated) != n {
		t.Fatalf("batch lengths wrong")
	}
	counts := map[int]int{}
	for k, i := range b.Indices {
		counts[b.Obs[k]]++
		if b.Obs[k] != r.At(i).Obs || b.NextObs[k] != b.Obs[k]+1 || b.Actions[k].Index != b.Obs[k] || b.Rewards[k] != float64(b.Obs[k]) {
			t.Fatalf("row %d inconsistent with slot %d", k, i)
		}
	}
	if len(counts) != capacity {
		t.Fatalf("sampled %d distinct transitions, want %d", len(counts), capacity)
	}
	for v, c := range counts {
		if v < adds-capacity {
			t.Errorf("sampled overwritten transition %d", v)
		}
		// Binomial(n, 0.1): sd ≈ 134; allow 5 sd.
		if math.Abs(float64(c)-n/capacity) > 5*math.Sqrt(n*0.1*0.9) {
			t.Errorf("transition %d sampled %d times, want ≈ %d", v, c, n/capacity)
		}
	}
}

func TestReplayDeterministic(t *testing.T) {
	r := NewReplay[int](50)
	for i := 0; i < 70; i++ {
		r.Add(i, Action{}, 0, i, false)
	}
	var a, b ReplayBatch[int]
	r.Sample(rand.New(rand.NewPCG(7, 7)), 64, &a)
	r.Sample(rand.New(rand.NewPCG(7, 7)), 64, &b)
	for k := range a.Indices {
		if a.Indices[k] != b.Indices[k] {
			t.Fatalf("same seed gave different samples at %d", k)
		}
	}
	// Reuse: a smaller batch keeps the capacity.
	c := cap(a.Obs)
	r.Sample(rand.New(rand.NewPCG(7, 7)), 8, &a)
	if a.Len() != 8 || cap(a.Obs) != c {
		t.Fatalf("batch not reused: len %d cap %d (was %d)", a.Len(), cap(a.Obs), c)
	}
	if allocs := testing.AllocsPerRun(10, func() { r.Sample(rand.New(rand.NewPCG(1, 1)), 64, &b) }); allocs > 2 {
		t.Errorf("Sample into a reused batch allocates %v times", allocs)
	}
}

func TestReplayRestore(t *testing.T) {
	r := NewReplay[int](3)
	for i := 0; i < 5; i++ {
		r.Add(i, Action{Index: i}, float64(i), i+1, i == 4)
	}
	var slots []Transition[int]
	for i := 0; i < r.Len(); i++ {
		slots = append(slots, r.At(i))
	}
	s := NewReplay[int](3)
	if err := s.Restore(slots, r.Pos()); err != nil {
		t.Fatal(err)
	}
	r.Add(9, Action{}, 0, 9, false)
	s.Add(9, Action{}, 0, 9, false)
	for i := 0; i < 3; i++ {
		a, b := r.At(i), s.At(i)
		if a.Obs != b.Obs || a.NextObs != b.NextObs || a.Action.Index != b.Action.Index || a.Reward != b.Reward || a.Terminated != b.Terminated {
			t.Fatalf("slot %d differs after restore: %+v vs %+v", i, r.At(i), s.At(i))
		}
	}
	if err := s.Restore(slots[:2], 0); err == nil {
		t.Error("Restore accepted a position inconsistent with a partial buffer")
	}
	if err := NewReplay[int](1).Restore(slots, 0); err == nil {
		t.Error("Restore accepted more transitions than the capacity")
	}
}

// TestReplaySteps: a transition's span survives At, Sample and Restore
// (one-step ones read as Steps 0 from At, 1 in a batch); AddSteps refuses
// a span below one, Restore a negative one.
func TestReplaySteps(t *testing.T) {
	r := NewReplay[int](4)
	r.Add(1, Action{}, 0, 2, false)
	r.AddSteps(2, Action{}, 0, 5, true, 3)
	if a, b := r.At(0).Steps, r.At(1).Steps; a != 0 || b != 3 {
		t.Fatalf("At: steps %d, %d; want 0, 3", a, b)
	}
	var batch ReplayBatch[int]
	r.Sample(rand.New(rand.NewPCG(1, 1)), 20, &batch)
	for k, i := range batch.Indices {
		if want := []int{1, 3}[i]; batch.Steps[k] != want {
			t.Fatalf("sampled slot %d spans %d steps, want %d", i, batch.Steps[k], want)
		}
	}
	r2 := NewReplay[int](4)
	if err := r2.Restore([]Transition[int]{r.At(0), r.At(1)}, 2); err != nil {
		t.Fatal(err)
	}
	if a, b := r2.At(0).Steps, r2.At(1).Steps; a != 0 || b != 3 {
		t.Fatalf("restored: steps %d, %d; want 0, 3", a, b)
	}
	if err := r2.Restore([]Transition[int]{{Steps: -1}}, 1); err == nil {
		t.Error("Restore accepted a span of −1 steps")
	}
	defer func() {
		if recover() == nil {
			t.Error("AddSteps with 0 steps did not panic")
		}
	}()
	r.AddSteps(3, Action{}, 0, 4, false, 0)
}
