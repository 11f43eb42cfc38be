package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/train/decimarun"
)

func decimaCommand() *cli.Command {
	modeFlag := &cli.StringFlag{Name: "mode", Value: decimarun.ModeBatch, Usage: "batch (20 jobs at t = 0) or continuous (10 jobs, then 100 Poisson arrivals, mean gap 25 s)"}
	return &cli.Command{
		Name:  "decima",
		Usage: "Decima-style DAG scheduler (patent 003): GNN with attention over child stages and an LSTM over jobs, on Spark TPC-H jobs",
		Subcommands: []*cli.Command{{
			Name:      "train",
			Usage:     "train the scheduler with REINFORCE on the simulated Spark cluster (50 executors)",
			UsageText: "cpntrain decima train [--mode batch] [--arch patent] [--steps 2000000] [--warm-epochs 0]",
			Description: "Trains the policy (a stage and an executor limit per scheduling event) with REINFORCE and\n" +
				"Decima's time-based baseline: each update plays 8 rollouts of one job sequence in lockstep\n" +
				"and compares each decision's return with the other rollouts' at the same wall-clock time.\n" +
				"The reward is −(jobs in the system × time), so the return is minus the total job time.\n" +
				"With --warm-epochs the policy first imitates the weighted fair scheduler tuned on training\n" +
				"streams (quick, but the policy gradient then barely leaves it); the default starts from random\n" +
				"parameters as Decima does, which needs hundreds of updates (docs/decima.md).\n" +
				"Every --select-every updates the greedy policy is scored on selection streams (a split of\n" +
				"their own) and the best parameters are kept. Metrics go to the run folder, the scheduler to\n" +
				"<run>/" + decimarun.ModelFile + ", the resumable state to <run>/" + decimarun.StateFile + " (rerun with\n" +
				"--out <run> to resume). At the end the scheduler, FIFO, fair sharing, SJF by critical path and\n" +
				"the weighted fair scheduler (tuned on training streams) are scored on validation streams.\n" +
				"Data: --data-dir/tpch (cpntrain data fetch tpch).",
			Flags: append([]cli.Flag{modeFlag}, append(decimaTrainingFlags(),
				&cli.Int64Flag{Name: "steps", Value: 2000000, Usage: "decisions to train for (2,000,000: 20.5 min measured on one core of a 2-core machine with other jobs running)"},
				&cli.Int64Flag{Name: "checkpoint-every", Value: 10, Usage: "updates between resumable checkpoints (0: only when interrupted)"},
				&cli.IntFlag{Name: "eval-streams", Value: 3, Usage: "validation streams scored at the end (0: none)"},
				&cli.IntFlag{Name: "tune-streams", Value: 5, Usage: "training streams the weighted fair scheduler is tuned on"},
				forceFlag(),
			)...),
			Action: decimaTrain,
		}, {
			Name:      "eval",
			Usage:     "score a trained scheduler and the heuristics on held-out job streams",
			UsageText: "cpntrain decima eval --model FILE [--mode batch] [--streams 5] [--split test]",
			Description: "Plays the scheduler's most probable stage and limit, FIFO, fair sharing, SJF by critical\n" +
				"path and the weighted fair scheduler (tuned on --tune-streams training streams) on --streams\n" +
				"held-out streams, each to its last job, and prints the average job completion time.",
			Flags: []cli.Flag{modeFlag,
				&cli.StringFlag{Name: "model", Required: true, Usage: "scheduler file (" + decimarun.ModelFile + " of a training run)"},
				&cli.IntFlag{Name: "streams", Value: 5, Usage: "held-out streams"},
				&cli.IntFlag{Name: "tune-streams", Value: 5, Usage: "training streams the weighted fair scheduler is tuned on"},
				&cli.StringFlag{Name: "split", Value: "test", Usage: "test (the bench's streams) or validation (what 'decima train' reports: choose settings there)"},
			},
			Action: decimaEval,
		}},
	}
}

// decimaTrainingFlags are the training settings 'decima train' and 'bench
// decima' share.
func decimaTrainingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "arch", Value: decimarun.ArchPatent, Usage: "patent (attention over children, LSTM over jobs) or decima (sums: Decima's own, the ablation)"},
		&cli.Float64Flag{Name: "lr", Value: 1e-3, Usage: "Adam learning rate (Decima: 1e-3)"},
		&cli.Float64Flag{Name: "entropy", Value: 0.01, Usage: "entropy bonus weight"},
		&cli.Float64Flag{Name: "horizon", Value: 1000, Usage: "continuous mode: training episodes end at this time in seconds (Decima's early termination; evaluation runs every stream to its end; 0: never)"},
		&cli.Int64Flag{Name: "select-every", Value: 10, Usage: "score the policy on --select-streams selection streams every this many updates and keep the best parameters (0: keep the last)"},
		&cli.IntFlag{Name: "select-streams", Value: 5, Usage: "selection streams per scoring"},
		&cli.IntFlag{Name: "warm-epochs", Value: 0, Usage: "first imitate the weighted fair scheduler tuned on training streams for this many passes over its decisions on 5 training streams (0: start from random parameters, as Decima: better with 2,000,000 decisions; 60 with 300,000 gives a quick policy a little ahead of the heuristic; docs/decima.md)"},
	}
}

// decimaSettings applies decimaTrainingFlags to cfg after checking them.
func decimaSettings(c *cli.Context, cfg *decimarun.Config) error {
	bad := func(format string, a ...any) error {
		return &usageError{msg: fmt.Sprintf(format, a...), cmd: c.Command.HelpName}
	}
	arch := c.String("arch") // "" in the bench: --archs
	if arch == "" {
		arch = cfg.Arch
	}
	switch {
	case !slices.Contains(decimarun.Archs, arch):
		return bad("--arch %q: want one of %v.", arch, decimarun.Archs)
	case !(c.Float64("lr") > 0 && c.Float64("lr") <= 1):
		return bad("--lr %v outside (0, 1].", c.Float64("lr"))
	case !(c.Float64("entropy") >= 0 && c.Float64("entropy") <= 100):
		return bad("--entropy %v outside [0, 100].", c.Float64("entropy"))
	case !(c.Float64("horizon") >= 0 && c.Float64("horizon") <= 1e7):
		return bad("--horizon %v outside [0, 1e7] s.", c.Float64("horizon"))
	case c.Int64("select-every") < 0 || c.Int64("select-every") > 1e9:
		return bad("--select-every %d outside [0, 1e9].", c.Int64("select-every"))
	case c.Int("select-streams") < 1 || c.Int("select-streams") > 1000:
		return bad("--select-streams %d outside [1, 1000].", c.Int("select-streams"))
	case c.Int("warm-epochs") < 0 || c.Int("warm-epochs") > 10000:
		return bad("--warm-epochs %d outside [0, 10000].", c.Int("warm-epochs"))
	}
	cfg.Warm.Epochs = c.Int("warm-epochs")
	cfg.Arch = arch
	cfg.Model, _ = decimarun.ModelConfig(arch)
	cfg.PG.LearningRate, cfg.PG.EntCoef = c.Float64("lr"), c.Float64("entropy")
	if cfg.Mode == decimarun.ModeContinuous {
		cfg.TrainMaxTime = c.Float64("horizon") * 1000
	}
	cfg.SelectEvery, cfg.SelectStreams = c.Int64("select-every"), c.Int("select-streams")
	return nil
}

// decimaMode reads --mode.
func decimaMode(c *cli.Context) (decimarun.Config, error) {
	cfg, err := decimarun.DefaultConfig(c.String("mode"))
	if err != nil {
		return cfg, &usageError{msg: fmt.Sprintf("--mode %q: want one of %v.", c.String("mode"), decimarun.Modes), cmd: c.Command.HelpName}
	}
	return cfg, nil
}

func decimaTrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	cfg, err := decimaMode(c)
	if err != nil {
		return err
	}
	if err := decimaSettings(c, &cfg); err != nil {
		return err
	}
	steps, every, evalS, tuneS := c.Int64("steps"), c.Int64("checkpoint-every"), c.Int("eval-streams"), c.Int("tune-streams")
	bad := func(format string, a ...any) error {
		return &usageError{msg: fmt.Sprintf(format, a...), cmd: c.Command.HelpName}
	}
	switch {
	case steps < 1 || steps > 1e10:
		return bad("--steps %d outside [1, 1e10].", steps)
	case every < 0:
		return bad("--checkpoint-every must not be negative.")
	case evalS < 0 || evalS > 10000:
		return bad("--eval-streams %d outside [0, 10000].", evalS)
	case tuneS < 1 || tuneS > 10000:
		return bad("--tune-streams %d outside [1, 10000].", tuneS)
	}
	g := globalsFrom(c)
	cfg.PG.TotalTimesteps, cfg.PG.Seed = steps, uint64(g.Seed)
	rc := decimarun.RunConfig{Dir: g.Out, Train: cfg, Data: g.DataDir, Force: c.Bool("force"), Quiet: g.Quiet, Log: infoWriter(c),
		CheckpointEvery: every, EvalStreams: evalS, TuneStreams: tuneS}
	if rc.Dir == "" {
		rc.Dir = defaultRunDir("decima-"+cfg.Mode, time.Now())
	}
	if err := ensureData(c, "tpch"); err != nil {
		return err
	}
	rep, err := decimarun.RunTrain(c.Context, rc)
	if err != nil {
		return err
	}
	r := rep.Result
	fmt.Fprintf(c.App.Writer, "trained %d decisions (%d updates) in %.1f s", r.Steps, r.Updates, r.Elapsed.Seconds())
	if r.Selected {
		fmt.Fprintf(c.App.Writer, "; kept the parameters of update %d (%.2f s average JCT on the selection streams)", r.SelectedUpdate, r.SelectedScore)
	}
	fmt.Fprintf(c.App.Writer, "; scheduler saved to %s\n", rep.ModelPath)
	if len(rep.Rows) > 0 {
		fmt.Fprintln(c.App.Writer)
		decimarun.WriteMarkdown(c.App.Writer, fmt.Sprintf("%s mode, %d validation streams", cfg.Mode, evalS), rep.Rows)
	}
	return nil
}

func decimaEval(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	cfg, err := decimaMode(c)
	if err != nil {
		return err
	}
	n, tuneS := c.Int("streams"), c.Int("tune-streams")
	if n < 1 || n > 10000 {
		return &usageError{msg: fmt.Sprintf("--streams %d outside [1, 10000].", n), cmd: c.Command.HelpName}
	}
	if tuneS < 1 || tuneS > 10000 {
		return &usageError{msg: fmt.Sprintf("--tune-streams %d outside [1, 10000].", tuneS), cmd: c.Command.HelpName}
	}
	seed0 := uint64(decimarun.TestSeed0)
	switch c.String("split") {
	case "test":
	case "validation":
		seed0 = decimarun.ValidationSeed0
	default:
		return &usageError{msg: fmt.Sprintf("--split %q: want test or validation.", c.String("split")), cmd: c.Command.HelpName}
	}
	ag, _, err := decima.Load(c.String("model"))
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if err := ensureData(c, "tpch"); err != nil {
		return err
	}
	lib, err := tpch.LoadAll(globalsFrom(c).DataDir, cfg.Env.Sizes)
	if err != nil {
		return err
	}
	wf, err := decimarun.TuneWF(cfg.Env, lib, tuneS)
	if err != nil {
		return err
	}
	rows, err := decimarun.Evaluate(cfg.Env, lib, append(decimarun.Baselines(wf.Best), decimarun.AgentMethod("learned", ag)), decimarun.Seeds(seed0, n))
	if err != nil {
		return err
	}
	decimarun.WriteMarkdown(c.App.Writer, fmt.Sprintf("%s mode, %d %s streams", cfg.Mode, n, c.String("split")), rows)
	return nil
}

// benchDecimaCommand is `cpntrain bench decima`.
func benchDecimaCommand() *cli.Command {
	return &cli.Command{
		Name:      "decima",
		Usage:     "the Decima-style scheduler and its ablation vs FIFO, fair sharing, SJF and the tuned weighted fair scheduler, batch and continuous",
		UsageText: "cpntrain bench decima [--modes batch,continuous] [--archs patent,decima] [--seeds 5] [--steps 2000000] [--test-streams 5] [--jobs 2] [--csv FILE] [--plots DIR]",
		Description: "Tunes the weighted fair scheduler (α × cap grid) on --tune-streams training streams per mode,\n" +
			"scores the heuristics on --test-streams held-out streams, trains every architecture of --archs\n" +
			"--seeds times per mode (--steps decisions each, the settings of 'decima train') and scores each\n" +
			"on the same streams. Prints a table per mode (mean ± std; the change against the best\n" +
			"heuristic; 'learned faster on': paired (seed, stream) wins of the first architecture); --csv\n" +
			"writes every run, --plots bars, job-completion CDFs, learning curves and executor timelines.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "modes", Value: cli.NewStringSlice(decimarun.ModeBatch, decimarun.ModeContinuous), Usage: "batch, continuous"},
			&cli.StringSliceFlag{Name: "archs", Value: cli.NewStringSlice(decimarun.ArchPatent, decimarun.ArchDecima), Usage: "architectures to train (none: only the heuristics)"},
			&cli.IntFlag{Name: "seeds", Value: 5, Usage: "training runs per architecture and mode"},
			&cli.Int64Flag{Name: "steps", Value: 2000000, Usage: "decisions per training run"},
			&cli.IntFlag{Name: "test-streams", Value: 5, Usage: "held-out streams per mode"},
			&cli.IntFlag{Name: "tune-streams", Value: 5, Usage: "training streams the weighted fair scheduler is tuned on"},
			&cli.IntFlag{Name: "jobs", Value: 1, Usage: "training runs at a time (the scoring stays sequential)"},
			&cli.BoolFlag{Name: "warm-only", Value: false, Usage: "also score the first architecture's warm start alone (imitation of the tuned heuristic, no policy gradient)"},
			&cli.StringFlag{Name: "csv", Usage: "also write every run to this CSV file"},
			&cli.StringFlag{Name: "plots", Usage: "also write PNG figures into this folder"},
		}, decimaTrainingFlags()[1:]...), // --arch is --archs here
		Action: benchDecima,
	}
}

func benchDecima(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	bc := decimarun.BenchConfig{Data: globalsFrom(c).DataDir, Modes: c.StringSlice("modes"), Seeds: c.Int("seeds"), Steps: c.Int64("steps"),
		TestStreams: c.Int("test-streams"), TuneStreams: c.Int("tune-streams"), Jobs: c.Int("jobs"), WarmOnly: c.Bool("warm-only"), Log: infoWriter(c)}
	for _, a := range c.StringSlice("archs") {
		if a != "none" {
			bc.Archs = append(bc.Archs, a)
		}
	}
	if err := bc.Validate(); err != nil {
		return &usageError{msg: err.Error() + ".", cmd: c.Command.HelpName}
	}
	// The shared training flags, checked once (on a continuous config:
	// the horizon applies to continuous runs only).
	probe, _ := decimarun.DefaultConfig(decimarun.ModeContinuous)
	if err := decimaSettings(c, &probe); err != nil {
		return err
	}
	bc.Train = func(cfg *decimarun.Config) {
		arch, model := cfg.Arch, cfg.Model
		cfg.PG.LearningRate, cfg.PG.EntCoef = probe.PG.LearningRate, probe.PG.EntCoef
		if cfg.Mode == decimarun.ModeContinuous {
			cfg.TrainMaxTime = probe.TrainMaxTime
		}
		cfg.SelectEvery, cfg.SelectStreams = probe.SelectEvery, probe.SelectStreams
		cfg.Warm.Epochs = probe.Warm.Epochs
		cfg.Arch, cfg.Model = arch, model
	}
	if err := ensureData(c, "tpch"); err != nil {
		return err
	}
	res, err := decimarun.Bench(c.Context, bc)
	if err != nil {
		return err
	}
	decimarun.WriteBenchMarkdown(c.App.Writer, res, bc)
	return writeCSVAndPlots(c, func(w io.Writer) error { return decimarun.WriteBenchCSV(w, res) },
		func(dir string) ([]string, error) { return decimarun.BenchPlot(dir, res, bc.Modes) })
}
