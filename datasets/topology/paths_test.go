package topology

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// mustNew builds a graph of n nodes from (from, to, weight) triples.
func mustNew(t testing.TB, n int, edges [][3]float64) *Graph {
	t.Helper()
	nodes := make([]Node, n)
	links := make([]Link, len(edges))
	for i, e := range edges {
		links[i] = Link{From: int(e[0]), To: int(e[1]), Weight: e[2], Capacity: 1, Delay: e[2] / 1000}
	}
	g, err := New("test", nodes, links)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewErrors(t *testing.T) {
	nodes := make([]Node, 2)
	for _, tc := range []struct {
		name  string
		nodes []Node
		l     Link
		want  string
	}{
		{"no nodes", nil, Link{}, "topology: g: no nodes"},
		{"out of range", nodes, Link{From: 0, To: 2, Capacity: 1}, "topology: g: link 0: 0→2 out of range [0, 2)"},
		{"self loop", nodes, Link{From: 1, To: 1, Capacity: 1}, "topology: g: link 0: self loop at node 1"},
		{"zero capacity", nodes, Link{From: 0, To: 1}, "topology: g: link 0: capacity 0 is not positive and finite"},
		{"NaN delay", nodes, Link{From: 0, To: 1, Capacity: 1, Delay: math.NaN()}, "topology: g: link 0: delay NaN"},
		{"negative weight", nodes, Link{From: 0, To: 1, Capacity: 1, Weight: -1}, "topology: g: link 0: weight -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("g", tc.nodes, []Link{tc.l})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// diamond: 0→1→3 (cost 2), 0→2→3 (cost 3), 0→3 (cost 4), 1→2 (cost 1),
// and node 4 reaches 0 but nothing reaches 4.
func diamond(t testing.TB) *Graph {
	return mustNew(t, 5, [][3]float64{
		{0, 1, 1}, {1, 3, 1}, {0, 2, 1}, {2, 3, 2}, {0, 3, 4}, {1, 2, 1}, {4, 0, 1},
	})
}

func TestHopDistances(t *testing.T) {
	g := diamond(t)
	if d := g.HopDistances(0); !slices.Equal(d, []int{0, 1, 1, 1, -1}) {
		t.Errorf("from 0: %v", d)
	}
	if d := g.HopDistances(4); !slices.Equal(d, []int{1, 2, 2, 2, 0}) {
		t.Errorf("from 4: %v", d)
	}
	if g.StronglyConnected() {
		t.Error("diamond is not strongly connected")
	}
	if g.Find(0, 3) != 4 || g.Find(3, 0) != -1 {
		t.Error("Find")
	}
	if p := g.PathNodes([]int{0, 5, 3}); !slices.Equal(p, []int{0, 1, 2, 3}) {
		t.Errorf("PathNodes = %v", p)
	}
}

func TestShortestAndKShortestSmall(t *testing.T) {
	g := diamond(t)
	p, c := g.ShortestPath(0, 3, WeightCost)
	if !slices.Equal(p, []int{0, 1}) || c != 2 {
		t.Errorf("ShortestPath = %v, %v", p, c)
	}
	p, c = g.ShortestPath(0, 3, nil)
	if !slices.Equal(p, []int{4}) || c != 1 {
		t.Errorf("ShortestPath hops = %v, %v", p, c)
	}
	if p, c := g.ShortestPath(3, 0, nil); p != nil || !math.IsInf(c, 1) {
		t.Errorf("unreachable: %v, %v", p, c)
	}
	if p, c := g.ShortestPath(2, 2, nil); p == nil || len(p) != 0 || c != 0 {
		t.Errorf("to itself: %v, %v", p, c)
	}
	all := g.KShortestPaths(0, 3, 10, WeightCost)
	// Costs 2, 3, 4, 4: the tie goes to fewer hops.
	want := [][]int{{0, 1}, {2, 3}, {4}, {0, 5, 3}}
	if !slices.EqualFunc(all, want, slices.Equal) {
		t.Errorf("KShortestPaths = %v, want %v", all, want)
	}
	if got := g.KShortestPaths(0, 3, 2, WeightCost); !slices.EqualFunc(got, want[:2], slices.Equal) {
		t.Errorf("k=2: %v", got)
	}
	if got := g.KShortestPaths(0, 3, 0, WeightCost); got != nil {
		t.Errorf("k=0: %v", got)
	}
	if got := g.KShortestPaths(3, 0, 3, nil); got != nil {
		t.Errorf("unreachable: %v", got)
	}
	if got := g.KShortestPaths(1, 1, 3, nil); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("to itself: %v", got)
	}
	// +Inf excludes a link.
	noDirect := func(l Link) float64 {
		if l.From == 0 && l.To == 3 {
			return math.Inf(1)
		}
		return l.Weight
	}
	if got := g.KShortestPaths(0, 3, 10, noDirect); !slices.EqualFunc(got, [][]int{{0, 1}, {2, 3}, {0, 5, 3}}, slices.Equal) {
		t.Errorf("without 0→3: %v", got)
	}
}

func TestPathPanics(t *testing.T) {
	g := diamond(t)
	for name, f := range map[string]func(){
		"negative cost": func() { g.PathFinder(func(Link) float64 { return -1 }) },
		"NaN cost":      func() { g.PathFinder(func(Link) float64 { return math.NaN() }) },
		"bad source":    func() { g.KShortestPaths(-1, 0, 1, nil) },
		"bad target":    func() { g.ShortestPath(0, 5, nil) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "topology: test: ") {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			f()
		}()
	}
}

// randomGraph returns a random directed graph of n nodes with parallel
// links now and then, and a cost per link: random reals, or small
// integers (many ties) if ints.
func randomGraph(t testing.TB, rng *rand.Rand, n int, p float64, ints bool) (*Graph, CostFunc) {
	var edges [][3]float64
	for u := range n {
		for v := range n {
			if u == v || rng.Float64() >= p {
				continue
			}
			for range 1 + rng.IntN(4)/3 { // a parallel link one time in four
				w := rng.Float64()
				if ints {
					w = float64(rng.IntN(3))
				}
				edges = append(edges, [3]float64{float64(u), float64(v), w})
			}
		}
	}
	return mustNew(t, n, edges), WeightCost
}

type costedPath struct {
	links []int
	cost  float64
}

// allPaths enumerates every loopless path from src to dst, sorted by
// cost, hops, then link indices.
func allPaths(g *Graph, src, dst int, cost CostFunc) []costedPath {
	var out []costedPath
	onPath := make([]bool, g.N)
	var path []int
	var walk func(u int)
	walk = func(u int) {
		if u == dst {
			out = append(out, costedPath{slices.Clone(path), g.PathCost(path, cost)})
			return
		}
		onPath[u] = true
		for _, l := range g.Out(u) {
			if v := g.Links[l].To; !onPath[v] {
				path = append(path, l)
				walk(v)
				path = path[:len(path)-1]
			}
		}
		onPath[u] = false
	}
	walk(src)
	slices.SortFunc(out, func(a, b costedPath) int {
		return cmp.Or(cmp.Compare(a.cost, b.cost), cmp.Compare(len(a.links), len(b.links)), slices.Compare(a.links, b.links))
	})
	return out
}

// checkPaths checks that paths are loopless, distinct paths from src to
// dst.
func checkPaths(t *testing.T, g *Graph, src, dst int, paths [][]int) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range paths {
		nodes := g.PathNodes(p)
		if len(p) == 0 || nodes[0] != src || nodes[len(nodes)-1] != dst {
			t.Fatalf("%d→%d: path %v visits %v", src, dst, p, nodes)
		}
		for i := 1; i < len(p); i++ {
			if g.Links[p[i]].From != g.Links[p[i-1]].To {
				t.Fatalf("path %v is broken", p)
			}
		}
		if s := slices.Clone(nodes); len(slices.Compact(slices.Sorted(slices.Values(s)))) != len(nodes) {
			t.Fatalf("path %v has a loop: %v", p, nodes)
		}
		if seen[fmt.Sprint(p)] {
			t.Fatalf("path %v twice", p)
		}
		seen[fmt.Sprint(p)] = true
	}
}

func TestKShortestAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	graphs, queries := 0, 0
	for trial := range 300 {
		ints := trial%2 == 1
		n := 2 + rng.IntN(7)
		g, cost := randomGraph(t, rng, n, 0.2+0.4*rng.Float64(), ints)
		graphs++
		pf := g.PathFinder(cost)
		for src := range n {
			for dst := range n {
				if src == dst {
					continue
				}
				k := 1 + rng.IntN(8)
				want := allPaths(g, src, dst, cost)
				got := pf.KShortest(src, dst, k)
				queries++
				if len(got) != min(k, len(want)) {
					t.Fatalf("trial %d %d→%d k=%d: %d paths, want %d", trial, src, dst, k, len(got), min(k, len(want)))
				}
				checkPaths(t, g, src, dst, got)
				for i, p := range got {
					if c := g.PathCost(p, cost); c != want[i].cost {
						t.Fatalf("trial %d %d→%d k=%d: path %d costs %v, want %v\ngot  %v\nwant %v", trial, src, dst, k, i, c, want[i].cost, got, want[:len(got)])
					}
					// With real costs there are no ties: the paths themselves match.
					if !ints && !slices.Equal(p, want[i].links) {
						t.Fatalf("trial %d %d→%d: path %d = %v, want %v", trial, src, dst, i, p, want[i].links)
					}
				}
				if k == 1 {
					sp, c := pf.Shortest(src, dst)
					if len(want) > 0 && c != want[0].cost || len(want) == 0 && sp != nil {
						t.Fatalf("trial %d %d→%d: Shortest %v %v, want cost %v", trial, src, dst, sp, c, want)
					}
				}
				// A fresh PathFinder gives the same answer as the reused one.
				if again := g.KShortestPaths(src, dst, k, cost); !slices.EqualFunc(again, got, slices.Equal) {
					t.Fatalf("trial %d %d→%d: fresh %v, reused %v", trial, src, dst, again, got)
				}
			}
		}
	}
	t.Logf("%d graphs, %d queries", graphs, queries)
}

// refKShortest is Yen's algorithm as textbooks give it: every node of the
// last path is a spur node, and spur paths come from a plain Dijkstra.
func refKShortest(g *Graph, src, dst, k int, cost CostFunc) [][]int {
	dijkstra := func(s int, blockedNode map[int]bool, blockedLink map[int]bool) []int {
		dist := make([]float64, g.N)
		prev := make([]int, g.N)
		done := make([]bool, g.N)
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		dist[s] = 0
		for {
			u := -1
			for v := range g.N {
				if !done[v] && !math.IsInf(dist[v], 1) && (u < 0 || dist[v] < dist[u]) {
					u = v
				}
			}
			if u < 0 {
				return nil
			}
			if u == dst {
				break
			}
			done[u] = true
			for _, l := range g.Out(u) {
				v := g.Links[l].To
				if blockedNode[v] || blockedLink[l] {
					continue
				}
				if d := dist[u] + cost(g.Links[l]); d < dist[v] {
					dist[v], prev[v] = d, l
				}
			}
		}
		var p []int
		for v := dst; v != s; v = g.Links[prev[v]].From {
			p = append(p, prev[v])
		}
		slices.Reverse(p)
		return p
	}
	first := dijkstra(src, nil, nil)
	if first == nil {
		return nil
	}
	a := [][]int{first}
	var b []costedPath
	for len(a) < k {
		last := a[len(a)-1]
		nodes := g.PathNodes(last)
		for j := range last {
			bn, bl := map[int]bool{}, map[int]bool{}
			for _, u := range nodes[:j] {
				bn[u] = true
			}
			for _, q := range a {
				if len(q) > j && slices.Equal(q[:j], last[:j]) {
					bl[q[j]] = true
				}
			}
			sp := dijkstra(nodes[j], bn, bl)
			if sp == nil {
				continue
			}
			cand := append(slices.Clone(last[:j]), sp...)
			dup := slices.ContainsFunc(b, func(c costedPath) bool { return slices.Equal(c.links, cand) }) ||
				slices.ContainsFunc(a, func(q []int) bool { return slices.Equal(q, cand) })
			if !dup {
				b = append(b, costedPath{cand, g.PathCost(cand, cost)})
			}
		}
		if len(b) == 0 {
			break
		}
		slices.SortFunc(b, func(x, y costedPath) int {
			return cmp.Or(cmp.Compare(x.cost, y.cost), cmp.Compare(len(x.links), len(y.links)), slices.Compare(x.links, y.links))
		})
		a = append(a, b[0].links)
		b = b[1:]
	}
	return a
}

// hashCost gives every link a pseudo-random cost in [1, 2) from its
// endpoints, so that Kdl has no ties.
func hashCost(l Link) float64 {
	x := math.Sin(float64(l.From)*12.9898+float64(l.To)*78.233) * 43758.5453
	return 1 + x - math.Floor(x)
}

func TestKShortestKdlAgainstReference(t *testing.T) {
	g := load(t, "kdl")
	pf := g.PathFinder(hashCost)
	for _, dst := range kdlTargets(g) {
		got := pf.KShortest(0, dst, 6)
		want := refKShortest(g, 0, dst, 6, hashCost)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("0→%d:\ngot  %v\nwant %v", dst, got, want)
		}
		checkPaths(t, g, 0, dst, got)
	}
	// With delays (ties among fallback delays) the costs still agree.
	pd := g.PathFinder(DelayCost)
	for _, dst := range kdlTargets(g) {
		got := pd.KShortest(0, dst, 4)
		want := refKShortest(g, 0, dst, 4, DelayCost)
		checkPaths(t, g, 0, dst, got)
		for i := range want {
			if a, b := g.PathCost(got[i], DelayCost), g.PathCost(want[i], DelayCost); math.Abs(a-b) > 1e-12 {
				t.Errorf("0→%d path %d: cost %v, reference %v", dst, i, a, b)
			}
		}
	}
}

func TestKShortestRealTopologies(t *testing.T) {
	for _, name := range Names() {
		g := load(t, name)
		pf := g.PathFinder(DelayCost)
		for src := 0; src < g.N; src += 1 + g.N/8 {
			for dst := g.N - 1; dst >= 0; dst -= 1 + g.N/8 {
				if src == dst {
					continue
				}
				paths := pf.KShortest(src, dst, 4)
				if len(paths) == 0 {
					t.Fatalf("%s %d→%d: no path", name, src, dst)
				}
				checkPaths(t, g, src, dst, paths)
				for i := 1; i < len(paths); i++ {
					if g.PathCost(paths[i], DelayCost) < g.PathCost(paths[i-1], DelayCost) {
						t.Errorf("%s %d→%d: costs decrease", name, src, dst)
					}
				}
				if h := g.HopDistances(src)[dst]; h < 1 || len(g.KShortestPaths(src, dst, 1, nil)[0]) != h {
					t.Errorf("%s %d→%d: hop distance %d disagrees with the 1-shortest hop path", name, src, dst, h)
				}
			}
		}
	}
}

// TestConcurrentQueries runs path queries on one graph from several
// goroutines (run with -race).
func TestConcurrentQueries(t *testing.T) {
	g := Waxman(120, 0.3, 0.2, rand.New(rand.NewPCG(2, 3)))
	want := g.KShortestPaths(0, 119, 3, DelayCost)
	done := make(chan [][]int)
	for w := range 4 {
		go func() {
			var got [][]int
			for dst := range g.N {
				p := g.KShortestPaths(w, dst, 3, DelayCost)
				_ = g.HopDistances(dst)
				if w == 0 && dst == 119 {
					got = p
				}
			}
			done <- got
		}()
	}
	for range 4 {
		if got := <-done; got != nil && !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("concurrent %v, alone %v", got, want)
		}
	}
}
