package actorcritic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// TestResumeAfterKill: a run cancelled after a checkpoint and resumed in a
// fresh agent (initialised differently) ends with exactly the parameters
// and episodes of an uninterrupted run; so does one cancelled before any
// periodic checkpoint (every 1,000 updates), from the last checkpoint Train
// writes when its context ends (BeforeCheckpoint sees one call).
func TestResumeAfterKill(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	cfg := DefaultConfig()
	cfg.TotalTimesteps = 4 * 5 * 60 // 60 updates of 4 envs × 5 steps
	cfg.Seed = 3
	mk := func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
	newAgent := func(seed uint64) Agent[testenv.Vec] {
		p := policy.New[testenv.Vec](4, mk().ActionSpace(), policy.DefaultConfig(), rand.New(rand.NewPCG(seed, 7)))
		return PolicyAgent(p)
	}
	params := func(a Agent[testenv.Vec]) []float32 {
		var ps []float32
		for _, np := range nn.Collect(a) {
			ps = append(ps, np.Param.V.Data...)
		}
		return ps
	}
	ref := newAgent(1)
	refRes, err := Train(context.Background(), cfg, mk, ref, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, every := range []int{10, 1000} {
		t.Run(fmt.Sprintf("every=%d", every), func(t *testing.T) { resumeAfterKill(t, cfg, every, mk, newAgent, params, ref, refRes) })
	}
}

func resumeAfterKill(t *testing.T, cfg Config, every int, mk func() rl.Env[testenv.Vec], newAgent func(uint64) Agent[testenv.Vec],
	params func(Agent[testenv.Vec]) []float32, ref Agent[testenv.Vec], refRes Result) {
	cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
	cfg.Checkpoint.Every = int64(every)
	syncs := 0
	cfg.Checkpoint.Before = func() error { syncs++; return nil }
	ctx, cancel := context.WithCancel(context.Background())
	logs := 0
	_, err := Train(ctx, cfg, mk, newAgent(1), func(step int64, m map[string]float64) {
		if _, ok := m["losses/value_loss"]; ok { // every 10 updates
			if logs++; logs == 4 {
				cancel() // killed during update 41, after the checkpoint of update 40
			}
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the killed run returned %v", err)
	}
	if want := 1 + 40/every; syncs != want {
		t.Errorf("BeforeCheckpoint called %d times, want %d (periodic ones and the last)", syncs, want)
	}
	resumed := newAgent(77)
	res, err := Train(context.Background(), cfg, mk, resumed, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := params(ref), params(resumed)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d after resume %v, uninterrupted %v", i, b[i], a[i])
		}
	}
	if len(res.EpisodicReturns) != len(refRes.EpisodicReturns) || res.Updates != refRes.Updates || res.Steps != refRes.Steps {
		t.Fatalf("resumed run: %d episodes, %d updates, %d steps; uninterrupted %d, %d, %d",
			len(res.EpisodicReturns), res.Updates, res.Steps, len(refRes.EpisodicReturns), refRes.Updates, refRes.Steps)
	}
	for i, r := range refRes.EpisodicReturns {
		if res.EpisodicReturns[i] != r {
			t.Fatalf("episode %d return %v after resume, %v uninterrupted", i, res.EpisodicReturns[i], r)
		}
	}
	if 60%every != 0 {
		return
	}
	// The last update wrote a checkpoint: a process killed after it (and
	// before its model was saved) resumes with nothing left to train, and
	// must still report the run's steps and updates (the saved model's
	// metadata carries the step: the chaos test saw it differ).
	again := newAgent(78)
	res, err = Train(context.Background(), cfg, mk, again, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != refRes.Steps || res.Updates != refRes.Updates || len(res.EpisodicReturns) != len(refRes.EpisodicReturns) {
		t.Errorf("resumed after the end: %d steps, %d updates, %d episodes; want %d, %d, %d",
			res.Steps, res.Updates, len(res.EpisodicReturns), refRes.Steps, refRes.Updates, len(refRes.EpisodicReturns))
	}
	if c := params(again); c[0] != a[0] || c[len(c)-1] != a[len(a)-1] {
		t.Error("resumed after the end: parameters differ from the uninterrupted run's")
	}
}

// TestBeforeCheckpointErrorStops: when BeforeCheckpoint fails (the metrics
// could not be made durable: a full disk), training stops with that error
// and writes no checkpoint that would cover unlogged steps.
func TestBeforeCheckpointErrorStops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TotalTimesteps, cfg.Seed = 4*5*30, 3
	cfg.Checkpoint.Path, cfg.Checkpoint.Every = filepath.Join(t.TempDir(), "run.safetensors"), 10
	full := errors.New("write metrics.jsonl: no space left on device")
	cfg.Checkpoint.Before = func() error { return full }
	mk := func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
	p := policy.New[testenv.Vec](4, mk().ActionSpace(), policy.DefaultConfig(), rand.New(rand.NewPCG(1, 7)))
	res, err := Train(context.Background(), cfg, mk, PolicyAgent(p), nil)
	if !errors.Is(err, full) || res.Updates != 10 {
		t.Fatalf("Train: %v after %d updates; want the disk error after update 10", err, res.Updates)
	}
	if _, err := os.Stat(cfg.Checkpoint.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a checkpoint was written: %v", err)
	}
}
