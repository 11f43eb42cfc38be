package ppo

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
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
	snaps, err := runstate.SnapshotEnvs("ppo", envs)
	if err != nil {
		return err
	}
	st.Envs = snaps
	return runstate.Save(path, CheckpointKind, st.Global, pol, opt, []*rand.PCG{src}, st)
}

// loadRun restores a run from path into pol, opt, src and envs (whose
// current observations it returns in next). ok is false when path does not
// exist.
func loadRun[O any](path string, pol nn.Module, opt optim.Optimizer, src *rand.PCG, envs []rl.Env[O], next []O) (st runState, ok bool, err error) {
	ok, err = runstate.Load(path, CheckpointKind, pol, opt, []*rand.PCG{src}, &st)
	if !ok || err != nil {
		return st, false, err
	}
	n := len(envs)
	if len(st.Episodes) != n || len(st.EpRet) != n || len(st.EpLen) != n || len(st.NextDone) != n {
		return st, false, fmt.Errorf("ppo: %s: checkpoint has %d environments, the run %d", path, len(st.Episodes), n)
	}
	if err := runstate.RestoreEnvs("ppo", path, envs, st.Envs, next); err != nil {
		return st, false, err
	}
	return st, true, nil
}
