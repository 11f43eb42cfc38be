package testenv

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// CartPole is the cart-pole balancing task with the equations of Barto,
// Sutton and Anderson (1983) as in Gymnasium's CartPole-v1: Euler
// integration with τ = 0.02 s, force ±10 N, reward 1 per step, termination
// when |x| > 2.4 or |θ| > 12°, truncation after 500 steps. Observation:
// (x, ẋ, θ, θ̇).
type CartPole struct {
	MaxSteps int

	x, xDot, th, thDot float64
	t                  int
	rng                *rand.Rand
	src                *rand.PCG
	done               bool
}

// NewCartPole returns CartPole-v1 (500-step limit).
func NewCartPole() *CartPole { return &CartPole{MaxSteps: 500} }

const (
	cpGravity   = 9.8
	cpMassCart  = 1.0
	cpMassPole  = 0.1
	cpTotalMass = cpMassCart + cpMassPole
	cpLength    = 0.5 // half the pole's length
	cpPoleML    = cpMassPole * cpLength
	cpForce     = 10.0
	cpTau       = 0.02
	cpThetaMax  = 12 * 2 * math.Pi / 360
	cpXMax      = 2.4
)

// Optimal returns the best return (the step limit).
func (c *CartPole) Optimal() float64 { return float64(c.MaxSteps) }

func (c *CartPole) obs() Vec {
	return Vec{X: []float32{float32(c.x), float32(c.xDot), float32(c.th), float32(c.thDot)}}
}

// Reset implements rl.Env: the state is drawn uniformly from ±0.05.
func (c *CartPole) Reset(seed uint64) (Vec, error) {
	c.src = rand.NewPCG(seed, 0xca)
	c.rng = rand.New(c.src)
	u := func() float64 { return 0.1*c.rng.Float64() - 0.05 }
	c.x, c.xDot, c.th, c.thDot = u(), u(), u(), u()
	c.t, c.done = 0, false
	return c.obs(), nil
}

// Step implements rl.Env.
func (c *CartPole) Step(a rl.Action) (rl.Step[Vec], error) {
	if c.rng == nil || c.done {
		return rl.Step[Vec]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(c.ActionSpace(), a, nil); err != nil {
		return rl.Step[Vec]{}, err
	}
	force := -cpForce
	if a.Index == 1 {
		force = cpForce
	}
	cos, sin := math.Cos(c.th), math.Sin(c.th)
	temp := (force + cpPoleML*c.thDot*c.thDot*sin) / cpTotalMass
	thAcc := (cpGravity*sin - cos*temp) / (cpLength * (4.0/3.0 - cpMassPole*cos*cos/cpTotalMass))
	xAcc := temp - cpPoleML*thAcc*cos/cpTotalMass
	c.x += cpTau * c.xDot
	c.xDot += cpTau * xAcc
	c.th += cpTau * c.thDot
	c.thDot += cpTau * thAcc
	c.t++
	s := rl.Step[Vec]{Obs: c.obs(), Reward: 1}
	s.Terminated = c.x < -cpXMax || c.x > cpXMax || c.th < -cpThetaMax || c.th > cpThetaMax
	s.Truncated = !s.Terminated && c.t >= c.MaxSteps
	c.done = s.Done()
	return s, nil
}

// ActionSpace implements rl.Env.
func (c *CartPole) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2} }

// String describes the state.
func (c *CartPole) String() string {
	return fmt.Sprintf("cartpole(t=%d x=%.3f θ=%.3f)", c.t, c.x, c.th)
}
