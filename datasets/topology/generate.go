package topology

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// WaxmanSide is the side, in km, of the square in which Waxman places its
// nodes.
const WaxmanSide = 2000.0

// Waxman returns a random connected topology of n nodes placed uniformly
// in a WaxmanSide × WaxmanSide km square: the simulator's built-in
// default. Nodes u and v are joined with probability
// alpha·exp(−d(u,v)/(beta·L)), L = WaxmanSide·√2 the largest possible
// distance (BRITE's naming: alpha scales the density, beta the share of
// long links; Waxman's paper swaps the two names). Components are
// then joined one at a time, the one holding the smallest node not yet
// connected to node 0 through its closest pair of nodes, until the graph
// is connected. Every edge becomes two directed links of DefaultCapacity,
// the delay of their Euclidean length at FibreSpeed (at least MinDelay),
// and weight 1. Nodes have Planar coordinates in km. The result depends
// only on the arguments and rng's state. Waxman panics if n is not in
// [1, MaxNodes], alpha not in (0, 1], beta not positive, or rng nil.
func Waxman(n int, alpha, beta float64, rng *rand.Rand) *Graph {
	if n < 1 || n > MaxNodes || !(alpha > 0 && alpha <= 1) || !(beta > 0) || math.IsInf(beta, 1) || rng == nil {
		panic(fmt.Sprintf("topology: Waxman(%d, %v, %v): need 1 ≤ n ≤ %d, 0 < alpha ≤ 1, beta > 0 and an rng", n, alpha, beta, MaxNodes))
	}
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{Label: strconv.Itoa(i), ID: int64(i), X: rng.Float64() * WaxmanSide, Y: rng.Float64() * WaxmanSide, Planar: true}
	}
	dist := func(u, v int) float64 { return math.Hypot(nodes[u].X-nodes[v].X, nodes[u].Y-nodes[v].Y) }
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	union := func(a, b int) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	var edges [][2]int
	scale := beta * WaxmanSide * math.Sqrt2
	for u := range n {
		for v := u + 1; v < n; v++ {
			if rng.Float64() < alpha*math.Exp(-dist(u, v)/scale) {
				edges = append(edges, [2]int{u, v})
				union(u, v)
			}
		}
	}
	for {
		c := -1
		for i := range n {
			if find(i) != find(0) {
				c = i
				break
			}
		}
		if c < 0 {
			break
		}
		rc := find(c)
		bu, bv, bd := -1, -1, math.Inf(1)
		for u := range n {
			if find(u) != rc {
				continue
			}
			for v := range n {
				if find(v) == find(0) {
					if d := dist(u, v); d < bd {
						bu, bv, bd = u, v, d
					}
				}
			}
		}
		edges = append(edges, [2]int{min(bu, bv), max(bu, bv)})
		union(bu, bv)
	}
	slices.SortFunc(edges, func(x, y [2]int) int { return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1])) })
	links := make([]Link, 0, 2*len(edges))
	for _, e := range edges {
		d := fibreDelay(dist(e[0], e[1]) * 1000)
		links = append(links,
			Link{From: e[0], To: e[1], Capacity: DefaultCapacity, Delay: d, Weight: 1},
			Link{From: e[1], To: e[0], Capacity: DefaultCapacity, Delay: d, Weight: 1})
	}
	g, err := New(fmt.Sprintf("waxman-%d", n), nodes, links)
	if err != nil {
		panic(err) // cannot happen: the links are valid by construction
	}
	g.Info = Info{Source: "waxman", FileNodes: n, FileEdges: len(edges)}
	return g
}

// Gravity returns a gravity-model traffic matrix for g, for graphs
// without measured ones: T[i][j] = total · m_i · m_j / Σ_{a≠b} m_a · m_b
// for i ≠ j, 0 on the diagonal, so the demands add up to total (bit/s).
// The masses m are drawn from the exponential distribution with rng, one
// per node in order (Roughan's simple gravity model), or, with a nil rng,
// are the nodes' total outgoing capacities. Gravity panics if total is
// negative or not finite.
func Gravity(g *Graph, total float64, rng *rand.Rand) [][]float64 {
	if !(total >= 0) || math.IsInf(total, 1) {
		panic(fmt.Sprintf("topology: Gravity: total %v is not finite and non-negative", total))
	}
	m := make([]float64, g.N)
	if rng != nil {
		for i := range m {
			m[i] = rng.ExpFloat64()
		}
	} else {
		for _, l := range g.Links {
			m[l.From] += l.Capacity
		}
	}
	sum, sq := 0.0, 0.0
	for _, x := range m {
		sum += x
		sq += x * x
	}
	norm := sum*sum - sq
	t := make([][]float64, g.N)
	for i := range t {
		t[i] = make([]float64, g.N)
		if norm <= 0 {
			continue
		}
		for j := range t[i] {
			if i != j {
				t[i][j] = total * m[i] * m[j] / norm
			}
		}
	}
	return t
}
