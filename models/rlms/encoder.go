package rlms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/mpnn"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Encoder embeds the compute vertices ([node ‖ task] features) and path
// vertices ([path ‖ task] features) of a batch of observations to Dim
// columns each. Exactly one of GNN (EncoderSyncGNN) and Compute/Path
// (EncoderMLP) is set.
type Encoder struct {
	Kind string
	// GNN is the SyncGNN: Linear embeddings, then Rounds synchronous
	// message-passing rounds (message tanh(W[h_i ‖ h_j] + b), sum
	// aggregation, update tanh(W[h ‖ m] + b)).
	GNN *mpnn.SyncGNN
	// Compute and Path are the per-vertex MLPs of the ablation
	// (In → Dim → Dim, tanh after both layers): no message passing.
	Compute, Path *mlp.Model
	// PathEdges also links the paths of a candidate that share a link
	// (Config.PathEdges).
	PathEdges bool
}

// edges returns which edges a batch needs for this encoder.
func (e *Encoder) edges() edgeKind {
	switch {
	case e.GNN == nil:
		return noEdges
	case e.PathEdges:
		return withPathEdges
	}
	return nodePathEdges
}

var _ nn.Module = (*Encoder)(nil)

// newEncoder builds the encoder of cfg with CleanRL's orthogonal init (gain
// √2, zero biases).
func newEncoder(cfg Config, rng *rand.Rand) *Encoder {
	e := &Encoder{Kind: cfg.Encoder, PathEdges: cfg.PathEdges}
	switch cfg.Encoder {
	case EncoderSyncGNN:
		e.GNN = mpnn.NewSyncGNN(mpnn.SyncGNNConfig{
			ComputeIn: ComputeIn, PathIn: PathIn, Dim: cfg.Dim, Rounds: cfg.Rounds,
			Act: nn.Tanh, OutAct: nn.Tanh, Aggr: mpnn.Sum,
		}, rng)
	case EncoderMLP:
		e.Compute = mlp.New(mlp.Config{Sizes: []int{ComputeIn, cfg.Dim, cfg.Dim}, Act: nn.Tanh, OutAct: nn.Tanh}, rng)
		e.Path = mlp.New(mlp.Config{Sizes: []int{PathIn, cfg.Dim, cfg.Dim}, Act: nn.Tanh, OutAct: nn.Tanh}, rng)
	default:
		panic(fmt.Sprintf("rlms: unknown encoder %q", cfg.Encoder))
	}
	orthogonalAll(e, math.Sqrt2, rng)
	return e
}

// Params implements nn.Module: "embed_compute/…", "embed_path/…",
// "round0/…" for SyncGNN; "compute/…", "path/…" for the MLP encoder.
func (e *Encoder) Params(visit func(string, *nn.Param)) {
	if e.GNN != nil {
		e.GNN.Params(visit)
	}
	if e.Compute != nil {
		e.Compute.Params(nn.Prefix("compute", visit))
	}
	if e.Path != nil {
		e.Path.Params(nn.Prefix("path", visit))
	}
}

// forward returns the R·K×Dim compute and R·K·P×Dim path embeddings of a
// filled batch (with edges for SyncGNN).
func (e *Encoder) forward(t *nn.Tape, b *batch) (hc, hp *nn.Tensor) {
	xc := t.Const(b.r*b.k, ComputeIn, b.compute)
	xp := t.Const(b.r*b.k*b.p, PathIn, b.paths)
	if e.GNN != nil {
		return e.GNN.Forward(t, xc, xp, b.src, b.dst)
	}
	return e.Compute.Forward(t, xc), e.Path.Forward(t, xp)
}

// Encode returns the R·K×Dim compute-vertex embeddings (row r·K+i:
// candidate i of obs[r]) and the R·K·P×Dim path-vertex embeddings (row
// (r·K+i)·P+j: path j of that candidate) of obs, which must all have the
// K and P of obs[0]. It allocates its buffers (for analysis and tests).
func (e *Encoder) Encode(t *nn.Tape, obs []cpn.Obs) (hc, hp *nn.Tensor) {
	if len(obs) == 0 {
		panic("rlms: Encode of no observations")
	}
	b := new(batch)
	b.fill(obs, obs[0].K, obs[0].P, e.edges())
	return e.forward(t, b)
}

// orthogonalAll gives every weight "…/w" of m an orthogonal init of the
// given gain and zeroes every bias "…/b", in visit order.
func orthogonalAll(m nn.Module, gain float64, rng *rand.Rand) {
	m.Params(func(path string, p *nn.Param) {
		switch {
		case path == "w" || strings.HasSuffix(path, "/w"):
			nn.Orthogonal(p, gain, rng)
		case path == "b" || strings.HasSuffix(path, "/b"):
			clear(p.V.Data)
		}
	})
}

// orthogonalMLP applies CleanRL's layer_init to a head: gain √2 on hidden
// layers, out on the last one, zero biases.
func orthogonalMLP(m *mlp.Model, out float64, rng *rand.Rand) {
	for i, l := range m.Layers {
		gain := math.Sqrt2
		if i == len(m.Layers)-1 {
			gain = out
		}
		nn.Orthogonal(l.W, gain, rng)
		if l.B != nil {
			clear(l.B.V.Data)
		}
	}
}

// newHead returns an in → Hidden → Hidden → 1 tanh MLP with output gain out.
func newHead(in int, cfg Config, out float64, rng *rand.Rand) *mlp.Model {
	m := mlp.New(mlp.Config{Sizes: []int{in, cfg.Hidden, cfg.Hidden, 1}, Act: nn.Tanh}, rng)
	orthogonalMLP(m, out, rng)
	return m
}
