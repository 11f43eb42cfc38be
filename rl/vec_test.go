package rl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// script is an environment whose episode started with seed s lasts
// 1 + s%3 steps and pays, at step k (from 1), reward s·10 + k + a, where a
// is the action's index; step info "k" is k. Its observation is
// (seed, step). It fails on action index −1 and snapshots its state.
type script struct {
	seed, k int
	resets  *[]uint64 // every seed Reset was called with, in order
}

type sobs struct{ Seed, K int }

func (s *script) Reset(seed uint64) (sobs, error) {
	if s.resets != nil {
		*s.resets = append(*s.resets, seed)
	}
	s.seed, s.k = int(seed), 0
	return sobs{s.seed, 0}, nil
}

func (s *script) Step(a Action) (Step[sobs], error) {
	if a.Index < 0 {
		return Step[sobs]{}, fmt.Errorf("%w: index %d", ErrInvalidAction, a.Index)
	}
	s.k++
	done := s.k >= 1+s.seed%3
	return Step[sobs]{Obs: sobs{s.seed, s.k}, Reward: float64(s.seed*10 + s.k + a.Index), Terminated: done,
		Info: map[string]float64{"k": float64(s.k)}}, nil
}

func (s *script) ActionSpace() Space { return Space{Kind: Discrete, N: 3} }

func (s *script) Snapshot() ([]byte, error) { return json.Marshal([2]int{s.seed, s.k}) }

func (s *script) Restore(b []byte) (sobs, error) {
	var v [2]int
	if err := json.Unmarshal(b, &v); err != nil {
		return sobs{}, err
	}
	s.seed, s.k = v[0], v[1]
	return sobs{s.seed, s.k}, nil
}

// TestVecEnvBookkeeping: two environments reset with seeds 3 and 4 (3 → 1
// step, 4 → 2 steps), then with resetSeed(e, k) = 10e + k + 5: env 0 runs
// 3 (1 step), 6 (1 step), 7 (2 steps); env 1 runs 4 (2 steps), 16 (2
// steps). Returns by hand: seed 3: 31; seed 4: 41 + 42 = 83; seed 6: 61;
// seed 7: 71 + 72 = 143; each with action 0.
func TestVecEnvBookkeeping(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		var resets []uint64
		seed := func(e int, k uint64) uint64 {
			if k == 0 {
				return uint64(3 + e)
			}
			return uint64(10*e) + k + 5
		}
		v, err := NewVecEnv("test", 2, func() Env[sobs] { return &script{resets: &resets} }, seed)
		if err != nil {
			t.Fatal(err)
		}
		v.Parallel = parallel
		type fin struct {
			step int
			f    Finished
		}
		var got []fin
		acts := make([]Action, 2)
		for step := 1; step <= 4; step++ {
			steps, err := v.Step(acts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range v.Finished {
				got = append(got, fin{step, f})
			}
			if step == 1 && (steps[0].Obs != sobs{3, 1} || !steps[0].Terminated || v.Obs[0] != sobs{6, 0}) {
				t.Errorf("step 1: final obs %v, terminated %v, current %v; want the final (3,1) and the reset (6,0)", steps[0].Obs, steps[0].Terminated, v.Obs[0])
			}
		}
		// Info sums k over the episode's steps: 1 for one step, 1+2 = 3 for two.
		one, two := map[string]float64{"k": 1}, map[string]float64{"k": 3}
		want := []fin{{1, Finished{0, 31, 1, one}}, {2, Finished{0, 61, 1, one}}, {2, Finished{1, 83, 2, two}}, {4, Finished{0, 143, 2, two}}, {4, Finished{1, 161 + 162, 2, two}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parallel %v: finished %v, want %v", parallel, got, want)
		}
		if w := []uint64{3, 4, 6, 7, 16, 8, 17}; !reflect.DeepEqual(resets, w) {
			t.Errorf("parallel %v: reset seeds %v, want %v (environment order)", parallel, resets, w)
		}
		if v.Episodes[0] != 3 || v.Episodes[1] != 2 || v.EpReturn[0] != 0 || v.EpLength[1] != 0 {
			t.Errorf("parallel %v: episodes %v, returns so far %v, lengths %v", parallel, v.Episodes, v.EpReturn, v.EpLength)
		}
	}
}

// TestInfoMetrics: an episode of 4 steps whose infos sum to latency 10 and
// node 6 logs episode/latency_ms 2.5 and episode/node 1.5.
func TestInfoMetrics(t *testing.T) {
	var sums map[string]float64
	for _, info := range []map[string]float64{{"latency_ms": 1, "node": 3}, nil, {"latency_ms": 4}, {"latency_ms": 5, "node": 3}} {
		sums = AddInfo(sums, info)
	}
	m := map[string]float64{}
	Finished{Return: -1, Length: 4, Info: sums}.InfoMetrics(m)
	if !reflect.DeepEqual(m, map[string]float64{"episode/latency_ms": 2.5, "episode/node": 1.5}) {
		t.Errorf("metrics %v", m)
	}
	if AddInfo(nil, nil) != nil {
		t.Error("an episode without infos allocated sums")
	}
}

// TestVecEnvStateRoundTrip: a VecEnv restored from another's State steps
// exactly as the original from there on.
func TestVecEnvStateRoundTrip(t *testing.T) {
	seed := func(e int, k uint64) uint64 { return uint64(2 + e + 2*int(k)) }
	mk := func() *VecEnv[sobs] {
		v, err := NewVecEnv("test", 2, func() Env[sobs] { return &script{} }, seed)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a, b := mk(), mk()
	acts := []Action{{Index: 1}, {Index: 2}}
	if _, err := a.Step(acts); err != nil {
		t.Fatal(err)
	}
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := json.Marshal(st)
	var st2 VecState
	if err := json.Unmarshal(blob, &st2); err != nil {
		t.Fatal(err)
	}
	if err := b.Restore("ckpt", st2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Obs, b.Obs) || !reflect.DeepEqual(a.EpReturn, b.EpReturn) || !reflect.DeepEqual(a.Episodes, b.Episodes) || !reflect.DeepEqual(a.EpInfo, b.EpInfo) {
		t.Fatalf("restored %v %v %v, want %v %v %v", b.Obs, b.EpReturn, b.Episodes, a.Obs, a.EpReturn, a.Episodes)
	}
	for i := 0; i < 5; i++ {
		sa, err1 := a.Step(acts)
		ra := append([]Step[sobs](nil), sa...)
		sb, err2 := b.Step(acts)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(ra, sb) || fmt.Sprint(a.Finished) != fmt.Sprint(b.Finished) {
			t.Fatalf("step %d differs after restore: %v %v / %v %v / %v %v", i, ra, sb, a.Finished, b.Finished, err1, err2)
		}
	}
	st.Envs = st.Envs[:1]
	if err := b.Restore("ckpt", st); !errors.Is(err, ErrVecMismatch) {
		t.Errorf("restoring 1 environment into 2: %v, want ErrVecMismatch", err)
	}
}

// TestVecEnvErrors: an environment error names the environment; a wrong
// action count and an environment without snapshots are errors.
func TestVecEnvErrors(t *testing.T) {
	v, err := NewVecEnv("test", 2, func() Env[sobs] { return &script{} }, func(int, uint64) uint64 { return 1 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Step([]Action{{}, {Index: -1}}); !errors.Is(err, ErrInvalidAction) || !containsAll(err.Error(), "test", "env 1") {
		t.Errorf("bad action in env 1: %v", err)
	}
	if _, err := v.Step([]Action{{}}); err == nil {
		t.Error("1 action for 2 environments accepted")
	}
	if _, err := NewVecEnv("test", 0, func() Env[sobs] { return &script{} }, func(int, uint64) uint64 { return 1 }); err == nil {
		t.Error("0 environments accepted")
	}
	w, _ := NewVecEnv("test", 1, func() Env[sobs] { return plain{&script{}} }, func(int, uint64) uint64 { return 1 })
	if _, err := w.State(); err == nil {
		t.Error("State of an environment without snapshots succeeded")
	}
}

// plain hides script's Snapshot/Restore.
type plain struct{ s *script }

func (p plain) Reset(seed uint64) (sobs, error)   { return p.s.Reset(seed) }
func (p plain) Step(a Action) (Step[sobs], error) { return p.s.Step(a) }
func (p plain) ActionSpace() Space                { return p.s.ActionSpace() }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !contains(s, p) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestEvaluateKnown: seeds 5, 6, 7 last 3, 1, 2 steps; a policy choosing
// action 1 earns (51+1)+(52+1)+(53+1) = 159, 62, (71+1)+(72+1) = 145;
// info "k" sums 1+2+3 = 6, 1, 3 per episode, 10/6 per step.
func TestEvaluateKnown(t *testing.T) {
	one := PolicyFunc[sobs](func(sobs) (Action, error) { return Action{Index: 1}, nil })
	var seen []float64
	ev, err := Evaluate(Env[sobs](&script{}), one, 3, 5, func(ep int, s Step[sobs]) { seen = append(seen, float64(ep*100)+s.Reward) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{52, 53, 54, 162, 272, 273}; !reflect.DeepEqual(seen, want) {
		t.Errorf("steps seen %v, want %v (episode·100 + reward)", seen, want)
	}
	if !reflect.DeepEqual(ev.Returns, []float64{159, 62, 145}) || !reflect.DeepEqual(ev.Lengths, []int{3, 1, 2}) || ev.Steps != 6 {
		t.Errorf("returns %v lengths %v steps %d", ev.Returns, ev.Lengths, ev.Steps)
	}
	if !reflect.DeepEqual(ev.Info["k"], []float64{6, 1, 3}) || ev.InfoPerStep("k") != 10.0/6 {
		t.Errorf("info %v, per step %v", ev.Info, ev.InfoPerStep("k"))
	}
	if m := ev.MeanReturn(); m != (159.0+62+145)/3 {
		t.Errorf("mean return %v", m)
	}
	if v := ev.InfoPerStep("missing"); v == v {
		t.Errorf("missing key gives %v, want NaN", v)
	}
	bad := PolicyFunc[sobs](func(o sobs) (Action, error) {
		if o.K == 1 {
			return Action{}, errors.New("no idea")
		}
		return Action{Index: 0}, nil
	})
	if _, err := Evaluate(Env[sobs](&script{}), bad, 3, 5); err == nil || !contains(err.Error(), "no idea") {
		t.Errorf("policy error: %v", err)
	}
	invalid := PolicyFunc[sobs](func(sobs) (Action, error) { return Action{Index: -1}, nil })
	if _, err := Evaluate(Env[sobs](&script{}), invalid, 1, 5); !errors.Is(err, ErrInvalidAction) {
		t.Errorf("invalid action: %v", err)
	}
	if _, err := Evaluate(Env[sobs](&script{}), one, -1, 5); err == nil {
		t.Error("−1 episodes accepted")
	}
}

// TestEdgeCasesOfEvaluateAndRestore: zero episodes is an empty evaluation,
// not an error; a checkpoint without episode-info sums (written before they
// existed) restores with empty sums.
func TestEdgeCasesOfEvaluateAndRestore(t *testing.T) {
	one := PolicyFunc[sobs](func(sobs) (Action, error) { return Action{Index: 1}, nil })
	ev, err := Evaluate(Env[sobs](&script{}), one, 0, 5)
	if err != nil || len(ev.Returns) != 0 || ev.Steps != 0 {
		t.Errorf("0 episodes: %+v, %v", ev, err)
	}
	v, err := NewVecEnv("test", 2, func() Env[sobs] { return &script{} }, func(int, uint64) uint64 { return 2 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Step([]Action{{}, {}}); err != nil {
		t.Fatal(err)
	}
	st, err := v.State()
	if err != nil {
		t.Fatal(err)
	}
	st.EpInfo = nil
	if err := v.Restore("old.ckpt", st); err != nil {
		t.Fatal(err)
	}
	if v.EpInfo[0] != nil || v.EpInfo[1] != nil {
		t.Errorf("sums after restoring an old checkpoint: %v", v.EpInfo)
	}
}

type panicEnv struct{ Env[int] }

func (panicEnv) Step(Action) (Step[int], error) { panic("index out of range [7] with length 3") }

// TestVecEnvPanicIsAnError: a panicking environment gives an error naming
// the environment and the panic, on goroutines and in sequence.
func TestVecEnvPanicIsAnError(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		v := &VecEnv[int]{Envs: []Env[int]{panicEnv{}, panicEnv{}}, Parallel: parallel, name: "test"}
		v.steps, v.errs = make([]Step[int], 2), make([]error, 2)
		_, err := v.Step([]Action{{}, {}})
		if err == nil || !strings.Contains(err.Error(), "step env 0: panic in the environment: index out of range [7] with length 3") {
			t.Errorf("parallel %v: %v", parallel, err)
		}
	}
}
