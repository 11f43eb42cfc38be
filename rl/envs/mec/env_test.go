package mec

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envtest"
)

func TestEnvConformance(t *testing.T) {
	envtest.Check(t, func() rl.Env[Obs] {
		e, err := NewEnv(DefaultConfig(6))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}, envtest.Options{})
}

// TestReturnIsMinusTheTotalCost: whatever the order of the decisions, an
// episode's rewards add up to minus the total cost of the vector it built
// (the partial costs telescope); decided tasks are masked, a second
// decision of one task is an error, and so is a step after the end.
func TestReturnIsMinusTheTotalCost(t *testing.T) {
	e, _ := NewEnv(DefaultConfig(8))
	rng := rand.New(rand.NewPCG(1, 2))
	for seed := uint64(1); seed <= 5; seed++ {
		o, err := e.Reset(seed)
		if err != nil {
			t.Fatal(err)
		}
		var ret float64
		for step := 0; ; step++ {
			var allowed []int
			for a, ok := range o.ActionMask() {
				if ok {
					allowed = append(allowed, a)
				}
			}
			if len(allowed) != 2*(8-step) {
				t.Fatalf("step %d: %d allowed actions, want %d", step, len(allowed), 2*(8-step))
			}
			a := allowed[rng.IntN(len(allowed))]
			s, err := e.Step(rl.Action{Index: a})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Step(rl.Action{Index: a}); !s.Terminated && !errors.Is(err, rl.ErrInvalidAction) {
				t.Fatalf("deciding task %d twice: %v", a/2, err)
			}
			ret += s.Reward
			o = s.Obs
			if s.Terminated {
				break
			}
		}
		v := make([]bool, 8)
		for n, d := range o.Decision {
			v[n] = d == Offloaded
		}
		want, _ := e.Set().Evaluate(v)
		if math.Abs(ret+want) > 1e-9*want {
			t.Fatalf("seed %d: return %v, want −%v", seed, ret, want)
		}
		if _, err := e.Step(rl.Action{Index: 0}); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Fatalf("step after the end: %v", err)
		}
	}
}

// TestGreedyKnownValues: on the hand system with two tasks (τ = 4 s) the
// greedy ordering first offloads task 0 (1.1 alone, below local's
// 1.6158 and task 1's equal 1.1 by index), then keeps task 1 local
// (1.1 + 1.6158 = 2.7158 < both offloaded, 2 × 1.4119): that is also the
// optimum. The other baselines by hand: all local 2 × 1.6158, all offload
// 2.8237.
func TestGreedyKnownValues(t *testing.T) {
	s := &Set{Cfg: handConfig(2), Tasks: []Task{handTask(4), handTask(4)}}
	fp := math.Cbrt(1e26)
	local := 0.5*1e9/fp + 0.5*5e-27*fp*fp*1e9
	up := 2 / math.Log2(3)
	shared := 0.5*(up+0.3) + 0.5*up
	g := s.Greedy()
	if !slices.Equal(g.Offload, []bool{true, false}) || !near(g.Cost, 1.1+local) {
		t.Errorf("greedy %v at %v, want [true false] at %v", g.Offload, g.Cost, 1.1+local)
	}
	if opt, _ := s.Exhaustive(); !near(opt.Cost, g.Cost) {
		t.Errorf("optimum %v, greedy %v", opt.Cost, g.Cost)
	}
	if c := s.AllLocal().Cost; !near(c, 2*local) {
		t.Errorf("all local %v, want %v", c, 2*local)
	}
	if c := s.AllOffload().Cost; !near(c, 2*shared) {
		t.Errorf("all offload %v, want %v", c, 2*shared)
	}
}

// TestBaselinesNeverBeatTheOptimum: on random sets, no baseline is below
// the exact optimum, and greedy is at least as good as all-local,
// all-offload and random on average.
func TestBaselinesNeverBeatTheOptimum(t *testing.T) {
	var sum [4]float64
	for seed := uint64(1); seed <= 20; seed++ {
		s, _ := NewSet(DefaultConfig(10), seed)
		opt, _ := s.Exhaustive()
		for i, b := range []Solution{s.Greedy(), s.AllLocal(), s.AllOffload(), s.Random(seed)} {
			if b.Cost < opt.Cost-1e-9*opt.Cost {
				t.Fatalf("seed %d: baseline %d at %v below the optimum %v", seed, i, b.Cost, opt.Cost)
			}
			sum[i] += b.Cost / opt.Cost
		}
	}
	if sum[0] > sum[1] || sum[0] > sum[2] || sum[0] > sum[3] {
		t.Errorf("mean normalised costs: greedy %.3f, all local %.3f, all offload %.3f, random %.3f", sum[0]/20, sum[1]/20, sum[2]/20, sum[3]/20)
	}
	t.Logf("mean normalised costs (optimum = 1), D = 10: greedy %.3f, all local %.3f, all offload %.3f, random %.3f", sum[0]/20, sum[1]/20, sum[2]/20, sum[3]/20)
}

// TestSnapshotRestore: an environment restored from a snapshot taken
// mid-episode continues with the same rewards and observations as the
// original; snapshots of another configuration or garbage are refused.
func TestSnapshotRestore(t *testing.T) {
	cfg := DefaultConfig(6)
	a, _ := NewEnv(cfg)
	if _, err := a.Snapshot(); err == nil {
		t.Error("a snapshot before Reset")
	}
	a.Reset(5)
	a.Step(rl.Action{Index: 3})
	a.Step(rl.Action{Index: 8})
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewEnv(cfg)
	ob, err := b.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ob.Decision, []int8{Undecided, Offloaded, Undecided, Undecided, Local, Undecided}) {
		t.Fatalf("restored decisions %v", ob.Decision)
	}
	for _, act := range []int{1, 5, 7, 10} {
		sa, erra := a.Step(rl.Action{Index: act})
		sb, errb := b.Step(rl.Action{Index: act})
		if erra != nil || errb != nil || sa.Reward != sb.Reward || sa.Terminated != sb.Terminated || !slices.Equal(sa.Obs.Decision, sb.Obs.Decision) {
			t.Fatalf("action %d: original %v %v, restored %v %v", act, sa, erra, sb, errb)
		}
	}
	other, _ := NewEnv(DefaultConfig(7))
	if _, err := other.Restore(snap); err == nil {
		t.Error("restored a 6-device snapshot into a 7-device environment")
	}
	if _, err := b.Restore([]byte("{")); err == nil {
		t.Error("restored garbage")
	}
	var m map[string]any
	json.Unmarshal(snap, &m)
	m["cost"] = m["cost"].(float64) + 1
	forged, _ := json.Marshal(m)
	if _, err := b.Restore(forged); err == nil {
		t.Error("restored a snapshot whose cost does not follow from its decisions")
	}
}

// FuzzRestore: any bytes given to Restore give an error or an environment
// that steps without panicking.
func FuzzRestore(f *testing.F) {
	e, _ := NewEnv(DefaultConfig(4))
	e.Reset(1)
	e.Step(rl.Action{Index: 1})
	snap, _ := e.Snapshot()
	f.Add(snap)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"decision":[5,5,5,5]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, _ := NewEnv(DefaultConfig(4))
		o, err := env.Restore(b)
		if err != nil {
			return
		}
		for _, allowed := range [][]bool{o.ActionMask()} {
			for a, ok := range allowed {
				if ok {
					if _, err := env.Step(rl.Action{Index: a}); err != nil && !errors.Is(err, rl.ErrEpisodeOver) {
						t.Fatalf("step %d after restore: %v", a, err)
					}
					return
				}
			}
		}
	})
}
