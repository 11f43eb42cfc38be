package mec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/rl"
)

// Decisions of Obs.Decision.
const (
	Undecided int8 = -1
	Local     int8 = 0
	Offloaded int8 = 1
)

// Obs is the patent's state o_l = <D, U_cpu, P_trans> after l decisions:
// the task set (each device's task, CPU, channel, battery and preference:
// what it has available) and the decisions so far. Action 2n + o decides
// task n (o = 0 local, 1 offload); ActionMask allows the undecided tasks.
type Obs struct {
	Set      *Set
	Decision []int8
	// Memo is a slot a model may use to keep its encoding of this
	// observation (shared by the copies of the observation, e.g. in a
	// replay buffer); nil in observations made by hand.
	Memo *Memo
}

// Memo is rl.Memo: a model's cache of its encoding of an observation
// (or, in Set.Memo, of what it derives from the set alone).
type Memo = rl.Memo

// ActionMask implements rl.Masked.
func (o Obs) ActionMask() []bool {
	m := make([]bool, 2*len(o.Decision))
	for n, d := range o.Decision {
		m[2*n], m[2*n+1] = d == Undecided, d == Undecided
	}
	return m
}

// partial is the cost of the decided tasks of dec, sharing the channels
// and the edge among the decided offloaders only; with every task decided
// it is the set's total cost.
func (s *Set) partial(tb *table, dec []int8) float64 {
	perAP := make([]int, s.Cfg.APs)
	total := 0
	for n, d := range dec {
		if d == Offloaded {
			perAP[s.Tasks[n].AP]++
			total++
		}
	}
	var c float64
	for n, d := range dec {
		switch d {
		case Local:
			c += tb.local[n]
		case Offloaded:
			c += tb.offload[n][perAP[s.Tasks[n].AP]-1][total-1]
		}
	}
	return c
}

// Env is the sequential offloading problem as an rl.Env[Obs]: Reset draws
// a task set, each Step decides one task (the greedy ordering of the
// patent: the policy picks which pending task to decide next, and how),
// and the reward is the decrease of the partial cost (times
// Config.RewardScale), so an episode's return is minus the set's total cost (the patent's reward A − cost, with
// A = 0: a constant does not change the best action). An episode has D
// steps and terminates.
type Env struct {
	Cfg Config
	set *Set
	tb  *table
	dec []int8
	c   float64 // partial cost
	ok  bool
	// seed drew the current set (Snapshot records it, not the set).
	seed  uint64
	reset bool
}

var (
	_ rl.Env[Obs]         = (*Env)(nil)
	_ rl.Snapshotter[Obs] = (*Env)(nil)
)

// snapshot is Env's state for rl.Snapshotter: the set's seed (the set is
// drawn again from it) and the decisions so far.
type snapshot struct {
	Format   int     `json:"format"`
	Config   Config  `json:"config"`
	Seed     uint64  `json:"seed"`
	Decision []int8  `json:"decision"`
	Cost     float64 `json:"cost"`
	Ok       bool    `json:"ok"`
}

// snapshotFormat numbers the snapshot layout.
const snapshotFormat = 1

// Snapshot implements rl.Snapshotter.
func (e *Env) Snapshot() ([]byte, error) {
	if !e.reset {
		return nil, fmt.Errorf("mec: snapshot before the first Reset")
	}
	return json.Marshal(snapshot{snapshotFormat, e.Cfg, e.seed, e.dec, e.c, e.ok})
}

// Restore implements rl.Snapshotter: the environment continues where the
// snapshot was taken (its configuration must be this one's).
func (e *Env) Restore(b []byte) (Obs, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return Obs{}, fmt.Errorf("mec: restore: %w", err)
	}
	if s.Format != snapshotFormat {
		return Obs{}, fmt.Errorf("mec: restore: snapshot format %d, this version reads %d", s.Format, snapshotFormat)
	}
	if s.Config != e.Cfg {
		return Obs{}, fmt.Errorf("mec: restore: the snapshot's configuration differs from the environment's")
	}
	if len(s.Decision) != e.Cfg.Devices {
		return Obs{}, fmt.Errorf("mec: restore: %d decisions for %d devices", len(s.Decision), e.Cfg.Devices)
	}
	for _, d := range s.Decision {
		if d < Undecided || d > Offloaded {
			return Obs{}, fmt.Errorf("mec: restore: decision %d", d)
		}
	}
	if _, err := e.Reset(s.Seed); err != nil {
		return Obs{}, err
	}
	copy(e.dec, s.Decision)
	// The partial cost and whether the episode goes on follow from the
	// decisions: a snapshot that disagrees was not written by Snapshot.
	c, ok := e.set.partial(e.tb, e.dec), slices.Contains(e.dec, Undecided)
	if c != s.Cost || ok != s.Ok {
		e.ok = false
		return Obs{}, fmt.Errorf("mec: restore: the snapshot's cost %v and state (running %v) do not follow from its decisions (%v, %v)", s.Cost, s.Ok, c, ok)
	}
	e.c, e.ok = c, ok
	return e.obs(), nil
}

// NewEnv returns an environment of task sets drawn from cfg.
func NewEnv(cfg Config) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Env{Cfg: cfg}, nil
}

// Reset draws the task set of seed.
func (e *Env) Reset(seed uint64) (Obs, error) {
	s, err := NewSet(e.Cfg, seed)
	if err != nil {
		return Obs{}, err
	}
	e.set, e.tb, e.c, e.ok, e.seed, e.reset = s, s.costs(), 0, true, seed, true
	e.dec = make([]int8, e.Cfg.Devices)
	for n := range e.dec {
		e.dec[n] = Undecided
	}
	return e.obs(), nil
}

func (e *Env) obs() Obs {
	return Obs{Set: e.set, Decision: append([]int8(nil), e.dec...), Memo: new(Memo)}
}

// ActionSpace implements rl.Env: 2D discrete actions.
func (e *Env) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: 2 * e.Cfg.Devices} }

// Step decides task a.Index/2: locally when a.Index is even, at the edge
// when odd. Info holds cost (the partial cost so far) and, at the end,
// offloaded (tasks sent to the edge).
func (e *Env) Step(a rl.Action) (rl.Step[Obs], error) {
	if !e.ok {
		return rl.Step[Obs]{}, rl.ErrEpisodeOver
	}
	n := a.Index / 2
	if a.Index < 0 || n >= len(e.dec) || e.dec[n] != Undecided {
		return rl.Step[Obs]{}, fmt.Errorf("%w: %d (task %d is decided or does not exist)", rl.ErrInvalidAction, a.Index, n)
	}
	e.dec[n] = int8(a.Index % 2)
	c := e.set.partial(e.tb, e.dec)
	r := e.c - c
	if e.Cfg.RewardScale > 0 {
		r *= e.Cfg.RewardScale
	}
	e.c = c
	done := true
	off := 0
	for _, d := range e.dec {
		done = done && d != Undecided
		if d == Offloaded {
			off++
		}
	}
	info := map[string]float64{"cost": c}
	if done {
		e.ok = false
		info["offloaded"] = float64(off)
	}
	return rl.Step[Obs]{Obs: e.obs(), Reward: r, Terminated: done, Info: info}, nil
}

// Set returns the current task set.
func (e *Env) Set() *Set { return e.set }

// Baselines of the bench (whole-vector decisions).

// AllLocal runs every task on its device.
func (s *Set) AllLocal() Solution { return s.fixed(false) }

// AllOffload sends every task to the edge.
func (s *Set) AllOffload() Solution { return s.fixed(true) }

func (s *Set) fixed(off bool) Solution {
	v := make([]bool, len(s.Tasks))
	for n := range v {
		v[n] = off
	}
	c, _ := s.Evaluate(v)
	return Solution{Offload: v, Cost: c}
}

// Random offloads each task with probability ½ (seeded).
func (s *Set) Random(seed uint64) Solution {
	rng := rand.New(rand.NewPCG(seed, 0x7a))
	v := make([]bool, len(s.Tasks))
	for n := range v {
		v[n] = rng.IntN(2) == 1
	}
	c, _ := s.Evaluate(v)
	return Solution{Offload: v, Cost: c}
}

// Greedy is the patent's greedy ordering driven by the exact cost model
// instead of a learned one: among every pending task and its two
// strategies, execute the one that raises the partial cost least, update,
// repeat (ties: the lowest action index).
func (s *Set) Greedy() Solution {
	tb := s.costs()
	dec := make([]int8, len(s.Tasks))
	for n := range dec {
		dec[n] = Undecided
	}
	for range dec {
		best, bestC := -1, 0.0
		for n := range dec {
			if dec[n] != Undecided {
				continue
			}
			for o := Local; o <= Offloaded; o++ {
				dec[n] = o
				if c := s.partial(tb, dec); best < 0 || c < bestC {
					best, bestC = 2*n+int(o), c
				}
			}
			dec[n] = Undecided
		}
		dec[best/2] = int8(best % 2)
	}
	v := make([]bool, len(dec))
	for n, d := range dec {
		v[n] = d == Offloaded
	}
	c, _ := s.Evaluate(v)
	return Solution{Offload: v, Cost: c}
}
