package gcn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/layernorm"
)

// Direction selects which edges carry information (see the package
// documentation).
type Direction string

// Directions a layer accepts. The zero value means Undirected.
const (
	Undirected Direction = "undirected"
	Forward    Direction = "forward"
	Both       Direction = "both"
)

// Validate returns an error for an unknown direction.
func (d Direction) Validate() error {
	switch d {
	case "", Undirected, Forward, Both:
		return nil
	}
	return fmt.Errorf("gcn: unknown direction %q (want undirected, forward or both)", string(d))
}

// prop is one normalised propagation: edges (self-loops included) and their
// coefficients.
type prop struct {
	src, dst []int
	norm     *nn.Tensor // E'×1, no gradient
}

// Graph is a batch of graphs with the GCN normalisation precomputed for
// every Direction. It is immutable; build it once per batch and pass it to
// every layer.
type Graph struct {
	n, ngraphs    int
	nedges        int
	nodeGraph     []int
	und, fwd, bwd prop
}

// NewGraph returns the graph of numNodes nodes with the directed edges
// src[k] → dst[k], split into numGraphs graphs by nodeGraph (the graph of
// each node; nil when numGraphs is 1). Repeated edges count with their
// multiplicity. It returns an error if the arrays differ in length, an id
// is out of range, or an edge is a self-loop (Â adds one to every node).
func NewGraph(numNodes int, src, dst []int, nodeGraph []int, numGraphs int) (*Graph, error) {
	if numNodes < 0 || numGraphs < 0 {
		return nil, fmt.Errorf("gcn: negative size: %d nodes, %d graphs", numNodes, numGraphs)
	}
	if len(src) != len(dst) {
		return nil, fmt.Errorf("gcn: %d edge sources and %d destinations", len(src), len(dst))
	}
	for k, s := range src {
		d := dst[k]
		if s < 0 || s >= numNodes || d < 0 || d >= numNodes {
			return nil, fmt.Errorf("gcn: edge %d (%d→%d) has a node outside [0,%d)", k, s, d, numNodes)
		}
		if s == d {
			return nil, fmt.Errorf("gcn: edge %d is a self-loop on node %d", k, s)
		}
	}
	g := &Graph{n: numNodes, ngraphs: numGraphs, nedges: len(src)}
	if nodeGraph == nil {
		if numGraphs != 1 {
			return nil, fmt.Errorf("gcn: nodeGraph is nil but there are %d graphs", numGraphs)
		}
		g.nodeGraph = make([]int, numNodes)
	} else {
		if len(nodeGraph) != numNodes {
			return nil, fmt.Errorf("gcn: %d graph ids for %d nodes", len(nodeGraph), numNodes)
		}
		for i, c := range nodeGraph {
			if c < 0 || c >= numGraphs {
				return nil, fmt.Errorf("gcn: node %d is in graph %d, outside [0,%d)", i, c, numGraphs)
			}
		}
		g.nodeGraph = append([]int(nil), nodeGraph...)
	}
	both := func(a, b []int) []int { return append(append(make([]int, 0, len(a)+len(b)), a...), b...) }
	g.und = newProp(numNodes, both(src, dst), both(dst, src))
	g.fwd = newProp(numNodes, src, dst)
	g.bwd = newProp(numNodes, dst, src)
	return g, nil
}

// newProp appends self-loops to the edges s → d and computes the
// coefficients (d̃_s d̃_d)^−1/2 with d̃ = 1 + in-degree.
func newProp(n int, s, d []int) prop {
	e := len(s)
	p := prop{src: make([]int, e+n), dst: make([]int, e+n)}
	copy(p.src, s)
	copy(p.dst, d)
	deg := make([]float64, n)
	for i := 0; i < n; i++ {
		p.src[e+i], p.dst[e+i] = i, i
		deg[i] = 1
	}
	for _, v := range d {
		deg[v]++
	}
	p.norm = nn.New(e+n, 1)
	for k := range p.src {
		p.norm.Data[k] = float32(1 / math.Sqrt(deg[p.src[k]]*deg[p.dst[k]]))
	}
	return p
}

// NumNodes returns the number of nodes of the batch.
func (g *Graph) NumNodes() int { return g.n }

// NumGraphs returns the number of graphs of the batch.
func (g *Graph) NumGraphs() int { return g.ngraphs }

// NumEdges returns the number of listed edges (without self-loops).
func (g *Graph) NumEdges() int { return g.nedges }

// NodeGraph returns the graph of each node. The caller must not modify it.
func (g *Graph) NodeGraph() []int { return g.nodeGraph }

// propagate returns Â·y for one normalised propagation.
func propagate(t *nn.Tape, y *nn.Tensor, p *prop, n int) *nn.Tensor {
	return t.SegmentSum(t.Mul(t.Gather(y, p.src), p.norm), p.dst, n)
}

// LayerConfig describes one graph convolution.
type LayerConfig struct {
	// In and Out are the input and output widths.
	In, Out int
	// Direction selects the propagation; "" means Undirected.
	Direction Direction
	// NoBias drops b.
	NoBias bool
}

// Validate reports a config that cannot build a layer.
func (c LayerConfig) Validate() error {
	if c.In <= 0 || c.Out <= 0 {
		return fmt.Errorf("gcn: sizes must be positive, got %d→%d", c.In, c.Out)
	}
	return c.Direction.Validate()
}

// Layer is one graph convolution H' = Â H W + b. WBack holds the weights of
// the backward propagation and is nil unless the direction is Both; B is
// nil when NoBias.
type Layer struct {
	Config   LayerConfig
	W, WBack *nn.Param
	B        *nn.Param
}

var _ nn.Module = (*Layer)(nil)

// NewLayer returns a layer with Xavier-uniform weights (as Kipf and
// Welling) and a zero bias. It panics on an invalid config.
func NewLayer(cfg LayerConfig, rng *rand.Rand) *Layer {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	l := &Layer{Config: cfg, W: nn.NewParam(cfg.In, cfg.Out)}
	nn.XavierUniform(1)(l.W, rng)
	if cfg.Direction == Both {
		l.WBack = nn.NewParam(cfg.In, cfg.Out)
		nn.XavierUniform(1)(l.WBack, rng)
	}
	if !cfg.NoBias {
		l.B = nn.NewParam(1, cfg.Out)
	}
	return l
}

// Forward returns Â·h·W + b (N×Out) for the node states h (N×In) of g. It
// panics if h does not have g's node count or In columns.
func (l *Layer) Forward(t *nn.Tape, h *nn.Tensor, g *Graph) *nn.Tensor {
	if h.Rows != g.n || h.Cols != l.Config.In {
		panic(fmt.Sprintf("gcn: input %s, want %d×%d", h.Shape(), g.n, l.Config.In))
	}
	var out *nn.Tensor
	switch l.Config.Direction {
	case Forward:
		out = l.conv(t, h, l.W, &g.fwd, g.n)
	case Both:
		out = t.Scale(t.Add(l.conv(t, h, l.W, &g.fwd, g.n), l.conv(t, h, l.WBack, &g.bwd, g.n)), 0.5)
	default:
		out = l.conv(t, h, l.W, &g.und, g.n)
	}
	if l.B != nil {
		out = t.Add(out, l.B.V)
	}
	return out
}

// conv computes Â·h·w in the cheaper order: the propagation runs on the
// narrower of h and h·w.
func (l *Layer) conv(t *nn.Tape, h *nn.Tensor, w *nn.Param, p *prop, n int) *nn.Tensor {
	if l.Config.In < l.Config.Out {
		return t.Linear(propagate(t, h, p, n), w.V, nil)
	}
	return propagate(t, t.Linear(h, w.V, nil), p, n)
}

// Params implements nn.Module: "w", then "w_back" and "b" when present.
func (l *Layer) Params(visit func(string, *nn.Param)) {
	visit("w", l.W)
	if l.WBack != nil {
		visit("w_back", l.WBack)
	}
	if l.B != nil {
		visit("b", l.B)
	}
}

// Config describes a multi-layer GCN.
type Config struct {
	// In is the node feature width.
	In int
	// Hidden lists the output width of each layer (at least one layer).
	Hidden []int
	// Act follows every layer (after the LayerNorm when enabled); BRP-NAS
	// uses relu.
	Act nn.Activation
	// LayerNorm normalises each layer's output before the activation, as
	// BRP-NAS does.
	LayerNorm bool
	// Direction is the direction of every layer.
	Direction Direction
}

// Validate reports a config that cannot build a GCN.
func (c Config) Validate() error {
	if c.In <= 0 {
		return fmt.Errorf("gcn: input width must be positive, got %d", c.In)
	}
	if len(c.Hidden) == 0 {
		return fmt.Errorf("gcn: need at least one layer")
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("gcn: layer widths must be positive, got %v", c.Hidden)
		}
	}
	if err := c.Act.Validate(); err != nil {
		return fmt.Errorf("gcn: %w", err)
	}
	return c.Direction.Validate()
}

// Model is a stack of graph convolutions with a mean readout. Norms is
// empty unless Config.LayerNorm.
type Model struct {
	Config Config
	Layers []*Layer
	Norms  []*layernorm.Model
}

var _ nn.Module = (*Model)(nil)

// New builds a multi-layer GCN. It panics on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg}
	in := cfg.In
	for _, out := range cfg.Hidden {
		m.Layers = append(m.Layers, NewLayer(LayerConfig{In: in, Out: out, Direction: cfg.Direction}, rng))
		if cfg.LayerNorm {
			m.Norms = append(m.Norms, layernorm.New(layernorm.Config{Dim: out}))
		}
		in = out
	}
	return m
}

// Out returns the width of the node embeddings.
func (m *Model) Out() int { return m.Config.Hidden[len(m.Config.Hidden)-1] }

// Forward returns the node embeddings (N×Out) of the node features x (N×In)
// of g. It panics if x does not match g or the config.
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor, g *Graph) *nn.Tensor {
	for i, l := range m.Layers {
		x = l.Forward(t, x, g)
		if m.Norms != nil {
			x = m.Norms[i].Forward(t, x)
		}
		x = t.Apply(m.Config.Act, x)
	}
	return x
}

// Readout returns the mean of each graph's node embeddings (G×C for h of
// shape N×C; an empty graph reads out zeros). It panics if h does not have
// g's node count.
func (m *Model) Readout(t *nn.Tape, h *nn.Tensor, g *Graph) *nn.Tensor {
	if h.Rows != g.n {
		panic(fmt.Sprintf("gcn: Readout of %s for a graph of %d nodes", h.Shape(), g.n))
	}
	return t.SegmentMean(h, g.nodeGraph, g.ngraphs)
}

// Embed returns Readout(Forward(x)): one G×Out row per graph.
func (m *Model) Embed(t *nn.Tape, x *nn.Tensor, g *Graph) *nn.Tensor {
	return m.Readout(t, m.Forward(t, x, g), g)
}

// Params implements nn.Module: "layer0/w", "layer0/b", "layer0/norm/gain", ….
func (m *Model) Params(visit func(string, *nn.Param)) {
	for i, l := range m.Layers {
		v := nn.Prefix(fmt.Sprint("layer", i), visit)
		l.Params(v)
		if m.Norms != nil {
			m.Norms[i].Params(nn.Prefix("norm", v))
		}
	}
}
