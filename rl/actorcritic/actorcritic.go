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
// An agent.Agent holds one Critic and a list of Actors that all see the same
// state; each samples its own part of the action, and Combine builds the
// environment's action from the parts (for RLMS-CPN: a discrete
// node-selection actor giving Index and a simplex path-split actor giving
// Values). The joint policy is the product of the actors' policies, so the
// joint log-probability is the sum of the parts' and every actor is trained
// with the same advantage δ. The contracts (agent.Agent, agent.Actor,
// agent.ConditionalActor, agent.Critic, agent.StagedCritic) live in rl/agent;
// policy.Agent wraps a vector MLP policy as a one-actor Agent.
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
	"math/rand/v2"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
	"github.com/cpntrain/cpntrain/rl/internal/settings"
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

	// Checkpoint makes the run resumable (per update); the environments
	// must implement rl.Snapshotter.
	Checkpoint rl.Checkpointing
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
	f := settings.New("actorcritic")
	settings.AtLeast(f, "TotalTimesteps", c.TotalTimesteps, 0)
	settings.AtLeast(f, "NumEnvs", c.NumEnvs, 1)
	settings.AtLeast(f, "NSteps", c.NSteps, 1)
	settings.AtLeast(f, "Checkpoint.Every", c.Checkpoint.Every, 0)
	return f.NonNeg("LearningRateActor", c.LearningRateActor).NonNeg("LearningRateCritic", c.LearningRateCritic).
		Unit("Gamma", c.Gamma).NonNeg("EntCoef", c.EntCoef).NonNeg("MaxGradNorm", c.MaxGradNorm).Err()
}

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
// and updates ag's actors and critic in place. It stops early with ctx's
// error when ctx is cancelled, and with an error when an environment
// fails.
func Train[O any](ctx context.Context, cfg Config, newEnv func() rl.Env[O], ag agent.Agent[O], logger Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if err := ag.Check("actorcritic", true); err != nil {
		return Result{}, err
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	start := time.Now()

	// --- Set-up: seeding (rng drives action sampling, envRng the
	// environments' Reset seeds), environments, optimisers, buffers. ---
	src, envSrc := rand.NewPCG(cfg.Seed, 0xac7), rand.NewPCG(cfg.Seed, 0xe5e)
	rng, envRng := rand.New(src), rand.New(envSrc)
	nE, nS, nA := cfg.NumEnvs, cfg.NSteps, len(ag.Actors)
	venv, err := rl.NewVecEnv("actorcritic", nE, newEnv, func(int, uint64) uint64 { return envRng.Uint64() })
	if err != nil {
		return Result{}, err
	}
	venv.Parallel = cfg.ParallelEnvs
	criticParams := nn.Collect(nn.Modules{{Name: "critic", M: ag.Critic}})
	actorParams := nn.Collect(ag.ActorModules())
	adamC, adamA := optim.DefaultAdamConfig(), optim.DefaultAdamConfig()
	adamC.LR, adamA.LR = cfg.LearningRateCritic, cfg.LearningRateActor
	optC, optA := optim.NewAdam(criticParams, adamC), optim.NewAdam(actorParams, adamA)
	opts := optim.Group{{Name: "critic", Opt: optC}, {Name: "actors", Opt: optA}}
	gens := []*rand.PCG{src, envSrc}

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
	staged, _ := ag.Critic.(agent.StagedCritic[O])
	var stagedDeltas [][]float32 // [k][i] for actors k ≥ 1
	if staged != nil {
		stagedDeltas = make([][]float32, nA)
		for k := 1; k < nA; k++ {
			stagedDeltas[k] = make([]float32, B)
		}
	}
	stepActs := make([][]rl.Action, nA)
	parts := make([]rl.Action, nA)
	envAct := make([]rl.Action, nE)
	one := make([]O, 1)
	inf, tape := nn.NewInference(), nn.NewTape()
	metrics := map[string]float64{}
	var res Result
	var global int64

	// --- Resume. ---
	if cfg.Checkpoint.Path != "" {
		var st runState
		ok, err := runstate.Load(cfg.Checkpoint.Path, CheckpointKind, ag, opts, gens, &st)
		if err != nil {
			return res, err
		}
		if ok {
			if err := venv.Restore(cfg.Checkpoint.Path, st.Vec); err != nil {
				return res, err
			}
			global, res.Updates = st.Global, st.Updates
			res.EpisodicReturns, res.EpisodicLengths = st.Returns, st.Lengths
			// A checkpoint taken after the last update leaves the loop
			// nothing to do: the result still counts the steps done.
			res.Steps = global
		}
	}

	checkpoint := func() error {
		return cfg.Checkpoint.Save(func(path string) error {
			vs, err := venv.State()
			if err != nil {
				return err
			}
			st := runState{Global: global, Updates: res.Updates, Vec: vs, Returns: res.EpisodicReturns, Lengths: res.EpisodicLengths}
			return runstate.Save(path, CheckpointKind, global, ag, opts, gens, st)
		})
	}

	for global < cfg.TotalTimesteps {
		if err := ctx.Err(); err != nil {
			if cerr := checkpoint(); cerr != nil { // a last checkpoint
				return res, errors.Join(err, cerr)
			}
			return res, err
		}
		// --- Collect nS steps from every environment. ---
		for t := 0; t < nS; t++ {
			lo := t * nE
			copy(obs[lo:lo+nE], venv.Obs)
			for k := range stepActs {
				stepActs[k] = acts[k][lo : lo+nE]
			}
			inf.Reset()
			ag.Sample(inf, venv.Obs, rng, stepActs)
			for e := range envAct {
				for k := range parts {
					parts[k] = stepActs[k][e]
				}
				envAct[e] = ag.Action(parts)
			}
			steps, err := venv.Step(envAct)
			if err != nil {
				return res, fmt.Errorf("%w (global step %d)", err, global)
			}
			fin := venv.Finished
			for e, s := range steps {
				i := lo + e
				global++
				r := s.Reward
				if s.Truncated && !s.Terminated && cfg.Gamma > 0 {
					inf.Reset()
					one[0] = s.Obs
					r += cfg.Gamma * float64(ag.Critic.Value(inf, one).Data[0])
				}
				rewards[i], ended[i] = r, s.Done()
				if s.Done() {
					f := fin[0]
					fin = fin[1:]
					res.EpisodicReturns = append(res.EpisodicReturns, f.Return)
					res.EpisodicLengths = append(res.EpisodicLengths, f.Length)
					clear(metrics)
					metrics["charts/episodic_return"] = f.Return
					metrics["charts/episodic_length"] = float64(f.Length)
					f.InfoMetrics(metrics)
					logger(global, metrics)
				}
			}
		}

		// --- n-step TD targets, bootstrapped from V(next observation). ---
		inf.Reset()
		next := ag.Critic.Value(inf, venv.Obs)
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
		v := ag.Critic.Value(tape, obs)
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
		for k, ac := range ag.Actors {
			lp, ent := agent.EvaluateWith(ac, tape, obs, acts[:k], acts[k])
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

		// --- Metrics and checkpoint. ---
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
		if cfg.Checkpoint.Due(res.Updates) {
			if err := checkpoint(); err != nil {
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
	Global  int64       `json:"global_step"`
	Updates int64       `json:"updates"`
	Vec     rl.VecState `json:"vec"`
	Returns []float64   `json:"episodic_returns"`
	Lengths []int       `json:"episodic_lengths"`
}
