package cpn

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envtest"
)

var (
	netMu    sync.Mutex
	netCache = map[string]*Network{}
)

// testNetwork returns the network of topology name with cfg's other
// settings (cached per name+mix), skipping when CPNTRAIN_DATA is unset.
func testNetwork(t testing.TB, mod func(*Config)) *Network {
	t.Helper()
	dir := os.Getenv("CPNTRAIN_DATA")
	if dir == "" {
		t.Skip("CPNTRAIN_DATA is not set: the simulator reads the topologies, AbileneTM and the NAS-Bench-201 latencies")
	}
	cfg := DefaultConfig()
	cfg.DataDir = dir
	if mod != nil {
		mod(&cfg)
	}
	key := cfg.Topology + "/" + string(cfg.Mix) + "/" + string(rune('0'+cfg.K)) + string(rune('0'+cfg.P))
	netMu.Lock()
	defer netMu.Unlock()
	if n, ok := netCache[key]; ok && n.Cfg == cfg {
		return n
	}
	n, err := NewNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	netCache[key] = n
	return n
}

func TestEnvConformance(t *testing.T) {
	for _, topo := range []string{"abilene", "waxman"} {
		n := testNetwork(t, func(c *Config) { c.Topology, c.Tasks = topo, 30 })
		envtest.Check(t, func() rl.Env[Obs] { return NewEnv(n) }, envtest.Options{Episodes: 2})
	}
}

func TestAbilenePlacement(t *testing.T) {
	n := testNetwork(t, nil)
	if len(n.APs) != 2 || len(n.Compute) != 10 {
		t.Fatalf("Abilene: %d access points, %d compute nodes; the paper has 2 and 10", len(n.APs), len(n.Compute))
	}
	var count [numClasses]int
	for _, c := range n.Compute {
		count[c.Class]++
	}
	if count[CPU] != 5 || count[GPU] != 5 {
		t.Fatalf("Abilene devices %v, want 5 CPUs and 5 GPUs", count)
	}
}

// TestOutcomeDecomposition: latency = transfer + wait + compute, the
// compute part is the measured latency, and Evaluate matches Step.
func TestOutcomeDecomposition(t *testing.T) {
	n := testNetwork(t, nil)
	e := NewEnv(n)
	if _, err := e.Reset(3); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 50; k++ {
		a := rl.Action{Index: k % n.Cfg.K, Values: e.ECMP(k % n.Cfg.K)}
		c := e.Candidates()[a.Index]
		want := n.Latency(c, e.Task())
		out, err := e.Evaluate(a)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(out.ComputeMs-want) > 1e-9 || math.Abs(out.LatencyMs-(out.TransferMs+out.WaitMs+out.ComputeMs)) > 1e-9 {
			t.Fatalf("outcome %+v, measured compute %v ms", out, want)
		}
		if out.TransferMs <= 0 {
			t.Fatalf("transfer %v ms: the data must travel", out.TransferMs)
		}
		s, err := e.Step(a)
		if err != nil {
			t.Fatal(err)
		}
		if s.Info["latency_ms"] != out.LatencyMs || s.Reward != -out.LatencyMs/n.Cfg.RewardScale {
			t.Fatalf("Step latency %v, Evaluate %v", s.Info["latency_ms"], out.LatencyMs)
		}
		if s.Done() {
			break
		}
	}
}

// TestDecisionsChangeTheNetwork: a big transfer leaves less bandwidth and
// the next task (tasks in flight consume bandwidth).
func TestDecisionsChangeTheNetwork(t *testing.T) {
	n := testNetwork(t, func(c *Config) { c.Mix = IOHeavy })
	a, b := NewEnv(n), NewEnv(n)
	a.Reset(11)
	b.Reset(11)
	// Find a 10 MB task (a third of the io mix's tasks are; 200 steps
	// without one means the task draw is broken).
	for i := 0; a.Task().Bytes < 1e7; i++ {
		act := rl.Action{Index: 0, Values: a.ECMP(0)}
		_, err1 := a.Step(act)
		_, err2 := b.Step(act)
		if err1 != nil || err2 != nil || i == 200 {
			t.Fatalf("looking for a 10 MB task, step %d: %v, %v", i, err1, err2)
		}
	}
	act := rl.Action{Index: 0, Values: a.ECMP(0)}
	before, _ := a.Evaluate(act)
	a.outcome(0, act.Values, true) // commit the task without moving on
	after, _ := a.Evaluate(act)
	if !(after.TransferMs > 1.2*before.TransferMs) {
		t.Fatalf("the same decision right after a committed 10 MB transfer: %+v, before %+v", after, before)
	}
}

// TestOracleBeatsBaselines: per task, on the same state, the oracle is at
// least as fast as every heuristic (up to its grid).
func TestOracleBeatsBaselines(t *testing.T) {
	n := testNetwork(t, nil)
	e := NewEnv(n)
	e.Reset(5)
	for k := 0; k < 40; k++ {
		o, err := e.Oracle(20)
		if err != nil {
			t.Fatal(err)
		}
		ob, _ := e.Evaluate(o)
		for _, name := range []string{"base1", "base2", "base3", "base4"} {
			a, err := Baselines[name](e)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Evaluate(a)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if out.LatencyMs < ob.LatencyMs*(1-0.02) {
				t.Fatalf("task %d: %s %.3f ms beats the oracle %.3f ms by more than its grid allows", k, name, out.LatencyMs, ob.LatencyMs)
			}
		}
		if s, _ := e.Step(o); s.Done() {
			break
		}
	}
}

// TestCandidates: the K nearest nodes of the predicted-fastest class.
func TestCandidates(t *testing.T) {
	n := testNetwork(t, nil)
	e := NewEnv(n)
	e.Reset(8)
	for k := 0; k < 30; k++ {
		cl := n.fastestClass(e.Task())
		h, _ := n.nearest(n.APs[e.Task().AP])
		cands := e.Candidates()
		if len(cands) != n.Cfg.K {
			t.Fatalf("%d candidates, want %d", len(cands), n.Cfg.K)
		}
		for i, c := range cands {
			if n.Compute[c].Class != cl {
				t.Fatalf("candidate %d is a %v, the task's fastest class is %v", i, n.Compute[c].Class, cl)
			}
			if i > 0 && h[n.Compute[c].Node] < h[n.Compute[cands[i-1]].Node] {
				t.Fatalf("candidates not ordered by hop count")
			}
		}
		e.Step(rl.Action{Index: 0, Values: e.ECMP(0)})
	}
}

// TestAllTopologies builds every real topology's network.
func TestAllTopologies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Kdl (754 nodes)")
	}
	for _, topo := range []string{"ebone", "sprintlink", "tiscali", "uscarrier", "kdl"} {
		n := testNetwork(t, func(c *Config) { c.Topology = topo })
		e := NewEnv(n)
		if _, err := e.Reset(1); err != nil {
			t.Fatal(err)
		}
		var lat float64
		for k := 0; k < 20; k++ {
			a, err := Baselines["base1"](e)
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.Step(a)
			if err != nil {
				t.Fatal(err)
			}
			lat += s.Info["latency_ms"]
		}
		t.Logf("%s: %d nodes, %d APs, %d compute, base1 mean latency %.2f ms", topo, n.G.N, len(n.APs), len(n.Compute), lat/20)
	}
}

// TestMinSplit: a ratio below MinSplit carries nothing — the decision
// costs what the same split without that path costs.
func TestMinSplit(t *testing.T) {
	n := testNetwork(t, func(c *Config) { c.Mix = IOHeavy })
	e := NewEnv(n)
	e.Reset(3)
	checked := 0
	for k := 0; k < 50; k++ {
		ps := e.psets[0]
		if ps.orig[1] == 1 {
			tiny, _ := e.Evaluate(rl.Action{Index: 0, Values: []float32{0.99, 0.01, 0}})
			none, _ := e.Evaluate(rl.Action{Index: 0, Values: []float32{1, 0, 0}})
			used, _ := e.Evaluate(rl.Action{Index: 0, Values: []float32{0.95, 0.05, 0}})
			if tiny != none {
				t.Fatalf("task %d: a 1 %% ratio changed the outcome: %+v vs %+v", k, tiny, none)
			}
			if used == none {
				t.Fatalf("task %d: a 5 %% ratio changed nothing: %+v", k, used)
			}
			checked++
		}
		e.Step(rl.Action{Index: 0, Values: e.ECMP(0)})
	}
	if checked == 0 {
		t.Fatal("no candidate with two distinct paths")
	}
}

// TestRepeatedPathRows: on Ebone with P = 6 (candidates with fewer
// loop-free paths repeat one), a repeated row holds the measurements of
// the path it repeats and no shares, and is masked; a distinct row's shares
// sum to 1 over the candidate.
func TestRepeatedPathRows(t *testing.T) {
	n := testNetwork(t, func(c *Config) { c.Topology, c.P = "ebone", 6 })
	e := NewEnv(n)
	e.Reset(5)
	P, repeated := n.Cfg.P, 0
	for k := 0; k < 30; k++ {
		o := e.Obs()
		for i := range e.Candidates() {
			var sums [5]float64
			for j, orig := range e.psets[i].orig {
				p := o.Paths[i*P+j]
				if orig == j {
					sums[0] += p.BandwidthShare
					sums[1] += p.SpeedShare
					sums[2] += float64(p.WaterFill)
					sums[3] += float64(p.SharedWaterFill)
					sums[4] += float64(p.Split)
					continue
				}
				repeated++
				want := o.Paths[i*P+orig]
				want.BandwidthShare, want.SpeedShare, want.WaterFill, want.SharedWaterFill, want.Split = 0, 0, 0, 0, 0
				if p != want || o.PathMask[i*P+j] {
					t.Fatalf("task %d, candidate %d, row %d repeats %d: %+v (mask %v), want %+v", k, i, j, orig, p, o.PathMask[i*P+j], want)
				}
			}
			for s, v := range sums {
				if math.Abs(v-1) > 1e-5 {
					t.Fatalf("task %d, candidate %d: share %d sums to %v", k, i, s, v)
				}
			}
		}
		e.Step(rl.Action{Index: 0, Values: e.ECMP(0)})
	}
	if repeated == 0 {
		t.Fatal("no repeated path row")
	}
}

// TestOverlap: Obs.Overlap marks exactly the pairs of a candidate's
// distinct paths that share a link, and the shared-path features agree.
func TestOverlap(t *testing.T) {
	n := testNetwork(t, func(c *Config) { c.Topology = "ebone" })
	e := NewEnv(n)
	e.Reset(4)
	P := n.Cfg.P
	found := false
	for k := 0; k < 50; k++ {
		o := e.Obs()
		for i := range e.Candidates() {
			ps := e.psets[i]
			for j := 0; j < P; j++ {
				any := false
				for q := 0; q < P; q++ {
					share := false
					if j != q && ps.orig[j] == j && ps.orig[q] == q {
						for _, l := range ps.links[j] {
							share = share || slices.Contains(ps.links[q], l)
						}
					}
					if o.Overlap[(i*P+j)*P+q] != share {
						t.Fatalf("task %d, candidate %d: overlap of paths %d and %d is %v, want %v", k, i, j, q, !share, share)
					}
					any = any || share
				}
				found = found || any
				if sh := o.Paths[i*P+j].SharedLinks; ps.orig[j] == j && (sh > 0) != any {
					t.Fatalf("task %d, candidate %d, path %d: shared-link feature %v, overlaps %v", k, i, j, sh, any)
				}
			}
		}
		e.Step(rl.Action{Index: 0, Values: e.ECMP(0)})
	}
	if !found {
		t.Fatal("no overlapping paths on Ebone")
	}
}

// TestLookahead: with no horizon the lookahead oracle decides as the
// myopic oracle; with a horizon it leaves the environment as it found it
// (byte-identical snapshots), and its decision's latency plus the next
// tasks' (the same rollout) is never above that of the myopic oracle's
// decision, which is one of the actions it scores.
func TestLookahead(t *testing.T) {
	net := testNetwork(t, nil)
	e := NewEnv(net)
	if _, err := e.Reset(21); err != nil {
		t.Fatal(err)
	}
	total := func(a rl.Action) float64 {
		snap, _ := e.Snapshot()
		sim := NewEnv(net)
		if _, err := sim.Restore(snap); err != nil {
			t.Fatal(err)
		}
		st, _ := sim.Step(a)
		s := st.Info["latency_ms"]
		for h := 0; h < 4 && !st.Truncated; h++ {
			ra, _ := sim.Oracle(10)
			st, _ = sim.Step(ra)
			s += st.Info["latency_ms"]
		}
		return s
	}
	for i := 0; i < 12; i++ {
		my, err := e.Oracle(20)
		if err != nil {
			t.Fatal(err)
		}
		la0, _ := e.Lookahead(0, 20, 10)
		if !reflect.DeepEqual(my, la0) {
			t.Fatalf("task %d: horizon 0 chose %v, the oracle %v", i, la0, my)
		}
		before, _ := e.Snapshot()
		la, err := e.Lookahead(4, 20, 10)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := e.Snapshot()
		if !bytes.Equal(before, after) {
			t.Fatalf("task %d: Lookahead changed the environment", i)
		}
		if tl, tm := total(la), total(my); tl > tm+1e-9 {
			t.Fatalf("task %d: lookahead's total %v above the myopic decision's %v", i, tl, tm)
		}
		if _, err := e.Step(la); err != nil {
			t.Fatal(err)
		}
	}
}
