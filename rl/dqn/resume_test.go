package dqn_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// TestResumeAfterKill: a run cancelled after a checkpoint (with a full,
// wrapped replay buffer) and resumed in a fresh process ends with exactly
// the Q-network and episodes of an uninterrupted run; with 3-step
// transitions too (the checkpoint at step 4,000 falls inside an episode,
// so its pending steps must survive).
func TestResumeAfterKill(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("nsteps=%d", n), func(t *testing.T) { resumeAfterKill(t, n) })
	}
}

func resumeAfterKill(t *testing.T, nsteps int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	cfg := dqn.DefaultConfig()
	cfg.NSteps = nsteps
	cfg.TotalTimesteps, cfg.LearningStarts, cfg.BufferSize = 6000, 500, 1000
	cfg.TrainFrequency, cfg.BatchSize = 2, 32
	newQ := policy.MLPQ[testenv.Vec](32, 32)
	cfg.Seed, cfg.DoubleDQN = 6, true
	mk := func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
	params := func(m nn.Module) []float32 {
		var ps []float32
		for _, np := range nn.Collect(m) {
			ps = append(ps, np.Param.V.Data...)
		}
		return ps
	}
	ref, err := dqn.Train(context.Background(), cfg, mk, newQ, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, every := range []int64{1000, 100000} {
		cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
		cfg.Checkpoint.Every = every
		syncs := int64(0)
		cfg.Checkpoint.Before = func() error { syncs++; return nil }
		ctx, cancel := context.WithCancel(context.Background())
		_, err = dqn.Train(ctx, cfg, mk, newQ, func(step int64, m map[string]float64) {
			if step > 3500 {
				cancel() // seen at step 4096, after the checkpoint of step 4000
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the killed run returned %v", err)
		}
		if want := 1 + 4000/every; syncs != want {
			t.Errorf("every %d: BeforeCheckpoint called %d times, want %d (periodic ones and the last)", every, syncs, want)
		}
		res, err := dqn.Train(context.Background(), cfg, mk, newQ, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, b := params(ref.Q), params(res.Q)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("parameter %d after resume %v, uninterrupted %v", i, b[i], a[i])
			}
		}
		if len(res.Episodes) != len(ref.Episodes) || res.Updates != ref.Updates {
			t.Fatalf("resumed %d episodes, %d updates; uninterrupted %d, %d", len(res.Episodes), res.Updates, len(ref.Episodes), ref.Updates)
		}
		for i, e := range ref.Episodes {
			if res.Episodes[i] != e {
				t.Fatalf("episode %d %+v after resume, %+v uninterrupted", i, res.Episodes[i], e)
			}
		}
	}
}

// TestLoggedStepsAndCheckpoints: a record is logged with the number of
// steps done, as checkpoints count them, so that "logged at or before
// the checkpoint's step" means "logged before the checkpoint" (what a
// resume keeps): with a checkpoint every 1,000 steps, every record logged
// after c checkpoints has a step in (1000·c, 1000·(c+1)]. The TD metrics
// of step 4,000 (logged every 100 steps) fall right after a checkpoint.
func TestLoggedStepsAndCheckpoints(t *testing.T) {
	cfg := dqn.DefaultConfig()
	cfg.TotalTimesteps, cfg.LearningStarts, cfg.BufferSize = 5000, 500, 1000
	cfg.TrainFrequency, cfg.BatchSize, cfg.Seed = 2, 32, 6
	cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
	cfg.Checkpoint.Every = 1000
	checkpoints, records := int64(0), 0
	cfg.Checkpoint.Before = func() error { checkpoints++; return nil }
	mk := func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
	_, err := dqn.Train(context.Background(), cfg, mk, policy.MLPQ[testenv.Vec](32, 32), func(step int64, m map[string]float64) {
		records++
		if lo, hi := 1000*checkpoints, 1000*(checkpoints+1); step <= lo || step > hi {
			t.Fatalf("record at step %d after %d checkpoints: want it in (%d, %d]", step, checkpoints, lo, hi)
		}
	})
	if err != nil || checkpoints != 5 || records == 0 {
		t.Fatalf("%v; %d checkpoints, %d records", err, checkpoints, records)
	}
}
