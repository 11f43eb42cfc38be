// Package lstm is the long short-term memory cell of Hochreiter and
// Schmidhuber (1997) in PyTorch's formulation, and a sequence runner.
//
//	[i f g o] = x·Wx + h·Wh + b
//	c' = σ(f)∘c + σ(i)∘tanh(g)
//	h' = σ(o)∘tanh(c')
//
// Shapes: x is N×In (N independent sequences advanced together), h and c
// are N×Hidden; Wx is In×4H, Wh is H×4H, b is 1×4H with gates in the order
// input, forget, cell, output (as torch.nn.LSTM).
package lstm

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
)

// Config describes an LSTM. ForgetBias is added to the forget-gate bias at
// initialisation (0 reproduces PyTorch; 1 is a common choice for long
// sequences).
type Config struct {
	In, Hidden int
	ForgetBias float32
}

// Validate reports a config that cannot build a cell.
func (c Config) Validate() error {
	if c.In <= 0 || c.Hidden <= 0 {
		return fmt.Errorf("lstm: sizes must be positive, got In=%d Hidden=%d", c.In, c.Hidden)
	}
	return nil
}

// Model is an LSTM cell.
type Model struct {
	Config Config
	Wx     *nn.Param
	Wh     *nn.Param
	B      *nn.Param
}

var _ nn.Module = (*Model)(nil)

// New returns a cell initialised uniformly in ±1/sqrt(Hidden), as PyTorch.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	h := cfg.Hidden
	m := &Model{Config: cfg, Wx: nn.NewParam(cfg.In, 4*h), Wh: nn.NewParam(h, 4*h), B: nn.NewParam(1, 4*h)}
	for _, p := range []*nn.Param{m.Wx, m.Wh, m.B} {
		nn.KaimingUniform(h)(p, rng)
	}
	for j := h; j < 2*h; j++ {
		m.B.V.Data[j] += cfg.ForgetBias
	}
	return m
}

// State is the (h, c) pair of a batch of sequences.
type State struct{ H, C *nn.Tensor }

// Zero returns the all-zero state for n sequences.
func (m *Model) Zero(t *nn.Tape, n int) State {
	return State{t.Zeros(n, m.Config.Hidden), t.Zeros(n, m.Config.Hidden)}
}

// Step advances the cell by one input x (N×In) from state s.
func (m *Model) Step(t *nn.Tape, x *nn.Tensor, s State) State {
	h := m.Config.Hidden
	z := t.Add(t.Linear(x, m.Wx.V, m.B.V), t.MatMul(s.H, m.Wh.V))
	i := t.Sigmoid(t.SliceCols(z, 0, h))
	f := t.Sigmoid(t.SliceCols(z, h, 2*h))
	g := t.Tanh(t.SliceCols(z, 2*h, 3*h))
	o := t.Sigmoid(t.SliceCols(z, 3*h, 4*h))
	c := t.Add(t.Mul(f, s.C), t.Mul(i, g))
	return State{H: t.Mul(o, t.Tanh(c)), C: c}
}

// Sequence runs the cell over xs (each N×In) from s (the zero state when
// s.H is nil) and returns the hidden output of every step and the last state.
func (m *Model) Sequence(t *nn.Tape, xs []*nn.Tensor, s State) ([]*nn.Tensor, State) {
	if len(xs) == 0 {
		return nil, s
	}
	if s.H == nil {
		s = m.Zero(t, xs[0].Rows)
	}
	hs := make([]*nn.Tensor, len(xs))
	for k, x := range xs {
		s = m.Step(t, x, s)
		hs[k] = s.H
	}
	return hs, s
}

// Params implements nn.Module: "wx", "wh", "b".
func (m *Model) Params(visit func(string, *nn.Param)) {
	visit("wx", m.Wx)
	visit("wh", m.Wh)
	visit("b", m.B)
}
