// Package mecrun holds the offloading experiments (patent 004): training
// the DQN of models/mecdqn on rl/envs/mec and scoring it, with the
// baselines, against the exact optimum.
package mecrun

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cpntrain/cpntrain/models/mecdqn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// Config is one training run.
type Config struct {
	Env   mec.Config
	Model mecdqn.Config
	DQN   dqn.Config
}

// DefaultConfig trains on task sets of d devices: Adam 1e-3, γ = 1 (an
// episode's return is minus the set's cost: nothing to discount), a
// replay of 20,000 decisions, batch 64, a hard target update every 500
// steps, double DQN, Huber loss, exploration from 1 to 0.05 over half the
// run (the patent's β-greedy with β = 1 − ε rising), 1,000 random steps
// first; rewards scaled by 0.005 (penalised costs span orders of
// magnitude: at D = 10 and 60,000 steps the scale took the DQN from 7.4×
// the optimum's cost at 1 to 1.38× at 0.1, 1.28× at 0.02, 1.25× at
// 0.005; docs/results/offload/baselines.md).
func DefaultConfig(d int) Config {
	c := dqn.DefaultConfig()
	c.TotalTimesteps, c.LearningRate, c.Gamma = 100000, 1e-3, 1
	c.BufferSize, c.BatchSize, c.TargetNetworkFrequency, c.Tau = 20000, 64, 500, 1
	c.StartE, c.EndE, c.ExplorationFraction, c.LearningStarts, c.TrainFrequency = 1, 0.05, 0.5, 1000, 1
	c.DoubleDQN, c.Loss = true, dqn.Huber
	env := mec.DefaultConfig(d)
	env.RewardScale = 0.005
	return Config{Env: env, Model: mecdqn.DefaultConfig(), DQN: c}
}

// Train trains a Q-network; training task sets come from the environment's
// seeds (rl/dqn's episode seeds), never from TestSeed0 on.
func Train(ctx context.Context, cfg Config, logger func(step int64, m map[string]float64)) (dqn.Result[mec.Obs], error) {
	if err := cfg.Env.Validate(); err != nil {
		return dqn.Result[mec.Obs]{}, err
	}
	newEnv := func() rl.Env[mec.Obs] {
		e, _ := mec.NewEnv(cfg.Env) // validated above
		return e
	}
	return dqn.Train(ctx, cfg.DQN, newEnv, mecdqn.Builder(cfg.Model), logger)
}

// TestSeed0 is the first held-out task set.
const TestSeed0 = 1_000_000

// Score is a method's result on one task set.
type Score struct {
	Method string
	// Cost is the total cost; Normalised its ratio to the reference
	// (the exact optimum, or the best known beyond MaxExactDevices).
	Cost, Normalised float64
	// Offloaded tasks; Decision is the time to decide the whole set.
	Offloaded int
	Decision  time.Duration
}

// Policy plays the DQN's greedy ordering on set seed: at each step the
// allowed (task, strategy) of largest Q-value.
func Policy(q agent.QFunction[mec.Obs]) func(env *mec.Env, seed uint64) (mec.Solution, error) {
	p := agent.GreedyQ(q)
	return func(env *mec.Env, seed uint64) (mec.Solution, error) {
		o, err := env.Reset(seed)
		if err != nil {
			return mec.Solution{}, err
		}
		for {
			a, err := p.Decide(o)
			if err != nil {
				return mec.Solution{}, err
			}
			s, err := env.Step(a)
			if err != nil {
				return mec.Solution{}, err
			}
			o = s.Obs
			if s.Terminated {
				break
			}
		}
		v := make([]bool, len(o.Decision))
		for n, d := range o.Decision {
			v[n] = d == mec.Offloaded
		}
		c, _ := o.Set.Evaluate(v)
		return mec.Solution{Offload: v, Cost: c}, nil
	}
}

// Evaluate scores the DQN (when q is not nil) and every baseline on the
// held-out sets TestSeed0 … TestSeed0+sets−1 of cfg.
func Evaluate(cfg mec.Config, q agent.QFunction[mec.Obs], sets int) ([][]Score, error) {
	env, err := mec.NewEnv(cfg)
	if err != nil {
		return nil, err
	}
	var play func(*mec.Env, uint64) (mec.Solution, error)
	if q != nil {
		play = Policy(q)
	}
	var all [][]Score
	for i := range sets {
		seed := uint64(TestSeed0 + i)
		s, err := mec.NewSet(cfg, seed)
		if err != nil {
			return nil, err
		}
		var scores []Score
		add := func(name string, f func() (mec.Solution, error)) error {
			start := time.Now()
			sol, err := f()
			if err != nil {
				return fmt.Errorf("%s on set %d: %w", name, seed, err)
			}
			n := 0
			for _, o := range sol.Offload {
				if o {
					n++
				}
			}
			scores = append(scores, Score{Method: name, Cost: sol.Cost, Offloaded: n, Decision: time.Since(start)})
			return nil
		}
		ref := "optimum"
		if cfg.Devices > mec.MaxExactDevices {
			ref = "best known"
		}
		steps := []struct {
			name string
			f    func() (mec.Solution, error)
		}{
			{ref, func() (mec.Solution, error) {
				if cfg.Devices > mec.MaxExactDevices {
					return s.CoordinateDescent(20, seed), nil
				}
				return s.Exact()
			}},
			{"greedy", func() (mec.Solution, error) { return s.Greedy(), nil }},
			{"all local", func() (mec.Solution, error) { return s.AllLocal(), nil }},
			{"all offload", func() (mec.Solution, error) { return s.AllOffload(), nil }},
			{"random", func() (mec.Solution, error) { return s.Random(seed), nil }},
		}
		if play != nil {
			steps = append(steps, struct {
				name string
				f    func() (mec.Solution, error)
			}{"dqn", func() (mec.Solution, error) { return play(env, seed) }})
		}
		for _, st := range steps {
			if err := add(st.name, st.f); err != nil {
				return nil, err
			}
		}
		for k := range scores {
			scores[k].Normalised = scores[k].Cost / scores[0].Cost
		}
		all = append(all, scores)
	}
	return all, nil
}

// BenchConfig is `cpntrain offload bench`.
type BenchConfig struct {
	// Devices lists the set sizes D; Sets the held-out sets per size.
	Devices []int
	Sets    int
	// DQNSteps trains a DQN per size for that many steps (0: none).
	DQNSteps int64
	Seed     uint64
}

// Row is one method at one set size: the mean and spread over the sets.
type Row struct {
	Devices                int
	Method                 string
	NormMean, NormMax      float64
	Offloaded              float64
	DecisionMean, TrainSec float64
}

// Bench scores every method at every size.
func Bench(ctx context.Context, bc BenchConfig, log func(string)) ([]Row, error) {
	var rows []Row
	for _, d := range bc.Devices {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		cfg := DefaultConfig(d)
		var q agent.QFunction[mec.Obs]
		var trainSec float64
		if bc.DQNSteps > 0 {
			cfg.DQN.TotalTimesteps, cfg.DQN.Seed = bc.DQNSteps, bc.Seed
			start := time.Now()
			res, err := Train(ctx, cfg, nil)
			if err != nil {
				return rows, err
			}
			q, trainSec = res.Q, time.Since(start).Seconds()
		}
		scores, err := Evaluate(cfg.Env, q, bc.Sets)
		if err != nil {
			return rows, err
		}
		for k := range scores[0] {
			r := Row{Devices: d, Method: scores[0][k].Method}
			if r.Method == "dqn" {
				r.TrainSec = trainSec
			}
			for _, s := range scores {
				r.NormMean += s[k].Normalised / float64(len(scores))
				r.NormMax = max(r.NormMax, s[k].Normalised)
				r.Offloaded += float64(s[k].Offloaded) / float64(len(scores))
				r.DecisionMean += s[k].Decision.Seconds() / float64(len(scores))
			}
			rows = append(rows, r)
		}
		if log != nil {
			log(fmt.Sprintf("D = %d done", d))
		}
	}
	return rows, nil
}

// WriteMarkdown prints the rows as one table.
func WriteMarkdown(w io.Writer, rows []Row, sets int) {
	fmt.Fprintf(w, "Normalised cost (the reference = 1: the exact optimum up to %d devices, coordinate descent with 20 restarts beyond), mean and worst over %d held-out task sets per size; decision time for the whole set.\n\n", mec.MaxExactDevices, sets)
	fmt.Fprintln(w, "| D | method | normalised cost (mean) | worst | tasks offloaded | decision time | training (s) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		train := "–"
		if r.TrainSec > 0 {
			train = fmt.Sprintf("%.0f", r.TrainSec)
		}
		fmt.Fprintf(w, "| %d | %s | %.4f | %.4f | %.1f | %s | %s |\n", r.Devices, r.Method, r.NormMean, r.NormMax, r.Offloaded,
			time.Duration(r.DecisionMean*1e9).Round(time.Microsecond), train)
	}
}
