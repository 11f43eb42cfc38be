package cpn

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/topology"
)

// Known-answer tests of the static parts: the configuration's bounds, the
// placement of access points and devices, the background traffic (routing
// and scaling) and snapshots. None needs the data sets.

// TestValidateBounds: every bound of Config.Validate, at the last accepted
// value and the first rejected one.
func TestValidateBounds(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"no topology", func(c *Config) { c.Topology = "" }, false},
		{"waxman 4 nodes", func(c *Config) { c.Topology, c.WaxmanNodes = "Waxman", 4 }, true},
		{"waxman 3 nodes", func(c *Config) { c.Topology, c.WaxmanNodes = "Waxman", 3 }, false},
		{"3 nodes, not waxman", func(c *Config) { c.WaxmanNodes = 3 }, true},
		{"0 access points (auto)", func(c *Config) { c.AccessPoints = 0 }, true},
		{"-1 access points", func(c *Config) { c.AccessPoints = -1 }, false},
		{"other fraction 0", func(c *Config) { c.OtherFraction = 0 }, true},
		{"other fraction 1", func(c *Config) { c.OtherFraction = 1 }, true},
		{"other fraction -0.01", func(c *Config) { c.OtherFraction = -0.01 }, false},
		{"other fraction 1.01", func(c *Config) { c.OtherFraction = 1.01 }, false},
		{"other fraction NaN", func(c *Config) { c.OtherFraction = math.NaN() }, false},
		{"K 1", func(c *Config) { c.K = 1 }, true},
		{"K 64", func(c *Config) { c.K = 64 }, true},
		{"K 0", func(c *Config) { c.K = 0 }, false},
		{"K 65", func(c *Config) { c.K = 65 }, false},
		{"P 1", func(c *Config) { c.P = 1 }, true},
		{"P 16", func(c *Config) { c.P = 16 }, true},
		{"P 0", func(c *Config) { c.P = 0 }, false},
		{"P 17", func(c *Config) { c.P = 17 }, false},
		{"io mix", func(c *Config) { c.Mix = IOHeavy }, true},
		{"compute mix", func(c *Config) { c.Mix = ComputeHeavy }, true},
		{"unknown mix", func(c *Config) { c.Mix = "video" }, false},
		{"arrival rate 1e-9", func(c *Config) { c.ArrivalRate = 1e-9 }, false},
		{"arrival rate MinArrivalRate", func(c *Config) { c.ArrivalRate = MinArrivalRate }, true},
		{"arrival rate 1e-300 (overflowed the interval index)", func(c *Config) { c.ArrivalRate = 1e-300 }, false},
		{"arrival rate MaxArrivalRate", func(c *Config) { c.ArrivalRate = MaxArrivalRate }, true},
		{"arrival rate 2·MaxArrivalRate", func(c *Config) { c.ArrivalRate = 2 * MaxArrivalRate }, false},
		{"tasks MaxTasks+1", func(c *Config) { c.Tasks = MaxTasks + 1 }, false},
		{"arrival rate 0", func(c *Config) { c.ArrivalRate = 0 }, false},
		{"arrival rate +Inf", func(c *Config) { c.ArrivalRate = math.Inf(1) }, false},
		{"1 task", func(c *Config) { c.Tasks = 1 }, true},
		{"0 tasks", func(c *Config) { c.Tasks = 0 }, false},
		{"load 0", func(c *Config) { c.Load = 0 }, true},
		{"load 0.99", func(c *Config) { c.Load = 0.99 }, true},
		{"load -0.01", func(c *Config) { c.Load = -0.01 }, false},
		{"load 1", func(c *Config) { c.Load = 1 }, false},
		{"1 probe", func(c *Config) { c.Probes = 1 }, true},
		{"0 probes", func(c *Config) { c.Probes = 0 }, false},
		{"probe bytes 0", func(c *Config) { c.ProbeBytes = 0 }, false},
		{"probe bytes +Inf", func(c *Config) { c.ProbeBytes = math.Inf(1) }, false},
		{"queue burst 0", func(c *Config) { c.QueueBurst = 0 }, true},
		{"queue burst -1", func(c *Config) { c.QueueBurst = -1 }, false},
		{"queue burst +Inf", func(c *Config) { c.QueueBurst = math.Inf(1) }, false},
		{"both +Inf", func(c *Config) { c.ProbeBytes, c.QueueBurst = math.Inf(1), math.Inf(1) }, false},
		{"min share 1", func(c *Config) { c.MinShare = 1 }, true},
		{"min share 0", func(c *Config) { c.MinShare = 0 }, false},
		{"min share 1.01", func(c *Config) { c.MinShare = 1.01 }, false},
		{"min split 0", func(c *Config) { c.MinSplit = 0 }, true},
		{"min split just under 1/P", func(c *Config) { c.MinSplit = 0.333 }, true},
		{"min split 1/P", func(c *Config) { c.MinSplit = 1.0 / 3 }, false},
		{"min split -0.01", func(c *Config) { c.MinSplit = -0.01 }, false},
		{"reward scale 1e-9", func(c *Config) { c.RewardScale = 1e-9 }, true},
		{"reward scale 0", func(c *Config) { c.RewardScale = 0 }, false},
		{"reward scale +Inf", func(c *Config) { c.RewardScale = math.Inf(1) }, false},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok = %v", c.name, err, c.ok)
		}
	}
}

// TestValidateMessage: the MinSplit error states the bound it broke, 1/P:
// with P = 4 that is 1/4 = 0.25.
func TestValidateMessage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.P, cfg.MinSplit = 4, 0.3
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "outside [0, 1/P = 0.25)") {
		t.Errorf("MinSplit 0.3 with P = 4: %v, want the bound 1/P = 0.25 in the message", err)
	}
}

// allModels is a Latencies with every device model at a flat 1 ms (GPUs:
// 1, 2 and 4 ms per batch of 1, 32, 256).
func allModels() *Latencies {
	l := &Latencies{per: map[string][][]float32{}}
	for _, m := range append(slices.Clone(cpuModels), otherModels...) {
		l.per[m] = [][]float32{flat(1)}
	}
	for _, m := range gpuModels {
		l.per[m] = [][]float32{flat(1), flat(2), flat(4)}
	}
	return l
}

// ring is a bidirectional ring of n nodes (1 Gbit/s, 1 ms links).
func ring(t testing.TB, name string, n int) *topology.Graph {
	t.Helper()
	var links []topology.Link
	for i := range n {
		links = append(links, link(i, (i+1)%n, 1e9, 1), link((i+1)%n, i, 1e9, 1))
	}
	g, err := topology.New(name, make([]topology.Node, n), links)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// uniformTM is one traffic matrix of n nodes with 1 bit/s between every
// pair.
func uniformTM(n int) *topology.TrafficMatrices {
	m := make([]float64, n*n)
	for i := range m {
		m[i] = 1
	}
	return &topology.TrafficMatrices{Name: "uniform", N: n, M: [][]float64{m}, Unit: 1}
}

// TestPlacement: how many access points and devices of each class
// newNetwork places, and the round-robin of device models.
func TestPlacement(t *testing.T) {
	for _, c := range []struct {
		nodes, aps          int     // aps: Config.AccessPoints
		other               float64 // Config.OtherFraction
		wantAPs             int
		gpu, cpu, otherDevs int
	}{
		// ≤ 12 nodes: 2 access points, no "other" devices, the compute
		// nodes split GPU (rounded up) / CPU: 10 → 5 + 5.
		{12, 0, 0.2, 2, 5, 5, 0},
		// 13 nodes: max(2, 13/6 = 2) = 2 APs; 11 compute, round(0.2·11 =
		// 2.2) = 2 others, (9 + 1)/2 = 5 GPUs, 4 CPUs.
		{13, 0, 0.2, 2, 5, 4, 2},
		// 19 nodes: 19/6 = 3 APs; 16 compute, round(3.2) = 3 others,
		// (13 + 1)/2 = 7 GPUs, 6 CPUs.
		{19, 0, 0.2, 3, 7, 6, 3},
		// 19 nodes, OtherFraction 0.25: round(4) = 4 others, 6 + 6.
		{19, 0, 0.25, 3, 6, 6, 4},
		// Explicit 5 APs on 12 nodes: 7 compute, 4 GPUs, 3 CPUs.
		{12, 5, 0.2, 5, 4, 3, 0},
		// All but one node are APs: one GPU.
		{12, 11, 0.2, 11, 1, 0, 0},
	} {
		g := ring(t, "hand", c.nodes)
		cfg := DefaultConfig()
		cfg.Topology, cfg.AccessPoints, cfg.OtherFraction = "hand", c.aps, c.other
		lat := allModels()
		n, err := newNetwork(cfg, g, uniformTM(c.nodes), lat)
		if err != nil {
			t.Fatal(err)
		}
		if len(n.APs) != c.wantAPs || len(n.Compute) != c.nodes-c.wantAPs {
			t.Errorf("%d nodes: %d APs and %d compute nodes, want %d and %d", c.nodes, len(n.APs), len(n.Compute), c.wantAPs, c.nodes-c.wantAPs)
			continue
		}
		// Every node is an AP or a compute node, once; both lists sorted.
		var all []int
		all = append(all, n.APs...)
		models := map[string]int{}
		var count [numClasses]int
		for i, cn := range n.Compute {
			all = append(all, cn.Node)
			count[cn.Class]++
			models[cn.Model]++
			if i > 0 && cn.Node < n.Compute[i-1].Node {
				t.Errorf("%d nodes: compute nodes out of order", c.nodes)
			}
			if cn.tab == nil || len(cn.tab) != len(lat.per[cn.Model]) {
				t.Errorf("%d nodes: %s has no latency table", c.nodes, cn.Model)
			}
		}
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("%d nodes: APs %v and compute nodes do not partition the nodes", c.nodes, n.APs)
			}
		}
		if count != [numClasses]int{c.cpu, c.gpu, c.otherDevs} {
			t.Errorf("%d nodes, %d APs: devices (CPU, GPU, other) %v, want [%d %d %d]", c.nodes, c.aps, count, c.cpu, c.gpu, c.otherDevs)
		}
		// Models round-robin in list order: the i-th device of a class
		// gets model i mod len(models).
		for class, list := range [][]string{cpuModels, gpuModels, otherModels} {
			for i, m := range list {
				want := count[class] / len(list)
				if i < count[class]%len(list) {
					want++
				}
				if models[m] != want {
					t.Errorf("%d nodes: %d devices of model %s, want %d", c.nodes, models[m], m, want)
				}
			}
			if got := len(n.models[class]); got != min(count[class], len(list)) {
				t.Errorf("%d nodes: %d distinct models of class %d, want %d", c.nodes, got, class, min(count[class], len(list)))
			}
		}
	}
	for _, c := range []struct {
		nodes, aps int
	}{{2, 0}, {12, 12}, {12, 13}} {
		cfg := DefaultConfig()
		cfg.AccessPoints = c.aps
		if _, err := newNetwork(cfg, ring(t, "hand", c.nodes), uniformTM(c.nodes), allModels()); err == nil {
			t.Errorf("%d nodes, %d access points: no error", c.nodes, c.aps)
		}
	}
	if _, err := newNetwork(DefaultConfig(), ring(t, "hand", 3), uniformTM(3), allModels()); err != nil {
		t.Errorf("3 nodes: %v", err)
	}
}

// tri is nodes 0 ⇄ 1 ⇄ 2: link 0 = 0→1 (2 Gbit/s), 1 = 1→0, 2 = 1→2,
// 3 = 2→1 (1 Gbit/s), OSPF weights 1.
func tri(t testing.TB, name string) *topology.Graph {
	t.Helper()
	g, err := topology.New(name, make([]topology.Node, 3),
		[]topology.Link{link(0, 1, 2e9, 1), link(1, 0, 1e9, 1), link(1, 2, 1e9, 1), link(2, 1, 1e9, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRouting: OSPF shortest paths, ties to fewer hops, then to the lower
// link index; demands add up on the links of their paths.
func TestRouting(t *testing.T) {
	mk := func(links ...topology.Link) *topology.Graph {
		g, err := topology.New("r", make([]topology.Node, 4), links)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	w := func(l topology.Link, weight float64) topology.Link { l.Weight = weight; return l }
	// 0 → 2 directly (link 2, weight 2) or through 1 (links 0, 1, 1 + 1):
	// equal weights, the direct link has fewer hops.
	g := mk(w(link(0, 1, 1e9, 1), 1), w(link(1, 2, 1e9, 1), 1), w(link(0, 2, 1e9, 1), 2))
	if got := routeTree(g, 0); !slices.Equal(got, []int{-1, 0, 2, -1}) {
		t.Errorf("hop tie: route tree %v, want [-1 0 2 -1] (node 3 unreachable)", got)
	}
	// A square 0→1→3, 0→2→3 of equal weights and hops: node 3 is entered
	// by the lower link index (2 = 2→3, not 3 = 1→3).
	g = mk(link(0, 1, 1e9, 1), link(0, 2, 1e9, 1), link(2, 3, 1e9, 1), link(1, 3, 1e9, 1))
	if got := routeTree(g, 0); !slices.Equal(got, []int{-1, 0, 1, 2}) {
		t.Errorf("index tie: route tree %v, want [-1 0 1 2]", got)
	}
	// The mirror image: 1→3 is link 2 and wins over 2→3 (link 3).
	g = mk(link(0, 1, 1e9, 1), link(0, 2, 1e9, 1), link(1, 3, 1e9, 1), link(2, 3, 1e9, 1))
	if got := routeTree(g, 0); !slices.Equal(got, []int{-1, 0, 1, 2}) {
		t.Errorf("index tie, mirrored: route tree %v, want [-1 0 1 2]", got)
	}
	// A cheaper long path beats an expensive short one: 0→1→2 weights
	// 1 + 1 < 0→2 weight 3.
	g = mk(w(link(0, 1, 1e9, 1), 1), w(link(1, 2, 1e9, 1), 1), w(link(0, 2, 1e9, 1), 3))
	if got := routeTree(g, 0); !slices.Equal(got, []int{-1, 0, 1, -1}) {
		t.Errorf("weights: route tree %v, want [-1 0 1 -1]", got)
	}
	// Demands on tri: 0→2 (5) over links 0, 2; 2→0 (7) over 3, 1; 1→0
	// (11) over 1; 0→0 (13) nowhere.
	load := routeDemands(tri(t, "tri"), func(i, j int) float64 {
		return map[[2]int]float64{{0, 2}: 5, {2, 0}: 7, {1, 0}: 11, {0, 0}: 13}[[2]int{i, j}]
	})
	if !slices.Equal(load, []float64{5, 18, 5, 7}) {
		t.Errorf("link loads %v, want [5 18 5 7]", load)
	}
	// Demands to an unreachable node load nothing (node 3 has no links).
	load = routeDemands(mk(link(0, 1, 1e9, 1)), func(i, j int) float64 { return 1 })
	if !slices.Equal(load, []float64{1}) {
		t.Errorf("with an unreachable node: loads %v, want [1] (0→1 only)", load)
	}
}

// TestGravityBackground: the gravity model on tri, scaled so the busiest
// link's mean utilisation is Load, capped at 95 % of every link at the
// series' peak.
func TestGravityBackground(t *testing.T) {
	// Masses = outgoing capacity: 2e9, 2e9 (1→0, 1→2), 1e9; Σm = 5e9,
	// Σm² = 9e18, Σ_{a≠b} m_a m_b = 25e18 − 9e18 = 16e18. Demands (total
	// 1): 0→1 4/16, 0→2 2/16, 1→0 4/16, 1→2 2/16, 2→0 2/16, 2→1 2/16.
	// Links: 0 (0→1) carries 0→1 and 0→2: 0.375, utilisation
	// 0.375/2e9; 1 (1→0): 1→0, 2→0: 0.375, /1e9 (the busiest); 2 (1→2):
	// 1→2, 0→2: 0.25; 3 (2→1): 2→1, 2→0: 0.25.
	// Series [1, 3], mean 2: multipliers [0.5, 1.5], peak 1.5. Load 0.9:
	// base = load · 0.9/(0.375/1e9): [0.9e9, 0.9e9, 0.6e9, 0.6e9], capped
	// at 0.95 · capacity/1.5: link 1 at 0.95e9/1.5 (the others are under
	// their caps, 1.9e9/1.5 and 0.95e9/1.5).
	b := newGravityBackground(tri(t, "tri"), []float64{1, 3}, 0.9)
	want := []float64{0.9e9, 0.95e9 / 1.5, 0.6e9, 0.6e9}
	if b.intervals() != 2 {
		t.Fatalf("%d intervals, want 2", b.intervals())
	}
	for i, mult := range []float64{0.5, 1.5} {
		for l := range want {
			if got := b.at(i, l); !near(got, want[l]*mult) {
				t.Errorf("interval %d, link %d: %v bit/s, want %v", i, l, got, want[l]*mult)
			}
		}
	}
	// A series under 1 everywhere caps at 95 % of the capacity (the peak
	// multiplier counts as at least 1): Load 0.99 asks 0.99e9 of link 1.
	b = newGravityBackground(tri(t, "tri"), []float64{0.5, 0.5}, 0.99)
	if got := b.at(0, 1); !near(got, 0.95e9) {
		t.Errorf("flat series: link 1 at %v bit/s, want the cap 0.95e9", got)
	}
	// No demand at all (one link, and the only node with outgoing
	// capacity cannot be a destination of itself): zero load, not NaN.
	g, err := topology.New("one", make([]topology.Node, 2), []topology.Link{link(0, 1, 1e9, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := newGravityBackground(g, []float64{1}, 0.5).at(0, 0); got != 0 {
		t.Errorf("no demand: load %v, want 0", got)
	}
}

// TestAbileneStyleBackground: traffic matrices routed interval by
// interval and scaled so that the mean over intervals of the busiest
// link's utilisation is Load, capped at 95 %.
func TestAbileneStyleBackground(t *testing.T) {
	// Interval 0: 0→2 1e8 bit/s over links 0 (2e9) and 2 (1e9): busiest
	// 0.1 (the 5e8 of node 0 to itself is dropped). Interval 1: 2→0 3e8
	// over links 3 and 1 (1e9 each): 0.3. Mean 0.2; Load 0.8: scale 4.
	// Interval 0: [4e8, 0, 4e8, 0]; interval 1: 1.2e9 capped at 0.95e9 on
	// links 1 and 3.
	tm := &topology.TrafficMatrices{N: 3, Unit: 1, M: [][]float64{
		{5e8, 0, 1e8, 0, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 0, 3e8, 0, 0},
	}}
	b := newAbileneBackground(tri(t, "tri"), tm, 0.8)
	want := [][]float64{{4e8, 0, 4e8, 0}, {0, 0.95e9, 0, 0.95e9}}
	if b.intervals() != 2 {
		t.Fatalf("%d intervals, want 2", b.intervals())
	}
	for i := range want {
		for l := range want[i] {
			if got := b.at(i, l); got != want[i][l] {
				t.Errorf("interval %d, link %d: %v bit/s, want %v", i, l, got, want[i][l])
			}
		}
	}
	// No traffic: no load (not NaN).
	zero := &topology.TrafficMatrices{N: 3, Unit: 1, M: [][]float64{make([]float64, 9)}}
	if got := newAbileneBackground(tri(t, "tri"), zero, 0.8).at(0, 0); got != 0 {
		t.Errorf("no traffic: load %v, want 0", got)
	}
	// newNetwork uses the matrices on a graph named Abilene with as many
	// nodes, the gravity model otherwise.
	for _, c := range []struct {
		name     string
		tmNodes  int
		matrices bool
	}{{"Abilene", 3, true}, {"Abilene", 4, false}, {"tri", 3, false}} {
		tm := &topology.TrafficMatrices{N: c.tmNodes, Unit: 1, M: [][]float64{make([]float64, c.tmNodes*c.tmNodes)}}
		tm.M[0][1] = 1
		n, err := newNetwork(DefaultConfig(), tri(t, c.name), tm, allModels())
		if err != nil {
			t.Fatal(err)
		}
		if (n.bg.perInterval != nil) != c.matrices {
			t.Errorf("%s with a %d-node matrix: routed matrices %v, want %v", c.name, c.tmNodes, n.bg.perInterval != nil, c.matrices)
		}
	}
}

// TestRestoreChecks: a snapshot restores the exact state (the next
// decision costs the same), and snapshots of another network or with a
// task outside it are refused.
func TestRestoreChecks(t *testing.T) {
	n := twin(t, []float64{0, 0, 0, 0})
	if _, err := NewEnv(n).Snapshot(); err == nil {
		t.Error("snapshot before Reset succeeded")
	}
	e := handEnv(t, n)
	e.begin(Task{Images: 5, Bytes: 1e6})
	e.outcome(0, []float32{0.5, 0.5}, true)
	e.begin(Task{Arrival: 0.004, Images: 5, Bytes: 1e6})
	want, _ := e.Evaluate(actionOf(0, 0.5, 0.5))
	b, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := NewEnv(n)
	if _, err := r.Restore(b); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Evaluate(actionOf(0, 0.5, 0.5)); got != want {
		t.Errorf("restored: %+v, want %+v", got, want)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mod  func(*snapshot)
		ok   bool
	}{
		{"as taken", func(*snapshot) {}, true},
		{"other topology", func(s *snapshot) { s.Topology = "abilene" }, false},
		{"busy of 1 node", func(s *snapshot) { s.Busy = s.Busy[:1] }, false},
		{"reserved of 3 links", func(s *snapshot) { s.Res = s.Res[:3] }, false},
		{"flow counts of 5 links", func(s *snapshot) { s.NFlows = append(s.NFlows, 0) }, false},
		{"AP -1", func(s *snapshot) { s.Task.AP = -1 }, false},
		{"AP 1 of 1", func(s *snapshot) { s.Task.AP = 1 }, false},
		{"arch -1", func(s *snapshot) { s.Task.Arch = -1 }, false},
		{"last arch", func(s *snapshot) { s.Task.Arch = NumArchs - 1 }, true},
		{"arch NumArchs", func(s *snapshot) { s.Task.Arch = NumArchs }, false},
		{"bad generator", func(s *snapshot) { s.RNG = []byte("x") }, false},
	} {
		s2 := s
		s2.Busy, s2.Res, s2.NFlows = slices.Clone(s.Busy), slices.Clone(s.Res), slices.Clone(s.NFlows)
		c.mod(&s2)
		raw, err := json.Marshal(s2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewEnv(n).Restore(raw); (err == nil) != c.ok {
			t.Errorf("%s: Restore error %v, want ok = %v", c.name, err, c.ok)
		}
	}
	if _, err := NewEnv(n).Restore([]byte("{")); err == nil || !strings.Contains(err.Error(), "restore") {
		t.Errorf("truncated JSON: %v", err)
	}
}
