package mec

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// enumerate is a second, independent exhaustive search: every vector built
// recursively as a []bool and costed by Evaluate (no tables, no bit
// masks, no workers); ties keep the first vector in the order where task
// 0 varies slowest... so it returns the cost and every optimal vector.
func enumerate(s *Set) (best float64, argmins [][]bool) {
	best = math.Inf(1)
	off := make([]bool, len(s.Tasks))
	var rec func(n int)
	rec = func(n int) {
		if n == len(off) {
			c, _ := s.Evaluate(off)
			switch {
			case c < best-1e-12*math.Abs(best):
				best, argmins = c, [][]bool{slices.Clone(off)}
			case math.Abs(c-best) <= 1e-12*math.Abs(best):
				argmins = append(argmins, slices.Clone(off))
			}
			return
		}
		for _, o := range []bool{false, true} {
			off[n] = o
			rec(n + 1)
		}
	}
	rec(0)
	return best, argmins
}

// TestExactMatchesEnumeration: on random task sets of 1–10 devices over
// 1–3 APs and three battery levels, Exact's cost equals the independent
// enumeration's and its vector is one of the enumeration's optima; the
// result is the same with 1 and 2 workers; coordinate descent is never
// below it.
func TestExactMatchesEnumeration(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		d := 1 + int(seed%10)
		cfg := DefaultConfig(d)
		cfg.APs = 1 + int(seed%3)
		if cfg.APs > d {
			cfg.APs = d
		}
		cfg.BatteryMin, cfg.BatteryMax = []float64{0.05, 0.4, 0.9}[seed%3], []float64{0.1, 0.6, 1}[seed%3]
		s, err := NewSet(cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		want, argmins := enumerate(s)
		prev := runtime.GOMAXPROCS(1)
		one, err1 := s.Exact()
		runtime.GOMAXPROCS(2)
		two, err2 := s.Exact()
		runtime.GOMAXPROCS(prev)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if math.Abs(one.Cost-want) > 1e-9*math.Abs(want) || !slices.ContainsFunc(argmins, func(v []bool) bool { return slices.Equal(v, one.Offload) }) {
			t.Fatalf("seed %d (D=%d): Exact %v at %v; enumeration %v at %v", seed, d, one.Cost, one.Offload, want, argmins)
		}
		if !slices.Equal(one.Offload, two.Offload) || one.Cost != two.Cost {
			t.Fatalf("seed %d: 1 worker %v, 2 workers %v", seed, one, two)
		}
		if got, _ := s.Evaluate(one.Offload); math.Abs(got-one.Cost) > 1e-9*math.Abs(got) {
			t.Fatalf("seed %d: reported cost %v, Evaluate %v", seed, one.Cost, got)
		}
		if cd := s.CoordinateDescent(4, seed); cd.Cost < one.Cost-1e-9*math.Abs(one.Cost) {
			t.Fatalf("seed %d: coordinate descent %v below the optimum %v", seed, cd.Cost, one.Cost)
		}
	}
	if _, err := (&Set{Cfg: DefaultConfig(25), Tasks: make([]Task, 25)}).Exact(); err == nil {
		t.Error("Exact accepted 25 devices")
	}
}

// TestOptimumIsNotTrivial: with the defaults at D = 12 on one AP the
// optimum offloads some tasks and keeps others (the shared channel and
// edge make all-offload worse), and no constraint is broken.
func TestOptimumIsNotTrivial(t *testing.T) {
	s, err := NewSet(DefaultConfig(12), 7)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := s.Exact()
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, o := range opt.Offload {
		if o {
			k++
		}
	}
	_, out := s.Evaluate(opt.Offload)
	for n, o := range out {
		if !o.OK {
			t.Errorf("task %d breaks a constraint in the optimum", n)
		}
	}
	if k == 0 || k == 12 {
		t.Errorf("the optimum offloads %d of 12 tasks: the defaults make a trivial problem", k)
	}
	t.Logf("optimum offloads %d of 12, cost %.4f", k, opt.Cost)
}
