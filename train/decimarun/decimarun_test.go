package decimarun

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

var (
	libOnce sync.Once
	lib     []*tpch.Job
	libErr  error
)

func library(t *testing.T) []*tpch.Job {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA is not set: skipping the tests on the TPC-H jobs")
	}
	libOnce.Do(func() { lib, libErr = tpch.LoadAll(root, nil) })
	if libErr != nil {
		t.Fatal(libErr)
	}
	return lib
}

// small is a batch of 4 jobs: episodes of a few dozen decisions.
func small() spark.Config {
	c := spark.Batch()
	c.InitJobs = 4
	return c
}

// TestWinsByHand: a learned row (2 seeds × 3 streams) against a
// heuristic (3 streams) pairs each seed's stream i with the heuristic's
// stream i: seed 1 (1, 5, 3) vs (2, 4, 3) wins once (1 < 2; 3 = 3 is no
// win), seed 2 (1, 1, 1) three times: 4 of 6. Two learned rows pair seed
// with seed: (1, 5, 3) vs (1, 1, 1) and (1, 1, 1) vs (2, 2, 2): 3 of 6.
func TestWinsByHand(t *testing.T) {
	l := BenchRow{Learned: true, PerStream: [][]float64{{1, 5, 3}, {1, 1, 1}}}
	h := BenchRow{PerStream: [][]float64{{2, 4, 3}}}
	if k, n := Wins(l, h); k != 4 || n != 6 {
		t.Errorf("learned vs heuristic: %d of %d, want 4 of 6", k, n)
	}
	l2 := BenchRow{Learned: true, PerStream: [][]float64{{1, 1, 1}, {2, 2, 2}}}
	if k, n := Wins(l, l2); k != 0+3 || n != 6 {
		// seed 1: 1<1 no, 5<1 no, 3<1 no; seed 2: 1<2 ×3.
		t.Errorf("learned vs learned: %d of %d, want 3 of 6", k, n)
	}
}

// TestQuantile: nearest rank on 1…10: the median is 5, p90 9, p100 10.
func TestQuantile(t *testing.T) {
	x := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	for q, want := range map[float64]float64{0.5: 5, 0.9: 9, 1: 10, 0.01: 1} {
		if got := quantile(x, q); got != want {
			t.Errorf("quantile %v = %v, want %v", q, got, want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
}

// TestTuneWF: the setting chosen is the grid's lowest score, and that
// score is what evaluating the setting on its own gives.
func TestTuneWF(t *testing.T) {
	l := library(t)
	env := small()
	tu, err := TuneWF(env, l, 2)
	if err != nil {
		t.Fatal(err)
	}
	bi := slices.Index(tu.Grid, tu.Best)
	if bi < 0 || len(tu.Scores) != len(tu.Grid) || tu.Scores[bi] != slices.Min(tu.Scores) {
		t.Fatalf("best %v (index %d) with scores %v", tu.Best, bi, tu.Scores)
	}
	rows, err := Evaluate(env, l, []Method{{"wf", func() rl.Policy[spark.Obs] { return spark.WeightedFair(tu.Best.Alpha, tu.Best.Cap) }}}, Seeds(TuneSeed0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Mean() != tu.Scores[bi] {
		t.Errorf("the best setting scores %v alone, %v in the grid", rows[0].Mean(), tu.Scores[bi])
	}
}

// TestTrainSelects: a short run with selection after every update ends
// with the parameters that scored best, and scoring the returned agent on
// the selection streams gives that score again (the restore is right);
// the same seed gives the same run.
func TestTrainSelects(t *testing.T) {
	l := library(t)
	cfg, _ := DefaultConfig(ModeBatch)
	cfg.Env = small()
	cfg.PG.TotalTimesteps, cfg.PG.NumEnvs, cfg.PG.NumEpisodes = 300, 2, 2
	cfg.SelectEvery, cfg.SelectStreams = 1, 1
	cfg.Warm = WarmStart{WF: WF{Alpha: -1}, Streams: 1, Epochs: 2}
	run := func() (float64, Result) {
		ag, res, err := Train(context.Background(), cfg, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Evaluate(cfg.Env, l, []Method{AgentMethod("x", ag)}, Seeds(SelectionSeed0, 1))
		if err != nil {
			t.Fatal(err)
		}
		return rows[0].Mean(), res
	}
	got, res := run()
	if !res.Selected || res.Updates < 2 || len(res.Curve) != int(res.Updates) {
		t.Fatalf("result %+v: want a selection over ≥ 2 updates and one curve point per update", res)
	}
	if got != res.SelectedScore {
		t.Errorf("the returned agent scores %v on the selection stream, the selection recorded %v", got, res.SelectedScore)
	}
	again, res2 := run()
	if again != got || !slices.Equal(res.Curve, res2.Curve) {
		t.Errorf("same seed, different runs: %v vs %v, curves %v vs %v", got, again, res.Curve, res2.Curve)
	}
}

// TestConfigErrors: settings out of range are errors naming them.
func TestConfigErrors(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"mode":    func(c *Config) { c.Mode = "stream" },
		"arch":    func(c *Config) { c.Arch = "gcn" },
		"horizon": func(c *Config) { c.TrainMaxTime = math.NaN() },
		"warm":    func(c *Config) { c.Warm.Epochs, c.Warm.Streams = 10, 0 },
		"select":  func(c *Config) { c.SelectStreams = 0 },
	} {
		cfg, _ := DefaultConfig(ModeContinuous)
		mut(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := DefaultConfig("stream"); err == nil {
		t.Error("DefaultConfig accepted an unknown mode")
	}
}

// TestResume: a run interrupted after its first updates and resumed in
// its folder ends with the same scheduler, byte for byte, as the same run
// uninterrupted (training state, selection schedule and the selection's
// best so far all survive the interruption).
func TestResume(t *testing.T) {
	l := library(t)
	_ = l
	cfg, _ := DefaultConfig(ModeBatch)
	cfg.Env = small()
	cfg.PG.TotalTimesteps, cfg.PG.NumEnvs, cfg.PG.NumEpisodes = 500, 2, 2
	cfg.SelectEvery, cfg.SelectStreams = 2, 1
	cfg.Warm = WarmStart{Streams: 1, Epochs: 2}
	rc := RunConfig{Train: cfg, Data: os.Getenv("CPNTRAIN_DATA"), Quiet: true, CheckpointEvery: 1, TuneStreams: 1}
	whole := rc
	whole.Dir = t.TempDir()
	repA, err := RunTrain(context.Background(), whole)
	if err != nil {
		t.Fatal(err)
	}
	if repA.Result.Updates < 4 {
		t.Fatalf("%d updates: the test needs a run of several", repA.Result.Updates)
	}
	cut := rc
	cut.Dir, cut.stopAt = t.TempDir(), 150
	if _, err := RunTrain(context.Background(), cut); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	cut.stopAt = 0
	repB, err := RunTrain(context.Background(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if !repB.Resumed {
		t.Fatal("the second run did not resume")
	}
	a, _ := os.ReadFile(repA.ModelPath)
	b, _ := os.ReadFile(repB.ModelPath)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("resumed model differs from the uninterrupted one (%d vs %d bytes); results %+v vs %+v", len(a), len(b), repA.Result, repB.Result)
	}
}

// TestShortName: plot labels.
func TestShortName(t *testing.T) {
	for in, want := range map[string]string{
		Name(ArchPatent):                      "patent",
		Name(ArchDecima):                      "decima",
		Name(ArchPatent) + ", imitation only": "patent, imitation only",
		WF{Alpha: -1, Cap: 10}.String():       "wf (α=-1, cap 10)",
		"fair":                                "fair",
	} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBenchOutputs: on a hand-made result (a heuristic at 100 s, the
// patent network at 90 s over two seeds) the table says −10.0 % against
// the best heuristic and 2 of 2 paired wins, the CSV has a line per
// stream or seed, and the plots are the bars, CDF, learning curves and
// both timelines.
func TestBenchOutputs(t *testing.T) {
	tl := []TimelinePoint{{T: 0, PerJob: map[int]int{0: 5, 1: 3}}, {T: 1, PerJob: map[int]int{1: 8}}}
	res := BenchResult{WF: map[string]Tuned{ModeBatch: {Best: WF{Alpha: -1}, Grid: []WF{{Alpha: -1}}, Scores: []float64{100}}}, Rows: []BenchRow{
		{Mode: ModeBatch, Method: "fair", JCT: []float64{100}, Jobs: []float64{50, 150}, PerStream: [][]float64{{100}}, Timeline: tl},
		{Mode: ModeBatch, Method: Name(ArchPatent), Learned: true, JCT: []float64{85, 95}, Jobs: []float64{40, 140}, PerStream: [][]float64{{85}, {95}},
			Curves: [][]float64{{120, 100}, {110}}, Timeline: tl},
	}}
	bc := BenchConfig{Modes: []string{ModeBatch}, Seeds: 2, Steps: 10, TestStreams: 1, TuneStreams: 1}
	var md strings.Builder
	WriteBenchMarkdown(&md, res, bc)
	if !strings.Contains(md.String(), "| patent (attention + LSTM) | 90.00 ± 7.07 | -10.0 % | – |") || !strings.Contains(md.String(), "| fair | 100.00 ± 0.00 | – | 2/2 | 50.0 | 150.0 | < 1µs | – |") {
		t.Errorf("table:\n%s", md.String())
	}
	var csv strings.Builder
	if err := WriteBenchCSV(&csv, res); err != nil || strings.Count(csv.String(), "\n") != 4 {
		t.Errorf("CSV (%v):\n%s", err, csv.String())
	}
	files, err := BenchPlot(t.TempDir(), res, bc.Modes)
	if err != nil || len(files) != 5 {
		t.Errorf("plots %v, %v: want bars, CDF, learning curves and 2 timelines", files, err)
	}
}

// TestBenchRuns: the bench end to end on small training runs, two at a
// time (the race detector covers this: make test-race): every heuristic
// and learned row is there, learned rows have one score per seed and a
// curve, the first stream's timeline is recorded, and the table names the
// tuned setting.
func TestBenchRuns(t *testing.T) {
	bc := BenchConfig{Data: os.Getenv("CPNTRAIN_DATA"), Modes: []string{ModeBatch}, Archs: Archs, Seeds: 2, Steps: 60,
		TestStreams: 1, TuneStreams: 1, Jobs: 2, WarmOnly: true,
		Train: func(c *Config) {
			c.Env = small()
			c.PG.NumEnvs, c.PG.NumEpisodes = 2, 2
			c.Warm.Streams, c.Warm.Epochs = 1, 1
			c.SelectEvery, c.SelectStreams = 1, 1
		}}
	library(t)
	res, err := Bench(context.Background(), bc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res.Rows {
		names = append(names, r.Method)
		if r.Learned && (len(r.JCT) != 2 || len(r.Curves) != 2) {
			t.Errorf("%s: %d scores, %d curves; want one per seed", r.Method, len(r.JCT), len(r.Curves))
		}
		if len(r.Timeline) == 0 || len(r.Jobs) == 0 {
			t.Errorf("%s: no timeline or no job times", r.Method)
		}
	}
	if len(res.Rows) != 7 {
		t.Errorf("rows %v: want 4 heuristics, 2 architectures and the imitation only", names)
	}
	var md strings.Builder
	WriteBenchMarkdown(&md, res, bc)
	if !strings.Contains(md.String(), "Weighted fair tuned on 24 settings × 1 training streams: "+res.WF[ModeBatch].Best.String()) {
		t.Errorf("table:\n%s", md.String())
	}
}
