// Package policy holds generic actor-critic policies for observations that
// are plain feature vectors (rl.Vector), as used by PPO on the known-answer
// environments and CartPole.
//
// # Overview
//
// ActorCritic is CleanRL's ppo.py agent: separate actor and critic MLPs
// (64-64 tanh by default) with orthogonal initialisation (gain √2 for hidden
// layers, 0.01 for the actor's output, 1 for the critic's). The actor's
// output parameterises one distribution of nn/dist according to the action
// space:
//
//   - Discrete: a categorical over the logits, restricted by the
//     observation's rl.Masked action mask when it has one;
//   - Box: a diagonal Gaussian with the actor output as mean and a
//     state-independent log-std parameter (CleanRL's ppo_continuous_action);
//   - Simplex: a Dirichlet with α = softplus(logits) + 1e-3.
//
// # Shapes
//
// For a batch of R observations with D features: the features are R×D, the
// actor output R×N (N = ActionSpace.N), the critic output R×1. Evaluate
// returns R×1 log-probabilities, entropies and values.
package policy

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
)

// Config describes an ActorCritic.
type Config struct {
	// Hidden lists the hidden widths of both the actor and the critic.
	Hidden []int
	// Act is the hidden activation.
	Act nn.Activation
	// PyTorchInit keeps PyTorch's default Linear initialisation instead of
	// CleanRL's orthogonal one.
	PyTorchInit bool
	// InitLogStd is the initial log-std of Box actions (CleanRL: 0).
	InitLogStd float32
}

// DefaultConfig returns CleanRL's architecture: 64-64 tanh, orthogonal init.
func DefaultConfig() Config { return Config{Hidden: []int{64, 64}, Act: nn.Tanh} }

// AlphaFloor is added to softplus(logits) to form Dirichlet concentrations.
const AlphaFloor = 1e-3

// ActorCritic is a policy π(a|s) and a value function V(s) over vector
// observations of type O. It implements nn.Module with the parameters
// "actor/…", "critic/…" and, for Box spaces, "log_std".
//
// Act, Mode and Value keep scratch buffers and must not run concurrently;
// Evaluate only reads the parameters and may run concurrently on different
// tapes (PPO shards its minibatches so).
type ActorCritic[O rl.Vector] struct {
	Config Config
	ObsDim int
	Space  rl.Space
	Actor  *mlp.Model
	Critic *mlp.Model
	// LogStd is the 1×N log standard deviation of Box actions (nil otherwise).
	LogStd *nn.Param

	scr     scratch // Act, Mode and Value
	actions []rl.Action
	logp    []float32
	value   []float32
}

var _ nn.Module = (*ActorCritic[rl.Vector])(nil)

// New returns an actor-critic for observations of obsDim features and the
// given action space, initialised from rng. It panics on an invalid config
// or space.
func New[O rl.Vector](obsDim int, space rl.Space, cfg Config, rng *rand.Rand) *ActorCritic[O] {
	if obsDim <= 0 || space.N <= 0 {
		panic(fmt.Sprintf("policy: invalid sizes: %d features, %d actions", obsDim, space.N))
	}
	if space.Kind == rl.Simplex && space.N < 2 {
		panic("policy: a simplex needs at least 2 components")
	}
	if space.Kind != rl.Discrete && space.Kind != rl.Box && space.Kind != rl.Simplex {
		panic(fmt.Sprintf("policy: unsupported action space %v", space.Kind))
	}
	sizes := func(out int) []int {
		s := append([]int{obsDim}, cfg.Hidden...)
		return append(s, out)
	}
	p := &ActorCritic[O]{Config: cfg, ObsDim: obsDim, Space: space}
	p.Actor = mlp.New(mlp.Config{Sizes: sizes(space.N), Act: cfg.Act}, rng)
	p.Critic = mlp.New(mlp.Config{Sizes: sizes(1), Act: cfg.Act}, rng)
	if !cfg.PyTorchInit {
		orthogonalMLP(p.Actor, 0.01, rng)
		orthogonalMLP(p.Critic, 1, rng)
	}
	if space.Kind == rl.Box {
		p.LogStd = nn.NewParam(1, space.N)
		nn.Constant(cfg.InitLogStd)(p.LogStd, rng)
	}
	return p
}

// Params implements nn.Module.
func (p *ActorCritic[O]) Params(visit func(string, *nn.Param)) {
	p.Actor.Params(nn.Prefix("actor", visit))
	p.Critic.Params(nn.Prefix("critic", visit))
	if p.LogStd != nil {
		visit("log_std", p.LogStd)
	}
}

// scratch holds the host-side buffers of one pass.
type scratch struct {
	feat []float32
	mask []bool
	idx  []int
	vals []float32
}

// features copies the observations' features into an R×D constant of t and
// builds the R×N action mask (nil when no observation has one), using the
// buffers of s.
func (p *ActorCritic[O]) features(t *nn.Tape, obs []O, s *scratch) (*nn.Tensor, []bool) {
	r, d, n := len(obs), p.ObsDim, p.Space.N
	s.feat = grow(s.feat, r*d)
	var mask []bool
	for i, o := range obs {
		f := o.Features()
		if len(f) != d {
			panic(fmt.Sprintf("policy: observation %d has %d features, want %d", i, len(f), d))
		}
		copy(s.feat[i*d:], f)
		if p.Space.Kind != rl.Discrete {
			continue
		}
		m, ok := any(o).(rl.Masked)
		if !ok {
			continue
		}
		om := m.ActionMask()
		if om == nil {
			continue
		}
		if len(om) != n {
			panic(fmt.Sprintf("policy: observation %d has a mask of %d actions, want %d", i, len(om), n))
		}
		if mask == nil {
			s.mask = growBool(s.mask, r*n)
			mask = s.mask
			for j := range mask {
				mask[j] = true
			}
		}
		copy(mask[i*n:], om)
	}
	return t.Const(r, d, s.feat), mask
}

// Value returns the R×1 values V(s) of obs.
func (p *ActorCritic[O]) Value(t *nn.Tape, obs []O) *nn.Tensor {
	x, _ := p.features(t, obs, &p.scr)
	return p.Critic.Forward(t, x)
}

// Evaluate returns the R×1 log-probabilities of actions under π(·|obs),
// the entropies of π(·|obs) and the values V(obs), differentiable on a
// recording tape (SB3's evaluate_actions). Box and Simplex actions must
// hold N values each.
func (p *ActorCritic[O]) Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy, value *nn.Tensor) {
	var scr scratch
	x, mask := p.features(t, obs, &scr)
	logProb, entropy = p.evaluate(t, x, mask, obs, actions, &scr)
	return logProb, entropy, p.Critic.Forward(t, x)
}

// evaluateActor is Evaluate without the values.
func (p *ActorCritic[O]) evaluateActor(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	var scr scratch
	x, mask := p.features(t, obs, &scr)
	return p.evaluate(t, x, mask, obs, actions, &scr)
}

func (p *ActorCritic[O]) evaluate(t *nn.Tape, x *nn.Tensor, mask []bool, obs []O, actions []rl.Action, scr *scratch) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("policy: Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	out := p.Actor.Forward(t, x)
	r, n := len(obs), p.Space.N
	switch p.Space.Kind {
	case rl.Discrete:
		scr.idx = growInt(scr.idx, r)
		for i, a := range actions {
			scr.idx[i] = a.Index
		}
		c := dist.NewCategorical(t, out, mask)
		return c.LogProb(scr.idx), c.Entropy()
	default:
		scr.vals = grow(scr.vals, r*n)
		for i, a := range actions {
			if len(a.Values) != n {
				panic(fmt.Sprintf("policy: Evaluate: action %d has %d values, want %d", i, len(a.Values), n))
			}
			copy(scr.vals[i*n:], a.Values)
		}
		av := t.Const(r, n, scr.vals)
		if p.Space.Kind == rl.Box {
			g := dist.NewGaussian(t, out, p.LogStd.V)
			return g.LogProb(av), g.Entropy()
		}
		d := dist.NewDirichlet(t, t.AddScalar(t.Softplus(out), AlphaFloor))
		return d.LogProb(av), d.Entropy()
	}
}

// Act samples one action per observation (on t, usually an inference tape
// the caller resets) and returns the actions with their log-probabilities
// and the values V(obs). The returned slices are reused by the next call;
// Box and Simplex action values are freshly allocated and may be kept.
func (p *ActorCritic[O]) Act(t *nn.Tape, obs []O, rng *rand.Rand) (actions []rl.Action, logProb []float32, value []float32) {
	x, mask := p.features(t, obs, &p.scr)
	actions, logProb = p.sampleX(t, x, mask, len(obs), rng)
	v := p.Critic.Forward(t, x)
	p.value = grow(p.value, len(obs))
	copy(p.value, v.Data)
	return actions, logProb, p.value[:len(obs)]
}

// sample is Act without the values (the actor half's pass).
func (p *ActorCritic[O]) sample(t *nn.Tape, obs []O, rng *rand.Rand) ([]rl.Action, []float32) {
	x, mask := p.features(t, obs, &p.scr)
	return p.sampleX(t, x, mask, len(obs), rng)
}

func (p *ActorCritic[O]) sampleX(t *nn.Tape, x *nn.Tensor, mask []bool, r int, rng *rand.Rand) ([]rl.Action, []float32) {
	out := p.Actor.Forward(t, x)
	n := p.Space.N
	if cap(p.actions) < r {
		p.actions = make([]rl.Action, r)
	}
	actions := p.actions[:r]
	var lp *nn.Tensor
	switch p.Space.Kind {
	case rl.Discrete:
		c := dist.NewCategorical(t, out, mask)
		p.scr.idx = c.Sample(rng, p.scr.idx)
		lps := c.LogProbs()
		for i, a := range p.scr.idx[:r] {
			actions[i] = rl.Action{Index: a}
		}
		p.logp = grow(p.logp, r)
		for i := range r {
			p.logp[i] = lps.Data[i*n+p.scr.idx[i]]
		}
	case rl.Box:
		g := dist.NewGaussian(t, out, p.LogStd.V)
		s := g.Sample(rng)
		lp = g.LogProb(s)
		setValues(actions, s)
	case rl.Simplex:
		d := dist.NewDirichlet(t, t.AddScalar(t.Softplus(out), AlphaFloor))
		s := d.Sample(rng)
		lp = d.LogProb(s)
		setValues(actions, s)
	}
	if lp != nil {
		p.logp = grow(p.logp, r)
		copy(p.logp, lp.Data)
	}
	return actions, p.logp[:r]
}

// Mode returns the deterministic action of each observation: the most
// probable allowed index (Discrete), the mean (Box) or the Dirichlet mean
// α/α₀ (Simplex), for evaluation. The returned slice is reused by the next
// call to Act or Mode; action values are freshly allocated.
func (p *ActorCritic[O]) Mode(t *nn.Tape, obs []O) []rl.Action {
	x, mask := p.features(t, obs, &p.scr)
	out := p.Actor.Forward(t, x)
	r := len(obs)
	if cap(p.actions) < r {
		p.actions = make([]rl.Action, r)
	}
	actions := p.actions[:r]
	switch p.Space.Kind {
	case rl.Discrete:
		p.scr.idx = dist.NewCategorical(t, out, mask).Mode(p.scr.idx)
		for i, a := range p.scr.idx[:r] {
			actions[i] = rl.Action{Index: a}
		}
	case rl.Box:
		setValues(actions, out.Clone())
	case rl.Simplex:
		setValues(actions, dist.NewDirichlet(t, t.AddScalar(t.Softplus(out), AlphaFloor)).Mean())
	}
	return actions
}

func setValues(actions []rl.Action, s *nn.Tensor) {
	for i := range actions {
		actions[i] = rl.Action{Values: s.Row(i)} // s is a fresh tensor per call
	}
}

// orthogonalMLP applies CleanRL's layer_init: orthogonal weights with gain
// √2 for hidden layers and out for the last one, zero biases.
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

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growInt(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	return b[:n]
}

func growBool(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	return b[:n]
}

// Agent returns p as a one-actor agent.Agent (its actor half and critic
// half), trainable by PPO, actor-critic and REINFORCE.
func Agent[O rl.Vector](p *ActorCritic[O]) agent.Agent[O] {
	return agent.Agent[O]{Critic: Critic[O]{p}, Actors: []agent.Actor[O]{Actor[O]{p}}}
}

// Actor is the actor half of an ActorCritic (its actor MLP and, for Box
// spaces, log-std). It implements agent.LogProbActor.
type Actor[O rl.Vector] struct{ P *ActorCritic[O] }

// Params implements nn.Module.
func (a Actor[O]) Params(visit func(string, *nn.Param)) {
	a.P.Actor.Params(nn.Prefix("actor", visit))
	if a.P.LogStd != nil {
		visit("log_std", a.P.LogStd)
	}
}

// Act implements agent.Actor.
func (a Actor[O]) Act(t *nn.Tape, obs []O, rng *rand.Rand) []rl.Action {
	acts, _ := a.P.sample(t, obs, rng)
	return acts
}

// ActLogProb implements agent.LogProbActor.
func (a Actor[O]) ActLogProb(t *nn.Tape, obs []O, rng *rand.Rand) ([]rl.Action, []float32) {
	return a.P.sample(t, obs, rng)
}

// Mode implements agent.Actor.
func (a Actor[O]) Mode(t *nn.Tape, obs []O) []rl.Action { return a.P.Mode(t, obs) }

// Evaluate implements agent.Actor.
func (a Actor[O]) Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.P.evaluateActor(t, obs, actions)
}

// Critic is the critic half of an ActorCritic.
type Critic[O rl.Vector] struct{ P *ActorCritic[O] }

// Params implements nn.Module.
func (c Critic[O]) Params(visit func(string, *nn.Param)) {
	c.P.Critic.Params(nn.Prefix("critic", visit))
}

// Value implements agent.Critic. On a recording tape it keeps no scratch
// buffer, so that trainers may call it concurrently on distinct tapes
// (PPO's shards); on an inference tape (rollouts, one goroutine) it reuses
// the policy's.
func (c Critic[O]) Value(t *nn.Tape, obs []O) *nn.Tensor {
	if !t.Recording() { // rollouts: one goroutine, reuse the policy's buffers
		return c.P.Value(t, obs)
	}
	x, _ := c.P.features(t, obs, &scratch{})
	return c.P.Critic.Forward(t, x)
}
