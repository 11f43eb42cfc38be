package testenv

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// Items is a set observation: N elements of ElemDim features each (row-
// major in X), global features G, and the mask of the Max discrete actions
// (element i is action i; actions ≥ N are masked). It implements rl.Masked
// and the set accessors models use (Len, Element, Global).
type Items struct {
	X       []float32
	N       int
	ElemDim int
	G       []float32
	Mask    []bool
}

// Len is the number of elements.
func (o Items) Len() int { return o.N }

// Element returns element i's features.
func (o Items) Element(i int) []float32 { return o.X[i*o.ElemDim : (i+1)*o.ElemDim] }

// Global returns the global features.
func (o Items) Global() []float32 { return o.G }

// ActionMask implements rl.Masked.
func (o Items) ActionMask() []bool { return o.Mask }

// Placement is a known-answer set environment: each step a task of size s
// must be placed on one of n servers (n varies per step, 2 … MaxServers),
// server j having a queued load l_j and a speed c_j, so that the task
// finishes at t_j = (l_j + s)/c_j. The reward of placing it on j is
// (t_max − t_j)/(t_max − t_min) ∈ [0, 1]: 1 for the fastest server, 0 for
// the slowest. An episode is Steps independent placements, so the optimal
// return is Steps (Optimal) and a uniformly random choice earns 0.5 per
// step in expectation over the set's order.
//
// Observation: Items with ElemDim 2 (l_j, c_j) and one global feature (s);
// l ~ U[0, 1], c ~ U[0.5, 2], s ~ U[0.1, 1], n ~ U{2 … MaxServers}. The
// best server depends on all three numbers, so neither the fastest nor the
// least-loaded server is always right (Heuristic measures them).
type Placement struct {
	MaxServers, Steps int

	rng  *rand.Rand
	cur  Items
	t    []float64
	step int
	done bool
}

// NewPlacement returns a placement environment with up to 6 servers and 4
// placements per episode.
func NewPlacement() *Placement { return &Placement{MaxServers: 6, Steps: 4} }

// Optimal returns the optimal expected return.
func (p *Placement) Optimal() float64 { return float64(p.Steps) }

// ActionSpace implements rl.Env.
func (p *Placement) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: p.MaxServers} }

func (p *Placement) draw() {
	n := 2 + p.rng.IntN(p.MaxServers-1)
	o := Items{X: make([]float32, 2*n), N: n, ElemDim: 2, G: []float32{float32(0.1 + 0.9*p.rng.Float64())}, Mask: make([]bool, p.MaxServers)}
	p.t = p.t[:0]
	for j := 0; j < n; j++ {
		l, c := float32(p.rng.Float64()), float32(0.5+1.5*p.rng.Float64())
		o.X[2*j], o.X[2*j+1] = l, c
		o.Mask[j] = true
		p.t = append(p.t, float64((l+o.G[0])/c))
	}
	p.cur = o
}

// Reset implements rl.Env.
func (p *Placement) Reset(seed uint64) (Items, error) {
	if p.MaxServers < 2 || p.Steps < 1 {
		return Items{}, fmt.Errorf("testenv: placement needs MaxServers ≥ 2 and Steps ≥ 1, got %d and %d", p.MaxServers, p.Steps)
	}
	p.rng = rand.New(rand.NewPCG(seed, 0x51ace))
	p.step, p.done = 0, false
	p.draw()
	return p.cur, nil
}

// Reward returns the reward of placing the current task on server j.
func (p *Placement) Reward(j int) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range p.t {
		lo, hi = math.Min(lo, t), math.Max(hi, t)
	}
	if hi == lo {
		return 1
	}
	return (hi - p.t[j]) / (hi - lo)
}

// Step implements rl.Env. Info: "optimal_reward" (always 1).
func (p *Placement) Step(a rl.Action) (rl.Step[Items], error) {
	if p.rng == nil || p.done {
		return rl.Step[Items]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(p.ActionSpace(), a, p.cur.Mask); err != nil {
		return rl.Step[Items]{}, err
	}
	r := p.Reward(a.Index)
	p.step++
	p.done = p.step >= p.Steps
	if !p.done {
		p.draw()
	}
	return rl.Step[Items]{Obs: p.cur, Reward: r, Terminated: p.done, Info: map[string]float64{"optimal_reward": 1}}, nil
}

// Heuristic returns a policy that scores every server by score(l, c, s)
// and takes the largest: the reference points of the learning tests
// (fastest server: score = c; least loaded: score = −l).
func Heuristic(score func(l, c, s float32) float32) rl.Policy[Items] {
	return rl.PolicyFunc[Items](func(o Items) (rl.Action, error) {
		best := 0
		for j := 1; j < o.N; j++ {
			if score(o.X[2*j], o.X[2*j+1], o.G[0]) > score(o.X[2*best], o.X[2*best+1], o.G[0]) {
				best = j
			}
		}
		return rl.Action{Index: best}, nil
	})
}
