package optim

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/cpntrain/cpntrain/nn"
)

// SGDConfig holds the hyper-parameters of stochastic gradient descent with
// optional momentum, with the meaning of torch.optim.SGD's arguments.
type SGDConfig struct {
	// LR is the learning rate (lr).
	LR float64
	// Momentum is the momentum factor; 0 disables momentum.
	Momentum float64
	// Dampening scales the gradient added to the momentum buffer by
	// 1-Dampening (not applied on the first step).
	Dampening float64
	// WeightDecay adds WeightDecay·p to the gradient (L2 penalty).
	WeightDecay float64
	// Nesterov enables Nesterov momentum; it needs Momentum > 0 and
	// Dampening == 0.
	Nesterov bool
}

// Validate returns an error if a hyper-parameter is out of range: LR,
// Momentum and WeightDecay must be finite and non-negative, Dampening finite,
// and Nesterov needs Momentum > 0 and Dampening == 0.
func (c SGDConfig) Validate() error {
	switch {
	case !finiteNonNeg(c.LR):
		return fmt.Errorf("optim: sgd: invalid learning rate %v", c.LR)
	case !finiteNonNeg(c.Momentum):
		return fmt.Errorf("optim: sgd: invalid momentum %v", c.Momentum)
	case !finiteNonNeg(c.WeightDecay):
		return fmt.Errorf("optim: sgd: invalid weight decay %v", c.WeightDecay)
	case math.IsNaN(c.Dampening) || math.IsInf(c.Dampening, 0):
		return fmt.Errorf("optim: sgd: invalid dampening %v", c.Dampening)
	case c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0):
		return errors.New("optim: sgd: Nesterov momentum requires Momentum > 0 and Dampening == 0")
	}
	return nil
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum and
// weight decay, updating exactly as torch.optim.SGD:
//
//	g ← ∇ + λ·p
//	b ← g                     on the first step
//	b ← μ·b + (1-τ)·g         afterwards
//	g ← g + μ·b  (Nesterov)   or   g ← b
//	p ← p - lr·g
//
// Its buffers are named "<param path>/momentum_buffer" and exist only when
// Momentum != 0.
type SGD struct {
	base
	cfg SGDConfig
}

var _ Optimizer = (*SGD)(nil)

// NewSGD returns an SGD optimizer over params. It panics if cfg is invalid
// (see SGDConfig.Validate), if a parameter is nil, listed twice or under a
// duplicate path, or if its gradient buffer is missing.
func NewSGD(params []nn.NamedParam, cfg SGDConfig) *SGD {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	return &SGD{base: newBase("sgd", params, []string{"momentum_buffer"}), cfg: cfg}
}

// Config returns the current hyper-parameters.
func (o *SGD) Config() SGDConfig { return o.cfg }

// LR implements Optimizer.
func (o *SGD) LR() float64 { return o.cfg.LR }

// SetLR implements Optimizer.
func (o *SGD) SetLR(lr float64) { checkLR("sgd", lr); o.cfg.LR = lr }

// StepCount implements Optimizer.
func (o *SGD) StepCount() int64 { return o.step }

// Step implements Optimizer. It does not allocate.
func (o *SGD) Step() {
	c := o.cfg
	negLR := float32(-c.LR)
	wd := float32(c.WeightDecay)
	mu := float32(c.Momentum)
	damp := float32(1 - c.Dampening)
	first := o.step == 0
	for i := range o.slots {
		s := &o.slots[i]
		p, g := o.tensors(s)
		switch {
		case c.Momentum == 0:
			sgdPlain(p, g, negLR, wd)
		case first:
			sgdFirst(p, g, s.bufs[0][:len(p)], negLR, wd, mu, c.Nesterov)
		default:
			sgdMomentum(p, g, s.bufs[0][:len(p)], negLR, wd, mu, damp, c.Nesterov)
		}
	}
	o.step++
}

// sgdPlain is p ← p - lr·(g + λp), then g ← 0.
func sgdPlain(p, g []float32, negLR, wd float32) {
	g = g[:len(p)]
	for i, pi := range p {
		d := g[i]
		if wd != 0 {
			d += wd * pi
		}
		p[i] = pi + negLR*d
		g[i] = 0
	}
}

// sgdFirst initialises the momentum buffer with the gradient (first step).
func sgdFirst(p, g, b []float32, negLR, wd, mu float32, nesterov bool) {
	g = g[:len(p)]
	b = b[:len(p)]
	for i, pi := range p {
		d := g[i]
		if wd != 0 {
			d += wd * pi
		}
		b[i] = d
		if nesterov {
			d += mu * d
		}
		p[i] = pi + negLR*d
		g[i] = 0
	}
}

// sgdMomentum is the momentum update after the first step.
func sgdMomentum(p, g, b []float32, negLR, wd, mu, damp float32, nesterov bool) {
	g = g[:len(p)]
	b = b[:len(p)]
	for i, pi := range p {
		d := g[i]
		if wd != 0 {
			d += wd * pi
		}
		bi := b[i]*mu + damp*d
		b[i] = bi
		if nesterov {
			d += mu * bi
		} else {
			d = bi
		}
		p[i] = pi + negLR*d
		g[i] = 0
	}
}

// sgdHyper lists the hyper-parameter names of SGD's State.
var sgdHyper = []string{"lr", "momentum", "dampening", "weight_decay", "nesterov"}

// State implements Optimizer. Momentum buffers are included only when
// Momentum != 0.
func (o *SGD) State() State {
	st := State{
		Kind: o.kind,
		Step: o.step,
		Hyper: map[string]float64{
			"lr":           o.cfg.LR,
			"momentum":     o.cfg.Momentum,
			"dampening":    o.cfg.Dampening,
			"weight_decay": o.cfg.WeightDecay,
			"nesterov":     boolHyper(o.cfg.Nesterov),
		},
		Buffers: map[string]*nn.Tensor{},
	}
	if o.cfg.Momentum != 0 {
		st.Buffers = o.exportBuffers()
	}
	return st
}

// LoadState implements Optimizer. The hyper-parameters of s replace the
// current ones, as in torch's load_state_dict.
func (o *SGD) LoadState(s State) error {
	if err := o.checkHeader(s, sgdHyper); err != nil {
		return err
	}
	nest := s.Hyper["nesterov"]
	if nest != 0 && nest != 1 {
		return o.stateErr("", "hyper-parameter \"nesterov\" is %v, want 0 or 1", nest)
	}
	cfg := SGDConfig{
		LR:          s.Hyper["lr"],
		Momentum:    s.Hyper["momentum"],
		Dampening:   s.Hyper["dampening"],
		WeightDecay: s.Hyper["weight_decay"],
		Nesterov:    nest == 1,
	}
	if err := cfg.Validate(); err != nil {
		return o.stateErr("", "%s", strings.TrimPrefix(err.Error(), "optim: sgd: "))
	}
	var bufs []string
	if cfg.Momentum != 0 {
		bufs = o.bufNames
	}
	if err := o.checkBuffers(s, bufs, ""); err != nil {
		return err
	}
	o.importBuffers(s, bufs)
	o.cfg = cfg
	o.step = s.Step
	return nil
}
