package deepsets

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/actorcritic"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/pg"
	"github.com/cpntrain/cpntrain/rl/ppo"
)

type items = testenv.Items

func placementCfg() Config {
	c := DefaultConfig(2, 1, 6)
	c.Dim = 32
	return c
}

const evalEpisodes = 250

// evalRatio is the greedy mean return of p on 250 fresh episodes (seeds
// 10^6 + i) over the optimum (4 per episode).
func evalRatio(t *testing.T, p rl.Policy[items]) float64 {
	t.Helper()
	env := testenv.NewPlacement()
	ev, err := rl.Evaluate(rl.Env[items](env), p, evalEpisodes, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return ev.MeanReturn() / env.Optimal()
}

func newPlacement() rl.Env[items] { return testenv.NewPlacement() }

// TestReferencePolicies measures what a trivial policy scores on the
// evaluation episodes, the floor the learning bar (95 %) sits above: the
// exact rule −(l+s)/c scores 100 %, a uniformly random server about 50 %,
// the fastest server (c) and the least-loaded server (−l) well below 95 %.
func TestReferencePolicies(t *testing.T) {
	exact := evalRatio(t, testenv.Heuristic(func(l, c, s float32) float32 { return -(l + s) / c }))
	fastest := evalRatio(t, testenv.Heuristic(func(l, c, s float32) float32 { return c }))
	idle := evalRatio(t, testenv.Heuristic(func(l, c, s float32) float32 { return -l }))
	rng := rand.New(rand.NewPCG(1, 2))
	random := evalRatio(t, rl.PolicyFunc[items](func(o items) (rl.Action, error) { return rl.Action{Index: rng.IntN(o.N)}, nil }))
	t.Logf("exact %.3f, fastest %.3f, least loaded %.3f, random %.3f", exact, fastest, idle, random)
	if exact != 1 {
		t.Errorf("the exact rule scores %.4f of the optimum, want 1", exact)
	}
	for name, r := range map[string]float64{"fastest": fastest, "least loaded": idle, "random": random} {
		if r >= 0.95 {
			t.Errorf("%s scores %.3f ≥ the learning bar 0.95: the bar says nothing", name, r)
		}
	}
}

// TestTrainersLearnPlacement: the same DeepSets model, untouched by any
// trainer-specific code, is trained by PPO, actor-critic and REINFORCE (as
// an agent.Agent) and by DQN (as an agent.QFunction) on the set
// environment, each reaching ≥ 95 % of the optimum greedily.
func TestTrainersLearnPlacement(t *testing.T) {
	cfg := placementCfg()
	run := map[string]func(seed uint64) rl.Policy[items]{
		"ppo": func(seed uint64) rl.Policy[items] {
			ag := NewAgent[items](cfg, rand.New(rand.NewPCG(seed, 1)))
			c := ppo.DefaultConfig()
			c.Seed, c.TotalTimesteps, c.NumEnvs, c.NumSteps = seed, 60000, 8, 64
			c.LearningRate, c.Gamma, c.EntCoef = 1e-3, 0, 0.001
			if _, err := ppo.Train(context.Background(), c, newPlacement, ag, nil); err != nil {
				t.Fatal(err)
			}
			return agent.Greedy(ag)
		},
		"ac": func(seed uint64) rl.Policy[items] {
			ag := NewAgent[items](cfg, rand.New(rand.NewPCG(seed, 1)))
			c := actorcritic.DefaultConfig()
			c.Seed, c.TotalTimesteps, c.NumEnvs, c.NSteps, c.Gamma = seed, 60000, 8, 4, 0
			c.NormAdv = true
			if _, err := actorcritic.Train(context.Background(), c, newPlacement, ag, nil); err != nil {
				t.Fatal(err)
			}
			return agent.Greedy(ag)
		},
		"pg": func(seed uint64) rl.Policy[items] {
			ag := NewAgent[items](cfg, rand.New(rand.NewPCG(seed, 1)))
			c := pg.DefaultConfig()
			c.Seed, c.TotalTimesteps, c.Gamma, c.NormAdv = seed, 60000, 0, true
			if _, err := pg.Train(context.Background(), c, newPlacement, ag, nil, nil); err != nil {
				t.Fatal(err)
			}
			return agent.Greedy(ag)
		},
		"dqn": func(seed uint64) rl.Policy[items] {
			c := dqn.DefaultConfig()
			c.Seed, c.TotalTimesteps, c.Gamma = seed, 30000, 0
			c.LearningRate, c.BufferSize, c.TargetNetworkFrequency = 1e-3, 10000, 100
			c.BatchSize, c.LearningStarts, c.TrainFrequency, c.ExplorationFraction = 64, 1000, 2, 0.3
			res, err := dqn.Train(context.Background(), c, newPlacement, QBuilder[items](cfg), nil)
			if err != nil {
				t.Fatal(err)
			}
			return agent.GreedyQ(res.Q)
		},
	}
	for _, name := range []string{"ppo", "ac", "pg", "dqn"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := evalRatio(t, run[name](1))
			t.Logf("%s: %.3f of the optimum", name, r)
			if r < 0.95 {
				t.Errorf("%s reaches %.3f of the optimum, want ≥ 0.95", name, r)
			}
		})
	}
}
