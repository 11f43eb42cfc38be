package dqn_test

import (
	"context"
	"fmt"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// Train DQN on the contextual bandit and print the greedy arm per context.
func ExampleTrain() {
	cfg := dqn.DefaultConfig()
	cfg.TotalTimesteps = 3000
	cfg.LearningStarts = 500
	cfg.TrainFrequency = 2
	cfg.BatchSize = 32
	cfg.LearningRate = 1e-3
	cfg.Gamma = 0 // one-step episodes
	// CleanRL's Q-network: hidden layers of 120 and 84.
	newQ := policy.MLPQ[testenv.Vec](120, 84)
	res, err := dqn.Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewBandit() }, newQ, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	greedy := agent.GreedyQ(res.Q)
	for c := 0; c < 3; c++ {
		obs := testenv.Vec{X: make([]float32, 3), Mask: []bool{true, true, true, false}}
		obs.X[c] = 1
		a, err := greedy.Decide(obs)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("context %d: arm %d\n", c, a.Index)
	}
	// Output:
	// context 0: arm 1
	// context 1: arm 0
	// context 2: arm 2
}
