package rlms

import "fmt"

// Kind is the model kind recorded in checkpoints.
const Kind = "rlms"

// Encoder kinds of Config.Encoder.
const (
	// EncoderSyncGNN is the paper's encoder: Linear embeddings of both vertex
	// types, then synchronous message passing between every candidate
	// compute node and its paths (mpnn.SyncGNN).
	EncoderSyncGNN = "syncgnn"
	// EncoderMLP is the ablation "RLMS without SyncGNN": per-vertex MLPs of
	// the same width and no message passing, so a compute vertex never sees
	// its paths.
	EncoderMLP = "mlp"
)

// Vertex input widths: every vertex carries the task features after its own.
const (
	// ComputeIn is the width of a compute vertex's input: the candidate's
	// NodeFeatures followed by the task's TaskFeatures.
	ComputeIn = NodeFeatures + TaskFeatures
	// PathIn is the width of a path vertex's input: the path's
	// PathFeatures followed by the task's TaskFeatures.
	PathIn = PathFeatures + TaskFeatures
)

// Config describes an RLMS-CPN model. Every field must be set (see
// DefaultConfig); Validate reports what is missing.
type Config struct {
	// Encoder is EncoderSyncGNN or EncoderMLP. The actors and the critic
	// each own one encoder of this kind.
	Encoder string `json:"encoder"`
	// Dim is the width of the vertex embeddings.
	Dim int `json:"dim"`
	// Hidden is the width of the two hidden layers of the node, path and
	// value heads (CleanRL's 64-64).
	Hidden int `json:"hidden"`
	// Rounds is the number of SyncGNN rounds, each with its own
	// parameters; 0 means 1, the paper's setting. It must be 0 for the mlp
	// encoder.
	Rounds int `json:"rounds,omitempty"`
	// K is the number of candidate compute nodes and P the number of path
	// rows per candidate of every observation (cpn.Obs.K and cpn.Obs.P).
	K int `json:"k"`
	P int `json:"p"`
	// Split is the path actor's distribution: SplitDirichlet ("" too) or
	// SplitLogisticNormal.
	Split string `json:"split,omitempty"`
	// Prior adds to the actors' logits a learned multiple of the
	// controller's own estimates (the wf baseline's): −β·log(est_i/min est)
	// to candidate i's logit (β starts at PriorNodeScale) and
	// w·log(x_i + PriorEps) to path i's, x the water-filling share (w
	// starts at 1). The untrained policy's deterministic action is then the
	// wf baseline's, and training learns the corrections. It needs the
	// logistic-normal split.
	Prior bool `json:"prior,omitempty"`
	// Staged gives the critic a second head V(s, i), the value of state s
	// once candidate i is chosen, which rl/actorcritic uses as the path
	// actor's baseline (agent.StagedCritic): the node actor's
	// sampled choice then no longer counts in the split's advantage.
	Staged bool `json:"staged,omitempty"`
	// PathEdges adds SyncGNN edges between a candidate's paths that share
	// a link (cpn.Obs.Overlap), so a path's embedding sees the paths it
	// competes with for bandwidth. The paper links paths only to their
	// compute node. It needs the syncgnn encoder.
	PathEdges bool `json:"path_edges,omitempty"`
	// Subsets adds the SubsetActor between the node and the path actors:
	// it picks which paths carry data, and the path actor splits over
	// those. It needs the logistic-normal split and P ≤ MaxSubsetPaths.
	Subsets bool `json:"subsets,omitempty"`
}

// Initial values of the prior's learned scales (see Config.Prior).
const (
	PriorNodeScale = 20
	PriorEps       = 1e-3
)

// Split distributions of the path actor.
const (
	// SplitDirichlet: α = softplus(logits) + 1, deterministic split = the
	// Dirichlet mode.
	SplitDirichlet = "dirichlet"
	// SplitLogisticNormal: x = softmax(logits + σε) with one learned σ,
	// deterministic split = softmax(logits).
	SplitLogisticNormal = "logistic-normal"
)

// DefaultConfig returns the paper's setting for an Abilene-like network:
// SyncGNN with 64-wide embeddings, 64-64 heads, 5 candidates of 3 paths.
func DefaultConfig() Config {
	return Config{Encoder: EncoderSyncGNN, Dim: 64, Hidden: 64, K: 5, P: 3}
}

// Bounds of Config: far beyond what trains here, far below what exhausts
// memory (a width of 10⁵ asks for tens of GB).
const (
	MaxWidth  = 4096
	MaxRounds = 64
)

// Validate reports a configuration that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.Encoder != EncoderSyncGNN && c.Encoder != EncoderMLP:
		return fmt.Errorf("rlms: unknown encoder %q (want %q or %q)", c.Encoder, EncoderSyncGNN, EncoderMLP)
	case c.Dim <= 0 || c.Hidden <= 0 || c.Dim > MaxWidth || c.Hidden > MaxWidth:
		return fmt.Errorf("rlms: widths must be between 1 and %d, got Dim %d, Hidden %d", MaxWidth, c.Dim, c.Hidden)
	case c.Split != "" && c.Split != SplitDirichlet && c.Split != SplitLogisticNormal:
		return fmt.Errorf("rlms: unknown split distribution %q (want %q or %q)", c.Split, SplitDirichlet, SplitLogisticNormal)
	case c.Rounds < 0 || c.Rounds > MaxRounds:
		return fmt.Errorf("rlms: Rounds %d outside [0, %d]", c.Rounds, MaxRounds)
	case c.Rounds > 0 && c.Encoder == EncoderMLP:
		return fmt.Errorf("rlms: the mlp encoder has no rounds, got %d", c.Rounds)
	case c.Subsets && (c.Split != SplitLogisticNormal || c.P > MaxSubsetPaths):
		return fmt.Errorf("rlms: path subsets need the %q split and at most %d paths, got %q and %d", SplitLogisticNormal, MaxSubsetPaths, c.Split, c.P)
	case c.PathEdges && c.Encoder != EncoderSyncGNN:
		return fmt.Errorf("rlms: path edges need the %q encoder", EncoderSyncGNN)
	case c.Prior && c.Split != SplitLogisticNormal:
		return fmt.Errorf("rlms: the prior needs the %q split, got %q", SplitLogisticNormal, c.Split)
	case c.K <= 0 || c.P <= 0:
		return fmt.Errorf("rlms: need at least one candidate and one path, got K %d, P %d", c.K, c.P)
	}
	return nil
}
