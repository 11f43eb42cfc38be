package cpn

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/topology"
	"github.com/cpntrain/cpntrain/rl"
)

// Hand-built networks: the simulator's formulas checked against latencies
// computed by hand (data size / bandwidth + propagation + queueing +
// waiting + compute), on networks of 2 to 5 nodes that need no data sets
// (these tests run under -short and without CPNTRAIN_DATA).
//
// Common settings (handNetwork): QueueBurst 62,500 bytes = 5e5 bits, so a
// link of capacity C at utilisation u queues 5e5/C · u/(1−u) seconds;
// MinShare 0.02; MinSplit 0.02; 2 probes of 125 bytes = 1,000 bits each;
// a constant background (one traffic interval).

// zeroSource is a random source that always returns 2³³: rand.Rand's
// ExpFloat64 then returns exactly 0 (its low 32 bits j = 0 are below
// ke[2], the ziggurat accepts x = j·we[2] = 0 at once), so the probes
// carry no noise and every observation feature can be computed by hand;
// IntN(n) returns 0 (⌊2³³·n/2⁶⁴⌋ = 0, accepted at once for n < 2³¹) and
// arrivals drawn by Step come at no interval.
type zeroSource struct{}

func (zeroSource) Uint64() uint64 { return 2 << 32 }

// flat returns a latency table giving every architecture ms per inference.
func flat(ms float32) []float32 {
	t := make([]float32, NumArchs)
	for i := range t {
		t[i] = ms
	}
	return t
}

// cpuNode is a compute node with a one-table device of ms per inference.
func cpuNode(node int, model string, ms float32) ComputeNode {
	return ComputeNode{Node: node, Class: CPU, Model: model, tab: [][]float32{flat(ms)}}
}

// gpuNode is a GPU at node with per-batch latencies b1, b32, b256 (ms per
// batch of 1, 32 and 256 images).
func gpuNode(node int, model string, b1, b32, b256 float32) ComputeNode {
	return ComputeNode{Node: node, Class: GPU, Model: model, tab: [][]float32{flat(b1), flat(b32), flat(b256)}}
}

// link is a directed link: capacity in bit/s, propagation delay in ms.
func link(from, to int, capacity, delayMs float64) topology.Link {
	return topology.Link{From: from, To: to, Capacity: capacity, Delay: delayMs / 1000, Weight: 1}
}

// handNetwork builds a Network by hand (no placement draw, no data): nodes
// graph nodes, the links, access points aps, the compute nodes and a
// constant background load per link (bit/s).
func handNetwork(t testing.TB, nodes int, links []topology.Link, aps []int, compute []ComputeNode, bg []float64, mod func(*Config)) *Network {
	t.Helper()
	g, err := topology.New("hand", make([]topology.Node, nodes), links)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Topology = "hand"
	cfg.K, cfg.P = len(compute), 1
	cfg.QueueBurst = 62500
	cfg.Probes, cfg.ProbeBytes = 2, 125
	cfg.MinShare, cfg.MinSplit = 0.02, 0.02
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(bg) != len(links) {
		t.Fatalf("%d background loads for %d links", len(bg), len(links))
	}
	n := &Network{Cfg: cfg, G: g, APs: aps, Compute: compute,
		bg:      &background{base: slices.Clone(bg), series: []float64{1}},
		lat:     &Latencies{per: map[string][][]float32{}},
		byClass: map[int]*[numClasses][]int{}, hops: map[int][]int{}, paths: map[[2]int]*pathSet{},
		finder: g.PathFinder(topology.DelayCost)}
	for _, c := range compute {
		n.lat.per[c.Model] = c.tab
		if !slices.Contains(n.models[c.Class], c.Model) {
			n.models[c.Class] = append(n.models[c.Class], c.Model)
		}
	}
	return n
}

// handEnv returns an environment on n, reset, with noise-free probes.
func handEnv(t testing.TB, n *Network) *Env {
	t.Helper()
	e := NewEnv(n)
	if _, err := e.Reset(1); err != nil {
		t.Fatal(err)
	}
	e.rng = rand.New(zeroSource{})
	return e
}

// near reports whether got is within 1e-9 (relative, or absolute near 0)
// of want.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// checkOutcome compares an outcome with hand-computed milliseconds.
func checkOutcome(t *testing.T, what string, got Outcome, node int, transfer, wait, compute float64) {
	t.Helper()
	if got.Node != node || !near(got.TransferMs, transfer) || !near(got.WaitMs, wait) || !near(got.ComputeMs, compute) ||
		!near(got.LatencyMs, transfer+wait+compute) {
		t.Errorf("%s: outcome %+v, want node %d, transfer %v + wait %v + compute %v = %v ms",
			what, got, node, transfer, wait, compute, transfer+wait+compute)
	}
}

// oneLink is AP 0 → compute node 1 over one link of 1 Gbit/s and 5 ms,
// the device taking 1 ms per inference.
func oneLink(t testing.TB, bg float64) *Network {
	return handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{bg}, nil)
}

// TestOneLinkLatency: one task on one link, three background loads. A
// trivial simulator that ignores queueing, the background or the MinShare
// floor gets a different number in at least one case.
func TestOneLinkLatency(t *testing.T) {
	task := Task{Images: 10, Bytes: 1e6} // 8e6 bits; compute 10 · 1 ms = 10 ms
	for _, c := range []struct {
		name     string
		bg       float64
		transfer float64 // ms
	}{
		// Idle link: u = 0, no queue; rate = 1e9 (all of it).
		// 5 ms + 0 + 8e6/1e9 s = 5 + 8 = 13 ms.
		{"idle", 0, 13},
		// Background 0.5 Gbit/s: u = 0.5, queue = 5e5/1e9 · 0.5/0.5 =
		// 0.5 ms; rate = max(0.02e9, max(1e9−0.5e9−0, 0.5e9/1)) = 0.5e9,
		// 8e6/0.5e9 = 16 ms: 5 + 0.5 + 16 = 21.5 ms.
		{"half loaded", 0.5e9, 21.5},
		// Background 0.995 Gbit/s: u = min(0.99, 0.995) = 0.99, queue =
		// 0.5 ms · 0.99/0.01 = 49.5 ms; free 5e6 < MinShare 0.02·1e9 =
		// 2e7 bit/s, the floor: 8e6/2e7 = 400 ms: 5 + 49.5 + 400 = 454.5.
		{"saturated", 0.995e9, 454.5},
	} {
		e := handEnv(t, oneLink(t, c.bg))
		e.begin(task)
		out, err := e.Evaluate(actionOf(0, 1))
		if err != nil {
			t.Fatal(err)
		}
		checkOutcome(t, c.name, out, 0, c.transfer, 0, 10)
	}
}

// TestSecondTaskWaitsForTheNode: a node runs one task at a time; a task
// arriving while it is busy waits for the remaining compute. A simulator
// that never marks nodes busy (every task starts at once) scores wait 0.
func TestSecondTaskWaitsForTheNode(t *testing.T) {
	e := handEnv(t, oneLink(t, 0))
	// Task A at t = 0: 1e6 bytes, 100 inferences. Transfer 5 + 8e6/1e9 s
	// = 5 + 8 = 13 ms, compute 100 ms: the node is busy until 113 ms; A's
	// flow holds 1e9 bit/s on the link until 8 ms.
	e.begin(Task{Arrival: 0, Images: 100, Bytes: 1e6})
	a := e.outcome(0, []float32{1}, true)
	checkOutcome(t, "task A", a, 0, 13, 0, 100)
	if !near(e.busy[0], 0.113) {
		t.Fatalf("busy until %v s after task A, want 0.013 + 0.100 = 0.113", e.busy[0])
	}
	// Task B at 50 ms: A's flow ended at 8 ms (link idle again); B's data
	// arrives at 50 + 13 = 63 ms and waits 113 − 63 = 50 ms, then 100 ms
	// of compute: 13 + 50 + 100 = 163 ms. The observation's waiting
	// time is 113 − 50 = 63 ms.
	e.begin(Task{Arrival: 0.050, Images: 100, Bytes: 1e6})
	if got := e.Obs().Nodes[0].WaitMs; !near(got, 63) {
		t.Errorf("waiting %v ms, want 63", got)
	}
	b := e.outcome(0, []float32{1}, true)
	checkOutcome(t, "task B", b, 0, 13, 50, 100)
	// B keeps the node until 63 + 50 + 100 = 213 ms.
	if !near(e.busy[0], 0.213) {
		t.Fatalf("busy until %v s after task B, want 0.213", e.busy[0])
	}
	// Task C at 300 ms: the node is idle (waiting is max(0, 0.213 − 0.313)
	// = 0), 1 inference: 13 + 0 + 1 ms.
	e.begin(Task{Arrival: 0.300, Images: 1, Bytes: 1e6})
	checkOutcome(t, "task C", e.outcome(0, []float32{1}, false), 0, 13, 0, 1)
}

// actionOf is candidate i with split x.
func actionOf(i int, x ...float32) rl.Action { return rl.Action{Index: i, Values: x} }

// chain is AP 0 → node 1 (1 Gbit/s, 1 ms) → node 2 (0.25 Gbit/s, 1 ms),
// compute at nodes 1 (candidate 0) and 2 (candidate 1), 1 ms per
// inference each, no background.
func chain(t testing.TB) *Network {
	return handNetwork(t, 3, []topology.Link{link(0, 1, 1e9, 1), link(1, 2, 0.25e9, 1)}, []int{0},
		[]ComputeNode{cpuNode(1, "near", 1), cpuNode(2, "far", 1)}, []float64{0, 0}, nil)
}

// TestFlowsInFlight: transfers hold their rate on their links until they
// end, the next flows get the residual capacity or a fair share, and ended
// flows give their bandwidth back (also at exactly their end time).
// Trivial rules — every flow gets the whole link, flows never released —
// give other transfer times.
func TestFlowsInFlight(t *testing.T) {
	e := handEnv(t, chain(t))
	check := func(what string, res0, res1 float64, n0, n1 int32) {
		t.Helper()
		if !near(e.res[0], res0) || !near(e.res[1], res1) || e.nflows[0] != n0 || e.nflows[1] != n1 {
			t.Fatalf("%s: reserved %v bit/s, flows %v; want [%v %v], [%d %d]", what, e.res, e.nflows, res0, res1, n0, n1)
		}
	}
	// A at 0 ms to node 2, 1e6 bytes = 8e6 bits, 1 inference: idle links,
	// rate min(1e9, 0.25e9) = 0.25e9, 8e6/0.25e9 = 32 ms; transfer
	// 1 + 1 + 32 = 34 ms, compute 1 ms. The flow holds 0.25e9 on both
	// links until 32 ms; node 2 is busy until 35 ms.
	e.begin(Task{Arrival: 0, Images: 1, Bytes: 1e6})
	checkOutcome(t, "A", e.outcome(1, []float32{1}, true), 1, 34, 0, 1)
	check("after A", 0.25e9, 0.25e9, 1, 1)
	// B at 10 ms to node 1, 0.75e6 bytes = 6e6 bits: link 0 carries A:
	// u = 0.25, queue 5e5/1e9 · 0.25/0.75 = 1/6 ms; the residual
	// 1e9 − 0.25e9 = 0.75e9 beats the fair share 1e9/2: 6e6/0.75e9 =
	// 8 ms; transfer 1 + 1/6 + 8 ms. B holds 0.75e9 on link 0 until 18 ms.
	e.begin(Task{Arrival: 0.010, Images: 1, Bytes: 0.75e6})
	checkOutcome(t, "B", e.outcome(0, []float32{1}, true), 0, 1+1.0/6+8, 0, 1)
	check("after B", 1e9, 0.25e9, 2, 1)
	// C at 12 ms to node 2, 8e6 bits: link 0 is full (u capped at 0.99:
	// queue 0.5 ms · 0.99/0.01 = 49.5 ms; residual 0, fair share 1e9/3),
	// link 1 too (queue 5e5/0.25e9 · 99 = 198 ms; residual 0, fair share
	// 0.25e9/2 = 1.25e8): rate min(1e9/3, 1.25e8) = 1.25e8, 8e6/1.25e8 =
	// 64 ms; transfer 1 + 1 + 49.5 + 198 + 64 = 313.5 ms. Node 2 is free
	// by then (35 ms). C holds 1.25e8 on both links until 76 ms.
	e.begin(Task{Arrival: 0.012, Images: 1, Bytes: 1e6})
	checkOutcome(t, "C", e.outcome(1, []float32{1}, true), 1, 313.5, 0, 1)
	check("after C", 1.125e9, 0.375e9, 3, 2)
	// D at 20 ms: B (ended at 18 ms) is released, A and C are not:
	// link 0 holds 0.25e9 + 1.25e8 = 0.375e9 (u = 0.375, queue
	// 0.5 ms · 0.375/0.625 = 0.3 ms, residual 0.625e9 > 1e9/3). To node 1,
	// 8e6 bits: 8e6/0.625e9 = 12.8 ms; transfer 1 + 0.3 + 12.8 = 14.1 ms.
	e.begin(Task{Arrival: 0.020, Images: 1, Bytes: 1e6})
	check("at 20 ms", 0.375e9, 0.375e9, 2, 2)
	checkOutcome(t, "D", e.outcome(0, []float32{1}, false), 0, 14.1, 0, 1)
	// E at exactly 32 ms, when A ends: A is released. Link 0 holds C's
	// 1.25e8 (u = 0.125, queue 0.5 ms · 0.125/0.875 = 0.5/7 ms, residual
	// 0.875e9): 8e6/0.875e9 = 64/7 ms; transfer 1 + 0.5/7 + 64/7 ms.
	e.begin(Task{Arrival: 0.032, Images: 1, Bytes: 1e6})
	check("at 32 ms", 1.25e8, 1.25e8, 1, 1)
	checkOutcome(t, "E", e.outcome(0, []float32{1}, false), 0, 1+0.5/7+64.0/7, 0, 1)
	// F at 100 ms: every flow has ended, the links are idle again: to
	// node 2 as A, 34 ms, arriving at 134 ms; node 2 is busy with C until
	// 12 + 313.5 + 1 = 326.5 ms: it waits 326.5 − 134 = 192.5 ms.
	e.begin(Task{Arrival: 0.100, Images: 1, Bytes: 1e6})
	check("at 100 ms", 0, 0, 0, 0)
	checkOutcome(t, "F", e.outcome(1, []float32{1}, false), 1, 34, 192.5, 1)
}

// diamond is AP 0 → node 1 → compute node 3 directly (path 0: links 0,
// 1, 2 ms) or through node 2 (path 1: links 0, 2, 3, 3 ms); both paths
// share link 0. Links 0–2 have 1 Gbit/s, link 3 0.2 Gbit/s, all 1 ms.
// P = 3: the third row repeats path 1. The device takes 1 ms per
// inference.
func diamond(t testing.TB, bg []float64, mod func(*Config)) *Network {
	return handNetwork(t, 4, []topology.Link{link(0, 1, 1e9, 1), link(1, 3, 1e9, 1), link(1, 2, 1e9, 1), link(2, 3, 0.2e9, 1)},
		[]int{0}, []ComputeNode{cpuNode(3, "cpu", 1)}, bg, func(c *Config) {
			c.P = 3
			if mod != nil {
				mod(c)
			}
		})
}

// TestSharedLinkRates: a task's flowlets that share a link divide its
// available bandwidth; a ratio given to a repeated row goes to the path
// it repeats; ratios under MinSplit carry nothing. No background: the
// paths' delays are pure propagation. 1e6 bytes = 8e6 bits, 1 inference.
func TestSharedLinkRates(t *testing.T) {
	for _, c := range []struct {
		name     string
		minSplit float64
		x        []float32
		transfer float64 // ms
	}{
		// All on path 0, alone on link 0: rate 1e9, 2 + 8 = 10 ms.
		{"path 0 alone", 0.02, []float32{1, 0, 0}, 10},
		// All on path 1: rate min(1e9, 1e9, 0.2e9), 3 + 8e6/0.2e9 =
		// 3 + 40 = 43 ms.
		{"path 1 alone", 0.02, []float32{0, 1, 0}, 43},
		// Half each (the repeated row's 0.25 goes to path 1): link 0 is
		// shared by 2 flowlets, 1e9/2 each. Path 0: 4e6/0.5e9 = 8 ms,
		// 2 + 8 = 10; path 1: min(0.5e9, 1e9, 0.2e9), 4e6/0.2e9 = 20 ms,
		// 3 + 20 = 23. The slower: 23 ms.
		{"half each, shared link", 0.02, []float32{0.5, 0.25, 0.25}, 23},
		// 3/4 and 1/4: path 0 6e6/0.5e9 = 12 ms, 2 + 12 = 14; path 1
		// 2e6/0.2e9 = 10 ms, 3 + 10 = 13: 14 ms.
		{"three quarters", 0.02, []float32{0.75, 0, 0.25}, 14},
		// 0.005 + 0.005 = 0.01 on path 1 < MinSplit 0.02: path 1 carries
		// nothing, path 0 gets everything (0.99/0.99) alone on link 0:
		// 10 ms, as "path 0 alone".
		{"flowlet floor", 0.02, []float32{0.99, 0.005, 0.005}, 10},
		// MinSplit 0.125 and a ratio of exactly 0.125: kept (the floor
		// drops ratios below it). Path 0: 7e6/0.5e9 = 14 ms, 2 + 14 = 16;
		// path 1: 1e6/0.2e9 = 5 ms, 3 + 5 = 8: 16 ms.
		{"at the floor", 0.125, []float32{0.875, 0.125, 0}, 16},
		// MinSplit 0.125: the repeated row's ratio is merged into path 1
		// before the floor, 0.0625 + 0.3125 = 0.375 ≥ 0.125, so nothing
		// is dropped. Path 0: 0.625 · 8e6 = 5e6 bits / 0.5e9 = 10 ms,
		// 2 + 10 = 12; path 1: 3e6/0.2e9 = 15 ms, 3 + 15 = 18 ms.
		{"merged before the floor", 0.125, []float32{0.625, 0.0625, 0.3125}, 18},
	} {
		n := diamond(t, []float64{0, 0, 0, 0}, func(cfg *Config) { cfg.MinSplit = c.minSplit })
		e := handEnv(t, n)
		e.begin(Task{Images: 1, Bytes: 1e6})
		if ps := e.psets[0]; !slices.Equal(ps.orig, []int{0, 1, 1}) {
			t.Fatalf("path rows %v, want two distinct paths and a repeat", ps.orig)
		}
		// Twice: Evaluate must leave no trace of the first call.
		for range 2 {
			out, err := e.Evaluate(actionOf(0, c.x...))
			if err != nil {
				t.Fatal(err)
			}
			if !near(out.TransferMs, c.transfer) || !near(out.LatencyMs, c.transfer+1) {
				t.Errorf("%s: transfer %v ms, latency %v; want %v and %v (+ 1 ms compute)", c.name, out.TransferMs, out.LatencyMs, c.transfer, c.transfer+1)
			}
		}
	}
}

// approx32 compares a float32 feature with a hand-computed value.
func approx32(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 2e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestObservationKnownValues: every feature of the observation on the
// diamond, with background 0.5 Gbit/s on link 0 and 0.15 Gbit/s on link 3
// and noise-free probes, against the formulas of obs.go computed by hand.
func TestObservationKnownValues(t *testing.T) {
	e := handEnv(t, diamond(t, []float64{0.5e9, 0, 0, 0.15e9}, nil))
	// 1e6 bytes = 8e6 bits, 4 inferences at 1 ms: compute 4 ms.
	e.begin(Task{Images: 4, Bytes: 1e6})
	o := e.Obs()
	// Links: 0: u = 0.5, queue 5e5/1e9 · 1 = 0.5 ms, available
	// max(0.02e9, 1e9 − 0.5e9) = 0.5e9. 1, 2: idle, 1e9. 3: u = 0.75,
	// queue 5e5/0.2e9 · 0.75/0.25 = 7.5 ms, available 0.2e9 − 0.15e9 =
	// 0.05e9.
	// Path 0 (links 0, 1): queue 0.5 ms, bottleneck 0.5e9, shared
	// bottleneck min(0.5e9/2, 1e9/1) = 0.25e9 (link 0 is on both paths);
	// probe 2 + 0.5 ms + 1000 bits/0.5e9 = 2.502 ms; alone it sends
	// 8e6/0.5e9 = 16 ms: 18.502 ms.
	// Path 1 (links 0, 2, 3): queue 0.5 + 0 + 7.5 = 8 ms, bottleneck
	// 0.05e9 (shared: min(0.25e9, 1e9, 0.05e9), the same); probe
	// 3 + 8 ms + 1000/0.05e9 = 11.02 ms; alone 8e6/0.05e9 = 160 ms:
	// 171.02 ms.
	type pathRow struct {
		probe, prop, bott, hops, util, alone, shared, bottAll float64
	}
	rows := []pathRow{
		{2.502, 2, 0.5e9, 2, 0.5, 18.502, 0.5, 0.25e9},
		{11.02, 3, 0.05e9, 3, 0.75, 171.02, 1.0 / 3, 0.05e9},
		{11.02, 3, 0.05e9, 3, 0.75, 171.02, 1.0 / 3, 0.05e9}, // repeats path 1
	}
	// Water-filling over independent paths (bottlenecks 0.5e9, 0.05e9,
	// probed delays d): path 0 alone would end at 18.502 ms > 11.02, so
	// both fill to T = (8e6 + 0.5e9·2.502e-3 + 0.05e9·11.02e-3)/0.55e9;
	// path j's share is b_j (T − d_j)/8e6.
	tw := (8e6 + 0.5e9*2.502e-3 + 0.05e9*11.02e-3) / 0.55e9
	x := []float64{0.5e9 * (tw - 2.502e-3) / 8e6, 0.05e9 * (tw - 11.02e-3) / 8e6}
	// The same with the shared bottlenecks 0.25e9 and 0.05e9.
	ta := (8e6 + 0.25e9*2.502e-3 + 0.05e9*11.02e-3) / 0.3e9
	xa := []float64{0.25e9 * (ta - 2.502e-3) / 8e6, 0.05e9 * (ta - 11.02e-3) / 8e6}
	// The fastest single path: path 0, 18.502 ms < ta ≈ 30.59 ms, so the
	// controller's split is all on path 0 and its estimate 4 + max(0,
	// 18.502) = 22.502 ms.
	if o.Task != (Task{Images: 4, Bytes: 1e6}) {
		t.Errorf("task %+v", o.Task)
	}
	nd := o.Nodes[0]
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"compute", nd.ComputeMs, 4}, {"wait", nd.WaitMs, 0}, {"water-filling", nd.WaterFillMs, 1000 * tw},
		{"estimate", nd.EstimateMs, 22.502}, {"shared water-filling", nd.SharedWaterFillMs, 1000 * ta},
		{"single path", nd.SinglePathMs, 18.502},
	} {
		if !near(c.got, c.want) {
			t.Errorf("candidate: %s %v ms, want %v", c.what, c.got, c.want)
		}
	}
	if nd.Hops != 2 || nd.Class != CPU {
		t.Errorf("candidate: %d hops, class %v; want 2, cpu", nd.Hops, nd.Class)
	}
	bw := []float64{0.5e9 / 0.55e9, 0.05e9 / 0.55e9}
	inv := []float64{(1 / 18.502) / (1/18.502 + 1/171.02), (1 / 171.02) / (1/18.502 + 1/171.02)}
	for j, r := range rows {
		p := o.Paths[j]
		got := []float64{p.ProbeMs, p.PropMs, p.BottleneckBps, float64(p.Hops), p.Util, p.AloneMs, p.SharedLinks, p.SharedBottleneckBps,
			p.BandwidthShare, p.SpeedShare, float64(p.WaterFill), float64(p.SharedWaterFill), float64(p.Split)}
		want := []float64{r.probe, r.prop, r.bott, r.hops, r.util, r.alone, r.shared, r.bottAll, 0, 0, 0, 0, 0}
		if j < 2 { // the shares, on the distinct rows only
			want[8], want[9], want[10], want[11], want[12] = bw[j], inv[j], x[j], xa[j], float64(1-j)
		}
		for k := range want {
			if math.Abs(got[k]-want[k]) > 2e-6*math.Max(1, math.Abs(want[k])) {
				t.Errorf("path %d field %d = %v, want %v", j, k, got[k], want[k])
			}
		}
	}
	if !slices.Equal(o.NodeMask, []bool{true}) || !slices.Equal(o.PathMask, []bool{true, true, false}) {
		t.Errorf("masks %v %v, want [true] [true true false]", o.NodeMask, o.PathMask)
	}
	if want := []bool{false, true, false, true, false, false, false, false, false}; !slices.Equal(o.Overlap, want) {
		t.Errorf("overlap %v, want paths 0 and 1 overlapping: %v", o.Overlap, want)
	}
}

// twin is AP 0 with two compute candidates one hop away, no background:
// A (node 1, candidate 0, 2 ms per inference) over path 0 = link 0
// (1 ms) or path 1 = links 1, 2 through node 2 (2 ms); B (node 3,
// candidate 1, 1 ms per inference) over link 3 (4 ms) only, its second
// row repeating it. All links 1 Gbit/s.
func twin(t testing.TB, bg []float64) *Network {
	return handNetwork(t, 4, []topology.Link{link(0, 1, 1e9, 1), link(0, 2, 1e9, 1), link(2, 1, 1e9, 1), link(0, 3, 1e9, 4)},
		[]int{0}, []ComputeNode{cpuNode(1, "a", 2), cpuNode(3, "b", 1)}, bg, func(c *Config) { c.P = 2 })
}

// TestControllerEstimatesOnTwin: the water-filling split, the estimated
// response latencies and the greedy "wf" decision, computed by hand.
// Task: 1e6 bytes = 8e6 bits, 5 inferences (A 10 ms, B 5 ms).
func TestControllerEstimatesOnTwin(t *testing.T) {
	e := handEnv(t, twin(t, []float64{0, 0, 0, 0}))
	e.begin(Task{Images: 5, Bytes: 1e6})
	o := e.Obs()
	// A: probed delays 1 + 1000/1e9 s = 1.001 ms and 2.001 ms. Alone,
	// path 0 would end at 1.001 + 8 = 9.001 ms > 2.001, so both fill to
	// T = (8e6 + 1e9·1.001e-3 + 1e9·2.001e-3)/2e9 = 5.501 ms: shares
	// 1e9·(5.501 − 1.001) ms/8e6 = 0.5625 and 1e9·3.5e-3/8e6 = 0.4375.
	// The paths share no link, so the shared bottleneck split is the
	// same, and T < the single path's 9.001 ms: the controller splits.
	// Estimate 10 + max(0, 5.501) = 15.501 ms.
	// B: one path, 4.001 + 8 = 12.001 ms either way: 5 + 12.001 =
	// 17.001 ms, all on its path (the single path is not strictly
	// faster than the one-path water-filling).
	for i, w := range []struct {
		est, tw, tSingle float64
		split            []float64
	}{{15.501, 5.501, 9.001, []float64{0.5625, 0.4375}}, {17.001, 12.001, 12.001, []float64{1, 0}}} {
		nd := o.Nodes[i]
		if !near(nd.EstimateMs, w.est) || !near(nd.WaterFillMs, w.tw) || !near(nd.SharedWaterFillMs, w.tw) || !near(nd.SinglePathMs, w.tSingle) {
			t.Errorf("candidate %d: estimate %v, water-filling %v, shared %v, single path %v ms; want %v, %v, %v, %v",
				i, nd.EstimateMs, nd.WaterFillMs, nd.SharedWaterFillMs, nd.SinglePathMs, w.est, w.tw, w.tw, w.tSingle)
		}
		for j := range 2 {
			approx32(t, "controller split", o.Paths[i*2+j].Split, w.split[j])
		}
	}
	// The best estimate is A's.
	if !slices.Equal(o.PathMask, []bool{true, true, true, false}) {
		t.Errorf("path mask %v, want A's two paths and B's one", o.PathMask)
	}
	a, err := e.WaterFilling()
	if err != nil {
		t.Fatal(err)
	}
	if a.Index != 0 || !slices.Equal(a.Values, []float32{0.5625, 0.4375}) {
		t.Errorf("wf decision %+v, want A with [0.5625 0.4375]", a)
	}
	// Its true cost: path 0 1 + 4.5 ms, path 1 2 + 3.5 ms: 5.5 ms, plus
	// 10 ms of compute.
	out, _ := e.Evaluate(a)
	checkOutcome(t, "wf on A", out, 0, 5.5, 0, 10)
	// B busy for 20 more ms: its estimate becomes 5 + max(20, 12.001) =
	// 25 ms (the waiting hides the transfer), its waiting 20 ms.
	e.busy[1] = 0.020
	e.begin(Task{Images: 5, Bytes: 1e6})
	if b := e.Obs().Nodes[1]; !near(b.EstimateMs, 25) || !near(b.WaitMs, 20) || !near(b.ComputeMs, 5) {
		t.Errorf("busy B: estimate %v, waiting %v, compute %v ms; want 25, 20, 5", b.EstimateMs, b.WaitMs, b.ComputeMs)
	}
}

// TestBaselinesOnTwin: the heuristics' choices and the oracle's, by hand.
func TestBaselinesOnTwin(t *testing.T) {
	e := handEnv(t, twin(t, []float64{0, 0, 0, 0}))
	e.begin(Task{Images: 5, Bytes: 1e6})
	// Fastest: compute + backlog, A 10 ms, B 5 ms: B. Nearest: both one
	// hop; A's first path is shorter (1 ms < 4 ms): A.
	if f, n := e.Fastest(), e.Nearest(); f != 1 || n != 0 {
		t.Errorf("fastest %d, nearest %d; want 1 (B) and 0 (A)", f, n)
	}
	// ECMP: A's two distinct paths get ½ each; B's repeated row nothing.
	if a, b := e.ECMP(0), e.ECMP(1); !slices.Equal(a, []float32{0.5, 0.5}) || !slices.Equal(b, []float32{1, 0}) {
		t.Errorf("ECMP %v %v, want [0.5 0.5] [1 0]", a, b)
	}
	// The oracle on a 1/20 grid: A with x on path 0 costs 10 + max(1 +
	// 8x, 2 + 8(1−x)) ms, smallest at x = 0.55 on the grid: max(5.4, 5.6)
	// = 5.6 (x = 0.6: 5.8); B costs 5 + 4 + 8 = 17 ms. A, 15.6 ms.
	o, err := e.Oracle(20)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := e.Evaluate(o)
	if o.Index != 0 || math.Abs(float64(o.Values[0])-0.55) > 1e-6 || math.Abs(out.LatencyMs-15.6) > 1e-5 {
		t.Errorf("oracle %+v costs %v ms, want A with [0.55 0.45], 15.6 ms", o, out.LatencyMs)
	}
	// base1 = fastest + ECMP: B alone, 4 + 8 + 5 = 17 ms; base2 =
	// nearest + ECMP: A with ½ each: path 1 2 + 4 = 6 ms, + 10 = 16 ms.
	for name, want := range map[string]float64{"base1": 17, "base2": 16, "oracle": 15.6} {
		a, err := Baselines[name](e)
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := e.Evaluate(a); math.Abs(out.LatencyMs-want) > 1e-5 {
			t.Errorf("%s: %v ms, want %v", name, out.LatencyMs, want)
		}
	}
	// B busy for 20 more ms: B's backlog makes A the fastest (10 < 5 + 20).
	e.busy[1] = 0.020
	if f := e.Fastest(); f != 0 {
		t.Errorf("fastest with B busy: %d, want 0 (A)", f)
	}
}

// TestLPSplitOnTwin: the min-max-utilisation split, by hand. Link 0 has
// 2e6 bit/s of background and 2e6 reserved by flows in progress
// (utilisation 0.004); the task's 8e6 bits over one second add 0.008·x
// to each link of a path given x. Path 0 (link 0) and path 1 (links 1,
// 2) balance at 0.004 + 0.008·x = 0.008·(1 − x): x = 0.25.
func TestLPSplitOnTwin(t *testing.T) {
	e := handEnv(t, twin(t, []float64{2e6, 0, 0, 0}))
	e.begin(Task{Images: 5, Bytes: 1e6})
	e.res[0] = 2e6
	x, err := e.LPSplit(0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(x[0])-0.25) > 1e-6 || math.Abs(float64(x[1])-0.75) > 1e-6 {
		t.Errorf("LP split %v, want [0.25 0.75]", x)
	}
	// base3 = fastest (B: one path, all on it) + LP; base4 = nearest (A)
	// + LP.
	for name, want := range map[string]rl.Action{"base3": actionOf(1, 1, 0), "base4": actionOf(0, 0.25, 0.75)} {
		a, err := Baselines[name](e)
		if err != nil {
			t.Fatal(err)
		}
		if a.Index != want.Index || math.Abs(float64(a.Values[0]-want.Values[0])) > 1e-6 {
			t.Errorf("%s: %+v, want %+v", name, a, want)
		}
	}
}

// TestOracleAllOnOnePath: when one path is saturated the oracle's best
// split puts everything on the other (the grid's end point), and a busy
// faster node loses to a free slower one. Twin with link 1 saturated
// (0.995 Gbit/s of background: path 1 of A costs at least its 49.5 ms
// queue) and B busy until 30 ms. A all on path 0: 1 + 8 + 10 = 19 ms; B:
// its data arrives at 4 + 8 = 12 ms, waits 30 − 12 = 18 ms, computes
// 5 ms: 35 ms.
func TestOracleAllOnOnePath(t *testing.T) {
	e := handEnv(t, twin(t, []float64{0, 0.995e9, 0, 0}))
	e.busy[1] = 0.030
	e.begin(Task{Images: 5, Bytes: 1e6})
	o, err := e.Oracle(20)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := e.Evaluate(o)
	if o.Index != 0 || !slices.Equal(o.Values, []float32{1, 0}) {
		t.Errorf("oracle %+v, want A with [1 0]", o)
	}
	checkOutcome(t, "oracle", out, 0, 9, 0, 10)
	checkOutcome(t, "B", e.outcome(1, []float32{1, 0}, false), 1, 12, 18, 5)
	// Fastest with a tie: A 10 ms + 0, B 5 ms + a 5 ms backlog: the first.
	e.busy[1] = 0.005
	if f := e.Fastest(); f != 0 {
		t.Errorf("fastest on a tie: %d, want the first (0)", f)
	}
}

// star: AP 0; through relay 4 (1 ms links): a GPU at node 1, CPU A at
// node 2 and an "other" device at node 5, two hops away; CPU B at node 3
// over a direct 5 ms link, one hop away; CPU C at node 6, which the AP
// cannot reach. Latencies: GPU 5, 8 and 30 ms per batch of 1, 32 and
// 256; A 2 ms, B 3 ms, C 1 ms, other 4 ms per inference.
func star(t testing.TB, k int) *Network {
	return handNetwork(t, 7, []topology.Link{link(0, 4, 1e9, 1), link(4, 1, 1e9, 1), link(4, 2, 1e9, 1), link(0, 3, 1e9, 5),
		link(4, 5, 1e9, 1), link(6, 0, 1e9, 1)}, []int{0},
		[]ComputeNode{{Node: 5, Class: Other, Model: "fpga", tab: [][]float32{flat(4)}}, gpuNode(1, "gpu", 5, 8, 30),
			cpuNode(2, "cpuA", 2), cpuNode(3, "cpuB", 3), cpuNode(6, "cpuC", 1)},
		make([]float64, 6), func(c *Config) { c.K = k })
}

// TestGPUBatching: a GPU runs n inferences as ⌈n/b⌉ batches of the
// fastest batch size b; other devices one at a time.
func TestGPUBatching(t *testing.T) {
	n := star(t, 4)
	for _, c := range []struct {
		images int
		gpu    float64
	}{
		{1, 5},    // min(1·5, 1·8, 1·30)
		{2, 8},    // min(2·5, 1·8, 1·30)
		{32, 8},   // min(32·5, 1·8, 1·30)
		{33, 16},  // min(33·5, 2·8, 1·30)
		{256, 30}, // min(256·5, 8·8, 1·30)
		{300, 60}, // min(300·5, 10·8, 2·30)
	} {
		task := Task{Arch: 7, Images: c.images}
		if got := n.Latency(1, task); got != c.gpu {
			t.Errorf("GPU, %d images: %v ms, want %v", c.images, got, c.gpu)
		}
		if got, want := n.Latency(2, task), 2*float64(c.images); got != want {
			t.Errorf("CPU A, %d images: %v ms, want %v", c.images, got, want)
		}
	}
}

// TestCandidateFilter: the K nearest nodes (by hops, then index) of the
// class with the smallest mean latency over its models, filled from the
// other classes by hops then index; unreachable nodes are left out.
func TestCandidateFilter(t *testing.T) {
	for _, c := range []struct {
		k, images int
		class     Class
		want      []int
	}{
		// 1 image: CPU mean (2 + 3 + 1)/3 = 2 ms, GPU 5, other 4: CPU.
		// Reachable CPUs: B (1 hop), A (2 hops); then GPU and other, both
		// at 2 hops: by index, other (0) then GPU (1).
		{4, 1, CPU, []int{3, 2, 0, 1}},
		{5, 1, CPU, []int{3, 2, 0, 1}}, // C is unreachable: 4 candidates
		{1, 1, CPU, []int{3}},
		// 32 images: GPU 8 ms, CPU 64, other 128: the GPU, then B (1 hop),
		// other (2 hops, index 0), A (2 hops, index 2).
		{4, 32, GPU, []int{1, 3, 0, 2}},
		{2, 32, GPU, []int{1, 3}},
	} {
		n := star(t, c.k)
		task := Task{Images: c.images, Bytes: 1e5}
		if cl := n.fastestClass(task); cl != c.class {
			t.Errorf("%d images: fastest class %v, want %v", c.images, cl, c.class)
		}
		if got := n.candidates(nil, task); !slices.Equal(got, c.want) {
			t.Errorf("K %d, %d images: candidates %v, want %v", c.k, c.images, got, c.want)
		}
	}
	// The observation of the 5-candidate case: 4 real rows, the fifth
	// masked; hops/10 and the class one-hot per candidate; nearest is B
	// (the only one-hop node).
	e := handEnv(t, star(t, 5))
	e.begin(Task{Images: 1, Bytes: 1e5})
	o := e.Obs()
	if !slices.Equal(o.NodeMask, []bool{true, true, true, true, false}) {
		t.Errorf("node mask %v, want 4 candidates", o.NodeMask)
	}
	for i, w := range []struct {
		hops  int
		class Class
	}{{1, CPU}, {2, CPU}, {2, Other}, {2, GPU}} {
		if nd := o.Nodes[i]; nd.Hops != w.hops || nd.Class != w.class {
			t.Errorf("candidate %d: %d hops, class %v; want %d, %v", i, nd.Hops, nd.Class, w.hops, w.class)
		}
	}
	if got := e.Nearest(); got != 0 {
		t.Errorf("nearest %d, want 0 (B, one hop)", got)
	}
}

// TestTrafficInterval: the background follows the traffic-matrix
// intervals of TMInterval = 300 s from the episode's start interval. One
// link (1 Gbit/s, 5 ms) with background 0.5 Gbit/s × [1, 0.5] over two
// intervals; start interval 1.
func TestTrafficInterval(t *testing.T) {
	n := oneLink(t, 0.5e9)
	n.bg.series = []float64{1, 0.5}
	e := handEnv(t, n)
	e.tm = 1
	for _, c := range []struct {
		at, transfer float64
	}{
		// Interval 1 (0.25 Gbit/s): u = 0.25, queue 0.5 ms · 1/3; rate
		// 0.75e9: 8e6/0.75e9 = 32/3 ms. 5 + 1/6 + 32/3 ms.
		{0, 5 + 1.0/6 + 32.0/3},
		{299.5, 5 + 1.0/6 + 32.0/3},
		// From 300 s: interval (1 + 1) mod 2 = 0 (0.5 Gbit/s): 21.5 ms as
		// in TestOneLinkLatency.
		{300, 21.5},
		{600, 5 + 1.0/6 + 32.0/3}, // (1 + 2) mod 2 = 1
	} {
		e.begin(Task{Arrival: c.at, Images: 1, Bytes: 1e6})
		checkOutcome(t, "at "+strconv.FormatFloat(c.at, 'g', -1, 64)+" s", e.outcome(0, []float32{1}, false), 0, c.transfer, 0, 1)
	}
}

// TestTaskStream: the first task arrives at 0, then Poisson arrivals of
// rate ArrivalRate (mean gap 1/50 s); IO tasks carry 1 inference and 1e5,
// 1e6 or 1e7 bytes; compute tasks 64–2048 inferences of 3,072 bytes each,
// log-uniform (mean log2 = (6 + 11)/2 = 8.5). A frozen stream (all at one
// time, one size) fails the bounds. 2,000 tasks: the mean gap's standard
// error is 0.02/√2000 ≈ 0.00045 s, the bounds are 4 of them away; the
// mean log2 has standard error (5/√12)/√1000 ≈ 0.046, bounds at 0.3.
func TestTaskStream(t *testing.T) {
	for _, mix := range Mixes {
		n := oneLink(t, 0)
		n.Cfg.Mix, n.Cfg.Tasks = mix, 2000
		e := NewEnv(n)
		if _, err := e.Reset(9); err != nil {
			t.Fatal(err)
		}
		if e.Task().Arrival != 0 || e.Now() != 0 {
			t.Fatalf("%s: the first task arrives at %v (now %v), want 0", mix, e.Task().Arrival, e.Now())
		}
		var io, compute int
		var log2 float64
		last := 0.0
		for k := 0; ; k++ {
			task := e.Task()
			if task.Arrival < last || task.Arrival != e.Now() {
				t.Fatalf("%s: task %d arrives at %v after %v (now %v)", mix, k, task.Arrival, last, e.Now())
			}
			last = task.Arrival
			if task.Images == 1 {
				io++
				if task.Bytes != 1e5 && task.Bytes != 1e6 && task.Bytes != 1e7 {
					t.Fatalf("%s: IO task of %v bytes", mix, task.Bytes)
				}
			} else {
				compute++
				if task.Images < 64 || task.Images > 2048 || task.Bytes != float64(task.Images*ImageBytes) {
					t.Fatalf("%s: compute task %+v", mix, task)
				}
				log2 += math.Log2(float64(task.Images))
			}
			s, err := e.Step(actionOf(0, 1))
			if err != nil {
				t.Fatal(err)
			}
			if s.Done() {
				if k != 1999 {
					t.Fatalf("%s: episode ended after %d tasks, want 2000", mix, k+1)
				}
				break
			}
		}
		if gap := last / 1999; gap < 0.018 || gap > 0.022 {
			t.Errorf("%s: mean gap %v s, want 1/50 = 0.02", mix, gap)
		}
		switch mix {
		case IOHeavy:
			if compute != 0 {
				t.Errorf("io mix: %d compute tasks", compute)
			}
		case ComputeHeavy:
			if io != 0 {
				t.Errorf("compute mix: %d IO tasks", io)
			}
		case Mixed: // binomial(2000, ½): sd 22
			if io < 900 || io > 1100 {
				t.Errorf("mixed: %d IO tasks of 2000", io)
			}
		}
		if compute > 0 {
			if m := log2 / float64(compute); m < 8.2 || m > 8.8 {
				t.Errorf("%s: mean log2 inferences %v, want 8.5", mix, m)
			}
		}
	}
}

// TestStepRewardAndEpisode: Step returns −latency/RewardScale with the
// hand-computed latency, commits the task, and the episode is truncated
// after Config.Tasks steps.
func TestStepRewardAndEpisode(t *testing.T) {
	n := oneLink(t, 0.5e9)
	n.Cfg.Tasks = 2
	e := handEnv(t, n)
	// As TestOneLinkLatency "half loaded": 21.5 + 10 = 31.5 ms.
	e.begin(Task{Images: 10, Bytes: 1e6})
	s, err := e.Step(actionOf(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Reward, -31.5/100) || !near(s.Info["latency_ms"], 31.5) || !near(s.Info["transfer_ms"], 21.5) ||
		s.Info["wait_ms"] != 0 || !near(s.Info["compute_ms"], 10) || s.Info["node"] != 0 || s.Done() {
		t.Fatalf("step %+v, want reward −0.315, latency 31.5 = 21.5 + 0 + 10 ms, not done", s)
	}
	if !near(e.busy[0], 0.0315) {
		t.Errorf("busy until %v, want 0.0315 s", e.busy[0])
	}
	if s, err = e.Step(actionOf(0, 1)); err != nil || !s.Truncated || s.Terminated {
		t.Fatalf("second of 2 steps: %+v, %v; want truncated", s, err)
	}
	if _, err := e.Step(actionOf(0, 1)); err == nil {
		t.Fatal("a step after the episode's end succeeded")
	}
}

// TestProbeNoise: a probe's one-way delay is propagation + queueing +
// probe bits / bottleneck + an exponential noise of mean 0.1·queue +
// 10 µs. On one link (5 ms) at 0.5 Gbit/s of background: queue 0.5 ms,
// 1,000 bits / 0.5e9 = 0.002 ms, noise mean 0.05 + 0.01 = 0.06 ms: the
// mean of 4,000 probes is 5.562 ms, with a standard error of
// 0.06/√4000 ≈ 0.001 ms; the bound is 5 of them. Noise-free probes
// (5.502 ms) or a noise of another scale miss it.
func TestProbeNoise(t *testing.T) {
	n := oneLink(t, 0.5e9)
	n.Cfg.Probes = 4000
	e := NewEnv(n)
	if _, err := e.Reset(3); err != nil {
		t.Fatal(err)
	}
	e.begin(Task{Images: 1, Bytes: 1e6})
	probe := e.Obs().Paths[0].ProbeMs
	if math.Abs(probe-5.562) > 0.005 {
		t.Errorf("mean probed delay %v ms, want 5 + 0.5 + 0.002 + 0.06 = 5.562", probe)
	}
	// The send-it-all estimate adds 8e6 bits / 0.5e9 = 16 ms.
	if alone := e.Obs().Paths[0].AloneMs; math.Abs(alone-probe-16) > 1e-9 {
		t.Errorf("send-alone estimate %v ms, want the probe %v + 16", alone, probe)
	}
}

// TestWaterFillEdges: nothing to send (everything on the fastest path,
// at its delay) and the largest path set (P = 16 equal paths: 1/16 each).
func TestWaterFillEdges(t *testing.T) {
	x := make([]float32, 3)
	// bits 0: the level is the smallest delay, 1 s (path 1); the other
	// paths' delays are above it.
	if level := waterFill(x, []float64{2, 1, 3}, []float64{1, 1, 1}, []int{0, 1, 2}, 0); level != 1 || !slices.Equal(x, []float32{0, 1, 0}) {
		t.Errorf("nothing to send: level %v, split %v; want 1, [0 1 0]", level, x)
	}
	const p = 16
	x = make([]float32, p)
	d, b, orig := make([]float64, p), make([]float64, p), make([]int, p)
	for j := range p {
		d[j], b[j], orig[j] = 1, 2, j
	}
	// 64 bits over 16 paths of 2 bit/s after 1 s: T = (64 + 16·2·1)/32 =
	// 3 s, each path 2·(3 − 1) = 4 bits = 1/16.
	if level := waterFill(x, d, b, orig, 64); level != 3 {
		t.Errorf("16 paths: level %v, want 3", level)
	}
	for j := range x {
		if x[j] != 1.0/16 {
			t.Fatalf("16 paths: split %v, want 1/16 each", x)
		}
	}
}

// TestTiesGoToTheFirstCandidate: on a symmetric fork (AP 0 → node 1 and
// AP 0 → node 2, 1 Gbit/s and 2 ms each; a CPU of 1 ms per inference and
// a GPU of 1, 32 and 256 ms per batch of 1, 32, 256) one inference costs
// 1 ms on either device: the classes tie (the first, CPU, is the
// predicted-fastest) and every rule sees two equal candidates and keeps
// the first: decisions are deterministic. 1e6 bytes: 2 + 8 + 1 = 11 ms
// on either.
func TestTiesGoToTheFirstCandidate(t *testing.T) {
	e := handEnv(t, handNetwork(t, 3, []topology.Link{link(0, 1, 1e9, 2), link(0, 2, 1e9, 2)}, []int{0},
		[]ComputeNode{cpuNode(1, "x", 1), gpuNode(2, "y", 1, 32, 256)}, []float64{0, 0}, nil))
	e.begin(Task{Images: 1, Bytes: 1e6})
	if c := e.Net.fastestClass(e.Task()); c != CPU || !slices.Equal(e.Candidates(), []int{0, 1}) {
		t.Errorf("fastest class %v, candidates %v; want cpu, [0 1]", c, e.Candidates())
	}
	if f, n := e.Fastest(), e.Nearest(); f != 0 || n != 0 {
		t.Errorf("fastest %d, nearest %d on a tie; want 0 and 0", f, n)
	}
	wf, err := e.WaterFilling()
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.Oracle(20)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Index != 0 || o.Index != 0 {
		t.Errorf("wf picks %d, the oracle %d on a tie; want 0", wf.Index, o.Index)
	}
	checkOutcome(t, "oracle", e.outcome(o.Index, o.Values, false), 0, 10, 0, 1)
}

// TestEpisodeOver: no decision before Reset nor after the last task.
func TestEpisodeOver(t *testing.T) {
	n := oneLink(t, 0)
	n.Cfg.Tasks = 1
	e := NewEnv(n)
	check := func(when string) {
		t.Helper()
		if _, err := e.Evaluate(actionOf(0, 1)); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Errorf("%s: Evaluate error %v", when, err)
		}
		if _, err := e.WaterFilling(); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Errorf("%s: WaterFilling error %v", when, err)
		}
		if _, err := e.Oracle(20); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Errorf("%s: Oracle error %v", when, err)
		}
		if _, err := e.Step(actionOf(0, 1)); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Errorf("%s: Step error %v", when, err)
		}
	}
	check("before Reset")
	if _, err := e.Reset(1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Evaluate(actionOf(0, 0.5)); err == nil {
		t.Error("a split summing to 0.5 was accepted")
	}
	if s, err := e.Step(actionOf(0, 1)); err != nil || !s.Truncated {
		t.Fatalf("the only step: %+v, %v", s, err)
	}
	check("after the last task")
}

// TestNoReachableCandidate: an access point that reaches no compute node
// has no candidate: the heuristics say so instead of picking one.
func TestNoReachableCandidate(t *testing.T) {
	e := handEnv(t, handNetwork(t, 2, []topology.Link{link(1, 0, 1e9, 1)}, []int{0},
		[]ComputeNode{cpuNode(1, "x", 1)}, []float64{0}, nil))
	e.begin(Task{Images: 1, Bytes: 1e6})
	if len(e.Candidates()) != 0 || e.Obs().NodeMask[0] {
		t.Fatalf("candidates %v, mask %v; want none", e.Candidates(), e.Obs().NodeMask)
	}
	if f, n := e.Fastest(), e.Nearest(); f != -1 || n != -1 {
		t.Errorf("fastest %d, nearest %d; want -1", f, n)
	}
	for _, name := range []string{"base1", "base2", "base3", "base4", "wf"} {
		if _, err := Baselines[name](e); err == nil {
			t.Errorf("%s decided without a candidate", name)
		}
	}
}

// TestSixteenPaths: the largest path set, P = 16, on the diamond (two
// distinct paths, 14 repeats of path 1): a ratio on the last row goes to
// path 1. ½ and ½ cost 23 ms as in TestSharedLinkRates; all on the last
// row 43 ms (path 1 alone).
func TestSixteenPaths(t *testing.T) {
	e := handEnv(t, diamond(t, []float64{0, 0, 0, 0}, func(c *Config) { c.P = 16 }))
	e.begin(Task{Images: 1, Bytes: 1e6})
	x := make([]float32, 16)
	x[0], x[15] = 0.5, 0.5
	out, err := e.Evaluate(actionOf(0, x...))
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, "half on row 15", out, 0, 23, 0, 1)
	clear(x)
	x[15] = 1
	checkOutcome(t, "all on row 15", e.outcome(0, x, false), 0, 43, 0, 1)
	if m := e.Obs().PathMask; !m[0] || !m[1] || slices.Contains(m[2:], true) {
		t.Errorf("path mask %v, want two distinct rows", m)
	}
}

// TestFastestAndNearestLater: the heuristics find a better candidate
// that comes later in the list.
func TestFastestAndNearestLater(t *testing.T) {
	// Twin at 100 ms, B busy until 104 ms: A 10 ms + 0; B 5 ms + 4 ms of
	// backlog = 9 ms: B.
	e := handEnv(t, twin(t, []float64{0, 0, 0, 0}))
	e.busy[1] = 0.104
	e.begin(Task{Arrival: 0.1, Images: 5, Bytes: 1e6})
	if f := e.Fastest(); f != 1 {
		t.Errorf("fastest %d, want 1 (B: 5 + 4 < 10 ms)", f)
	}
	// The star, 32 images: candidates GPU (2 hops), B (1 hop), other,
	// A: B is the nearest.
	s := handEnv(t, star(t, 4))
	s.begin(Task{Images: 32, Bytes: 1e5})
	if n := s.Nearest(); n != 1 {
		t.Errorf("star: nearest %d, want 1 (B, one hop)", n)
	}
	// A fork of one-hop nodes, the second 1 ms away, the first 2 ms: the
	// second is the nearest (ties on hops go to the shorter first path).
	f := handEnv(t, handNetwork(t, 3, []topology.Link{link(0, 1, 1e9, 2), link(0, 2, 1e9, 1)}, []int{0},
		[]ComputeNode{cpuNode(1, "x", 1), cpuNode(2, "y", 1)}, []float64{0, 0}, nil))
	f.begin(Task{Images: 1, Bytes: 1e6})
	if n := f.Nearest(); n != 1 {
		t.Errorf("fork: nearest %d, want 1 (1 ms < 2 ms)", n)
	}
}

// oddSource is a random source that always returns 2³³ + 1: IntN of a
// power of two n keeps the low bits (IntN(2) = 1, IntN(1) = 0), IntN of
// other n < 2³¹ is ⌊(2³³ + 1)·n/2⁶⁴⌋ = 0, and Float64 is
// (2³³ + 1)/2⁵³ ≈ 2⁻²⁰.
type oddSource struct{}

func (oddSource) Uint64() uint64 { return 2<<32 | 1 }

// TestMixedTaskDraw: in the mixed mix, a coin IntN(2) = 0 makes an IO task
// and 1 a compute task. zeroSource draws 0 everywhere: AP 0, architecture
// 0, heads, an IO task of the first size, 1e5 bytes. oddSource draws
// tails: a compute task of round(exp(ln 64 + 2⁻²⁰·ln 32)) = 64
// inferences, 64 · 3,072 = 196,608 bytes. The first task of an episode
// arrives at once (no gap is drawn).
func TestMixedTaskDraw(t *testing.T) {
	n := oneLink(t, 0)
	n.Cfg.Mix = Mixed
	e := handEnv(t, n)
	for _, c := range []struct {
		name string
		src  rand.Source
		want Task
	}{
		{"heads", zeroSource{}, Task{Images: 1, Bytes: 1e5}},
		{"tails", oddSource{}, Task{Images: 64, Bytes: 64 * ImageBytes}},
	} {
		e.taskNo, e.now = 0, 0
		e.rng = rand.New(c.src)
		e.nextTask()
		if got := e.Task(); got != c.want {
			t.Errorf("%s: task %+v, want %+v", c.name, got, c.want)
		}
	}
}

// fork is AP 0 → relay 1 over link 0 (2³⁰ bit/s), then to the compute node
// 4 (1 ms per inference) through node 2 (links 1, 2), node 3 (links 3,
// 4), both 2⁻¹⁰ s per link like link 0, or node 5 (links 5, 6, 2⁻⁸ s
// each); the links after link 0 have 2³¹ bit/s, so link 0, which every
// path crosses, is every path's bottleneck. Probes of 128 bytes. All
// powers of two: the delays and times below are exact.
func fork(t testing.TB, p int) *Network {
	lk := func(from, to int, capacity, delay float64) topology.Link {
		return topology.Link{From: from, To: to, Capacity: capacity, Delay: delay, Weight: 1}
	}
	const ms = 1.0 / 1024
	return handNetwork(t, 6, []topology.Link{lk(0, 1, 1<<30, ms), lk(1, 2, 1<<31, ms), lk(2, 4, 1<<31, ms),
		lk(1, 3, 1<<31, ms), lk(3, 4, 1<<31, ms), lk(1, 5, 1<<31, 4*ms), lk(5, 4, 1<<31, 4*ms)},
		[]int{0}, []ComputeNode{cpuNode(4, "cpu", 1)}, make([]float64, 7), func(c *Config) {
			c.P, c.ProbeBytes = p, 128
		})
}

// TestControllerTies: the controller's split when its two candidate
// splits tie, and when two paths tie for the single fastest. Task: 2²⁰
// bytes = 2²³ bits, 1 inference (1 ms). The two short paths (links 0, 1,
// 2 and 0, 3, 4) have the same probed delay d = 3·2⁻¹⁰ s + 1,024 bits /
// 2³⁰ = 3·2⁻¹⁰ + 2⁻²⁰ s and bottleneck 2³⁰ alone: one of them alone takes
// d + 2²³/2³⁰ = d + 2⁻⁷ s.
func TestControllerTies(t *testing.T) {
	const d = 3.0/1024 + 1.0/(1<<20)
	const tSingle = d + 1.0/128
	check := func(e *Env, what string, split []float32, est float64) {
		t.Helper()
		if got := e.Obs().Nodes[0].EstimateMs; !near(got, est) {
			t.Errorf("%s: estimate %v ms, want %v", what, got, est)
		}
		for j, w := range split {
			if got := e.Obs().Paths[j].Split; got != w {
				t.Errorf("%s: controller split of path %d = %v, want %v", what, j, got, w)
			}
		}
		a, err := e.WaterFilling()
		if err != nil {
			t.Fatal(err)
		}
		if a.Index != 0 || !slices.Equal(a.Values, split) {
			t.Errorf("%s: wf decision %+v, want candidate 0 with %v", what, a, split)
		}
	}
	// P = 2: both paths cross link 0, so their shared bottleneck is 2²⁹
	// each and water-filling over both ends at (2²³ + 2·2²⁹·d)/2³⁰ =
	// d + 2⁻⁷ s: exactly the single path's time. On that tie the
	// controller keeps the water-filling split, ½ each (each path sends
	// 2²² bits at 2²⁹ bit/s; the same 2⁻⁷ s).
	e := handEnv(t, fork(t, 2))
	e.begin(Task{Images: 1, Bytes: 1 << 20})
	if ps := e.psets[0]; !slices.Equal(ps.links[0], []int{0, 1, 2}) || !slices.Equal(ps.links[1], []int{0, 3, 4}) {
		t.Fatalf("paths %v, want [0 1 2] and [0 3 4]", ps.links)
	}
	check(e, "P = 2", []float32{0.5, 0.5}, 1+1000*tSingle)
	if got := e.Obs().Nodes[0].SharedWaterFillMs; !near(got, 1000*tSingle) {
		t.Errorf("P = 2: shared water-filling time %v ms, want %v", got, 1000*tSingle)
	}
	// P = 3: the long path (links 0, 5, 6; d + 6·2⁻¹⁰ s) crosses link 0
	// too: the shared bottleneck is 2³⁰/3 on every path, and water-filling
	// over the three ends at 2⁻⁷ + (2d + d + 6·2⁻¹⁰)/3 = d + 2⁻⁷ + 2·2⁻¹⁰
	// s, later than either short path alone (d + 2⁻⁷). The two short paths
	// tie for the fastest: the first one takes everything.
	e = handEnv(t, fork(t, 3))
	e.begin(Task{Images: 1, Bytes: 1 << 20})
	check(e, "P = 3", []float32{1, 0, 0}, 1+1000*tSingle)
	if nd := e.Obs().Nodes[0]; !near(nd.SharedWaterFillMs, 1000*(tSingle+2.0/1024)) || !near(nd.SinglePathMs, 1000*tSingle) {
		t.Errorf("P = 3: shared water-filling time %v, single-path time %v ms; want %v, %v", nd.SharedWaterFillMs, nd.SinglePathMs, 1000*(tSingle+2.0/1024), 1000*tSingle)
	}
}

// TestMillionthShare: flowlets carry more than 10⁻⁶ of a task; a path
// given exactly 10⁻⁶ carries nothing, and the evaluation leaves no trace.
// Diamond with MinSplit 0 (nothing is dropped before) and link 1 (path 0
// only) saturated: 0.995 Gbit/s of background, a 49.5 ms queue and the
// MinShare floor 2e7 bit/s. Split b, a1 + a2 with b = float32(1e-6) and
// a1 + a2 = 999,999·b exactly: path 0's share is b/(10⁶·b), which rounds
// to exactly 1e-6. Path 1 (links 0, 2, 3, idle, bottleneck 0.2e9) sends
// 0.999999 · 8e6 bits: 3 + 0.999999·40 ms. Used, path 0 would cost at
// least its 2 + 49.5 ms.
func TestMillionthShare(t *testing.T) {
	e := handEnv(t, diamond(t, []float64{0, 0.995e9, 0, 0}, func(c *Config) { c.MinSplit = 0 }))
	e.begin(Task{Images: 1, Bytes: 1e6})
	b := float32(1e-6)
	rest := 999999 * float64(b) // exact: 20 + 24 significant bits
	a1 := float32(rest)
	if float64(a1) > rest {
		a1 = math.Nextafter32(a1, 0)
	}
	a2 := float32(rest - float64(a1)) // exact: below a1's last bit
	if float64(a1)+float64(a2) != rest || float64(b)/(float64(b)+rest) != 1e-6 {
		t.Fatalf("setup: split %v %v %v does not give path 0 exactly 1e-6", b, a1, a2)
	}
	for range 2 {
		out, err := e.Evaluate(actionOf(0, b, a1, a2))
		if err != nil {
			t.Fatal(err)
		}
		checkOutcome(t, "1e-6 on path 0", out, 0, 3+0.999999*40, 0, 1)
	}
	// Then all on path 0, as in TestOneLinkLatency "saturated": alone on
	// link 1, 8e6 bits at 2e7 bit/s: 2 + 49.5 + 400 ms.
	out, err := e.Evaluate(actionOf(0, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, "all on path 0 after", out, 0, 451.5, 0, 1)
}

// TestWaterFillTieAndBoundary: with nothing to send and two equally fast
// paths, everything goes on the first of them. And a fill that reaches
// the next path's delay exactly stops there: 1 bit over path 0 (5 bit/s,
// no delay) ends at 1/5 s, which rounds to the float64 0.2, path 1's
// delay: the level is 0.2 s and path 1 gets nothing.
func TestWaterFillTieAndBoundary(t *testing.T) {
	x := make([]float32, 3)
	if level := waterFill(x, []float64{1, 1, 3}, []float64{1, 1, 1}, []int{0, 1, 2}, 0); level != 1 || !slices.Equal(x, []float32{1, 0, 0}) {
		t.Errorf("nothing to send, tie: level %v, split %v; want 1, [1 0 0]", level, x)
	}
	x = make([]float32, 2)
	if level := waterFill(x, []float64{0, 0.2}, []float64{5, 1}, []int{0, 1}, 1); level != 0.2 || !slices.Equal(x, []float32{1, 0}) {
		t.Errorf("fill up to the next delay: level %v, split %v; want 0.2, [1 0]", level, x)
	}
}

// TestFlowHeapTies: two flows that end at the same time (say the two
// flowlets of a split with equal transfer times) leave the heap in the
// order they were pushed.
func TestFlowHeapTies(t *testing.T) {
	var h flowHeap
	heap.Push(&h, flow{End: 1, Rate: 1})
	heap.Push(&h, flow{End: 1, Rate: 2})
	if a, b := heap.Pop(&h).(flow), heap.Pop(&h).(flow); a.Rate != 1 || b.Rate != 2 {
		t.Errorf("released %+v then %+v; want the first pushed (rate 1) first", a, b)
	}
}

// TestPredictionsSteerTheControllerNotTheSimulation: two CPUs one link
// away from the access point, "fast" measured at 1 ms per inference and
// "slow" at 5 ms. The controller's predictions swap them. The observation
// shows the predictions (10 inferences: fast 50 ms, slow 10 ms), the
// Fastest heuristic and wf pick the slow node (predicted faster), and the
// simulation runs the measured latency: 50 ms of compute on the slow node.
// Restoring exact predictions (nil) brings the measured values back.
func TestPredictionsSteerTheControllerNotTheSimulation(t *testing.T) {
	n := handNetwork(t, 3, []topology.Link{link(0, 1, 1e9, 5), link(0, 2, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "fast", 1), cpuNode(2, "slow", 5)}, []float64{0, 0}, nil)
	n.SetPredictions(&Latencies{per: map[string][][]float32{"fast": {flat(5)}, "slow": {flat(1)}}})
	if n.Exact() {
		t.Fatal("Exact with predicted tables")
	}
	e := handEnv(t, n)
	e.begin(Task{Images: 10, Bytes: 1e6})
	o := e.obs
	var byNode [2]float64
	for i, c := range e.cands {
		byNode[c] = o.Nodes[i].ComputeMs
	}
	if !near(byNode[0], 50) || !near(byNode[1], 10) {
		t.Fatalf("observed compute %v ms, want the predictions [50 10]", byNode)
	}
	if c := e.cands[e.Fastest()]; c != 1 {
		t.Fatalf("Fastest picked compute node %d, want 1 (predicted 10 ms)", c)
	}
	a, err := WaterFillingFromObs(o)
	if err != nil || e.cands[a.Index] != 1 {
		t.Fatalf("wf picked %v (%v), want compute node 1", a, err)
	}
	out, err := e.Evaluate(a)
	if err != nil {
		t.Fatal(err)
	}
	// Transfer 5 + 8 ms on the idle link; compute measured 10 · 5 ms.
	checkOutcome(t, "slow node", out, 1, 13, 0, 50)
	n.SetPredictions(nil)
	if !n.Exact() || !near(n.Predicted(0, Task{Images: 10}), 10) {
		t.Fatal("nil did not restore the measured latencies")
	}
}

// TestNewLatencies: tables by HELP device name are assembled per model,
// GPUs' in batch order 1, 32, 256 (a GPU at 3, 40 and 200 ms per batch
// runs 300 images fastest as 2 batches of 256: 400 ms, against 10·40 =
// 400 — a tie — and 300·3 = 900); missing, short or non-positive tables
// are errors naming the device.
func TestNewLatencies(t *testing.T) {
	by := map[string][]float32{}
	for _, d := range LatencyDevices() {
		by[d] = flat(2)
	}
	by["titanx_1"], by["titanx_32"], by["titanx_256"] = flat(3), flat(40), flat(200)
	l, err := NewLatencies(by)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.compute("titanx", 0, 300); !near(got, 400) {
		t.Fatalf("titanx, 300 images: %v ms, want 400", got)
	}
	if got := l.compute("fpga", 7, 3); !near(got, 6) {
		t.Fatalf("fpga, 3 images: %v ms, want 6", got)
	}
	for name, mod := range map[string]func(map[string][]float32){
		"missing":  func(m map[string][]float32) { delete(m, "raspi4") },
		"short":    func(m map[string][]float32) { m["gold_6226"] = m["gold_6226"][:10] },
		"NaN":      func(m map[string][]float32) { m["eyeriss"] = flat(float32(math.NaN())) },
		"zero":     func(m map[string][]float32) { m["2080ti_32"] = flat(0) },
		"infinite": func(m map[string][]float32) { m["fpga"] = flat(float32(math.Inf(1))) },
	} {
		m := map[string][]float32{}
		for k, v := range by {
			m[k] = v
		}
		mod(m)
		if _, err := NewLatencies(m); err == nil {
			t.Errorf("%s table accepted", name)
		}
	}
}

// tenantNet is oneLink with other tenants on the compute node (their
// timeline is then set by hand).
func tenantNet(t *testing.T) *Env {
	n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0}, func(c *Config) { c.Tenants, c.TenantJobMs = 0.5, 20 })
	return handEnv(t, n)
}

// TestTenantsKnownValues: a task of 10 inferences (10 ms of compute) over
// the idle link arrives at the node at 13 ms (5 ms propagation + 8 ms of
// data). (a) A tenant job running over [0, 30) ms: the task waits 17 ms,
// latency 13 + 17 + 10 = 40 ms, while the observation shows no wait (the
// controller does not see tenants), and Evaluate leaves the timeline
// alone. (b) A tenant job due at [15, 20) ms: the task starts at 13 ms and
// the job is postponed behind it to [23, 28) ms on commit. (c) Without
// tenants, the same task does not wait.
func TestTenantsKnownValues(t *testing.T) {
	task := Task{Images: 10, Bytes: 1e6}
	e := tenantNet(t)
	e.tenS[0], e.tenE[0] = 0, 0.030
	e.begin(task)
	if w := e.obs.Nodes[0].WaitMs; w != 0 {
		t.Fatalf("observed wait %v ms, want 0 (tenants are hidden)", w)
	}
	out, err := e.Evaluate(actionOf(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, "tenant running", out, 0, 13, 17, 10)
	if e.tenS[0] != 0 || e.tenE[0] != 0.030 {
		t.Fatalf("Evaluate moved the timeline to [%v, %v)", e.tenS[0], e.tenE[0])
	}

	e = tenantNet(t)
	e.tenS[0], e.tenE[0] = 0.015, 0.020
	e.begin(task)
	out = e.outcome(0, []float32{1}, true)
	checkOutcome(t, "tenant job due during the task", out, 0, 13, 0, 10)
	if !near(e.tenS[0], 0.023) || !near(e.tenE[0], 0.028) {
		t.Fatalf("tenant job at [%v, %v), want postponed to [0.023, 0.028)", e.tenS[0], e.tenE[0])
	}

	e = handEnv(t, oneLink(t, 0))
	e.begin(task)
	out, _ = e.Evaluate(actionOf(0, 1))
	checkOutcome(t, "no tenants", out, 0, 13, 0, 10)
}

// TestTenantTimelineShares: over 20,000 drawn periods, the tenants' busy
// share is Tenants (0.3) and their mean job TenantJobMs (20 ms), each
// within 3 %.
func TestTenantTimelineShares(t *testing.T) {
	n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0}, func(c *Config) { c.Tenants, c.TenantJobMs = 0.3, 20 })
	e := handEnv(t, n)
	src := e.tenRNG[0]
	var busy, end float64
	const periods = 20000
	for range periods {
		s, en := e.tenantPeriod(&src, end)
		busy += en - s
		end = en
	}
	if share := busy / end; math.Abs(share-0.3) > 0.03*0.3 {
		t.Fatalf("busy share %v, want 0.3", share)
	}
	if job := 1000 * busy / periods; math.Abs(job-20) > 0.03*20 {
		t.Fatalf("mean job %v ms, want 20", job)
	}
}

// TestProbeSamples: one link of 1 Gbit/s carrying 0.5 Gbit/s of cross
// traffic, 2 probes. Exact probes see 0.5 Gbit/s available every time.
// With ProbeNoise 0.2 each probe sees 1e9 − 0.5e9·(1 + 0.2z): the
// observed bandwidth (the mean of 2 probes) has mean 0.5e9 and standard
// deviation 0.5e9·0.2/√2 = 70.71 Mbit/s; over 4,000 observations the mean
// is within 3 standard errors (±3.4 Mbit/s) and the deviation within 5 %.
// The transfer itself still sees the exact state: 5 ms + 0.5 ms of queue
// + 8e6 bits / 0.5e9 bit/s = 21.5 ms (as in TestOneLinkLatency).
func TestProbeSamples(t *testing.T) {
	task := Task{Images: 10, Bytes: 1e6}
	exact := handEnv(t, oneLink(t, 0.5e9))
	exact.begin(task)
	if b := exact.obs.Paths[0].BottleneckBps; !near(b, 0.5e9) {
		t.Fatalf("exact probes: %v bit/s, want 5e8", b)
	}
	n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0.5e9}, func(c *Config) { c.ProbeNoise = 0.2 })
	e := handEnv(t, n)
	const runs = 4000
	var sum, sq float64
	for range runs {
		e.begin(task)
		b := e.obs.Paths[0].BottleneckBps
		sum += b
		sq += b * b
	}
	mean := sum / runs
	sd := math.Sqrt(sq/runs - mean*mean)
	if !(math.Abs(mean-0.5e9) <= 3.4e6) || !(math.Abs(sd-70.71e6) <= 0.05*70.71e6) { // NaN fails too
		t.Fatalf("observed bandwidth %.4g ± %.4g, want 5e8 ± 7.071e7", mean, sd)
	}
	out, err := e.Evaluate(actionOf(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, "transfer on the exact state", out, 0, 21.5, 0, 10)
}

// TestTrafficDrift: with TrafficDrift the background moves linearly from
// one matrix to the next over the interval. oneLink's 0.5 Gbit/s with the
// series (1, 0.5): at 75 s into interval 0 the load is 0.75·0.5 + 0.25·0.25
// = 0.4375 Gbit/s: queue 0.5 ms · 0.4375/0.5625 = 7/18 ms, rate 0.5625
// Gbit/s, 8e6/0.5625e9 = 128/9 ms. Starting in interval 1 it wraps to
// interval 0: 0.75·0.25 + 0.25·0.5 = 0.3125 Gbit/s, queue 0.5·0.3125/0.6875
// = 5/22 ms, 8/0.6875 = 128/11 ms. Without drift: the interval's matrix.
func TestTrafficDrift(t *testing.T) {
	for _, c := range []struct {
		drift    bool
		tm       int
		at, want float64
	}{
		{true, 0, 0, 21.5},
		{true, 0, 75, 5 + 7.0/18 + 128.0/9},
		{true, 1, 75, 5 + 5.0/22 + 128.0/11},
		{true, 0, 300 + 75, 5 + 5.0/22 + 128.0/11},
		{false, 0, 75, 21.5},
		{false, 1, 75, 5 + 1.0/6 + 32.0/3},
	} {
		n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
			[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0.5e9}, func(cf *Config) { cf.TrafficDrift = c.drift })
		n.bg.series = []float64{1, 0.5}
		e := handEnv(t, n)
		e.tm = c.tm
		e.begin(Task{Arrival: c.at, Images: 1, Bytes: 1e6})
		checkOutcome(t, fmt.Sprintf("drift %v from interval %d at %v s", c.drift, c.tm, c.at), e.outcome(0, []float32{1}, false), 0, c.want, 0, 1)
	}
}

// TestProbeAge: the probes saw the background ProbeAgeMs before the
// decision, the transfer meets it as it is. Series (1, 0) on oneLink's 0.5
// Gbit/s with drift: a task at 60 s probed at 0 s sees 0.5 Gbit/s (a 0.5
// Gbit/s bottleneck), but its transfer meets 0.8·0.5 = 0.4 Gbit/s: queue
// 0.5·0.4/0.6 = 1/3 ms, 8e6/0.6e9 = 40/3 ms. A task at 0 s probed at −60 s
// (interval −1 = 1, 80 % of the way to interval 0) saw 0.4 Gbit/s, a 0.6
// Gbit/s bottleneck, and meets 0.5 Gbit/s (21.5 ms).
func TestProbeAge(t *testing.T) {
	n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
		[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0.5e9}, func(c *Config) { c.TrafficDrift, c.ProbeAgeMs = true, 60000 })
	n.bg.series = []float64{1, 0}
	e := handEnv(t, n)
	e.tm = 0
	for _, c := range []struct{ at, bott, transfer float64 }{
		{60, 0.5e9, 5 + 1.0/3 + 40.0/3},
		{0, 0.6e9, 21.5},
	} {
		e.begin(Task{Arrival: c.at, Images: 1, Bytes: 1e6})
		if b := e.obs.Paths[0].BottleneckBps; !near(b, c.bott) {
			t.Errorf("at %v s: probed bottleneck %v, want %v", c.at, b, c.bott)
		}
		checkOutcome(t, fmt.Sprintf("at %v s", c.at), e.outcome(0, []float32{1}, false), 0, c.transfer, 0, 1)
	}
}

// TestBursts: a burst adds BurstSize·capacity to a link for a slot of
// BurstMs. Always on (share 1, size 0.25): oneLink's 0.5 Gbit/s becomes
// 0.75: queue 0.5·0.75/0.25 = 1.5 ms, rate 0.25 Gbit/s, 32 ms. At share
// 0.3 over 20,000 slots about 30 % are on (standard error 0.0032; bounds
// at 0.015), a slot's state is the same anywhere inside it, consecutive
// slots are independent (P(on | previous on) ≈ 0.3, standard error 0.006,
// bounds 0.03), and probes 50 ms old (5 slots) disagree with the transfer
// in 2·0.3·0.7 = 42 % of tasks.
func TestBursts(t *testing.T) {
	on := func(share, ageMs float64) *Env {
		n := handNetwork(t, 2, []topology.Link{link(0, 1, 1e9, 5)}, []int{0},
			[]ComputeNode{cpuNode(1, "cpu", 1)}, []float64{0.5e9}, func(c *Config) {
				c.BurstShare, c.BurstSize, c.BurstMs, c.ProbeAgeMs = share, 0.25, 10, ageMs
			})
		return handEnv(t, n)
	}
	e := on(1, 0)
	e.begin(Task{Arrival: 1.234, Images: 1, Bytes: 1e6})
	checkOutcome(t, "burst on", e.outcome(0, []float32{1}, false), 0, 5+1.5+32, 0, 1)
	if b := e.obs.Paths[0].BottleneckBps; !near(b, 0.25e9) {
		t.Errorf("probed during a burst: bottleneck %v, want 2.5e8", b)
	}
	e = on(0.3, 50)
	const slots = 20000
	var nOn, pairs, both, disagree int
	prev := false
	for s := range slots {
		t0 := float64(s) * 0.010
		b := e.bgAt(t0+0.001, 0)
		if b2 := e.bgAt(t0+0.009, 0); b2 != b {
			t.Fatalf("slot %d: %v then %v inside one slot", s, b, b2)
		}
		isOn := b > 0.6e9
		if isOn {
			nOn++
		}
		if s > 0 && prev {
			pairs++
			if isOn {
				both++
			}
		}
		prev = isOn
		if s%4 == 0 {
			e.begin(Task{Arrival: t0 + 0.005, Images: 1, Bytes: 1e6})
			seen := e.obs.Paths[0].BottleneckBps < 0.4e9
			if seen != isOn {
				disagree++
			}
		}
	}
	if f := float64(nOn) / slots; math.Abs(f-0.3) > 0.015 {
		t.Errorf("bursts on in %.4f of the slots, want 0.3", f)
	}
	if f := float64(both) / float64(pairs); math.Abs(f-0.3) > 0.03 {
		t.Errorf("P(on | previous on) = %.4f, want 0.3 (independent slots)", f)
	}
	if f := float64(disagree) / (slots / 4); math.Abs(f-0.42) > 0.03 {
		t.Errorf("old probes disagree with the transfer in %.4f of the tasks, want 0.42", f)
	}
}
