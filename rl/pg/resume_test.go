package pg

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	rlagent "github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
)

// TestResumeAfterKill: a run cancelled after a checkpoint and resumed in a
// fresh agent (initialised differently) ends with exactly the parameters
// and episodes of an uninterrupted run, with and without a critic.
func TestResumeAfterKill(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	endChecked := false
	defer func() {
		if !endChecked {
			t.Error("no run ended on a checkpoint: the resume-after-the-end case went unchecked")
		}
	}()
	for _, critic := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.TotalTimesteps = 6000
		cfg.Seed = 4
		cfg.AnnealLR = true
		mk := func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }
		newA := func(seed uint64) rlagent.Agent[testenv.Vec] {
			a := newAgent(mk(), seed)
			if !critic {
				a.Critic = nil
			}
			return a
		}
		params := func(a rlagent.Agent[testenv.Vec]) []float32 {
			var ps []float32
			for _, np := range nn.Collect(a.ActorModules()) {
				ps = append(ps, np.Param.V.Data...)
			}
			if a.Critic != nil {
				for _, np := range nn.Collect(a.Critic) {
					ps = append(ps, np.Param.V.Data...)
				}
			}
			return ps
		}
		ref := newA(1)
		refRes, err := Train(context.Background(), cfg, mk, ref, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if refRes.Updates < 6 {
			t.Fatalf("only %d updates: the test needs more", refRes.Updates)
		}

		for _, every := range []int{2, 1000} {
			cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
			cfg.Checkpoint.Every = int64(every)
			syncs := 0
			cfg.Checkpoint.Before = func() error { syncs++; return nil }
			ctx, cancel := context.WithCancel(context.Background())
			updates := 0
			_, err = Train(ctx, cfg, mk, newA(1), nil, func(step int64, m map[string]float64) {
				if _, ok := m["losses/policy_loss"]; ok {
					if updates++; updates == 5 {
						cancel() // killed during update 6, after the checkpoint of update 4
					}
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("critic %v: the killed run returned %v", critic, err)
			}
			if want := 1 + 4/every; syncs != want {
				t.Errorf("every %d: BeforeCheckpoint called %d times, want %d (periodic ones and the last)", every, syncs, want)
			}
			resumed := newA(77)
			res, err := Train(context.Background(), cfg, mk, resumed, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, b := params(ref), params(resumed)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("critic %v: parameter %d after resume %v, uninterrupted %v", critic, i, b[i], a[i])
				}
			}
			if res.Updates != refRes.Updates || len(res.EpisodicReturns) != len(refRes.EpisodicReturns) {
				t.Fatalf("critic %v: resumed %d updates, %d episodes; uninterrupted %d, %d", critic, res.Updates, len(res.EpisodicReturns), refRes.Updates, len(refRes.EpisodicReturns))
			}
			for i, r := range refRes.EpisodicReturns {
				if res.EpisodicReturns[i] != r {
					t.Fatalf("critic %v: episode %d return %v after resume, %v uninterrupted", critic, i, res.EpisodicReturns[i], r)
				}
			}
			if refRes.Updates%int64(every) != 0 {
				continue
			}
			// The last update wrote a checkpoint: resuming from it trains
			// nothing and must still report the run's steps.
			again, err := Train(context.Background(), cfg, mk, newA(78), nil, nil)
			if err != nil || again.Steps != refRes.Steps || again.Updates != refRes.Updates {
				t.Errorf("critic %v: resumed after the end: %v, %d steps, %d updates; want %d, %d", critic, err, again.Steps, again.Updates, refRes.Steps, refRes.Updates)
			}
			endChecked = true
		}
	}
}
