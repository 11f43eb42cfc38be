package deepsets

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
)

// Pooling names how the elements of a set are combined.
type Pooling string

// Poolings the layer accepts. The zero value means Sum.
const (
	Sum       Pooling = "sum"
	Mean      Pooling = "mean"
	Max       Pooling = "max"
	Attention Pooling = "attention"
)

// Validate returns an error for an unknown pooling name.
func (p Pooling) Validate() error {
	switch p {
	case "", Sum, Mean, Max, Attention:
		return nil
	}
	return fmt.Errorf("deepsets: unknown pooling %q (want sum, mean, max or attention)", string(p))
}

// Config describes a DeepSets layer.
type Config struct {
	// Phi is φ, applied to every element: Sizes runs from the element width
	// In to the latent width. Its OutAct follows the last layer.
	Phi mlp.Config
	// Rho is ρ, applied to each pooled vector: Sizes runs from the latent
	// width to the output width. Empty Sizes means ρ is the identity.
	Rho mlp.Config
	// Pool combines the elements of a set; "" means Sum.
	Pool Pooling
	// Score is the scorer of attention pooling: Sizes runs from the latent
	// width to 1 (one weight per element) or to the latent width (one weight
	// per element and feature). Empty Sizes means one Linear layer
	// Latent→1. It must be empty unless Pool is Attention.
	Score mlp.Config
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	if err := c.Phi.Validate(); err != nil {
		return fmt.Errorf("deepsets: phi: %w", err)
	}
	latent := c.Phi.Sizes[len(c.Phi.Sizes)-1]
	if len(c.Rho.Sizes) > 0 {
		if err := c.Rho.Validate(); err != nil {
			return fmt.Errorf("deepsets: rho: %w", err)
		}
		if c.Rho.Sizes[0] != latent {
			return fmt.Errorf("deepsets: rho input width %d differs from phi output width %d", c.Rho.Sizes[0], latent)
		}
	}
	if err := c.Pool.Validate(); err != nil {
		return err
	}
	if len(c.Score.Sizes) > 0 {
		if c.Pool != Attention {
			return fmt.Errorf("deepsets: a score network is given but pooling is %q, not attention", string(c.Pool))
		}
		if err := c.Score.Validate(); err != nil {
			return fmt.Errorf("deepsets: score: %w", err)
		}
		in, out := c.Score.Sizes[0], c.Score.Sizes[len(c.Score.Sizes)-1]
		if in != latent || (out != 1 && out != latent) {
			return fmt.Errorf("deepsets: score network %d→%d, want %d→1 or %d→%d", in, out, latent, latent, latent)
		}
	}
	return nil
}

// Model is a DeepSets layer. Rho is nil when ρ is the identity; Score is nil
// unless the pooling is Attention.
type Model struct {
	Config Config
	Phi    *mlp.Model
	Rho    *mlp.Model
	Score  *mlp.Model
}

var _ nn.Module = (*Model)(nil)

// New builds a layer with PyTorch's default Linear initialisation. It panics
// on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg, Phi: mlp.New(cfg.Phi, rng)}
	if len(cfg.Rho.Sizes) > 0 {
		m.Rho = mlp.New(cfg.Rho, rng)
	}
	if cfg.Pool == Attention {
		sc := cfg.Score
		if len(sc.Sizes) == 0 {
			sc = mlp.Config{Sizes: []int{m.Latent(), 1}}
		}
		m.Score = mlp.New(sc, rng)
	}
	return m
}

// In returns the element width.
func (m *Model) In() int { return m.Phi.In() }

// Latent returns the width of φ's output (and of the pooled vectors).
func (m *Model) Latent() int { return m.Phi.Out() }

// Out returns the output width.
func (m *Model) Out() int {
	if m.Rho == nil {
		return m.Latent()
	}
	return m.Rho.Out()
}

// Forward returns ρ(pool φ(x)) for every set: x is N×In, seg gives the set
// of each row, and the result is nsets×Out. It panics if len(seg) != N, if
// a segment id is outside [0, nsets), or if x is not N×In.
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor, seg []int, nsets int) *nn.Tensor {
	if x.Cols != m.In() {
		panic(fmt.Sprintf("deepsets: input %s, want %d columns", x.Shape(), m.In()))
	}
	checkSegments(x.Rows, seg, nsets)
	pooled := m.pool(t, m.Phi.Forward(t, x), seg, nsets)
	if m.Rho == nil {
		return pooled
	}
	return m.Rho.Forward(t, pooled)
}

// Pool applies the configured pooling (and nothing else) to z, the N×Latent
// element features, giving nsets×Latent. It is the aggregation step of
// Forward, for callers that compute φ themselves. It panics like Forward.
func (m *Model) Pool(t *nn.Tape, z *nn.Tensor, seg []int, nsets int) *nn.Tensor {
	if z.Cols != m.Latent() {
		panic(fmt.Sprintf("deepsets: Pool: features %s, want %d columns", z.Shape(), m.Latent()))
	}
	checkSegments(z.Rows, seg, nsets)
	return m.pool(t, z, seg, nsets)
}

func (m *Model) pool(t *nn.Tape, z *nn.Tensor, seg []int, nsets int) *nn.Tensor {
	switch m.Config.Pool {
	case Mean:
		return t.SegmentMean(z, seg, nsets)
	case Max:
		return t.SegmentMax(z, seg, nsets)
	case Attention:
		w := t.SegmentSoftmax(m.Score.Forward(t, z), seg, nsets)
		return t.SegmentSum(t.Mul(z, w), seg, nsets)
	}
	return t.SegmentSum(z, seg, nsets)
}

// Params implements nn.Module: "phi/…", then "rho/…" and "score/…" when
// present.
func (m *Model) Params(visit func(string, *nn.Param)) {
	m.Phi.Params(nn.Prefix("phi", visit))
	if m.Rho != nil {
		m.Rho.Params(nn.Prefix("rho", visit))
	}
	if m.Score != nil {
		m.Score.Params(nn.Prefix("score", visit))
	}
}

// checkSegments panics with a "deepsets:" message on malformed segment ids.
func checkSegments(rows int, seg []int, nsets int) {
	if nsets < 0 {
		panic(fmt.Sprintf("deepsets: negative number of sets %d", nsets))
	}
	if len(seg) != rows {
		panic(fmt.Sprintf("deepsets: %d segment ids for %d elements", len(seg), rows))
	}
	for i, s := range seg {
		if s < 0 || s >= nsets {
			panic(fmt.Sprintf("deepsets: segment id %d of element %d outside [0,%d)", s, i, nsets))
		}
	}
}

// SegmentIDs returns the segment ids of sets of the given sizes stored one
// after the other: sizes [2, 0, 3] give [0, 0, 2, 2, 2]. It panics on a
// negative size.
func SegmentIDs(sizes []int) []int { return AppendSegmentIDs(nil, sizes) }

// AppendSegmentIDs appends the segment ids of SegmentIDs(sizes) to dst and
// returns the extended slice, so that callers can reuse a buffer.
func AppendSegmentIDs(dst []int, sizes []int) []int {
	for s, n := range sizes {
		if n < 0 {
			panic(fmt.Sprintf("deepsets: negative size %d of set %d", n, s))
		}
		for range n {
			dst = append(dst, s)
		}
	}
	return dst
}
