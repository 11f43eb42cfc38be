package decimarun

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
	"slices"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
	"github.com/cpntrain/cpntrain/train/metrics"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// Files of a run folder.
const (
	// ModelFile is the trained scheduler (models/decima).
	ModelFile = "model.safetensors"
	// StateFile is REINFORCE's resumable training state.
	StateFile = "train-state.safetensors"
	// BestFile and BestScoreFile are the selection's best scheduler so
	// far and its score, kept so that a resumed run ends with the best of
	// the whole run.
	BestFile      = "best.safetensors"
	BestScoreFile = "best.json"
)

type bestScore struct {
	Update  int64   `json:"update"`
	AvgJCTS float64 `json:"avg_jct_s"`
}

// RunConfig is `cpntrain decima train`.
type RunConfig struct {
	Dir   string
	Train Config
	// Data is the TPC-H folder (its jobs are read, not recorded in the
	// settings: the data's checksums are pinned by datasets/tpch).
	Data  string
	Force bool
	Quiet bool
	Log   io.Writer
	// CheckpointEvery saves the training state every that many updates
	// (and when interrupted).
	CheckpointEvery int64
	// EvalStreams scores the scheduler and the heuristics on that many
	// validation streams (ValidationSeed0 on); TuneStreams tunes the
	// weighted fair scheduler first (the warm start imitates the tuned
	// setting: Train.Warm.WF is replaced).
	EvalStreams, TuneStreams int

	stopAt int64 // tests: cancel the run once a metric at this step or later is logged
}

// TrainReport is what RunTrain did.
type TrainReport struct {
	Dir, ModelPath string
	Resumed        bool
	Result         Result
	WF             Tuned
	Rows           []Row
}

// RunTrain trains in a run folder (runlog: lock, run.json, metrics,
// resume), saves the scheduler to ModelFile and scores it on validation
// streams next to the heuristics.
func RunTrain(ctx context.Context, rc RunConfig) (rep TrainReport, err error) {
	logw := rc.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := rc.Train.Validate(); err != nil {
		return rep, err
	}
	lib, err := tpch.LoadAll(rc.Data, rc.Train.Env.Sizes)
	if err != nil {
		return rep, err
	}
	// The weighted fair scheduler tuned on training streams: the warm
	// start imitates it, the validation table scores it.
	if rc.Train.Warm.Epochs > 0 || rc.EvalStreams > 0 {
		if rep.WF, err = TuneWF(rc.Train.Env, lib, rc.TuneStreams); err != nil {
			return rep, err
		}
		if rc.Train.Warm.Epochs > 0 {
			rc.Train.Warm.WF = rep.WF.Best
		}
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
	cfg.PG.Checkpoint.Path, cfg.PG.Checkpoint.Every, cfg.PG.Checkpoint.Before = statePath, rc.CheckpointEvery, run.Sync
	prog := runlog.NewProgress(logw, int(cfg.PG.TotalTimesteps), "train", rc.Quiet)
	bestPath, scorePath := filepath.Join(run.Dir(), BestFile), filepath.Join(run.Dir(), BestScoreFile)
	ss := selectState{threshold: math.Inf(1)}
	prev := bestScore{}
	if cfg.SelectEvery > 0 {
		if b, err := os.ReadFile(scorePath); err == nil && run.Resumed {
			if err := json.Unmarshal(b, &prev); err != nil {
				return rep, fmt.Errorf("%s: %w", scorePath, err)
			}
			ss.threshold = prev.AvgJCTS
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, err
		}
		ss.onBest = func(update int64, score float64, ag agent.Agent[spark.Obs]) error {
			if err := decima.Save(bestPath, ag, update); err != nil {
				return err
			}
			b, _ := json.Marshal(bestScore{update, score})
			return checkpoints.WriteFileAtomic(scorePath, b)
		}
	}
	if run.Resumed {
		// The updates done: a checkpoint's step counts environment steps;
		// its run state the updates. Selection keeps its schedule by the
		// updates the metrics recorded.
		ss.updates = lastUpdate(run.Dir())
	}
	var last int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ag, res, err := train(ctx, cfg, lib, func(step int64, m map[string]float64) {
		if rc.stopAt > 0 && step >= rc.stopAt {
			cancel()
		}
		run.Scalars(step, m)
		if step > last {
			msg := ""
			if c, ok := m["train/avg_jct_s"]; ok {
				msg = fmt.Sprintf("avg JCT %.1f s", c)
			}
			prog.Add(int(step-last), msg)
			last = step
		}
	}, ss)
	prog.Finish()
	if err != nil {
		return rep, err
	}
	if cfg.SelectEvery > 0 && !res.Selected && !math.IsInf(ss.threshold, 1) {
		// Nothing since the resume beat the best before it: that one.
		if ag, _, err = decima.Load(bestPath); err != nil {
			return rep, err
		}
		res.Selected, res.SelectedUpdate, res.SelectedScore = true, prev.Update, prev.AvgJCTS
	}
	rep.Result = res
	if err := decima.Save(rep.ModelPath, ag, res.Steps); err != nil {
		return rep, err
	}
	if rc.EvalStreams > 0 {
		rep.Rows, err = Evaluate(cfg.Env, lib, append(Baselines(rep.WF.Best), AgentMethod(Name(cfg.Arch), ag)), Seeds(ValidationSeed0, rc.EvalStreams))
	}
	return rep, err
}

// lastUpdate counts the updates recorded in a run folder's metrics (the
// policy-loss lines), 0 when none.
func lastUpdate(dir string) int64 {
	ms, err := runlog.ReadMetrics(filepath.Join(dir, runlog.MetricsFile))
	if err != nil {
		return 0
	}
	var n int64
	for _, m := range ms {
		if _, ok := m.Values["losses/policy_loss"]; ok {
			n++
		}
	}
	return n
}

// Name is an architecture's name in the tables.
func Name(arch string) string {
	if arch == ArchDecima {
		return "decima (sum, no attention)"
	}
	return "patent (attention + LSTM)"
}

// WriteMarkdown prints rows: mean ± std over the streams of the average
// JCT, and the change against the first row named best.
func WriteMarkdown(w io.Writer, title string, rows []Row) {
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintln(w, "| method | avg JCT (s) | p50 job (s) | p90 job (s) | decisions per stream | time per decision |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		m, s := metrics.MeanStd(r.JCT)
		fmt.Fprintf(w, "| %s | %.2f ± %.2f | %.1f | %.1f | %.0f | %v |\n", r.Method, m, s, quantile(r.Jobs, 0.5), quantile(r.Jobs, 0.9), r.Decisions, r.Decision.Round(100*time.Nanosecond))
	}
	fmt.Fprintln(w)
}

// quantile is the q-quantile of xs (nearest rank), NaN when empty.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
