package cpn

import (
	"container/heap"
	"math"

	"github.com/cpntrain/cpntrain/datasets/topology"
)

// TMInterval is the length of one traffic-matrix interval in seconds (the
// Abilene matrices are 5-minute averages).
const TMInterval = 300.0

// background is the traffic of other users on every link over time:
// either one load vector per traffic-matrix interval (the real Abilene
// matrices routed on OSPF shortest paths) or one gravity-model vector
// modulated by the Abilene matrices' total-traffic series (a real daily
// shape), both scaled so that the mean over intervals of the most
// utilised link's utilisation is Config.Load.
type background struct {
	perInterval [][]float32 // interval → link → bit/s (Abilene)
	base        []float64   // link → bit/s (gravity)
	series      []float64   // interval → multiplier, mean 1 (gravity)
}

func (b *background) intervals() int {
	if b.perInterval != nil {
		return len(b.perInterval)
	}
	return len(b.series)
}

// at returns link l's background load in interval i.
func (b *background) at(i, l int) float64 {
	if b.perInterval != nil {
		return float64(b.perInterval[i][l])
	}
	return b.base[l] * b.series[i]
}

// routeTree returns, for shortest paths by OSPF weight from src, the link
// that enters every node (−1 for src and unreachable nodes), by Dijkstra.
func routeTree(g *topology.Graph, src int) []int {
	dist := make([]float64, g.N)
	parent := make([]int, g.N)
	for i := range dist {
		dist[i], parent[i] = math.Inf(1), -1
	}
	dist[src] = 0
	h := &nodeHeap{{src, 0}}
	for h.Len() > 0 {
		it := heap.Pop(h).(nodeDist)
		if it.d > dist[it.n] {
			continue
		}
		for _, li := range g.Out(it.n) {
			l := g.Links[li]
			// Ties go to the lower link index: deterministic routing.
			if d := it.d + l.Weight + 1e-9; d < dist[l.To] || (d == dist[l.To] && li < parent[l.To]) {
				dist[l.To], parent[l.To] = d, li
				heap.Push(h, nodeDist{l.To, d})
			}
		}
	}
	return parent
}

type nodeDist struct {
	n int
	d float64
}

type nodeHeap []nodeDist

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].d < h[j].d || h[i].d == h[j].d && h[i].n < h[j].n }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(nodeDist)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// routeDemands adds demand[i][j] (bit/s) to every link of the shortest
// path from i to j and returns the link loads.
func routeDemands(g *topology.Graph, demand func(i, j int) float64) []float64 {
	load := make([]float64, len(g.Links))
	for s := 0; s < g.N; s++ {
		parent := routeTree(g, s)
		for d := 0; d < g.N; d++ {
			v := demand(s, d)
			if d == s || v == 0 {
				continue
			}
			for n := d; n != s && parent[n] >= 0; n = g.Links[parent[n]].From {
				load[parent[n]] += v
			}
		}
	}
	return load
}

// maxUtil returns the largest load/capacity over links.
func maxUtil(g *topology.Graph, load func(l int) float64) float64 {
	var m float64
	for l, lk := range g.Links {
		m = math.Max(m, load(l)/lk.Capacity)
	}
	return m
}

// newAbileneBackground routes every Abilene matrix and scales the result.
func newAbileneBackground(g *topology.Graph, tm *topology.TrafficMatrices, target float64) *background {
	b := &background{perInterval: make([][]float32, tm.Len())}
	raw := make([][]float64, tm.Len())
	var meanMax float64
	for t := range raw {
		d := tm.Demands(t)
		raw[t] = routeDemands(g, func(i, j int) float64 { return d[i][j] })
		meanMax += maxUtil(g, func(l int) float64 { return raw[t][l] })
	}
	meanMax /= float64(len(raw))
	scale := 0.0
	if meanMax > 0 {
		scale = target / meanMax
	}
	for t, r := range raw {
		b.perInterval[t] = make([]float32, len(r))
		for l, v := range r {
			// Never more than 95 % of a link: the network stays usable.
			b.perInterval[t][l] = float32(math.Min(v*scale, 0.95*g.Links[l].Capacity))
		}
	}
	return b
}

// newGravityBackground routes a gravity matrix (masses = the nodes'
// outgoing capacity) and modulates it by series.
func newGravityBackground(g *topology.Graph, series []float64, target float64) *background {
	d := topology.Gravity(g, 1, nil)
	base := routeDemands(g, func(i, j int) float64 { return d[i][j] })
	var mean float64
	for _, s := range series {
		mean += s
	}
	mean /= float64(len(series))
	b := &background{base: base, series: make([]float64, len(series))}
	for i, s := range series {
		b.series[i] = s / mean
	}
	if m := maxUtil(g, func(l int) float64 { return base[l] }); m > 0 {
		for l := range base {
			base[l] = math.Min(base[l]*target/m, 0.95*g.Links[l].Capacity/maxSeries(b.series))
		}
	}
	return b
}

func maxSeries(s []float64) float64 {
	m := 1.0
	for _, v := range s {
		m = math.Max(m, v)
	}
	return m
}

// flow is a task's transfer in progress on one path: it holds rate bit/s
// on its links until end.
type flow struct {
	End   float64 `json:"end"`
	Rate  float64 `json:"rate"`
	Links []int   `json:"links"`
}

// flowHeap orders flows by end time. Flows ending at the same instant pop
// in an order fixed by the sequence of pushes and pops (container/heap is
// deterministic but not stable), so runs stay reproducible.
type flowHeap []flow

func (h flowHeap) Len() int           { return len(h) }
func (h flowHeap) Less(i, j int) bool { return h[i].End < h[j].End }
func (h flowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)        { *h = append(*h, x.(flow)) }
func (h *flowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
