package mecrun

import (
	"context"
	"math"
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
	scores, err := Evaluate(cfg.Env, res.Q, 3)
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
