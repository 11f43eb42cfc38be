package spark

import (
	"testing"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl"
)

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
	}{"fifo": {FIFO(), 5.25}, "fair": {DynamicPartition(), 4.5}} {
		e, _ := handEnv(t, 2, a)
		o, err := e.ResetJobs([]*tpch.Job{a, b}, []float64{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		var info map[string]float64
		for !o.Done {
			act, _ := c.p.Decide(o)
			s, err := e.Step(act)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			o, info = s.Obs, s.Info
		}
		if !near(info["avg_jct_s"], c.mean) || info["jobs_done"] != 2 {
			t.Errorf("%s: %v, want a mean JCT of %v s", name, info, c.mean)
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
