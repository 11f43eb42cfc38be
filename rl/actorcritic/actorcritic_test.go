package actorcritic

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

type optimal interface{ Optimal() float64 }

// train builds a 64-64 tanh policy from seed, trains it with cfg and
// returns the agent.
func train(t *testing.T, cfg Config, newEnv func() rl.Env[testenv.Vec], logger Logger) (Agent[testenv.Vec], Result) {
	t.Helper()
	env := newEnv()
	o, _ := env.Reset(0)
	p := policy.New[testenv.Vec](len(o.Features()), env.ActionSpace(), policy.DefaultConfig(), rand.New(rand.NewPCG(cfg.Seed, 7)))
	agent := PolicyAgent(p)
	res, err := Train(context.Background(), cfg, newEnv, agent, logger)
	if err != nil {
		t.Fatal(err)
	}
	return agent, res
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// check trains on seeds 1–3 and requires the mode policy (greedy index,
// Dirichlet mean) to reach the bar opt − frac·|opt|. It first checks that
// the same policy untrained (frozen) stays below the bar, so that the bar
// measures learning. Trivial policies and why the bars are above them:
//
//   - bandit (optimum (0.9+0.8+1.0)/3 = 0.9, bar 0.891): uniform over the 3
//     allowed arms scores (1.3+1.1+1.5)/9 ≈ 0.433, the best context-blind
//     arm (0.9+0.2+0.3)/3 ≈ 0.467; a wrong arm in one context costs at
//     least 0.6/3 = 0.2, so only the best arm in all three passes (the
//     untrained seeds 1–3 score 0.45, 0.64, 0.64).
//   - chain (optimum 1, bar 0.99): only moving right in all 9 states
//     reaches the goal; a deterministic policy with one left move
//     oscillates and collects at most 30·0.001 = 0.03 of lures (untrained:
//     0.015–0.03).
//   - split (optimum ≈ −0.629, bar −0.654): the uniform split 1/3 of the
//     untrained Dirichlet scores ≈ −0.845, 34 % worse.
func check(t *testing.T, name string, cfg Config, newEnv func() rl.Env[testenv.Vec], episodes int, frac float64) {
	for _, seed := range []uint64{1, 2, 3} {
		cfg.Seed = seed
		frozenBelowBar(t, name, seed, newEnv, episodes, frac)
		agent, res := train(t, cfg, newEnv, nil)
		env := newEnv()
		rets, err := Evaluate(agent, env, episodes, 1000, nil)
		if err != nil {
			t.Fatal(err)
		}
		opt := env.(optimal).Optimal()
		got := mean(rets)
		sampled, err := Evaluate(agent, env, episodes, 1000, rand.New(rand.NewPCG(seed, 99)))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s seed %d: mode-policy return %.4f (sampled %.4f), optimum %.4f (%d steps, %.0f SPS)", name, seed, got, mean(sampled), opt, res.Steps, res.SPS)
		if got < opt-frac*math.Abs(opt) {
			t.Errorf("%s seed %d: return %.4f < optimum %.4f − %.2f·|optimum|", name, seed, got, opt, frac)
		}
	}
}

// frozenBelowBar evaluates the untrained policy train would start from and
// fails if it already reaches the bar opt − frac·|opt|.
func frozenBelowBar(t *testing.T, name string, seed uint64, newEnv func() rl.Env[testenv.Vec], episodes int, frac float64) {
	t.Helper()
	env := newEnv()
	o, _ := env.Reset(0)
	p := policy.New[testenv.Vec](len(o.Features()), env.ActionSpace(), policy.DefaultConfig(), rand.New(rand.NewPCG(seed, 7)))
	rets, err := Evaluate(PolicyAgent(p), env, episodes, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := env.(optimal).Optimal()
	if bar := opt - frac*math.Abs(opt); mean(rets) >= bar {
		t.Errorf("%s seed %d: the untrained policy already scores %.4f ≥ bar %.4f", name, seed, mean(rets), bar)
	}
}

func TestBandit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NSteps, cfg.TotalTimesteps = 1, 8000
	check(t, "bandit", cfg, func() rl.Env[testenv.Vec] { return testenv.NewBandit() }, 3000, 0.01)
}

func TestChain(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TotalTimesteps = 20000
	check(t, "chain", cfg, func() rl.Env[testenv.Vec] { return testenv.NewChain() }, 5, 0.01)
}

// TestSplit trains the Dirichlet head with rl smoke's split settings
// (one-step TD, 16 envs, normalised TD errors, clipped gradients, annealed
// LR) on a unit-test budget and evaluates the mean split α/α₀. The 99 %
// bar is met with the full 2M-step budget of `cpntrain rl smoke --algo ac
// --env split` (99.09–99.12 % on seeds 1–5, see TestSmokeBars); here 300k
// steps must reach 96 % (they give 97.1 %).
func TestSplit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NSteps, cfg.NumEnvs, cfg.TotalTimesteps, cfg.EntCoef = 1, 16, 300000, 0
	cfg.LearningRateActor, cfg.MaxGradNorm, cfg.NormAdv, cfg.AnnealLR = 3e-3, 0.5, true, true
	check(t, "split", cfg, func() rl.Env[testenv.Vec] { return testenv.NewSplit() }, 1000, 0.04)
}
