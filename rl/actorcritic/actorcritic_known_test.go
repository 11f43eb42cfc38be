package actorcritic

// Known-value tests of one update of Train on hand-built rollouts: the
// n-step TD targets (with a terminated and a truncated boundary), the TD
// errors δ, the losses and their gradients, all computed by hand in the
// comments. The networks are tables indexed by the observation (an int
// state id) whose outputs pass through a zero leaf tensor, so the gradient
// of the loss with respect to every output row can be read after
// Backward: for the critic ∂L/∂V_i = (V_i − y_i)/B = −δ_i/B, for an actor
// ∂L/∂log π_i = −δ_i/B and ∂L/∂H_i = −EntCoef/B. A wrong target, a
// wrong δ, a missing bootstrap or a bootstrap after a termination changes
// them.

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
)

// sStep is one scripted environment step.
type sStep struct {
	r           float64
	term, trunc bool
	next        int // observation after the step (the final one if done)
}

// scriptEnv replays a fixed script: Reset returns starts[0], starts[1], …
// in turn, Step the next scripted step. It records the seeds and actions
// it receives.
type scriptEnv struct {
	starts  []int
	steps   []sStep
	nr, ns  int
	seeds   []uint64
	actions []rl.Action
}

func (e *scriptEnv) Reset(seed uint64) (int, error) {
	e.seeds = append(e.seeds, seed)
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

// nStates bounds the state ids of the scripts.
const nStates = 32

// table is a per-state R×1 parameter read through a zero leaf: out_i =
// w[obs_i] + 0, and after Backward leaf.Grad[i] = ∂L/∂out_i.
type table struct {
	w    *nn.Param
	leaf *nn.Tensor // of the last call on a recording tape
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
	tb.leaf = t.Leaf(len(obs), 1, make([]float32, len(obs)))
	return t.Add(x, tb.leaf)
}

func (tb *table) grad() []float32 { return append([]float32(nil), tb.leaf.Grad...) }

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

// tabStaged is a tabCritic with a second table for V(s, a_0).
type tabStaged struct {
	tabCritic
	after *table
	errs  *[]string
}

func (c *tabStaged) Params(visit func(string, *nn.Param)) {
	visit("v", c.w)
	visit("after", c.after.w)
}

func (c *tabStaged) ValueAfter(t *nn.Tape, obs []int, prev [][]rl.Action) *nn.Tensor {
	checkPrev(c.errs, "ValueAfter", obs, prev, 1)
	return c.after.out(t, obs)
}

// tabActor is a "policy" whose log-probability and entropy of state s are
// the tables lp[s] and h[s]. Act picks action Index = off + s, Mode
// Index = off + 1000 + s; Evaluate checks that it gets back the actions it
// sampled for the same observations. It checks the earlier actors'
// actions (those of tabActors with offset 0, 100, …) when conditional.
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

func (a *tabActor) Mode(t *nn.Tape, obs []int) []rl.Action {
	out := make([]rl.Action, len(obs))
	for i, o := range obs {
		out[i] = rl.Action{Index: a.off + 1000 + o}
	}
	return out
}

func (a *tabActor) Evaluate(t *nn.Tape, obs []int, actions []rl.Action) (*nn.Tensor, *nn.Tensor) {
	a.evals++
	for i, o := range obs {
		if actions[i].Index != a.off+o {
			*a.errs = append(*a.errs, fmt.Sprintf("actor %d: Evaluate row %d: action %d for observation %d", a.off, i, actions[i].Index, o))
		}
	}
	return a.lp.out(t, obs), a.h.out(t, obs)
}

// condActor is a tabActor conditioned on actor 0 (offset 0).
type condActor struct{ *tabActor }

func checkPrev(errs *[]string, what string, obs []int, prev [][]rl.Action, k int) {
	if len(prev) != k {
		*errs = append(*errs, fmt.Sprintf("%s: %d earlier actors, want %d", what, len(prev), k))
		return
	}
	for j := range prev {
		if len(prev[j]) != len(obs) {
			*errs = append(*errs, fmt.Sprintf("%s: %d actions of actor %d for %d observations", what, len(prev[j]), j, len(obs)))
			return
		}
		for i, o := range obs {
			if want := 100*j + o; prev[j][i].Index != want && prev[j][i].Index != want+1000 {
				*errs = append(*errs, fmt.Sprintf("%s: actor %d's action %d for observation %d", what, j, prev[j][i].Index, o))
			}
		}
	}
}

func (c condActor) ActGiven(t *nn.Tape, obs []int, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	checkPrev(c.errs, "ActGiven", obs, prev, 1)
	return c.Act(t, obs, rng)
}

func (c condActor) ModeGiven(t *nn.Tape, obs []int, prev [][]rl.Action) []rl.Action {
	checkPrev(c.errs, "ModeGiven", obs, prev, 1)
	return c.Mode(t, obs)
}

func (c condActor) EvaluateGiven(t *nn.Tape, obs []int, prev [][]rl.Action, actions []rl.Action) (*nn.Tensor, *nn.Tensor) {
	checkPrev(c.errs, "EvaluateGiven", obs, prev, 1)
	return c.Evaluate(t, obs, actions)
}

// capture records the losses and the output gradients of the last update
// logged (Train logs losses at its last update).
type capture struct {
	logs   int
	losses map[string]float64
	grads  func() // copies the gradients
}

func (c *capture) logger(_ int64, m map[string]float64) {
	if _, ok := m["losses/value_loss"]; !ok {
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
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
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

// acScript is the 2-environment × 4-step segment of the known-value
// tests (γ = ½). Env 0: from state 0, r=1 → 1, r=2 terminated (final
// state 2, V=100 must not be used) → reset 3, r=3 → 4, r=−1 → 5 (segment
// end: bootstrap V(5)=8). Env 1: from 10, r=1 truncated (final state 11,
// V=6: bootstrap) → reset 12, r=2 terminated AND truncated (final 13,
// V=50: no bootstrap) → reset 14, r=½ → 15, r=4 terminated (final 16,
// V=70) → reset 17 (V=30 at the segment end, not used: the step ended).
func acScript() (func() rl.Env[int], []*scriptEnv) {
	envs := []*scriptEnv{
		{starts: []int{0, 3}, steps: []sStep{{1, false, false, 1}, {2, true, false, 2}, {3, false, false, 4}, {-1, false, false, 5}}},
		{starts: []int{10, 12, 14, 17}, steps: []sStep{{1, false, true, 11}, {2, true, true, 13}, {0.5, false, false, 15}, {4, true, false, 16}}},
	}
	n := 0
	return func() rl.Env[int] { n++; return envs[n-1] }, envs
}

// acValues are the critic's V(s) of the script's states.
var acValues = map[int]float32{0: 0.5, 10: 1, 1: 1.5, 12: -0.5, 3: 2, 14: 0.25, 4: -1, 15: 3,
	2: 100, 5: 8, 11: 6, 13: 50, 16: 70, 17: 30}

// acTargets and acDeltas are the script's n-step targets y_i and TD errors
// δ_i = y_i − V(s_i), i = t·2 + e, worked backwards from the segment end
// (γ = ½):
//
//	env 0: t3 y = −1 + ½·V(5)=−1+4 = 3;  t2 y = 3 + ½·3 = 4.5;
//	       t1 y = 2 (terminated);        t0 y = 1 + ½·2 = 2
//	env 1: t3 y = 4 (terminated);        t2 y = ½ + ½·4 = 2.5;
//	       t1 y = 2 (terminated and truncated: no bootstrap);
//	       t0 y = 1 + ½·V(11)=1+3 = 4 (truncated: bootstrap)
//
// states s_i = 0, 10, 1, 12, 3, 14, 4, 15 with V = ½, 1, 1.5, −½, 2, ¼, −1, 3.
var (
	acObs     = []int{0, 10, 1, 12, 3, 14, 4, 15}
	acTargets = []float64{2, 4, 2, 2, 4.5, 2.5, 3, 4}
	acDeltas  = []float64{1.5, 3, 0.5, 2.5, 2.5, 2.25, 4, 1}
)

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

func oneUpdateCfg(nE, nS int) Config {
	return Config{Seed: 1, TotalTimesteps: int64(nE * nS), NumEnvs: nE, NSteps: nS,
		LearningRateActor: 1e-3, LearningRateCritic: 1e-3, Gamma: 0.5, EntCoef: 0.25}
}

// TestKnownTargets runs one update on acScript and checks the targets,
// δ, losses and gradients against the hand computation above.
func TestKnownTargets(t *testing.T) {
	for _, normAdv := range []bool{false, true} {
		t.Run(fmt.Sprintf("normadv=%v", normAdv), func(t *testing.T) {
			var errs []string
			critic := &tabCritic{table: newTable(acValues)}
			// log π = −1 and H = ½ in every state.
			actor := newTabActor(0, constMap(acObs, -1), constMap(acObs, 0.5), &errs)
			agent := Agent[int]{Critic: critic, Actors: []Actor[int]{actor}}
			cfg := oneUpdateCfg(2, 4)
			cfg.NormAdv = normAdv
			newEnv, envs := acScript()
			var gV, gLP, gH []float32
			c := &capture{grads: func() { gV, gLP, gH = critic.grad(), actor.lp.grad(), actor.h.grad() }}
			// A Train that never ends (no steps, no update) must fail, not
			// hang: one update takes microseconds, the deadline is 5 s.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := Train(ctx, cfg, newEnv, agent, c.logger)
			if err != nil {
				t.Fatal(err)
			}
			errsOK(t, errs)
			if res.Steps != 8 || res.Updates != 1 || c.logs != 1 {
				t.Fatalf("%d steps, %d updates, %d loss logs; want 8, 1, 1", res.Steps, res.Updates, c.logs)
			}
			// The critic is queried (inference) for the truncated step's
			// final state 11 only (not for 13, terminated too), then for
			// the segment-end states 5 and 17.
			if got := fmt.Sprint(critic.infCalls); got != "[[11] [5 17]]" {
				t.Errorf("critic inference calls %s, want [[11] [5 17]]", got)
			}
			// The actions the environments got are the actors' (Index = state).
			for e, want := range [][]int{{0, 1, 3, 4}, {10, 12, 14, 15}} {
				for k, a := range envs[e].actions {
					if a.Index != want[k] {
						t.Errorf("env %d step %d: action %d, want %d", e, k, a.Index, want[k])
					}
				}
			}
			// Episodes in the order they end: env 1's at t0 (return 1),
			// env 0's and env 1's at t1 (1+2 = 3 over 2 steps; 2), env 1's
			// at t3 (½+4 = 4.5 over 2 steps). Raw rewards, no bootstrap.
			if got := fmt.Sprint(res.EpisodicReturns, res.EpisodicLengths); got != "[1 3 2 4.5] [1 2 1 2]" {
				t.Errorf("episodes %s, want [1 3 2 4.5] [1 2 1 2]", got)
			}
			// ∂L/∂V_i = (V_i − y_i)/8 = −δ_i/8.
			checkVec(t, "∂L/∂V", gV, scale(acDeltas, -1.0/8))
			// value_loss = ½·mean(δ²) = ½·(2.25+9+0.25+6.25+6.25+5.0625+16+1)/8
			// = ½·46.0625/8 = 2.87890625.
			if v := c.losses["losses/value_loss"]; !near(v, 2.87890625, 1e-6) {
				t.Errorf("value_loss %v, want 2.87890625", v)
			}
			// ∂L/∂H_i = −EntCoef/8 = −1/32; mean entropy ½.
			checkVec(t, "∂L/∂H", gH, scale([]float64{1, 1, 1, 1, 1, 1, 1, 1}, -1.0/32))
			if v := c.losses["losses/entropy"]; !near(v, 0.5, 1e-7) {
				t.Errorf("entropy %v, want 0.5", v)
			}
			adv := acDeltas
			if normAdv {
				// Standardised: mean 17.25/8 = 2.15625, sample std
				// (n−1 = 7), recomputed here in float64.
				adv = standardise(acDeltas)
			}
			// ∂L/∂log π_i = −A_i/8; policy_loss = −mean(A·(−1)) = mean(A):
			// 17.25/8 = 2.15625 raw, 0 standardised.
			checkVec(t, "∂L/∂logπ", gLP, scale(adv, -1.0/8))
			wantPL := 2.15625
			if normAdv {
				wantPL = 0
			}
			if v := c.losses["losses/policy_loss"]; !near(v, wantPL, 1e-6) {
				t.Errorf("policy_loss %v, want %v", v, wantPL)
			}
		})
	}
}

// standardise is (x − mean)/sample std, in float64.
func standardise(x []float64) []float64 {
	var m, ss float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sd := math.Sqrt(ss / float64(len(x)-1))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (v - m) / sd
	}
	return out
}

// TestKnownStaged: with a StagedCritic and a conditional second actor, the
// second actor's advantage is y − V(s, a_0), the critic loss adds
// ½·mean((V(s,a_0) − y)²), and the losses sum over actors. Same script
// and targets as TestKnownTargets; V(s, a_0) = 1 in every state, so
// actor 1's advantages are y − 1 = 1, 3, 1, 1, 3.5, 1.5, 2, 3.
func TestKnownStaged(t *testing.T) {
	for _, normAdv := range []bool{false, true} {
		t.Run(fmt.Sprintf("normadv=%v", normAdv), func(t *testing.T) { knownStaged(t, normAdv) })
	}
}

func knownStaged(t *testing.T, normAdv bool) {
	var errs []string
	critic := &tabStaged{tabCritic: tabCritic{table: newTable(acValues)}, after: newTable(constMap(acObs, 1)), errs: &errs}
	a0 := newTabActor(0, constMap(acObs, -1), constMap(acObs, 0.5), &errs)
	a1 := condActor{newTabActor(100, constMap(acObs, -2), constMap(acObs, 0.25), &errs)}
	agent := Agent[int]{Critic: critic, Actors: []Actor[int]{a0, a1},
		Combine: func(p []rl.Action) rl.Action { return rl.Action{Index: p[0].Index + 10*p[1].Index} }}
	newEnv, envs := acScript()
	var gV, gA, gLP0, gLP1, gH1 []float32
	c := &capture{grads: func() {
		gV, gA, gLP0, gLP1, gH1 = critic.grad(), critic.after.grad(), a0.lp.grad(), a1.lp.grad(), a1.h.grad()
	}}
	cfg := oneUpdateCfg(2, 4)
	cfg.NormAdv = normAdv
	if _, err := Train(context.Background(), cfg, newEnv, agent, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	// Combine: env 0's first action is 0 + 10·(100+0) = 1000.
	if a := envs[0].actions[0].Index; a != 1000 {
		t.Errorf("combined action %d, want 1000", a)
	}
	adv1 := make([]float64, len(acTargets))
	for i, y := range acTargets {
		adv1[i] = y - 1
	}
	// The critics regress on the raw targets; with NormAdv each actor's
	// advantages are standardised separately.
	checkVec(t, "∂L/∂V", gV, scale(acDeltas, -1.0/8))
	checkVec(t, "∂L/∂V(s,a0)", gA, scale(adv1, -1.0/8))
	adv0 := acDeltas
	if normAdv {
		adv0, adv1 = standardise(acDeltas), standardise(adv1)
	}
	checkVec(t, "∂L/∂logπ0", gLP0, scale(adv0, -1.0/8))
	checkVec(t, "∂L/∂logπ1", gLP1, scale(adv1, -1.0/8))
	checkVec(t, "∂L/∂H1", gH1, scale([]float64{1, 1, 1, 1, 1, 1, 1, 1}, -1.0/32))
	// value_loss = 2.87890625 + ½·(1+9+1+1+12.25+2.25+4+9)/8
	// = 2.87890625 + ½·39.5/8 = 2.87890625 + 2.46875 = 5.34765625.
	// policy_loss = mean(δ) + 2·mean(y − 1) = 2.15625 + 2·16/8 = 6.15625
	// (0 with standardised advantages). entropy = ½ + ¼ = 0.75.
	wantPL := 6.15625
	if normAdv {
		wantPL = 0
	}
	for k, want := range map[string]float64{"losses/value_loss": 5.34765625, "losses/policy_loss": wantPL, "losses/entropy": 0.75} {
		if v := c.losses[k]; !near(v, want, 1e-6) {
			t.Errorf("%s %v, want %v", k, v, want)
		}
	}
	if normAdv {
		return
	}
	// Two actors without a StagedCritic share δ: actor 1's gradient is
	// then −δ/8 as actor 0's.
	errs = nil
	plain := &tabCritic{table: newTable(acValues)}
	a0 = newTabActor(0, constMap(acObs, -1), constMap(acObs, 0.5), &errs)
	a1 = condActor{newTabActor(100, constMap(acObs, -2), constMap(acObs, 0.25), &errs)}
	agent = Agent[int]{Critic: plain, Actors: []Actor[int]{a0, a1}, Combine: agent.Combine}
	newEnv, _ = acScript()
	c = &capture{grads: func() { gLP1 = a1.lp.grad() }}
	if _, err := Train(context.Background(), oneUpdateCfg(2, 4), newEnv, agent, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	checkVec(t, "∂L/∂logπ1 (shared critic)", gLP1, scale(acDeltas, -1.0/8))
}

// TestKnownGammaZero: with γ = 0 the target is the reward alone and the
// critic is not even asked for the truncated step's final state (its value
// would be multiplied by 0): only the segment-end call remains. One env,
// 2 steps: r=1 truncated (final 11) → reset 12, r=3 → 13.
// y = 1, 3; V(10) = ½, V(12) = −½ ⇒ δ = ½, 3.5.
func TestKnownGammaZero(t *testing.T) {
	var errs []string
	env := &scriptEnv{starts: []int{10, 12}, steps: []sStep{{1, false, true, 11}, {3, false, false, 13}}}
	critic := &tabCritic{table: newTable(map[int]float32{10: 0.5, 12: -0.5, 11: 6, 13: 8})}
	actor := newTabActor(0, nil, nil, &errs)
	cfg := oneUpdateCfg(1, 2)
	cfg.Gamma = 0
	var gV []float32
	c := &capture{grads: func() { gV = critic.grad() }}
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return env }, Agent[int]{Critic: critic, Actors: []Actor[int]{actor}}, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	if got := fmt.Sprint(critic.infCalls); got != "[[13]]" {
		t.Errorf("critic inference calls %s, want [[13]]", got)
	}
	checkVec(t, "∂L/∂V", gV, []float64{-0.5 / 2, -3.5 / 2})
}

// TestKnownSingleRowNormAdv: NormAdv leaves a batch of one δ as it is
// (there is no spread to standardise): one env, one step, r = 2
// terminated, V = ½ ⇒ δ = 1.5 and ∂L/∂log π = −1.5.
func TestKnownSingleRowNormAdv(t *testing.T) {
	var errs []string
	env := &scriptEnv{starts: []int{0, 1}, steps: []sStep{{2, true, false, 5}}}
	critic := &tabCritic{table: newTable(map[int]float32{0: 0.5})}
	actor := newTabActor(0, nil, nil, &errs)
	cfg := oneUpdateCfg(1, 1)
	cfg.NormAdv = true
	var gLP []float32
	c := &capture{grads: func() { gLP = actor.lp.grad() }}
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return env }, Agent[int]{Critic: critic, Actors: []Actor[int]{actor}}, c.logger); err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
	checkVec(t, "∂L/∂logπ", gLP, []float64{-1.5})
}

// loopEnv is an endless one-state environment: reward 1, never done. It
// calls onStep (if set) with the number of steps so far.
type loopEnv struct {
	steps  int
	onStep func(int)
}

func (e *loopEnv) Reset(uint64) (int, error) { return 0, nil }
func (e *loopEnv) Step(rl.Action) (rl.Step[int], error) {
	e.steps++
	if e.onStep != nil {
		e.onStep(e.steps)
	}
	return rl.Step[int]{Obs: 0, Reward: 1}, nil
}
func (e *loopEnv) ActionSpace() rl.Space         { return rl.Space{Kind: rl.Discrete, N: 1} }
func (e *loopEnv) Snapshot() ([]byte, error)     { return []byte{}, nil }
func (e *loopEnv) Restore(b []byte) (int, error) { return 0, nil }

// TestKnownAnnealLR: Adam's first step moves every parameter with a
// non-zero gradient by lr·g/(|g|+ε) ≈ lr·sign(g). With AnnealLR and
// TotalTimesteps = 2 single-step updates, the first update runs at
// (1 − 1/2)·lr and the second at (1 − 2/2)·lr = 0, so V(0) ends at
// V₀ − ½·lrC·sign(V₀ − y) and log π(0) at lp₀ + ½·lrA·sign(δ).
// V₀ = 0, y = 1 + ½·V₀ = 1 ⇒ V(0) = 0 + ½·0.1 = 0.05; δ = 1 ⇒
// lp(0) = 0 + ½·0.2 = 0.1. MaxGradNorm = 0 must not clip (clipping to 0
// would freeze both).
func TestKnownAnnealLR(t *testing.T) {
	var errs []string
	critic := &tabCritic{table: newTable(nil)}
	actor := newTabActor(0, nil, nil, &errs)
	cfg := oneUpdateCfg(1, 1)
	cfg.TotalTimesteps, cfg.AnnealLR, cfg.EntCoef = 2, true, 0
	cfg.LearningRateCritic, cfg.LearningRateActor = 0.1, 0.2
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} }, Agent[int]{Critic: critic, Actors: []Actor[int]{actor}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errsOK(t, errs)
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

// TestLogCadence: losses are logged every 10 updates and at the last one:
// 12 single-step updates log at updates 10 and 12.
func TestLogCadence(t *testing.T) {
	var errs []string
	cfg := oneUpdateCfg(1, 1)
	cfg.TotalTimesteps = 12
	c := &capture{}
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} },
		Agent[int]{Critic: &tabCritic{table: newTable(nil)}, Actors: []Actor[int]{newTabActor(0, nil, nil, &errs)}}, c.logger)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updates != 12 || res.Steps != 12 || c.logs != 2 {
		t.Errorf("%d updates, %d steps, %d loss logs; want 12, 12, 2", res.Updates, res.Steps, c.logs)
	}
}

// TestEvaluateKnown: Evaluate resets with seed, seed+1, …, takes the mode
// actions (or sampled ones with an rng), passes earlier actors' actions to
// a conditional actor, and sums the raw rewards of each episode. Episode 1:
// from 0, r=1 → 1, r=2 truncated ⇒ 3; episode 2: from 5, r=−4 terminated
// ⇒ −4.
func TestEvaluateKnown(t *testing.T) {
	for _, sampled := range []bool{false, true} {
		var errs []string
		env := &scriptEnv{starts: []int{0, 5}, steps: []sStep{{1, false, false, 1}, {2, false, true, 2}, {-4, true, false, 6}}}
		a1 := condActor{newTabActor(100, nil, nil, &errs)}
		agent := Agent[int]{Critic: &tabCritic{table: newTable(nil)}, Actors: []Actor[int]{newTabActor(0, nil, nil, &errs), a1},
			Combine: func(p []rl.Action) rl.Action { return rl.Action{Index: p[1].Index} }}
		var rng *rand.Rand
		off := 1000 // mode actions: 100 + 1000 + s
		if sampled {
			rng, off = rand.New(rand.NewPCG(1, 2)), 0
		}
		rets, err := Evaluate(agent, env, 2, 7, rng)
		if err != nil {
			t.Fatal(err)
		}
		errsOK(t, errs)
		if got := fmt.Sprint(rets, env.seeds); got != "[3 -4] [7 8]" {
			t.Errorf("sampled %v: returns and seeds %s, want [3 -4] [7 8]", sampled, got)
		}
		for k, s := range []int{0, 1, 5} {
			if a := env.actions[k].Index; a != 100+off+s {
				t.Errorf("sampled %v: step %d action %d, want %d", sampled, k, a, 100+off+s)
			}
		}
	}
}

// TestValidateBounds: the boundary values are valid, one step beyond is
// not.
func TestValidateBounds(t *testing.T) {
	base := Config{NumEnvs: 1, NSteps: 1}
	if err := base.Validate(); err != nil {
		t.Fatalf("all-zero rates, γ = 0, 1 env, 1 step: %v", err)
	}
	g1 := base
	g1.Gamma = 1
	if err := g1.Validate(); err != nil {
		t.Errorf("γ = 1: %v", err)
	}
	bad := map[string]func(*Config){
		"TotalTimesteps −1":  func(c *Config) { c.TotalTimesteps = -1 },
		"NumEnvs 0":          func(c *Config) { c.NumEnvs = 0 },
		"NSteps 0":           func(c *Config) { c.NSteps = 0 },
		"lr actor −1e-9":     func(c *Config) { c.LearningRateActor = -1e-9 },
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

func loopAgent(errs *[]string) (Agent[int], *tabActor) {
	a := newTabActor(0, nil, nil, errs)
	return Agent[int]{Critic: &tabCritic{table: newTable(nil)}, Actors: []Actor[int]{a}}, a
}

// TestCheckpointEvery: with CheckpointEvery = 2 a run cancelled during
// update 3 (of 4 single-step updates) writes the checkpoint of update 2,
// then its last one at the end of update 3, so the resumed run performs
// exactly update 4. CheckpointEvery = 0 with a path saves nothing in an
// uninterrupted run.
func TestCheckpointEvery(t *testing.T) {
	var errs []string
	cfg := oneUpdateCfg(1, 1)
	cfg.TotalTimesteps, cfg.Checkpoint.Every = 4, 2
	cfg.Checkpoint.Path = t.TempDir() + "/run.safetensors"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent, _ := loopAgent(&errs)
	onStep := func(n int) {
		if n == 3 {
			cancel()
		}
	}
	if _, err := Train(ctx, cfg, func() rl.Env[int] { return &loopEnv{onStep: onStep} }, agent, nil); err == nil {
		t.Fatal("the cancelled run returned no error")
	}
	agent, actor := loopAgent(&errs)
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} }, agent, nil)
	if err != nil {
		t.Fatal(err)
	}
	if actor.evals != 1 || res.Updates != 4 || res.Steps != 4 {
		t.Errorf("resumed run: %d updates run, %d counted, %d steps; want 1, 4, 4", actor.evals, res.Updates, res.Steps)
	}
	// The resumed run ends with the parameters of an uninterrupted one
	// (the checkpoint restores the critic and the actor with their Adam
	// state).
	refCfg := cfg
	refCfg.Checkpoint.Path = ""
	ref, refActor := loopAgent(&errs)
	if _, err := Train(context.Background(), refCfg, func() rl.Env[int] { return &loopEnv{} }, ref, nil); err != nil {
		t.Fatal(err)
	}
	gotV, wantV := agent.Critic.(*tabCritic).w.V.Data[0], ref.Critic.(*tabCritic).w.V.Data[0]
	if gotV != wantV || actor.lp.w.V.Data[0] != refActor.lp.w.V.Data[0] {
		t.Errorf("resumed V(0), log π(0) = %v, %v; uninterrupted %v, %v", gotV, actor.lp.w.V.Data[0], wantV, refActor.lp.w.V.Data[0])
	}

	cfg.Checkpoint.Every = 0
	cfg.Checkpoint.Path = t.TempDir() + "/never.safetensors"
	agent, actor = loopAgent(&errs)
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} }, agent, nil); err != nil {
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
	agent, _ := loopAgent(&errs)
	cfg := oneUpdateCfg(1, 1)
	cfg.TotalTimesteps = 8
	c := &capture{}
	start := time.Now()
	res, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} }, agent, c.logger)
	outer := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	if floor := 8 / outer; res.SPS < floor || math.IsInf(res.SPS, 0) {
		t.Errorf("SPS %v, want ≥ 8 steps / %v s = %v", res.SPS, outer, floor)
	}
	if c.losses["charts/SPS"] != res.SPS {
		t.Errorf("logged SPS %v, result %v", c.losses["charts/SPS"], res.SPS)
	}
}

// TestKnownClip: the critic's and the actors' gradients are clipped
// separately to MaxGradNorm. Both have gradient norm 1 here (one step
// from state 0 of loopEnv, V(0) = 0, y = 1, δ = 1, log π(0) = 0, no
// entropy bonus): clipped to 1e-8 each, g' = 1e-8/(1 + 1e-6), and Adam's
// first step lr·g'/(|g'| + ε) with ε = 1e-8 is lr·g'/(g' + 1e-8) ≈ lr/2
// (unclipped it would be ≈ lr).
func TestKnownClip(t *testing.T) {
	var errs []string
	agent, actor := loopAgent(&errs)
	cfg := oneUpdateCfg(1, 1)
	cfg.EntCoef, cfg.MaxGradNorm = 0, 1e-8
	cfg.LearningRateCritic, cfg.LearningRateActor = 0.1, 0.2
	if _, err := Train(context.Background(), cfg, func() rl.Env[int] { return &loopEnv{} }, agent, nil); err != nil {
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
