package testenv

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// The known-answer environments implement rl.Snapshotter with a JSON
// encoding of their state and of their generator (PCG's binary state).

type cartPoleState struct {
	X, XDot, Th, ThDot float64
	T                  int
	Done, Started      bool
	RNG                []byte
}

var (
	_ rl.Snapshotter[Vec] = (*CartPole)(nil)
	_ rl.Snapshotter[Vec] = (*Bandit)(nil)
	_ rl.Snapshotter[Vec] = (*Chain)(nil)
	_ rl.Snapshotter[Vec] = (*Split)(nil)
)

// snapshot support: each env keeps its PCG source alongside its *rand.Rand.

func marshalPCG(p *rand.PCG) []byte {
	if p == nil {
		return nil
	}
	b, _ := p.MarshalBinary()
	return b
}

func unmarshalPCG(b []byte) (*rand.PCG, *rand.Rand, error) {
	if b == nil {
		return nil, nil, nil
	}
	p := rand.NewPCG(0, 0)
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, nil, fmt.Errorf("testenv: restore generator: %w", err)
	}
	return p, rand.New(p), nil
}

// Snapshot implements rl.Snapshotter.
func (c *CartPole) Snapshot() ([]byte, error) {
	return json.Marshal(cartPoleState{c.x, c.xDot, c.th, c.thDot, c.t, c.done, c.rng != nil, marshalPCG(c.src)})
}

// Restore implements rl.Snapshotter.
func (c *CartPole) Restore(b []byte) (Vec, error) {
	var s cartPoleState
	if err := json.Unmarshal(b, &s); err != nil {
		return Vec{}, fmt.Errorf("testenv: cartpole snapshot: %w", err)
	}
	src, rng, err := unmarshalPCG(s.RNG)
	if err != nil {
		return Vec{}, err
	}
	c.x, c.xDot, c.th, c.thDot, c.t, c.done, c.src, c.rng = s.X, s.XDot, s.Th, s.ThDot, s.T, s.Done, src, rng
	return c.obs(), nil
}

type banditState struct {
	Ctx  int
	Done bool
	RNG  []byte
}

// Snapshot implements rl.Snapshotter.
func (b *Bandit) Snapshot() ([]byte, error) {
	return json.Marshal(banditState{b.ctx, b.done, marshalPCG(b.src)})
}

// Restore implements rl.Snapshotter.
func (b *Bandit) Restore(data []byte) (Vec, error) {
	var s banditState
	if err := json.Unmarshal(data, &s); err != nil {
		return Vec{}, fmt.Errorf("testenv: bandit snapshot: %w", err)
	}
	if s.Ctx < 0 || s.Ctx >= len(b.Means) {
		return Vec{}, fmt.Errorf("testenv: bandit snapshot: context %d out of range", s.Ctx)
	}
	src, rng, err := unmarshalPCG(s.RNG)
	if err != nil {
		return Vec{}, err
	}
	b.ctx, b.done, b.src, b.rng = s.Ctx, s.Done, src, rng
	return b.obs(), nil
}

type chainState struct {
	Pos, T        int
	Started, Done bool
}

// Snapshot implements rl.Snapshotter.
func (c *Chain) Snapshot() ([]byte, error) {
	return json.Marshal(chainState{c.pos, c.t, c.started, c.done})
}

// Restore implements rl.Snapshotter.
func (c *Chain) Restore(b []byte) (Vec, error) {
	var s chainState
	if err := json.Unmarshal(b, &s); err != nil {
		return Vec{}, fmt.Errorf("testenv: chain snapshot: %w", err)
	}
	if s.Pos < 0 || s.Pos >= c.N {
		return Vec{}, fmt.Errorf("testenv: chain snapshot: position %d out of range", s.Pos)
	}
	c.pos, c.t, c.started, c.done = s.Pos, s.T, s.Started, s.Done
	return c.obs(), nil
}

type splitState struct {
	A, B []float64
	Done bool
	RNG  []byte
}

// Snapshot implements rl.Snapshotter.
func (s *Split) Snapshot() ([]byte, error) {
	return json.Marshal(splitState{s.a, s.b, s.done, marshalPCG(s.src)})
}

// Restore implements rl.Snapshotter.
func (s *Split) Restore(b []byte) (Vec, error) {
	var st splitState
	if err := json.Unmarshal(b, &st); err != nil {
		return Vec{}, fmt.Errorf("testenv: split snapshot: %w", err)
	}
	if len(st.A) != s.K || len(st.B) != s.K {
		return Vec{}, fmt.Errorf("testenv: split snapshot: %d/%d latencies, want %d", len(st.A), len(st.B), s.K)
	}
	src, rng, err := unmarshalPCG(st.RNG)
	if err != nil {
		return Vec{}, err
	}
	s.a, s.b, s.done, s.src, s.rng = st.A, st.B, st.Done, src, rng
	return s.obs(), nil
}
