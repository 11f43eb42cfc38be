package pg

// Known-value tests of one REINFORCE update on hand-built episodes: the
// discounted returns-to-go (with the truncation bootstrap the package doc
// promises: γ·V(final observation) when the agent has a critic, nothing
// otherwise, and never after a termination), the baselines, the
// advantages, the losses and their gradients, all computed by hand in the
// comments. The networks are tables indexed by the observation (an int
// state id) whose outputs pass through a zero leaf tensor, so the gradient
// of the loss with respect to every output row can be read after
// Backward: ∂L/∂V_i = (V_i − G_i)/n for the critic, ∂L/∂log π_i = −A_i/n
// and ∂L/∂H_i = −EntCoef/n for an actor.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	rlagent "github.com/cpntrain/cpntrain/rl/agent"
)

// sStep is one scripted environment step.
type sStep struct {
	r           float64
	term, trunc bool
	next        int // observation after the step (the final one if done)
}

// scriptEnv replays a fixed script: Reset returns starts[0], starts[1], …
// in turn, Step the next scripted step. It records the actions it gets.
type scriptEnv struct {
	starts  []int
	steps   []sStep
	nr, ns  int
	actions []rl.Action
}

func (e *scriptEnv) Reset(seed uint64) (int, error) {
	if e.nr >= len(e.starts) {
		return 0, fmt.Errorf("script: reset %d not scripted", e.nr)
	}
	e.nr++
	return e.starts[e.nr-1], nil
}

func (e *scriptEnv) Step(a rl.Action) (rl.Step[int], error) {
	if e.ns >= len(e.steps) {
		return rl.Step[int]{}, fmt.Errorf("script: step %d not scripted", e.ns)
	}
	e.actions = append(e.actions, a)
	s := e.steps[e.ns]
	e.ns++
	return rl.Step[int]{Obs: s.next, Reward: s.r, Terminated: s.term, Truncated: s.trunc}, nil
}

func (e *scriptEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 1} }

const nStates = 32

// table is a per-state R×1 parameter read through a zero leaf: out_i =
// w[obs_i] + 0, and after Backward leaf.Grad[i] = ∂L/∂out_i.
type table struct {
	w      *nn.Param
	leaves []*nn.Tensor // one per recording call (per chunk) since the last grad
}

func newTable(vals map[int]float32) *table {
	w := nn.NewParam(nStates, 1)
	for s, v := range vals {
		w.V.Data[s] = v
	}
	return &table{w: w}
}

func (tb *table) out(t *nn.Tape, obs []int) *nn.Tensor {
	x := t.Gather(nn.P(tb.w), obs)
	if !t.Recording() {
		return x
	}
	leaf := nn.NewParam(len(obs), 1).V // not in the tape's arena: outlives a Reset
	tb.leaves = append(tb.leaves, leaf)
	return t.Add(x, leaf)
}

// grad returns ∂L/∂out of the rows evaluated since the last call, in
// order (chunk after chunk).
func (tb *table) grad() []float32 {
	var g []float32
	for _, l := range tb.leaves {
		g = append(g, l.Grad...)
	}
	tb.leaves = nil
	return g
}

// tabCritic is a tabular V(s) that records its inference calls.
type tabCritic struct {
	*table
	infCalls [][]int
}

func (c *tabCritic) Params(visit func(string, *nn.Param)) { visit("v", c.w) }

func (c *tabCritic) Value(t *nn.Tape, obs []int) *nn.Tensor {
	if !t.Recording() {
		c.infCalls = append(c.infCalls, append([]int(nil), obs...))
	}
	return c.out(t, obs)
}

// tabActor's log-probability and entropy of state s are the tables lp[s]
// and h[s]; it acts Index = off + s and checks in Evaluate that it gets
// back those actions.
type tabActor struct {
	lp, h *table
	off   int
	errs  *[]string
	evals int // Evaluate calls: one per update
}

func newTabActor(off int, lp, h map[int]float32, errs *[]string) *tabActor {
	return &tabActor{lp: newTable(lp), h: newTable(h), off: off, errs: errs}
}

func (a *tabActor) Params(visit func(string, *nn.Param)) {
	visit("lp", a.lp.w)
	visit("h", a.h.w)
}

func (a *tabActor) Act(t *nn.Tape, obs []int, rng *rand.Rand) []rl.Action {
	out := make([]rl.Action, len(obs))
	for i, o := range obs {
		out[i] = rl.Action{Index: a.off + o}
	}
	return out
}

func (a *tabActor) Mode(t *nn.Tape, obs []int) []rl.Action { return a.Act(t, obs, nil) }

func (a *tabActor) Evaluate(t *nn.Tape, obs []int, actions []rl.Action) (*nn.Tensor, *nn.Tensor) {
	a.evals++
	for i, o := range obs {
		if actions[i].Index != a.off+o {
			*a.errs = append(*a.errs, fmt.Sprintf("actor %d: Evaluate row %d: action %d for observation %d", a.off, i, actions[i].Index, o))
		}
	}
	return a.lp.out(t, obs), a.h.out(t, obs)
}

// condActor is a tabActor conditioned on the actor before it (offset 0).
type condActor struct{ *tabActor }

func (c condActor) checkPrev(what string, obs []int, prev [][]rl.Action) {
	if len(prev) != 1 || len(prev[0]) != len(obs) {
		*c.errs = append(*c.errs, fmt.Sprintf("%s: %d earlier actors for %d observations", what, len(prev), len(obs)))
		return
	}
	for i, o := range obs {
		if prev[0][i].Index != o {
			*c.errs = append(*c.errs, fmt.Sprintf("%s: earlier action %d for observation %d", what, prev[0][i].Index, o))
		}
	}
}

func (c condActor) ActGiven(t *nn.Tape, obs []int, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	c.checkPrev("ActGiven", obs, prev)
	return c.Act(t, obs, rng)
}

func (c condActor) ModeGiven(t *nn.Tape, obs []int, prev [][]rl.Action) []rl.Action {
	c.checkPrev("ModeGiven", obs, prev)
	return c.Mode(t, obs)
}

func (c condActor) EvaluateGiven(t *nn.Tape, obs []int, prev [][]rl.Action, actions []rl.Action) (*nn.Tensor, *nn.Tensor) {
	c.checkPrev("EvaluateGiven", obs, prev)
	return c.Evaluate(t, obs, actions)
}

// capture keeps the losses and output gradients of the last update.
type capture struct {
	logs   int
	losses map[string]float64
	grads  func()
}

func (c *capture) logger(_ int64, m map[string]float64) {
	if _, ok := m["losses/policy_loss"]; !ok {
		return
	}
	c.logs++
	c.losses = map[string]float64{}
	for k, v := range m {
		c.losses[k] = v
	}
	if c.grads != nil {
		c.grads()
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func checkVec(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for i := range want {
		if !near(float64(got[i]), want[i], 1e-6) {
			t.Errorf("%s[%d] = %v, want %v (all %v)", what, i, got[i], want[i], got)
			return
		}
	}
}

func scale(x []float64, s float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = s * v
	}
	return out
}

func constMap(states []int, v float32) map[int]float32 {
	m := map[int]float32{}
	for _, s := range states {
		m[s] = v
	}
	return m
}

func errsOK(t *testing.T, errs []string) {
	t.Helper()
	if len(errs) > 0 {
		t.Errorf("%d wiring errors, first ones:\n%s", len(errs), strings.Join(errs[:min(len(errs), 5)], "\n"))
	}
}

// pgScript: 2 environments, 3 episodes per batch, γ = ½.
// Env 0, episode A: from 0, r=½ → 1, r=2 → 2, r=8 terminated (final 3).
// Env 1, episode B1: from 10, r=1 truncated (final 11, V = 6); episode
// B2: from 12, r=2 terminated AND truncated (final 13, V = 50).
// The environments step in lockstep, so the episodes end in the order
// B1 (step 1), B2 (step 2), A (step 3), and the flattened batch is
// states 10, 12, 0, 1, 2.
func pgScript() func() rl.Env[int] {
	envs := []*scriptEnv{
		{starts: []int{0}, steps: []sStep{{0.5, false, false, 1}, {2, false, false, 2}, {8, true, false, 3}}},
		{starts: []int{10, 12}, steps: []sStep{{1, false, true, 11}, {2, true, true, 13}}},
	}
	n := 0
	return func() rl.Env[int] { n++; return envs[n-1] }
}

var (
	pgObs    = []int{10, 12, 0, 1, 2}
	pgValues = map[int]float32{10: 1, 12: -0.5, 0: 0.5, 1: 2, 2: 4, 3: 100, 11: 6, 13: 50}
	// Returns-to-go G, γ = ½, with a critic:
	//   B1: 1 + ½·V(11) = 1 + 3 = 4          (truncated: bootstrap)
	//   B2: 2                                 (terminated: none)
	//   A:  G2 = 8, G1 = 2 + ½·8 = 6, G0 = ½ + ½·6 = 3.5
	pgReturns = []float64{4, 2, 3.5, 6, 8}
	// Without a critic the truncated episode is cut: B1's G = 1.
	pgReturnsNoCritic = []float64{1, 2, 3.5, 6, 8}
)

func pgCfg() Config {
	return Config{Seed: 1, TotalTimesteps: 5, NumEnvs: 2, NumEpisodes: 3,
		LearningRate: 1e-3, LearningRateCritic: 1e-3, Gamma: 0.5, EntCoef: 0.25}
}

// TestFinishEpisode: G_t = r_t + γ·G_{t+1} from G_T = boot. Rewards 1, 2,
// 3, γ = 0.9, boot 10: G2 = 3 + 9 = 12, G1 = 2 + 10.8 = 12.8,
// G0 = 1 + 11.52 = 12.52; with boot 0: 3, 2 + 2.7 = 4.7, 1 + 4.23 = 5.23.
func TestFinishEpisode(t *testing.T) {
	ep := &Episode[int]{Rewards: []float64{1, 2, 3}}
	finishEpisode(ep, 0.9, 10)
	for i, want := range []float64{12.52, 12.8, 12} {
		if !near(ep.Returns[i], want, 1e-12) {
			t.Errorf("boot 10: G%d = %v, want %v", i, ep.Returns[i], want)
		}
	}
	finishEpisode(ep, 0.9, 0)
	for i, want := range []float64{5.23, 4.7, 3} {
		if !near(ep.Returns[i], want, 1e-12) {
			t.Errorf("boot 0: G%d = %v, want %v", i, ep.Returns[i], want)
		}
	}
}

// TestKnownCriticBaseline: with the critic as the baseline, A = G − V:
// V(10, 12, 0, 1, 2) = 1, −½, ½, 2, 4 ⇒ A = 3, 2.5, 3, 4, 4 (mean 3.3).
// With EvalChunk 2 the batch is evaluated as {10, 12}, {0, 1}, {2}, each
// chunk's loss weighted by its share (2/5, 2/5, 1/5): every row's
// gradient and every loss is the whole batch's.
func TestKnownCriticBaseline(t *testing.T) {
	for _, tc := range []struct {
		normAdv bool
		chunk   int
	}{{false, 0}, {true, 0}, {false, 2}, {true, 2}} {
		normAdv, chunk := tc.normAdv, tc.chunk
		t.Run(fmt.Sprintf("normadv=%v,chunk=%d", normAdv, chunk), func(t *testing.T) {
			var errs []string
			critic := &tabCritic{table: newTable(pgValues)}
			actor := newTabActor(0, constMap(pgObs, -1), constMap(pgObs, 0.5), &errs)
			cfg := pgCfg()
			cfg.NormAdv, cfg.EvalChunk = normAdv, chunk
			var gV, gLP, gH []float32
			c := &capture{grads: func() { gV, gLP, gH = critic.grad(), actor.lp.grad(), actor.h.grad() }}
			// A Train that never ends (no steps, no update) must fail, not
			// hang: one update takes microseconds, the deadline is 5 s.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := Train(ctx, cfg, pgScript(), rlagent.Agent[int]{Critic: critic, Actors: []rlagent.Actor[int]{actor}}, nil, c.logger)
			if err != nil {
				t.Fatal(err)
			}
			errsOK(t, errs)
			if res.Steps != 5 || res.Updates != 1 || c.logs != 1 {
				t.Fatalf("%d steps, %d updates, %d loss logs; want 5, 1, 1", res.Steps, res.Updates, c.logs)
			}
			// Episodes in the order they end, with raw rewards: B1 1 (1
			// step), B2 2 (1 step), A ½+2+8 = 10.5 (3 steps).
			if got := fmt.Sprint(res.EpisodicReturns, res.EpisodicLengths); got != "[1 2 10.5] [1 1 3]" {
				t.Errorf("episodes %s, want [1 2 10.5] [1 1 3]", got)
			}
			// The critic is asked (inference) for the truncated B1's final
			// state only, not for the terminated-and-truncated B2's (and,
			// with chunks, for the advantages chunk by chunk).
			wantInf := "[[11]]"
			if chunk > 0 {
				wantInf = "[[11] [10 12] [0 1] [2]]"
			}
			if got := fmt.Sprint(critic.infCalls); got != wantInf {
				t.Errorf("critic inference calls %s, want %s", got, wantInf)
			}
			adv := []float64{3, 2.5, 3, 4, 4}
			// ∂L/∂V_i = (V_i − G_i)/5 = −A_i/5: the critic regresses on G.
			checkVec(t, "∂L/∂V", gV, scale(adv, -1.0/5))
			// value_loss = ½·(9 + 6.25 + 9 + 16 + 16)/5 = 5.625.
			if v := c.losses["losses/value_loss"]; !near(v, 5.625, 1e-6) {
				t.Errorf("value_loss %v, want 5.625", v)
			}
			wantPL := 3.3 // −mean(A·(−1)) = 16.5/5
			if normAdv {
				// (A − 3.3)/s, s² = (0.09+0.64+0.09+0.49+0.49)/4 = 0.45.
				s := math.Sqrt(0.45)
				adv = []float64{-0.3 / s, -0.8 / s, -0.3 / s, 0.7 / s, 0.7 / s}
				wantPL = 0
			}
			checkVec(t, "∂L/∂logπ", gLP, scale(adv, -1.0/5))
			if v := c.losses["losses/policy_loss"]; !near(v, wantPL, 1e-6) {
				t.Errorf("policy_loss %v, want %v", v, wantPL)
			}
			// ∂L/∂H_i = −EntCoef/5 = −0.05; mean entropy ½.
			checkVec(t, "∂L/∂H", gH, []float64{-0.05, -0.05, -0.05, -0.05, -0.05})
			if v := c.losses["losses/entropy"]; !near(v, 0.5, 1e-7) {
				t.Errorf("entropy %v, want 0.5", v)
			}
		})
	}
}

// TestKnownNoCritic: without a critic nor a baseline function, A = G, the
// truncated episode is cut (B1's G = 1), and no value loss is logged.
// policy_loss = −mean(G·(−1)) = (1+2+3.5+6+8)/5 = 4.1.
func TestKnownNoCritic(t *testing.T) {
	var errs []string
	actor := newTabActor(0, constMap(pgObs, -1), nil, &errs)
	var gLP []float32
	c := &capture{grads: func() { gLP = actor.lp.grad() }}
	if _, err := Train(context.Background(), pgCfg(), pgScript(), rlagent.Agent[int]{Actors: []rlagent.Actor[int]{actor}}, nil, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	checkVec(t, "∂L/∂logπ", gLP, scale(pgReturnsNoCritic, -1.0/5))
	if v := c.losses["losses/policy_loss"]; !near(v, 4.1, 1e-6) {
		t.Errorf("policy_loss %v, want 4.1", v)
	}
	if _, ok := c.losses["losses/value_loss"]; ok {
		t.Error("value_loss logged without a critic")
	}
}

// TestKnownBaselineFunc: a Baseline function takes precedence over the
// critic as the baseline, sees the episodes in batch order with their
// returns-to-go (bootstrapped by the critic), and the critic still
// learns G. b[i][t] = ½·(t+1) ⇒ A = 4−½, 2−½, 3.5−½, 6−1, 8−1.5 =
// 3.5, 1.5, 3, 5, 6.5. Two actors, the second conditional on the first:
// both get A, and the losses sum: policy_loss = mean(A)·(1 + 2) =
// 19.5/5·3 = 11.7, entropy ½ + ¼.
func TestKnownBaselineFunc(t *testing.T) {
	var errs []string
	critic := &tabCritic{table: newTable(pgValues)}
	a0 := newTabActor(0, constMap(pgObs, -1), constMap(pgObs, 0.5), &errs)
	a1 := condActor{newTabActor(100, constMap(pgObs, -2), constMap(pgObs, 0.25), &errs)}
	var seen string
	base := func(batch []Episode[int], b [][]float64) {
		var parts []string
		for i, ep := range batch {
			parts = append(parts, fmt.Sprint(ep.Obs, ep.Rewards, ep.Returns))
			for t := range b[i] {
				b[i][t] = 0.5 * float64(t+1)
			}
		}
		seen = strings.Join(parts, " ")
	}
	var gV, gLP0, gLP1 []float32
	c := &capture{grads: func() { gV, gLP0, gLP1 = critic.grad(), a0.lp.grad(), a1.lp.grad() }}
	agent := rlagent.Agent[int]{Critic: critic, Actors: []rlagent.Actor[int]{a0, a1},
		Combine: func(p []rl.Action) rl.Action { return rl.Action{Index: p[0].Index + 10*p[1].Index} }}
	if _, err := Train(context.Background(), pgCfg(), pgScript(), agent, base, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	if want := "[10] [1] [4] [12] [2] [2] [0 1 2] [0.5 2 8] [3.5 6 8]"; seen != want {
		t.Errorf("baseline saw %s, want %s", seen, want)
	}
	adv := []float64{3.5, 1.5, 3, 5, 6.5}
	checkVec(t, "∂L/∂V", gV, scale([]float64{3, 2.5, 3, 4, 4}, -1.0/5))
	checkVec(t, "∂L/∂logπ0", gLP0, scale(adv, -1.0/5))
	checkVec(t, "∂L/∂logπ1", gLP1, scale(adv, -1.0/5))
	for k, want := range map[string]float64{"losses/policy_loss": 11.7, "losses/entropy": 0.75, "losses/value_loss": 5.625} {
		if v := c.losses[k]; !near(v, want, 1e-5) {
			t.Errorf("%s %v, want %v", k, v, want)
		}
	}
}

// oneStepEnv: every episode is one step from state 0, reward 1,
// terminated. It calls onStep (if set) with the number of steps so far.
type oneStepEnv struct {
	resets, steps int
	onStep        func(int)
}

func (e *oneStepEnv) Reset(uint64) (int, error) { e.resets++; return 0, nil }
func (e *oneStepEnv) Step(rl.Action) (rl.Step[int], error) {
	e.steps++
	if e.onStep != nil {
		e.onStep(e.steps)
	}
	return rl.Step[int]{Obs: 1, Reward: 1, Terminated: true}, nil
}
func (e *oneStepEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 1} }

// TestKnownSingleStepNormAdv: NormAdv leaves a batch of one advantage as
// it is: G = 1, no critic ⇒ ∂L/∂log π = −1.
func TestKnownSingleStepNormAdv(t *testing.T) {
	var errs []string
	actor := newTabActor(0, nil, nil, &errs)
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps, cfg.NormAdv = 1, 1, 1, true
	var gLP []float32
	c := &capture{grads: func() { gLP = actor.lp.grad() }}
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, rlagent.Agent[int]{Actors: []rlagent.Actor[int]{actor}}, nil, c.logger); err != nil {
		t.Fatal(err)
	}
	checkVec(t, "∂L/∂logπ", gLP, []float64{-1})
}

// TestFewerEpisodesThanEnvs: with NumEpisodes 2 < NumEnvs 3 only two
// environments are started, and each batch holds 2 episodes (3 updates
// of 2 one-step episodes reach TotalTimesteps 6).
func TestFewerEpisodesThanEnvs(t *testing.T) {
	var errs []string
	var envs []*oneStepEnv
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps = 3, 2, 6
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { e := &oneStepEnv{}; envs = append(envs, e); return e },
		rlagent.Agent[int]{Actors: []rlagent.Actor[int]{newTabActor(0, nil, nil, &errs)}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updates != 3 || len(res.EpisodicReturns) != 6 || envs[0].resets != 3 || envs[1].resets != 3 || envs[2].resets != 0 {
		t.Errorf("%d updates, %d episodes, resets %d %d %d; want 3, 6, 3 3 0", res.Updates, len(res.EpisodicReturns), envs[0].resets, envs[1].resets, envs[2].resets)
	}
}

// TestKnownAnnealLR: Adam's first step moves a parameter with a non-zero
// gradient by lr·g/(|g|+ε) ≈ lr·sign(g). Two one-step batches with
// TotalTimesteps 2 and AnnealLR run at (1 − 1/2)·lr, then (1 − 2/2)·lr =
// 0. G = 1, V(0) = 0 ⇒ V(0) ends at 0 + ½·0.1 = 0.05 and, A = 1,
// log π(0) at 0 + ½·0.2 = 0.1. MaxGradNorm = 0 must not clip.
func TestKnownAnnealLR(t *testing.T) {
	var errs []string
	critic := &tabCritic{table: newTable(nil)}
	actor := newTabActor(0, nil, nil, &errs)
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps, cfg.EntCoef = 1, 1, 2, 0
	cfg.AnnealLR, cfg.LearningRateCritic, cfg.LearningRate = true, 0.1, 0.2
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, rlagent.Agent[int]{Critic: critic, Actors: []rlagent.Actor[int]{actor}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updates != 2 {
		t.Fatalf("%d updates, want 2", res.Updates)
	}
	if v := critic.w.V.Data[0]; !near(float64(v), 0.05, 1e-6) {
		t.Errorf("V(0) = %v after annealed updates, want 0.05", v)
	}
	if v := actor.lp.w.V.Data[0]; !near(float64(v), 0.1, 1e-6) {
		t.Errorf("log π(0) = %v after annealed updates, want 0.1", v)
	}
}

// TestValidateBounds: the boundary values are valid, one step beyond is
// not.
func TestValidateBounds(t *testing.T) {
	base := Config{NumEnvs: 1, NumEpisodes: 1}
	if err := base.Validate(); err != nil {
		t.Fatalf("all-zero rates, γ = 0, 1 env, 1 episode: %v", err)
	}
	g1 := base
	g1.Gamma = 1
	if err := g1.Validate(); err != nil {
		t.Errorf("γ = 1: %v", err)
	}
	bad := map[string]func(*Config){
		"TotalTimesteps −1":  func(c *Config) { c.TotalTimesteps = -1 },
		"NumEnvs 0":          func(c *Config) { c.NumEnvs = 0 },
		"NumEpisodes 0":      func(c *Config) { c.NumEpisodes = 0 },
		"lr −1e-9":           func(c *Config) { c.LearningRate = -1e-9 },
		"lr critic +Inf":     func(c *Config) { c.LearningRateCritic = math.Inf(1) },
		"γ −0.01":            func(c *Config) { c.Gamma = -0.01 },
		"γ 1.01":             func(c *Config) { c.Gamma = 1.01 },
		"γ NaN":              func(c *Config) { c.Gamma = math.NaN() },
		"EntCoef −1":         func(c *Config) { c.EntCoef = -1 },
		"MaxGradNorm −1":     func(c *Config) { c.MaxGradNorm = -1 },
		"CheckpointEvery −1": func(c *Config) { c.Checkpoint.Every = -1 },
	}
	for name, f := range bad {
		c := base
		f(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func oneStepAgent(errs *[]string) (rlagent.Agent[int], *tabActor) {
	a := newTabActor(0, nil, nil, errs)
	return rlagent.Agent[int]{Critic: &tabCritic{table: newTable(nil)}, Actors: []rlagent.Actor[int]{a}}, a
}

// TestCheckpointEvery: with CheckpointEvery = 2 a run cancelled during
// update 3 (of 4 one-episode, one-step updates) writes the checkpoint of
// update 2, then its last one at the end of update 3, so the resumed run
// performs exactly update 4. CheckpointEvery = 0 with a path saves nothing
// in an uninterrupted run.
func TestCheckpointEvery(t *testing.T) {
	var errs []string
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps, cfg.Checkpoint.Every = 1, 1, 4, 2
	cfg.Checkpoint.Path = t.TempDir() + "/run.safetensors"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent, _ := oneStepAgent(&errs)
	onStep := func(n int) {
		if n == 3 {
			cancel()
		}
	}
	if _, err := Train(ctx, cfg, func() rl.Env[int] { return &oneStepEnv{onStep: onStep} }, agent, nil, nil); err == nil {
		t.Fatal("the cancelled run returned no error")
	}
	agent, actor := oneStepAgent(&errs)
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, agent, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if actor.evals != 1 || res.Updates != 4 || res.Steps != 4 || len(res.EpisodicReturns) != 4 {
		t.Errorf("resumed run: %d updates run, %d counted, %d steps, %d episodes; want 1, 4, 4, 4", actor.evals, res.Updates, res.Steps, len(res.EpisodicReturns))
	}
	// The resumed run ends with the parameters of an uninterrupted one
	// (the checkpoint restores the critic and the actor with their Adam
	// state).
	refCfg := cfg
	refCfg.Checkpoint.Path = ""
	ref, refActor := oneStepAgent(&errs)
	if _, err := Train(context.Background(), refCfg, func() rl.Env[int] { return &oneStepEnv{} }, ref, nil, nil); err != nil {
		t.Fatal(err)
	}
	gotV, wantV := agent.Critic.(*tabCritic).w.V.Data[0], ref.Critic.(*tabCritic).w.V.Data[0]
	if gotV != wantV || actor.lp.w.V.Data[0] != refActor.lp.w.V.Data[0] {
		t.Errorf("resumed V(0), log π(0) = %v, %v; uninterrupted %v, %v", gotV, actor.lp.w.V.Data[0], wantV, refActor.lp.w.V.Data[0])
	}

	cfg.Checkpoint.Every = 0
	cfg.Checkpoint.Path = t.TempDir() + "/never.safetensors"
	agent, actor = oneStepAgent(&errs)
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, agent, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Checkpoint.Path); err == nil || actor.evals != 4 {
		t.Errorf("CheckpointEvery 0: checkpoint written (stat error %v) or %d updates, want none and 4", err, actor.evals)
	}
	errsOK(t, errs)
}

// TestSPS: SPS is steps per second of the whole run: at least
// steps / (the test's own timing of Train, which encloses Train's).
func TestSPS(t *testing.T) {
	var errs []string
	agent, _ := oneStepAgent(&errs)
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps = 1, 1, 8
	c := &capture{}
	start := time.Now()
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, agent, nil, c.logger)
	outer := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	if floor := 8 / outer; res.SPS < floor || math.IsInf(res.SPS, 0) {
		t.Errorf("SPS %v, want ≥ 8 steps / %v s = %v", res.SPS, outer, floor)
	}
	if c.logs != 8 || c.losses["charts/SPS"] != res.SPS {
		t.Errorf("%d loss logs (want one per update, 8), logged SPS %v, result %v", c.logs, c.losses["charts/SPS"], res.SPS)
	}
}

// TestKnownClip: the actors' and the critic's gradients are clipped
// separately to MaxGradNorm. Both have gradient norm 1 here (one
// one-step episode, G = 1, V(0) = 0, A = 1, log π(0) = 0, no entropy
// bonus): clipped to 1e-8 each, g' = 1e-8/(1 + 1e-6), and Adam's first
// step lr·g'/(|g'| + ε) with ε = 1e-8 is lr·g'/(g' + 1e-8) ≈ lr/2
// (unclipped it would be ≈ lr).
func TestKnownClip(t *testing.T) {
	var errs []string
	agent, actor := oneStepAgent(&errs)
	cfg := pgCfg()
	cfg.NumEnvs, cfg.NumEpisodes, cfg.TotalTimesteps, cfg.EntCoef, cfg.MaxGradNorm = 1, 1, 1, 0, 1e-8
	cfg.LearningRateCritic, cfg.LearningRate = 0.1, 0.2
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return &oneStepEnv{} }, agent, nil, nil); err != nil {
		t.Fatal(err)
	}
	g := 1e-8 / (1 + 1e-6)
	step := g / (g + 1e-8)
	if v := agent.Critic.(*tabCritic).w.V.Data[0]; !near(float64(v), 0.1*step, 1e-6) {
		t.Errorf("V(0) = %v after a clipped step, want %v", v, 0.1*step)
	}
	if v := actor.lp.w.V.Data[0]; !near(float64(v), 0.2*step, 1e-6) {
		t.Errorf("log π(0) = %v after a clipped step, want %v", v, 0.2*step)
	}
}

// seedEnv is oneStepEnv recording its Reset seeds in a shared list.
type seedEnv struct {
	oneStepEnv
	seeds *[]uint64
}

func (e *seedEnv) Reset(seed uint64) (int, error) { *e.seeds = append(*e.seeds, seed); return 0, nil }

// TestSameInput: with SameInput the 3 episodes of each batch (on 2
// environments) reset with one seed, a new one per batch; without it all
// 6 seeds differ, and the first episode's seed is the same either way
// (runs without SameInput draw what they drew before the option).
func TestSameInput(t *testing.T) {
	run := func(same bool) []uint64 {
		var seeds []uint64
		var errs []string
		cfg := pgCfg()
		cfg.TotalTimesteps, cfg.SameInput = 6, same
		mk := func() rl.Env[int] { return &seedEnv{seeds: &seeds} }
		if _, err := Train(context.Background(), cfg, mk, rlagent.Agent[int]{Actors: []rlagent.Actor[int]{newTabActor(0, nil, nil, &errs)}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		return seeds
	}
	same, diff := run(true), run(false)
	if len(same) != 6 || len(diff) != 6 {
		t.Fatalf("%d and %d resets, want 6 (2 batches of 3 one-step episodes)", len(same), len(diff))
	}
	if !(same[0] == same[1] && same[1] == same[2] && same[3] == same[4] && same[4] == same[5] && same[0] != same[3]) {
		t.Errorf("SameInput seeds %v: want one seed per batch of 3, new per batch", same)
	}
	seen := map[uint64]bool{}
	for _, s := range diff {
		seen[s] = true
	}
	if len(seen) != 6 || diff[0] != same[0] {
		t.Errorf("seeds without SameInput %v: want 6 distinct, the first %d", diff, same[0])
	}
}
