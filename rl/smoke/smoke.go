// Package smoke runs any trainer of package rl on any known-answer
// environment of rl/envs/testenv and summarises the learning curve: the
// runner behind `cpntrain rl smoke`.
package smoke

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/actorcritic"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/pg"
	"github.com/cpntrain/cpntrain/rl/policy"
	"github.com/cpntrain/cpntrain/rl/ppo"
)

// Logger receives per-update metrics under CleanRL's names.
type Logger func(step int64, metrics map[string]float64)

// Options selects the run.
type Options struct {
	Algo, Env string
	// Steps is the training budget in environment steps (0: the
	// algorithm's default for the environment).
	Steps int64
	Seed  uint64
	// EvalEpisodes is the number of greedy evaluation episodes (default 20).
	EvalEpisodes int
	// Checkpoint makes the run resumable (the trainer's
	// Config.Checkpoint): a checkpoint every Checkpoint.Every updates
	// (ppo: iterations; dqn: 1,000 environment steps; 0: none) and one when
	// ctx ends; BeforeCheckpoint is called before each.
	Checkpoint rl.Checkpointing
}

// Budget is the number of environment steps the run trains for: Steps, or
// the algorithm's default for the environment.
func (o Options) Budget() int64 {
	if o.Steps != 0 {
		return o.Steps
	}
	return defaultSteps[o.Algo][o.Env]
}

// Report summarises a run.
type Report struct {
	Algo, Env string
	Steps     int64
	SPS       float64
	// Curve holds the mean training return in each fifth of training.
	Curve [5]float64
	// Eval is the mean return of greedy evaluation episodes; Optimal the
	// environment's optimal return; Ratio their ratio (for negative
	// returns, optimal/eval, so 1 is optimal either way).
	Eval, Optimal, Ratio float64
}

// Algos and Envs list the accepted names.
var (
	Algos = []string{"ppo", "dqn", "ac", "pg"}
	Envs  = []string{"cartpole", "bandit", "chain", "split"}
)

type optimal interface{ Optimal() float64 }

func newEnv(name string) (func() rl.Env[testenv.Vec], float64, error) {
	var mk func() rl.Env[testenv.Vec]
	switch name {
	case "cartpole":
		mk = func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
	case "bandit":
		mk = func() rl.Env[testenv.Vec] { return testenv.NewBandit() }
	case "chain":
		mk = func() rl.Env[testenv.Vec] { return testenv.NewChain() }
	case "split":
		mk = func() rl.Env[testenv.Vec] { return testenv.NewSplit() }
	default:
		return nil, 0, fmt.Errorf("smoke: unknown environment %q (want %s)", name, strings.Join(Envs, ", "))
	}
	return mk, mk().(optimal).Optimal(), nil
}

// defaultSteps are budgets that reach the optimum on these environments.
var defaultSteps = map[string]map[string]int64{
	"ppo": {"cartpole": 500000, "bandit": 20000, "chain": 100000, "split": 1000000},
	"dqn": {"cartpole": 500000, "bandit": 20000, "chain": 20000},
	"ac":  {"cartpole": 500000, "bandit": 20000, "chain": 100000, "split": 2000000},
	"pg":  {"cartpole": 500000, "bandit": 20000, "chain": 100000, "split": 2000000},
}

// Run trains and evaluates.
func Run(ctx context.Context, o Options, log Logger) (Report, error) {
	mk, opt, err := newEnv(o.Env)
	if err != nil {
		return Report{}, err
	}
	if o.EvalEpisodes <= 0 {
		o.EvalEpisodes = 20
		if o.Env == "bandit" || o.Env == "split" { // one-step episodes: average out the draws
			o.EvalEpisodes = 5000
		}
	}
	steps := o.Budget()
	rep := Report{Algo: o.Algo, Env: o.Env, Optimal: opt}
	space := mk().ActionSpace()
	var pol rl.Policy[testenv.Vec]
	var returns []float64
	switch o.Algo {
	case "dqn":
		if space.Kind != rl.Discrete {
			return rep, fmt.Errorf("smoke: dqn needs discrete actions; %s has %s actions", o.Env, space.Kind)
		}
		cfg := dqn.DefaultConfig()
		q := policy.MLPQ[testenv.Vec](120, 84) // CleanRL's CartPole network
		if o.Env != "cartpole" {               // the small-task settings of rl/dqn's tests
			cfg.LearningRate, cfg.BufferSize, cfg.TargetNetworkFrequency = 1e-3, 5000, 100
			cfg.BatchSize, cfg.LearningStarts, cfg.TrainFrequency = 32, 500, 2
			q = policy.MLPQ[testenv.Vec](32, 32)
		}
		cfg.Seed, cfg.TotalTimesteps = o.Seed, steps
		cfg.Checkpoint = o.Checkpoint
		cfg.Checkpoint.Every *= 1000
		res, err := dqn.Train(ctx, cfg, mk, q, log)
		if err != nil {
			return rep, err
		}
		rep.Steps, rep.SPS = res.Steps, res.SPS
		for _, e := range res.Episodes {
			returns = append(returns, e.Return)
		}
		pol = agent.GreedyQ(res.Q)
	case "ppo":
		obs, _ := mk().Reset(0)
		ac := policy.New[testenv.Vec](len(obs.X), space, policy.DefaultConfig(), rand.New(rand.NewPCG(o.Seed, 0x90)))
		cfg := ppo.DefaultConfig()
		if o.Env == "split" { // the settings of rl/ppo's split test
			cfg.NumEnvs, cfg.NumSteps, cfg.UpdateEpochs, cfg.LearningRate, cfg.EntCoef = 16, 16, 10, 1e-2, 0
		}
		cfg.Seed, cfg.TotalTimesteps = o.Seed, steps
		cfg.Checkpoint = o.Checkpoint
		res, err := ppo.Train(ctx, cfg, mk, policy.Agent(ac), ppo.Logger(log))
		if err != nil {
			return rep, err
		}
		rep.Steps, rep.SPS = res.GlobalStep, res.SPS
		returns = res.EpisodicReturns
		pol = agent.Greedy(policy.Agent(ac))
	case "ac", "pg":
		obs, _ := mk().Reset(0)
		ag := policy.Agent(policy.New[testenv.Vec](len(obs.X), space, policy.DefaultConfig(), rand.New(rand.NewPCG(o.Seed, 0x90))))
		if o.Algo == "ac" {
			cfg := actorcritic.DefaultConfig()
			if o.Env == "split" { // no entropy bonus, annealed LR, normalised TD errors: the split must sharpen
				cfg.EntCoef, cfg.AnnealLR, cfg.LearningRateActor, cfg.NumEnvs, cfg.NSteps = 0, true, 3e-3, 16, 1
				cfg.MaxGradNorm, cfg.NormAdv = 0.5, true
			}
			cfg.Seed, cfg.TotalTimesteps = o.Seed, steps
			cfg.Checkpoint = o.Checkpoint
			res, err := actorcritic.Train(ctx, cfg, mk, ag, actorcritic.Logger(log))
			if err != nil {
				return rep, err
			}
			rep.Steps, rep.SPS, returns = res.Steps, res.SPS, res.EpisodicReturns
		} else {
			cfg := pg.DefaultConfig()
			if o.Env == "split" {
				cfg.EntCoef, cfg.AnnealLR = 0, true
			}
			cfg.Seed, cfg.TotalTimesteps = o.Seed, steps
			cfg.Checkpoint = o.Checkpoint
			res, err := pg.Train(ctx, cfg, mk, ag, nil, pg.Logger(log))
			if err != nil {
				return rep, err
			}
			rep.Steps, rep.SPS, returns = res.Steps, res.SPS, res.EpisodicReturns
		}
		pol = agent.Greedy(ag)
	default:
		return rep, fmt.Errorf("smoke: unknown algorithm %q (want %s)", o.Algo, strings.Join(Algos, ", "))
	}
	for q := 0; q < 5; q++ {
		lo, hi := q*len(returns)/5, (q+1)*len(returns)/5
		var s float64
		for _, r := range returns[lo:hi] {
			s += r
		}
		if hi > lo {
			rep.Curve[q] = s / float64(hi-lo)
		}
	}
	// Greedy evaluation on fresh episodes (seeds 1 000 000 + i), through
	// the project's one evaluation loop.
	ev, err := rl.Evaluate(mk(), pol, o.EvalEpisodes, 1_000_000)
	if err != nil {
		return rep, err
	}
	rep.Eval = ev.MeanReturn()
	if best, ok := ev.Info["optimal_reward"]; ok { // the optimum of the very episodes evaluated
		var sum float64
		for _, v := range best {
			sum += v
		}
		rep.Optimal = sum / float64(o.EvalEpisodes)
		opt = rep.Optimal
	}
	if opt < 0 {
		rep.Ratio = opt / rep.Eval
	} else {
		rep.Ratio = rep.Eval / opt
	}
	return rep, nil
}

// Print writes the report.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%s on %s: %d steps, %.0f steps/s (updates included)\n", r.Algo, r.Env, r.Steps, r.SPS)
	fmt.Fprintf(w, "mean training return by fifth of training: ")
	for i, c := range r.Curve {
		if i > 0 {
			fmt.Fprint(w, " → ")
		}
		fmt.Fprintf(w, "%.3f", c)
	}
	fmt.Fprintf(w, "\ngreedy evaluation: %.4f (optimal %.4f, %.2f %% of optimal)\n", r.Eval, r.Optimal, 100*r.Ratio)
}
