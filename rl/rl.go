// Package rl holds the small interfaces shared by environments (rl/envs)
// and training algorithms: spaces, actions, steps and the Env contract; the
// Policy contract and the one evaluation loop (Evaluate) that learned
// policies, heuristics and baselines are all scored with; VecEnv, through
// which every trainer collects experience; and the pieces the algorithms
// share (GAE, advantage normalisation, the replay buffer). The contracts
// between models and trainers (agents, Q-functions) are in rl/agent.
//
// Environments speak typed observations (any Go type O: a struct of
// candidate nodes and paths, a job DAG, a vector) and typed actions; models
// turn observations into tensors. This package imports nothing of the
// project, so environments stay free of nn and models.
package rl

import (
	"errors"
	"fmt"
)

// SpaceKind says what an action is.
type SpaceKind int

// Action space kinds.
const (
	// Discrete actions are an index in [0, N).
	Discrete SpaceKind = iota
	// Box actions are N real values in [Low, High] (continuous control).
	Box
	// Simplex actions are N non-negative values summing to 1 (split ratios).
	Simplex
	// DiscreteSimplex actions are an index in [0, N) AND M non-negative
	// values summing to 1: RLMS-CPN's compute node plus its path split.
	DiscreteSimplex
)

func (k SpaceKind) String() string {
	switch k {
	case Discrete:
		return "discrete"
	case Box:
		return "box"
	case Simplex:
		return "simplex"
	case DiscreteSimplex:
		return "discrete+simplex"
	}
	return fmt.Sprintf("SpaceKind(%d)", int(k))
}

// Space describes the actions of an environment.
type Space struct {
	Kind SpaceKind
	// N is the number of discrete actions, or the dimension of a Box or
	// Simplex action.
	N int
	// Low and High bound Box actions (len N each; nil means unbounded).
	Low, High []float32
	// M is the dimension of the simplex part of DiscreteSimplex actions.
	M int
}

// Action is one action: Index for Discrete spaces, Values for Box and
// Simplex spaces.
type Action struct {
	Index  int
	Values []float32
}

// Step is the outcome of one environment step, Gymnasium-style: Terminated
// means the episode reached a terminal state (no bootstrapping), Truncated
// that it was cut by a time limit (bootstrap from Obs).
type Step[O any] struct {
	Obs        O
	Reward     float64
	Terminated bool
	Truncated  bool
	// Info holds the metrics the papers report (latency, energy, …).
	Info map[string]float64
}

// Done reports whether the episode ended for either reason.
func (s Step[O]) Done() bool { return s.Terminated || s.Truncated }

// Env is a seeded, deterministic simulator. Reset(seed) starts an episode;
// the same seed and the same actions give the same observations and
// rewards. Observations are immutable snapshots: an environment never
// modifies an observation it has returned.
//
// Step returns an error — and leaves the environment unchanged — for an
// invalid action (out of range, masked, wrong length, not finite) or when
// called after the episode ended; it never panics on bad actions.
type Env[O any] interface {
	Reset(seed uint64) (O, error)
	Step(a Action) (Step[O], error)
	ActionSpace() Space
}

// Masked is implemented by observations that restrict the discrete actions
// allowed in a state: ActionMask()[i] reports whether action i is allowed.
type Masked interface {
	ActionMask() []bool
}

// Vector is implemented by observations that are a plain feature vector
// (the known-answer environments, CartPole); generic MLP policies use it.
type Vector interface {
	Features() []float32
}

// Errors environments wrap so callers can tell them apart.
var (
	ErrInvalidAction = errors.New("rl: invalid action")
	ErrEpisodeOver   = errors.New("rl: step after the episode ended; call Reset")
)

// CheckAction validates a against space (and mask, if non-nil, for
// Discrete spaces), returning an error wrapping ErrInvalidAction.
func CheckAction(space Space, a Action, mask []bool) error {
	if space.Kind == DiscreteSimplex {
		if err := CheckAction(Space{Kind: Discrete, N: space.N}, a, mask); err != nil {
			return err
		}
		return CheckAction(Space{Kind: Simplex, N: space.M}, Action{Values: a.Values}, nil)
	}
	switch space.Kind {
	case Discrete:
		if a.Index < 0 || a.Index >= space.N {
			return fmt.Errorf("%w: index %d outside [0,%d)", ErrInvalidAction, a.Index, space.N)
		}
		if mask != nil && !mask[a.Index] {
			return fmt.Errorf("%w: action %d is masked", ErrInvalidAction, a.Index)
		}
	case Box, Simplex:
		if len(a.Values) != space.N {
			return fmt.Errorf("%w: %d values, want %d", ErrInvalidAction, len(a.Values), space.N)
		}
		var sum float64
		for i, v := range a.Values {
			if v != v || v > 3.4e38 || v < -3.4e38 {
				return fmt.Errorf("%w: value %d is %v", ErrInvalidAction, i, v)
			}
			if space.Kind == Simplex && v < 0 {
				return fmt.Errorf("%w: split ratio %d is negative (%v)", ErrInvalidAction, i, v)
			}
			sum += float64(v)
		}
		if space.Kind == Simplex && (sum < 1-1e-3 || sum > 1+1e-3) {
			return fmt.Errorf("%w: split ratios sum to %v, want 1", ErrInvalidAction, sum)
		}
	default:
		return fmt.Errorf("%w: unknown space kind %v", ErrInvalidAction, space.Kind)
	}
	return nil
}

// Snapshotter is implemented by environments whose mid-episode state can be
// saved and restored, which checkpoint/resume of a training run needs:
// Snapshot encodes the full state (including the environment's random
// generator); Restore sets it and returns the current observation.
type Snapshotter[O any] interface {
	Snapshot() ([]byte, error)
	Restore(b []byte) (O, error)
}
