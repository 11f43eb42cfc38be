package cpn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/datasets/topology"
)

// ComputeNode is a network node hosting a compute device.
type ComputeNode struct {
	// Node is the graph node.
	Node int
	// Class and Model name the device (Model as the HELP latency files,
	// without the batch suffix for GPUs).
	Class Class
	Model string

	tab  [][]float32 // the model's latency tables (Latencies.per[Model])
	pred [][]float32 // the controller's predictions of them (tab when exact)
}

// Network is the static part of a simulation, shared (read-only, with
// internally locked caches) by every environment made from it: topology,
// access points, compute devices, background traffic, measured latencies
// and the candidate paths.
type Network struct {
	Cfg Config
	G   *topology.Graph
	// APs are the access points (graph nodes); Compute the compute nodes.
	APs     []int
	Compute []ComputeNode

	bg      *background
	lat     *Latencies
	pred    *Latencies           // the controller's predictions (lat when exact)
	models  [numClasses][]string // distinct models present, per class
	mu      sync.Mutex
	byClass map[int]*[numClasses][]int // AP → compute indices per class, nearest first
	hops    map[int][]int              // AP → hop distances
	paths   map[[2]int]*pathSet        // (AP, compute index) → candidate paths
	finder  *topology.PathFinder
}

// pathSet is the P candidate paths from an access point to a compute node:
// the k shortest by propagation delay, the last repeated when fewer exist.
type pathSet struct {
	links [][]int
	orig  []int // row a repeated row copies (itself if distinct)
	prop  []float64
	// shared is the share of a distinct path's links that another
	// distinct path of the set also uses (0 on repeated rows).
	shared []float64
	// users[j][k] is the number of distinct paths of the set that use
	// link links[j][k] (at least 1).
	users [][]float64
	// overlap[j·P+k] is true when distinct paths j ≠ k share a link.
	overlap []bool
}

// NewNetwork builds the network of cfg, reading what it needs from
// cfg.DataDir (the topology, AbileneTM for the background traffic, and the
// NAS-Bench-201 latencies under nasbench201/).
func NewNetwork(cfg Config) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("cpn: no data folder: set CPNTRAIN_DATA (or --data-dir) to the data sets root, or fetch them with `cpntrain data fetch`")
	}
	var g *topology.Graph
	var err error
	if cfg.TopologyFile != "" {
		if g, err = topology.LoadFile(cfg.TopologyFile); err != nil {
			return nil, err
		}
	} else if strings.EqualFold(cfg.Topology, "waxman") {
		g = topology.Waxman(cfg.WaxmanNodes, 0.4, 0.2, rand.New(rand.NewPCG(cfg.PlacementSeed, 0x3a7)))
	} else if g, err = topology.Load(cfg.DataDir, cfg.Topology); err != nil {
		return nil, err
	}
	tm, err := topology.LoadAbileneTM(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	lat, err := LoadLatencies(filepath.Join(cfg.DataDir, nasbench201.DirName))
	if err != nil {
		return nil, err
	}
	return newNetwork(cfg, g, tm, lat)
}

// newNetwork places access points and devices and routes the background.
func newNetwork(cfg Config, g *topology.Graph, tm *topology.TrafficMatrices, lat *Latencies) (*Network, error) {
	if g.N < 3 {
		return nil, fmt.Errorf("cpn: topology %s has %d nodes; need at least 3", g.Name, g.N)
	}
	n := &Network{Cfg: cfg, G: g, lat: lat, pred: lat,
		byClass: map[int]*[numClasses][]int{}, hops: map[int][]int{}, paths: map[[2]int]*pathSet{},
		finder: g.PathFinder(topology.DelayCost)}
	rng := rand.New(rand.NewPCG(cfg.PlacementSeed, 0x91ace))
	nAP := cfg.AccessPoints
	if nAP == 0 {
		nAP = 2
		if g.N > 12 {
			nAP = max(2, g.N/6)
		}
	}
	if nAP >= g.N {
		return nil, fmt.Errorf("cpn: %d access points leave no compute node on %s (%d nodes)", nAP, g.Name, g.N)
	}
	perm := rng.Perm(g.N)
	n.APs = slices.Clone(perm[:nAP])
	slices.Sort(n.APs)
	rest := slices.Clone(perm[nAP:])
	slices.Sort(rest)
	// Classes: half CPUs, half GPUs on small graphs; OtherFraction others
	// and the rest split evenly on larger ones; assigned in random order.
	nc := len(rest)
	nOther := 0
	if g.N > 12 {
		nOther = int(math.Round(cfg.OtherFraction * float64(nc)))
	}
	nGPU := (nc - nOther + 1) / 2
	classes := make([]Class, nc)
	for i := range classes {
		switch {
		case i < nGPU:
			classes[i] = GPU
		case i < nc-nOther:
			classes[i] = CPU
		default:
			classes[i] = Other
		}
	}
	rng.Shuffle(nc, func(i, j int) { classes[i], classes[j] = classes[j], classes[i] })
	count := [numClasses]int{}
	for i, node := range rest {
		c := classes[i]
		var models []string
		switch c {
		case CPU:
			models = cpuModels
		case GPU:
			models = gpuModels
		default:
			models = otherModels
		}
		m := models[count[c]%len(models)]
		count[c]++
		n.Compute = append(n.Compute, ComputeNode{Node: node, Class: c, Model: m, tab: lat.per[m], pred: lat.per[m]})
		if !slices.Contains(n.models[c], m) {
			n.models[c] = append(n.models[c], m)
		}
	}
	// Background: the real Abilene matrices on Abilene, a gravity model
	// with the Abilene daily shape elsewhere.
	if g.Name == "Abilene" && tm.N == g.N {
		n.bg = newAbileneBackground(g, tm, cfg.Load)
	} else {
		series := make([]float64, tm.Len())
		for t, m := range tm.M {
			for _, v := range m {
				series[t] += v
			}
		}
		n.bg = newGravityBackground(g, series, cfg.Load)
	}
	return n, nil
}

// Latency returns the measured latency in ms of a task on compute node c:
// what the simulation runs.
func (n *Network) Latency(c int, t Task) float64 {
	return computeOn(n.Compute[c].tab, t.Arch, t.Images)
}

// Predicted returns the controller's prediction of Latency: the measured
// latency unless SetPredictions gave predicted tables.
func (n *Network) Predicted(c int, t Task) float64 {
	tab := n.Compute[c].pred
	if tab == nil {
		tab = n.Compute[c].tab
	}
	return computeOn(tab, t.Arch, t.Images)
}

// SetPredictions makes the controller — the filter's choice of device
// class, the observation's compute latencies and everything computed from
// them (the water-filling controller's estimates, the Fastest baseline) —
// see p instead of the measured latencies, while the simulation keeps
// running the measured ones. nil restores the exact predictions. Call it
// before making environments from n.
func (n *Network) SetPredictions(p *Latencies) {
	if p == nil {
		p = n.lat
	}
	n.pred = p
	for i := range n.Compute {
		n.Compute[i].pred = p.per[n.Compute[i].Model]
	}
}

// predictions returns the controller's latency tables.
func (n *Network) predictions() *Latencies {
	if n.pred == nil {
		return n.lat
	}
	return n.pred
}

// Exact reports whether the controller sees the measured latencies.
func (n *Network) Exact() bool { return n.pred == nil || n.pred == n.lat }

// fastestClass returns the device class with the lowest mean predicted
// latency for t over the models present.
func (n *Network) fastestClass(t Task) Class {
	best, bestT := Class(-1), math.Inf(1)
	for c := Class(0); c < numClasses; c++ {
		if len(n.models[c]) == 0 {
			continue
		}
		var s float64
		for _, m := range n.models[c] {
			s += n.predictions().compute(m, t.Arch, t.Images)
		}
		if s /= float64(len(n.models[c])); s < bestT {
			best, bestT = c, s
		}
	}
	return best
}

// nearest returns the hop distances from ap and the compute nodes of every
// class ordered by hop count (then index), unreachable ones left out.
func (n *Network) nearest(ap int) ([]int, *[numClasses][]int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if bc, ok := n.byClass[ap]; ok {
		return n.hops[ap], bc
	}
	h := n.G.HopDistances(ap)
	bc := new([numClasses][]int)
	for i, c := range n.Compute {
		if h[c.Node] >= 0 {
			bc[c.Class] = append(bc[c.Class], i)
		}
	}
	for c := range bc {
		slices.SortStableFunc(bc[c], func(a, b int) int { return h[n.Compute[a].Node] - h[n.Compute[b].Node] })
	}
	n.hops[ap], n.byClass[ap] = h, bc
	return h, bc
}

// candidates appends to dst the K candidate compute nodes of a task at ap:
// the nearest of the predicted-fastest class, then the nearest of the
// others when that class has fewer than K (RLMS-CPN's filter).
func (n *Network) candidates(dst []int, t Task) []int {
	h, bc := n.nearest(n.APs[t.AP])
	first := n.fastestClass(t)
	dst = append(dst[:0], bc[first][:min(n.Cfg.K, len(bc[first]))]...)
	if len(dst) < n.Cfg.K {
		var rest []int
		for c := Class(0); c < numClasses; c++ {
			if c != first {
				rest = append(rest, bc[c]...)
			}
		}
		slices.SortStableFunc(rest, func(a, b int) int {
			if d := h[n.Compute[a].Node] - h[n.Compute[b].Node]; d != 0 {
				return d
			}
			return a - b
		})
		dst = append(dst, rest[:min(n.Cfg.K-len(dst), len(rest))]...)
	}
	return dst
}

// pathsTo returns the candidate paths from access point ap to compute
// node c (cached).
func (n *Network) pathsTo(ap, c int) *pathSet {
	key := [2]int{ap, c}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ps, ok := n.paths[key]; ok {
		return ps
	}
	found := n.finder.KShortest(ap, n.Compute[c].Node, n.Cfg.P)
	ps := &pathSet{}
	for j := 0; j < n.Cfg.P; j++ {
		src := min(j, len(found)-1)
		ps.links = append(ps.links, found[src])
		ps.orig = append(ps.orig, src)
		var d float64
		for _, l := range found[src] {
			d += n.G.Links[l].Delay
		}
		ps.prop = append(ps.prop, d)
	}
	// One pass over the distinct paths' links: how many distinct paths
	// use each link, which pairs overlap, and each path's shared share.
	ps.shared = make([]float64, n.Cfg.P)
	ps.users = make([][]float64, n.Cfg.P)
	ps.overlap = make([]bool, n.Cfg.P*n.Cfg.P)
	for j := range ps.links {
		if ps.orig[j] != j {
			continue
		}
		ps.users[j] = make([]float64, len(ps.links[j]))
		var s int
		for li, l := range ps.links[j] {
			u := 1
			for k := range ps.links {
				if k != j && ps.orig[k] == k && slices.Contains(ps.links[k], l) {
					u++
					ps.overlap[j*n.Cfg.P+k] = true
				}
			}
			ps.users[j][li] = float64(u)
			if u > 1 {
				s++
			}
		}
		ps.shared[j] = float64(s) / float64(len(ps.links[j]))
	}
	n.paths[key] = ps
	return ps
}
