package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/cpntrain/cpntrain/nn"
)

// AdamConfig holds the hyper-parameters of Adam and AdamW, with the meaning of
// the arguments of torch.optim.Adam and torch.optim.AdamW.
type AdamConfig struct {
	// LR is the learning rate (lr).
	LR float64
	// Beta1 and Beta2 are the decay rates of the first and second moment
	// estimates (betas).
	Beta1, Beta2 float64
	// Eps is added to the denominator for numerical stability.
	Eps float64
	// WeightDecay is the L2 penalty added to the gradient for Adam, and the
	// decoupled decay rate (p ← p·(1 - LR·WeightDecay)) for AdamW.
	WeightDecay float64
}

// DefaultAdamConfig returns PyTorch's defaults for torch.optim.Adam: LR 1e-3,
// betas (0.9, 0.999), Eps 1e-8, no weight decay.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns PyTorch's defaults for torch.optim.AdamW: those
// of Adam with WeightDecay 1e-2.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay = 1e-2
	return c
}

// Validate returns an error if a hyper-parameter is out of range: LR, Eps and
// WeightDecay must be finite and non-negative, Beta1 and Beta2 in [0, 1).
func (c AdamConfig) Validate() error {
	switch {
	case !finiteNonNeg(c.LR):
		return fmt.Errorf("optim: adam: invalid learning rate %v", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("optim: adam: invalid beta1 %v, want 0 <= beta1 < 1", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optim: adam: invalid beta2 %v, want 0 <= beta2 < 1", c.Beta2)
	case !finiteNonNeg(c.Eps):
		return fmt.Errorf("optim: adam: invalid eps %v", c.Eps)
	case !finiteNonNeg(c.WeightDecay):
		return fmt.Errorf("optim: adam: invalid weight decay %v", c.WeightDecay)
	}
	return nil
}

// Adam is the Adam optimizer (Kingma & Ba, 2015) with the bias correction of
// torch.optim.Adam, or AdamW (Loshchilov & Hutter, 2019) with decoupled weight
// decay as torch.optim.AdamW. At step t (counting from 1), with λ the weight
// decay:
//
//	g ← ∇ + λ·p                (Adam only, when λ != 0)
//	p ← p·(1 - lr·λ)            (AdamW only)
//	m ← β1·m + (1-β1)·g
//	v ← β2·v + (1-β2)·g²
//	p ← p - (lr/(1-β1ᵗ)) · m / (√v/√(1-β2ᵗ) + ε)
//
// Element-wise arithmetic is float32 in the same order as PyTorch's CPU
// kernels; the scalar factors are computed in float64. Its buffers are named
// "<param path>/exp_avg" (m) and "<param path>/exp_avg_sq" (v).
type Adam struct {
	base
	cfg       AdamConfig
	decoupled bool
}

var _ Optimizer = (*Adam)(nil)

// NewAdam returns an Adam optimizer over params, with L2 weight decay added
// to the gradient when cfg.WeightDecay != 0. It panics if cfg is invalid (see
// AdamConfig.Validate), if a parameter is nil, listed twice or under a
// duplicate path, or if its gradient buffer is missing.
func NewAdam(params []nn.NamedParam, cfg AdamConfig) *Adam {
	return newAdam("adam", params, cfg, false)
}

// NewAdamW returns an AdamW optimizer over params (decoupled weight decay).
// It panics in the same cases as NewAdam.
func NewAdamW(params []nn.NamedParam, cfg AdamConfig) *Adam {
	return newAdam("adamw", params, cfg, true)
}

func newAdam(kind string, params []nn.NamedParam, cfg AdamConfig, decoupled bool) *Adam {
	if err := cfg.Validate(); err != nil {
		panic(strings.Replace(err.Error(), "optim: adam:", "optim: "+kind+":", 1))
	}
	return &Adam{
		base:      newBase(kind, params, []string{"exp_avg", "exp_avg_sq"}),
		cfg:       cfg,
		decoupled: decoupled,
	}
}

// Config returns the current hyper-parameters.
func (o *Adam) Config() AdamConfig { return o.cfg }

// LR implements Optimizer.
func (o *Adam) LR() float64 { return o.cfg.LR }

// SetLR implements Optimizer.
func (o *Adam) SetLR(lr float64) { checkLR(o.kind, lr); o.cfg.LR = lr }

// StepCount implements Optimizer.
func (o *Adam) StepCount() int64 { return o.step }

// Step implements Optimizer. It does not allocate.
func (o *Adam) Step() {
	c := o.cfg
	t := float64(o.step + 1)
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := 1 - math.Pow(c.Beta2, t)
	k := adamScalars{
		b1:       float32(c.Beta1),
		omb1:     float32(1 - c.Beta1),
		b2:       float32(c.Beta2),
		omb2:     float32(1 - c.Beta2),
		negStep:  float32(-(c.LR / bc1)),
		bc2sqrt:  float32(math.Sqrt(bc2)),
		eps:      float32(c.Eps),
		l2:       0,
		decayMul: 1,
	}
	if o.decoupled {
		k.decayMul = float32(1 - c.LR*c.WeightDecay)
	} else {
		k.l2 = float32(c.WeightDecay)
	}
	for i := range o.slots {
		s := &o.slots[i]
		p, g := o.tensors(s)
		adamKernel(p, g, s.bufs[0], s.bufs[1], &k)
	}
	o.step++
}

// adamScalars are the per-step float32 factors of the Adam update.
type adamScalars struct {
	b1, omb1, b2, omb2 float32
	negStep            float32 // -lr/(1-β1ᵗ)
	bc2sqrt            float32 // √(1-β2ᵗ)
	eps                float32
	l2                 float32 // Adam's L2 weight decay (0 for AdamW)
	decayMul           float32 // AdamW's 1-lr·λ (1 for Adam)
}

// adamKernel updates one parameter and zeroes its gradient.
func adamKernel(p, g, m, v []float32, k *adamScalars) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	if done := adamFast(p, g, m, v, k); done > 0 {
		p, g, m, v = p[done:], g[done:], m[done:], v[done:]
	}
	b1, omb1, b2, omb2 := k.b1, k.omb1, k.b2, k.omb2
	negStep, bc2sqrt, eps, l2, decayMul := k.negStep, k.bc2sqrt, k.eps, k.l2, k.decayMul
	for i := range p {
		pi := p[i]
		gi := g[i]
		if l2 != 0 {
			gi += l2 * pi
		}
		if decayMul != 1 {
			pi *= decayMul
		}
		mi := m[i]*b1 + omb1*gi
		vi := v[i]*b2 + omb2*gi*gi
		m[i] = mi
		v[i] = vi
		denom := float32(math.Sqrt(float64(vi)))/bc2sqrt + eps
		p[i] = pi + negStep*mi/denom
		g[i] = 0
	}
}

// adamHyper lists the hyper-parameter names of Adam's State.
var adamHyper = []string{"lr", "beta1", "beta2", "eps", "weight_decay"}

// State implements Optimizer.
func (o *Adam) State() State {
	return State{
		Kind: o.kind,
		Step: o.step,
		Hyper: map[string]float64{
			"lr":           o.cfg.LR,
			"beta1":        o.cfg.Beta1,
			"beta2":        o.cfg.Beta2,
			"eps":          o.cfg.Eps,
			"weight_decay": o.cfg.WeightDecay,
		},
		Buffers: o.exportBuffers(),
	}
}

// LoadState implements Optimizer. The hyper-parameters of s replace the
// current ones, as in torch's load_state_dict. Besides shapes, it checks that
// all buffer values are finite and that exp_avg_sq is non-negative.
func (o *Adam) LoadState(s State) error {
	if err := o.checkHeader(s, adamHyper); err != nil {
		return err
	}
	cfg := AdamConfig{
		LR:          s.Hyper["lr"],
		Beta1:       s.Hyper["beta1"],
		Beta2:       s.Hyper["beta2"],
		Eps:         s.Hyper["eps"],
		WeightDecay: s.Hyper["weight_decay"],
	}
	if err := cfg.Validate(); err != nil {
		return o.stateErr("", "%s", strings.TrimPrefix(err.Error(), "optim: adam: "))
	}
	if err := o.checkBuffers(s, o.bufNames, "exp_avg_sq"); err != nil {
		return err
	}
	o.importBuffers(s, o.bufNames)
	o.cfg = cfg
	o.step = s.Step
	return nil
}
