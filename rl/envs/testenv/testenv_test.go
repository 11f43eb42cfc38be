package testenv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envtest"
)

func TestConformance(t *testing.T) {
	t.Run("bandit", func(t *testing.T) { envtest.Check(t, func() rl.Env[Vec] { return NewBandit() }, envtest.Options{}) })
	t.Run("chain", func(t *testing.T) { envtest.Check(t, func() rl.Env[Vec] { return NewChain() }, envtest.Options{}) })
	t.Run("split", func(t *testing.T) { envtest.Check(t, func() rl.Env[Vec] { return NewSplit() }, envtest.Options{}) })
	t.Run("cartpole", func(t *testing.T) { envtest.Check(t, func() rl.Env[Vec] { return NewCartPole() }, envtest.Options{}) })
}

// TestWaterFill checks the closed form against a brute-force grid search.
func TestWaterFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 50; trial++ {
		a := []float64{0.5 * rng.Float64(), 0.5 * rng.Float64(), 0.5 * rng.Float64()}
		b := []float64{0.5 + 1.5*rng.Float64(), 0.5 + 1.5*rng.Float64(), 0.5 + 1.5*rng.Float64()}
		tau, x := WaterFill(a, b)
		if s := x[0] + x[1] + x[2]; math.Abs(s-1) > 1e-9 {
			t.Fatalf("split sums to %v", s)
		}
		best := math.Inf(1)
		const n = 200
		for i := 0; i <= n; i++ {
			for j := 0; i+j <= n; j++ {
				xs := []float64{float64(i) / n, float64(j) / n, float64(n-i-j) / n}
				w := math.Inf(-1)
				for k := range xs {
					w = math.Max(w, a[k]+b[k]*xs[k])
				}
				best = math.Min(best, w)
			}
		}
		if tau > best+1e-9 || best-tau > 0.02 {
			t.Fatalf("water-filling level %v, grid optimum %v", tau, best)
		}
	}
}

// TestCartPoleKnownTrajectory: always pushing right from a fixed state tips
// the pole left and ends the episode within a few dozen steps; the state
// after one step follows the Euler update by hand.
func TestCartPoleKnownTrajectory(t *testing.T) {
	c := NewCartPole()
	c.Reset(1)
	c.x, c.xDot, c.th, c.thDot = 0, 0, 0, 0
	s, err := c.Step(rl.Action{Index: 1})
	if err != nil {
		t.Fatal(err)
	}
	// θ̈ = (0 − 1·(10/1.1)) / (0.5·(4/3 − 0.1/1.1)), ẍ = 10/1.1 − 0.05·θ̈/1.1.
	thAcc := (-10.0 / 1.1) / (0.5 * (4.0/3.0 - 0.1/1.1))
	xAcc := 10.0/1.1 - 0.05*thAcc/1.1
	if math.Abs(float64(s.Obs.X[1])-0.02*xAcc) > 1e-6 || math.Abs(float64(s.Obs.X[3])-0.02*thAcc) > 1e-6 {
		t.Fatalf("state after one push %v, want ẋ=%v θ̇=%v", s.Obs.X, 0.02*xAcc, 0.02*thAcc)
	}
	steps := 1
	for !s.Done() {
		s, _ = c.Step(rl.Action{Index: 1})
		steps++
	}
	if !s.Terminated || steps > 60 {
		t.Fatalf("always-right episode: %d steps, terminated %v", steps, s.Terminated)
	}
}

func TestOptimalReturns(t *testing.T) {
	if v := NewBandit().Optimal(); math.Abs(v-(0.9+0.8+1.0)/3) > 1e-12 {
		t.Fatalf("bandit optimum %v", v)
	}
	if v := NewSplit().Optimal(); v > -0.2 || v < -1 {
		t.Fatalf("split optimum %v out of the plausible range", v)
	}
	// The chain's optimum is reached by always moving right.
	c := NewChain()
	c.Reset(1)
	var ret float64
	for {
		s, _ := c.Step(rl.Action{Index: 1})
		ret += s.Reward
		if s.Done() {
			break
		}
	}
	if ret != c.Optimal() {
		t.Fatalf("always-right chain return %v, want %v", ret, c.Optimal())
	}
}

// TestPlacementKnownRewards: with finish times t = (2, 1, 3) the rewards
// (t_max − t_j)/(t_max − t_min) are 0.5, 1, 0; equal times pay 1; the
// exact rule −(l+s)/c earns the optimum 4 per episode on any seed and an
// episode has 4 steps, the last terminated, with masks of the set's size.
func TestPlacementKnownRewards(t *testing.T) {
	p := NewPlacement()
	p.t = []float64{2, 1, 3}
	for j, want := range []float64{0.5, 1, 0} {
		if got := p.Reward(j); got != want {
			t.Errorf("reward(%d) = %v, want %v", j, got, want)
		}
	}
	p.t = []float64{2, 2}
	if p.Reward(1) != 1 {
		t.Errorf("equal times pay %v, want 1", p.Reward(1))
	}
	exact := Heuristic(func(l, c, s float32) float32 { return -(l + s) / c })
	ev, err := rl.Evaluate(rl.Env[Items](NewPlacement()), exact, 50, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ev.Returns {
		if r != 4 || ev.Lengths[i] != 4 {
			t.Fatalf("episode %d: return %v in %d steps, want 4 in 4", i, r, ev.Lengths[i])
		}
	}
	o, _ := p.Reset(3)
	for step := 0; step < 4; step++ {
		if o.N < 2 || o.N > 6 || len(o.X) != 2*o.N {
			t.Fatalf("step %d: %d elements, %d features", step, o.N, len(o.X))
		}
		for j, m := range o.Mask {
			if m != (j < o.N) {
				t.Fatalf("step %d: mask %v for %d elements", step, o.Mask, o.N)
			}
		}
		if _, err := p.Step(rl.Action{Index: o.N}); err == nil {
			t.Fatal("a masked server was accepted")
		}
		s, err := p.Step(rl.Action{Index: 0})
		if err != nil || s.Terminated != (step == 3) {
			t.Fatalf("step %d: terminated %v, %v", step, s.Terminated, err)
		}
		o = s.Obs
	}
}
