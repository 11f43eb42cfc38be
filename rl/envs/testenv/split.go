package testenv

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/cpntrain/cpntrain/rl"
)

// Split is a one-step split-ratio environment: K paths have latencies
// L_i(x_i) = A_i + B_i·x_i when carrying the fraction x_i of the data; the
// reward is −max_i L_i (every path counts, used or not). Each episode draws
// A_i ∈ [0, 0.5] and B_i ∈ [0.5, 2] and shows them as the observation
// (A then B). The optimum is water-filling: the level τ with
// Σ_i max(0, (τ − A_i)/B_i) = 1, x_i = max(0, (τ − A_i)/B_i), reward −τ.
type Split struct {
	K int

	a, b []float64
	rng  *rand.Rand
	src  *rand.PCG
	done bool
}

// NewSplit returns a 3-path split environment.
func NewSplit() *Split { return &Split{K: 3} }

// WaterFill returns the optimal level τ and split for latencies A + B·x.
func WaterFill(a, b []float64) (tau float64, x []float64) {
	k := len(a)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return a[idx[i]] < a[idx[j]] })
	// Add paths in order of A while the level stays above the next A.
	var sInv, sAInv float64
	for n := 1; n <= k; n++ {
		i := idx[n-1]
		sInv += 1 / b[i]
		sAInv += a[i] / b[i]
		tau = (1 + sAInv) / sInv
		if n == k || tau <= a[idx[n]] {
			break
		}
	}
	x = make([]float64, k)
	for i := range x {
		x[i] = math.Max(0, (tau-a[i])/b[i])
	}
	return tau, x
}

// Optimal returns the expected optimal return, estimated over 20,000 draws
// of the environment's distribution with a fixed seed.
func (s *Split) Optimal() float64 {
	rng := rand.New(rand.NewPCG(12345, 0))
	var sum float64
	const n = 20000
	a, b := make([]float64, s.K), make([]float64, s.K)
	for j := 0; j < n; j++ {
		for i := range a {
			a[i] = 0.5 * rng.Float64()
			b[i] = 0.5 + 1.5*rng.Float64()
		}
		tau, _ := WaterFill(a, b)
		sum -= tau
	}
	return sum / n
}

func (s *Split) obs() Vec {
	v := Vec{X: make([]float32, 2*s.K)}
	for i := 0; i < s.K; i++ {
		v.X[i] = float32(s.a[i])
		v.X[s.K+i] = float32(s.b[i])
	}
	return v
}

// Reset implements rl.Env.
func (s *Split) Reset(seed uint64) (Vec, error) {
	s.src = rand.NewPCG(seed, 0x5b)
	s.rng = rand.New(s.src)
	s.a, s.b = make([]float64, s.K), make([]float64, s.K)
	for i := range s.a {
		s.a[i] = 0.5 * s.rng.Float64()
		s.b[i] = 0.5 + 1.5*s.rng.Float64()
	}
	s.done = false
	return s.obs(), nil
}

// Step implements rl.Env.
func (s *Split) Step(a rl.Action) (rl.Step[Vec], error) {
	if s.rng == nil || s.done {
		return rl.Step[Vec]{}, rl.ErrEpisodeOver
	}
	if err := rl.CheckAction(s.ActionSpace(), a, nil); err != nil {
		return rl.Step[Vec]{}, err
	}
	worst := math.Inf(-1)
	for i, x := range a.Values {
		worst = math.Max(worst, s.a[i]+s.b[i]*float64(x))
	}
	s.done = true
	tau, _ := WaterFill(s.a, s.b)
	return rl.Step[Vec]{Obs: s.obs(), Reward: -worst, Terminated: true, Info: map[string]float64{"optimal_reward": -tau}}, nil
}

// ActionSpace implements rl.Env.
func (s *Split) ActionSpace() rl.Space { return rl.Space{Kind: rl.Simplex, N: s.K} }
