// Package layernorm normalises each row to zero mean and unit variance and
// applies a learned gain and bias (Ba, Kiros and Hinton 2016).
//
// Shapes: x is N×Dim, the output N×Dim; gain and bias are 1×Dim.
package layernorm

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn"
)

// Config describes a LayerNorm. Eps defaults to 1e-5 (PyTorch's) when zero.
type Config struct {
	Dim int
	Eps float32
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	if c.Dim <= 0 || c.Eps < 0 {
		return fmt.Errorf("layernorm: need Dim > 0 and Eps ≥ 0, got %d, %g", c.Dim, c.Eps)
	}
	return nil
}

// Model is a LayerNorm with gain (initialised 1) and bias (initialised 0).
type Model struct {
	Config     Config
	Gain, Bias *nn.Param
}

var _ nn.Module = (*Model)(nil)

// New returns a LayerNorm. It panics on an invalid config.
func New(cfg Config) *Model {
	if cfg.Eps == 0 {
		cfg.Eps = 1e-5
	}
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg, Gain: nn.NewParam(1, cfg.Dim), Bias: nn.NewParam(1, cfg.Dim)}
	nn.Constant(1)(m.Gain, nil)
	return m
}

// Forward normalises the rows of x.
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor) *nn.Tensor {
	return t.LayerNorm(x, m.Gain.V, m.Bias.V, m.Config.Eps)
}

// Params implements nn.Module: "gain", "bias".
func (m *Model) Params(visit func(string, *nn.Param)) {
	visit("gain", m.Gain)
	visit("bias", m.Bias)
}
