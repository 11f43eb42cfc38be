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

// DefaultConfig returns the settings used for the benchmark: SyncGNN of
// width 32, a logistic-normal split (softmax of the path logits plus
// learned Gaussian noise), a subset actor between the node and path
// actors (which paths carry data; mrlms.Config.Subsets), the prior (the
// actors start at the wf baseline's decision and learn corrections;
// mrlms.Config.Prior), one critic and two actors trained with the
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
	m := mrlms.DefaultConfig()
	m.K, m.P = k, p
	m.Dim, m.Hidden, m.Split, m.Prior, m.Subsets = 32, 32, mrlms.SplitLogisticNormal, true, true
	ac := actorcritic.DefaultConfig()
	ac.TotalTimesteps = 300000
	ac.NumEnvs, ac.NSteps = 16, 5
	ac.LearningRateActor, ac.LearningRateCritic = 3e-3, 3e-3
	ac.Gamma, ac.EntCoef, ac.MaxGradNorm = 0, 0, 0.5
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
	res, err := actorcritic.Train(ctx, cfg.AC, func() rl.Env[cpn.Obs] { return cpn.NewEnv(net) }, m.Agent(), logger)
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
