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
// state nor the generator: counters, the environments (snapshots and
// episode bookkeeping) and the episodes so far.
type runState struct {
	Iter     int         `json:"iter"`
	Global   int64       `json:"global_step"`
	NextDone []bool      `json:"next_done"`
	Vec      rl.VecState `json:"vec"`
	Returns  []float64   `json:"episodic_returns"`
	Lengths  []int       `json:"episodic_lengths"`
}

// saveRun writes a checkpoint of the run at an iteration boundary.
func saveRun[O any](path string, model nn.Module, opt optim.Optimizer, src *rand.PCG, venv *rl.VecEnv[O], st runState) error {
	vs, err := venv.State()
	if err != nil {
		return err
	}
	st.Vec = vs
	return runstate.Save(path, CheckpointKind, st.Global, model, opt, []*rand.PCG{src}, st)
}

// loadRun restores a run from path into model, opt, src and venv. ok is
// false when path does not exist.
func loadRun[O any](path string, model nn.Module, opt optim.Optimizer, src *rand.PCG, venv *rl.VecEnv[O]) (st runState, ok bool, err error) {
	ok, err = runstate.Load(path, CheckpointKind, model, opt, []*rand.PCG{src}, &st)
	if !ok || err != nil {
		return st, false, err
	}
	if len(st.NextDone) != venv.Len() {
		return st, false, fmt.Errorf("ppo: %s: checkpoint has %d environments, the run %d", path, len(st.NextDone), venv.Len())
	}
	if err := venv.Restore(path, st.Vec); err != nil {
		return st, false, err
	}
	return st, true, nil
}
