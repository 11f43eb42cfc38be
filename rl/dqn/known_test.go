package dqn

// Known-value tests: every expected number below is computed by hand (the
// arithmetic is in the comments) or by an independent float64 re-derivation
// written in the test, never read off the code under test.

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/testenv"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// linearQ returns a Q-network without hidden layers, Q(x) = x·W + b, with
// hand-set weights: w is in×out (input-major: w[i*out+a] multiplies input
// i for action a), b has out values.
func linearQ(t *testing.T, in, out int, w, b []float32) *policy.QNetwork[testenv.Vec] {
	t.Helper()
	if len(w) != in*out || len(b) != out {
		t.Fatalf("linearQ: %d weights and %d biases for %d→%d", len(w), len(b), in, out)
	}
	m := policy.NewQNetwork[testenv.Vec](in, out, nil, rand.New(rand.NewPCG(1, 2)))
	copy(m.Net.Layers[0].W.V.Data, w)
	copy(m.Net.Layers[0].B.V.Data, b)
	return m
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestTDTargetsKnownValues checks vanilla and Double-DQN targets on a
// hand-built batch where the online and the target networks disagree on
// the best next action, with terminated rows, truncated (live) rows, and
// masks of the next state.
//
// Online q:   W = [[1, 2, 0], [0, 0, 3]], b = (0, 0, 0).
// Target Q':  W = [[4, 0, 1], [0, 2, 0]], b = (0.5, 1, 0.25).
// Next states A = (1, 0), B = (0, 1), C = (0, 0):
//
//	q(A) = (1, 2, 0)   Q'(A) = (4.5, 1, 1.25)
//	q(B) = (0, 0, 3)   Q'(B) = (0.5, 3, 0.25)
//	q(C) = (0, 0, 0)   Q'(C) = (0.5, 1, 0.25)
//
// γ = 0.5. Vanilla bootstraps max over allowed a of Q'(s', a); Double
// bootstraps Q'(s', argmax over allowed a of q(s', a)), first on ties.
func TestTDTargetsKnownValues(t *testing.T) {
	q := linearQ(t, 2, 3, []float32{1, 2, 0, 0, 0, 3}, []float32{0, 0, 0})
	target := linearQ(t, 2, 3, []float32{4, 0, 1, 0, 2, 0}, []float32{0.5, 1, 0.25})
	A, B, C := []float32{1, 0}, []float32{0, 1}, []float32{0, 0}
	rows := []struct {
		next         []float32
		mask         []bool
		r            float64
		terminated   bool
		vanilla, dbl float64
	}{
		// live (or truncated) row: 1 + 0.5·max(4.5, 1, 1.25) = 3.25;
		// double: argmax q(A) = 1, 1 + 0.5·Q'(A,1) = 1 + 0.5·1 = 1.5.
		{A, nil, 1, false, 3.25, 1.5},
		// −2 + 0.5·3 = −0.5; double: argmax q(B) = 2, −2 + 0.5·0.25 = −1.875.
		{B, nil, -2, false, -0.5, -1.875},
		// terminated: no bootstrap, y = r = 1 (the same transition live
		// gives 3.25 and 1.5, rows above).
		{A, nil, 1, true, 1, 1},
		// action 0 masked: 1 + 0.5·max(1, 1.25) = 1.625; double: argmax of
		// q(A) over {1, 2} = 1 (2 > 0), 1 + 0.5·1 = 1.5.
		{A, []bool{false, true, true}, 1, false, 1.625, 1.5},
		// action 1 masked: 0 + 0.5·max(4.5, 1.25) = 2.25; double: argmax of
		// q(A) over {0, 2} = 0 (1 > 0), 0.5·Q'(A,0) = 0.5·4.5 = 2.25
		// (unmasked double would give 0.5·1 = 0.5).
		{A, []bool{true, false, true}, 0, false, 2.25, 2.25},
		// every action masked: no bootstrap, y = 2.
		{B, []bool{false, false, false}, 2, false, 2, 2},
		// online tie q(C) = (0, 0, 0): double takes action 0, 0.25 + 0.5·0.5
		// = 0.5; vanilla 0.25 + 0.5·max(0.5, 1, 0.25) = 0.75.
		{C, nil, 0.25, false, 0.75, 0.5},
		// terminated with every action masked, negative reward: y = −1.
		{C, []bool{false, false, false}, -1, true, -1, -1},
	}
	n := len(rows)
	var batch rl.ReplayBatch[testenv.Vec]
	for i, r := range rows {
		batch.Indices = append(batch.Indices, i)
		batch.Obs = append(batch.Obs, testenv.Vec{X: []float32{9, 9}})
		batch.Actions = append(batch.Actions, rl.Action{Index: 0})
		batch.Rewards = append(batch.Rewards, r.r)
		batch.NextObs = append(batch.NextObs, testenv.Vec{X: r.next, Mask: r.mask})
		batch.Terminated = append(batch.Terminated, r.terminated)
	}
	for _, double := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Gamma = 0.5
		cfg.DoubleDQN = double
		targets := make([]float32, n)
		tdTargets[testenv.Vec](nn.NewInference(), q, target, cfg, agent.NewMasks[testenv.Vec](), &batch, targets)
		for i, r := range rows {
			want := r.vanilla
			if double {
				want = r.dbl
			}
			if !near(float64(targets[i]), want, 1e-6) {
				t.Errorf("double=%v row %d: target %v, want %v", double, i, targets[i], want)
			}
		}
	}
}

// TestTDTargetsGamma checks the discount on one live row at γ = 0.9 and
// γ = 0: Q'(A) = (4.5, 1, 1.25) as above, r = 1, y = 1 + γ·4.5 = 5.05 and 1.
func TestTDTargetsGamma(t *testing.T) {
	q := linearQ(t, 2, 3, []float32{1, 2, 0, 0, 0, 3}, []float32{0, 0, 0})
	target := linearQ(t, 2, 3, []float32{4, 0, 1, 0, 2, 0}, []float32{0.5, 1, 0.25})
	batch := rl.ReplayBatch[testenv.Vec]{
		Indices: []int{0}, Obs: []testenv.Vec{{X: []float32{0, 0}}}, Actions: []rl.Action{{}},
		Rewards: []float64{1}, NextObs: []testenv.Vec{{X: []float32{1, 0}}}, Terminated: []bool{false},
	}
	for _, c := range []struct{ gamma, want float64 }{{0.9, 5.05}, {0, 1}} {
		cfg := DefaultConfig()
		cfg.Gamma = c.gamma
		targets := make([]float32, 1)
		tdTargets[testenv.Vec](nn.NewInference(), q, target, cfg, agent.NewMasks[testenv.Vec](), &batch, targets)
		if !near(float64(targets[0]), c.want, 1e-6) {
			t.Errorf("γ=%v: target %v, want %v", c.gamma, targets[0], c.want)
		}
	}
}

// TestTDTargetsNSteps: a transition spanning k steps bootstraps with γ^k
// (Steps 0, a batch made before the field, and 1 mean one step): at
// γ = 0.9, r = 1 and Q'(A) = (4.5, 1, 1.25), y = 1 + 0.9^k·4.5:
// 5.05 (k = 1), 4.645 (k = 2), 4.2805 (k = 3); a terminated 3-step
// transition is its reward.
func TestTDTargetsNSteps(t *testing.T) {
	q := linearQ(t, 2, 3, []float32{1, 2, 0, 0, 0, 3}, []float32{0, 0, 0})
	target := linearQ(t, 2, 3, []float32{4, 0, 1, 0, 2, 0}, []float32{0.5, 1, 0.25})
	A := testenv.Vec{X: []float32{1, 0}}
	o := testenv.Vec{X: []float32{0, 0}}
	batch := rl.ReplayBatch[testenv.Vec]{
		Indices: []int{0, 1, 2, 3, 4}, Obs: []testenv.Vec{o, o, o, o, o}, Actions: make([]rl.Action, 5),
		Rewards: []float64{1, 1, 1, 1, 7}, NextObs: []testenv.Vec{A, A, A, A, A},
		Terminated: []bool{false, false, false, false, true}, Steps: []int{0, 1, 2, 3, 3},
	}
	cfg := DefaultConfig()
	cfg.Gamma = 0.9
	targets := make([]float32, 5)
	tdTargets[testenv.Vec](nn.NewInference(), q, target, cfg, agent.NewMasks[testenv.Vec](), &batch, targets)
	for i, want := range []float64{5.05, 5.05, 4.645, 4.2805, 7} {
		if !near(float64(targets[i]), want, 1e-5) {
			t.Errorf("row %d (%d steps): target %v, want %v", i, batch.Steps[i], targets[i], want)
		}
	}
}

// TestNStepTransitions: the transitions 3-step DQN stores from an
// episode of five steps with rewards 1…5 at γ = 0.5 (observations
// numbered 0…5), by hand: after steps 3 and 4 the oldest step with three
// rewards (1 + 0.5·2 + 0.25·3 = 2.75 to obs 3; 2 + 1.5 + 1 = 4.5 to obs
// 4); at the end the three pending ones to obs 5 (3 + 2 + 1.25 = 6.25,
// 4 + 2.5 = 6.5, 5), with the episode's termination, spanning 3, 2, 1
// steps. A truncated episode stores the same, not terminated; the next
// episode starts with nothing pending. One step (n = 1) stores each step.
func TestNStepTransitions(t *testing.T) {
	type tr struct {
		obs, next int
		r         float64
		term      bool
		steps     int
	}
	run := func(n int, terminated bool) []tr {
		rb := rl.NewReplay[int](16)
		ns := nstep[int]{n: n, gamma: 0.5, rb: rb}
		for i := range 5 {
			last := i == 4
			ns.add(i, rl.Action{Index: 9}, float64(i+1), i+1, last && terminated, last)
		}
		ns.add(10, rl.Action{}, 100, 11, false, false) // the next episode's first step
		var got []tr
		for i := range rb.Len() {
			x := rb.At(i)
			got = append(got, tr{x.Obs, x.NextObs, x.Reward, x.Terminated, max(1, x.Steps)})
		}
		if len(ns.pending) != min(1, n-1) {
			t.Errorf("n = %d: %d steps pending after the next episode's first, want %d", n, len(ns.pending), min(1, n-1))
		}
		return got
	}
	for _, term := range []bool{true, false} {
		want := []tr{{0, 3, 2.75, false, 3}, {1, 4, 4.5, false, 3}, {2, 5, 6.25, term, 3}, {3, 5, 6.5, term, 2}, {4, 5, 5, term, 1}}
		if got := run(3, term); !slices.Equal(got, want) {
			t.Errorf("terminated %v: stored %v, want %v", term, got, want)
		}
	}
	want := []tr{{0, 1, 1, false, 1}, {1, 2, 2, false, 1}, {2, 3, 3, false, 1}, {3, 4, 4, false, 1}, {4, 5, 5, true, 1}, {10, 11, 100, false, 1}}
	if got := run(1, true); !slices.Equal(got, want) {
		t.Errorf("one step: stored %v, want %v", got, want)
	}
}

// TestTDLossKnownValues checks the Huber (δ = 2 ≠ 1) and MSE losses and
// their gradients with respect to Q(s, a) (the picked Q-values) and to the
// weights, on a hand-built batch of four transitions with TD errors
// d = Q(s,a) − y = (−3, −1, 0.5, 2.5): two inside the threshold, one beyond
// it on each side.
//
// Network: one input x, four actions, Q(x, a) = x·W[a] + b[a] with
// W = (0.5, −1, 1, 2) and b = (−3, 3, −3.5, 4.5). Rows (x, a, y):
//
//	(1, 2, 0.5):   Q = 1·1 − 3.5   = −2.5, d = −3
//	(2, 0, −1):    Q = 2·0.5 − 3   = −2,   d = −1
//	(−1, 3, 2):    Q = −1·2 + 4.5  = 2.5,  d = 0.5
//	(0.5, 1, 0):   Q = 0.5·(−1) + 3 = 2.5, d = 2.5
//
// ∂L/∂b[a] is ∂L/∂Q of the row taking a, ∂L/∂W[a] is x times it.
func TestTDLossKnownValues(t *testing.T) {
	obs := []float32{1, 2, -1, 0.5}
	obsV := make([]testenv.Vec, len(obs)) // one feature x per observation
	for i, x := range obs {
		obsV[i] = testenv.Vec{X: []float32{x}}
	}
	actions := []int{2, 0, 3, 1}
	targets := []float32{0.5, -1, 2, 0}
	wantPred := []float32{-2.5, -2, 2.5, 2.5}
	for _, c := range []struct {
		name  string
		loss  Loss
		delta float64
		want  float64
		dQ    []float64 // ∂L/∂Q per row
	}{
		// Huber δ=2: 0.5·d² where |d| ≤ 2, else 2·(|d| − 1):
		// 2·(3−1) + 0.5·1 + 0.5·0.25 + 2·(2.5−1) = 4 + 0.5 + 0.125 + 3
		// = 7.625, mean 1.90625; ∂L/∂Q = clip(d, −2, 2)/4
		// = (−0.5, −0.25, 0.125, 0.5). (With δ = 1 the loss would be
		// (2.5 + 0.5 + 0.125 + 2)/4 = 1.28125; with MSE 4.125.)
		{"huber", Huber, 2, 1.90625, []float64{-0.5, -0.25, 0.125, 0.5}},
		// Huber δ=10 ≥ every |d|: quadratic everywhere, half the MSE:
		// 16.5/8 = 2.0625, ∂L/∂Q = d/4 = (−0.75, −0.25, 0.125, 0.625).
		{"huber-wide", Huber, 10, 2.0625, []float64{-0.75, -0.25, 0.125, 0.625}},
		// Huber δ=0.75: every |d| but 0.5 beyond it: 0.75·(3 − 0.375)
		// + 0.75·(1 − 0.375) + 0.5·0.25 + 0.75·(2.5 − 0.375)
		// = 1.96875 + 0.46875 + 0.125 + 1.59375 = 4.15625, mean 1.0390625;
		// ∂L/∂Q = clip(d, ±0.75)/4 = (−0.1875, −0.1875, 0.125, 0.1875).
		{"huber-narrow", Huber, 0.75, 1.0390625, []float64{-0.1875, -0.1875, 0.125, 0.1875}},
		// MSE: (9 + 1 + 0.25 + 6.25)/4 = 4.125; ∂L/∂Q = 2d/4
		// = (−1.5, −0.5, 0.25, 1.25). HuberDelta is ignored.
		{"mse", MSE, 2, 4.125, []float64{-1.5, -0.5, 0.25, 1.25}},
		// The empty loss name means MSE.
		{"default", "", 2, 4.125, []float64{-1.5, -0.5, 0.25, 1.25}},
	} {
		q := linearQ(t, 1, 4, []float32{0.5, -1, 1, 2}, []float32{-3, 3, -3.5, 4.5})
		cfg := DefaultConfig()
		cfg.Loss, cfg.HuberDelta = c.loss, c.delta
		tape := nn.NewTape()
		loss, pred := tdLoss[testenv.Vec](tape, q, cfg, obsV, actions, targets)
		for i, p := range pred.Data {
			if p != wantPred[i] {
				t.Fatalf("%s: Q(s,a) of row %d = %v, want %v", c.name, i, p, wantPred[i])
			}
		}
		if got := float64(loss.Item()); !near(got, c.want, 1e-6) {
			t.Errorf("%s: loss %v, want %v", c.name, got, c.want)
		}
		tape.Backward(loss)
		gW, gB := q.Net.Layers[0].W.V.Grad, q.Net.Layers[0].B.V.Grad
		for i, a := range actions {
			if !near(float64(gB[a]), c.dQ[i], 1e-6) {
				t.Errorf("%s: ∂L/∂Q(row %d) = %v, want %v", c.name, i, gB[a], c.dQ[i])
			}
			if w := float64(obs[i]) * c.dQ[i]; !near(float64(gW[a]), w, 1e-6) {
				t.Errorf("%s: ∂L/∂W[%d] = %v, want %v", c.name, a, gW[a], w)
			}
		}
	}
}

// TestSoftUpdateKnownValues checks θ' ← τ·θ + (1−τ)·θ' at τ = 0.1 (where
// swapping τ and 1−τ shows: τ = 0.5 would not) and the hard copy at τ = 1.
func TestSoftUpdateKnownValues(t *testing.T) {
	mk := func(a, b []float32) []nn.NamedParam {
		p, q := nn.NewParam(1, len(a)), nn.NewParam(1, len(b))
		copy(p.V.Data, a)
		copy(q.V.Data, b)
		return []nn.NamedParam{{Path: "a", Param: p}, {Path: "b", Param: q}}
	}
	online := mk([]float32{0, 6, 1}, []float32{-8})
	check := func(what string, ps []nn.NamedParam, want [][]float64) {
		t.Helper()
		for i, p := range ps {
			for j, v := range p.Param.V.Data {
				if !near(float64(v), want[i][j], 1e-6) {
					t.Errorf("%s: param %d[%d] = %v, want %v", what, i, j, v, want[i][j])
				}
			}
		}
	}

	target := mk([]float32{10, -4, 0}, []float32{2})
	softUpdate(target, online, 0.1)
	// 0.1·0 + 0.9·10 = 9; 0.1·6 + 0.9·(−4) = 0.6 − 3.6 = −3;
	// 0.1·1 + 0.9·0 = 0.1; 0.1·(−8) + 0.9·2 = −0.8 + 1.8 = 1.
	// (Swapped: 0.9·0 + 0.1·10 = 1, 5, 0.9, −7; a frozen target: 10, −4, 0, 2.)
	check("τ=0.1", target, [][]float64{{9, -3, 0.1}, {1}})
	softUpdate(target, online, 0.1)
	// Again: 0.1·0 + 0.9·9 = 8.1; 0.6 + 0.9·(−3) = −2.1; 0.1 + 0.09 = 0.19;
	// −0.8 + 0.9·1 = 0.1.
	check("τ=0.1 twice", target, [][]float64{{8.1, -2.1, 0.19}, {0.1}})
	softUpdate(target, online, 1)
	check("τ=1", target, [][]float64{{0, 6, 1}, {-8}})
	check("online (untouched)", online, [][]float64{{0, 6, 1}, {-8}})

	// τ = 1 copies exactly, whatever the target held (even NaN or ∞).
	target = mk([]float32{float32(math.NaN()), float32(math.Inf(1)), 3}, []float32{float32(math.Inf(-1))})
	softUpdate(target, online, 1)
	check("τ=1 over NaN/∞", target, [][]float64{{0, 6, 1}, {-8}})
}

func flatParams(m nn.Module) []float32 {
	var ps []float32
	for _, np := range nn.Collect(m) {
		ps = append(ps, np.Param.V.Data...)
	}
	return ps
}

// TestTargetNetworkSchedule checks, through Train, when and how the target
// network is updated: at every step > LearningStarts that is a multiple of
// TargetNetworkFrequency, after that step's gradient step. With
// LearningStarts 2, TrainFrequency 1 and TargetNetworkFrequency 3, the
// updates happen at steps 3, 6, 9. The target network is read from the
// checkpoint written after the last step; q_k, the online network after
// steps 0…k−1, is the result of a run of k steps (ε is constant, so runs of
// different lengths share their first steps). q_0 is the initial network,
// which the target starts as a copy of.
//
//	τ = 1:   after 10 steps target = q_10; after 9 steps target = q_7.
//	τ = 0.1: after 10 steps target = 0.1·q_10 + 0.9·(0.1·q_7 +
//	         0.9·(0.1·q_4 + 0.9·q_0)), re-derived here in float64.
//
// A target never updated stays q_0; one updated every step would be q_9
// after 9 steps.
func TestTargetNetworkSchedule(t *testing.T) {
	t.Parallel()
	base := DefaultConfig()
	base.Seed = 9
	base.LearningRate = 0.01
	base.BufferSize = 100
	base.BatchSize = 4
	hidden := []int{8}
	base.LearningStarts = 2
	base.TrainFrequency = 1
	base.TargetNetworkFrequency = 3
	base.StartE, base.EndE, base.ExplorationFraction = 0.5, 0.5, 0
	run := func(tau float64, steps int64) (q, tgt []float32) {
		t.Helper()
		cfg := base
		cfg.Tau, cfg.TotalTimesteps = tau, steps
		cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
		cfg.Checkpoint.Every = steps
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }, policy.MLPQ[testenv.Vec](hidden...), nil)
		if err != nil {
			t.Fatal(err)
		}
		q = flatParams(res.Q)
		if steps == 0 {
			return q, nil
		}
		rng := rand.New(rand.NewPCG(0, 0))
		net := res.Q.(*policy.QNetwork[testenv.Vec]).Net
		qc := policy.NewQNetwork[testenv.Vec](net.In(), net.Out(), hidden, rng)
		tc := policy.NewQNetwork[testenv.Vec](net.In(), net.Out(), hidden, rng)
		opt := optim.NewAdam(nn.Collect(qc), optim.DefaultAdamConfig())
		var st runState[testenv.Vec]
		ok, err := runstate.Load(cfg.Checkpoint.Path, CheckpointKind, nn.Modules{{Name: "q", M: qc}, {Name: "target", M: tc}}, opt,
			[]*rand.PCG{rand.NewPCG(0, 0), rand.NewPCG(0, 0)}, &st)
		if err != nil || !ok {
			t.Fatalf("%d steps: checkpoint: ok=%v err=%v", steps, ok, err)
		}
		if st.Step != steps {
			t.Fatalf("checkpoint of step %d, want %d", st.Step, steps)
		}
		for i, v := range flatParams(qc) {
			if v != q[i] {
				t.Fatalf("%d steps: checkpointed q[%d] = %v, returned %v", steps, i, v, q[i])
			}
		}
		return q, flatParams(tc)
	}
	differ := func(a, b []float32) bool {
		for i := range a {
			if a[i] != b[i] {
				return true
			}
		}
		return false
	}

	// τ = 1.
	q7, _ := run(1, 7)
	q9, t9 := run(1, 9)
	q10, t10 := run(1, 10)
	if !differ(q9, q7) || !differ(q10, q9) {
		t.Fatal("the online network did not change between steps 6 and 9: the test would prove nothing")
	}
	for i := range q10 {
		if t10[i] != q10[i] {
			t.Fatalf("τ=1, 10 steps: target[%d] = %v, want q_10 = %v (copied at step 9)", i, t10[i], q10[i])
		}
		if t9[i] != q7[i] {
			t.Fatalf("τ=1, 9 steps: target[%d] = %v, want q_7 = %v (copied at step 6)", i, t9[i], q7[i])
		}
	}

	// τ = 0.1.
	s0, _ := run(0.1, 0)
	s4, _ := run(0.1, 4)
	s7, _ := run(0.1, 7)
	s10, st10 := run(0.1, 10)
	for i := range s10 {
		p := func(v float32) float64 { return float64(v) }
		want := p(s0[i])                // the initial copy: q_0
		want = 0.1*p(s4[i]) + 0.9*want  // step 3
		want = 0.1*p(s7[i]) + 0.9*want  // step 6
		want = 0.1*p(s10[i]) + 0.9*want // step 9
		if !near(p(st10[i]), want, 1e-5) {
			t.Fatalf("τ=0.1, 10 steps: target[%d] = %v, want %v", i, st10[i], want)
		}
	}
}

// TestCheckpointEveryZero: a checkpoint path with CheckpointEvery 0 resumes
// but never saves.
func TestCheckpointEveryZero(t *testing.T) {
	cfg := smallConfig(1, 20)
	cfg.LearningStarts = 5
	cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
	if _, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return testenv.NewCartPole() }, mlpQ(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Checkpoint.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checkpoint written with CheckpointEvery 0 (stat: %v)", err)
	}
}

// TestTrainCountersAndMetrics runs Train with learning rate 0 on the
// one-state, one-action environment (reward 1, every episode one step), so
// the Q-network stays at its initial value Q0 = Q(s, 0) and every logged
// number is known by hand:
//
//   - gradient steps at every step > LearningStarts = 6 that is a multiple
//     of TrainFrequency = 2 below 301: 8, 10, …, 300, (300 − 8)/2 + 1 = 147;
//   - TD metrics at the gradient steps that are multiples of 100: 100, 200,
//     300, with losses/q_values = Q0 and losses/td_loss = (Q0 − y)², where
//     y = 1 when the step terminates and y = 1 + γ·Q0 = 1 + 0.5·Q0 when it
//     is truncated (bootstrapping from the final observation);
//   - ε decays linearly over int(0.5·301) = 150 steps from 1 to 0.05:
//     ε(75) = 1 − 0.95·75/150 = 0.525, ε(100) = 1 − 0.95·100/150 =
//     0.3666…, ε(200) = 0.05;
//   - 301 episodes of return 1 and length 1, the k-th ending at step k.
func TestTrainCountersAndMetrics(t *testing.T) {
	t.Parallel()
	for _, truncate := range []bool{false, true} {
		cfg := smallConfig(2, 301)
		cfg.LearningRate = 0
		cfg.Gamma = 0.5
		cfg.LearningStarts = 6
		cfg.TrainFrequency = 2
		cfg.BatchSize = 8
		type entry struct {
			step int64
			m    map[string]float64
		}
		var logs []entry
		start := time.Now()
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return &oneStep{truncate: truncate} },
			policy.MLPQ[testenv.Vec](4), func(step int64, m map[string]float64) {
				c := map[string]float64{}
				for k, v := range m {
					c[k] = v
				}
				logs = append(logs, entry{step, c})
			})
		elapsed := time.Since(start).Seconds()
		if err != nil {
			t.Fatal(err)
		}
		q0 := float64(qOf(res.Q, 1)[0])
		// Q0 must be away from 0 (the truncated target would equal the
		// terminated one) and from the fixed points 1 and 2 (zero TD loss).
		if math.Abs(q0) < 0.05 || math.Abs(q0-1) < 0.05 || math.Abs(q0-2) < 0.05 {
			t.Fatalf("Q0 = %v is too close to 0, 1 or 2 for the checks below to discriminate", q0)
		}
		y := 1.0
		if truncate {
			y = 1 + 0.5*q0
		}
		if res.Steps != 301 || res.Updates != 147 || len(res.Episodes) != 301 {
			t.Errorf("truncate=%v: %d steps, %d updates, %d episodes; want 301, 147, 301", truncate, res.Steps, res.Updates, len(res.Episodes))
		}
		for k, e := range res.Episodes {
			if e != (Episode{Step: int64(k), Return: 1, Length: 1}) {
				t.Fatalf("episode %d: %+v, want step %d, return 1, length 1", k, e, k)
			}
		}
		// SPS is Steps/Elapsed by definition.
		if !near(res.SPS*res.Elapsed.Seconds(), 301, 1e-6) {
			t.Errorf("SPS %v × elapsed %v s ≠ 301 steps", res.SPS, res.Elapsed.Seconds())
		}
		var tdSteps []int64
		for _, e := range logs {
			if _, ok := e.m["losses/td_loss"]; !ok {
				if e.m["charts/episodic_return"] != 1 || e.m["charts/episodic_length"] != 1 {
					t.Fatalf("step %d: episode metrics %v", e.step, e.m)
				}
				if e.step == 76 && !near(e.m["charts/epsilon"], 0.525, 1e-12) { // logged after step 75 (76 steps done)
					t.Errorf("ε(75) = %v, want 0.525", e.m["charts/epsilon"])
				}
				continue
			}
			tdSteps = append(tdSteps, e.step)
			if got := e.m["losses/q_values"]; !near(got, q0, 1e-6) {
				t.Errorf("truncate=%v step %d: q_values %v, want Q0 = %v", truncate, e.step, got, q0)
			}
			want := (q0 - y) * (q0 - y)
			if got := e.m["losses/td_loss"]; !near(got, want, 1e-5*(1+want)) {
				t.Errorf("truncate=%v step %d: td_loss %v, want (Q0 − %.4f)² = %v", truncate, e.step, got, y, want)
			}
			eps := map[int64]float64{101: 1 - 0.95*100.0/150, 201: 0.05, 301: 0.05}[e.step] // ε of steps 100, 200, 300
			if got := e.m["charts/epsilon"]; !near(got, eps, 1e-12) {
				t.Errorf("step %d: ε %v, want %v", e.step, got, eps)
			}
			// The throughput so far is at least step / (the whole run's time).
			if got := e.m["charts/SPS"]; got < float64(e.step-1)/elapsed {
				t.Errorf("step %d: SPS %v < %v steps / %v s", e.step, got, e.step-1, elapsed)
			}
		}
		// Logged with the steps done: after steps 100, 200, 300.
		if len(tdSteps) != 3 || tdSteps[0] != 101 || tdSteps[1] != 201 || tdSteps[2] != 301 {
			t.Errorf("TD metrics logged at steps %v, want [101 201 301]", tdSteps)
		}
	}
}

// TestCancelledBeforeStart: a context cancelled before Train starts stops
// it before its first step.
func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Train(ctx, smallConfig(1, 100), func() rl.Env[testenv.Vec] { return testenv.NewChain() }, mlpQ(), nil)
	if !errors.Is(err, context.Canceled) || res.Steps != 0 || len(res.Episodes) != 0 {
		t.Fatalf("err %v after %d steps, %d episodes; want context.Canceled after 0", err, res.Steps, len(res.Episodes))
	}
}

// TestLinearScheduleKnownValues covers the increasing and constant
// schedules and a zero or negative duration (the end value at once).
func TestLinearScheduleKnownValues(t *testing.T) {
	for _, c := range []struct {
		start, end float64
		dur, t     int64
		want       float64
	}{
		{0, 1, 10, 0, 0},
		{0, 1, 10, 5, 0.5},     // 0 + (1 − 0)/10·5
		{0.2, 1, 10, 10, 1},    // the end
		{0.2, 1, 10, 20, 1},    // clamped at the end: 0.2 + 0.08·20 = 1.8 → 1
		{1, 0.2, 10, 5, 0.6},   // 1 − 0.08·5
		{1, 0.2, 10, 30, 0.2},  // clamped: 1 − 0.08·30 = −1.4 → 0.2
		{0.3, 0.3, 10, 7, 0.3}, // constant
		{1, 0.05, 0, 0, 0.05},  // zero duration: the end at once
		{0.05, 1, 0, 0, 1},
		{1, 0.05, -5, 3, 0.05}, // negative duration: the end
		{0.5, 0.5, 0, 4, 0.5},  // 0/0 must not leak a NaN
	} {
		if got := LinearSchedule(c.start, c.end, c.dur, c.t); !near(got, c.want, 1e-12) {
			t.Errorf("LinearSchedule(%v, %v, %d, %d) = %v, want %v", c.start, c.end, c.dur, c.t, got, c.want)
		}
	}
}

// TestArgmaxAllowedTies: the first of tied maxima, and a later larger value
// after a smaller first one.
func TestArgmaxAllowedTies(t *testing.T) {
	for _, c := range []struct {
		v    []float32
		mask []bool
		want int
	}{
		{[]float32{3, 3, 1}, nil, 0},
		{[]float32{1, 3, 3}, nil, 1},
		{[]float32{5, 1}, nil, 0},
		{[]float32{5, 1, 9, 2}, []bool{false, true, false, true}, 3},
		{[]float32{5, 2, 9, 1}, []bool{false, true, false, true}, 1},
		{[]float32{-1, -2}, nil, 0},
		{[]float32{-2, -1}, []bool{true, true}, 1},
		{[]float32{7}, nil, 0},
		{nil, nil, -1},
	} {
		if got := agent.ArgmaxAllowed(c.v, c.mask); got != c.want {
			t.Errorf("ArgmaxAllowed(%v, %v) = %d, want %d", c.v, c.mask, got, c.want)
		}
	}
}

// TestRandomAllowedUniform: each of the k allowed actions is drawn with
// probability 1/k. 30,000 draws among 3 allowed actions: each count is
// Binomial(30000, 1/3), mean 10,000, sd √(30000·2/9) ≈ 81.6; the bar,
// ±500, is above 6 sd.
func TestRandomAllowedUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mask := []bool{true, false, true, true, false}
	counts := make([]int, 6)
	for i := 0; i < 30000; i++ {
		counts[randomAllowed(rng, 5, mask)+1]++ // index 0 counts −1
	}
	for j, c := range counts {
		want := 0
		if j > 0 && mask[j-1] {
			want = 10000
		}
		if c < want-500 || c > want+500 {
			t.Errorf("action %d drawn %d times, want about %d", j-1, c, want)
		}
	}
	// Without a mask: uniform over n = 4; Binomial(20000, 1/4), sd ≈ 61.
	counts = make([]int, 4)
	for i := 0; i < 20000; i++ {
		counts[randomAllowed(rng, 4, nil)]++
	}
	for j, c := range counts {
		if c < 4700 || c > 5300 {
			t.Errorf("unmasked action %d drawn %d times, want about 5000", j, c)
		}
	}
}

// seedEnv ends every episode by truncation after three steps paying 0.5,
// 1 and 2 (return 3.5), and records its Reset seeds.
type seedEnv struct {
	seeds []uint64
	t     int
	mask  []bool
}

func (e *seedEnv) Reset(seed uint64) (testenv.Vec, error) {
	e.seeds = append(e.seeds, seed)
	e.t = 0
	return testenv.Vec{X: []float32{0}, Mask: e.mask}, nil
}

func (e *seedEnv) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	if e.t >= 3 {
		return rl.Step[testenv.Vec]{}, rl.ErrEpisodeOver
	}
	e.t++
	r := []float64{0.5, 1, 2}[e.t-1]
	return rl.Step[testenv.Vec]{Obs: testenv.Vec{X: []float32{float32(e.t)}, Mask: e.mask}, Reward: r, Truncated: e.t == 3}, nil
}

func (e *seedEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2} }

// TestEvaluateKnownReturns: 3 episodes from seed 10 reset with seeds 10,
// 11, 12 and each return 0.5 + 1 + 2 = 3.5; an observation with every
// action masked is an error.
func TestEvaluateKnownReturns(t *testing.T) {
	q := linearQ(t, 1, 2, []float32{1, -1}, []float32{0, 0})
	env := &seedEnv{}
	ev, err := rl.Evaluate(rl.Env[testenv.Vec](env), agent.GreedyQ[testenv.Vec](q), 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	rets := ev.Returns
	if len(rets) != 3 || rets[0] != 3.5 || rets[1] != 3.5 || rets[2] != 3.5 {
		t.Errorf("returns %v, want [3.5 3.5 3.5]", rets)
	}
	if len(env.seeds) != 3 || env.seeds[0] != 10 || env.seeds[1] != 11 || env.seeds[2] != 12 {
		t.Errorf("reset seeds %v, want [10 11 12]", env.seeds)
	}
	if _, err := rl.Evaluate(rl.Env[testenv.Vec](&seedEnv{mask: []bool{false, false}}), agent.GreedyQ[testenv.Vec](q), 1, 0); err == nil {
		t.Error("no error when every action is masked")
	}
}

// TestValidateBoundaries: each hyper-parameter at the edge of its range is
// accepted, and just outside it rejected.
func TestValidateBoundaries(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"TotalTimesteps 0", func(c *Config) { c.TotalTimesteps = 0 }, true},
		{"TotalTimesteps -1", func(c *Config) { c.TotalTimesteps = -1 }, false},
		{"LearningRate 0", func(c *Config) { c.LearningRate = 0 }, true},
		{"LearningRate -1e-9", func(c *Config) { c.LearningRate = -1e-9 }, false},
		{"LearningRate NaN", func(c *Config) { c.LearningRate = math.NaN() }, false},
		{"LearningRate +Inf", func(c *Config) { c.LearningRate = math.Inf(1) }, false},
		{"BufferSize 1", func(c *Config) { c.BufferSize = 1 }, true},
		{"BufferSize 0", func(c *Config) { c.BufferSize = 0 }, false},
		{"Gamma 0", func(c *Config) { c.Gamma = 0 }, true},
		{"Gamma 1", func(c *Config) { c.Gamma = 1 }, true},
		{"Gamma -0.01", func(c *Config) { c.Gamma = -0.01 }, false},
		{"Gamma 1.01", func(c *Config) { c.Gamma = 1.01 }, false},
		{"Tau 1", func(c *Config) { c.Tau = 1 }, true},
		{"Tau 1e-9", func(c *Config) { c.Tau = 1e-9 }, true},
		{"Tau 0", func(c *Config) { c.Tau = 0 }, false},
		{"Tau 1.01", func(c *Config) { c.Tau = 1.01 }, false},
		{"TargetNetworkFrequency 1", func(c *Config) { c.TargetNetworkFrequency = 1 }, true},
		{"TargetNetworkFrequency 0", func(c *Config) { c.TargetNetworkFrequency = 0 }, false},
		{"BatchSize 1", func(c *Config) { c.BatchSize = 1 }, true},
		{"BatchSize 0", func(c *Config) { c.BatchSize = 0 }, false},
		{"StartE 0 EndE 0", func(c *Config) { c.StartE, c.EndE = 0, 0 }, true},
		{"StartE 1 EndE 1", func(c *Config) { c.StartE, c.EndE = 1, 1 }, true},
		{"StartE -0.01", func(c *Config) { c.StartE = -0.01 }, false},
		{"StartE 1.01", func(c *Config) { c.StartE = 1.01 }, false},
		{"EndE -0.01", func(c *Config) { c.EndE = -0.01 }, false},
		{"EndE 1.01", func(c *Config) { c.EndE = 1.01 }, false},
		{"ExplorationFraction 0", func(c *Config) { c.ExplorationFraction = 0 }, true},
		{"ExplorationFraction 1", func(c *Config) { c.ExplorationFraction = 1 }, true},
		{"ExplorationFraction -0.01", func(c *Config) { c.ExplorationFraction = -0.01 }, false},
		{"ExplorationFraction 1.01", func(c *Config) { c.ExplorationFraction = 1.01 }, false},
		{"LearningStarts 0", func(c *Config) { c.LearningStarts = 0 }, true},
		{"LearningStarts -1", func(c *Config) { c.LearningStarts = -1 }, false},
		{"TrainFrequency 1", func(c *Config) { c.TrainFrequency = 1 }, true},
		{"TrainFrequency 0", func(c *Config) { c.TrainFrequency = 0 }, false},
		{"Loss empty", func(c *Config) { c.Loss = "" }, true},
		{"Loss mse", func(c *Config) { c.Loss = MSE }, true},
		{"Loss huber", func(c *Config) { c.Loss = Huber }, true},
		{"Loss l1", func(c *Config) { c.Loss = "l1" }, false},
		{"Huber delta 1e-9", func(c *Config) { c.Loss, c.HuberDelta = Huber, 1e-9 }, true},
		{"Huber delta 0", func(c *Config) { c.Loss, c.HuberDelta = Huber, 0 }, false},
		{"Huber delta NaN", func(c *Config) { c.Loss, c.HuberDelta = Huber, math.NaN() }, false},
		{"MSE delta 0", func(c *Config) { c.Loss, c.HuberDelta = MSE, 0 }, true},
		{"MaxGradNorm 0", func(c *Config) { c.MaxGradNorm = 0 }, true},
		{"MaxGradNorm -1e-9", func(c *Config) { c.MaxGradNorm = -1e-9 }, false},
		{"CheckpointEvery 0", func(c *Config) { c.Checkpoint.Every = 0 }, true},
		{"CheckpointEvery -1", func(c *Config) { c.Checkpoint.Every = -1 }, false},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestTrainBadBuilder: a Q-network with a zero hidden width, or no builder
// at all, is an error from Train, not a panic.
func TestTrainBadBuilder(t *testing.T) {
	for _, c := range []struct {
		name string
		newQ agent.QBuilder[testenv.Vec]
	}{
		{"hidden [3 0]", policy.MLPQ[testenv.Vec](3, 0)},
		{"nil builder", nil},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: Train panicked: %v", c.name, p)
				}
			}()
			_, err := Train(context.Background(), smallConfig(1, 10), func() rl.Env[testenv.Vec] { return testenv.NewChain() }, c.newQ, nil)
			if err == nil {
				t.Errorf("%s: Train returned no error", c.name)
			}
		}()
	}
}

// countingCartPole is CartPole (with its snapshots) counting its steps.
type countingCartPole struct {
	*testenv.CartPole
	steps *int
}

func (c countingCartPole) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	*c.steps++
	return c.CartPole.Step(a)
}

// TestResumeContinues: a run of 12 steps started on the checkpoint a run of
// 5 steps left (CheckpointEvery 5) takes only the 12 − 5 = 7 remaining
// environment steps and counts every gradient step: with LearningStarts 2
// and TrainFrequency 1, steps 3…11, 9 in all (2 before the checkpoint).
// A run ignoring the checkpoint would take 12 steps.
func TestResumeContinues(t *testing.T) {
	cfg := smallConfig(4, 5)
	cfg.BatchSize, cfg.LearningStarts, cfg.TrainFrequency = 4, 2, 1
	newQ := policy.MLPQ[testenv.Vec](8)
	cfg.Checkpoint.Path = filepath.Join(t.TempDir(), "run.safetensors")
	cfg.Checkpoint.Every = 5
	var first, second int
	res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] {
		return countingCartPole{testenv.NewCartPole(), &first}
	}, newQ, nil)
	if err != nil || first != 5 || res.Updates != 2 {
		t.Fatalf("first run: %d steps, %d updates, err %v; want 5, 2", first, res.Updates, err)
	}
	cfg.TotalTimesteps = 12
	res, err = Train(context.Background(), cfg, func() rl.Env[testenv.Vec] {
		return countingCartPole{testenv.NewCartPole(), &second}
	}, newQ, nil)
	if err != nil || second != 7 || res.Steps != 12 || res.Updates != 9 {
		t.Fatalf("resumed run: %d environment steps, Steps %d, %d updates, err %v; want 7, 12, 9", second, res.Steps, res.Updates, err)
	}
}

// twoArms is a one-state environment with two actions whose episodes
// terminate after one step paying 0; it records the actions taken.
type twoArms struct{ taken []int }

func (e *twoArms) Reset(uint64) (testenv.Vec, error) { return testenv.Vec{X: []float32{1}}, nil }

func (e *twoArms) Step(a rl.Action) (rl.Step[testenv.Vec], error) {
	e.taken = append(e.taken, a.Index)
	return rl.Step[testenv.Vec]{Obs: testenv.Vec{X: []float32{1}}, Terminated: true}, nil
}

func (e *twoArms) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2} }

// TestEpsilonGreedyActions: with learning rate 0 the Q-network keeps its
// initial values, so the greedy arm g = argmax Q(s, ·) is fixed. With
// ε = 0 every one of the 400 actions is g (an always-random policy would
// take the other arm about 200 times); with ε = 1 every action is uniform:
// the count of g is Binomial(400, 1/2), mean 200, sd 10, and the bar ±60
// is 6 sd (a greedy policy would score 400).
func TestEpsilonGreedyActions(t *testing.T) {
	for _, eps := range []float64{0, 1} {
		cfg := smallConfig(5, 400)
		cfg.LearningRate = 0
		cfg.StartE, cfg.EndE = eps, eps
		env := &twoArms{}
		res, err := Train(context.Background(), cfg, func() rl.Env[testenv.Vec] { return env }, policy.MLPQ[testenv.Vec](4), nil)
		if err != nil {
			t.Fatal(err)
		}
		g := greedy(t, res.Q, testenv.Vec{X: []float32{1}})
		n := 0
		for _, a := range env.taken {
			if a == g {
				n++
			}
		}
		if len(env.taken) != 400 {
			t.Fatalf("ε=%v: %d actions, want 400", eps, len(env.taken))
		}
		if eps == 0 && n != 400 {
			t.Errorf("ε=0: greedy arm taken %d times of 400", n)
		}
		if eps == 1 && (n < 140 || n > 260) {
			t.Errorf("ε=1: greedy arm taken %d times of 400, want about 200", n)
		}
	}
}
