package dagnn_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cpntrain/cpntrain/nn/dagnn"
)

// Two DAGs in one batch. DAG A (nodes 0–4): 0 → 1, 0 → 2, 1 → 3, 2 → 3,
// 3 → 4 (a diamond above a chain). DAG B (nodes 5–7): 5 → 6, 5 → 7.
var (
	batchNodes = 8
	batchEdges = [][2]int{{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {5, 6}, {5, 7}}
)

func TestPlanKnown(t *testing.T) {
	p, err := dagnn.NewPlan(batchNodes, batchEdges)
	if err != nil {
		t.Fatal(err)
	}
	wantLevel := []int{3, 2, 2, 1, 0, 1, 0, 0}
	for v, l := range wantLevel {
		if p.Level(v) != l {
			t.Fatalf("level of %d is %d, want %d", v, p.Level(v), l)
		}
	}
	if p.NumLevels() != 4 || p.NumNodes() != batchNodes || p.NumEdges() != len(batchEdges) {
		t.Fatalf("NumLevels %d, NumNodes %d, NumEdges %d", p.NumLevels(), p.NumNodes(), p.NumEdges())
	}
	wantNodes := [][]int{{4, 6, 7}, {3, 5}, {1, 2}, {0}}
	for l, w := range wantNodes {
		if !slices.Equal(p.LevelNodes(l), w) {
			t.Fatalf("level %d nodes %v, want %v", l, p.LevelNodes(l), w)
		}
	}
	checkPlan(t, p, batchNodes, batchEdges)
}

func TestPlanEmptyAndIsolated(t *testing.T) {
	p, err := dagnn.NewPlan(0, nil)
	if err != nil || p.NumLevels() != 0 || len(p.Order()) != 0 {
		t.Fatalf("empty graph: %v, %v", p, err)
	}
	p, err = dagnn.NewPlan(3, nil)
	if err != nil || p.NumLevels() != 1 || len(p.LevelNodes(0)) != 3 {
		t.Fatalf("isolated nodes: %v, %v", p, err)
	}
}

func TestPlanErrors(t *testing.T) {
	cases := map[string]struct {
		n     int
		edges [][2]int
		cycle []int // nil: not a cycle error
		msg   string
	}{
		"triangle":  {5, [][2]int{{0, 1}, {3, 4}, {1, 2}, {2, 0}}, []int{0, 1, 2}, "dagnn: graph has a cycle 0 → 1 → 2 → 0"},
		"self-loop": {3, [][2]int{{0, 1}, {2, 2}}, []int{2}, "dagnn: graph has a cycle 2 → 2"},
		"two-cycle": {4, [][2]int{{3, 1}, {1, 3}}, []int{1, 3}, ""},
		"behind":    {6, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 1}, {3, 4}, {5, 0}}, []int{1, 2, 3}, ""},
		"range":     {3, [][2]int{{0, 3}}, nil, "dagnn: edge 0 (0→3) has a node outside [0,3)"},
		"negative":  {3, [][2]int{{-1, 0}}, nil, ""},
		"duplicate": {3, [][2]int{{0, 1}, {1, 2}, {0, 1}}, nil, "dagnn: edge 0→1 is listed twice (edges 0 and 2)"},
		"count":     {-1, nil, nil, ""},
	}
	for name, c := range cases {
		p, err := dagnn.NewPlan(c.n, c.edges)
		if err == nil || p != nil {
			t.Errorf("%s: got plan %v, error %v", name, p, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "dagnn: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
		if c.msg != "" && err.Error() != c.msg {
			t.Errorf("%s: error %q, want %q", name, err, c.msg)
		}
		var ce *dagnn.CycleError
		if isCycle := errors.As(err, &ce); isCycle != (c.cycle != nil) {
			t.Errorf("%s: cycle error %v, want %v", name, isCycle, c.cycle != nil)
			continue
		}
		if c.cycle != nil {
			checkCycle(t, ce.Cycle, c.edges)
			got := slices.Clone(ce.Cycle)
			slices.Sort(got)
			if !slices.Equal(got, c.cycle) {
				t.Errorf("%s: cycle %v, want the nodes %v", name, ce.Cycle, c.cycle)
			}
		}
	}
}

// checkPlan verifies a plan against its graph: Order is a permutation with
// every parent before its children, levels follow their definition, and
// the level lists partition the nodes.
func checkPlan(t testing.TB, p *dagnn.Plan, n int, edges [][2]int) {
	t.Helper()
	order := p.Order()
	if len(order) != n {
		t.Fatalf("order has %d nodes, want %d", len(order), n)
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range order {
		if v < 0 || v >= n || pos[v] >= 0 {
			t.Fatalf("order %v is not a permutation", order)
		}
		pos[v] = i
	}
	want := make([]int, n)
	for i := n - 1; i >= 0; i-- {
		v := order[i]
		for _, e := range edges {
			if e[0] == v {
				want[v] = max(want[v], want[e[1]]+1)
			}
		}
	}
	for _, e := range edges {
		if pos[e[0]] >= pos[e[1]] {
			t.Fatalf("edge %v: parent after child in order %v", e, order)
		}
	}
	seen := 0
	for l := 0; l < p.NumLevels(); l++ {
		for _, v := range p.LevelNodes(l) {
			if p.Level(v) != l {
				t.Fatalf("node %d listed at level %d but has level %d", v, l, p.Level(v))
			}
			seen++
		}
	}
	if seen != n {
		t.Fatalf("level lists hold %d nodes, want %d", seen, n)
	}
	for v := 0; v < n; v++ {
		if p.Level(v) != want[v] {
			t.Fatalf("level of %d is %d, want %d", v, p.Level(v), want[v])
		}
	}
}

// checkCycle verifies that consecutive nodes of cycle (and the last and the
// first) are edges.
func checkCycle(t testing.TB, cycle []int, edges [][2]int) {
	t.Helper()
	if len(cycle) == 0 {
		t.Fatal("empty cycle")
	}
	for i, v := range cycle {
		e := [2]int{v, cycle[(i+1)%len(cycle)]}
		if !slices.Contains(edges, e) {
			t.Fatalf("cycle %v uses %v, which is not an edge", cycle, e)
		}
	}
}

// FuzzNewPlan decodes random edge lists: NewPlan must never panic, a plan
// must pass checkPlan, and a cycle error must name a real cycle.
func FuzzNewPlan(f *testing.F) {
	f.Add([]byte{5, 0, 1, 1, 2, 2, 3})
	f.Add([]byte{4, 0, 1, 1, 2, 2, 0})
	f.Add([]byte{3, 1, 1})
	f.Add([]byte{6, 0, 1, 0, 1})
	f.Add([]byte{2, 0, 7})
	f.Add([]byte{0})
	f.Add([]byte{12, 0, 1, 0, 2, 1, 3, 2, 3, 3, 4, 5, 6, 6, 7, 7, 8, 8, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		n := int(data[0] % 24)
		var edges [][2]int
		for i := 1; i+1 < len(data); i += 2 {
			// ids up to n+1 so that some are out of range.
			edges = append(edges, [2]int{int(data[i]) % (n + 2), int(data[i+1]) % (n + 2)})
		}
		p, err := dagnn.NewPlan(n, edges)
		if err != nil {
			if p != nil {
				t.Fatal("a plan and an error")
			}
			if !strings.HasPrefix(err.Error(), "dagnn: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			var ce *dagnn.CycleError
			if errors.As(err, &ce) {
				checkCycle(t, ce.Cycle, edges)
			}
			return
		}
		checkPlan(t, p, n, edges)
	})
}

// TestRandomDAGs plans many random DAGs (including batches) and checks them.
func TestRandomDAGs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 200 {
		n, edges := randomDAG(rng, 1+rng.IntN(30), 0.2)
		p, err := dagnn.NewPlan(n, edges)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, p, n, edges)
	}
}

func TestCache(t *testing.T) {
	c := dagnn.NewCache(2)
	p1, err := c.Plan(batchNodes, batchEdges)
	if err != nil {
		t.Fatal(err)
	}
	edges := slices.Clone(batchEdges)
	p2, _ := c.Plan(batchNodes, edges)
	if p1 != p2 {
		t.Fatal("the same graph was planned twice")
	}
	edges[0] = [2]int{7, 0} // the cache keeps its own copy
	if p3, _ := c.Plan(batchNodes, batchEdges); p3 != p1 {
		t.Fatal("changing the caller's slice changed the cache")
	}
	if _, err := c.Plan(3, [][2]int{{0, 1}, {1, 0}}); err == nil {
		t.Fatal("a cycle was planned")
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d after an error, want 1", c.Len())
	}
	q1, _ := c.Plan(2, [][2]int{{0, 1}})
	q2, _ := c.Plan(2, [][2]int{{1, 0}})
	if q1 == q2 || c.Len() != 2 {
		t.Fatalf("different graphs share a plan or Len %d", c.Len())
	}
	// p1 was inserted first and is evicted.
	if p4, _ := c.Plan(batchNodes, batchEdges); p4 == p1 {
		t.Fatal("capacity 2 kept three plans")
	}
	hits, misses := c.Stats()
	if hits != 2 || misses != 5 {
		t.Fatalf("hits %d, misses %d, want 2 and 5", hits, misses)
	}
	if a := testing.AllocsPerRun(100, func() { c.Plan(batchNodes, batchEdges) }); a != 0 {
		t.Fatalf("a cache hit allocates %v times", a)
	}
	func() {
		defer func() {
			if s, _ := recover().(string); !strings.HasPrefix(s, "dagnn: ") {
				t.Fatalf("NewCache(0) panic %v", s)
			}
		}()
		dagnn.NewCache(0)
	}()
}

func TestCacheConcurrent(t *testing.T) {
	c := dagnn.NewCache(4)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				n := 2 + rng.IntN(6)
				edges := [][2]int{{0, 1 + rng.IntN(n-1)}}
				p, err := c.Plan(n, edges)
				if err != nil || p.NumNodes() != n {
					panic(fmt.Sprint(err))
				}
			}
		}()
	}
	wg.Wait()
	if c.Len() > 4 {
		t.Fatalf("Len %d over capacity", c.Len())
	}
}

// randomDAG returns a DAG of n nodes with each edge i → j (i < j in a
// random relabelling) present with probability prob.
func randomDAG(rng *rand.Rand, n int, prob float64) (int, [][2]int) {
	label := rng.Perm(n)
	var edges [][2]int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if rng.Float64() < prob {
				edges = append(edges, [2]int{label[i], label[j]})
			}
		}
	}
	return n, edges
}
