package dspporun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/train/metrics"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// Files of a DS-PPO run folder.
const (
	// ModelFile is the trained agent (models/dsppo).
	ModelFile = "model.safetensors"
	// StateFile is PPO's resumable training state.
	StateFile = "train-state.safetensors"
	// BestFile and BestScoreFile are the selection's best agent so far
	// and its validation score (Config.SelectEvery), kept so that a
	// resumed run still ends with the best of the whole run.
	BestFile      = "best.safetensors"
	BestScoreFile = "best.json"
)

// bestScore is BestScoreFile.
type bestScore struct {
	Step           int64   `json:"step"`
	AvgCompletionS float64 `json:"avg_completion_s"`
}

// RunConfig is `cpntrain dsppo train`.
type RunConfig struct {
	Dir   string
	Train Config
	Force bool
	Quiet bool
	Log   io.Writer
	// CheckpointEvery saves PPO's state every that many iterations (and
	// when interrupted).
	CheckpointEvery int64
	// EvalQueues scores the trained agent and the baselines on that many
	// validation queues (ValidationSeed0 on) of the training system.
	EvalQueues int
}

// TrainReport is what RunTrain did.
type TrainReport struct {
	Dir, ModelPath string
	Resumed        bool
	Result         Result
	Rows           []Row
}

// RunTrain trains DS-PPO in a run folder (runlog: lock, run.json,
// metrics, resume), saves the agent to ModelFile and scores it on
// validation queues.
func RunTrain(ctx context.Context, rc RunConfig) (rep TrainReport, err error) {
	logw := rc.Log
	if logw == nil {
		logw = io.Discard
	}
	statePath := filepath.Join(rc.Dir, StateFile)
	run, err := runlog.Start(rc.Dir, runlog.StartOptions{Config: rc.Train, Settings: rc.Train, Force: rc.Force,
		Checkpoint: func() (int64, bool, error) { return checkpoints.StepOf(statePath) }})
	if err != nil {
		return rep, err
	}
	defer func() { err = run.End(err) }()
	rep.Dir, rep.Resumed, rep.ModelPath = run.Dir(), run.Resumed, filepath.Join(run.Dir(), ModelFile)
	fmt.Fprintln(logw, run.Describe())
	cfg := rc.Train
	cfg.PPO.Checkpoint.Path, cfg.PPO.Checkpoint.Every, cfg.PPO.Checkpoint.Before = statePath, rc.CheckpointEvery, run.Sync
	prog := runlog.NewProgress(logw, int(cfg.PPO.TotalTimesteps), "train", rc.Quiet)
	savable := cfg.Algo == "" || cfg.Algo == AlgoPPO
	bestPath, scorePath := filepath.Join(run.Dir(), BestFile), filepath.Join(run.Dir(), BestScoreFile)
	threshold, prev := math.Inf(1), bestScore{}
	var onBest func(int64, float64, Trained) error
	if savable && cfg.SelectEvery > 0 {
		if b, err := os.ReadFile(scorePath); err == nil && run.Resumed {
			if err := json.Unmarshal(b, &prev); err != nil {
				return rep, fmt.Errorf("%s: %w", scorePath, err)
			}
			threshold = prev.AvgCompletionS
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, err
		}
		onBest = func(step int64, score float64, tr Trained) error {
			if err := dsppo.Save(bestPath, tr.Agent, step); err != nil {
				return err
			}
			b, _ := json.Marshal(bestScore{step, score})
			return checkpoints.WriteFileAtomic(scorePath, b)
		}
	}
	var last int64
	ss := selectState{threshold: threshold, onBest: onBest}
	if run.Resumed {
		if ss.start, _, err = checkpoints.StepOf(statePath); err != nil {
			return rep, err
		}
	}
	tr, res, err := train(ctx, cfg, func(step int64, m map[string]float64) {
		EpisodeMetrics(m)
		run.Scalars(step, m)
		if step > last {
			msg := ""
			if c, ok := m["queue/avg_completion_s"]; ok {
				msg = fmt.Sprintf("completion %.1f s", c)
			}
			prog.Add(int(step-last), msg)
			last = step
		}
	}, ss)
	prog.Finish()
	if err != nil {
		return rep, err
	}
	if onBest != nil && !res.Selected && !math.IsInf(threshold, 1) {
		// Nothing since the resume beat the best before it: that one.
		if tr.Agent, _, err = dsppo.Load(bestPath); err != nil {
			return rep, err
		}
		res.Selected, res.SelectedStep, res.SelectedScore = true, prev.Step, prev.AvgCompletionS
	}
	rep.Result = res
	if tr.Q == nil && cfg.Algo != AlgoPPOMLP {
		if err := dsppo.Save(rep.ModelPath, tr.Agent, res.Steps); err != nil {
			return rep, err
		}
	} else {
		rep.ModelPath = "" // the baselines are trained and scored in the bench, not saved
	}
	if rc.EvalQueues > 0 {
		rep.Rows, err = Evaluate(cfg.Env, append(Baselines(cfg.Env), tr.Method(MethodName(cfg.Algo))), Seeds(ValidationSeed0, rc.EvalQueues))
	}
	return rep, err
}

// WriteMarkdown prints rows as a table: mean ± std over the queues.
func WriteMarkdown(w io.Writer, title string, rows []Row) {
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintln(w, "| method | avg completion (s) | avg waiting (s) | utilisation | decisions per queue | time per decision |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		c, cs := metrics.MeanStd(r.Completion)
		wt, ws := metrics.MeanStd(r.Wait)
		u, us := metrics.MeanStd(r.Util)
		fmt.Fprintf(w, "| %s | %.2f ± %.2f | %.2f ± %.2f | %.3f ± %.3f | %.0f | %v |\n", r.Method, c, cs, wt, ws, u, us, r.Decisions, r.Decision.Round(10*time.Nanosecond))
	}
	fmt.Fprintln(w)
}

// EpisodeMetrics adds to a trainer's end-of-episode metrics the queue's
// own (queue/avg_completion_s, queue/avg_wait_s, queue/utilisation,
// queue/makespan_s): the environment reports them at the episode's last
// step only, so the per-step means ("episode/…") times the length give
// them back.
func EpisodeMetrics(m map[string]float64) {
	n, ok := m["charts/episodic_length"]
	if !ok {
		return
	}
	for _, k := range []string{"avg_completion_s", "avg_wait_s", "utilisation", "makespan_s"} {
		if v, ok := m["episode/"+k]; ok {
			m["queue/"+k] = v * n
		}
	}
}
