package ppo

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

func cartPolicy(seed uint64) *policy.ActorCritic[testenv.Vec] {
	return policy.New[testenv.Vec](4, testenv.NewCartPole().ActionSpace(), policy.DefaultConfig(), rand.New(rand.NewPCG(seed, 1)))
}

func newCartPole() rl.Env[testenv.Vec] { return testenv.NewCartPole() }

func flatParams(m nn.Module) []float32 {
	var ps []float32
	for _, p := range nn.Collect(m) {
		ps = append(ps, p.Param.V.Data...)
	}
	return ps
}

func equalParams(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTargetKLEarlyStop: an update stops after the first epoch whose mean
// approximate KL over its minibatches exceeds TargetKL, and only then.
// One iteration on CartPole (16 steps, 2 minibatches, lr 1e-2, so the
// policy moves and the KL of the second minibatch is positive). The
// parameters after an early stop after epoch 1 are exactly those of a run
// with UpdateEpochs = 1; a run that never stops gives exactly the
// parameters of TargetKL = 0 (disabled). Epoch 1's mean KL, m, is the
// approx_kl metric of the one-epoch run (the mean over its 2 minibatches):
// TargetKL = 1.5·m must not stop (the mean, not the sum 2m, is compared),
// TargetKL = 0.5·m must, and TargetKL = m exactly must not stop after epoch
// 1 (the KL must exceed the target; the metric is computed with the same
// float operations as the epoch's mean, so it is bit-identical).
func TestTargetKLEarlyStop(t *testing.T) {
	run := func(epochs int, targetKL float64) ([]float32, map[string]float64) {
		cfg := DefaultConfig()
		cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 1, 16, 2, epochs
		cfg.TotalTimesteps, cfg.LearningRate, cfg.TargetKL, cfg.Seed = 16, 1e-2, targetKL, 3
		pol := cartPolicy(3)
		res, err := Train(context.Background(), cfg, newCartPole, policy.Agent(pol), nil)
		if err != nil {
			t.Fatal(err)
		}
		return flatParams(pol), res.Metrics
	}
	one, m1 := run(1, 0)
	m := m1["losses/approx_kl"]
	if !(m > 0) {
		t.Fatalf("epoch 1's mean approx KL %v, want > 0 for this test to be meaningful", m)
	}
	three, _ := run(3, 0)
	if equalParams(one, three) {
		t.Fatal("3 epochs end where 1 epoch does")
	}
	if p, _ := run(3, 1e9); !equalParams(p, three) {
		t.Error("TargetKL 1e9 (never reached) differs from TargetKL 0 (disabled)")
	}
	if p, _ := run(3, 1e-12); !equalParams(p, one) {
		t.Error("TargetKL 1e-12 did not stop after the first epoch")
	}
	if p, _ := run(3, 0.5*m); !equalParams(p, one) {
		t.Errorf("TargetKL %v (half epoch 1's mean KL %v) did not stop after the first epoch", 0.5*m, m)
	}
	if p, _ := run(3, m); equalParams(p, one) {
		t.Errorf("TargetKL equal to epoch 1's mean KL %v stopped after the first epoch", m)
	}
	two, _ := run(2, 0)
	if p, _ := run(2, 1.5*m); !equalParams(p, two) {
		t.Errorf("TargetKL %v (1.5 × epoch 1's mean KL %v) stopped early", 1.5*m, m)
	}
}

// TestCheckpointSchedule: with CheckpointEvery = 3 a checkpoint is written
// after iterations 3, 6, …: none after 2 iterations, the one of iteration
// 3 (global step 3·4 = 12) after 4 iterations; CheckpointEvery = 0 never
// writes one.
func TestCheckpointSchedule(t *testing.T) {
	run := func(iters, every int) string {
		cfg := DefaultConfig()
		cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 1, 4, 1, 1
		cfg.TotalTimesteps = int64(4 * iters)
		cfg.Checkpoint.Path, cfg.Checkpoint.Every = filepath.Join(t.TempDir(), "run.safetensors"), int64(every)
		if _, err := Train(context.Background(), cfg, newCartPole, policy.Agent(cartPolicy(1)), nil); err != nil {
			t.Fatal(err)
		}
		return cfg.Checkpoint.Path
	}
	for _, c := range []struct{ iters, every int }{{2, 3}, {3, 0}} {
		if _, err := os.Stat(run(c.iters, c.every)); err == nil {
			t.Errorf("%d iterations with CheckpointEvery %d wrote a checkpoint", c.iters, c.every)
		}
	}
	path := run(4, 3)
	pol := cartPolicy(2)
	ag := policy.Agent(pol)
	opt := optim.NewAdam(nn.Collect(ag), optim.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-5})
	venv, err := rl.NewVecEnv("ppo", 1, newCartPole, func(int, uint64) uint64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := loadRun(path, ag, opt, rand.NewPCG(0, 0), venv)
	if err != nil || !ok {
		t.Fatalf("loading the checkpoint: ok %v, %v", ok, err)
	}
	if st.Iter != 3 || st.Global != 12 {
		t.Errorf("checkpoint of iteration %d, global step %d; want 3 and 12", st.Iter, st.Global)
	}
}

// TestSPS: steps per second are the global step over the time Train ran,
// so at least GlobalStep / (wall time around the call).
func TestSPS(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs, cfg.TotalTimesteps = 2, 8, 1, 1, 32
	start := time.Now()
	res, err := Train(context.Background(), cfg, newCartPole, policy.Agent(cartPolicy(1)), nil)
	wall := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	if res.GlobalStep != 32 || !(res.SPS >= 32/wall) || res.Metrics["charts/SPS"] != res.SPS {
		t.Errorf("SPS %v (metric %v) for %d steps in %v s; want ≥ %v", res.SPS, res.Metrics["charts/SPS"], res.GlobalStep, wall, 32/wall)
	}
}
