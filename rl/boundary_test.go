package rl

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCheckActionBoundaries checks the edges of every rule of CheckAction:
// the first and last valid index, zero split ratios, the largest values the
// finiteness check lets through (±3.4e38) against ±Inf and NaN, the
// simplex-sum tolerance 1 ± 1e-3 (inclusive) and the DiscreteSimplex
// composition.
func TestCheckActionBoundaries(t *testing.T) {
	accept := func(name string, s Space, a Action, mask []bool) {
		t.Helper()
		if err := CheckAction(s, a, mask); err != nil {
			t.Errorf("%s rejected: %v", name, err)
		}
	}
	reject := func(name string, s Space, a Action, mask []bool) {
		t.Helper()
		if err := CheckAction(s, a, mask); !errors.Is(err, ErrInvalidAction) {
			t.Errorf("%s: err = %v, want ErrInvalidAction", name, err)
		}
	}
	d := Space{Kind: Discrete, N: 3}
	accept("index 0", d, Action{Index: 0}, nil)
	accept("index N-1", d, Action{Index: 2}, nil)
	reject("index -1", d, Action{Index: -1}, nil)
	reject("index N", d, Action{Index: 3}, nil)
	reject("masked index 0", d, Action{Index: 0}, []bool{false, true, true})

	box := Space{Kind: Box, N: 2}
	accept("box ±3.4e38", box, Action{Values: []float32{3.4e38, -3.4e38}}, nil)
	accept("box negative", box, Action{Values: []float32{-1, 0}}, nil)
	reject("box +Inf", box, Action{Values: []float32{0, float32(math.Inf(1))}}, nil)
	reject("box -Inf", box, Action{Values: []float32{float32(math.Inf(-1)), 0}}, nil)
	reject("box NaN", box, Action{Values: []float32{float32(math.NaN()), 0}}, nil)
	reject("box short", box, Action{Values: []float32{0}}, nil)

	s := Space{Kind: Simplex, N: 2}
	accept("simplex with a zero ratio", s, Action{Values: []float32{0, 1}}, nil)
	reject("simplex -0.001 ratio", s, Action{Values: []float32{-0.001, 1}}, nil)
	// Split 1 − 1e-3 and 1 + 1e-3 (as float64) exactly into three
	// non-negative float32 ratios: the sums are then exactly at the
	// tolerance's edges, which are inside it.
	for _, target := range []float64{1 - 1e-3, 1 + 1e-3} {
		parts := splitExact(target)
		var sum float64
		for _, p := range parts {
			if p < 0 {
				t.Fatalf("split of %v has a negative part %v", target, p)
			}
			sum += float64(p)
		}
		if sum != target {
			t.Fatalf("split of %v sums to %v", target, sum)
		}
		three := Space{Kind: Simplex, N: 3}
		accept("simplex summing to exactly the tolerance edge", three, Action{Values: parts}, nil)
		// One float32 ulp of the middle part (≈ 2^-48) further out is
		// outside the tolerance.
		out := append([]float32(nil), parts...)
		out[1] = math.Nextafter32(out[1], float32(math.Copysign(1, target-1)))
		reject("simplex sum just outside the tolerance", three, Action{Values: out}, nil)
	}
	reject("simplex sum 1.0011", s, Action{Values: []float32{0.5011, 0.5}}, nil)
	reject("simplex sum 0.9989", s, Action{Values: []float32{0.4989, 0.5}}, nil)

	ds := Space{Kind: DiscreteSimplex, N: 3, M: 2}
	accept("discrete+simplex", ds, Action{Index: 2, Values: []float32{0.25, 0.75}}, []bool{true, false, true})
	reject("discrete+simplex bad index", ds, Action{Index: 3, Values: []float32{0.25, 0.75}}, nil)
	reject("discrete+simplex masked", ds, Action{Index: 1, Values: []float32{0.25, 0.75}}, []bool{true, false, true})
	reject("discrete+simplex bad split", ds, Action{Index: 0, Values: []float32{0.5, 0.75}}, nil)
	reject("discrete+simplex wrong split length", ds, Action{Index: 0, Values: []float32{1}}, nil)
	reject("unknown kind", Space{Kind: SpaceKind(9), N: 1}, Action{}, nil)
}

// splitExact returns three non-negative float32 values whose float64 sum,
// accumulated in order, is exactly x (x in (0.5, 2)): the largest float32
// not above x, then the same for the remainder, then the rest, which fits
// a float32 exactly (53 − 2·24 = 5 bits).
func splitExact(x float64) []float32 {
	down := func(v float64) float32 {
		f := float32(v)
		if float64(f) > v {
			f = math.Nextafter32(f, 0)
		}
		return f
	}
	hi := down(x)
	mid := down(x - float64(hi))
	lo := float32(x - float64(hi) - float64(mid))
	return []float32{hi, mid, lo}
}

func TestSpaceKindString(t *testing.T) {
	for k, want := range map[SpaceKind]string{Discrete: "discrete", Box: "box", Simplex: "simplex", DiscreteSimplex: "discrete+simplex", SpaceKind(7): "SpaceKind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

// TestReplayBoundaries checks the edges of Replay's preconditions: capacity
// 1 is valid and 0 is not, At accepts exactly [0, Len()), Restore accepts a
// full buffer at positions [0, Cap()) and a partial one only at Len(),
// Sample accepts a batch of 0.
func TestReplayBoundaries(t *testing.T) {
	mustPanic(t, "NewReplay(0)", func() { NewReplay[int](0) })
	one := NewReplay[int](1)
	one.Add(1, Action{}, 1, 2, false)
	one.Add(3, Action{}, 3, 4, true)
	if one.Len() != 1 || one.Pos() != 0 || one.At(0).Obs != 3 {
		t.Fatalf("capacity-1 buffer: len %d pos %d slot %+v", one.Len(), one.Pos(), one.At(0))
	}

	r := NewReplay[int](3)
	mustPanic(t, "Sample from an empty buffer", func() { r.Sample(rand.New(rand.NewPCG(1, 1)), 1, &ReplayBatch[int]{}) })
	for i := 0; i < 2; i++ {
		r.Add(10+i, Action{Index: i}, float64(i), 20+i, false)
	}
	mustPanic(t, "At(-1)", func() { r.At(-1) })
	mustPanic(t, "At(Len())", func() { r.At(2) })
	if r.At(0).Obs != 10 || r.At(1).Obs != 11 {
		t.Fatalf("slots %+v %+v", r.At(0), r.At(1))
	}
	var b ReplayBatch[int]
	r.Sample(rand.New(rand.NewPCG(1, 1)), 0, &b)
	if b.Len() != 0 || len(b.Obs) != 0 || len(b.Rewards) != 0 {
		t.Fatalf("empty sample has %d rows", b.Len())
	}
	mustPanic(t, "Sample(-1)", func() { r.Sample(rand.New(rand.NewPCG(1, 1)), -1, &b) })

	full := []Transition[int]{{Obs: 1, NextObs: 2, Reward: 1}, {Obs: 3, NextObs: 4, Reward: 2}, {Obs: 5, NextObs: 6, Reward: 3, Terminated: true}}
	for _, pos := range []int{0, 2} {
		s := NewReplay[int](3)
		if err := s.Restore(full, pos); err != nil {
			t.Fatalf("full restore at %d: %v", pos, err)
		}
		if s.Len() != 3 || s.Pos() != pos {
			t.Fatalf("full restore at %d: len %d pos %d", pos, s.Len(), s.Pos())
		}
		s.Add(7, Action{}, 4, 8, false) // overwrites slot pos
		if s.At(pos).Obs != 7 || s.Pos() != (pos+1)%3 {
			t.Fatalf("after restore at %d the next Add went to pos %d", pos, s.Pos())
		}
	}
	for _, pos := range []int{-1, 3} {
		if err := NewReplay[int](3).Restore(full, pos); err == nil {
			t.Errorf("full restore accepted position %d", pos)
		}
	}
	// A partial restore into a full buffer: Len 2, next write at slot 2,
	// and slot 2 is not readable until written.
	p := NewReplay[int](3)
	for i := 0; i < 4; i++ {
		p.Add(100+i, Action{}, 0, 0, true)
	}
	if err := p.Restore(full[:2], 2); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 || p.Pos() != 2 {
		t.Fatalf("partial restore: len %d pos %d, want 2 and 2", p.Len(), p.Pos())
	}
	for i := 0; i < 2; i++ {
		if got := p.At(i); got.Obs != full[i].Obs || got.NextObs != full[i].NextObs || got.Reward != full[i].Reward || got.Terminated != full[i].Terminated {
			t.Fatalf("slot %d = %+v, want %+v", i, got, full[i])
		}
	}
	mustPanic(t, "At(2) after a partial restore", func() { p.At(2) })
	if err := p.Restore(full[:2], 1); err == nil {
		t.Error("partial restore accepted position 1 with 2 slots")
	}
}

// TestNormalizeAdvantagesEdges: two values are normalised (the smallest
// batch that is), and the 1e-8 added to the standard deviation matters for
// a tiny spread. For x = (1, 3): mean 2, unbiased sd √((1+1)/1) = √2, so
// x ↦ ∓1/(√2 + 1e-8). For x = (1, 1 + 2^-23): mean 1 + 2^-24, deviations
// ∓d with d = 2^-24, sd = √(2d²) = √2·d, so x ↦ ∓d/(√2·d + 1e-8) =
// ∓1/(√2 + 1e-8/d) = ∓1/(1.41421356 + 0.16777216) = ∓0.6321168
// (with the 1e-8 subtracted it would be ∓0.80228).
func TestNormalizeAdvantagesEdges(t *testing.T) {
	x := []float32{1, 3}
	NormalizeAdvantages(x)
	if w := 1 / (math.Sqrt2 + 1e-8); math.Abs(float64(x[0])+w) > 1e-6 || math.Abs(float64(x[1])-w) > 1e-6 {
		t.Errorf("normalised (1, 3) = %v, want ∓%v", x, w)
	}
	d := math.Ldexp(1, -24)
	tiny := []float32{1, float32(1 + 2*d)}
	NormalizeAdvantages(tiny)
	w := 1 / (math.Sqrt2 + 1e-8/d)
	if math.Abs(w-0.6321168) > 1e-6 {
		t.Fatalf("hand value %v", w)
	}
	if math.Abs(float64(tiny[0])+w) > 1e-5 || math.Abs(float64(tiny[1])-w) > 1e-5 {
		t.Errorf("normalised (1, 1+2^-23) = %v, want ∓%v", tiny, w)
	}
}
