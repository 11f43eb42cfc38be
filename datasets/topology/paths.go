package topology

import (
	"fmt"
	"math"
	"slices"
)

// CostFunc gives the cost of sending along a link: a non-negative number,
// or +Inf for a link that must not be used. Path functions panic on a
// negative or NaN cost.
type CostFunc func(l Link) float64

// HopCost counts links: every link costs 1.
func HopCost(Link) float64 { return 1 }

// DelayCost is the link's propagation delay.
func DelayCost(l Link) float64 { return l.Delay }

// WeightCost is the link's routing (OSPF) weight.
func WeightCost(l Link) float64 { return l.Weight }

// ShortestPath returns a least-cost path from src to dst (nil cost counts
// hops) as link indices, and its cost; nil and +Inf if dst cannot be
// reached. The path from a node to itself is empty. Among equal-cost
// paths the choice is deterministic.
func (g *Graph) ShortestPath(src, dst int, cost CostFunc) ([]int, float64) {
	return g.PathFinder(cost).Shortest(src, dst)
}

// KShortestPaths returns up to k loopless paths from src to dst, as link
// indices, in order of non-decreasing cost (nil cost counts hops); fewer
// if there are fewer paths, nil if dst cannot be reached or k < 1. It is
// Yen's algorithm with Lawler's refinement (a path's spur nodes start at
// its deviation from its parent), whose spur searches are A* searches
// guided by the exact distances to dst in the whole graph. Equal-cost
// candidates are taken fewer hops first, then in lexicographic order of
// their link indices; the result is deterministic. The path from a node
// to itself is the single empty path.
func (g *Graph) KShortestPaths(src, dst, k int, cost CostFunc) [][]int {
	return g.PathFinder(cost).KShortest(src, dst, k)
}

// PathFinder answers path queries on one graph with one cost function,
// reusing its buffers between queries; consecutive queries with the same
// destination share the search towards it. The link costs are read once,
// when the PathFinder is made: make a new one after changing the links'
// delays or weights. A PathFinder is not safe for concurrent use; make
// one per goroutine.
type PathFinder struct {
	g        *Graph
	out, in  [][]int
	cost     []float64
	from, to []int32 // endpoints of each link

	// Distances to dst in the whole graph, and the next link on a
	// shortest path towards it (-1 at dst and unreachable nodes).
	dst  int
	h    []float64
	succ []int

	// A* state, valid where stamp == gen.
	dist  []float64
	prev  []int
	stamp []uint32
	gen   uint32
	// Blocked nodes and links of a spur search: those whose mark == bgen.
	nodeMark []uint32
	linkMark []uint32
	bgen     uint32
	heap     pathHeap
}

// PathFinder returns a PathFinder for cost (nil counts hops); it panics if
// cost gives a link a negative or NaN cost.
func (g *Graph) PathFinder(cost CostFunc) *PathFinder {
	out, in := g.adj()
	c := make([]float64, len(g.Links))
	from := make([]int32, len(g.Links))
	to := make([]int32, len(g.Links))
	for i, l := range g.Links {
		from[i], to[i] = int32(l.From), int32(l.To)
		if cost == nil {
			c[i] = 1
			continue
		}
		x := cost(l)
		if !(x >= 0) {
			panic(fmt.Sprintf("topology: %s: cost of link %d (%d→%d) is %v, not a non-negative number", g.Name, i, l.From, l.To, x))
		}
		c[i] = x
	}
	return &PathFinder{
		g: g, out: out, in: in, cost: c, from: from, to: to, dst: -1,
		h: make([]float64, g.N), succ: make([]int, g.N),
		dist: make([]float64, g.N), prev: make([]int, g.N), stamp: make([]uint32, g.N),
		nodeMark: make([]uint32, g.N), linkMark: make([]uint32, len(g.Links)),
	}
}

func (p *PathFinder) check(src, dst int) {
	if src < 0 || src >= p.g.N || dst < 0 || dst >= p.g.N {
		panic(fmt.Sprintf("topology: %s: path from %d to %d: node out of range [0, %d)", p.g.Name, src, dst, p.g.N))
	}
}

// target computes the distances of every node to dst (Dijkstra on the
// reversed graph), unless they are those of the previous query.
func (p *PathFinder) target(dst int) {
	if p.dst == dst {
		return
	}
	for i := range p.h {
		p.h[i] = math.Inf(1)
		p.succ[i] = -1
	}
	p.h[dst] = 0
	hp := p.heap[:0]
	hp.push(pathItem{v: int32(dst)})
	for len(hp) > 0 {
		it := hp.pop()
		v := int(it.v)
		if it.g > p.h[v] {
			continue
		}
		for _, l := range p.in[v] {
			u := int(p.from[l])
			if nd := it.g + p.cost[l]; nd < p.h[u] {
				p.h[u] = nd
				p.succ[u] = l
				hp.push(pathItem{f: nd, g: nd, v: int32(u)})
			}
		}
	}
	p.heap = hp[:0]
	p.dst = dst
}

// Shortest returns a least-cost path from src to dst and its cost; see
// Graph.ShortestPath.
func (p *PathFinder) Shortest(src, dst int) ([]int, float64) {
	p.check(src, dst)
	if src == dst {
		return []int{}, 0
	}
	p.target(dst)
	if math.IsInf(p.h[src], 1) {
		return nil, math.Inf(1)
	}
	path := p.follow(src, nil)
	return path, p.pathCost(path)
}

// follow appends to path the links of the shortest-path tree from u to
// dst.
func (p *PathFinder) follow(u int, path []int) []int {
	for u != p.dst {
		l := p.succ[u]
		path = append(path, l)
		u = int(p.to[l])
	}
	return path
}

func (p *PathFinder) pathCost(path []int) float64 {
	s := 0.0
	for _, l := range path {
		s += p.cost[l]
	}
	return s
}

// yenPath is a path with its cost and the index of its first link after
// the root it shares with the path it was derived from.
type yenPath struct {
	links []int
	cost  float64
	dev   int
}

// before orders paths by cost, then hops, then link indices.
func (a *yenPath) before(b *yenPath) bool {
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if len(a.links) != len(b.links) {
		return len(a.links) < len(b.links)
	}
	return slices.Compare(a.links, b.links) < 0
}

// KShortest returns up to k loopless paths from src to dst; see
// Graph.KShortestPaths.
func (p *PathFinder) KShortest(src, dst, k int) [][]int {
	p.check(src, dst)
	if k < 1 {
		return nil
	}
	if src == dst {
		return [][]int{{}}
	}
	p.target(dst)
	if math.IsInf(p.h[src], 1) {
		return nil
	}
	first := p.follow(src, nil)
	accepted := []yenPath{{links: first, cost: p.pathCost(first)}}
	var cands []yenPath
	seen := map[string]struct{}{pathKey(first): {}}
	nodes := make([]int, 0, 16)
	for len(accepted) < k {
		last := &accepted[len(accepted)-1]
		nodes = append(nodes[:0], src)
		for _, l := range last.links {
			nodes = append(nodes, p.g.Links[l].To)
		}
		for j := last.dev; j < len(last.links); j++ {
			p.bgen++
			if p.bgen == 0 { // wrapped: clear the marks
				clear(p.nodeMark)
				clear(p.linkMark)
				p.bgen = 1
			}
			for _, u := range nodes[:j] {
				p.nodeMark[u] = p.bgen
			}
			root := last.links[:j]
			for i := range accepted {
				if q := accepted[i].links; len(q) > j && slices.Equal(q[:j], root) {
					p.linkMark[q[j]] = p.bgen
				}
			}
			// Prune: no spur path from here costs less than the root plus the
			// unconstrained distance; skip if enough candidates are strictly
			// cheaper.
			if need := k - len(accepted); len(cands) >= need {
				bound := p.pathCost(root) + p.h[nodes[j]]
				if kthCost(cands, need) < bound*(1-1e-9) {
					continue
				}
			}
			cand := p.spur(nodes[j], slices.Clip(slices.Clone(root)))
			if cand == nil {
				continue
			}
			key := pathKey(cand)
			if _, dup := seen[key]; dup {
				continue
			}
			seen[key] = struct{}{}
			cands = append(cands, yenPath{links: cand, cost: p.pathCost(cand), dev: j})
		}
		if len(cands) == 0 {
			break
		}
		best := 0
		for i := 1; i < len(cands); i++ {
			if cands[i].before(&cands[best]) {
				best = i
			}
		}
		accepted = append(accepted, cands[best])
		cands[best] = cands[len(cands)-1]
		cands = cands[:len(cands)-1]
	}
	paths := make([][]int, len(accepted))
	for i := range accepted {
		paths[i] = accepted[i].links
	}
	return paths
}

// kthCost returns the need-th smallest cost among cands (need ≥ 1,
// len(cands) ≥ need).
func kthCost(cands []yenPath, need int) float64 {
	if need == 1 {
		m := cands[0].cost
		for _, c := range cands[1:] {
			m = min(m, c.cost)
		}
		return m
	}
	cs := make([]float64, len(cands))
	for i := range cands {
		cs[i] = cands[i].cost
	}
	slices.Sort(cs)
	return cs[need-1]
}

// pathKey encodes a path for duplicate detection.
func pathKey(path []int) string {
	b := make([]byte, 0, 4*len(path))
	for _, l := range path {
		b = append(b, byte(l), byte(l>>8), byte(l>>16), byte(l>>24))
	}
	return string(b)
}

// spur appends to root a least-cost path from s to the target avoiding
// the marked nodes and links (A* with the exact distances of the whole
// graph as heuristic, which stays admissible and consistent when nodes
// and links are removed), or returns nil if there is none.
func (p *PathFinder) spur(s int, root []int) []int {
	if math.IsInf(p.h[s], 1) {
		return nil
	}
	p.gen++
	if p.gen == 0 {
		clear(p.stamp)
		p.gen = 1
	}
	gen := p.gen
	p.stamp[s] = gen
	p.dist[s] = 0
	p.prev[s] = -1
	hp := p.heap[:0]
	hp.push(pathItem{f: p.h[s], v: int32(s)})
	found := false
	for len(hp) > 0 {
		it := hp.pop()
		u := int(it.v)
		if it.g > p.dist[u] {
			continue
		}
		if u == p.dst {
			found = true
			break
		}
		for _, l := range p.out[u] {
			v := int(p.to[l])
			if p.linkMark[l] == p.bgen || p.nodeMark[v] == p.bgen || math.IsInf(p.h[v], 1) {
				continue
			}
			c := p.cost[l]
			if math.IsInf(c, 1) {
				continue
			}
			ng := it.g + c
			if p.stamp[v] != gen || ng < p.dist[v] {
				p.stamp[v] = gen
				p.dist[v] = ng
				p.prev[v] = l
				hp.push(pathItem{f: ng + p.h[v], g: ng, v: int32(v)})
			}
		}
	}
	p.heap = hp[:0]
	if !found {
		return nil
	}
	n0 := len(root)
	for v := p.dst; v != s; {
		l := p.prev[v]
		root = append(root, l)
		v = int(p.from[l])
	}
	slices.Reverse(root[n0:])
	return root
}

// pathItem is a heap entry: estimated total f, cost so far g, node v.
type pathItem struct {
	f, g float64
	v    int32
}

// pathHeap is a binary min-heap on f, then larger g (deeper first, which
// follows a tie of optimal paths to its end), then node index.
type pathHeap []pathItem

func (a pathItem) less(b pathItem) bool {
	if a.f != b.f {
		return a.f < b.f
	}
	if a.g != b.g {
		return a.g > b.g
	}
	return a.v < b.v
}

func (h *pathHeap) push(it pathItem) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !s[i].less(s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *pathHeap) pop() pathItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].less(s[l]) {
			m = r
		}
		if !s[m].less(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
