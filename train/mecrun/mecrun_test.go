package mecrun

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
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
	scores, err := Evaluate(cfg.Env, append(Methods(4), dm), 3)
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
		rows, err := EvalRows(rc.DQN.Env, "mixed", []Method{m}, 3)
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
