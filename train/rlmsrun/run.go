package rlmsrun

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// Files of an RLMS-CPN training run folder.
const (
	// ModelFile is the trained policy.
	ModelFile = "model.safetensors"
	// StateFile is the resumable training state, written every
	// RunConfig.CheckpointEvery updates.
	StateFile = "train-state.safetensors"
)

// TrainBaselines are the baselines `rlms train` evaluates the policy
// against at the end.
var TrainBaselines = []string{"base1", "base3", "wf", "oracle"}

// RunConfig is one `cpntrain rlms train` experiment.
type RunConfig struct {
	// Env is the simulator; Train the model and its trainer.
	Env   cpn.Config
	Train Config
	// Predictions are the compute latencies the controller sees (nil: the
	// measured ones), made by Predictor (recorded with the settings).
	Predictions *cpn.Latencies
	Predictor   *PredictorConfig
	// Dir is the run folder. A folder holding a training state (StateFile)
	// is resumed.
	Dir string
	// Record is what config.json says about the run besides Env and Train
	// (the command line, the version, the global flags).
	Record func(cfg any) any
	// CheckpointEvery is the number of updates (actor-critic) or
	// iterations (PPO) between resumable checkpoints (0: none); one is
	// also written when ctx ends (an interrupted run).
	CheckpointEvery int
	// EvalSeeds test task streams are evaluated at the end (0: none).
	EvalSeeds int
	// Force resumes even when the settings differ from the run's (see
	// runlog.StartOptions.Force).
	Force bool
	// Log receives the info lines and the progress bar (nil: discarded);
	// Quiet keeps the progress bar off.
	Log   io.Writer
	Quiet bool
}

// TrainReport is the outcome of RunTrain.
type TrainReport struct {
	// Dir is the run folder, ModelPath the saved policy.
	Dir, ModelPath string
	// Resumed is true when the run continued a killed one.
	Resumed bool
	Result
	// LatencyTenths is the mean latency of the training episodes by tenth
	// of training (ms; nil with fewer than 10 episodes).
	LatencyTenths []float64
	// Eval holds the policy's and TrainBaselines' rows on EvalSeeds test
	// streams (nil when EvalSeeds is 0).
	Eval      []Row
	EvalSeeds int
	Tasks     int
}

// RunTrain trains RLMS-CPN in the run folder rc.Dir: metrics to
// metrics.jsonl and TensorBoard, the resumable state every
// rc.CheckpointEvery updates, the policy to ModelFile, then the evaluation
// against the baselines.
func RunTrain(ctx context.Context, rc RunConfig) (rep TrainReport, err error) {
	logw := rc.Log
	if logw == nil {
		logw = io.Discard
	}
	tc := rc.Train
	cfgRec := map[string]any{"env": rc.Env, "train": tc}
	if rc.Predictor != nil {
		cfgRec["predictor"] = rc.Predictor
	}
	rec := any(cfgRec)
	if rc.Record != nil {
		rec = rc.Record(cfgRec)
	}
	// The settings a resume must match: what determines the model.
	settingsEnv := rc.Env
	settingsEnv.DataDir = ""
	statePath := filepath.Join(rc.Dir, StateFile)
	run, err := runlog.Start(rc.Dir, runlog.StartOptions{
		Config: rec, Settings: map[string]any{"env": settingsEnv, "train": tc, "predictor": rc.Predictor}, Force: rc.Force,
		Checkpoint: func() (int64, bool, error) { return checkpoints.StepOf(statePath) },
	})
	if err != nil {
		return rep, err
	}
	defer func() { err = run.End(err) }()
	rep.Resumed = run.Resumed
	fmt.Fprintln(logw, run.Describe())
	rep.Dir = run.Dir()
	// Every CheckpointEvery updates (0: none), and when ctx ends.
	tc.SetCheckpoint(statePath, rc.CheckpointEvery)
	tc.SetBeforeCheckpoint(run.Sync)
	start := time.Now()
	net, err := cpn.NewNetwork(rc.Env)
	if err != nil {
		return rep, err
	}
	net.SetPredictions(rc.Predictions)
	fmt.Fprintf(logw, "%s: %d nodes, %d access points, %d compute nodes (built in %.1f s)\n",
		net.G.Name, net.G.N, len(net.APs), len(net.Compute), time.Since(start).Seconds())
	prog := runlog.NewProgress(logw, int(tc.Steps()), "train", rc.Quiet)
	var lat []float64
	var last int64
	m, res, err := Train(ctx, net, tc, func(step int64, mm map[string]float64) {
		run.Scalars(step, mm)
		if l, ok := mm["episode/latency_ms"]; ok { // the episode's mean latency, from the step infos
			lat = append(lat, l)
			run.Scalar("charts/mean_latency_ms", step, l)
		}
		if step-last >= 1000 {
			msg := ""
			if recent := lat[max(0, len(lat)-50):]; len(recent) > 0 {
				msg = fmt.Sprintf("latency %.2f ms", mean(recent))
			}
			prog.Add(int(step-last), msg)
			last = step
		}
	})
	prog.Finish()
	if err != nil {
		return rep, err
	}
	rep.Result = res
	rep.ModelPath = filepath.Join(run.Dir(), ModelFile)
	if err := m.Save(rep.ModelPath, res.Steps); err != nil {
		return rep, err
	}
	if n := len(lat); n >= 10 {
		for q := 0; q < 10; q++ {
			rep.LatencyTenths = append(rep.LatencyTenths, mean(lat[q*n/10:(q+1)*n/10]))
		}
	}
	if rc.EvalSeeds > 0 {
		rep.EvalSeeds, rep.Tasks = rc.EvalSeeds, net.Cfg.Tasks
		rep.Eval, err = EvalPolicy(net, ModelPolicy(m), rc.EvalSeeds, TrainBaselines)
	}
	return rep, err
}

// EvalPolicy evaluates a policy (PolicyRLMS) and the named baselines on
// seeds test task streams of net (seeds 1,000,000 on).
func EvalPolicy(net *cpn.Network, policy PolicyMaker, seeds int, baselines []string) ([]Row, error) {
	cfg := BenchConfig{Seeds: seeds, TestSeed0: 1_000_000}
	var rows []Row
	for _, name := range append([]string{PolicyRLMS}, baselines...) {
		mk := policy
		if name != PolicyRLMS {
			d, err := Baseline(name)
			if err != nil {
				return nil, err
			}
			mk = d
		}
		r, err := EvalSeeds(net, name, func(int) PolicyMaker { return mk }, cfg)
		if err != nil {
			return nil, err
		}
		r.Experiment, r.Topology, r.K, r.Mix = "eval", net.G.Name, net.Cfg.K, net.Cfg.Mix
		rows = append(rows, r)
	}
	return rows, nil
}

// Write prints the report: the training summary, the learning curve by
// tenths and the evaluation table.
func (r TrainReport) Write(w io.Writer) {
	fmt.Fprintf(w, "trained %d tasks in %.1f s (%.0f tasks/s, %d updates); policy saved to %s\n",
		r.Steps, r.Elapsed.Seconds(), r.SPS, r.Updates, r.ModelPath)
	if len(r.LatencyTenths) > 0 {
		fmt.Fprintf(w, "mean latency of training episodes by tenth of training (ms):")
		for _, v := range r.LatencyTenths {
			fmt.Fprintf(w, " %.1f", v)
		}
		fmt.Fprintln(w)
	}
	if len(r.Eval) > 0 {
		fmt.Fprintln(w)
		WriteMarkdown(w, r.Eval, r.EvalSeeds, r.Tasks)
	}
}
