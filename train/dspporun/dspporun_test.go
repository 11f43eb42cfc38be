package dspporun

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// TestStalled: the best return is the first maximum; the rule holds once
// it is patience episodes old.
func TestStalled(t *testing.T) {
	s := Stalled(3)
	for _, c := range []struct {
		r    []float64
		want bool
	}{
		{nil, false},
		{[]float64{1, 0, 0}, false},
		{[]float64{1, 0, 0, 0}, true},
		{[]float64{1, 0, 1, 0, 0}, true}, // a tie is not better
		{[]float64{1, 0, 2, 0, 0}, false},
	} {
		if got := s(c.r); got != c.want {
			t.Errorf("%v: %v, want %v", c.r, got, c.want)
		}
	}
}

// small is a two-node, two-type system with 30-task queues.
func small() cluster.Config {
	return cluster.Config{
		Clusters: []cluster.Cluster{{Name: "c", Nodes: 2, Node: cluster.Resources{CPU: 2, Accel: 1}, Processors: []string{"gpu"}}},
		TaskTypes: []cluster.TaskType{
			{Name: "a", Strategies: []cluster.Strategy{
				{Cluster: "c", Processor: "cpu", Demand: cluster.Resources{CPU: 2}, Runtime: 10},
				{Cluster: "c", Processor: "gpu", Demand: cluster.Resources{CPU: 1, Accel: 1}, Runtime: 3}}},
			{Name: "b", Strategies: []cluster.Strategy{{Cluster: "c", Processor: "cpu", Demand: cluster.Resources{CPU: 1}, Runtime: 5}}},
		},
		Queue: cluster.Queue{Tasks: 30, Horizon: 60}, Weights: cluster.Weights{Alpha: 1}, Reward: cluster.RewardJCT,
	}
}

// TestEveryAlgorithmTrains: each algorithm trains on small queues and its
// policy completes held-out queues (a smoke test of the wiring: the
// learning is measured by the bench).
func TestEveryAlgorithmTrains(t *testing.T) {
	for _, algo := range Algos {
		cfg := DefaultConfig(cluster.Stable)
		cfg.Env, cfg.Algo = small(), algo
		cfg.Model = dsppo.DefaultConfig(2)
		cfg.Model.Dim = 8
		cfg.PPO.TotalTimesteps, cfg.PPO.NumSteps, cfg.PPO.NumMinibatches, cfg.PPO.UpdateEpochs = 256, 64, 2, 2
		cfg.DQN.LearningStarts, cfg.DQN.BufferSize = 32, 200
		tr, res, err := Train(context.Background(), cfg, nil)
		// REINFORCE learns from whole episodes: it may end past the budget.
		if err != nil || res.Steps < 256 || algo != AlgoREINFORCE && res.Steps != 256 || len(res.EpisodicReturns) == 0 {
			t.Fatalf("%s: %v, %d steps, %d episodes", algo, err, res.Steps, len(res.EpisodicReturns))
		}
		rows, err := Evaluate(cfg.Env, []Method{tr.Method(MethodName(algo))}, Seeds(ValidationSeed0, 2))
		if err != nil || len(rows[0].Completion) != 2 || !(rows[0].Completion[0] > 0) {
			t.Fatalf("%s: evaluate: %v, %+v", algo, err, rows)
		}
	}
}

// TestBenchSmall: the bench on small queues with a variant: the
// baselines and a briefly trained DS-PPO on the queue and on the variant
// (without retraining), the Markdown names both, the CSV has a line per
// run.
func TestBenchSmall(t *testing.T) {
	sys := small()
	sys.Queue = cluster.Queue{}
	bc := BenchConfig{System: sys, Queues: []string{"stable"}, TestQueues: 2, Algos: []string{AlgoPPO}, Seeds: 1, Steps: 2048,
		Reward: cluster.RewardJCT, Gamma: 1, Variants: []Variant{{"one more node", func(c *cluster.Config) { c.Clusters[0].Nodes++ }}}}
	rows, err := Bench(context.Background(), bc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Queue+": "+r.Method)
	}
	for _, want := range []string{"stable: fastest-fit", "stable: ds-ppo", "stable / one more node: gwo", "stable / one more node: ds-ppo (trained on stable)"} {
		if !slices.Contains(names, want) {
			t.Errorf("no row %q in %v", want, names)
		}
	}
	files, err := BenchPlot(t.TempDir(), rows)
	if err != nil || len(files) != 3 || !strings.HasSuffix(files[2], "dsppo-stable-one-more-node-completion.png") {
		t.Fatalf("plots %v, %v", files, err)
	}
	var md, csv strings.Builder
	WriteBenchMarkdown(&md, rows, bc)
	if err := WriteBenchCSV(&csv, rows); err != nil || !strings.Contains(md.String(), "### stable / one more node") || strings.Count(csv.String(), "\n") != 1+2*(2*7+1) {
		t.Fatalf("%v\n%s\n%s", err, md.String(), csv.String())
	}
}

// TestWins: paired counts by hand. DS-PPO's runs [1 5] and [3 3] (two
// seeds × two queues): against a heuristic's queues [2 4]: 1<2, 3<4 → 2
// of 4; against a learned method seed by seed ([0 6], [4 2]): 5<6, 3<4 →
// 2 of 4; against a one-seed method ([2 2]), every run: 1<2 → 1 of 4;
// ties are not wins ([1 3]: 0 of 4).
func TestWins(t *testing.T) {
	ref := BenchRow{PerQueue: [][]float64{{1, 5}, {3, 3}}}
	for _, c := range []struct {
		other     BenchRow
		won, runs int
	}{
		{BenchRow{Completion: []float64{2, 4}}, 2, 4},
		{BenchRow{PerQueue: [][]float64{{0, 6}, {4, 2}}}, 2, 4},
		{BenchRow{PerQueue: [][]float64{{2, 2}}}, 1, 4},
		{BenchRow{Completion: []float64{1, 3}}, 0, 4},
	} {
		if won, pairs := Wins(ref, c.other); won != c.won || pairs != c.runs {
			t.Errorf("Wins vs %+v = %d of %d, want %d of %d", c.other, won, pairs, c.won, c.runs)
		}
	}
}

// TestBenchJobsDeterministic: two seeds trained two at a time score
// exactly as trained one at a time.
func TestBenchJobsDeterministic(t *testing.T) {
	sys := small()
	var got [2][]float64
	for i, jobs := range []int{1, 2} {
		bc := BenchConfig{System: sys, Queues: []string{"stable"}, TestQueues: 1, Algos: []string{AlgoPPO}, Seeds: 2, Steps: 2048,
			Reward: cluster.RewardJCT, Gamma: 1, Jobs: jobs}
		rows, err := Bench(context.Background(), bc)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = rows[len(rows)-1].Completion
	}
	if !slices.Equal(got[0], got[1]) || len(got[0]) != 2 {
		t.Fatalf("one at a time %v, two at a time %v", got[0], got[1])
	}
}

// TestSelectionKeepsTheBest: with selection every rollout, training ends
// with the parameters that scored best on the validation queue: scoring
// them again gives the selected score, which is the lowest logged (and
// the scores differ, so keeping the last parameters would not pass by
// chance). Every algorithm's parameters are selectable.
func TestSelectionKeepsTheBest(t *testing.T) {
	for _, algo := range Algos {
		cfg := DefaultConfig(cluster.Stable)
		cfg.Env, cfg.Algo = small(), algo
		cfg.Model = dsppo.DefaultConfig(2)
		cfg.Model.Dim = 8
		cfg.PPO.TotalTimesteps, cfg.PPO.NumSteps, cfg.PPO.NumMinibatches = 2560, 256, 4
		cfg.DQN.LearningStarts, cfg.DQN.BufferSize = 64, 1000
		cfg.DQN.TargetNetworkFrequency = 1 << 30 // the target stays at its initial values: scoring it would give one score
		cfg.SelectEvery, cfg.SelectQueues, cfg.Patience = 256, 1, 0
		var scores []float64
		tr, res, err := Train(context.Background(), cfg, func(_ int64, m map[string]float64) {
			if c, ok := m["select/avg_completion_s"]; ok {
				scores = append(scores, c)
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", algo, err)
		}
		rows, err := Evaluate(cfg.Env, []Method{tr.Method("x")}, Seeds(SelectionSeed0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Selected || rows[0].Completion[0] != res.SelectedScore || res.SelectedScore != slices.Min(scores) {
			t.Errorf("%s: selected %v at %d with %v; scores %v; the kept parameters score %v", algo, res.Selected, res.SelectedStep, res.SelectedScore, scores, rows[0].Completion[0])
		}
		// The parameters scored while training (the last score is taken
		// after it) must change, or the selection watched a frozen copy.
		if during := scores[:max(0, len(scores)-1)]; len(during) < 4 || slices.Min(during) == slices.Max(during) {
			t.Errorf("%s: scores %v: those taken during training must differ", algo, scores)
		}
		t.Logf("%s: scores %v, kept step %d", algo, scores, res.SelectedStep)
	}
}
