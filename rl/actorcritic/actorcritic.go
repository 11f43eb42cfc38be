// Package actorcritic is the one-step (or n-step) advantage actor-critic
// with a TD critic (Sutton & Barto 2018, §13.5; Mnih et al. 2016 without
// asynchrony), in CleanRL's one-file style, for one or SEVERAL actors that
// share one critic.
//
// Every update collects NSteps steps from each of NumEnvs environments and
// forms, for every step t of the segment,
//
//	y_t = r_t + γ r_{t+1} + … + γ^{k} V(s_{t+k+1})   (n-step TD target; NSteps = 1 is TD(0): y = r + γV(s'))
//	δ_t = y_t − V(s_t)
//
// with no bootstrap after a termination and a bootstrap from the final
// observation after a truncation (γ·V(final obs) is added to the reward of
// the truncated step). The critic minimises ½·mean(δ²); each actor k
// maximises mean(δ·log π_k(a_k|s)) + EntCoef·mean(H(π_k(·|s))), with δ held
// constant. Actors and critic have their own Adam optimisers
// (LearningRateActor, LearningRateCritic).
//
// # Several actors, one critic
//
// An Agent holds one Critic and a list of Actors that all see the same
// state; each samples its own part of the action, and Combine builds the
// environment's action from the parts (for RLMS-CPN: a discrete
// node-selection actor giving Index and a simplex path-split actor giving
// Values). The joint policy is the product of the actors' policies, so the
// joint log-probability is the sum of the parts' and every actor is trained
// with the same advantage δ. PolicyAgent wraps a policy.ActorCritic as a
// one-actor Agent; PolicyActor and PolicyCritic expose its two halves.
//
// Metrics (CleanRL names): charts/episodic_return and
// charts/episodic_length per finished episode; losses/value_loss,
// losses/policy_loss (summed over actors), losses/entropy (summed over
// actors) and charts/SPS per update.
package actorcritic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// Config holds the hyper-parameters, named as CleanRL's.
type Config struct {
	// Seed seeds action sampling and the environments' Reset seeds (the
	// caller seeds the networks it builds). The same seed gives the same run.
	Seed uint64
	// TotalTimesteps is the number of environment steps, over all envs.
	TotalTimesteps int64
	// NumEnvs is the number of environments stepped in lockstep.
	NumEnvs int
	// NSteps is the number of steps per environment per update: 1 is the
	// one-step TD(0) actor-critic, larger values use n-step TD targets.
	NSteps int
	// LearningRateActor and LearningRateCritic are the Adam learning rates
	// of the actors and of the critic.
	LearningRateActor, LearningRateCritic float64
	// Gamma is the discount factor.
	Gamma float64
	// EntCoef weighs the entropy bonus of every actor.
	EntCoef float64
	// MaxGradNorm clips the global gradient norm of the actors' and of the
	// critic's parameters (separately) when positive.
	MaxGradNorm float64
	// AnnealLR decays both learning rates linearly to 0 over
	// TotalTimesteps (CleanRL's anneal_lr), which lets the policy settle
	// precisely (e.g. on split ratios).
	AnnealLR bool
	// NormAdv standardises the TD errors δ of each update (zero mean, unit
	// variance) before they weigh the actors' log-probabilities, as
	// Stable-Baselines3's A2C normalize_advantage. The critic still
	// regresses on the raw targets.
	NormAdv bool

	// ParallelEnvs steps the NumEnvs environments concurrently, one
	// goroutine per environment per step, for simulators whose step costs
	// far more than a goroutine hand-off (the CPN simulator); results are
	// processed in environment order, so a run is identical with or
	// without it.
	ParallelEnvs bool

	// CheckpointPath, when set, makes the run resumable: every
	// CheckpointEvery updates the actors, the critic, both optimizers, the
	// generators, the counters and the environments' snapshots (they must
	// implement rl.Snapshotter) are saved there atomically, and Train
	// starts by resuming from the file if it exists. A resumed run ends
	// exactly as an uninterrupted one with the same seed, on one thread.
	CheckpointPath  string
	CheckpointEvery int
}

// DefaultConfig returns settings that solve the known-answer environments:
// 4 environments, 5-step targets, Adam 1e-3 / 1e-3.
func DefaultConfig() Config {
	return Config{
		Seed:               1,
		TotalTimesteps:     50000,
		NumEnvs:            4,
		NSteps:             5,
		LearningRateActor:  1e-3,
		LearningRateCritic: 1e-3,
		Gamma:              0.99,
		EntCoef:            0.01,
		MaxGradNorm:        0.5,
	}
}

// Validate reports hyper-parameters out of range.
func (c Config) Validate() error {
	ok := func(x float64) bool { return x >= 0 && !math.IsInf(x, 0) }
	switch {
	case c.TotalTimesteps < 0:
		return fmt.Errorf("actorcritic: TotalTimesteps %d < 0", c.TotalTimesteps)
	case c.NumEnvs < 1:
		return fmt.Errorf("actorcritic: NumEnvs %d < 1", c.NumEnvs)
	case c.NSteps < 1:
		return fmt.Errorf("actorcritic: NSteps %d < 1", c.NSteps)
	case !ok(c.LearningRateActor) || !ok(c.LearningRateCritic):
		return fmt.Errorf("actorcritic: invalid learning rates %v, %v", c.LearningRateActor, c.LearningRateCritic)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return fmt.Errorf("actorcritic: Gamma %v outside [0,1]", c.Gamma)
	case !ok(c.EntCoef):
		return fmt.Errorf("actorcritic: invalid EntCoef %v", c.EntCoef)
	case !ok(c.MaxGradNorm):
		return fmt.Errorf("actorcritic: invalid MaxGradNorm %v", c.MaxGradNorm)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("actorcritic: CheckpointEvery %d < 0", c.CheckpointEvery)
	}
	return nil
}

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

// ConditionalActor is an Actor whose action depends on the actions the
// actors before it in Agent.Actors chose for the same state: the joint
// policy is then π(a_0|s)·π(a_1|s, a_0)·…, still trained with one advantage
// (RLMS-CPN's path agent splits the data over the paths of the node the
// node agent chose). prev[j][i] is actor j's action for observation i.
// Train, Evaluate and package pg call the *Given methods of actors that
// implement this interface.
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
// them). Train then uses V(s, a_0 … a_{k−1}) instead of V(s) as actor k's
// baseline, trained to the same TD targets: still unbiased (the baseline
// does not depend on a_k) but with less variance, because the earlier
// actors' sampled choices no longer count in actor k's advantage (the
// action-dependent baselines of factorised policies, Wu et al. 2018).
// Actor 0 always uses V(s), and TD targets bootstrap from V(s').
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

// Params implements nn.Module: "critic/…" then "actor0/…", "actor1/…".
func (a Agent[O]) Params(visit func(string, *nn.Param)) {
	a.Critic.Params(nn.Prefix("critic", visit))
	a.ActorModules().Params(visit)
}

// PolicyAgent returns a one-actor Agent made of the actor and critic
// halves of p.
func PolicyAgent[O rl.Vector](p *policy.ActorCritic[O]) Agent[O] {
	return Agent[O]{Critic: PolicyCritic[O]{p}, Actors: []Actor[O]{PolicyActor[O]{p}}}
}

// PolicyActor is the actor half of a policy.ActorCritic (its actor MLP and,
// for Box spaces, log-std).
type PolicyActor[O rl.Vector] struct{ P *policy.ActorCritic[O] }

// Params implements nn.Module.
func (a PolicyActor[O]) Params(visit func(string, *nn.Param)) {
	a.P.Actor.Params(nn.Prefix("actor", visit))
	if a.P.LogStd != nil {
		visit("log_std", a.P.LogStd)
	}
}

// Act implements Actor.
func (a PolicyActor[O]) Act(t *nn.Tape, obs []O, rng *rand.Rand) []rl.Action {
	acts, _, _ := a.P.Act(t, obs, rng)
	return acts
}

// Mode implements Actor.
func (a PolicyActor[O]) Mode(t *nn.Tape, obs []O) []rl.Action { return a.P.Mode(t, obs) }

// Evaluate implements Actor.
func (a PolicyActor[O]) Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	lp, ent, _ := a.P.Evaluate(t, obs, actions)
	return lp, ent
}

// PolicyCritic is the critic half of a policy.ActorCritic.
type PolicyCritic[O rl.Vector] struct{ P *policy.ActorCritic[O] }

// Params implements nn.Module.
func (c PolicyCritic[O]) Params(visit func(string, *nn.Param)) {
	c.P.Critic.Params(nn.Prefix("critic", visit))
}

// Value implements Critic.
func (c PolicyCritic[O]) Value(t *nn.Tape, obs []O) *nn.Tensor { return c.P.Value(t, obs) }

// Logger receives metrics under CleanRL's names at a global step; nil
// discards them. The map is reused: copy what you keep.
type Logger func(step int64, metrics map[string]float64)

// Result is the outcome of Train.
type Result struct {
	// EpisodicReturns and EpisodicLengths list every finished training
	// episode, in the order they finished (stochastic actions).
	EpisodicReturns []float64
	EpisodicLengths []int
	// Steps is the number of environment steps, Updates of gradient steps.
	Steps, Updates int64
	// SPS is environment steps per second, updates included.
	SPS float64
}

// Train runs the actor-critic on cfg.NumEnvs environments made by newEnv
// and updates agent's actors and critic in place. It stops early with
// ctx's error when ctx is cancelled, and with an error when an environment
// fails.
func Train[O any](ctx context.Context, cfg Config, newEnv func() rl.Env[O], agent Agent[O], logger Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if agent.Critic == nil || len(agent.Actors) == 0 {
		return Result{}, errors.New("actorcritic: an agent needs a critic and at least one actor")
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	start := time.Now()

	// Seeding, all in one place: rng drives action sampling, envRng the
	// environments' Reset seeds.
	src, envSrc := rand.NewPCG(cfg.Seed, 0xac7), rand.NewPCG(cfg.Seed, 0xe5e)
	rng, envRng := rand.New(src), rand.New(envSrc)

	// Environments.
	nE, nS, nA := cfg.NumEnvs, cfg.NSteps, len(agent.Actors)
	envs := make([]rl.Env[O], nE)
	cur := make([]O, nE)
	epRet := make([]float64, nE)
	epLen := make([]int, nE)
	for i := range envs {
		envs[i] = newEnv()
		o, err := envs[i].Reset(envRng.Uint64())
		if err != nil {
			return Result{}, fmt.Errorf("actorcritic: reset env %d: %w", i, err)
		}
		cur[i] = o
	}

	// Optimisers.
	criticParams := nn.Collect(nn.Modules{{Name: "critic", M: agent.Critic}})
	actorParams := nn.Collect(agent.ActorModules())
	adamC := optim.DefaultAdamConfig()
	adamC.LR = cfg.LearningRateCritic
	adamA := optim.DefaultAdamConfig()
	adamA.LR = cfg.LearningRateActor
	optC := optim.NewAdam(criticParams, adamC)
	optA := optim.NewAdam(actorParams, adamA)

	// Segment storage, step-major: index t*nE + e.
	B := nE * nS
	obs := make([]O, B)
	acts := make([][]rl.Action, nA) // acts[k][i]
	for k := range acts {
		acts[k] = make([]rl.Action, B)
	}
	rewards := make([]float64, B)
	ended := make([]bool, B)
	targets := make([]float32, B)
	deltas := make([]float32, B)
	staged, _ := agent.Critic.(StagedCritic[O])
	var stagedDeltas [][]float32 // [k][i] for actors k ≥ 1
	if staged != nil {
		stagedDeltas = make([][]float32, nA)
		for k := 1; k < nA; k++ {
			stagedDeltas[k] = make([]float32, B)
		}
	}
	parts := make([]rl.Action, nA)
	prev := make([][]rl.Action, nA)
	envAct := make([]rl.Action, nE)
	stepRes := make([]rl.Step[O], nE)
	stepErr := make([]error, nE)
	one := make([]O, 1)
	inf, tape := nn.NewInference(), nn.NewTape()
	metrics := map[string]float64{}
	var res Result

	var global int64
	opts := optim.Group{{Name: "critic", Opt: optC}, {Name: "actors", Opt: optA}}
	gens := []*rand.PCG{src, envSrc}
	if cfg.CheckpointPath != "" {
		var st runState
		ok, err := runstate.Load(cfg.CheckpointPath, CheckpointKind, agent, opts, gens, &st)
		if err != nil {
			return res, err
		}
		if ok {
			if len(st.EpRet) != nE || len(st.EpLen) != nE {
				return res, fmt.Errorf("actorcritic: %s: checkpoint has %d environments, the run %d", cfg.CheckpointPath, len(st.EpRet), nE)
			}
			if err := runstate.RestoreEnvs("actorcritic", cfg.CheckpointPath, envs, st.Envs, cur); err != nil {
				return res, err
			}
			global, res.Updates = st.Global, st.Updates
			copy(epRet, st.EpRet)
			copy(epLen, st.EpLen)
			res.EpisodicReturns, res.EpisodicLengths = st.Returns, st.Lengths
		}
	}
	for global < cfg.TotalTimesteps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		// --- Collect nS steps from every environment. ---
		for t := 0; t < nS; t++ {
			inf.Reset()
			for k, ac := range agent.Actors {
				for j := range k {
					prev[j] = acts[j][t*nE : (t+1)*nE]
				}
				a := ActWith(ac, inf, cur, prev[:k], rng)
				copy(acts[k][t*nE:], a)
			}
			for e := range envs {
				i := t*nE + e
				obs[i] = cur[e]
				for k := range parts {
					parts[k] = acts[k][i]
				}
				envAct[e] = agent.Action(parts)
			}
			if cfg.ParallelEnvs {
				var wg sync.WaitGroup
				for e, env := range envs {
					wg.Go(func() { stepRes[e], stepErr[e] = env.Step(envAct[e]) })
				}
				wg.Wait()
			} else {
				for e, env := range envs {
					stepRes[e], stepErr[e] = env.Step(envAct[e])
				}
			}
			for e, env := range envs {
				i := t*nE + e
				s, err := stepRes[e], stepErr[e]
				if err != nil {
					return res, fmt.Errorf("actorcritic: step %d, env %d: %w", global, e, err)
				}
				global++
				r := s.Reward
				epRet[e] += s.Reward
				epLen[e]++
				if s.Truncated && !s.Terminated && cfg.Gamma > 0 {
					inf.Reset()
					one[0] = s.Obs
					r += cfg.Gamma * float64(agent.Critic.Value(inf, one).Data[0])
				}
				rewards[i], ended[i] = r, s.Done()
				cur[e] = s.Obs
				if s.Done() {
					res.EpisodicReturns = append(res.EpisodicReturns, epRet[e])
					res.EpisodicLengths = append(res.EpisodicLengths, epLen[e])
					clear(metrics)
					metrics["charts/episodic_return"] = epRet[e]
					metrics["charts/episodic_length"] = float64(epLen[e])
					logger(global, metrics)
					epRet[e], epLen[e] = 0, 0
					o, err := env.Reset(envRng.Uint64())
					if err != nil {
						return res, fmt.Errorf("actorcritic: reset env %d: %w", e, err)
					}
					cur[e] = o
				}
			}
		}

		// --- n-step TD targets, bootstrapped from V(next observation). ---
		inf.Reset()
		next := agent.Critic.Value(inf, cur)
		for e := 0; e < nE; e++ {
			g := float64(next.Data[e])
			for t := nS - 1; t >= 0; t-- {
				i := t*nE + e
				if ended[i] {
					g = rewards[i]
				} else {
					g = rewards[i] + cfg.Gamma*g
				}
				targets[i] = float32(g)
			}
		}

		// --- One gradient step for the critic and every actor. ---
		tape.Reset()
		v := agent.Critic.Value(tape, obs)
		for i := range deltas {
			deltas[i] = targets[i] - v.Data[i]
		}
		if cfg.NormAdv && B > 1 {
			rl.NormalizeAdvantages(deltas)
		}
		tgt := tape.Const(B, 1, targets)
		vLoss := tape.Scale(tape.Mean(tape.Square(tape.Sub(v, tgt))), 0.5)
		advs := make([]*nn.Tensor, nA)
		advs[0] = tape.Const(B, 1, deltas)
		for k := 1; k < nA; k++ {
			if staged == nil {
				advs[k] = advs[0]
				continue
			}
			vk := staged.ValueAfter(tape, obs, acts[:k])
			d := stagedDeltas[k]
			for i := range d {
				d[i] = targets[i] - vk.Data[i]
			}
			if cfg.NormAdv && B > 1 {
				rl.NormalizeAdvantages(d)
			}
			vLoss = tape.Add(vLoss, tape.Scale(tape.Mean(tape.Square(tape.Sub(vk, tgt))), 0.5))
			advs[k] = tape.Const(B, 1, d)
		}
		loss := vLoss
		var pgSum, entSum float64
		for k, ac := range agent.Actors {
			lp, ent := EvaluateWith(ac, tape, obs, acts[:k], acts[k])
			pg := tape.Neg(tape.Mean(tape.Mul(advs[k], lp)))
			h := tape.Mean(ent)
			loss = tape.Add(loss, tape.Sub(pg, tape.Scale(h, float32(cfg.EntCoef))))
			pgSum += float64(pg.Item())
			entSum += float64(h.Item())
		}
		tape.Backward(loss)
		if cfg.MaxGradNorm > 0 {
			optim.ClipGradNorm(criticParams, cfg.MaxGradNorm)
			optim.ClipGradNorm(actorParams, cfg.MaxGradNorm)
		}
		if cfg.AnnealLR {
			frac := max(0, 1-float64(global)/float64(cfg.TotalTimesteps))
			optC.SetLR(frac * cfg.LearningRateCritic)
			optA.SetLR(frac * cfg.LearningRateActor)
		}
		optC.Step()
		optA.Step()
		res.Updates++

		res.Steps = global
		res.SPS = float64(global) / time.Since(start).Seconds()
		if res.Updates%10 == 0 || global >= cfg.TotalTimesteps {
			clear(metrics)
			metrics["losses/value_loss"] = float64(vLoss.Item())
			metrics["losses/policy_loss"] = pgSum
			metrics["losses/entropy"] = entSum
			metrics["charts/SPS"] = res.SPS
			logger(global, metrics)
		}
		if cfg.CheckpointPath != "" && cfg.CheckpointEvery > 0 && res.Updates%int64(cfg.CheckpointEvery) == 0 {
			snaps, err := runstate.SnapshotEnvs("actorcritic", envs)
			if err != nil {
				return res, err
			}
			st := runState{Global: global, Updates: res.Updates, EpRet: epRet, EpLen: epLen, Envs: snaps,
				Returns: res.EpisodicReturns, Lengths: res.EpisodicLengths}
			if err := runstate.Save(cfg.CheckpointPath, CheckpointKind, global, agent, opts, gens, st); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// CheckpointKind is the model kind of actor-critic training checkpoints.
const CheckpointKind = "actorcritic-run"

// runState is what a checkpoint holds besides parameters, optimizer state
// and generators.
type runState struct {
	Global  int64     `json:"global_step"`
	Updates int64     `json:"updates"`
	EpRet   []float64 `json:"episode_returns_so_far"`
	EpLen   []int     `json:"episode_lengths_so_far"`
	Envs    [][]byte  `json:"envs"`
	Returns []float64 `json:"episodic_returns"`
	Lengths []int     `json:"episodic_lengths"`
}

// Evaluate runs episodes episodes of agent on env, resetting it with seeds
// seed, seed+1, …, and returns their returns. With rng nil every actor
// takes its Mode action (greedy / Dirichlet mean); otherwise actions are
// sampled from rng.
func Evaluate[O any](agent Agent[O], env rl.Env[O], episodes int, seed uint64, rng *rand.Rand) ([]float64, error) {
	t := nn.NewInference()
	one := make([]O, 1)
	parts := make([]rl.Action, len(agent.Actors))
	prev := make([][]rl.Action, len(agent.Actors))
	returns := make([]float64, 0, episodes)
	for ep := 0; ep < episodes; ep++ {
		o, err := env.Reset(seed + uint64(ep))
		if err != nil {
			return returns, fmt.Errorf("actorcritic: evaluate: reset: %w", err)
		}
		var ret float64
		for {
			t.Reset()
			one[0] = o
			for k, ac := range agent.Actors {
				for j := range k {
					prev[j] = parts[j : j+1]
				}
				if rng == nil {
					parts[k] = ModeWith(ac, t, one, prev[:k])[0]
				} else {
					parts[k] = ActWith(ac, t, one, prev[:k], rng)[0]
				}
			}
			s, err := env.Step(agent.Action(parts))
			if err != nil {
				return returns, fmt.Errorf("actorcritic: evaluate: step: %w", err)
			}
			ret += s.Reward
			o = s.Obs
			if s.Done() {
				break
			}
		}
		returns = append(returns, ret)
	}
	return returns, nil
}
