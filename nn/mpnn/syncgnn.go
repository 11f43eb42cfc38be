package mpnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
)

// SyncGNNConfig describes a SyncGNN: two vertex types embedded to a common
// width, then synchronous rounds of message passing over the bipartite
// compute-node/path graph.
type SyncGNNConfig struct {
	// ComputeIn and PathIn are the feature widths of compute-node and path
	// vertices.
	ComputeIn, PathIn int
	// Dim is the common embedding width (and the width of the messages and
	// of the outputs).
	Dim int
	// Rounds is the number of rounds, each with its own parameters; 0 means
	// 1, the paper's setting.
	Rounds int
	// MsgHidden and UpdHidden are the hidden widths of M and U.
	MsgHidden, UpdHidden []int
	// Act follows every hidden layer of M and U and the output of M.
	Act nn.Activation
	// OutAct follows the output of U (before the residual sum).
	OutAct nn.Activation
	// Aggr is the aggregation; "" means Sum (m_i = Σ_j M(h_i, h_j)).
	Aggr Aggregation
	// Residual makes the update h' = h + U(h, m).
	Residual bool
}

// Validate reports a config that cannot build a SyncGNN.
func (c SyncGNNConfig) Validate() error {
	if c.ComputeIn <= 0 || c.PathIn <= 0 || c.Dim <= 0 {
		return fmt.Errorf("mpnn: syncgnn widths must be positive, got ComputeIn %d, PathIn %d, Dim %d", c.ComputeIn, c.PathIn, c.Dim)
	}
	if c.Rounds < 0 {
		return fmt.Errorf("mpnn: syncgnn: negative number of rounds %d", c.Rounds)
	}
	return c.layer().Validate()
}

func (c SyncGNNConfig) layer() Config {
	return Config{In: c.Dim, Msg: c.Dim, Out: c.Dim, MsgHidden: c.MsgHidden, UpdHidden: c.UpdHidden,
		Act: c.Act, OutAct: c.OutAct, Aggr: c.Aggr, Residual: c.Residual}
}

// SyncGNN is the RLMS-CPN encoder: Linear embeddings of compute-node and
// path features, then Rounds message-passing layers shared by both vertex
// types.
type SyncGNN struct {
	Config       SyncGNNConfig
	EmbedCompute *linear.Model
	EmbedPath    *linear.Model
	Rounds       []*Model
}

var _ nn.Module = (*SyncGNN)(nil)

// NewSyncGNN builds a SyncGNN. It panics on an invalid config.
func NewSyncGNN(cfg SyncGNNConfig, rng *rand.Rand) *SyncGNN {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &SyncGNN{
		Config:       cfg,
		EmbedCompute: linear.New(linear.Config{In: cfg.ComputeIn, Out: cfg.Dim}, rng),
		EmbedPath:    linear.New(linear.Config{In: cfg.PathIn, Out: cfg.Dim}, rng),
	}
	for range max(cfg.Rounds, 1) {
		m.Rounds = append(m.Rounds, New(cfg.layer(), rng))
	}
	return m
}

// Forward embeds the C compute nodes (C×ComputeIn) and P paths (P×PathIn),
// runs the rounds over the edges src[k] → dst[k] (vertex ids as built by
// BipartiteEdges: compute nodes 0…C−1, paths C…C+P−1) and returns the
// updated compute-node (C×Dim) and path (P×Dim) embeddings. It panics on
// feature widths that differ from the config or on malformed edges.
func (m *SyncGNN) Forward(t *nn.Tape, compute, paths *nn.Tensor, src, dst []int) (hc, hp *nn.Tensor) {
	if compute.Cols != m.Config.ComputeIn || paths.Cols != m.Config.PathIn {
		panic(fmt.Sprintf("mpnn: syncgnn: features %s and %s, want %d and %d columns",
			compute.Shape(), paths.Shape(), m.Config.ComputeIn, m.Config.PathIn))
	}
	nc, np := compute.Rows, paths.Rows
	h := t.ConcatRows(m.EmbedCompute.Forward(t, compute), m.EmbedPath.Forward(t, paths))
	for _, l := range m.Rounds {
		h = l.Propagate(t, h, src, dst, nil)
	}
	return t.SliceRows(h, 0, nc), t.SliceRows(h, nc, nc+np)
}

// Params implements nn.Module: "embed_compute/…", "embed_path/…",
// "round0/…", "round1/…", ….
func (m *SyncGNN) Params(visit func(string, *nn.Param)) {
	m.EmbedCompute.Params(nn.Prefix("embed_compute", visit))
	m.EmbedPath.Params(nn.Prefix("embed_path", visit))
	for i, l := range m.Rounds {
		l.Params(nn.Prefix(fmt.Sprint("round", i), visit))
	}
}

// BipartiteEdges returns the edges of the SyncGNN graph of numCompute
// compute nodes and len(reach) paths, where path p reaches compute node
// reach[p]: for every p the edges C+p → reach[p] and reach[p] → C+p, with
// C = numCompute. It returns an error if numCompute is negative or a
// reach[p] lies outside [0, numCompute).
func BipartiteEdges(reach []int, numCompute int) (src, dst []int, err error) {
	return AppendBipartiteEdges(nil, nil, reach, numCompute)
}

// AppendBipartiteEdges is BipartiteEdges appending to src and dst, so that
// callers can reuse buffers (pass src[:0], dst[:0]). On error it returns
// src and dst unchanged.
func AppendBipartiteEdges(src, dst []int, reach []int, numCompute int) ([]int, []int, error) {
	if numCompute < 0 {
		return src, dst, fmt.Errorf("mpnn: negative number of compute nodes %d", numCompute)
	}
	for p, c := range reach {
		if c < 0 || c >= numCompute {
			return src, dst, fmt.Errorf("mpnn: path %d reaches compute node %d, outside [0,%d)", p, c, numCompute)
		}
	}
	for p, c := range reach {
		v := numCompute + p
		src = append(src, v, c)
		dst = append(dst, c, v)
	}
	return src, dst, nil
}
