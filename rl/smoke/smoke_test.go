package smoke

import (
	"context"
	"testing"
)

func TestSmokeSmallBudgets(t *testing.T) {
	for _, c := range []Options{
		{Algo: "dqn", Env: "bandit", Steps: 4000, Seed: 1},
		{Algo: "ppo", Env: "bandit", Steps: 8192, Seed: 1},
	} {
		r, err := Run(context.Background(), c, nil)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.Algo, c.Env, err)
		}
		if r.Steps <= 0 || r.SPS <= 0 || r.Eval == 0 {
			t.Fatalf("%s/%s: empty report %+v", c.Algo, c.Env, r)
		}
	}
	if _, err := Run(context.Background(), Options{Algo: "dqn", Env: "split"}, nil); err == nil {
		t.Fatal("dqn on a simplex environment accepted")
	}
	if _, err := Run(context.Background(), Options{Algo: "a3c", Env: "bandit"}, nil); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
}
