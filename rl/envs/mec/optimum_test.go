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
		one, err1 := s.Exhaustive()
		runtime.GOMAXPROCS(2)
		two, err2 := s.Exhaustive()
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
		opt := s.Optimal()
		if math.Abs(opt.Cost-want) > 1e-9*math.Abs(want) || !slices.ContainsFunc(argmins, func(v []bool) bool { return slices.Equal(v, opt.Offload) }) {
			t.Fatalf("seed %d (D=%d, %d APs): Optimal %v at %v; enumeration %v at %v", seed, d, cfg.APs, opt.Cost, opt.Offload, want, argmins)
		}
		if cd := s.CoordinateDescent(4, seed); cd.Cost < one.Cost-1e-9*math.Abs(one.Cost) {
			t.Fatalf("seed %d: coordinate descent %v below the optimum %v", seed, cd.Cost, one.Cost)
		}
	}
	if _, err := (&Set{Cfg: DefaultConfig(25), Tasks: make([]Task, 25)}).Exhaustive(); err == nil {
		t.Error("Exhaustive accepted 25 devices")
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
	opt, err := s.Exhaustive()
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

// TestOptimalMatchesExhaustive: on larger sets (D = 12–18, 1–4 APs, low
// and full batteries, and a faster edge where most tasks offload) the
// polynomial Optimal finds the cost of the 2^D brute force; at D = 40,
// beyond brute force, it is never above coordinate descent or the greedy
// ordering.
func TestOptimalMatchesExhaustive(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		d := 12 + int(seed%7)
		cfg := DefaultConfig(d)
		cfg.APs = 1 + int(seed%4)
		if seed%3 == 0 {
			cfg.BatteryMin, cfg.BatteryMax = 0.05, 0.2
		}
		if seed%4 == 1 {
			cfg.EdgeCPU = 40e9
		}
		s, err := NewSet(cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := s.Exhaustive()
		if err != nil {
			t.Fatal(err)
		}
		opt := s.Optimal()
		if math.Abs(opt.Cost-ex.Cost) > 1e-9*math.Abs(ex.Cost) {
			t.Fatalf("seed %d (D=%d, %d APs): Optimal %v, Exhaustive %v", seed, d, cfg.APs, opt.Cost, ex.Cost)
		}
		if got, _ := s.Evaluate(opt.Offload); got != opt.Cost {
			t.Fatalf("seed %d: reported cost %v, Evaluate %v", seed, opt.Cost, got)
		}
		if c := s.Cost(opt.Offload); math.Abs(c-opt.Cost) > 1e-9*math.Abs(opt.Cost) {
			t.Fatalf("seed %d: Cost from the table %v, Evaluate %v", seed, c, opt.Cost)
		}
	}
	for _, aps := range []int{1, 3} {
		cfg := DefaultConfig(40)
		cfg.APs = aps
		s, err := NewSet(cfg, 99)
		if err != nil {
			t.Fatal(err)
		}
		opt := s.Optimal()
		if cd, g := s.CoordinateDescent(10, 99), s.Greedy(); opt.Cost > cd.Cost*(1+1e-12) || opt.Cost > g.Cost*(1+1e-12) {
			t.Errorf("D=40, %d APs: Optimal %v above coordinate descent %v or greedy %v", aps, opt.Cost, cd.Cost, g.Cost)
		}
	}
}

// TestTableMatchesOffload: the cost table (one power search per task and
// sharing, clipped per total) holds Offload's costs (one search per
// total) to 1e-9 relative, on sets with tight deadlines, low batteries
// and several APs, where the deadline's bound binds (raising the
// power to it is checked: without it the test fails).
func TestTableMatchesOffload(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		cfg := DefaultConfig(9)
		cfg.APs = 1 + int(seed%3)
		cfg.SlackMin, cfg.SlackMax = 1, 1.3
		if seed%2 == 0 {
			cfg.BatteryMin, cfg.BatteryMax = 0.0001, 0.001
		}
		s, _ := NewSet(cfg, seed)
		tb := s.table()
		for n := range s.Tasks {
			for m := range tb.offload[n] {
				for total := m + 1; total <= len(s.Tasks); total++ {
					want := s.Offload(n, m+1, total).Cost
					if got := tb.offload[n][m][total-1]; math.Abs(got-want) > 1e-9*math.Abs(want) {
						t.Fatalf("seed %d task %d m %d total %d: table %v, Offload %v", seed, n, m+1, total, got, want)
					}
				}
			}
		}
	}
}
