package mecrun

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// TestEvaluateAndTrain: the reference is the exact optimum (normalised 1)
// and no method is below it; a tiny DQN run trains, and its greedy
// ordering decides every task of a held-out set with the cost Evaluate
// reports for its vector.
func TestEvaluateAndTrain(t *testing.T) {
	cfg := DefaultConfig(4)
	cfg.DQN.TotalTimesteps, cfg.DQN.LearningStarts, cfg.DQN.BufferSize, cfg.DQN.BatchSize = 400, 100, 400, 16
	res, err := Train(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := DQNMethod(cfg.Env, res.Q)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := Evaluate(cfg.Env, append(Methods(4), dm), 3, TestSeed0)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if s[0].Method != "optimum" || s[0].Normalised != 1 || s[len(s)-1].Method != "dqn" {
			t.Fatalf("set %d: methods %v", i, s)
		}
		for _, x := range s {
			if x.Normalised < 1-1e-9 {
				t.Fatalf("set %d: %s below the optimum (%v)", i, x.Method, x.Normalised)
			}
		}
	}
	env, _ := mec.NewEnv(cfg.Env)
	sol, err := Policy(res.Q)(env, TestSeed0)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := mec.NewSet(cfg.Env, TestSeed0)
	if c, _ := set.Evaluate(sol.Offload); math.Abs(c-sol.Cost) > 1e-9*c {
		t.Errorf("policy cost %v, Evaluate %v", sol.Cost, c)
	}
}

// TestRunTrainBothAlgorithms: tiny DQN and DROO runs write a run folder
// with a model that LoadMethod reads back and that decides held-out sets
// like the trained one (the same costs in the report and from the file);
// a DROO file refuses another set size; an interrupted DQN run resumes.
func TestRunTrainBothAlgorithms(t *testing.T) {
	for _, algo := range []string{AlgoDQN, AlgoDROO} {
		rc := RunConfig{Dir: filepath.Join(t.TempDir(), algo), Algo: algo, DQN: DefaultConfig(5), DROO: DefaultDROOConfig(5),
			CheckpointEvery: 100, EvalSets: 3, Quiet: true}
		rc.DQN.DQN.TotalTimesteps, rc.DQN.DQN.LearningStarts, rc.DQN.DQN.BufferSize, rc.DQN.DQN.BatchSize = 300, 50, 300, 16
		rc.DROO.Steps, rc.DROO.Batch, rc.DROO.Memory = 200, 16, 64
		rep, err := RunTrain(context.Background(), rc)
		if err != nil {
			t.Fatalf("%s: %v", algo, err)
		}
		m, err := LoadMethod(rep.ModelPath, 5)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := EvalRows(rc.DQN.Env, "mixed", []Method{m}, 3, ValidationSeed0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rep.Rows) || rows[len(rows)-1].Method != algo || rows[len(rows)-1].NormMean != rep.Rows[len(rows)-1].NormMean {
			t.Errorf("%s: loaded model scores %+v, trained %+v", algo, rows[len(rows)-1], rep.Rows[len(rep.Rows)-1])
		}
		if algo == AlgoDROO {
			if _, err := LoadMethod(rep.ModelPath, 6); err == nil || !strings.Contains(err.Error(), "5 devices") {
				t.Errorf("DROO for 5 devices loaded for 6: %v", err)
			}
		}
	}
	// A DQN run interrupted (here before its first step) resumes to the
	// model of an uninterrupted run (the chaos test in cmd/cpntrain
	// interrupts it anywhere).
	rc := RunConfig{Dir: filepath.Join(t.TempDir(), "ref"), Algo: AlgoDQN, DQN: DefaultConfig(4), CheckpointEvery: 100, Quiet: true}
	rc.DQN.DQN.TotalTimesteps, rc.DQN.DQN.LearningStarts, rc.DQN.DQN.BufferSize, rc.DQN.DQN.BatchSize = 400, 50, 400, 16
	ref, err := RunTrain(context.Background(), rc)
	if err != nil {
		t.Fatal(err)
	}
	rc.Dir = filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted at once: the last checkpoint is the start
	if _, err := RunTrain(ctx, rc); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := RunTrain(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(ref.ModelPath)
	b, _ := os.ReadFile(filepath.Join(rc.Dir, ModelFile))
	if !bytes.Equal(a, b) {
		t.Error("the resumed run's model differs from the uninterrupted run's")
	}
}

// TestBenchOutputs: a tiny bench (two sizes, two battery levels, no
// learners) gives one row per method, size and level with the optimum at
// 1 and every baseline at or above it; the CSV parses back to the rows'
// numbers; the plots are PNG files.
func TestBenchOutputs(t *testing.T) {
	bc := BenchConfig{Devices: []int{3, 5}, Sets: 2, Batteries: []string{"low", "full"}}
	rows, err := Bench(context.Background(), bc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * 2 * len(Methods(5)); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for _, r := range rows {
		if r.Method == "optimum" && (r.NormMean != 1 || r.NormMax != 1) || r.NormMean < 1-1e-9 || r.Sets != 2 {
			t.Errorf("row %+v", r)
		}
		// No heuristic is strictly cheaper than every heuristic, itself
		// included.
		if heuristics[r.Method] && r.Beats != 0 {
			t.Errorf("heuristic %s beats every heuristic on %d sets", r.Method, r.Beats)
		}
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != len(rows)+1 || recs[0][3] != "norm_mean" {
		t.Fatalf("CSV: %v, %d records", err, len(recs))
	}
	for i, r := range rows {
		if v, _ := strconv.ParseFloat(recs[i+1][3], 64); math.Abs(v-r.NormMean) > 1e-7*r.NormMean || recs[i+1][2] != r.Method {
			t.Errorf("CSV record %d: %v, row %+v", i, recs[i+1], r)
		}
	}
	dir := t.TempDir()
	files, err := Plot(dir, rows)
	if err != nil || len(files) != 4 {
		t.Fatalf("plots: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (%v)", f, err)
		}
	}
}

// TestSeedMeans: a method listed twice (two training seeds) gets one row
// whose per-instance means are each instance's mean over the sets and
// whose mean is theirs; methods listed once get none.
func TestSeedMeans(t *testing.T) {
	env := mec.DefaultConfig(4)
	local := Method{"twice", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.AllLocal(), nil }}
	greedy := Method{"twice", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.Greedy(), nil }}
	rows, err := EvalRows(env, "mixed", []Method{local, greedy}, 3, TestSeed0)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Row{}
	for _, r := range rows {
		by[r.Method] = r
	}
	tw := by["twice"]
	if len(tw.SeedMeans) != 2 || len(by["greedy"].SeedMeans) != 0 {
		t.Fatalf("seed means: %v (greedy %v)", tw.SeedMeans, by["greedy"].SeedMeans)
	}
	if d := tw.SeedMeans[0] - by["all local"].NormMean; math.Abs(d) > 1e-12 || math.Abs(tw.SeedMeans[1]-by["greedy"].NormMean) > 1e-12 ||
		math.Abs(tw.NormMean-(tw.SeedMeans[0]+tw.SeedMeans[1])/2) > 1e-12 || tw.Sets != 6 {
		t.Errorf("twice: %+v; all local %v, greedy %v", tw, by["all local"].NormMean, by["greedy"].NormMean)
	}
}
