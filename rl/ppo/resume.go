package ppo

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
	"github.com/cpntrain/cpntrain/rl"
)

// CheckpointKind is the model kind of PPO training checkpoints.
const CheckpointKind = "ppo-run"

// runState is the part of a PPO run that is neither parameters, optimizer
// state nor the generator: counters, per-environment episode bookkeeping and
// the environments' own snapshots (rl.Snapshotter).
type runState struct {
	Iter     int       `json:"iter"`
	Global   int64     `json:"global_step"`
	Episodes []uint64  `json:"episodes"`
	EpRet    []float64 `json:"episode_returns_so_far"`
	EpLen    []int     `json:"episode_lengths_so_far"`
	NextDone []bool    `json:"next_done"`
	Envs     [][]byte  `json:"envs"`
	Returns  []float64 `json:"episodic_returns"`
	Lengths  []int     `json:"episodic_lengths"`
}

// saveRun writes a checkpoint of the run at an iteration boundary.
func saveRun[O any](path string, pol nn.Module, opt optim.Optimizer, src *rand.PCG, envs []rl.Env[O], st runState) error {
	st.Envs = make([][]byte, len(envs))
	for i, e := range envs {
		s, ok := e.(rl.Snapshotter[O])
		if !ok {
			return fmt.Errorf("ppo: checkpointing needs environments implementing rl.Snapshotter; %T does not", e)
		}
		b, err := s.Snapshot()
		if err != nil {
			return fmt.Errorf("ppo: snapshot env %d: %w", i, err)
		}
		st.Envs[i] = b
	}
	rs, err := src.MarshalBinary()
	if err != nil {
		return err
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return checkpoints.Save(path, pol, opt, checkpoints.Meta{
		ModelKind: CheckpointKind, Step: st.Global, RNGState: rs,
		Extra: map[string]json.RawMessage{"run": sb},
	})
}

// loadRun restores a run from path into pol, opt, src and envs (whose
// current observations it returns in next). ok is false when path does not
// exist.
func loadRun[O any](path string, pol nn.Module, opt optim.Optimizer, src *rand.PCG, envs []rl.Env[O], next []O) (st runState, ok bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	meta, err := checkpoints.Load(path, pol, opt, checkpoints.ExpectKind(CheckpointKind))
	if err != nil {
		return st, false, err
	}
	if err := src.UnmarshalBinary(meta.RNGState); err != nil {
		return st, false, fmt.Errorf("ppo: %s: generator state: %w", path, err)
	}
	if err := json.Unmarshal(meta.Extra["run"], &st); err != nil {
		return st, false, fmt.Errorf("ppo: %s: run state: %w", path, err)
	}
	n := len(envs)
	if len(st.Envs) != n || len(st.Episodes) != n || len(st.EpRet) != n || len(st.EpLen) != n || len(st.NextDone) != n {
		return st, false, fmt.Errorf("ppo: %s: checkpoint has %d environments, the run %d", path, len(st.Envs), n)
	}
	for i, e := range envs {
		s, ok := e.(rl.Snapshotter[O])
		if !ok {
			return st, false, fmt.Errorf("ppo: resuming needs environments implementing rl.Snapshotter; %T does not", e)
		}
		o, err := s.Restore(st.Envs[i])
		if err != nil {
			return st, false, fmt.Errorf("ppo: %s: env %d: %w", path, i, err)
		}
		next[i] = o
	}
	return st, true, nil
}
