// Package agent holds the contracts between models and the rl trainers: an
// Agent of actors and a critic for the policy-gradient family (PPO,
// actor-critic, REINFORCE) and a QFunction for DQN, over observations of
// any type O (a vector, a set of servers, a network graph, job DAGs). A
// model becomes trainable by every trainer that fits its action space by
// implementing these small interfaces; the trainers know nothing else of
// it. rl/policy's vector MLPs are one implementation among others.
//
// The adapters Greedy, Sampled and GreedyQ turn a learned agent into an
// rl.Policy, the one interface rl.Evaluate scores learned policies,
// heuristics and baselines with.
//
// # Contracts
//
//   - Actor: samples actions, returns the mode, and evaluates the
//     log-probability and entropy of given actions (differentiably).
//   - ConditionalActor: an actor whose action depends on the actions of the
//     actors before it (RLMS-CPN's path split given the chosen node).
//   - Critic: V(s). StagedCritic: also V(s, a_0 … a_{k−1}), a lower-variance
//     baseline for actor k of a factorised policy.
//   - Agent: one critic and the actors acting on the same state; the joint
//     policy is their product and Combine builds the environment's action.
//   - QFunction: Q(s, ·) over the discrete actions; action masks come from
//     observations implementing rl.Masked.
package agent

import (
	"fmt"
	"math/rand/v2"
	"reflect"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
)

// Actor is one policy head π_k(a_k|s) over observations of type O.
type Actor[O any] interface {
	nn.Module
	// Act samples one action per observation on t (an inference tape the
	// caller resets). The result may be reused by the next call.
	Act(t *nn.Tape, obs []O, rng *rand.Rand) []rl.Action
	// Mode returns the deterministic (most probable / mean) action per
	// observation, for evaluation. The result may be reused.
	Mode(t *nn.Tape, obs []O) []rl.Action
	// Evaluate returns the R×1 log-probabilities of actions and the R×1
	// entropies, differentiable on a recording tape.
	Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor)
}

// LogProbActor is an Actor that returns the log-probabilities of the
// actions it samples in the same pass (PPO needs them); actors without it
// are evaluated once more after sampling.
type LogProbActor[O any] interface {
	Actor[O]
	// ActLogProb is Act plus the log-probability of each sampled action.
	// Both results may be reused by the next call.
	ActLogProb(t *nn.Tape, obs []O, rng *rand.Rand) ([]rl.Action, []float32)
}

// ConditionalActor is an Actor whose action depends on the actions the
// actors before it in Agent.Actors chose for the same state: the joint
// policy is then π(a_0|s)·π(a_1|s, a_0)·…, still trained with one advantage
// (RLMS-CPN's path agent splits the data over the paths of the node the
// node agent chose). prev[j][i] is actor j's action for observation i.
// The trainers call the *Given methods of actors that implement it.
type ConditionalActor[O any] interface {
	Actor[O]
	ActGiven(t *nn.Tape, obs []O, prev [][]rl.Action, rng *rand.Rand) []rl.Action
	ModeGiven(t *nn.Tape, obs []O, prev [][]rl.Action) []rl.Action
	EvaluateGiven(t *nn.Tape, obs []O, prev [][]rl.Action, actions []rl.Action) (logProb, entropy *nn.Tensor)
}

// ActWith samples actor ac's actions for obs given the earlier actors'
// actions prev (ignored unless ac is a ConditionalActor).
func ActWith[O any](ac Actor[O], t *nn.Tape, obs []O, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	if c, ok := ac.(ConditionalActor[O]); ok {
		return c.ActGiven(t, obs, prev, rng)
	}
	return ac.Act(t, obs, rng)
}

// ModeWith is ActWith for the deterministic action.
func ModeWith[O any](ac Actor[O], t *nn.Tape, obs []O, prev [][]rl.Action) []rl.Action {
	if c, ok := ac.(ConditionalActor[O]); ok {
		return c.ModeGiven(t, obs, prev)
	}
	return ac.Mode(t, obs)
}

// EvaluateWith is ActWith for log-probabilities and entropies.
func EvaluateWith[O any](ac Actor[O], t *nn.Tape, obs []O, prev [][]rl.Action, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if c, ok := ac.(ConditionalActor[O]); ok {
		return c.EvaluateGiven(t, obs, prev, actions)
	}
	return ac.Evaluate(t, obs, actions)
}

// Critic is a state-value function V(s).
type Critic[O any] interface {
	nn.Module
	// Value returns the R×1 values of obs (differentiable on a recording
	// tape).
	Value(t *nn.Tape, obs []O) *nn.Tensor
}

// StagedCritic is a Critic that also values the state after the first k
// actors have acted: ValueAfter(obs, prev) = V(s, a_0 … a_{k−1}), with
// prev = the first k ≥ 1 actors' actions (as a ConditionalActor sees
// them). The actor-critic trainer then uses V(s, a_0 … a_{k−1}) instead of
// V(s) as actor k's baseline, trained to the same TD targets: still
// unbiased (the baseline does not depend on a_k) but with less variance,
// because the earlier actors' sampled choices no longer count in actor k's
// advantage (the action-dependent baselines of factorised policies, Wu et
// al. 2018). Actor 0 always uses V(s), and TD targets bootstrap from V(s').
type StagedCritic[O any] interface {
	Critic[O]
	ValueAfter(t *nn.Tape, obs []O, prev [][]rl.Action) *nn.Tensor
}

// Agent is one critic and the actors acting on the same state.
type Agent[O any] struct {
	Critic Critic[O]
	Actors []Actor[O]
	// Combine builds the environment's action from the actors' actions
	// for one state (parts[k] from Actors[k]); nil means parts[0], which
	// suits a single actor. parts is reused after the call.
	Combine func(parts []rl.Action) rl.Action
}

// Check reports an agent a trainer cannot use; name prefixes the error.
func (a Agent[O]) Check(name string, needCritic bool) error {
	if len(a.Actors) == 0 {
		return fmt.Errorf("%s: an agent needs at least one actor", name)
	}
	for k, ac := range a.Actors {
		if ac == nil {
			return fmt.Errorf("%s: actor %d is nil", name, k)
		}
	}
	if needCritic && a.Critic == nil {
		return fmt.Errorf("%s: an agent needs a critic", name)
	}
	return nil
}

// Action returns the environment action built from the actors' parts
// (Combine, or parts[0] when Combine is nil).
func (a Agent[O]) Action(parts []rl.Action) rl.Action {
	if a.Combine == nil {
		return parts[0]
	}
	return a.Combine(parts)
}

// ActorModules returns the actors' parameters as one module
// ("actor0/…", "actor1/…").
func (a Agent[O]) ActorModules() nn.Module {
	var ms nn.Modules
	for i, ac := range a.Actors {
		ms = append(ms, struct {
			Name string
			M    nn.Module
		}{fmt.Sprintf("actor%d", i), ac})
	}
	return ms
}

// Params implements nn.Module: "critic/…" (when there is a critic) then
// "actor0/…", "actor1/…".
func (a Agent[O]) Params(visit func(string, *nn.Param)) {
	if a.Critic != nil {
		a.Critic.Params(nn.Prefix("critic", visit))
	}
	a.ActorModules().Params(visit)
}

// Sample samples every actor's actions for obs on t (an inference tape the
// caller resets), each given the earlier actors' ones: acts[k][i] is actor
// k's action for obs[i]. acts must hold len(Actors) slices of len(obs).
func (a Agent[O]) Sample(t *nn.Tape, obs []O, rng *rand.Rand, acts [][]rl.Action) {
	for k, ac := range a.Actors {
		copy(acts[k], ActWith(ac, t, obs, acts[:k], rng))
	}
}

// SampleLogProb is Sample that also writes the joint log-probability of
// each observation's actions (the sum over actors) to logProb. Actors
// implementing LogProbActor (and not conditional) give theirs in the
// sampling pass; the others are evaluated once more on t.
func (a Agent[O]) SampleLogProb(t *nn.Tape, obs []O, rng *rand.Rand, acts [][]rl.Action, logProb []float32) {
	clear(logProb[:len(obs)])
	for k, ac := range a.Actors {
		if lpa, ok := ac.(LogProbActor[O]); ok {
			if _, cond := ac.(ConditionalActor[O]); !cond {
				s, lp := lpa.ActLogProb(t, obs, rng)
				copy(acts[k], s)
				for i, v := range lp {
					logProb[i] += v
				}
				continue
			}
		}
		copy(acts[k], ActWith(ac, t, obs, acts[:k], rng))
		lp, _ := EvaluateWith(ac, t, obs, acts[:k], acts[k])
		for i := range obs {
			logProb[i] += lp.Data[i]
		}
	}
}

// Mode writes every actor's deterministic action for obs to acts.
func (a Agent[O]) Mode(t *nn.Tape, obs []O, acts [][]rl.Action) {
	for k, ac := range a.Actors {
		copy(acts[k], ModeWith(ac, t, obs, acts[:k]))
	}
}

// Evaluate returns the R×1 joint log-probabilities (the sum over actors)
// of acts and the sum of the actors' R×1 entropies, on t.
func (a Agent[O]) Evaluate(t *nn.Tape, obs []O, acts [][]rl.Action) (logProb, entropy *nn.Tensor) {
	for k, ac := range a.Actors {
		lp, ent := EvaluateWith(ac, t, obs, acts[:k], acts[k])
		if k == 0 {
			logProb, entropy = lp, ent
			continue
		}
		logProb, entropy = t.Add(logProb, lp), t.Add(entropy, ent)
	}
	return logProb, entropy
}

// Greedy is the rl.Policy of agent's mode actions (greedy / distribution
// mean): deterministic, for evaluation.
func Greedy[O any](a Agent[O]) rl.Policy[O] { return &decider[O]{a: a} }

// Sampled is the rl.Policy that samples agent's actions from rng.
func Sampled[O any](a Agent[O], rng *rand.Rand) rl.Policy[O] { return &decider[O]{a: a, rng: rng} }

type decider[O any] struct {
	a     Agent[O]
	rng   *rand.Rand
	t     *nn.Tape
	one   []O
	acts  [][]rl.Action
	parts []rl.Action
}

func (d *decider[O]) Decide(obs O) (rl.Action, error) {
	if d.t == nil {
		d.t, d.one = nn.NewInference(), make([]O, 1)
		d.acts = make([][]rl.Action, len(d.a.Actors))
		for k := range d.acts {
			d.acts[k] = make([]rl.Action, 1)
		}
		d.parts = make([]rl.Action, len(d.a.Actors))
	}
	d.t.Reset()
	d.one[0] = obs
	if d.rng == nil {
		d.a.Mode(d.t, d.one, d.acts)
	} else {
		d.a.Sample(d.t, d.one, d.rng, d.acts)
	}
	for k := range d.parts {
		d.parts[k] = d.acts[k][0]
	}
	return d.a.Action(d.parts), nil
}

// QFunction is an action-value function Q(s, ·) over the N discrete actions
// of an environment. DQN trains one and keeps a second instance of the
// same shape as its target network; masks come from observations that
// implement rl.Masked (masked actions are never chosen, by the greedy
// policy or in the targets).
type QFunction[O any] interface {
	nn.Module
	// QValues returns the R×N action values of obs (differentiable on a
	// recording tape).
	QValues(t *nn.Tape, obs []O) *nn.Tensor
}

// MaskOf returns obs's action mask when it implements rl.Masked (nil
// otherwise: every action allowed).
func MaskOf(obs any) []bool {
	if m, ok := obs.(rl.Masked); ok {
		return m.ActionMask()
	}
	return nil
}

// ArgmaxAllowed returns the index of the largest v[i] with mask[i] (all
// allowed when mask is nil), the first on ties; −1 when none is allowed.
func ArgmaxAllowed(v []float32, mask []bool) int {
	best := -1
	for i, x := range v {
		if mask != nil && !mask[i] {
			continue
		}
		if best < 0 || x > v[best] {
			best = i
		}
	}
	return best
}

// GreedyQ is the rl.Policy that takes q's best allowed action.
func GreedyQ[O any](q QFunction[O]) rl.Policy[O] { return &greedyQ[O]{q: q} }

type greedyQ[O any] struct {
	q   QFunction[O]
	t   *nn.Tape
	one []O
}

func (g *greedyQ[O]) Decide(obs O) (rl.Action, error) {
	if g.t == nil {
		g.t, g.one = nn.NewInference(), make([]O, 1)
	}
	g.t.Reset()
	g.one[0] = obs
	v := g.q.QValues(g.t, g.one)
	b := ArgmaxAllowed(v.Data[:v.Cols], MaskOf(obs))
	if b < 0 {
		return rl.Action{}, fmt.Errorf("agent: every action is masked")
	}
	return rl.Action{Index: b}, nil
}

// Masks reads the action masks of observations of type O without boxing
// them (boxing a struct observation allocates on every call, measured as
// 5 % of a CartPole DQN run). The way to reach rl.Masked is decided once,
// by NewMasks.
type Masks[O any] struct{ mode int }

const (
	noMask      = iota // O never implements rl.Masked
	maskByPtr          // *O implements it (value receiver on a value type)
	maskByValue        // O is a pointer or interface type: boxing is free
)

// NewMasks returns the mask reader for O.
func NewMasks[O any]() Masks[O] {
	var zero O
	if reflect.TypeFor[O]().Kind() == reflect.Interface {
		return Masks[O]{maskByValue}
	}
	if _, ok := any(&zero).(rl.Masked); ok {
		return Masks[O]{maskByPtr}
	}
	if _, ok := any(zero).(rl.Masked); ok {
		return Masks[O]{maskByValue}
	}
	return Masks[O]{noMask}
}

// Of returns *obs's action mask, or nil if every action is allowed.
func (m Masks[O]) Of(obs *O) []bool {
	switch m.mode {
	case maskByPtr:
		return any(obs).(rl.Masked).ActionMask()
	case maskByValue:
		return MaskOf(*obs)
	}
	return nil
}

// QBuilder builds one Q-function for an environment whose first
// observation is first and whose action space is space, initialised from
// rng. DQN calls it twice, for the online network and for its target
// network, which must have the same parameters (names and shapes).
type QBuilder[O any] func(first O, space rl.Space, rng *rand.Rand) (QFunction[O], error)
