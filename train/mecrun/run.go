package mecrun

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/models/droo"
	"github.com/cpntrain/cpntrain/models/mecdqn"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// Files of an offloading run folder.
const (
	// ModelFile is the trained network (mecdqn or droo).
	ModelFile = "model.safetensors"
	// StateFile is the DQN's resumable training state.
	StateFile = "train-state.safetensors"
)

// Algorithms of `cpntrain offload train`.
const (
	AlgoDQN  = "dqn"
	AlgoDROO = "droo"
)

// RunConfig is `cpntrain offload train`.
type RunConfig struct {
	Dir   string
	Algo  string
	DQN   Config     // with Algo dqn (its Env is the training distribution)
	DROO  DROOConfig // with Algo droo
	Force bool
	Quiet bool
	Log   io.Writer
	// CheckpointEvery saves the DQN's state every that many steps (and
	// when interrupted); DROO restarts from its beginning if interrupted.
	CheckpointEvery int64
	// EvalSets scores the trained model against the optimum and the
	// baselines on that many validation sets (ValidationSeed0 on) of the
	// training distribution.
	EvalSets int
}

// TrainReport is what RunTrain did.
type TrainReport struct {
	Dir, ModelPath string
	Resumed        bool
	Steps          int64
	Elapsed        time.Duration
	Rows           []Row
}

// RunTrain trains an offloading model in a run folder (runlog: lock,
// run.json, metrics, resume for the DQN), saves it to ModelFile and scores
// it on held-out sets.
func RunTrain(ctx context.Context, rc RunConfig) (rep TrainReport, err error) {
	logw := rc.Log
	if logw == nil {
		logw = io.Discard
	}
	start := time.Now()
	var settings any
	var checkpoint func() (int64, bool, error)
	statePath := filepath.Join(rc.Dir, StateFile)
	switch rc.Algo {
	case AlgoDQN:
		settings = map[string]any{"algo": rc.Algo, "dqn": rc.DQN}
		checkpoint = func() (int64, bool, error) { return checkpoints.StepOf(statePath) }
	case AlgoDROO:
		settings = map[string]any{"algo": rc.Algo, "droo": rc.DROO}
	default:
		return rep, fmt.Errorf("mecrun: unknown algorithm %q (dqn, droo)", rc.Algo)
	}
	run, err := runlog.Start(rc.Dir, runlog.StartOptions{Config: settings, Settings: settings, Force: rc.Force, Checkpoint: checkpoint})
	if err != nil {
		return rep, err
	}
	defer func() { err = run.End(err) }()
	rep.Dir, rep.Resumed, rep.ModelPath = run.Dir(), run.Resumed, filepath.Join(run.Dir(), ModelFile)
	fmt.Fprintln(logw, run.Describe())
	var methods []Method
	var steps int64
	var env = rc.DQN.Env
	switch rc.Algo {
	case AlgoDQN:
		cfg := rc.DQN
		cfg.DQN.Checkpoint.Path, cfg.DQN.Checkpoint.Every, cfg.DQN.Checkpoint.Before = statePath, rc.CheckpointEvery, run.Sync
		prog := runlog.NewProgress(logw, int(cfg.DQN.TotalTimesteps), "train", rc.Quiet)
		var last int64
		res, err := Train(ctx, cfg, func(step int64, m map[string]float64) {
			run.Scalars(step, m)
			if step-last >= 1000 {
				prog.Add(int(step-last), "")
				last = step
			}
		})
		prog.Finish()
		if err != nil {
			return rep, err
		}
		q := res.Q.(*mecdqn.Model)
		if err := q.Save(rep.ModelPath, cfg.DQN.TotalTimesteps); err != nil {
			return rep, err
		}
		m, err := DQNMethod(cfg.Env, q)
		if err != nil {
			return rep, err
		}
		methods, steps = []Method{m}, cfg.DQN.TotalTimesteps
	case AlgoDROO:
		cfg := rc.DROO
		env = cfg.Env
		prog := runlog.NewProgress(logw, cfg.Steps, "train", rc.Quiet)
		last := 0
		res, err := TrainDROO(ctx, cfg, func(step int, m map[string]float64) {
			run.Scalars(int64(step), m)
			if step-last >= 500 {
				prog.Add(step-last, fmt.Sprintf("K %v", m["droo/k"]))
				last = step
			}
		})
		prog.Finish()
		if err != nil {
			return rep, err
		}
		if err := res.Model.Save(rep.ModelPath, res.K, int64(cfg.Steps)); err != nil {
			return rep, err
		}
		methods, steps = []Method{DROOMethod(res)}, int64(cfg.Steps)
	}
	rep.Steps, rep.Elapsed = steps, time.Since(start)
	if rc.EvalSets > 0 {
		rep.Rows, err = EvalRows(env, "mixed", methods, rc.EvalSets, ValidationSeed0)
	}
	return rep, err
}

// LoadMethod reads a model saved by RunTrain (mecdqn or droo) as a
// Method; devices is the set size it will decide (DROO's is fixed).
func LoadMethod(path string, devices int) (Method, error) {
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return Method{}, err
	}
	switch info.Meta.ModelKind {
	case mecdqn.Kind:
		q, _, err := mecdqn.Load(path)
		if err != nil {
			return Method{}, err
		}
		return DQNMethod(DefaultConfig(devices).Env, agent.QFunction[mec.Obs](q))
	case droo.Kind:
		m, k, _, err := droo.Load(path)
		if err != nil {
			return Method{}, err
		}
		if m.D != devices {
			return Method{}, fmt.Errorf("mecrun: %s is a DROO network for %d devices, not %d (DROO's input has a fixed size)", path, m.D, devices)
		}
		return DROOMethod(DROOResult{m, k}), nil
	}
	return Method{}, fmt.Errorf("mecrun: %s holds a %q model, not an offloading model (mecdqn or droo)", path, info.Meta.ModelKind)
}

// EvalRows scores methods with the optimum and the baselines on the
// held-out sets seed0 … seed0+sets−1 of env (labelled with the battery
// level), one Row per method.
func EvalRows(env mec.Config, level string, extra []Method, sets int, seed0 uint64) ([]Row, error) {
	return scoreRows(env, level, append(Methods(env.Devices), extra...), sets, seed0, nil)
}
