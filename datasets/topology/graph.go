package topology

import (
	"fmt"
	"math"
)

// Limits that bound the memory a reader may allocate, whatever its input.
const (
	// MaxNodes is the largest number of nodes a topology may have.
	MaxNodes = 100_000
	// MaxLinks is the largest number of directed links (CFR-RL) or edges
	// (GML) a topology may have.
	MaxLinks = 1_000_000
)

// Node is one node (router, PoP) of a topology.
type Node struct {
	// Label is the node's name: the GML label, the Abilene router name,
	// or the decimal index when the source has none.
	Label string
	// ID is the node's identifier in the source: the GML id, or the node
	// index for CFR-RL files and generated graphs.
	ID int64
	// Lat and Lon are the node's coordinates in degrees, valid when Geo.
	Lat, Lon float64
	// Geo says whether Lat and Lon are known.
	Geo bool
	// X and Y are planar coordinates in km, valid when Planar (graphs made
	// by Waxman).
	X, Y float64
	// Planar says whether X and Y are set.
	Planar bool
	// Hyperedge marks a Topology Zoo hyperedge junction: a node the Zoo
	// adds where one link joins more than two PoPs (label empty).
	Hyperedge bool
}

// Link is one directed link.
type Link struct {
	// From and To are node indices.
	From, To int
	// Capacity is in bits per second (> 0).
	Capacity float64
	// Delay is the propagation delay in seconds (≥ 0).
	Delay float64
	// Weight is the routing (OSPF) weight (≥ 0): from the file for CFR-RL
	// topologies, 1 for Topology Zoo and generated ones.
	Weight float64
}

// Info records where a graph comes from and what a reader changed.
type Info struct {
	// Source is "cfr-rl", "topologyzoo", "waxman", or empty for New.
	Source string
	// FileNodes and FileEdges are the counts in the file: nodes and
	// directed links (CFR-RL) or undirected edges (GML).
	FileNodes, FileEdges int
	// DroppedNodes counts nodes outside the largest connected component
	// (Topology Zoo), which are dropped.
	DroppedNodes int
	// MergedEdges counts GML edges merged into a parallel edge between the
	// same two nodes.
	MergedEdges int
	// SelfLoops counts GML edges from a node to itself, which are dropped.
	SelfLoops int
	// NoCoords counts kept nodes without coordinates.
	NoCoords int
	// FallbackDelays counts undirected links whose delay is a fallback
	// (median or DefaultDelay) because an endpoint lacks coordinates.
	FallbackDelays int
	// DefaultCapacities counts undirected links given DefaultCapacity
	// because the file has no speed for them.
	DefaultCapacities int
}

// Graph is a directed network topology. Links are indexed 0..len(Links)-1;
// paths are lists of link indices. Make graphs with New or a reader: the
// adjacency lists are built once there. The Capacity, Delay and Weight of
// links may be changed afterwards, not their endpoints nor their number.
// A Graph is safe for concurrent reads.
type Graph struct {
	// Name is the topology's name, e.g. "Abilene".
	Name string
	// N is the number of nodes, len(Nodes).
	N int
	// Nodes are the nodes, by index.
	Nodes []Node
	// Links are the directed links, by index.
	Links []Link
	// Info tells where the graph comes from.
	Info Info

	out, in [][]int
}

// New checks nodes and links and returns a graph holding them (it keeps
// the slices). Every link must join two distinct nodes in range and have
// a positive finite capacity, and a finite non-negative delay and weight.
// Parallel links are allowed.
func New(name string, nodes []Node, links []Link) (*Graph, error) {
	n := len(nodes)
	if n == 0 {
		return nil, fmt.Errorf("topology: %s: no nodes", name)
	}
	if n > MaxNodes {
		return nil, fmt.Errorf("topology: %s: %d nodes, more than %d", name, n, MaxNodes)
	}
	if len(links) > MaxLinks {
		return nil, fmt.Errorf("topology: %s: %d links, more than %d", name, len(links), MaxLinks)
	}
	for i, l := range links {
		switch {
		case l.From < 0 || l.From >= n || l.To < 0 || l.To >= n:
			return nil, fmt.Errorf("topology: %s: link %d: %d→%d out of range [0, %d)", name, i, l.From, l.To, n)
		case l.From == l.To:
			return nil, fmt.Errorf("topology: %s: link %d: self loop at node %d", name, i, l.From)
		case !(l.Capacity > 0) || math.IsInf(l.Capacity, 1):
			return nil, fmt.Errorf("topology: %s: link %d: capacity %v is not positive and finite", name, i, l.Capacity)
		case !(l.Delay >= 0) || math.IsInf(l.Delay, 1):
			return nil, fmt.Errorf("topology: %s: link %d: delay %v is not finite and non-negative", name, i, l.Delay)
		case !(l.Weight >= 0) || math.IsInf(l.Weight, 1):
			return nil, fmt.Errorf("topology: %s: link %d: weight %v is not finite and non-negative", name, i, l.Weight)
		}
	}
	g := &Graph{Name: name, N: n, Nodes: nodes, Links: links}
	g.out, g.in = adjacency(n, links)
	return g, nil
}

// adjacency returns the outgoing and incoming link indices of every node,
// each list in increasing link order, sharing two backing arrays.
func adjacency(n int, links []Link) (out, in [][]int) {
	outDeg := make([]int, n)
	inDeg := make([]int, n)
	for _, l := range links {
		outDeg[l.From]++
		inDeg[l.To]++
	}
	out = make([][]int, n)
	in = make([][]int, n)
	ob := make([]int, len(links))
	ib := make([]int, len(links))
	po, pi := 0, 0
	for u := range n {
		out[u] = ob[po : po : po+outDeg[u]]
		in[u] = ib[pi : pi : pi+inDeg[u]]
		po += outDeg[u]
		pi += inDeg[u]
	}
	for i, l := range links {
		out[l.From] = append(out[l.From], i)
		in[l.To] = append(in[l.To], i)
	}
	return out, in
}

// adj returns the adjacency lists, building them (without storing them)
// for a Graph that was not made by New.
func (g *Graph) adj() (out, in [][]int) {
	if g.out == nil && g.N > 0 {
		return adjacency(g.N, g.Links)
	}
	return g.out, g.in
}

// Out returns the indices of the links leaving u, in increasing order.
// The slice must not be modified.
func (g *Graph) Out(u int) []int {
	out, _ := g.adj()
	return out[u]
}

// In returns the indices of the links entering u, in increasing order.
// The slice must not be modified.
func (g *Graph) In(u int) []int {
	_, in := g.adj()
	return in[u]
}

// Find returns the index of the first link from u to v, or -1 if there is
// none.
func (g *Graph) Find(u, v int) int {
	for _, l := range g.Out(u) {
		if g.Links[l].To == v {
			return l
		}
	}
	return -1
}

// HopDistances returns the number of links on a shortest path from src to
// every node (breadth-first search), -1 for nodes src cannot reach.
func (g *Graph) HopDistances(src int) []int {
	out, _ := g.adj()
	d := make([]int, g.N)
	for i := range d {
		d[i] = -1
	}
	d[src] = 0
	queue := make([]int, 1, g.N)
	queue[0] = src
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, l := range out[u] {
			if v := g.Links[l].To; d[v] < 0 {
				d[v] = d[u] + 1
				queue = append(queue, v)
			}
		}
	}
	return d
}

// StronglyConnected reports whether every node can reach every other one.
func (g *Graph) StronglyConnected() bool {
	return g.unreachable() < 0
}

// unreachable returns a node that node 0 cannot reach or that cannot reach
// node 0, or -1 if there is none.
func (g *Graph) unreachable() int {
	if g.N == 0 {
		return -1
	}
	out, in := g.adj()
	for pass, adj := range [2][][]int{out, in} {
		seen := make([]bool, g.N)
		seen[0] = true
		stack := []int{0}
		for len(stack) > 0 {
			u := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, l := range adj[u] {
				v := g.Links[l].To
				if pass == 1 {
					v = g.Links[l].From
				}
				if !seen[v] {
					seen[v] = true
					stack = append(stack, v)
				}
			}
		}
		for v, ok := range seen {
			if !ok {
				return v
			}
		}
	}
	return -1
}

// PathNodes returns the nodes a path of link indices visits, its source
// first; an empty path gives nil.
func (g *Graph) PathNodes(path []int) []int {
	if len(path) == 0 {
		return nil
	}
	nodes := make([]int, 0, len(path)+1)
	nodes = append(nodes, g.Links[path[0]].From)
	for _, l := range path {
		nodes = append(nodes, g.Links[l].To)
	}
	return nodes
}

// PathCost returns the sum of cost over the links of path, in order (nil
// cost counts hops).
func (g *Graph) PathCost(path []int, cost CostFunc) float64 {
	if cost == nil {
		return float64(len(path))
	}
	s := 0.0
	for _, l := range path {
		s += cost(g.Links[l])
	}
	return s
}
