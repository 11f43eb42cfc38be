package rlms

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/actorcritic"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Sizes of the toy environment.
const (
	toyK = 3
	toyP = 2
)

// toyEnv is a one-step miniature of task offloading: a task of size S MB
// arrives; candidate i computes in cost[i] ms and reaches the task over two
// paths of delay d and bandwidth b; splitting the data x over the paths
// gives the transfer latency max_j (d_j + x_j·S/b_j). The reward is
// −(cost[i] + transfer)/10. Candidate 2 is missing in a quarter of the
// episodes. Features are those of cpn.Obs (log1p of milliseconds, …).
type toyEnv struct {
	rng        *rand.Rand
	obs        cpn.Obs
	size       float64
	cost       [toyK]float64
	delay, bw  [toyK][toyP]float64
	done, init bool
}

func (e *toyEnv) Reset(seed uint64) (cpn.Obs, error) {
	e.rng = rand.New(rand.NewPCG(seed, 0x70e))
	e.done, e.init = false, true
	e.size = 1 + 9*e.rng.Float64()
	o := cpn.Obs{K: toyK, P: toyP,
		Task:     []float32{float32(math.Log10(e.size)), 0},
		Nodes:    make([]float32, toyK*cpn.NodeFeatures),
		Paths:    make([]float32, toyK*toyP*cpn.PathFeatures),
		NodeMask: []bool{true, true, e.rng.Float64() >= 0.25},
		PathMask: make([]bool, toyK*toyP),
	}
	for i := 0; i < toyK; i++ {
		if !o.NodeMask[i] {
			continue
		}
		e.cost[i] = 1 + 19*e.rng.Float64()
		nf := o.Nodes[i*cpn.NodeFeatures:]
		nf[0], nf[2], nf[3] = float32(math.Log1p(e.cost[i])), 0.2, 1
		for j := 0; j < toyP; j++ {
			e.delay[i][j] = 1 + 9*e.rng.Float64()
			e.bw[i][j] = 0.5 + 3.5*e.rng.Float64()
			q := i*toyP + j
			o.PathMask[q] = true
			pf := o.Paths[q*cpn.PathFeatures:]
			pf[0], pf[1], pf[2], pf[3] = float32(math.Log1p(e.delay[i][j])), float32(e.delay[i][j]/10),
				float32(math.Log1p(e.bw[i][j])), 0.2
		}
	}
	e.obs = o
	return o, nil
}

// latency is the task's latency on candidate i with split x.
func (e *toyEnv) latency(i int, x []float64) float64 {
	var tr float64
	for j := 0; j < toyP; j++ {
		tr = math.Max(tr, e.delay[i][j]+x[j]*e.size/e.bw[i][j])
	}
	return e.cost[i] + tr
}

// best is the optimal reward: the best candidate with the split that
// equalises the two paths' latencies (clamped to the simplex).
func (e *toyEnv) best() float64 {
	r := math.Inf(-1)
	for i := 0; i < toyK; i++ {
		if !e.obs.NodeMask[i] {
			continue
		}
		a0, a1 := e.size/e.bw[i][0], e.size/e.bw[i][1]
		x := math.Min(1, math.Max(0, (e.delay[i][1]+a1-e.delay[i][0])/(a0+a1)))
		r = math.Max(r, -e.latency(i, []float64{x, 1 - x})/10)
	}
	return r
}

func (e *toyEnv) Step(a rl.Action) (rl.Step[cpn.Obs], error) {
	if !e.init || e.done {
		return rl.Step[cpn.Obs]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(rl.Space{Kind: rl.Discrete, N: toyK}, a, e.obs.NodeMask); err != nil {
		return rl.Step[cpn.Obs]{}, err
	}
	if err := rl.CheckAction(e.ActionSpace(), a, nil); err != nil {
		return rl.Step[cpn.Obs]{}, err
	}
	e.done = true
	x := []float64{float64(a.Values[0]), float64(a.Values[1])}
	return rl.Step[cpn.Obs]{Obs: e.obs, Reward: -e.latency(a.Index, x) / 10, Terminated: true}, nil
}

func (e *toyEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Simplex, N: toyP} }

// toyScores returns the mean reward of the model's deterministic decisions,
// of uniformly random decisions (allowed candidate, Dirichlet(1, 1) split)
// and of the optimum over n fixed episodes.
func toyScores(m *Model, n int) (model, random, optimum float64) {
	env := &toyEnv{}
	rng := rand.New(rand.NewPCG(99, 98))
	for ep := 0; ep < n; ep++ {
		o, _ := env.Reset(uint64(1_000_000 + ep))
		node, ratios := m.Decision(o)
		model -= env.latency(node, []float64{float64(ratios[0]), float64(ratios[1])}) / 10
		var allowed []int
		for i, ok := range o.NodeMask {
			if ok {
				allowed = append(allowed, i)
			}
		}
		x := rng.Float64()
		random -= env.latency(allowed[rng.IntN(len(allowed))], []float64{x, 1 - x}) / 10
		optimum += env.best()
	}
	return model / float64(n), random / float64(n), optimum / float64(n)
}

// TestLearnsToyOffloading trains both actors and the critic with
// rl/actorcritic on toyEnv and requires the deterministic policy to close
// most of the gap between random decisions and the optimum.
func TestLearnsToyOffloading(t *testing.T) {
	t.Parallel()
	type variant struct{ enc, split string }
	var variants []variant
	for _, enc := range encoders {
		variants = append(variants, variant{enc, SplitDirichlet})
	}
	variants = append(variants, variant{EncoderSyncGNN, SplitLogisticNormal})
	for _, v := range variants {
		enc := v.enc
		t.Run(enc+"/"+v.split, func(t *testing.T) {
			t.Parallel()
			m := New(Config{Encoder: enc, Dim: 32, Hidden: 32, K: toyK, P: toyP, Split: v.split}, rand.New(rand.NewPCG(1, 2)))
			before, random, opt := toyScores(m, 2000)
			cfg := actorcritic.DefaultConfig()
			cfg.NumEnvs, cfg.NSteps, cfg.TotalTimesteps = 16, 1, 15000
			cfg.LearningRateActor, cfg.LearningRateCritic = 3e-3, 3e-3
			cfg.EntCoef, cfg.NormAdv = 0.001, true
			start := time.Now()
			res, err := actorcritic.Train(context.Background(), cfg, func() rl.Env[cpn.Obs] { return &toyEnv{} }, agentOf(m), nil)
			if err != nil {
				t.Fatal(err)
			}
			after, _, _ := toyScores(m, 2000)
			closed := (after - random) / (opt - random)
			t.Logf("%s: mean reward untrained %.3f, random %.3f, trained %.3f, optimum %.3f: %.0f%% of the gap closed (%d updates, %v, %.0f SPS)",
				enc, before, random, after, opt, 100*closed, res.Updates, time.Since(start).Round(time.Millisecond), res.SPS)
			if closed < 0.7 {
				t.Errorf("%s: the trained policy closes only %.0f%% of the gap between random (%.3f) and optimal (%.3f) decisions: %.3f",
					enc, 100*closed, random, opt, after)
			}
		})
	}
}
