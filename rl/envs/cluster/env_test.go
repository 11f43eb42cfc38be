package cluster

import (
	"errors"
	"math"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// tiny is one cluster of two 2-core nodes; type a needs 2 cores for 10 s,
// type b 1 core for 5 s (α 0.5, β 0.2, σ 0.3).
func tiny() Config {
	return Config{
		Clusters: []Cluster{{Name: "c", Nodes: 2, Node: Resources{CPU: 2, Mem: 100}}},
		TaskTypes: []TaskType{
			{Name: "a", Strategies: []Strategy{{Cluster: "c", Processor: "cpu", Demand: Resources{CPU: 2, Mem: 10}, Runtime: 10}}},
			{Name: "b", Strategies: []Strategy{{Cluster: "c", Processor: "cpu", Demand: Resources{CPU: 1}, Runtime: 5}}},
		},
		Queue:   Queue{Tasks: 3, Horizon: 10},
		Weights: Weights{Alpha: 0.5, Beta: 0.2, Sigma: 0.3},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func step(t *testing.T, e *Env, a int) rl.Step[Obs] {
	t.Helper()
	s, err := e.Step(rl.Action{Index: a})
	if err != nil {
		t.Fatalf("step %d: %v", a, err)
	}
	return s
}

// TestEpisodeByHand: three type-a tasks arriving at 0, 1, 2 on two nodes
// (actions: node n = n, wait = 2), by hand.
//
//	t=0: task 0 on node 0 (ends 10): m = 0, G = 0.5·10, H = 0, u = ½:
//	     R = 1/5 + 0.3·0.5 = 0.35.
//	t=1: task 1 on node 1 (ends 11): R = 1/5 + 0.3·1 = 0.5.
//	t=2: task 2 fits nowhere: it waits without a decision; the clock
//	     moves to 10 (task 0 ends); task 2 on node 0 after waiting 8 s
//	     (ends 20): m = 1 (run 10, wait 0), G = 0.5·(10 + 10) = 10,
//	     H = 0.2·(0 + 8) = 1.6, u = 1: R = 1 + 1/11.6 + 0.3.
//
// Completions 10, 10, 18 (mean 38/3); waits 0, 0, 8 (8/3); makespan 20;
// u = ½ on [0,1), 1 on [1,11), ½ on [11,20): 15/20 = 0.75.
func TestEpisodeByHand(t *testing.T) {
	e, err := NewEnv(tiny())
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.ResetQueue([]int{0, 0, 0}, []float64{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if e.ActionSpace().N != 3 || o.Time != 0 || !o.Mask[0] || !o.Mask[1] || !o.Mask[2] {
		t.Fatalf("start: %d actions, time %v, mask %v", e.ActionSpace().N, o.Time, o.Mask)
	}
	s := step(t, e, 0)
	if !near(s.Reward, 0.35) || s.Obs.Time != 1 || s.Obs.Mask[0] || !s.Obs.Mask[1] {
		t.Fatalf("after task 0: reward %v, time %v, mask %v", s.Reward, s.Obs.Time, s.Obs.Mask)
	}
	if _, err := e.Step(rl.Action{Index: 0}); !errors.Is(err, rl.ErrInvalidAction) {
		t.Fatalf("placing on a full node: %v", err)
	}
	s = step(t, e, 1)
	if !near(s.Reward, 0.5) || s.Obs.Time != 10 || s.Obs.TaskWait != 8 || !s.Obs.Mask[0] || s.Obs.Mask[1] || s.Obs.Running != 1 {
		t.Fatalf("after task 1: reward %v, time %v, task wait %v, mask %v, running %d", s.Reward, s.Obs.Time, s.Obs.TaskWait, s.Obs.Mask, s.Obs.Running)
	}
	s = step(t, e, 0)
	if !s.Terminated || !near(s.Reward, 1+1/11.6+0.3) {
		t.Fatalf("last: terminated %v, reward %v, want %v", s.Terminated, s.Reward, 1+1/11.6+0.3)
	}
	for k, want := range map[string]float64{"avg_completion_s": 38.0 / 3, "avg_wait_s": 8.0 / 3, "makespan_s": 20, "utilisation": 0.75} {
		if !near(s.Info[k], want) {
			t.Errorf("%s = %v, want %v", k, s.Info[k], want)
		}
	}
	if _, err := e.Step(rl.Action{Index: 0}); !errors.Is(err, rl.ErrEpisodeOver) {
		t.Errorf("step after the end: %v", err)
	}
}

// TestWaitPassesToTheNextTask: a task that waits does not block the ones
// behind it (the paper's cache queue), comes back first when the clock
// moves, and a task no node can take is not offered. Types a, b, a, b
// arrive at 0, 0, 1, 1 (a: 2 cores for 10 s, b: 1 core for 5 s; two
// 2-core nodes):
//
//	t=0: a on node 0 (to 10); b on node 1 (to 5).
//	t=1: a (task 2) fits nowhere: not offered; b (task 3) is: it waits
//	     (the scheduler's choice). Every waiting task passed: the clock
//	     moves to 5 (b ends): a fits node 1 (waited 4 s): there (to 15);
//	     b fits nowhere until 10 (a ends on node 0): there (to 15).
//
// Completions 10, 5, 14, 14; waits 0, 0, 4, 9; makespan 15. When nothing
// runs and nothing will arrive, waiting is not allowed.
func TestWaitPassesToTheNextTask(t *testing.T) {
	e, _ := NewEnv(tiny())
	if _, err := e.ResetQueue([]int{0, 1, 0, 1}, []float64{0, 0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	step(t, e, 0)
	s := step(t, e, 1)
	if s.Obs.Task != 1 || s.Obs.Time != 1 || s.Obs.Mask[0] || !s.Obs.Mask[1] || s.Obs.Waiting != 2 || len(s.Obs.Queue) != 1 || s.Obs.Queue[0] != (Queued{Type: 0, Wait: 0}) {
		t.Fatalf("at t=1: type %d at %v, mask %v, %d waiting, queue %v; want b, the waiting a listed", s.Obs.Task, s.Obs.Time, s.Obs.Mask, s.Obs.Waiting, s.Obs.Queue)
	}
	s = step(t, e, 2)
	if s.Obs.Task != 0 || s.Obs.Time != 5 || s.Obs.TaskWait != 4 || s.Obs.Mask[0] || !s.Obs.Mask[1] {
		t.Fatalf("after b waits: type %d at %v (waited %v), mask %v; want a at 5", s.Obs.Task, s.Obs.Time, s.Obs.TaskWait, s.Obs.Mask)
	}
	s = step(t, e, 1)
	if s.Obs.Task != 1 || s.Obs.Time != 10 || s.Obs.TaskWait != 9 || !s.Obs.Mask[0] || s.Obs.Mask[1] {
		t.Fatalf("after a: type %d at %v (waited %v), mask %v; want b at 10 on node 0", s.Obs.Task, s.Obs.Time, s.Obs.TaskWait, s.Obs.Mask)
	}
	s = step(t, e, 0)
	if !s.Terminated || !near(s.Info["avg_completion_s"], 43.0/4) || !near(s.Info["avg_wait_s"], 13.0/4) || s.Info["makespan_s"] != 15 {
		t.Fatalf("end: %v %v", s.Terminated, s.Info)
	}

	o, err := e.ResetQueue([]int{1}, []float64{3})
	if err != nil || o.Mask[2] || !o.Mask[0] || o.Time != 3 {
		t.Fatalf("one task: %v, mask %v, time %v (waiting must be masked when idle)", err, o.Mask, o.Time)
	}
}

// twoWays: one cluster "x" of one 2-core node and one "y" of two 4-core
// nodes; type f runs in 10 s on x (2 cores) or 30 s on y (1 core) — or, in
// slot 1 of y, 20 s with 4 cores. Actions: node 0 (x) slots 0–1 = 0, 1;
// node 1 (y) 2, 3; node 2 (y) 4, 5; wait 6.
func twoWays() Config {
	return Config{
		Clusters: []Cluster{{Name: "x", Nodes: 1, Node: Resources{CPU: 2}}, {Name: "y", Nodes: 2, Node: Resources{CPU: 4}}},
		TaskTypes: []TaskType{{Name: "f", Strategies: []Strategy{
			{Cluster: "y", Processor: "cpu", Demand: Resources{CPU: 1}, Runtime: 30},
			{Cluster: "x", Processor: "cpu", Demand: Resources{CPU: 2}, Runtime: 10},
			{Cluster: "y", Processor: "cpu", Demand: Resources{CPU: 4}, Runtime: 20},
		}}},
		Queue:   Queue{Tasks: 2, Horizon: 1},
		Weights: Weights{Alpha: 1},
	}
}

// TestHeuristicsByHand: on twoWays with node x busy, first-fit takes the
// first fitting slot (node 1, slot 0: 30 s), Fastest the 20 s slot on
// node 1, BestOrWait waits for x (10 s); with x free all three agree on
// x except first-fit's order (x is node 0, so it agrees too). Option maps
// slots to strategies in configuration order per cluster.
func TestHeuristicsByHand(t *testing.T) {
	e, err := NewEnv(twoWays())
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.ResetQueue([]int{0, 0}, []float64{0, 0})
	if e.ActionSpace().N != 7 || o.Option(0) != 1 || o.Option(1) != -1 || o.Option(2) != 0 || o.Option(3) != 2 || o.Option(6) != -1 {
		t.Fatalf("%d actions; options %d %d %d %d %d", e.ActionSpace().N, o.Option(0), o.Option(1), o.Option(2), o.Option(3), o.Option(6))
	}
	for name, p := range map[string]rl.Policy[Obs]{"first-fit": FirstFit(), "fastest": Fastest(), "best-or-wait": BestOrWait()} {
		if a, _ := p.Decide(o); a.Index != 0 {
			t.Errorf("%s with x free: action %d, want 0", name, a.Index)
		}
	}
	s := step(t, e, 0) // x busy for 10 s
	for name, want := range map[string]int{"first-fit": 2, "fastest": 3, "best-or-wait": 6} {
		p := map[string]rl.Policy[Obs]{"first-fit": FirstFit(), "fastest": Fastest(), "best-or-wait": BestOrWait()}[name]
		if a, _ := p.Decide(s.Obs); a.Index != want {
			t.Errorf("%s with x busy: action %d, want %d", name, a.Index, want)
		}
	}
}

// TestUtilisationByHand: u averages the allocated shares of the CPU
// cores and of the accelerator units (memory and disk do not count): one
// task of 1 of 4 cores and 1 of 2 accelerators (and most of the memory)
// gives u = (¼ + ½)/2 = 0.375, in its reward (α = σ = 0.5:
// 1/(0.5·10) + 0.5·0.375) and as the episode's time average.
func TestUtilisationByHand(t *testing.T) {
	c := Config{
		Clusters: []Cluster{{Name: "g", Nodes: 1, Node: Resources{CPU: 4, Mem: 100, Accel: 2, AccelMem: 10}, Processors: []string{"gpu"}}},
		TaskTypes: []TaskType{{Name: "ai", Strategies: []Strategy{
			{Cluster: "g", Processor: "gpu", Demand: Resources{CPU: 1, Mem: 90, Accel: 1, AccelMem: 9}, Runtime: 10}}}},
		Queue:   Queue{Tasks: 1, Horizon: 1},
		Weights: Weights{Alpha: 0.5, Sigma: 0.5},
	}
	e, err := NewEnv(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ResetQueue([]int{0}, []float64{0}); err != nil {
		t.Fatal(err)
	}
	s := step(t, e, 0)
	if !s.Terminated || !near(s.Reward, 0.2+0.5*0.375) || !near(s.Info["utilisation"], 0.375) {
		t.Fatalf("reward %v (want %v), utilisation %v (want 0.375)", s.Reward, 0.2+0.5*0.375, s.Info["utilisation"])
	}
}

// TestJCTReward: TestEpisodeByHand's episode under RewardJCT (scale 0.01):
// tasks in the system × time between decisions — 1 on [0,1); 2 on [1,2)
// and 3 on [2,10); then to the end 2 on [10,11) and 1 on [11,20): −0.01,
// −0.26, −0.11, summing to −0.01 × the 38 s of completion times.
func TestJCTReward(t *testing.T) {
	c := tiny()
	c.Reward, c.RewardScale = RewardJCT, 0.01
	e, _ := NewEnv(c)
	if _, err := e.ResetQueue([]int{0, 0, 0}, []float64{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		a    int
		want float64
	}{{0, -0.01}, {1, -0.26}, {0, -0.11}} {
		if s := step(t, e, c.a); !near(s.Reward, c.want) {
			t.Fatalf("step %d: reward %v, want %v", i, s.Reward, c.want)
		}
	}
}

// TestWaitBudget: with MaxWaits 1 the second wait is not allowed; the
// default JCT scale makes a queue's return minus its mean completion time
// over 100 s (TestEpisodeByHand's: −(38/3)/100).
func TestWaitBudget(t *testing.T) {
	c := tiny()
	c.MaxWaits, c.Reward = 1, RewardJCT
	e, _ := NewEnv(c)
	if _, err := e.ResetQueue([]int{1, 1, 1, 1}, []float64{0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	step(t, e, 0)      // task 0 runs: waiting becomes possible
	s := step(t, e, 2) // task 1 waits: passes to task 2, at the wait cost of 1 task-second
	if s.Obs.Mask[2] || !s.Obs.Mask[0] {
		t.Fatal("a second wait is allowed with MaxWaits 1")
	}
	if !near(s.Reward, -1.0/(100*4)) {
		t.Fatalf("a wait pays %v, want −1 task-second = %v", s.Reward, -1.0/(100*4))
	}
	e2, _ := NewEnv(c)
	e2.ResetQueue([]int{0, 0, 0}, []float64{0, 1, 2})
	ret := 0.0
	for _, a := range []int{0, 1, 0} {
		ret += step(t, e2, a).Reward
	}
	if !near(ret, -38.0/3/100) {
		t.Fatalf("return %v, want %v", ret, -38.0/3/100)
	}
}

// TestSwarmDecodeByHand: twoWays with two tasks waiting at t = 0 (α = 1):
// each task's placements in node order are x (10 s), y1 30 s, y1 20 s,
// y2 30 s, y2 20 s, then "defer" (fastest 10 s × (1 + 1)).
//
//	[x, x]:     10 + (x is full: deferred) 20 → 15, first x
//	[x, y1 30]: 10 + 30 → 20
//	[defer, x]: 20 + 10 → 15, first none
//
// With x busy and DeferCost 2 (a deferral costs 30 s) both searches place
// the one task on y's 20 s strategy (action 3); with x free, on x (0).
func TestSwarmDecodeByHand(t *testing.T) {
	e, _ := NewEnv(twoWays())
	o, _ := e.ResetQueue([]int{0, 0}, []float64{0, 0})
	b := newBatch(o, 8, 1)
	if len(b.types) != 2 || len(b.options[0]) != 5 || b.fastest[0] != 10 {
		t.Fatalf("batch %v, %d options, fastest %v", b.types, len(b.options[0]), b.fastest[0])
	}
	for _, c := range []struct {
		x     []float64
		fit   float64
		first [2]int
	}{{[]float64{0.5, 0.5}, 15, [2]int{0, 1}}, {[]float64{0.5, 1.5}, 20, [2]int{0, 1}}, {[]float64{5.5, 0.5}, 15, [2]int{-1, -1}}} {
		if f, first := b.decode(c.x); !near(f, c.fit) || first != c.first {
			t.Errorf("decode %v = %v, %v; want %v, %v", c.x, f, first, c.fit, c.first)
		}
	}
	cfg := DefaultSwarm()
	cfg.DeferCost = 2
	e, _ = NewEnv(twoWays())
	o, _ = e.ResetQueue([]int{0}, []float64{0})
	for name, p := range map[string]rl.Policy[Obs]{"pso": SigmoidPSO(cfg), "gwo": GWO(cfg)} {
		if a, _ := p.Decide(o); a.Index != 0 {
			t.Errorf("%s with x free: action %d, want 0", name, a.Index)
		}
	}
	e, _ = NewEnv(twoWays())
	o, _ = e.ResetQueue([]int{0, 0}, []float64{0, 0})
	s := step(t, e, 0)
	for name, p := range map[string]rl.Policy[Obs]{"pso": SigmoidPSO(cfg), "gwo": GWO(cfg)} {
		if a, _ := p.Decide(s.Obs); a.Index != 3 {
			t.Errorf("%s with x busy: action %d, want 3 (y's 20 s strategy)", name, a.Index)
		}
	}
}

// TestPaperRewardMeans: equation 17's means over finished tasks by hand,
// with finished tasks that waited. tiny(); a, a at 0 (nodes 0, 1 to 10);
// b at 1 fits nowhere until 10 (node 0 to 15, waited 9); b at 12 (node 1
// to 17); b at 16 (node 0, free since 15): m = 3 finished (runs 10, 10,
// 5; waits 0, 0, 9), G = 0.5·(25/3 + 5), H = 0.2·(9/3 + 0), u = 2 of 4
// cores: R = 3 + 1/(G + H) + 0.3·0.5.
func TestPaperRewardMeans(t *testing.T) {
	e, _ := NewEnv(tiny())
	if _, err := e.ResetQueue([]int{0, 0, 1, 1, 1}, []float64{0, 0, 1, 12, 16}); err != nil {
		t.Fatal(err)
	}
	step(t, e, 0)
	step(t, e, 1)
	s := step(t, e, 0) // task 2 at 10
	if s.Obs.Time != 12 {
		t.Fatalf("task 3 decided at %v, want 12", s.Obs.Time)
	}
	s = step(t, e, 1)
	if s.Obs.Time != 16 || s.Obs.Running != 1 {
		t.Fatalf("task 4 decided at %v with %d running, want 16 and 1", s.Obs.Time, s.Obs.Running)
	}
	s = step(t, e, 0)
	want := 3 + 1/(0.5*(25.0/3+5)+0.2*3) + 0.3*0.5
	if !s.Terminated || !near(s.Reward, want) {
		t.Fatalf("reward %v, want %v", s.Reward, want)
	}
}

// TestFastestSpreadByHand: two 4-core nodes, tasks of 1 core for 10 s.
// The first task goes to node 0 under both rules (a tie, the first);
// with node 0 at 3 of 4 cores free, Fastest packs the second on node 0
// (action 0), FastestSpread spreads it to node 1 (action 1).
func TestFastestSpreadByHand(t *testing.T) {
	c := Config{
		Clusters:  []Cluster{{Name: "y", Nodes: 2, Node: Resources{CPU: 4}}},
		TaskTypes: []TaskType{{Name: "f", Strategies: []Strategy{{Cluster: "y", Processor: "cpu", Demand: Resources{CPU: 1}, Runtime: 10}}}},
		Queue:     Queue{Tasks: 2, Horizon: 1}, Weights: Weights{Alpha: 1},
	}
	e, err := NewEnv(c)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.ResetQueue([]int{0, 0}, []float64{0, 0})
	if a, _ := FastestSpread().Decide(o); a.Index != 0 {
		t.Fatalf("first task: action %d, want 0", a.Index)
	}
	s := step(t, e, 0)
	for name, want := range map[string]int{"fastest": 0, "spread": 1} {
		p := Fastest()
		if name == "spread" {
			p = FastestSpread()
		}
		if a, _ := p.Decide(s.Obs); a.Index != want {
			t.Errorf("%s: action %d, want %d", name, a.Index, want)
		}
	}
}
