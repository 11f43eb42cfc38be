package spark

import (
	"math"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envtest"
)

// mkStage is a stage of `tasks` tasks measured at one executor count (5)
// with one duration each: fresh, first wave and rest wave (ms).
func mkStage(tasks int, fresh, first, rest float64) tpch.Stage {
	w := func(d float64) tpch.Waves { return tpch.Waves{Executors: []int{5}, Ms: [][]float64{{d}}} }
	return tpch.Stage{Tasks: tasks, FirstKey: 5, FirstWave: w(first), RestWave: w(rest), Fresh: w(fresh), FirstWaveClean: w(first), MeanMs: first}
}

// mkJob joins stages by edges (parent, child).
func mkJob(name string, stages []tpch.Stage, edges [][2]int) *tpch.Job {
	j := &tpch.Job{Name: name, Size: "2g", Query: 1, Stages: stages, Children: make([][]int, len(stages)), Parents: make([][]int, len(stages))}
	for _, e := range edges {
		j.Children[e[0]] = append(j.Children[e[0]], e[1])
		j.Parents[e[1]] = append(j.Parents[e[1]], e[0])
	}
	return j
}

// handEnv is a cluster of n executors with one data point (5: every
// duration is the one measured) and a 2,000 ms moving delay.
func handEnv(t *testing.T, n int, job *tpch.Job) (*Env, Obs) {
	t.Helper()
	cfg := Batch()
	cfg.Executors, cfg.DataPoints, cfg.Sizes, cfg.Queries, cfg.InitJobs = n, []int{5}, []string{"2g"}, 1, 1
	e, err := NewEnv(cfg, []*tpch.Job{job})
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.ResetJobs([]*tpch.Job{job}, []float64{0})
	if err != nil {
		t.Fatal(err)
	}
	return e, o
}

// play takes, at each decision, the stage picked by choose (a slot of
// o.Valid) with the cluster's size as the limit, and returns the
// decision times, the return and the final Info.
func play(t *testing.T, e *Env, o Obs, choose func(Obs) int) (times []float64, ret float64, info map[string]float64) {
	t.Helper()
	for !o.Done {
		times = append(times, o.Time)
		s, err := e.Step(o.Action(choose(o), e.Cfg.Executors))
		if err != nil {
			t.Fatal(err)
		}
		ret += s.Reward
		o = s.Obs
		if s.Terminated {
			info = s.Info
		}
	}
	return
}

func first(o Obs) int { return o.Valid[0] }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestChainByHand: stages 0 (2 tasks) → 1 (1 task), two executors in the
// free pool, a 2,000 ms moving delay.
//
//	t=0     decision: stage 0 (the only one offered), both executors
//	        committed; both move (2,000 ms).
//	t=2000  both arrive and start stage 0 fresh to the job: 1,000 ms each.
//	t=3000  the first ends; stage 0 has no task left to start: its 2
//	        executors are the source, decision: stage 1 (one task, so one
//	        executor); the other is committed to nothing. Stage 1 is not
//	        runnable yet (stage 0 runs): the executor waits in the job's
//	        pool (which detaches it from its last task).
//	t=3000  the second ends: stage 0 done, stage 1 runnable: the job's
//	        free executors are the source, decision: stage 1 again; the
//	        first executor starts it, fresh (detached): 300 ms.
//	t=3300  done: one job of 3.3 s; 3 decisions; return −3300/100000.
func TestChainByHand(t *testing.T) {
	job := mkJob("chain", []tpch.Stage{mkStage(2, 1000, 800, 500), mkStage(1, 300, 200, 100)}, [][2]int{{0, 1}})
	e, o := handEnv(t, 2, job)
	times, ret, info := play(t, e, o, first)
	if len(times) != 3 || times[0] != 0 || times[1] != 3000 || times[2] != 3000 {
		t.Errorf("decisions at %v, want 0, 3000, 3000", times)
	}
	if info["avg_jct_s"] != 3.3 || info["jobs_done"] != 1 || !near(ret, -0.033) {
		t.Errorf("info %v, return %v; want a 3.3 s job and −0.033", info, ret)
	}
}

// TestWavesByHand: one stage of 4 tasks on 2 executors: the first wave
// is fresh (1,000 ms from 2,000 after the move), the executors then run
// the remaining tasks of the same stage without a decision, from the rest
// wave (500 ms): done at 3,500 ms after one decision.
func TestWavesByHand(t *testing.T) {
	job := mkJob("waves", []tpch.Stage{mkStage(4, 1000, 800, 500)}, nil)
	e, o := handEnv(t, 2, job)
	times, _, info := play(t, e, o, first)
	if len(times) != 1 || info["avg_jct_s"] != 3.5 {
		t.Errorf("decisions at %v, info %v; want one decision and a 3.5 s job", times, info)
	}
}

// TestDiamondByHand: 0 → {1, 2} → 3, one task each, one executor. After
// stage 0 (fresh, 2,000 + 1,000) the executor is freed in the job (fresh
// again for the next stage); the stage chosen first runs fresh, the other
// then from the first wave (the executor stays attached to its stage),
// stage 3 fresh again (freed when the frontier changed):
//
//	stage 2 first: 3000 + 400 (fresh) + 600 (first wave of 1) + 200 = 4200
//	stage 1 first: 3000 + 700 (fresh) + 350 (first wave of 2) + 200 = 4250
//
// with decisions at 0, 3000, the end of the first branch, and 4000 or
// 4050.
func TestDiamondByHand(t *testing.T) {
	job := mkJob("diamond", []tpch.Stage{mkStage(1, 1000, 900, 900), mkStage(1, 700, 600, 600), mkStage(1, 400, 350, 350), mkStage(1, 200, 100, 100)},
		[][2]int{{0, 1}, {0, 2}, {1, 3}, {2, 3}})
	for _, c := range []struct {
		stage int
		jct   float64
		times []float64
	}{{2, 4.2, []float64{0, 3000, 3400, 4000}}, {1, 4.25, []float64{0, 3000, 3700, 4050}}} {
		e, o := handEnv(t, 1, job)
		times, _, info := play(t, e, o, func(o Obs) int {
			for _, s := range o.Valid {
				if o.Stages[s].Stage == c.stage {
					return s
				}
			}
			return o.Valid[0]
		})
		if !near(info["avg_jct_s"], c.jct) || len(times) != len(c.times) {
			t.Errorf("stage %d first: JCT %v s at decisions %v, want %v at %v", c.stage, info["avg_jct_s"], times, c.jct, c.times)
			continue
		}
		for i := range times {
			if times[i] != c.times[i] {
				t.Errorf("stage %d first: decisions at %v, want %v", c.stage, times, c.times)
			}
		}
	}
}

var (
	libOnce sync.Once
	lib     []*tpch.Job
	libErr  error
)

func library(t testing.TB) []*tpch.Job {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA is not set: skipping the tests on the TPC-H jobs")
	}
	libOnce.Do(func() { lib, libErr = tpch.LoadAll(root, nil) })
	if libErr != nil {
		t.Fatal(libErr)
	}
	return lib
}

// TestConformance: the rl conformance suite on small batches of real jobs.
func TestConformance(t *testing.T) {
	l := library(t)
	cfg := Batch()
	cfg.Executors, cfg.InitJobs, cfg.MaxJobs = 10, 3, 4
	envtest.Check(t, func() rl.Env[Obs] {
		e, err := NewEnv(cfg, l)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}, envtest.Options{Episodes: 3})
	// Streaming, with more jobs in the system than the action space holds.
	cfg = Continuous()
	cfg.Executors, cfg.InitJobs, cfg.StreamJobs, cfg.MeanGap, cfg.MaxJobs = 10, 2, 4, 5000, 2
	envtest.Check(t, func() rl.Env[Obs] {
		e, err := NewEnv(cfg, l)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}, envtest.Options{Episodes: 3})
}

// TestWarmupByHand: a stage measured without fresh durations: an
// executor new to the job runs its first-wave duration plus the 1,000 ms
// warm-up: 2,000 (move) + 800 + 1,000.
func TestWarmupByHand(t *testing.T) {
	st := mkStage(1, 0, 800, 500)
	st.Fresh.Ms[0] = nil
	e, o := handEnv(t, 1, mkJob("warm", []tpch.Stage{st}, nil))
	if _, _, info := play(t, e, o, first); info["avg_jct_s"] != 3.8 {
		t.Errorf("JCT %v s, want 3.8", info["avg_jct_s"])
	}
}

// TestExecutorKey: the data point for a job's executor count as
// decima-sim picks it: at or below the first point, the first; at a
// point, that one; above the last, the last; between l and r, l with
// probability (n − l)/(r − l) (decima-sim's draw: u uniform in 1…r−l,
// l when u ≤ n − l): 7 executors between 5 and 10 give 5 two times in
// five. A point the stage has no first wave for becomes its largest.
func TestExecutorKey(t *testing.T) {
	job := mkJob("k", []tpch.Stage{mkStage(1, 1, 1, 1)}, nil)
	e, _ := handEnv(t, 1, job)
	e.Cfg.DataPoints = []int{5, 10, 20}
	w := tpch.Waves{Executors: []int{5, 10, 20}, Ms: [][]float64{{1}, {1}, {1}}}
	st := &stage{spec: &tpch.Stage{FirstWaveClean: w}}
	for n, want := range map[int]int{1: 5, 5: 5, 10: 10, 20: 20, 50: 20} {
		if k := e.executorKey(st, n); k != want {
			t.Errorf("%d executors: key %d, want %d", n, k, want)
		}
	}
	low := 0
	for range 10000 {
		if e.executorKey(st, 7) == 5 {
			low++
		}
	}
	if low < 3800 || low > 4200 {
		t.Errorf("7 executors: key 5 in %d of 10,000 draws, want about 4,000", low)
	}
	st.spec.FirstWaveClean = tpch.Waves{Executors: []int{5, 10}, Ms: [][]float64{{1}, {1}}}
	if k := e.executorKey(st, 20); k != 10 {
		t.Errorf("no first wave at 20: key %d, want 10 (the largest)", k)
	}
}

// TestLimitsByHand: the executor limit counts what the job already holds.
// Stages 0 (2 tasks) and 1 (4 tasks), independent; 4 executors.
//
//	t=0     stage 0 with limit 2: 2 executors (the job holds none).
//	t=0     stage 1 with limit 3 (the least allowed: 2 already committed
//	        to the job + 1): 1 executor; the last one is committed to
//	        nothing (no stage left to offer).
//	2000    the three arrive; fresh tasks (1,000 ms) to 3000.
//	3000    stage 0's first executor ends: its stage has no task left,
//	        its 2 executors are the source; stage 1 with limit 2 (the job
//	        holds 3, 2 of them the source: 2 − 3 + 2 = 1 executor): it runs
//	        a first-wave task (800 ms: new to the stage, not to the job) to
//	        3800; the other waits in the job. Stage 1's own executor runs
//	        rest-wave tasks (500 ms) to 3500 and 4000.
//	4000    the job is done: 4.0 s.
func TestLimitsByHand(t *testing.T) {
	job := mkJob("limits", []tpch.Stage{mkStage(2, 1000, 800, 500), mkStage(4, 1000, 800, 500)}, nil)
	e, o := handEnv(t, 4, job)
	script := [][2]int{{0, 2}, {1, 3}, {1, 2}}
	var times []float64
	var info map[string]float64
	for i := 0; !o.Done; i++ {
		if i >= len(script) {
			t.Fatalf("decision %d at %v: the script has %d", i, o.Time, len(script))
		}
		times = append(times, o.Time)
		if i == 1 && o.Jobs[0].MinLimit != 3 {
			t.Errorf("second decision: least limit %d, want 3", o.Jobs[0].MinLimit)
		}
		s, err := e.Step(o.Action(script[i][0], script[i][1]))
		if err != nil {
			t.Fatal(err)
		}
		o, info = s.Obs, s.Info
	}
	if len(times) != 3 || times[1] != 0 || times[2] != 3000 || !near(info["avg_jct_s"], 4) {
		t.Errorf("decisions at %v, info %v; want 0, 0, 3000 and 4 s", times, info)
	}
}

// TestMaxTimeCuts: with MaxTime 100 s a stream ends at its first decision
// at or after 100 s, as a truncation (work is left), with no stage
// offered; the decisions before it are those of the uncut stream.
func TestMaxTimeCuts(t *testing.T) {
	l := library(t)
	cfg := Continuous()
	times := func(maxTime float64) (ts []float64, last rl.Step[Obs]) {
		c := cfg
		c.MaxTime = maxTime
		e, err := NewEnv(c, l)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := e.Reset(7)
		p := DynamicPartition()
		for !o.Done {
			ts = append(ts, o.Time)
			a, _ := p.Decide(o)
			s, err := e.Step(a)
			if err != nil {
				t.Fatal(err)
			}
			o, last = s.Obs, s
		}
		return ts, last
	}
	full, end := times(0)
	cut, last := times(100000)
	if !end.Terminated || end.Truncated {
		t.Fatalf("uncut stream ends terminated %v, truncated %v", end.Terminated, end.Truncated)
	}
	if !last.Truncated || last.Terminated || len(last.Obs.Valid) != 0 || last.Obs.Time < 100000 {
		t.Fatalf("cut stream ends terminated %v, truncated %v at %v ms with %d stages offered", last.Terminated, last.Truncated, last.Obs.Time, len(last.Obs.Valid))
	}
	if len(cut) == 0 || cut[len(cut)-1] >= 100000 || !slices.Equal(cut, full[:len(cut)]) || full[len(cut)] != last.Obs.Time {
		t.Errorf("cut stream decides at %v… (last %v), the uncut one at %v…", cut[:min(3, len(cut))], cut[len(cut)-1], full[:min(3, len(full))])
	}
	if last.Info["jobs_done"] >= 110 {
		t.Errorf("a 100 s cut finished every job: %v", last.Info)
	}
}
