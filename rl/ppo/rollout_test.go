package ppo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// timerEnv is a two-step episode (length 2, or 1 when length is 1): reset
// gives s0, the first step s1, the second step ends the episode with final
// observation s2 (one-hot features). Every step pays reward. The end is a
// truncation, a termination or both. It records the seeds it is reset with.
type timerEnv struct {
	reward          float64
	trunc, term     bool
	length          int
	k               int
	seeds           []uint64
	afterEnd, steps int
}

func (e *timerEnv) len() int {
	if e.length == 0 {
		return 2
	}
	return e.length
}

var timerObs = []testenv.Vec{{X: []float32{1, 0, 0}}, {X: []float32{0, 1, 0}}, {X: []float32{0, 0, 1}}}

func (e *timerEnv) Reset(seed uint64) (testenv.Vec, error) {
	e.seeds = append(e.seeds, seed)
	e.k = 0
	return timerObs[0], nil
}

func (e *timerEnv) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	if e.k >= e.len() {
		e.afterEnd++
		return rl.Step[testenv.Vec]{}, rl.ErrEpisodeOver
	}
	e.k++
	e.steps++
	s := rl.Step[testenv.Vec]{Obs: timerObs[e.k], Reward: e.reward}
	if e.k == e.len() {
		s.Truncated, s.Terminated = e.trunc, e.term
	}
	return s, nil
}

func (e *timerEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2} }

// TestTruncationBootstrap runs one PPO iteration (2 environments × 4 steps,
// 1 minibatch, 1 epoch) on timerEnv with a linear critic fixed to
// V(s0) = 1, V(s1) = 2, V(s2) = 4 and reads the value loss of the first
// (only) minibatch, computed before any parameter update, so it is
// ½·mean((V − R)²) of the rollout's returns R. γ = 0.5, λ = 1; environment
// e pays reward e+1 per step; each env plays two episodes s0 → s1 → end.
//
// Truncated (bootstrap γ·V(s2) = 0.5·4 = 2 added to the last step's reward,
// GAE cut after it):
//
//	env 0: r = 1, 3, 1, 3 → R = 1+0.5·3 = 2.5, 3, 2.5, 3; (V−R)² = 2.25, 1, 2.25, 1 (sum 6.5)
//	env 1: r = 2, 4, 2, 4 → R = 2+0.5·4 = 4, 4, 4, 4;     (V−R)² = 9, 4, 9, 4     (sum 26)
//	value loss = ½·(6.5 + 26)/8 = 2.03125
//
// Terminated, or terminated and truncated (no bootstrap):
//
//	env 0: r = 1, 1, 1, 1 → R = 1.5, 1, 1.5, 1; (V−R)² = 0.25, 1, 0.25, 1 (sum 2.5)
//	env 1: r = 2, 2, 2, 2 → R = 3, 2, 3, 2;     (V−R)² = 4, 0, 4, 0       (sum 8)
//	value loss = ½·(2.5 + 8)/8 = 0.65625
//
// (Bootstrapping from the reset observation s0 instead of s2 would give
// ½·(2·(0.75² + 0.5²) + 2·(2.25² + 0.5²))/8 = 0.765625.)
// The advantages A = R − V are not normalised here (NormAdv off) and the
// ratio of the first minibatch is exactly 1 (the actor is all zeros, so
// log π = ln ½ on both passes), so its policy loss is −mean(A):
//
//	truncated:  A = 1.5, 1, 1.5, 1 and 3, 2, 3, 2 (sum 15):   −15/8 = −1.875
//	terminated: A = 0.5, −1, 0.5, −1 and 2, 0, 2, 0 (sum 3):  −3/8 = −0.375
//
// The episodic returns are the raw rewards (2 for env 0, 4 for env 1, in
// the order the episodes end), never the bootstrapped ones; environment e
// is reset with Seed + e + episodes·NumEnvs.
func TestTruncationBootstrap(t *testing.T) {
	for _, c := range []struct {
		trunc, term bool
		want, pg    float64
	}{
		{trunc: true, want: 2.03125, pg: -1.875},
		{term: true, want: 0.65625, pg: -0.375},
		{trunc: true, term: true, want: 0.65625, pg: -0.375},
	} {
		t.Run(fmt.Sprintf("truncated=%v,terminated=%v", c.trunc, c.term), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Seed = 10
			cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 4, 1, 1
			cfg.TotalTimesteps = 8
			cfg.Gamma, cfg.GAELambda = 0.5, 1
			cfg.NormAdv = false
			pol := policy.New[testenv.Vec](3, rl.Space{Kind: rl.Discrete, N: 2}, policy.Config{Act: nn.Tanh}, rand.New(rand.NewPCG(3, 4)))
			clear(pol.Actor.Layers[0].W.V.Data)
			clear(pol.Actor.Layers[0].B.V.Data)
			copy(pol.Critic.Layers[0].W.V.Data, []float32{1, 2, 4})
			pol.Critic.Layers[0].B.V.Data[0] = 0
			var envs []*timerEnv
			newEnv := func() rl.Env[testenv.Vec] {
				e := &timerEnv{reward: float64(len(envs) + 1), trunc: c.trunc, term: c.term}
				envs = append(envs, e)
				return e
			}
			vl, pg := math.NaN(), math.NaN()
			res, err := Train(context.Background(), cfg, newEnv, policy.Agent(pol), func(_ int64, m map[string]float64) {
				if v, ok := m["losses/value_loss"]; ok {
					vl, pg = v, m["losses/policy_loss"]
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(vl-c.want) > 1e-6 {
				t.Errorf("value loss of the first minibatch %v, want %v", vl, c.want)
			}
			if math.Abs(pg-c.pg) > 1e-6 {
				t.Errorf("policy loss of the first minibatch %v, want %v", pg, c.pg)
			}
			if res.GlobalStep != 8 || res.Iterations != 1 {
				t.Errorf("global step %d, iterations %d; want 8 and 1", res.GlobalStep, res.Iterations)
			}
			if want := []float64{2, 4, 2, 4}; !slices.Equal(res.EpisodicReturns, want) {
				t.Errorf("episodic returns %v, want %v", res.EpisodicReturns, want)
			}
			if want := []int{2, 2, 2, 2}; !slices.Equal(res.EpisodicLengths, want) {
				t.Errorf("episodic lengths %v, want %v", res.EpisodicLengths, want)
			}
			for e, env := range envs {
				// Seed + e, then + NumEnvs per finished episode: 10, 12, 14 and 11, 13, 15.
				if want := []uint64{10 + uint64(e), 12 + uint64(e), 14 + uint64(e)}; !slices.Equal(env.seeds, want) {
					t.Errorf("env %d reset with seeds %v, want %v", e, env.seeds, want)
				}
				if env.steps != 4 || env.afterEnd != 0 {
					t.Errorf("env %d: %d steps, %d after the end; want 4 and 0", e, env.steps, env.afterEnd)
				}
			}
		})
	}
}

// TestUpdateSteps counts the optimizer steps of an update and checks the
// learning-rate annealing through Adam's first-order behaviour: with a
// constant gradient g, every Adam step moves a parameter by exactly
// lr·g/(|g| + ε), i.e. by lr against the sign of g when |g| ≫ ε.
//
// One environment of one-step episodes s0 → (truncated, final obs s1),
// reward 1, γ = 0.5; the linear critic V(x) = w·x + b starts at w = (1, 2,
// 4), b = 0, so every sample of the first iteration has return R = 1 +
// 0.5·V(s1) = 2 and V(s0) − R = −1: every minibatch has the same critic
// gradient, ∂loss/∂b = ∂loss/∂w(s0) = VFCoef·mean(V − R) = −0.5. All
// advantages are equal, so the normalised advantages and the policy
// gradient are 0 and the actor stays uniform. No gradient clipping
// (MaxGradNorm 0). 8 steps, 4 minibatches of 2, 3 epochs: 12 Adam steps per
// iteration; 2 iterations with the learning rate annealed from 1e-3 to
// 1e-3·(1 − 1/2) = 5e-4:
//
//	b = 0 + 12·1e-3 + 12·5e-4 = 0.018,   w(s0) = 1 + 0.018 = 1.018
//
// (V − R drifts by a few % over the run, which changes Adam's steps by well
// under 1 %; the tolerance is 2 %.) w(s1) and w(s2) never receive a
// gradient (s1 is only the bootstrap observation, s2 never seen) and stay
// at exactly 2 and 4. One epoch too many would give 0.024, one minibatch
// per epoch 0.0045, no annealing 0.024. A trivial (frozen) update leaves
// b at 0.
func TestUpdateSteps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 1, 8, 4, 3
	cfg.TotalTimesteps = 16
	cfg.Gamma, cfg.GAELambda = 0.5, 0.95
	cfg.LearningRate, cfg.AnnealLR, cfg.MaxGradNorm = 1e-3, true, 0
	pol := policy.New[testenv.Vec](3, rl.Space{Kind: rl.Discrete, N: 2}, policy.Config{Act: nn.Tanh}, rand.New(rand.NewPCG(3, 4)))
	clear(pol.Actor.Layers[0].W.V.Data)
	clear(pol.Actor.Layers[0].B.V.Data)
	w, b := pol.Critic.Layers[0].W.V.Data, pol.Critic.Layers[0].B.V.Data
	copy(w, []float32{1, 2, 4})
	b[0] = 0
	var lrs []float64
	res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return &timerEnv{reward: 1, trunc: true, length: 1} }, policy.Agent(pol),
		func(_ int64, m map[string]float64) {
			if lr, ok := m["charts/learning_rate"]; ok {
				lrs = append(lrs, lr)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lrs, []float64{1e-3, 5e-4}) {
		t.Errorf("learning rates %v, want [0.001 0.0005]", lrs)
	}
	if math.Abs(float64(b[0])-0.018) > 0.02*0.018 || math.Abs(float64(w[0])-1.018) > 0.02*0.018 {
		t.Errorf("critic bias %v and w(s0) %v after 2 updates, want 0.018 and 1.018 (24 Adam steps at 1e-3, 5e-4)", b[0], w[0])
	}
	if w[1] != 2 || w[2] != 4 {
		t.Errorf("critic weights of s1, s2 %v, %v; want 2 and 4 unchanged", w[1], w[2])
	}
	for _, x := range append(pol.Actor.Layers[0].W.V.Data, pol.Actor.Layers[0].B.V.Data...) {
		if math.Abs(float64(x)) > 1e-6 {
			t.Errorf("actor parameter moved to %v with zero advantages", x)
		}
	}
	// Metrics of the last iteration, averaged over its 12 minibatches:
	// entropy ln 2 (uniform policy), policy loss 0 (zero advantages),
	// value loss ½·(V(s0) − R)²: in the second iteration R = 1 + 0.5·V(s1)
	// = 1 + 0.5·(2 + 0.012) = 2.006 and V(s0) = w(s0) + b goes from
	// 1 + 2·0.012 = 1.024 to 1 + 2·0.018 = 1.036, so V − R goes from
	// −0.982 to −0.970 and the value loss is in [½·0.970², ½·0.982²] =
	// [0.4705, 0.4822].
	m := res.Metrics
	if math.Abs(m["losses/entropy"]-math.Ln2) > 1e-5 || math.Abs(m["losses/policy_loss"]) > 1e-6 {
		t.Errorf("entropy %v, policy loss %v; want ln 2 and 0", m["losses/entropy"], m["losses/policy_loss"])
	}
	if v := m["losses/value_loss"]; v < 0.4705 || v > 0.4822 {
		t.Errorf("value loss %v, want in [0.4705, 0.4822]", v)
	}
}
