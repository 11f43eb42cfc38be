package rl

import (
	"fmt"
	"math/rand/v2"
)

// Transition is one stored environment step: the agent saw Obs, took
// Action, received Reward and saw NextObs. Terminated marks a true terminal
// state (no bootstrapping from NextObs); a time-limit truncation is stored
// with Terminated false and the final observation as NextObs, so that
// value-based algorithms bootstrap from it.
//
// An n-step transition (Steps > 1) spans Steps environment steps: Reward
// is their discounted sum and NextObs the observation after the last, so
// a bootstrap discounts it by γ^Steps. Steps 0 means 1.
type Transition[O any] struct {
	Obs        O
	Action     Action
	Reward     float64
	NextObs    O
	Terminated bool
	Steps      int `json:",omitempty"`
}

// Replay is a fixed-capacity uniform experience-replay buffer (a ring, as
// Stable-Baselines3's ReplayBuffer and CleanRL's DQN use): once full, each
// Add overwrites the oldest transition.
//
// Observations are stored by value; environments return immutable
// snapshots, so no copy is made.
//
// Invariants: 0 ≤ Len() ≤ Cap(); 0 ≤ Pos() < Cap(); slots [0, Len()) hold
// transitions, and Pos() is the slot the next Add writes. A Replay is not
// safe for concurrent use.
type Replay[O any] struct {
	obs, next  []O
	actions    []Action
	rewards    []float64
	terminated []bool
	steps      []int
	pos, count int
}

// ReplayBatch is a reusable batch of sampled transitions in
// structure-of-arrays form: row i of every slice describes one transition.
// Sample resizes the slices, reusing their capacity.
type ReplayBatch[O any] struct {
	// Indices are the buffer slots sampled.
	Indices    []int
	Obs        []O
	Actions    []Action
	Rewards    []float64
	NextObs    []O
	Terminated []bool
	// Steps is each transition's span in environment steps (≥ 1).
	Steps []int
}

// Len returns the number of transitions in the batch.
func (b *ReplayBatch[O]) Len() int { return len(b.Indices) }

// NewReplay returns an empty buffer holding at most capacity transitions.
// It panics if capacity < 1.
func NewReplay[O any](capacity int) *Replay[O] {
	if capacity < 1 {
		panic(fmt.Sprintf("rl: NewReplay: capacity %d < 1", capacity))
	}
	return &Replay[O]{
		obs:        make([]O, capacity),
		next:       make([]O, capacity),
		actions:    make([]Action, capacity),
		rewards:    make([]float64, capacity),
		terminated: make([]bool, capacity),
		steps:      make([]int, capacity),
	}
}

// Cap returns the capacity.
func (r *Replay[O]) Cap() int { return len(r.obs) }

// Len returns the number of stored transitions (at most Cap).
func (r *Replay[O]) Len() int { return r.count }

// Pos returns the slot the next Add writes (the oldest transition once the
// buffer is full). Checkpoints save it with Len and the slots.
func (r *Replay[O]) Pos() int { return r.pos }

// Add stores one transition, overwriting the oldest one when full.
func (r *Replay[O]) Add(obs O, action Action, reward float64, nextObs O, terminated bool) {
	r.AddSteps(obs, action, reward, nextObs, terminated, 1)
}

// AddSteps stores a transition spanning steps environment steps (reward
// their discounted sum, nextObs the observation after the last). It
// panics if steps < 1.
func (r *Replay[O]) AddSteps(obs O, action Action, reward float64, nextObs O, terminated bool, steps int) {
	if steps < 1 {
		panic(fmt.Sprintf("rl: Replay.AddSteps: %d steps < 1", steps))
	}
	i := r.pos
	r.obs[i], r.next[i] = obs, nextObs
	r.actions[i], r.rewards[i], r.terminated[i], r.steps[i] = action, reward, terminated, steps
	r.pos++
	if r.pos == len(r.obs) {
		r.pos = 0
	}
	if r.count < len(r.obs) {
		r.count++
	}
}

// At returns the transition in slot i. It panics unless 0 ≤ i < Len().
func (r *Replay[O]) At(i int) Transition[O] {
	if i < 0 || i >= r.count {
		panic(fmt.Sprintf("rl: Replay.At: slot %d outside [0,%d)", i, r.count))
	}
	tr := Transition[O]{Obs: r.obs[i], Action: r.actions[i], Reward: r.rewards[i], NextObs: r.next[i], Terminated: r.terminated[i]}
	if r.steps[i] > 1 {
		tr.Steps = r.steps[i]
	}
	return tr
}

// Restore replaces the buffer's contents by slots (slot i of the saved
// buffer, as At returned them) with the next write at pos, for resuming
// from a checkpoint. It returns an error if len(slots) > Cap() or pos is
// inconsistent with len(slots) (pos must be len(slots) mod Cap() while the
// buffer is not full, and in [0, Cap()) when it is).
func (r *Replay[O]) Restore(slots []Transition[O], pos int) error {
	n, c := len(slots), r.Cap()
	switch {
	case n > c:
		return fmt.Errorf("rl: Replay.Restore: %d transitions exceed capacity %d", n, c)
	case n < c && pos != n:
		return fmt.Errorf("rl: Replay.Restore: position %d with %d of %d slots filled, want %d", pos, n, c, n)
	case n == c && (pos < 0 || pos >= c):
		return fmt.Errorf("rl: Replay.Restore: position %d outside [0,%d)", pos, c)
	}
	for i, s := range slots {
		if s.Steps < 0 {
			return fmt.Errorf("rl: Replay.Restore: slot %d spans %d steps", i, s.Steps)
		}
	}
	var zero O
	for i := range r.obs {
		if i < n {
			s := slots[i]
			r.obs[i], r.next[i], r.actions[i], r.rewards[i], r.terminated[i], r.steps[i] = s.Obs, s.NextObs, s.Action, s.Reward, s.Terminated, max(1, s.Steps)
		} else {
			r.obs[i], r.next[i], r.actions[i], r.rewards[i], r.terminated[i], r.steps[i] = zero, zero, Action{}, 0, false, 0
		}
	}
	r.count, r.pos = n, pos%c
	return nil
}

// Sample draws n transitions uniformly with replacement (as SB3's
// ReplayBuffer.sample) using rng, writing them into dst, whose slices are
// reused. The draws depend only on rng's state and Len(). It panics if the
// buffer is empty or n < 0.
func (r *Replay[O]) Sample(rng *rand.Rand, n int, dst *ReplayBatch[O]) {
	if r.count == 0 {
		panic("rl: Replay.Sample from an empty buffer")
	}
	if n < 0 {
		panic(fmt.Sprintf("rl: Replay.Sample: negative batch size %d", n))
	}
	dst.Indices = replayResize(dst.Indices, n)
	dst.Obs = replayResize(dst.Obs, n)
	dst.NextObs = replayResize(dst.NextObs, n)
	dst.Actions = replayResize(dst.Actions, n)
	dst.Rewards = replayResize(dst.Rewards, n)
	dst.Terminated = replayResize(dst.Terminated, n)
	dst.Steps = replayResize(dst.Steps, n)
	for k := 0; k < n; k++ {
		i := rng.IntN(r.count)
		dst.Indices[k] = i
		dst.Obs[k], dst.NextObs[k] = r.obs[i], r.next[i]
		dst.Actions[k], dst.Rewards[k], dst.Terminated[k], dst.Steps[k] = r.actions[i], r.rewards[i], r.terminated[i], r.steps[i]
	}
}

// replayResize returns s with length n, reusing its capacity.
func replayResize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
