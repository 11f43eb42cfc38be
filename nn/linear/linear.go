// Package linear is the affine layer y = x·W + b.
//
// Shapes: x is N×In, W is In×Out (stored input-major so the forward pass is
// one row-major matmul), b is 1×Out, y is N×Out.
package linear

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// Config describes a Linear layer.
type Config struct {
	In, Out int
	NoBias  bool
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	if c.In <= 0 || c.Out <= 0 {
		return fmt.Errorf("linear: sizes must be positive, got %d→%d", c.In, c.Out)
	}
	return nil
}

// Model is a Linear layer. B is nil when Config.NoBias.
type Model struct {
	Config Config
	W, B   *nn.Param
}

var _ nn.Module = (*Model)(nil)

// New returns a layer initialised as PyTorch's nn.Linear: W and b uniform in
// ±1/sqrt(In). It panics on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg, W: nn.NewParam(cfg.In, cfg.Out)}
	nn.KaimingUniform(cfg.In)(m.W, rng)
	if !cfg.NoBias {
		m.B = nn.NewParam(1, cfg.Out)
		nn.KaimingUniform(cfg.In)(m.B, rng)
	}
	return m
}

// Forward returns x·W + b.
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor) *nn.Tensor {
	if m.B == nil {
		return t.Linear(x, m.W.V, nil)
	}
	return t.Linear(x, m.W.V, m.B.V)
}

// Params implements nn.Module: "w" and, with a bias, "b".
func (m *Model) Params(visit func(string, *nn.Param)) {
	visit("w", m.W)
	if m.B != nil {
		visit("b", m.B)
	}
}

// ONNX adds the layer to g as a Gemm on x (batch × In) and returns the
// output's name; name prefixes its constants.
func (m *Model) ONNX(g *onnx.Graph, x, name string) string {
	var b []float32
	if m.B != nil {
		b = m.B.V.Data
	}
	return g.Gemm(x, name, m.W.V.Data, m.Config.In, m.Config.Out, b)
}
