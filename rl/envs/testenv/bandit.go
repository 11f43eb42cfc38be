package testenv

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// Bandit is a contextual bandit: each episode is one step; the observation
// is a one-hot context, and arm a in context c pays Means[c][a] plus
// Gaussian noise of standard deviation Noise. The last arm of every context
// is masked (never allowed), to exercise masks.
type Bandit struct {
	Means [][]float64
	Noise float64

	rng  *rand.Rand
	src  *rand.PCG
	ctx  int
	done bool
}

// NewBandit returns a bandit with 3 contexts and 4 arms whose best arm
// differs per context.
func NewBandit() *Bandit {
	return &Bandit{Means: [][]float64{
		{0.1, 0.9, 0.3, 5},
		{0.8, 0.2, 0.1, 5},
		{0.2, 0.3, 1.0, 5},
	}, Noise: 0.1}
}

// Optimal returns the expected return of the best policy (contexts are
// uniform; the masked arm never counts).
func (b *Bandit) Optimal() float64 {
	var s float64
	for _, m := range b.Means {
		best := m[0]
		for _, v := range m[:len(m)-1] {
			best = max(best, v)
		}
		s += best
	}
	return s / float64(len(b.Means))
}

func (b *Bandit) obs() Vec {
	n, k := len(b.Means), len(b.Means[0])
	v := Vec{X: make([]float32, n), Mask: make([]bool, k)}
	v.X[b.ctx] = 1
	for i := 0; i < k-1; i++ {
		v.Mask[i] = true
	}
	return v
}

// Reset implements rl.Env.
func (b *Bandit) Reset(seed uint64) (Vec, error) {
	b.src = rand.NewPCG(seed, 0xba)
	b.rng = rand.New(b.src)
	b.ctx = b.rng.IntN(len(b.Means))
	b.done = false
	return b.obs(), nil
}

// Step implements rl.Env.
func (b *Bandit) Step(a rl.Action) (rl.Step[Vec], error) {
	if b.rng == nil || b.done {
		return rl.Step[Vec]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(b.ActionSpace(), a, b.obs().Mask); err != nil {
		return rl.Step[Vec]{}, err
	}
	r := b.Means[b.ctx][a.Index] + b.Noise*b.rng.NormFloat64()
	b.done = true
	return rl.Step[Vec]{Obs: b.obs(), Reward: r, Terminated: true}, nil
}

// ActionSpace implements rl.Env.
func (b *Bandit) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: len(b.Means[0])} }

// String describes the environment.
func (b *Bandit) String() string { return fmt.Sprintf("bandit(%d contexts)", len(b.Means)) }
