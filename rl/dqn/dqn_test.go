package dqn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// smallConfig is a budget for the known-answer environments, trained with
// the Q-network mlpQ.
func smallConfig(seed uint64, steps int64) Config {
	c := DefaultConfig()
	c.Seed = seed
	c.TotalTimesteps = steps
	c.LearningRate = 1e-3
	c.BufferSize = 5000
	c.TargetNetworkFrequency = 100
	c.BatchSize = 32
	c.LearningStarts = 500
	c.TrainFrequency = 2
	return c
}

// mlpQ is the Q-network smallConfig budgets for: two hidden layers of 32.
func mlpQ() agent.QBuilder[testenv.Vec] { return policy.MLPQ[testenv.Vec](32, 32) }

// greedy returns q's greedy action for obs (agent.GreedyQ), failing the
// test if every action is masked.
func greedy(t testing.TB, q agent.QFunction[testenv.Vec], obs testenv.Vec) int {
	t.Helper()
	a, err := agent.GreedyQ(q).Decide(obs)
	if err != nil {
		t.Fatal(err)
	}
	return a.Index
}

// qOf returns q's Q-values for the one observation with features x.
func qOf(q agent.QFunction[testenv.Vec], x ...float32) []float32 {
	return q.QValues(nn.NewInference(), []testenv.Vec{{X: x}}).Data
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func TestBandit(t *testing.T) {
	t.Parallel()
	cfg := smallConfig(1, 4000)
	cfg.Gamma = 0
	res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewBandit() }, mlpQ(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Score the greedy arm of every context against the best allowed arm.
	b := testenv.NewBandit()
	var got float64
	for c, means := range b.Means {
		obs := testenv.Vec{X: make([]float32, len(b.Means)), Mask: make([]bool, len(means))}
		obs.X[c] = 1
		for i := 0; i < len(means)-1; i++ {
			obs.Mask[i] = true
		}
		got += means[greedy(t, res.Q, obs)] / float64(len(b.Means))
	}
	if opt := b.Optimal(); got < 0.99*opt {
		t.Errorf("greedy expected return %.4f < 99%% of optimal %.4f", got, opt)
	}
	t.Logf("greedy expected return %.4f, optimal %.4f", got, b.Optimal())
}

func TestChain(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		cfg := smallConfig(seed, 20000)
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewChain() }, mlpQ(), nil)
		if err != nil {
			t.Fatal(err)
		}
		env := testenv.NewChain()
		ev, err := rl.Evaluate(rl.Env[testenv.Vec](env), agent.GreedyQ(res.Q), 5, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := mean(ev.Returns); got < 0.99*env.Optimal() {
			t.Errorf("seed %d: greedy return %.4f < 99%% of optimal %.4f", seed, got, env.Optimal())
		}
	}
}

// oneStep is a one-state environment paying 1 per step whose episodes end
// after one step, by termination or by truncation.
type oneStep struct {
	truncate bool
	done     bool
}

func (e *oneStep) Reset(uint64) (testenv.Vec, error) {
	e.done = false
	return testenv.Vec{X: []float32{1}}, nil
}

func (e *oneStep) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	if e.done {
		return rl.Step[testenv.Vec]{}, rl.ErrEpisodeOver
	}
	e.done = true
	return rl.Step[testenv.Vec]{Obs: testenv.Vec{X: []float32{1}}, Reward: 1, Terminated: !e.truncate, Truncated: e.truncate}, nil
}

func (e *oneStep) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 1} }

// TestTruncationBootstraps checks the fixed points: Q = 1 when every step
// terminates, Q = 1/(1−γ) when it is only truncated (the next state's value
// is bootstrapped).
func TestTruncationBootstraps(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		truncate bool
		want     float64
	}{{false, 1}, {true, 2}} {
		cfg := smallConfig(5, 6000)
		cfg.Gamma = 0.5
		cfg.TrainFrequency = 1
		cfg.TargetNetworkFrequency = 50
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return &oneStep{truncate: c.truncate} }, mlpQ(), nil)
		if err != nil {
			t.Fatal(err)
		}
		q := float64(qOf(res.Q, 1)[0])
		if math.Abs(q-c.want) > 0.05 {
			t.Errorf("truncate=%v: Q = %.4f, want %.1f", c.truncate, q, c.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	run := func() Result[testenv.Vec] {
		cfg := smallConfig(3, 1500)
		cfg.DoubleDQN = true
		cfg.Tau = 0.5
		cfg.Loss = Huber
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }, mlpQ(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(), run()
	if a.Updates == 0 {
		t.Fatal("no gradient steps taken")
	}
	pa, pb := nn.Collect(a.Q), nn.Collect(b.Q)
	for i := range pa {
		for j, v := range pa[i].Param.V.Data {
			if math.Float32bits(v) != math.Float32bits(pb[i].Param.V.Data[j]) {
				t.Fatalf("parameter %s[%d] differs: %v vs %v", pa[i].Path, j, v, pb[i].Param.V.Data[j])
			}
		}
	}
	if len(a.Episodes) != len(b.Episodes) {
		t.Fatalf("episode counts differ: %d vs %d", len(a.Episodes), len(b.Episodes))
	}
}

// TestMaskRespected trains on the bandit, whose last arm pays most but is
// masked, and checks it is never taken.
func TestMaskRespected(t *testing.T) {
	t.Parallel()
	cfg := smallConfig(4, 1200)
	cfg.Gamma = 0
	taken := 0
	env := &spyEnv{Bandit: testenv.NewBandit(), taken: &taken}
	if _, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return env }, mlpQ(), nil); err != nil {
		t.Fatal(err) // the bandit returns an error for a masked action
	}
	if taken != 1200 {
		t.Fatalf("took %d steps", taken)
	}
}

type spyEnv struct {
	*testenv.Bandit
	taken *int
}

func (s *spyEnv) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	*s.taken++
	return s.Bandit.Step(a)
}

func TestLinearSchedule(t *testing.T) {
	for _, c := range []struct {
		t    int64
		want float64
	}{{0, 1}, {50, 0.525}, {100, 0.05}, {1000, 0.05}} {
		if got := LinearSchedule(1, 0.05, 100, c.t); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LinearSchedule(t=%d) = %v, want %v", c.t, got, c.want)
		}
	}
}

func TestRandomAllowed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	mask := []bool{false, true, false, true}
	seen := map[int]int{}
	for i := 0; i < 1000; i++ {
		seen[randomAllowed(rng, 4, mask)]++
	}
	if len(seen) != 2 || seen[1] == 0 || seen[3] == 0 {
		t.Fatalf("random actions %v, want only 1 and 3", seen)
	}
	if agent.ArgmaxAllowed([]float32{5, 1, 9, 2}, mask) != 3 {
		t.Fatal("ArgmaxAllowed chose a masked action")
	}
	if randomAllowed(rng, 2, []bool{false, false}) != -1 || agent.ArgmaxAllowed([]float32{1}, []bool{false}) != -1 {
		t.Fatal("want -1 when every action is masked")
	}
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Train(ctx, smallConfig(1, 100), func() rl.Env[testenv.Vec] { return testenv.NewChain() }, mlpQ(), nil)
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Tau = 0
	if bad.Validate() == nil {
		t.Error("Tau 0 accepted")
	}
	bad = DefaultConfig()
	bad.Loss = "l1"
	if bad.Validate() == nil {
		t.Error("unknown loss accepted")
	}
}
