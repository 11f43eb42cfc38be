package testenv

import (
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// Chain is an N-state chain MDP: the agent starts at state 0, action 1
// moves right and action 0 moves left (staying at 0). Reaching state N−1
// pays 1 and ends the episode; every left move pays a small 0.001 lure so
// that a myopic agent prefers it. Episodes are truncated after Horizon steps.
// The optimal (undiscounted) return is 1; it needs credit assignment over
// N−1 unrewarded steps.
type Chain struct {
	N, Horizon int

	pos, t  int
	started bool
	done    bool
}

// NewChain returns a 10-state chain with horizon 30.
func NewChain() *Chain { return &Chain{N: 10, Horizon: 30} }

// Optimal returns the best achievable return.
func (c *Chain) Optimal() float64 { return 1 }

func (c *Chain) obs() Vec {
	v := Vec{X: make([]float32, c.N)}
	v.X[c.pos] = 1
	return v
}

// Reset implements rl.Env (the chain is deterministic; the seed is unused
// beyond determinism of the interface).
func (c *Chain) Reset(seed uint64) (Vec, error) {
	_ = rand.New(rand.NewPCG(seed, 0))
	c.pos, c.t, c.started, c.done = 0, 0, true, false
	return c.obs(), nil
}

// Step implements rl.Env.
func (c *Chain) Step(a rl.Action) (rl.Step[Vec], error) {
	if !c.started || c.done {
		return rl.Step[Vec]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(c.ActionSpace(), a, nil); err != nil {
		return rl.Step[Vec]{}, err
	}
	c.t++
	var r float64
	if a.Index == 1 {
		c.pos++
	} else {
		c.pos = max(c.pos-1, 0)
		r = 0.001
	}
	s := rl.Step[Vec]{}
	if c.pos == c.N-1 {
		r = 1
		s.Terminated = true
	} else if c.t >= c.Horizon {
		s.Truncated = true
	}
	c.done = s.Done()
	s.Obs, s.Reward = c.obs(), r
	return s, nil
}

// ActionSpace implements rl.Env.
func (c *Chain) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2} }
