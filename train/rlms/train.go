package rlms

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	mrlms "github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/actorcritic"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Config is a training run: the model and the actor-critic settings.
type Config struct {
	Model mrlms.Config
	AC    actorcritic.Config
}

// DefaultConfig returns the settings used for the benchmark: SyncGNN 64,
// one critic and two actors trained with n-step (5) advantage
// actor-critic on 16 parallel simulators, Adam 3e-4 (actors) and 1e-3
// (critic), γ = 0.99, normalised TD errors, entropy bonus 0.01, gradient
// clipping 0.5, linear LR annealing, 300,000 tasks.
//
// The paper used plain one-step TD, learning rates 0.1 and 200,000
// episodes; with Adam those rates diverge, and n-step targets over 16
// environments converge within minutes on two cores.
func DefaultConfig(k, p int) Config {
	m := mrlms.DefaultConfig()
	m.K, m.P = k, p
	ac := actorcritic.DefaultConfig()
	ac.TotalTimesteps = 300000
	ac.NumEnvs, ac.NSteps = 16, 5
	ac.LearningRateActor, ac.LearningRateCritic = 3e-4, 1e-3
	ac.Gamma, ac.EntCoef, ac.MaxGradNorm = 0.99, 0.01, 0.5
	ac.NormAdv, ac.AnnealLR, ac.ParallelEnvs = true, true, true
	return Config{Model: m, AC: ac}
}

// Result is the outcome of Train.
type Result struct {
	actorcritic.Result
	// Elapsed is the training wall time.
	Elapsed time.Duration
}

// Train trains a new model (initialised from cfg.AC.Seed) on net's
// simulator. With cfg.AC.CheckpointPath set, it resumes a killed run.
func Train(ctx context.Context, net *cpn.Network, cfg Config, logger actorcritic.Logger) (*mrlms.Model, Result, error) {
	if cfg.Model.K != net.Cfg.K || cfg.Model.P != net.Cfg.P {
		return nil, Result{}, fmt.Errorf("rlms: the model has K=%d, P=%d; the network K=%d, P=%d", cfg.Model.K, cfg.Model.P, net.Cfg.K, net.Cfg.P)
	}
	if err := cfg.Model.Validate(); err != nil {
		return nil, Result{}, err
	}
	m := mrlms.New(cfg.Model, rand.New(rand.NewPCG(cfg.AC.Seed, 0x7105)))
	start := time.Now()
	res, err := actorcritic.Train(ctx, cfg.AC, func() rl.Env[cpn.Obs] { return cpn.NewEnv(net) }, Agent(m), logger)
	return m, Result{Result: res, Elapsed: time.Since(start)}, err
}

// ModelDecider decides with the model's deterministic action (the most
// probable node, the mean split).
func ModelDecider(m *mrlms.Model) Decider {
	return func(e *cpn.Env) (rl.Action, error) {
		node, ratios := m.Decision(e.Obs())
		return rl.Action{Index: node, Values: append([]float32(nil), ratios...)}, nil
	}
}

// Agent wires m for rl/actorcritic: its critic, the node actor and the path
// actor conditioned on the chosen node, combined into one DiscreteSimplex
// action.
func Agent(m *mrlms.Model) actorcritic.Agent[cpn.Obs] {
	return actorcritic.Agent[cpn.Obs]{Critic: m.Critic, Actors: []actorcritic.Actor[cpn.Obs]{m.Node, m.Path}, Combine: mrlms.Combine}
}
