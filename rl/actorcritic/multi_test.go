package actorcritic

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// armSplit is a one-step two-part environment, a miniature of RLMS-CPN's
// node selection plus path split: in context c (one-hot of 2) the agent
// picks an arm (Index, paying armMeans[c][arm]) AND a 2-way split (Values,
// costing 2·|x₀ − target[c]|); the reward sums both parts.
type armSplit struct {
	rng  *rand.Rand
	ctx  int
	done bool
}

var (
	armMeans    = [][]float64{{0.2, 1.0, 0.5}, {0.9, 0.1, 0.3}}
	splitTarget = []float64{0.8, 0.3}
)

func (e *armSplit) obs() testenv.Vec {
	v := testenv.Vec{X: make([]float32, 2)}
	v.X[e.ctx] = 1
	return v
}

func (e *armSplit) Reset(seed uint64) (testenv.Vec, error) {
	e.rng = rand.New(rand.NewPCG(seed, 3))
	e.ctx, e.done = e.rng.IntN(2), false
	return e.obs(), nil
}

func (e *armSplit) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	if e.rng == nil || e.done {
		return rl.Step[testenv.Vec]{}, rl.ErrEpisodeOver
	}
	if a.Index < 0 || a.Index >= 3 {
		return rl.Step[testenv.Vec]{}, rl.ErrInvalidAction
	}
	if err := rl.CheckAction(e.ActionSpace(), a, nil); err != nil {
		return rl.Step[testenv.Vec]{}, err
	}
	e.done = true
	r := armMeans[e.ctx][a.Index] - 2*math.Abs(float64(a.Values[0])-splitTarget[e.ctx])
	return rl.Step[testenv.Vec]{Obs: e.obs(), Reward: r, Terminated: true}, nil
}

// ActionSpace describes the split part; the arm is in Index.
func (e *armSplit) ActionSpace() rl.Space { return rl.Space{Kind: rl.Simplex, N: 2} }

// newTwoActors returns an agent with a discrete arm actor and a Dirichlet
// split actor sharing the critic of the first.
func newTwoActors(seed uint64) Agent[testenv.Vec] {
	rng := rand.New(rand.NewPCG(seed, 9))
	arm := policy.New[testenv.Vec](2, rl.Space{Kind: rl.Discrete, N: 3}, policy.DefaultConfig(), rng)
	split := policy.New[testenv.Vec](2, rl.Space{Kind: rl.Simplex, N: 2}, policy.DefaultConfig(), rng)
	return Agent[testenv.Vec]{
		Critic: PolicyCritic[testenv.Vec]{arm},
		Actors: []Actor[testenv.Vec]{PolicyActor[testenv.Vec]{arm}, PolicyActor[testenv.Vec]{split}},
		Combine: func(parts []rl.Action) rl.Action {
			return rl.Action{Index: parts[0].Index, Values: parts[1].Values}
		},
	}
}

// TestTwoActorsOneCritic: both the arm actor and the split actor learn
// from the shared critic's TD error.
func TestTwoActorsOneCritic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NSteps, cfg.TotalTimesteps, cfg.EntCoef = 1, 30000, 0
	cfg.LearningRateActor, cfg.LearningRateCritic = 3e-3, 3e-3
	agent := newTwoActors(1)
	newEnv := func() rl.Env[testenv.Vec] { return &armSplit{} }
	if _, err := Train(context.Background(), cfg, newEnv, agent, nil); err != nil {
		t.Fatal(err)
	}
	inf := nn.NewInference()
	for c := 0; c < 2; c++ {
		o := testenv.Vec{X: make([]float32, 2)}
		o.X[c] = 1
		inf.Reset()
		arm := agent.Actors[0].Mode(inf, []testenv.Vec{o})[0].Index
		x := agent.Actors[1].Mode(inf, []testenv.Vec{o})[0].Values[0]
		t.Logf("context %d: arm %d, split x0 %.3f (target %.2f)", c, arm, x, splitTarget[c])
		best := 0
		for j, m := range armMeans[c] {
			if m > armMeans[c][best] {
				best = j
			}
		}
		if arm != best {
			t.Errorf("context %d: arm %d, want %d", c, arm, best)
		}
		if d := math.Abs(float64(x) - splitTarget[c]); d > 0.05 {
			t.Errorf("context %d: split x0 %.3f, want %.2f ± 0.05", c, x, splitTarget[c])
		}
	}
	rets, _ := Evaluate(agent, &armSplit{}, 1000, 1, nil)
	opt := (1.0 + 0.9) / 2
	t.Logf("two actors: mode-policy return %.4f, optimum %.4f", mean(rets), opt)
	if got := mean(rets); got < opt-0.01*opt-0.1 {
		t.Errorf("two actors: return %.4f far below optimum %.4f", got, opt)
	}
}

// TestDeterministic: the same seed gives bit-identical parameters.
func TestDeterministic(t *testing.T) {
	run := func() []float32 {
		cfg := DefaultConfig()
		cfg.TotalTimesteps, cfg.Seed = 2000, 5
		agent := newTwoActors(5)
		if _, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return &armSplit{} }, agent, nil); err != nil {
			t.Fatal(err)
		}
		var ps []float32
		for _, p := range nn.Collect(agent) {
			ps = append(ps, p.Param.V.Data...)
		}
		return ps
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d differs: %v vs %v", i, a[i], b[i])
		}
	}
}

// TestMetrics: the logger sees CleanRL's metric names.
func TestMetrics(t *testing.T) {
	seen := map[string]bool{}
	cfg := DefaultConfig()
	cfg.TotalTimesteps = 2000
	train(t, cfg, func() rl.Env[testenv.Vec] { return testenv.NewChain() }, func(_ int64, m map[string]float64) {
		for k := range m {
			seen[k] = true
		}
	})
	for _, k := range []string{"charts/episodic_return", "charts/episodic_length", "losses/value_loss", "losses/policy_loss", "losses/entropy", "charts/SPS"} {
		if !seen[k] {
			t.Errorf("metric %s never logged", k)
		}
	}
}
