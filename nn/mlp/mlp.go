// Package mlp is a multi-layer perceptron: Linear layers with an activation
// between them.
//
// Shapes: x is N×Sizes[0], the output N×Sizes[len(Sizes)-1].
package mlp

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// Config describes an MLP. Sizes lists the widths from input to output
// (at least two). Act follows every hidden layer; OutAct follows the last.
type Config struct {
	Sizes  []int
	Act    nn.Activation
	OutAct nn.Activation
}

// Validate reports a config that cannot build an MLP.
func (c Config) Validate() error {
	if len(c.Sizes) < 2 {
		return fmt.Errorf("mlp: need at least input and output sizes, got %v", c.Sizes)
	}
	for _, s := range c.Sizes {
		if s <= 0 {
			return fmt.Errorf("mlp: sizes must be positive, got %v", c.Sizes)
		}
	}
	if err := c.Act.Validate(); err != nil {
		return err
	}
	return c.OutAct.Validate()
}

// Model is an MLP.
type Model struct {
	Config Config
	Layers []*linear.Model
}

var _ nn.Module = (*Model)(nil)

// New builds an MLP with PyTorch's default Linear initialisation. It panics
// on an invalid config.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	m := &Model{Config: cfg}
	for i := 0; i+1 < len(cfg.Sizes); i++ {
		m.Layers = append(m.Layers, linear.New(linear.Config{In: cfg.Sizes[i], Out: cfg.Sizes[i+1]}, rng))
	}
	return m
}

// Forward applies the layers to x (N×Sizes[0]).
func (m *Model) Forward(t *nn.Tape, x *nn.Tensor) *nn.Tensor {
	for i, l := range m.Layers {
		x = l.Forward(t, x)
		if i+1 < len(m.Layers) {
			x = t.Apply(m.Config.Act, x)
		} else {
			x = t.Apply(m.Config.OutAct, x)
		}
	}
	return x
}

// Params implements nn.Module: "0/w", "0/b", "1/w", …
func (m *Model) Params(visit func(string, *nn.Param)) {
	for i, l := range m.Layers {
		l.Params(nn.Prefix(fmt.Sprint(i), visit))
	}
}

// In returns the input width.
func (m *Model) In() int { return m.Config.Sizes[0] }

// Out returns the output width.
func (m *Model) Out() int { return m.Config.Sizes[len(m.Config.Sizes)-1] }

// ONNX adds the network to g on x (batch × In) and returns the output's
// name; name prefixes its constants ("<name>_0_w", …).
func (m *Model) ONNX(g *onnx.Graph, x, name string) (string, error) {
	var err error
	for i, l := range m.Layers {
		x = l.ONNX(g, x, fmt.Sprintf("%s_%d", name, i))
		act := m.Config.OutAct
		if i+1 < len(m.Layers) {
			act = m.Config.Act
		}
		if x, err = g.Activation(x, string(act)); err != nil {
			return "", err
		}
	}
	return x, nil
}
