package rlmsrun

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/actorcritic"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/rl/ppo"
)

// Trainers of RLMS-CPN (Config.Algo).
const (
	// AlgoAC is the paper's: one-step/n-step actor-critic with one critic.
	AlgoAC = "ac"
	// AlgoPPO is PPO over the same agent (the joint node·subset·split
	// policy, one value baseline V(s)).
	AlgoPPO = "ppo"
)

// Algos lists the trainers.
var Algos = []string{AlgoAC, AlgoPPO}

// Config is a training run: the model, the trainer and its settings (AC
// for actor-critic, PPO for PPO; the other is ignored).
type Config struct {
	Model rlms.Config
	Algo  string
	AC    actorcritic.Config
	PPO   ppo.Config
}

// Seed is the run's seed (the model's initialisation and the trainer's).
func (c Config) Seed() uint64 {
	if c.Algo == AlgoPPO {
		return c.PPO.Seed
	}
	return c.AC.Seed
}

// SetSeed sets the seed of both trainers' settings.
func (c *Config) SetSeed(s uint64) { c.AC.Seed, c.PPO.Seed = s, s }

// SetSteps sets the training budget (environment steps) of both.
func (c *Config) SetSteps(n int64) { c.AC.TotalTimesteps, c.PPO.TotalTimesteps = n, n }

// Steps is the run's training budget.
func (c Config) Steps() int64 {
	if c.Algo == AlgoPPO {
		return c.PPO.TotalTimesteps
	}
	return c.AC.TotalTimesteps
}

// SetCheckpoint makes the run resumable from path, saved every `every`
// updates (actor-critic) or iterations (PPO).
func (c *Config) SetCheckpoint(path string, every int) {
	c.AC.Checkpoint.Path, c.AC.Checkpoint.Every = path, int64(every)
	c.PPO.Checkpoint.Path, c.PPO.Checkpoint.Every = path, int64(every)
}

// SetBeforeCheckpoint sets the hook both trainers call before each
// checkpoint (see actorcritic.Config.Checkpoint.Before).
func (c *Config) SetBeforeCheckpoint(f func() error) {
	c.AC.Checkpoint.Before, c.PPO.Checkpoint.Before = f, f
}

// Validate reports settings out of range, naming the trainer.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch c.Algo {
	case AlgoAC, "":
		if err := c.AC.Validate(); err != nil {
			return err
		}
		// Training runs whole updates: fewer steps than one would
		// silently train a full update (--steps 50 --nsteps 100000 ran
		// 1.6 M tasks).
		if batch := int64(c.AC.NumEnvs) * int64(c.AC.NSteps); c.AC.TotalTimesteps < batch {
			return fmt.Errorf("actorcritic: TotalTimesteps %d is less than one update (NumEnvs %d × NSteps %d = %d)", c.AC.TotalTimesteps, c.AC.NumEnvs, c.AC.NSteps, batch)
		}
		return nil
	case AlgoPPO:
		return c.PPO.Validate()
	}
	return fmt.Errorf("rlms: unknown trainer %q (want %s)", c.Algo, strings.Join(Algos, " or "))
}

// DefaultConfig returns the settings used for the benchmark: SyncGNN of
// width 32, a logistic-normal split (softmax of the path logits plus
// learned Gaussian noise), a subset actor between the node and path
// actors (which paths carry data; rlms.Config.Subsets), the prior (the
// actors start at the wf baseline's decision and learn corrections;
// rlms.Config.Prior), one critic and two actors trained with the
// critic's TD error on 16 parallel simulators, 5 steps each per update,
// Adam 3e-3 (actors and critic), γ = 0, normalised TD errors, no entropy
// bonus, gradient clipping 0.5, linear LR annealing, 300,000 tasks.
//
// The paper used γ = 0.99, learning rates 0.1 and 200,000 episodes. On
// this simulator (measured on Abilene, 300k tasks; docs/rlms.md): γ = 0.9
// and 0.99 learn slower and end worse than γ = 0 — a decision's effect on
// later tasks (bandwidth held, a busy node) is small next to its own
// latency, and the discounted return's variance drowns it; Adam at 0.1
// diverges; the Dirichlet split of the paper's description learns the split
// far slower than the logistic-normal one (the learned split was no better
// than ECMP after 1M tasks).
func DefaultConfig(k, p int) Config {
	m := rlms.DefaultConfig()
	m.K, m.P = k, p
	m.Dim, m.Hidden, m.Split, m.Prior, m.Subsets = 32, 32, rlms.SplitLogisticNormal, true, true
	ac := actorcritic.DefaultConfig()
	ac.TotalTimesteps = 300000
	ac.NumEnvs, ac.NSteps = 16, 5
	ac.LearningRateActor, ac.LearningRateCritic = 3e-3, 3e-3
	ac.Gamma, ac.EntCoef, ac.MaxGradNorm = 0, 0, 0.5
	ac.NormAdv, ac.AnnealLR, ac.ParallelEnvs = true, true, true
	return Config{Model: m, Algo: AlgoAC, AC: ac, PPO: DefaultPPO()}
}

// DefaultPPO returns the PPO settings for RLMS-CPN: the actor-critic's
// environment count, γ = 0, advantage normalisation, gradient clipping and
// LR annealing, with PPO's rollouts of 16 steps per simulator (256 tasks),
// 4 epochs over 4 minibatches of 64, clip 0.2, Adam 1e-3, no value clipping
// and no entropy bonus.
func DefaultPPO() ppo.Config {
	c := ppo.DefaultConfig()
	c.TotalTimesteps = 300000
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 16, 16, 4, 4
	c.LearningRate, c.AnnealLR, c.Gamma, c.GAELambda = 1e-3, true, 0, 0.95
	c.ClipCoef, c.ClipVLoss, c.EntCoef, c.VFCoef, c.MaxGradNorm = 0.2, false, 0, 0.5, 0.5
	c.NormAdv, c.ParallelEnvs, c.AdamEps = true, true, 1e-8
	return c
}

// Result is the outcome of Train, whichever the trainer.
type Result struct {
	// EpisodicReturns lists the training episodes' returns in order.
	EpisodicReturns []float64
	// Steps is the number of environment steps, Updates of gradient steps
	// (actor-critic) or iterations (PPO).
	Steps, Updates int64
	// SPS is environment steps per second, updates included.
	SPS float64
	// Elapsed is the training wall time.
	Elapsed time.Duration
}

// Train trains a new model (initialised from cfg.AC.Seed) on net's
// simulator. With cfg.AC.Checkpoint.Path set, it resumes a killed run.
func Train(ctx context.Context, net *cpn.Network, cfg Config, logger func(step int64, metrics map[string]float64)) (*rlms.Model, Result, error) {
	if cfg.Model.K != net.Cfg.K || cfg.Model.P != net.Cfg.P {
		return nil, Result{}, fmt.Errorf("rlms: the model has K=%d, P=%d; the network K=%d, P=%d", cfg.Model.K, cfg.Model.P, net.Cfg.K, net.Cfg.P)
	}
	if err := cfg.Validate(); err != nil {
		return nil, Result{}, err
	}
	m := rlms.New(cfg.Model, rand.New(rand.NewPCG(cfg.Seed(), 0x7105)))
	newEnv := func() rl.Env[cpn.Obs] { return cpn.NewEnv(net) }
	start := time.Now()
	var res Result
	var err error
	if cfg.Algo == AlgoPPO {
		var r ppo.Result
		r, err = ppo.Train(ctx, cfg.PPO, newEnv, m.Agent(), logger)
		res = Result{EpisodicReturns: r.EpisodicReturns, Steps: r.GlobalStep, Updates: int64(r.Iterations), SPS: r.SPS}
	} else {
		var r actorcritic.Result
		r, err = actorcritic.Train(ctx, cfg.AC, newEnv, m.Agent(), logger)
		res = Result{EpisodicReturns: r.EpisodicReturns, Steps: r.Steps, Updates: r.Updates, SPS: r.SPS}
	}
	res.Elapsed = time.Since(start)
	return m, res, err
}

// ModelPolicy is m's deterministic policy (the most probable node, the
// mean split) through its allocation-free inference path, m.Decision.
func ModelPolicy(m *rlms.Model) PolicyMaker {
	return func(*cpn.Env) rl.Policy[cpn.Obs] {
		return rl.PolicyFunc[cpn.Obs](func(o cpn.Obs) (rl.Action, error) {
			node, ratios := m.Decision(o)
			return rl.Action{Index: node, Values: append([]float32(nil), ratios...)}, nil
		})
	}
}
