package mpnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// Message computes one message per edge from the states of its destination
// and source (both E×In, row k belonging to edge k) and its features (E×EdgeIn,
// nil when edges carry none).
type Message interface {
	nn.Module
	Message(t *nn.Tape, hDst, hSrc, edgeFeat *nn.Tensor) *nn.Tensor
}

// Aggregator reduces the E messages to one row per node: row i combines the
// messages of the edges with dst[k] == i (a zero row when there are none).
// n is the number of nodes.
type Aggregator interface {
	nn.Module
	Aggregate(t *nn.Tape, msg *nn.Tensor, dst []int, n int) *nn.Tensor
}

// Update computes the new node states from the old ones (N×In) and the
// aggregated messages (N×Msg).
type Update interface {
	nn.Module
	Update(t *nn.Tape, h, m *nn.Tensor) *nn.Tensor
}

// Aggregation names a built-in aggregation for Config.
type Aggregation string

// Aggregations New accepts. The zero value means Sum.
const (
	Sum      Aggregation = "sum"
	Mean     Aggregation = "mean"
	Max      Aggregation = "max"
	DeepSets Aggregation = "deepsets"
)

// Validate returns an error for an unknown aggregation name.
func (a Aggregation) Validate() error {
	switch a {
	case "", Sum, Mean, Max, DeepSets:
		return nil
	}
	return fmt.Errorf("mpnn: unknown aggregation %q (want sum, mean, max or deepsets)", string(a))
}

// Config describes a message-passing layer with the default parts: an MLP
// message on [h_dst ‖ h_src ‖ e], a built-in aggregation and an MLP update
// on [h ‖ m].
type Config struct {
	// In is the width of the node states.
	In int
	// EdgeIn is the width of the edge features (0: edges carry none).
	EdgeIn int
	// Msg is the width of the messages.
	Msg int
	// Out is the width of the updated states. It must equal In when
	// Residual is set.
	Out int
	// MsgHidden and UpdHidden are the hidden widths of the message and
	// update MLPs (none: a single Linear layer).
	MsgHidden, UpdHidden []int
	// AggHidden are the hidden widths of the local MLP φ (Msg → … → Msg) of
	// the DeepSets aggregation; it must be empty for the other aggregations.
	AggHidden []int
	// Act follows every hidden layer and the last layer of the message MLP
	// (and of φ).
	Act nn.Activation
	// OutAct follows the last layer of the update MLP (before the residual
	// sum).
	OutAct nn.Activation
	// Aggr is the aggregation; "" means Sum.
	Aggr Aggregation
	// Residual makes the update h' = h + MLP_U([h ‖ m]).
	Residual bool
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	switch {
	case c.In <= 0 || c.Msg <= 0 || c.Out <= 0:
		return fmt.Errorf("mpnn: widths must be positive, got In %d, Msg %d, Out %d", c.In, c.Msg, c.Out)
	case c.EdgeIn < 0:
		return fmt.Errorf("mpnn: negative edge feature width %d", c.EdgeIn)
	case c.Residual && c.Out != c.In:
		return fmt.Errorf("mpnn: a residual update needs Out == In, got %d and %d", c.Out, c.In)
	case len(c.AggHidden) > 0 && c.Aggr != DeepSets:
		return fmt.Errorf("mpnn: AggHidden is given but the aggregation is %q, not deepsets", string(c.Aggr))
	}
	for _, hs := range [][]int{c.MsgHidden, c.UpdHidden, c.AggHidden} {
		for _, h := range hs {
			if h <= 0 {
				return fmt.Errorf("mpnn: hidden widths must be positive, got %v", hs)
			}
		}
	}
	if err := c.Act.Validate(); err != nil {
		return fmt.Errorf("mpnn: %w", err)
	}
	if err := c.OutAct.Validate(); err != nil {
		return fmt.Errorf("mpnn: %w", err)
	}
	return c.Aggr.Validate()
}

// Model is one message-passing layer: Propagate runs Message, Aggregator and
// Update over the edges of a (batched) graph. Config is the zero value when
// the model was assembled from custom parts rather than built by New.
type Model struct {
	Config     Config
	Message    Message
	Aggregator Aggregator
	Update     Update
}

var _ nn.Module = (*Model)(nil)

// New builds a layer with the default parts described by cfg. It panics on
// an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	msgSizes := append(append([]int{2*cfg.In + cfg.EdgeIn}, cfg.MsgHidden...), cfg.Msg)
	updSizes := append(append([]int{cfg.In + cfg.Msg}, cfg.UpdHidden...), cfg.Out)
	m := &Model{
		Config:  cfg,
		Message: &MLPMessage{EdgeIn: cfg.EdgeIn, Net: mlp.New(mlp.Config{Sizes: msgSizes, Act: cfg.Act, OutAct: cfg.Act}, rng)},
	}
	switch cfg.Aggr {
	case Mean:
		m.Aggregator = MeanAgg{}
	case Max:
		m.Aggregator = MaxAgg{}
	case DeepSets:
		phi := append(append([]int{cfg.Msg}, cfg.AggHidden...), cfg.Msg)
		m.Aggregator = &DeepSetsAgg{Set: deepsets.New(deepsets.Config{
			Phi: mlp.Config{Sizes: phi, Act: cfg.Act, OutAct: cfg.Act},
		}, rng)}
	default:
		m.Aggregator = SumAgg{}
	}
	m.Update = &MLPUpdate{Residual: cfg.Residual, Net: mlp.New(mlp.Config{Sizes: updSizes, Act: cfg.Act, OutAct: cfg.OutAct}, rng)}
	return m
}

// Propagate runs one round of message passing over the edges src[k] →
// dst[k] of a graph whose N node states are the rows of h, and returns the
// updated states. edgeFeat holds one row per edge, or is nil when edges
// carry no features. It panics if len(src) != len(dst), if a node id is
// outside [0, N), or if edgeFeat does not have one row per edge.
func (m *Model) Propagate(t *nn.Tape, h *nn.Tensor, src, dst []int, edgeFeat *nn.Tensor) *nn.Tensor {
	CheckEdges(h.Rows, src, dst)
	if edgeFeat != nil && edgeFeat.Rows != len(src) {
		panic(fmt.Sprintf("mpnn: Propagate: edge features %s for %d edges", edgeFeat.Shape(), len(src)))
	}
	msg := m.Message.Message(t, t.Gather(h, dst), t.Gather(h, src), edgeFeat)
	if msg.Rows != len(src) {
		panic(fmt.Sprintf("mpnn: Propagate: message function returned %s for %d edges", msg.Shape(), len(src)))
	}
	return m.Update.Update(t, h, m.Aggregator.Aggregate(t, msg, dst, h.Rows))
}

// Params implements nn.Module: "message/…", "aggregate/…" (DeepSets only)
// and "update/…".
func (m *Model) Params(visit func(string, *nn.Param)) {
	m.Message.Params(nn.Prefix("message", visit))
	m.Aggregator.Params(nn.Prefix("aggregate", visit))
	m.Update.Params(nn.Prefix("update", visit))
}

// CheckEdges panics with an "mpnn:" message unless src and dst have the same
// length and every id lies in [0, n).
func CheckEdges(n int, src, dst []int) {
	if len(src) != len(dst) {
		panic(fmt.Sprintf("mpnn: %d edge sources and %d destinations", len(src), len(dst)))
	}
	for k, s := range src {
		if d := dst[k]; s < 0 || s >= n || d < 0 || d >= n {
			panic(fmt.Sprintf("mpnn: edge %d (%d→%d) has a node outside [0,%d)", k, s, d, n))
		}
	}
}

// MLPMessage is the default message M(h_i, h_j, e) = Net([h_i ‖ h_j ‖ e]).
type MLPMessage struct {
	// EdgeIn is the width of the edge features (0: none).
	EdgeIn int
	// Net maps 2·In+EdgeIn columns to the message width.
	Net *mlp.Model
}

// Message implements Message. It panics if edge features are given when
// EdgeIn is 0, or missing or of another width when it is not.
func (f *MLPMessage) Message(t *nn.Tape, hDst, hSrc, edgeFeat *nn.Tensor) *nn.Tensor {
	if f.EdgeIn == 0 {
		if edgeFeat != nil {
			panic(fmt.Sprintf("mpnn: edge features %s given to a message without edge input", edgeFeat.Shape()))
		}
		return f.Net.Forward(t, t.ConcatCols(hDst, hSrc))
	}
	if edgeFeat == nil || edgeFeat.Cols != f.EdgeIn {
		panic(fmt.Sprintf("mpnn: message needs %d edge feature columns, got %v", f.EdgeIn, shape(edgeFeat)))
	}
	return f.Net.Forward(t, t.ConcatCols(hDst, hSrc, edgeFeat))
}

// Params implements nn.Module.
func (f *MLPMessage) Params(visit func(string, *nn.Param)) { f.Net.Params(visit) }

func shape(x *nn.Tensor) string {
	if x == nil {
		return "nil"
	}
	return x.Shape()
}

// MLPUpdate is the default update U(h, m) = Net([h ‖ m]), plus h when
// Residual.
type MLPUpdate struct {
	Residual bool
	// Net maps In+Msg columns to the output width (In when Residual).
	Net *mlp.Model
}

// Update implements Update.
func (u *MLPUpdate) Update(t *nn.Tape, h, m *nn.Tensor) *nn.Tensor {
	out := u.Net.Forward(t, t.ConcatCols(h, m))
	if u.Residual {
		return t.Add(h, out)
	}
	return out
}

// Params implements nn.Module.
func (u *MLPUpdate) Params(visit func(string, *nn.Param)) { u.Net.Params(visit) }

// SumAgg sums the messages of each node.
type SumAgg struct{}

// Aggregate implements Aggregator.
func (SumAgg) Aggregate(t *nn.Tape, msg *nn.Tensor, dst []int, n int) *nn.Tensor {
	return t.SegmentSum(msg, dst, n)
}

// Params implements nn.Module (no parameters).
func (SumAgg) Params(func(string, *nn.Param)) {}

// MeanAgg averages the messages of each node.
type MeanAgg struct{}

// Aggregate implements Aggregator.
func (MeanAgg) Aggregate(t *nn.Tape, msg *nn.Tensor, dst []int, n int) *nn.Tensor {
	return t.SegmentMean(msg, dst, n)
}

// Params implements nn.Module (no parameters).
func (MeanAgg) Params(func(string, *nn.Param)) {}

// MaxAgg takes the feature-wise maximum of the messages of each node.
type MaxAgg struct{}

// Aggregate implements Aggregator.
func (MaxAgg) Aggregate(t *nn.Tape, msg *nn.Tensor, dst []int, n int) *nn.Tensor {
	return t.SegmentMax(msg, dst, n)
}

// Params implements nn.Module (no parameters).
func (MaxAgg) Params(func(string, *nn.Param)) {}

// DeepSetsAgg aggregates the messages of each node as a set with a DeepSets
// layer: ρ(pool φ(m_ji)). New builds it with a sum pooling and ρ the
// identity; any deepsets.Model whose input width is the message width fits.
type DeepSetsAgg struct {
	Set *deepsets.Model
}

// Aggregate implements Aggregator.
func (a *DeepSetsAgg) Aggregate(t *nn.Tape, msg *nn.Tensor, dst []int, n int) *nn.Tensor {
	return a.Set.Forward(t, msg, dst, n)
}

// Params implements nn.Module: the set layer's "phi/…", "rho/…", "score/…".
func (a *DeepSetsAgg) Params(visit func(string, *nn.Param)) { a.Set.Params(visit) }

var (
	_ Message    = (*MLPMessage)(nil)
	_ Update     = (*MLPUpdate)(nil)
	_ Aggregator = SumAgg{}
	_ Aggregator = MeanAgg{}
	_ Aggregator = MaxAgg{}
	_ Aggregator = (*DeepSetsAgg)(nil)
)
