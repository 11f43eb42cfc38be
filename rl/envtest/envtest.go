// Package envtest is a conformance suite for rl.Env implementations, in the
// spirit of Stable-Baselines3's check_env: reset determinism, masks
// respected, observations immutable, errors (never panics) on invalid
// actions and on steps after the end of an episode.
package envtest

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// Options tunes Check.
type Options struct {
	// Episodes is the number of episodes played with random valid actions
	// (default 5).
	Episodes int
	// MaxSteps bounds one episode (default 10,000): an environment that
	// never ends an episode within it fails.
	MaxSteps int
}

// Check runs the conformance suite on environments made by newEnv (called
// several times: two instances must behave identically for one seed).
func Check[O any](t *testing.T, newEnv func() rl.Env[O], opt Options) {
	t.Helper()
	if opt.Episodes == 0 {
		opt.Episodes = 5
	}
	if opt.MaxSteps == 0 {
		opt.MaxSteps = 10000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for ep := 0; ep < opt.Episodes; ep++ {
		seed := uint64(100 + ep)
		a, b := newEnv(), newEnv()
		oa, err := a.Reset(seed)
		if err != nil {
			t.Fatalf("Reset(%d): %v", seed, err)
		}
		ob, _ := b.Reset(seed)
		if !reflect.DeepEqual(oa, ob) {
			t.Fatalf("Reset(%d) is not deterministic: %+v vs %+v", seed, oa, ob)
		}
		space := a.ActionSpace()
		obs := oa
		for step := 0; ; step++ {
			if step >= opt.MaxSteps {
				t.Fatalf("episode %d did not end within %d steps", ep, opt.MaxSteps)
			}
			checkInvalid(t, a, space, obs)
			snapshot := deepCopy(obs)
			act := randomAction(rng, space, obs)
			sa, err := a.Step(act)
			if err != nil {
				t.Fatalf("episode %d step %d: valid action %+v refused: %v", ep, step, act, err)
			}
			if !reflect.DeepEqual(obs, snapshot) {
				t.Fatalf("episode %d step %d: Step modified the previous observation", ep, step)
			}
			sb, err := b.Step(act)
			if err != nil || !reflect.DeepEqual(sa.Obs, sb.Obs) || sa.Reward != sb.Reward || sa.Terminated != sb.Terminated || sa.Truncated != sb.Truncated {
				t.Fatalf("episode %d step %d: same seed and actions diverge (%v)", ep, step, err)
			}
			if sa.Reward != sa.Reward {
				t.Fatalf("episode %d step %d: NaN reward", ep, step)
			}
			obs = sa.Obs
			if sa.Done() {
				break
			}
		}
		if _, err := a.Step(randomAction(rng, space, obs)); !errors.Is(err, rl.ErrEpisodeOver) {
			t.Fatalf("step after the end of episode %d: got %v, want rl.ErrEpisodeOver", ep, err)
		}
		checkSnapshot(t, newEnv, seed, rng)
	}
}

// checkSnapshot: for environments implementing rl.Snapshotter, a snapshot
// taken mid-episode and restored into a fresh instance continues exactly as
// the original does.
func checkSnapshot[O any](t *testing.T, newEnv func() rl.Env[O], seed uint64, rng *rand.Rand) {
	t.Helper()
	env := newEnv()
	snap, ok := env.(rl.Snapshotter[O])
	if !ok {
		return
	}
	obs, err := env.Reset(seed)
	if err != nil {
		t.Fatal(err)
	}
	space := env.ActionSpace()
	// Play a few steps, snapshot, then compare continuations.
	for k := 0; k < 3; k++ {
		s, err := env.Step(randomAction(rng, space, obs))
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Obs
		if s.Done() {
			if obs, err = env.Reset(seed + 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := snap.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	twin := newEnv()
	tobs, err := twin.(rl.Snapshotter[O]).Restore(b)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !reflect.DeepEqual(obs, tobs) {
		t.Fatalf("restored observation %+v differs from %+v", tobs, obs)
	}
	for k := 0; k < 20; k++ {
		a := randomAction(rng, space, obs)
		s1, err1 := env.Step(a)
		s2, err2 := twin.Step(a)
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(s1, s2) {
			t.Fatalf("restored environment diverges at step %d: %+v / %v vs %+v / %v", k, s1, err1, s2, err2)
		}
		if err1 != nil || s1.Done() {
			return
		}
		obs = s1.Obs
	}
}

// checkInvalid sends invalid actions; each must be refused with an error
// wrapping rl.ErrInvalidAction, without a panic and without changing the
// environment (the valid step that follows is compared with a twin).
func checkInvalid[O any](t *testing.T, env rl.Env[O], space rl.Space, obs O) {
	t.Helper()
	var bad []rl.Action
	switch space.Kind {
	case rl.Discrete:
		bad = append(bad, rl.Action{Index: -1}, rl.Action{Index: space.N})
		if m, ok := any(obs).(rl.Masked); ok {
			for i, ok := range m.ActionMask() {
				if !ok {
					bad = append(bad, rl.Action{Index: i})
				}
			}
		}
	case rl.DiscreteSimplex:
		ok := randomAction(rand.New(rand.NewPCG(0, 0)), rl.Space{Kind: rl.Simplex, N: space.M}, obs).Values
		bad = append(bad, rl.Action{Index: -1, Values: ok}, rl.Action{Index: space.N, Values: ok},
			rl.Action{Index: 0, Values: make([]float32, space.M)}, rl.Action{Index: 0, Values: append(ok, 0)})
		if m, isMasked := any(obs).(rl.Masked); isMasked {
			for i, allowed := range m.ActionMask() {
				if !allowed {
					bad = append(bad, rl.Action{Index: i, Values: ok})
				}
			}
		}
	case rl.Box, rl.Simplex:
		nan := float32(0)
		nan /= nan
		v := make([]float32, space.N)
		v[0] = nan
		bad = append(bad, rl.Action{Values: make([]float32, space.N+1)}, rl.Action{Values: v})
		if space.Kind == rl.Simplex {
			bad = append(bad, rl.Action{Values: make([]float32, space.N)}) // sums to 0
		}
	}
	for _, a := range bad {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("invalid action %+v panicked: %v", a, r)
				}
			}()
			if _, err := env.Step(a); !errors.Is(err, rl.ErrInvalidAction) {
				t.Fatalf("invalid action %+v: got %v, want an error wrapping rl.ErrInvalidAction", a, err)
			}
		}()
	}
}

func randomAction[O any](rng *rand.Rand, space rl.Space, obs O) rl.Action {
	switch space.Kind {
	case rl.DiscreteSimplex:
		a := randomAction(rng, rl.Space{Kind: rl.Discrete, N: space.N}, obs)
		a.Values = randomAction(rng, rl.Space{Kind: rl.Simplex, N: space.M}, obs).Values
		return a
	case rl.Discrete:
		var mask []bool
		if m, ok := any(obs).(rl.Masked); ok {
			mask = m.ActionMask()
		}
		if mask != nil && !slices.Contains(mask, true) {
			return rl.Action{Index: 0} // nothing allowed (an episode's end): any action
		}
		for {
			i := rng.IntN(space.N)
			if mask == nil || mask[i] {
				return rl.Action{Index: i}
			}
		}
	case rl.Simplex:
		v := make([]float32, space.N)
		var s float32
		for i := range v {
			v[i] = float32(rng.Float64()) + 1e-3
			s += v[i]
		}
		for i := range v {
			v[i] /= s
		}
		return rl.Action{Values: v}
	default:
		v := make([]float32, space.N)
		for i := range v {
			lo, hi := float32(-1), float32(1)
			if space.Low != nil {
				lo, hi = space.Low[i], space.High[i]
			}
			v[i] = lo + (hi-lo)*float32(rng.Float64())
		}
		return rl.Action{Values: v}
	}
}

// deepCopy copies slices, maps and structs reachable from v so that a later
// in-place modification is detected by reflect.DeepEqual.
func deepCopy[O any](v O) O {
	c := reflect.New(reflect.TypeOf(&v).Elem()).Elem()
	copyValue(c, reflect.ValueOf(&v).Elem())
	return c.Interface().(O)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for _, k := range src.MapKeys() {
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, src.MapIndex(k))
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	case reflect.Struct:
		for i := 0; i < src.NumField(); i++ {
			if dst.Field(i).CanSet() {
				copyValue(dst.Field(i), src.Field(i))
			} else {
				dst.Set(src) // unexported fields: shallow copy of the struct
				return
			}
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	default:
		dst.Set(src)
	}
}
