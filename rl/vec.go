package rl

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// VecEnv steps several environments in lockstep and keeps their episode
// bookkeeping: the current observation of each, the return and length of
// the episode under way, and automatic resets when an episode ends. Every
// trainer collects its experience through it.
//
// With Parallel set, Step runs the environments' steps concurrently (one
// goroutine each), for simulators whose step costs far more than a
// goroutine hand-off; results are always processed in environment order
// and resets are seeded in that order, so a run is identical with 1 or N
// goroutines.
type VecEnv[O any] struct {
	Envs []Env[O]
	// Obs[e] is environment e's current observation (the first of a new
	// episode after an automatic reset).
	Obs []O
	// EpReturn[e] and EpLength[e] describe the episode under way.
	EpReturn []float64
	EpLength []int
	// Episodes[e] counts the episodes environment e has finished.
	Episodes []uint64
	// Parallel steps the environments concurrently.
	Parallel bool
	// Finished lists the episodes that ended in the last Step, in
	// environment order.
	Finished []Finished
	// EpInfo[e] sums the step infos of environment e's episode under way.
	EpInfo []map[string]float64

	name      string
	resetSeed func(env int, episode uint64) uint64
	steps     []Step[O]
	errs      []error
}

// Finished is an episode that ended during a VecEnv step. Info sums its
// steps' infos (nil when they had none); InfoMetrics turns it into
// per-step means.
type Finished struct {
	Env    int
	Return float64
	Length int
	Info   map[string]float64
}

// InfoMetrics adds "episode/<key>" = the episode's mean of every step-info
// key (sum / length) to metrics: what the trainers log at the end of an
// episode next to charts/episodic_return (RLMS-CPN's mean latency is
// episode/latency_ms).
func (f Finished) InfoMetrics(metrics map[string]float64) {
	for k, v := range f.Info {
		metrics["episode/"+k] = v / float64(f.Length)
	}
}

// AddInfo adds a step's info to an episode's sums (allocated on first
// use) and returns the sums.
func AddInfo(sums map[string]float64, info map[string]float64) map[string]float64 {
	if len(info) == 0 {
		return sums
	}
	if sums == nil {
		sums = make(map[string]float64, len(info))
	}
	for k, v := range info {
		sums[k] += v
	}
	return sums
}

// NewVecEnv makes n environments with newEnv and resets each with
// resetSeed(e, 0). After the k-th finished episode of environment e it is
// reset with resetSeed(e, k); resetSeed is called in environment order, so
// it may draw from a generator. name prefixes errors ("ppo").
func NewVecEnv[O any](name string, n int, newEnv func() Env[O], resetSeed func(env int, episode uint64) uint64) (*VecEnv[O], error) {
	if n < 1 {
		return nil, fmt.Errorf("%s: %d environments", name, n)
	}
	v := &VecEnv[O]{
		Envs: make([]Env[O], n), Obs: make([]O, n), EpReturn: make([]float64, n), EpLength: make([]int, n),
		Episodes: make([]uint64, n), EpInfo: make([]map[string]float64, n), name: name, resetSeed: resetSeed,
		steps: make([]Step[O], n), errs: make([]error, n),
	}
	for e := range v.Envs {
		v.Envs[e] = newEnv()
		o, err := v.Envs[e].Reset(resetSeed(e, 0))
		if err != nil {
			return nil, fmt.Errorf("%s: reset env %d: %w", name, e, err)
		}
		v.Obs[e] = o
	}
	return v, nil
}

// safeStep is env.Step with a panic turned into an error (with its stack),
// so that a simulator bug met on a stepping goroutine ends the run with a
// message instead of crashing the process.
func safeStep[O any](env Env[O], a Action) (s Step[O], err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in the environment: %v\n%s", r, debug.Stack())
		}
	}()
	return env.Step(a)
}

// Len is the number of environments.
func (v *VecEnv[O]) Len() int { return len(v.Envs) }

// Step applies acts[e] to environment e and returns the steps (their Obs
// is the observation the action led to: the final one when the episode
// ended, before the automatic reset that replaces v.Obs[e]). The returned
// slice is reused by the next call. An environment error stops the step
// and names the environment.
func (v *VecEnv[O]) Step(acts []Action) ([]Step[O], error) {
	if len(acts) != len(v.Envs) {
		return nil, fmt.Errorf("%s: %d actions for %d environments", v.name, len(acts), len(v.Envs))
	}
	if v.Parallel && len(v.Envs) > 1 {
		var wg sync.WaitGroup
		for e, env := range v.Envs {
			wg.Go(func() { v.steps[e], v.errs[e] = safeStep(env, acts[e]) })
		}
		wg.Wait()
	} else {
		for e, env := range v.Envs {
			v.steps[e], v.errs[e] = safeStep(env, acts[e])
		}
	}
	v.Finished = v.Finished[:0]
	for e, env := range v.Envs {
		s, err := v.steps[e], v.errs[e]
		if err != nil {
			return nil, fmt.Errorf("%s: step env %d: %w", v.name, e, err)
		}
		v.EpReturn[e] += s.Reward
		v.EpLength[e]++
		v.EpInfo[e] = AddInfo(v.EpInfo[e], s.Info)
		v.Obs[e] = s.Obs
		if !s.Done() {
			continue
		}
		v.Finished = append(v.Finished, Finished{Env: e, Return: v.EpReturn[e], Length: v.EpLength[e], Info: v.EpInfo[e]})
		v.EpReturn[e], v.EpLength[e], v.EpInfo[e] = 0, 0, nil
		v.Episodes[e]++
		o, err := env.Reset(v.resetSeed(e, v.Episodes[e]))
		if err != nil {
			return nil, fmt.Errorf("%s: reset env %d: %w", v.name, e, err)
		}
		v.Obs[e] = o
	}
	return v.steps, nil
}

// VecState is the part of a VecEnv a checkpoint keeps: the environments'
// snapshots (they must implement Snapshotter) and the episode bookkeeping.
type VecState struct {
	Envs     [][]byte  `json:"envs"`
	EpReturn []float64 `json:"episode_returns_so_far"`
	EpLength []int     `json:"episode_lengths_so_far"`
	Episodes []uint64  `json:"episodes"`
	// EpInfo sums the step infos of the episodes under way.
	EpInfo []map[string]float64 `json:"episode_info_so_far,omitempty"`
}

// State snapshots the environments and copies the bookkeeping.
func (v *VecEnv[O]) State() (VecState, error) {
	envs, err := SnapshotEnvs(v.name, v.Envs)
	st := VecState{Envs: envs, EpReturn: append([]float64(nil), v.EpReturn...),
		EpLength: append([]int(nil), v.EpLength...), Episodes: append([]uint64(nil), v.Episodes...),
		EpInfo: make([]map[string]float64, len(v.EpInfo))}
	for e, m := range v.EpInfo {
		st.EpInfo[e] = AddInfo(nil, m)
	}
	return st, err
}

// SnapshotEnvs returns the snapshots of envs, which must implement
// Snapshotter; name prefixes errors.
func SnapshotEnvs[O any](name string, envs []Env[O]) ([][]byte, error) {
	out := make([][]byte, len(envs))
	for e, env := range envs {
		s, ok := env.(Snapshotter[O])
		if !ok {
			return nil, fmt.Errorf("%s: checkpointing needs environments implementing rl.Snapshotter; %T does not", name, env)
		}
		b, err := s.Snapshot()
		if err != nil {
			return nil, fmt.Errorf("%s: snapshot env %d: %w", name, e, err)
		}
		out[e] = b
	}
	return out, nil
}

// RestoreEnvs restores envs from snaps (from SnapshotEnvs) and writes their
// current observations to obs; path names the checkpoint in errors.
func RestoreEnvs[O any](name, path string, envs []Env[O], snaps [][]byte, obs []O) error {
	if len(snaps) != len(envs) {
		return fmt.Errorf("%s: %s: %w: checkpoint has %d environments, the run %d", name, path, ErrVecMismatch, len(snaps), len(envs))
	}
	for e, env := range envs {
		s, ok := env.(Snapshotter[O])
		if !ok {
			return fmt.Errorf("%s: resuming needs environments implementing rl.Snapshotter; %T does not", name, env)
		}
		o, err := s.Restore(snaps[e])
		if err != nil {
			return fmt.Errorf("%s: %s: env %d: %w", name, path, e, err)
		}
		obs[e] = o
	}
	return nil
}

// ErrVecMismatch is wrapped by Restore when a checkpoint was taken with a
// different number of environments.
var ErrVecMismatch = errors.New("checkpoint environments do not match the run")

// Restore sets the environments and the bookkeeping from st (from State);
// path names the checkpoint in errors.
func (v *VecEnv[O]) Restore(path string, st VecState) error {
	n := len(v.Envs)
	if len(st.EpReturn) != n || len(st.EpLength) != n || len(st.Episodes) != n {
		return fmt.Errorf("%s: %s: %w: checkpoint has %d environments, the run %d", v.name, path, ErrVecMismatch, len(st.EpReturn), n)
	}
	if err := RestoreEnvs(v.name, path, v.Envs, st.Envs, v.Obs); err != nil {
		return err
	}
	copy(v.EpReturn, st.EpReturn)
	copy(v.EpLength, st.EpLength)
	copy(v.Episodes, st.Episodes)
	for e := range v.EpInfo {
		v.EpInfo[e] = nil
		if e < len(st.EpInfo) {
			v.EpInfo[e] = AddInfo(nil, st.EpInfo[e])
		}
	}
	return nil
}
