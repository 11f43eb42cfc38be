package tsft

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// Kind is the model kind recorded in checkpoints.
const Kind = "tsft"

// ModelVersion changes whenever the model's parameters or their meaning
// change, so caches keyed on it never hand back a model of older code.
const ModelVersion = 2

// Cell sizes of the NAS-Bench-201 op-on-node encoding.
const (
	NumEdges  = 6
	NumOps    = 5
	NumNodes  = 8
	NodeTypes = 7
	// EdgeFeatures is the width of the one-hot edge-operation features.
	EdgeFeatures = NumEdges * NumOps
)

// Config describes the base latency model.
type Config struct {
	// Embed is the width of the device embedding (the number of
	// reference architectures, 10 for HELP's).
	Embed int `json:"embed"`
	// GNNDim is the width of the GCN node embeddings (0 disables the
	// graph encoder: the head then sees the one-hot edge operations only).
	GNNDim int `json:"gnn_dim"`
	// GNNLayers is the number of GCN layers.
	GNNLayers int `json:"gnn_layers"`
	// Hidden lists the widths of the head's hidden layers.
	Hidden []int `json:"hidden"`
	// Prior adds one input: the layer-wise prior of the cell on the
	// device, the ridge regression of the reference architectures'
	// latencies (the embedding) on the operation counts, evaluated at the
	// cell (Features.SetPrior). It is linear in the embedding, so the
	// model computes it as Σ_k Ref[cell, k]·emb[k].
	Prior bool `json:"prior,omitempty"`
}

// DefaultConfig returns the configuration used by `cpntrain tsft`.
func DefaultConfig() Config {
	return Config{Embed: 10, GNNDim: 0, GNNLayers: 2, Hidden: []int{256, 256}}
}

// Validate reports a configuration that cannot build a model.
func (c Config) Validate() error {
	if c.Embed <= 0 {
		return fmt.Errorf("tsft: embed width must be positive, got %d", c.Embed)
	}
	if c.GNNDim < 0 || (c.GNNDim > 0 && c.GNNLayers <= 0) {
		return fmt.Errorf("tsft: GNN needs a non-negative width and at least one layer, got dim %d layers %d", c.GNNDim, c.GNNLayers)
	}
	if len(c.Hidden) == 0 {
		return fmt.Errorf("tsft: the head needs at least one hidden layer")
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("tsft: hidden widths must be positive, got %v", c.Hidden)
		}
	}
	return nil
}

// Model is the base latency predictor f(X, V_h; θ).
type Model struct {
	Config Config
	GNN    *CellGCN // nil when Config.GNNDim == 0
	Head   *mlp.Model
}

var _ nn.Module = (*Model)(nil)

// New builds a model. It panics on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg}
	in := EdgeFeatures + cfg.Embed
	if cfg.Prior {
		in++
	}
	if cfg.GNNDim > 0 {
		m.GNN = newCellGCN(NodeTypes, cfg.GNNDim, cfg.GNNLayers, rng)
		in += NumNodes * cfg.GNNDim
	}
	sizes := append([]int{in}, cfg.Hidden...)
	m.Head = mlp.New(mlp.Config{Sizes: append(sizes, 1), Act: nn.ReLU}, rng)
	return m
}

// Params implements nn.Module: "gnn/…" and "head/…".
func (m *Model) Params(visit func(string, *nn.Param)) {
	if m.GNN != nil {
		m.GNN.Params(nn.Prefix("gnn", visit))
	}
	m.Head.Params(nn.Prefix("head", visit))
}

// ConfigJSON returns the config as JSON for checkpoints.
func (m *Model) ConfigJSON() json.RawMessage {
	b, _ := json.Marshal(m.Config)
	return b
}

// Clone returns a deep copy of the model (same config, copied values).
func (m *Model) Clone() *Model {
	c := New(m.Config, rand.New(rand.NewPCG(0, 0)))
	src := nn.Collect(m)
	dst := nn.Collect(c)
	for i := range src {
		copy(dst[i].Param.V.Data, src[i].Param.V.Data)
	}
	return c
}

// CopyFrom overwrites m's parameter values with src's (same config).
func (m *Model) CopyFrom(src *Model) {
	a, b := nn.Collect(m), nn.Collect(src)
	for i := range a {
		copy(a[i].Param.V.Data, b[i].Param.V.Data)
	}
}

// Forward predicts the normalised latency (B×1) of a batch: edge is B×30
// one-hot edge operations, emb is B×Embed (or 1×Embed, shared) device
// embeddings, g is the batch's cell graphs (nil when the model has no
// GNN) and ref the batch's B×Embed prior weights (Batch.Ref; nil when the
// model has no prior).
func (m *Model) Forward(t *nn.Tape, edge *nn.Tensor, g *Graphs, emb, ref *nn.Tensor) *nn.Tensor {
	b := edge.Rows
	if emb.Rows == 1 && b != 1 {
		emb = t.Add(emb, t.Zeros(b, emb.Cols))
	}
	parts := []*nn.Tensor{edge, emb}
	if m.Config.Prior {
		if ref == nil || ref.Rows != b || ref.Cols != emb.Cols {
			panic("tsft: Forward needs the batch's prior weights")
		}
		parts = append(parts, t.SumRows(t.Mul(ref, emb)))
	}
	if m.GNN != nil {
		if g == nil || g.Batch != b {
			panic("tsft: Forward needs the batch's cell graphs")
		}
		// Node features flattened per cell in canonical node order
		// (input, 6 edges, output); the GCN keeps that layout.
		parts = append(parts, m.GNN.Forward(t, t.Const(b, NumNodes*NodeTypes, g.node)))
	}
	return m.Head.Forward(t, t.ConcatCols(parts...))
}
