// Package runstate saves and restores the state of a training run of the
// rl trainers, so that a killed run resumes where its last checkpoint left
// it and ends exactly as an uninterrupted one (same seed, one thread).
//
// A run checkpoint is one file written atomically by package checkpoints:
// the parameters of the trained modules, the optimizer state (an
// optim.Group when a trainer has several optimizers), every random
// generator of the run (*rand.PCG states) and the trainer's own JSON state
// (counters, episode bookkeeping, environment snapshots, replay contents).
package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// Save writes a run checkpoint to path: model's parameters, opt's state,
// the generators' states and state (any JSON-marshalable value) under the
// model kind kind, at training step step.
func Save(path, kind string, step int64, model nn.Module, opt optim.Optimizer, gens []*rand.PCG, state any) error {
	gs := make([][]byte, len(gens))
	for i, g := range gens {
		b, err := g.MarshalBinary()
		if err != nil {
			return fmt.Errorf("%s: generator %d: %w", kind, i, err)
		}
		gs[i] = b
	}
	gj, err := json.Marshal(gs)
	if err != nil {
		return err
	}
	sj, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("%s: run state: %w", kind, err)
	}
	var first []byte
	if len(gs) > 0 {
		first = gs[0]
	}
	return checkpoints.Save(path, model, opt, checkpoints.Meta{
		ModelKind: kind, Step: step, RNGState: first,
		Extra: map[string]json.RawMessage{"generators": gj, "run": sj},
	})
}

// Load restores a run checkpoint written by Save into model, opt, gens and
// state (a pointer). ok is false, and nothing is changed, when path does
// not exist. Errors name the file.
func Load(path, kind string, model nn.Module, opt optim.Optimizer, gens []*rand.PCG, state any) (ok bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	meta, err := checkpoints.Load(path, model, opt, checkpoints.ExpectKind(kind))
	if err != nil {
		return false, err
	}
	var gs [][]byte
	if err := json.Unmarshal(meta.Extra["generators"], &gs); err != nil {
		return false, fmt.Errorf("%s: %s: generator states: %w", kind, path, err)
	}
	if len(gs) != len(gens) {
		return false, fmt.Errorf("%s: %s: %d generator states, the run has %d generators", kind, path, len(gs), len(gens))
	}
	for i, g := range gens {
		if err := g.UnmarshalBinary(gs[i]); err != nil {
			return false, fmt.Errorf("%s: %s: generator %d: %w", kind, path, i, err)
		}
	}
	if err := json.Unmarshal(meta.Extra["run"], state); err != nil {
		return false, fmt.Errorf("%s: %s: run state: %w", kind, path, err)
	}
	return true, nil
}
