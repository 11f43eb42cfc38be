package spark

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl"
)

// runPolicy plays p from o to the end of the episode and returns the
// final Info.
func runPolicy(t *testing.T, e *Env, o Obs, p rl.Policy[Obs]) map[string]float64 {
	t.Helper()
	var info map[string]float64
	for !o.Done {
		act, err := p.Decide(o)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Step(act)
		if err != nil {
			t.Fatal(err)
		}
		o, info = s.Obs, s.Info
	}
	return info
}

// TestHeuristicsByHand: two one-stage jobs of 4 tasks (fresh 1,000 ms,
// rest wave 500 ms) at t = 0 on 2 executors.
//
//	FIFO: both executors to job 0: moving to 2000, fresh to 3000, the
//	      rest wave to 3500 (job 0 done); both move to job 1 (5500),
//	      fresh to 6500, rest to 7000: mean (3500 + 7000)/2 = 5250 ms.
//	fair: a share of ⌈2/2⌉ = 1 each: one executor per job: 2000, 3000,
//	      then three rest-wave tasks each: 4500 for both: mean 4500 ms.
func TestHeuristicsByHand(t *testing.T) {
	st := mkStage(4, 1000, 800, 500)
	a := mkJob("a", []tpch.Stage{st}, nil)
	b := mkJob("b", []tpch.Stage{st}, nil)
	for name, c := range map[string]struct {
		p    rl.Policy[Obs]
		mean float64
		jcts string
	}{"fifo": {FIFO(), 5.25, "[3.5 7]"}, "fair": {DynamicPartition(), 4.5, "[4.5 4.5]"}} {
		e, _ := handEnv(t, 2, a)
		o, err := e.ResetJobs([]*tpch.Job{a, b}, []float64{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		info := runPolicy(t, e, o, c.p)
		if !near(info["avg_jct_s"], c.mean) || info["jobs_done"] != 2 {
			t.Errorf("%s: %v, want a mean JCT of %v s", name, info, c.mean)
		}
		if got := fmt.Sprint(e.JCTs()); got != c.jcts {
			t.Errorf("%s: job completion times %s s, want %s", name, got, c.jcts)
		}
	}
}

// TestHeuristicsFinishRealBatches: on real 20-job batches every job
// completes under each heuristic, and fair sharing beats FIFO (Decima's
// Figure 9 ordering) on each of three batches.
func TestHeuristicsFinishRealBatches(t *testing.T) {
	l := library(t)
	for seed := uint64(1); seed <= 3; seed++ {
		jct := map[string]float64{}
		for name, mk := range map[string]func() rl.Policy[Obs]{"fifo": FIFO, "fair": DynamicPartition} {
			e, err := NewEnv(Batch(), l)
			if err != nil {
				t.Fatal(err)
			}
			o, _ := e.Reset(seed)
			p := mk()
			for !o.Done {
				a, _ := p.Decide(o)
				s, err := e.Step(a)
				if err != nil {
					t.Fatal(err)
				}
				o = s.Obs
				if s.Terminated {
					if s.Info["jobs_done"] != 20 {
						t.Errorf("seed %d %s: %v jobs done", seed, name, s.Info["jobs_done"])
					}
					jct[name] = s.Info["avg_jct_s"]
				}
			}
		}
		if !(jct["fair"] < jct["fifo"]) {
			t.Errorf("seed %d: fair %v s, FIFO %v s", seed, jct["fair"], jct["fifo"])
		}
	}
}

// TestSJFByHand: jobs a (4 tasks) and b (1 task), one executor. SJF
// runs b first (critical path 800 ms against 3,200): 2000 + 1000 = 3000;
// a then moves (5000), runs fresh (6000) and three rest-wave tasks:
// 7500; mean 5250 ms. FIFO runs a first: 4500, then b: 7500; mean 6000;
// so does weighted fair with α = 0 (fair: a share of ⌈1/2⌉ = 1, a first
// by arrival).
// The diamond's critical path: 900 + max(600, 350) + 100 = 1600 ms, its
// remaining work 1950.
func TestSJFByHand(t *testing.T) {
	a := mkJob("a", []tpch.Stage{mkStage(4, 1000, 800, 500)}, nil)
	b := mkJob("b", []tpch.Stage{mkStage(1, 1000, 800, 500)}, nil)
	for name, c := range map[string]struct {
		p    rl.Policy[Obs]
		mean float64
	}{"sjf": {SJF(), 5.25}, "fifo": {FIFO(), 6}, "wf α=0 (fair)": {WeightedFair(0, 0), 6}} {
		e, _ := handEnv(t, 1, a)
		o, _ := e.ResetJobs([]*tpch.Job{a, b}, []float64{0, 0})
		info := runPolicy(t, e, o, c.p)
		if !near(info["avg_jct_s"], c.mean) {
			t.Errorf("%s: mean JCT %v s, want %v", name, info["avg_jct_s"], c.mean)
		}
	}
	d := mkJob("diamond", []tpch.Stage{mkStage(1, 1000, 900, 900), mkStage(1, 700, 600, 600), mkStage(1, 400, 350, 350), mkStage(1, 200, 100, 100)},
		[][2]int{{0, 1}, {0, 2}, {1, 3}, {2, 3}})
	_, o := handEnv(t, 1, d)
	if cp, w := criticalPath(o, 0), remaining(o, 0); cp != 1600 || w != 1950 {
		t.Errorf("diamond: critical path %v, remaining work %v; want 1600, 1950", cp, w)
	}
}

// TestWeightedFairShares: jobs a (4 tasks) and b (12 tasks) of one stage
// whose mean task takes 800 ms arrive at t = 0 on 4 executors: remaining
// work 3,200 and 9,600 ms. The decisions at t = 0 place the free pool
// (job +executors committed):
//
//	α = 1:  shares ⌈4·3200/12800⌉ = 1 and ⌈4·9600/12800⌉ = 3: a+1, b+3.
//	α = −1: weights 1/3200 and 1/9600 (¾ and ¼ of their sum): shares 3
//	        and 1: a+3, b+1.
//	α = 1, cap 2: b's share 3 capped at 2: a+1, b+2; the last executor
//	        gets no decision (each stage is offered once per scheduling
//	        round, as in decima-sim) and waits.
//	α = 0:  equal shares of 2 (fair sharing): a+2, b+2.
func TestWeightedFairShares(t *testing.T) {
	a := mkJob("a", []tpch.Stage{mkStage(4, 1000, 800, 500)}, nil)
	b := mkJob("b", []tpch.Stage{mkStage(12, 1000, 800, 500)}, nil)
	for _, c := range []struct {
		alpha float64
		cap   int
		want  string
	}{
		{1, 0, "a+1 b+3"},
		{-1, 0, "a+3 b+1"},
		{1, 2, "a+1 b+2"},
		{0, 0, "a+2 b+2"},
	} {
		e, _ := handEnv(t, 4, a)
		o, err := e.ResetJobs([]*tpch.Job{a, b}, []float64{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		p := WeightedFair(c.alpha, c.cap)
		var got []string
		for o.Time == 0 && !o.Done {
			act, err := p.Decide(o)
			if err != nil {
				t.Fatal(err)
			}
			if act.Index == o.Void().Index {
				got = append(got, "void")
			} else {
				slot, limit := act.Index/4, act.Index%4+1
				k := o.Stages[slot].Job
				n := min(limit-o.Jobs[k].Executors, o.SourceExecs, uncovered(o, slot))
				got = append(got, fmt.Sprintf("%s+%d", o.Jobs[k].Name, n))
			}
			s, err := e.Step(act)
			if err != nil {
				t.Fatal(err)
			}
			o = s.Obs
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("α %v, cap %d: %s, want %s", c.alpha, c.cap, s, c.want)
		}
	}
}
