package dagnn

import (
	"fmt"
	"strings"
	"sync"
)

// Plan is the precomputed schedule of the DAG layer over a batch of DAGs:
// a topological order, each node's level and, for every level from 1 up,
// the edges into the nodes of that level. It depends on the graph only, so
// one plan serves every pass (and every goroutine) while the set of DAGs is
// unchanged. A Plan is immutable.
type Plan struct {
	n      int
	nedges int
	order  []int // parents before children
	level  []int // 0 for leaves, 1 + max over children otherwise
	// Per level l: the nodes of level l (levelNodes[l]) and, for l ≥ 1, one
	// entry per edge parent → child with the parent at level l.
	levelNodes [][]int
	edgeChild  [][]int // the child of each edge
	edgeParent [][]int // the parent of each edge (node id)
	edgeLocal  [][]int // the parent's index in levelNodes[l]
}

// CycleError is the error NewPlan returns for a graph that is not a DAG.
// Cycle lists the nodes of one cycle in edge direction, starting at its
// smallest id: Cycle[k] → Cycle[k+1] and the last node → Cycle[0] are edges
// (a self-loop has one node).
type CycleError struct {
	Cycle []int
}

// Error implements error, naming the cycle, e.g. "dagnn: graph has a cycle
// 3 → 5 → 7 → 3".
func (e *CycleError) Error() string {
	var b strings.Builder
	b.WriteString("dagnn: graph has a cycle ")
	for _, v := range e.Cycle {
		fmt.Fprintf(&b, "%d → ", v)
	}
	if len(e.Cycle) > 0 {
		fmt.Fprintf(&b, "%d", e.Cycle[0])
	}
	return b.String()
}

// NewPlan returns the plan of the graph of numNodes nodes with the edges
// {parent, child}: child depends on parent, and messages flow from child to
// parent. A batch of DAGs is one graph whose node ids are offset per DAG.
// It returns a *CycleError naming a cycle if the graph is not a DAG, and an
// error for a negative node count, an id outside [0, numNodes) or a
// repeated edge.
func NewPlan(numNodes int, edges [][2]int) (*Plan, error) {
	if numNodes < 0 {
		return nil, fmt.Errorf("dagnn: negative number of nodes %d", numNodes)
	}
	n := numNodes
	for k, e := range edges {
		if e[0] < 0 || e[0] >= n || e[1] < 0 || e[1] >= n {
			return nil, fmt.Errorf("dagnn: edge %d (%d→%d) has a node outside [0,%d)", k, e[0], e[1], n)
		}
		if e[0] == e[1] {
			return nil, &CycleError{Cycle: []int{e[0]}}
		}
	}
	seen := make(map[[2]int]int, len(edges))
	for k, e := range edges {
		if prev, ok := seen[e]; ok {
			return nil, fmt.Errorf("dagnn: edge %d→%d is listed twice (edges %d and %d)", e[0], e[1], prev, k)
		}
		seen[e] = k
	}

	// Compressed adjacency: children and parents of each node.
	childStart, children := csr(n, edges, 0)
	parentStart, parents := csr(n, edges, 1)

	// Kahn's algorithm from the roots.
	indeg := make([]int, n)
	for v := 0; v < n; v++ {
		indeg[v] = parentStart[v+1] - parentStart[v]
	}
	order := make([]int, 0, n)
	for v := 0; v < n; v++ {
		if indeg[v] == 0 {
			order = append(order, v)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, c := range children[childStart[order[i]]:childStart[order[i]+1]] {
			if indeg[c]--; indeg[c] == 0 {
				order = append(order, c)
			}
		}
	}
	if len(order) < n {
		return nil, &CycleError{Cycle: findCycle(indeg, parentStart, parents)}
	}

	p := &Plan{n: n, nedges: len(edges), order: order, level: make([]int, n)}
	nlevels := 0
	if n > 0 {
		nlevels = 1
	}
	for i := n - 1; i >= 0; i-- {
		v := order[i]
		l := 0
		for _, c := range children[childStart[v]:childStart[v+1]] {
			l = max(l, p.level[c]+1)
		}
		p.level[v] = l
		nlevels = max(nlevels, l+1)
	}

	// Nodes per level (in id order) and their local indices.
	count := make([]int, nlevels)
	for _, l := range p.level {
		count[l]++
	}
	p.levelNodes = carve(make([]int, n), count)
	local := make([]int, n)
	fill := make([]int, nlevels)
	for v, l := range p.level {
		local[v] = fill[l]
		p.levelNodes[l][fill[l]] = v
		fill[l]++
	}
	// Edges per level of their parent, grouped by parent.
	clear(count)
	for _, e := range edges {
		count[p.level[e[0]]]++
	}
	p.edgeChild = carve(make([]int, len(edges)), count)
	p.edgeParent = carve(make([]int, len(edges)), count)
	p.edgeLocal = carve(make([]int, len(edges)), count)
	clear(fill)
	for l, nodes := range p.levelNodes {
		for _, v := range nodes {
			for _, c := range children[childStart[v]:childStart[v+1]] {
				k := fill[l]
				p.edgeChild[l][k], p.edgeParent[l][k], p.edgeLocal[l][k] = c, v, local[v]
				fill[l]++
			}
		}
	}
	return p, nil
}

// csr groups the edges by endpoint side (0: parent, 1: child) and returns,
// for each node v, the other endpoints other[start[v]:start[v+1]].
func csr(n int, edges [][2]int, side int) (start, other []int) {
	start = make([]int, n+1)
	for _, e := range edges {
		start[e[side]+1]++
	}
	for v := 0; v < n; v++ {
		start[v+1] += start[v]
	}
	other = make([]int, len(edges))
	pos := append([]int(nil), start[:n]...)
	for _, e := range edges {
		other[pos[e[side]]] = e[1-side]
		pos[e[side]]++
	}
	return start, other
}

// carve splits buf into consecutive slices of the given lengths.
func carve(buf []int, lens []int) [][]int {
	out := make([][]int, len(lens))
	off := 0
	for i, l := range lens {
		out[i] = buf[off : off+l : off+l]
		off += l
	}
	return out
}

// findCycle returns a cycle among the nodes Kahn's algorithm left over
// (indeg > 0): each has a parent that is also left over, so walking from
// parent to parent must revisit a node.
func findCycle(indeg, parentStart, parents []int) []int {
	start := -1
	for v, d := range indeg {
		if d > 0 {
			start = v
			break
		}
	}
	pos := map[int]int{}
	var walk []int
	v := start
	for {
		if i, ok := pos[v]; ok {
			walk = walk[i:]
			break
		}
		pos[v] = len(walk)
		walk = append(walk, v)
		for _, u := range parents[parentStart[v]:parentStart[v+1]] {
			if indeg[u] > 0 {
				v = u
				break
			}
		}
	}
	// The walk went from child to parent; reverse it to follow the edges,
	// and start at the smallest id so that the message is canonical.
	for i, j := 0, len(walk)-1; i < j; i, j = i+1, j-1 {
		walk[i], walk[j] = walk[j], walk[i]
	}
	lo := 0
	for i, v := range walk {
		if v < walk[lo] {
			lo = i
		}
	}
	return append(walk[lo:], walk[:lo]...)
}

// NumNodes returns the number of nodes.
func (p *Plan) NumNodes() int { return p.n }

// NumEdges returns the number of edges.
func (p *Plan) NumEdges() int { return p.nedges }

// NumLevels returns 1 + the largest level (0 for an empty graph). It is
// the number of nodes on a longest path, the depth of the DAG layer's
// recursion.
func (p *Plan) NumLevels() int { return len(p.levelNodes) }

// Level returns the level of node v: 0 for a node without children (a
// leaf), otherwise 1 + the largest level of its children (the number of
// edges of a longest path from v down to a leaf).
func (p *Plan) Level(v int) int { return p.level[v] }

// LevelNodes returns the nodes of level l in increasing id order. The
// caller must not modify the slice.
func (p *Plan) LevelNodes(l int) []int { return p.levelNodes[l] }

// Order returns a topological order: every parent comes before its
// children (reverse it for leaves first). The caller must not modify it.
func (p *Plan) Order() []int { return p.order }

// Cache keeps the plans of recently seen graphs, so that a caller that sees
// the same set of DAGs again (Decima's agent between scheduling events)
// does not rebuild it. Graphs are compared by content (node count and edge
// list in order). It is safe for concurrent use; a lookup that hits
// allocates nothing.
type Cache struct {
	mu       sync.Mutex
	capacity int
	entries  map[uint64][]*cacheEntry
	fifo     []*cacheEntry
	hits     int
	misses   int
}

type cacheEntry struct {
	hash  uint64
	n     int
	edges [][2]int
	plan  *Plan
}

// NewCache returns a cache holding at most capacity plans; when full, the
// oldest plan is evicted. It panics if capacity < 1.
func NewCache(capacity int) *Cache {
	if capacity < 1 {
		panic(fmt.Sprintf("dagnn: cache capacity %d < 1", capacity))
	}
	return &Cache{capacity: capacity, entries: map[uint64][]*cacheEntry{}}
}

// Plan returns the plan of the graph, from the cache when the same graph
// was planned before, else from NewPlan (errors are returned, not cached).
// The cache keeps a copy of edges.
func (c *Cache) Plan(numNodes int, edges [][2]int) (*Plan, error) {
	h := hashGraph(numNodes, edges)
	c.mu.Lock()
	for _, e := range c.entries[h] {
		if e.n == numNodes && sameEdges(e.edges, edges) {
			c.hits++
			c.mu.Unlock()
			return e.plan, nil
		}
	}
	c.misses++
	c.mu.Unlock()
	p, err := NewPlan(numNodes, edges)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{hash: h, n: numNodes, edges: append([][2]int(nil), edges...), plan: p}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fifo) >= c.capacity {
		old := c.fifo[0]
		c.fifo = c.fifo[1:]
		list := c.entries[old.hash]
		for i, x := range list {
			if x == old {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(c.entries, old.hash)
		} else {
			c.entries[old.hash] = list
		}
	}
	c.fifo = append(c.fifo, e)
	c.entries[h] = append(c.entries[h], e)
	return p, nil
}

// Len returns the number of cached plans.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fifo)
}

// Stats returns the number of lookups that hit and missed.
func (c *Cache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// hashGraph is FNV-1a over the node count and the edge list.
func hashGraph(n int, edges [][2]int) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(v int) {
		x := uint64(v)
		for range 8 {
			h ^= x & 0xff
			h *= prime
			x >>= 8
		}
	}
	mix(n)
	mix(len(edges))
	for _, e := range edges {
		mix(e[0])
		mix(e[1])
	}
	return h
}

func sameEdges(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
