package rl

import "sync"

// Memo caches one value under a key naming what computed it: a slot an
// environment puts in its observations so that a model encodes each
// observation once, however often a replay or rollout buffer hands it
// back (rl/envs/mec and rl/envs/cluster do). It is safe for concurrent
// use; a nil *Memo stores nothing.
type Memo struct {
	mu  sync.Mutex
	key string
	val any
}

// Get returns the value stored under key, or nil.
func (m *Memo) Get(key string) any {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key != key {
		return nil
	}
	return m.val
}

// Put stores v under key (v must not change afterwards).
func (m *Memo) Put(key string, v any) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.key, m.val = key, v
	m.mu.Unlock()
}
