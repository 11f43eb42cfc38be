package dqn

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// TestCartPole trains with DefaultConfig (CleanRL's CartPole-v1 settings,
// 500,000 steps) on five seeds and scores each by the mean return of 20
// greedy evaluation episodes after training, and by the mean return of
// the last 20 training episodes (ε = 0.05). Bar: greedy ≥ 475 on at least
// 4 of 5 seeds. Opt-in: CPNTRAIN_LONG=1 (minutes of CPU);
// CPNTRAIN_DQN_STEPS overrides the budget for profiling.
func TestCartPole(t *testing.T) {
	if os.Getenv("CPNTRAIN_LONG") != "1" {
		t.Skip("set CPNTRAIN_LONG=1 to train DQN on CartPole (5 seeds × 500k steps)")
	}
	cfg := DefaultConfig()
	if s := os.Getenv("CPNTRAIN_DQN_STEPS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TotalTimesteps = n
	}
	seeds := []uint64{1, 2, 3, 4, 5}
	type outcome struct {
		greedy, train float64
		res           Result[testenv.Vec]
		err           error
	}
	out := make([]outcome, len(seeds))
	start := time.Now()
	var wg sync.WaitGroup
	for i, seed := range seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cfg
			c.Seed = seed
			res, err := Train(context.Background(), c, func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }, policy.MLPQ[testenv.Vec](120, 84), nil)
			if err != nil {
				out[i].err = err
				return
			}
			ev, err := rl.Evaluate(rl.Env[testenv.Vec](testenv.NewCartPole()), agent.GreedyQ(res.Q), 20, 1_000_000+seed*1000)
			var last []float64
			for _, e := range res.Episodes[max(0, len(res.Episodes)-20):] {
				last = append(last, e.Return)
			}
			out[i] = outcome{greedy: mean(ev.Returns), train: mean(last), res: res, err: err}
		}()
	}
	wg.Wait()
	pass := 0
	var steps int64
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("seed %d: %v", seeds[i], o.err)
		}
		steps += o.res.Steps
		if o.greedy >= 475 {
			pass++
		}
		t.Logf("seed %d: greedy return %.1f (20 episodes), last 20 training episodes %.1f, %d episodes, %d updates, %.1fs, %.0f SPS",
			seeds[i], o.greedy, o.train, len(o.res.Episodes), o.res.Updates, o.res.Elapsed.Seconds(), o.res.SPS)
	}
	wall := time.Since(start)
	t.Logf("wall %.1fs for %d steps: %.0f steps/s aggregate", wall.Seconds(), steps, float64(steps)/wall.Seconds())
	if cfg.TotalTimesteps == DefaultConfig().TotalTimesteps && pass < 4 {
		t.Errorf("greedy return ≥ 475 on %d of 5 seeds, want ≥ 4", pass)
	}
}
