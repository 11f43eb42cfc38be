package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
	"github.com/cpntrain/cpntrain/train/dspporun"
)

func dsppoCommand() *cli.Command {
	systemFlags := []cli.Flag{
		&cli.StringFlag{Name: "queue", Value: "burst", Usage: "stable (100 tasks in 1,000 s) or burst (2,000 tasks in 1,000 s)"},
		&cli.StringFlag{Name: "cluster", Usage: "cluster file (JSON, or YAML by its .yaml/.yml name; fields in docs/dsppo.md); default: the paper's testbed and Table 3"},
	}
	return &cli.Command{
		Name:  "dsppo",
		Usage: "DS-PPO (paper 001): DeepSets + PPO placing CNN-inference tasks on cloud, edge and end clusters",
		Subcommands: []*cli.Command{{
			Name:      "train",
			Usage:     "train DS-PPO on a queue of the paper's testbed (or your clusters)",
			UsageText: "cpntrain dsppo train [--queue burst] [--cluster FILE] [--steps 100000] [--reward jct|paper]",
			Description: "Trains the DeepSets policy (attention over the nodes, mean over the waiting tasks) with PPO\n" +
				"(2,048-step rollouts, minibatches of 64, 10 epochs, clip 0.2, entropy 0.01: the paper's), with\n" +
				"the settings tuned on validation queues as defaults (docs/dsppo.md): the completion-time reward\n" +
				"with γ 1, Adam 3e-4, a fastest-fit prior of 5, waits costing 500 task-seconds, and the\n" +
				"parameters kept that score best on selection queues every --select-every decisions. The\n" +
				"paper's own: --gamma 0.99 --lr 1e-3 --prior 0 --wait-cost 1 --select-every 0. Training stops\n" +
				"early when the best episode return is --patience episodes old. Every episode is one queue\n" +
				"drawn from the training seeds. Metrics go to the run folder,\n" +
				"the agent to <run>/" + dspporun.ModelFile + ", PPO's resumable state to <run>/" + dspporun.StateFile + "\n" +
				"(rerun with --out <run> to resume). At the end the agent and the greedy baselines are scored\n" +
				"on validation queues (not the test queues of 'dsppo eval' and the bench).",
			Flags: append(append(append([]cli.Flag{}, systemFlags...),
				&cli.StringFlag{Name: "algo", Value: "ppo", Usage: "ppo (DS-PPO), or a baseline: ppo-mlp (the MLP ablation), dqn (DRL-DQN), reinforce (DRL-REINFORCE), the last three with the same features; only ppo's agent is saved"},
				&cli.Int64Flag{Name: "steps", Value: 100000, Usage: "decisions to train for (at most; see --patience)"},
				&cli.IntFlag{Name: "width", Value: 64, Usage: "width of φ, ρ and the heads"},
				&cli.IntFlag{Name: "patience", Value: 70, Usage: "stop when the best return is this many episodes old (0: never)"},
				&cli.Int64Flag{Name: "checkpoint-every", Value: 1, Usage: "PPO iterations between resumable checkpoints (0: only when interrupted)"},
				&cli.IntFlag{Name: "eval-queues", Value: 3, Usage: "validation queues scored at the end (0: none)"},
				forceFlag(),
			), dsppoTrainingFlags()...),
			Action: dsppoTrain,
		}, {
			Name:      "eval",
			Usage:     "score a trained DS-PPO agent and the baselines on held-out queues",
			UsageText: "cpntrain dsppo eval --model FILE [--queue burst] [--cluster FILE] [--queues 5]",
			Description: "Plays the agent's most probable action and the heuristics (first-fit, fastest-fit,\n" +
				"best-or-wait, Sigmoid-PSO, GWO) on --queues held-out queues; any cluster file with the same task types works\n" +
				"(the DeepSets policy reads any number of nodes).",
			Flags: append(append([]cli.Flag{}, systemFlags...),
				&cli.StringFlag{Name: "model", Required: true, Usage: "agent file (" + dspporun.ModelFile + " of a training run)"},
				&cli.IntFlag{Name: "queues", Value: 5, Usage: "held-out queues"},
				&cli.StringFlag{Name: "split", Value: "test", Usage: "test (the bench's queues) or validation (what 'dsppo train' reports: choose settings there)"},
			),
			Action: dsppoEval,
		}},
	}
}

// dsppoTrainingFlags are the training settings 'dsppo train' and 'bench
// dsppo' share (their defaults: the settings tuned on validation queues,
// docs/dsppo.md).
func dsppoTrainingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "reward", Value: cluster.RewardJCT, Usage: "jct (−tasks in the system × time: the completion time) or paper (equations 13–17)"},
		&cli.Float64Flag{Name: "gamma", Value: 1, Usage: "discount per decision (1: the jct return is exactly minus the mean completion time; the paper: 0.99)"},
		&cli.Float64Flag{Name: "prior", Value: 5, Usage: "fastest-fit prior on the logits of the policies trained by PPO and REINFORCE (5: start near fastest-fit and learn corrections; 0: none, the paper's plain policy)"},
		&cli.Float64Flag{Name: "lr", Value: 3e-4, Usage: "learning rate (the paper: 1e-3)"},
		&cli.Float64Flag{Name: "wait-cost", Value: 500, Usage: "jct reward: what a wait costs, in task-seconds (a wait moves no clock; docs/dsppo.md)"},
		&cli.Int64Flag{Name: "select-every", Value: 10240, Usage: "score the policy on --select-queues selection queues (a split of their own) every this many decisions and keep the best parameters (0: keep the last)"},
		&cli.IntFlag{Name: "select-queues", Value: 2, Usage: "selection queues per scoring"},
	}
}

// checkTrainingFlags checks dsppoTrainingFlags.
func checkTrainingFlags(c *cli.Context) error {
	bad := func(format string, a ...any) error {
		return &usageError{msg: fmt.Sprintf(format, a...), cmd: c.Command.HelpName}
	}
	switch {
	case c.String("reward") != cluster.RewardJCT && c.String("reward") != cluster.RewardPaper:
		return bad("--reward %q: want jct or paper.", c.String("reward"))
	case !(c.Float64("gamma") >= 0 && c.Float64("gamma") <= 1):
		return bad("--gamma %v outside [0, 1].", c.Float64("gamma"))
	case !(c.Float64("prior") >= 0 && c.Float64("prior") <= 100):
		return bad("--prior %v outside [0, 100].", c.Float64("prior"))
	case !(c.Float64("lr") > 0 && c.Float64("lr") <= 1):
		return bad("--lr %v outside (0, 1].", c.Float64("lr"))
	case !(c.Float64("wait-cost") > 0 && c.Float64("wait-cost") <= 1e6):
		return bad("--wait-cost %v outside (0, 1e6].", c.Float64("wait-cost"))
	case c.Int64("select-every") < 0 || c.Int64("select-every") > 1e9:
		return bad("--select-every %d outside [0, 1e9].", c.Int64("select-every"))
	case c.Int("select-queues") < 1 || c.Int("select-queues") > 1000:
		return bad("--select-queues %d outside [1, 1000].", c.Int("select-queues"))
	}
	return nil
}

// dsppoSystem reads --queue and --cluster.
func dsppoSystem(c *cli.Context) (cluster.Config, error) {
	var q cluster.Queue
	switch c.String("queue") {
	case "stable":
		q = cluster.Stable
	case "burst":
		q = cluster.Burst
	default:
		return cluster.Config{}, &usageError{msg: fmt.Sprintf("--queue %q: want stable or burst.", c.String("queue")), cmd: c.Command.HelpName}
	}
	sys := cluster.PaperConfig()
	if path := c.String("cluster"); path != "" {
		var err error
		if sys, err = cluster.LoadConfig(path); err != nil {
			return sys, fmt.Errorf("--cluster: %w", err)
		}
	}
	sys.Queue = q
	return sys, nil
}

func dsppoTrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	sys, err := dsppoSystem(c)
	if err != nil {
		return err
	}
	if err := checkTrainingFlags(c); err != nil {
		return err
	}
	steps, every, evalQ := c.Int64("steps"), c.Int64("checkpoint-every"), c.Int("eval-queues")
	switch {
	case steps < 2048 || steps > 1e9:
		return &usageError{msg: fmt.Sprintf("--steps %d outside [2048, 1e9] (one rollout is 2,048 decisions).", steps), cmd: c.Command.HelpName}
	case !slices.Contains(dspporun.Algos, c.String("algo")):
		return &usageError{msg: fmt.Sprintf("--algo %q: want one of %v.", c.String("algo"), dspporun.Algos), cmd: c.Command.HelpName}
	case c.Int("width") < 1 || c.Int("width") > 1024:
		return &usageError{msg: fmt.Sprintf("--width %d outside [1, 1024].", c.Int("width")), cmd: c.Command.HelpName}
	case c.Int("patience") < 0:
		return &usageError{msg: "--patience must not be negative.", cmd: c.Command.HelpName}
	case every < 0:
		return &usageError{msg: "--checkpoint-every must not be negative.", cmd: c.Command.HelpName}
	case evalQ < 0 || evalQ > 10000:
		return &usageError{msg: fmt.Sprintf("--eval-queues %d outside [0, 10000].", evalQ), cmd: c.Command.HelpName}
	}
	g := globalsFrom(c)
	cfg := dspporun.DefaultConfig(sys.Queue)
	sys.Reward, sys.WaitCost = c.String("reward"), c.Float64("wait-cost")
	cfg.Env, cfg.Model = sys, dsppo.DefaultConfig(len(sys.TaskTypes))
	cfg.Model.Dim, cfg.Model.Prior = c.Int("width"), c.Float64("prior")
	cfg.PPO.TotalTimesteps, cfg.PPO.LearningRate, cfg.PPO.Seed, cfg.PPO.Gamma = steps, c.Float64("lr"), uint64(g.Seed), c.Float64("gamma")
	cfg.Patience, cfg.Algo = c.Int("patience"), c.String("algo")
	cfg.SelectEvery, cfg.SelectQueues = c.Int64("select-every"), c.Int("select-queues")
	rc := dspporun.RunConfig{Dir: g.Out, Train: cfg, Force: c.Bool("force"), Quiet: g.Quiet, Log: infoWriter(c), CheckpointEvery: every, EvalQueues: evalQ}
	if rc.Dir == "" {
		rc.Dir = defaultRunDir("dsppo-"+c.String("queue"), time.Now())
	}
	rep, err := dspporun.RunTrain(c.Context, rc)
	if err != nil {
		return err
	}
	r := rep.Result
	fmt.Fprintf(c.App.Writer, "trained %d decisions (%d episodes) in %.1f s", r.Steps, len(r.EpisodicReturns), r.Elapsed.Seconds())
	if r.Stopped != "" {
		fmt.Fprintf(c.App.Writer, ", stopped early: %s", r.Stopped)
	}
	if r.Selected {
		fmt.Fprintf(c.App.Writer, "; kept the parameters of step %d (%.2f s average completion on the selection queues)", r.SelectedStep, r.SelectedScore)
	}
	if rep.ModelPath != "" {
		fmt.Fprintf(c.App.Writer, "; agent saved to %s", rep.ModelPath)
	}
	fmt.Fprintln(c.App.Writer)
	if len(rep.Rows) > 0 {
		fmt.Fprintln(c.App.Writer)
		dspporun.WriteMarkdown(c.App.Writer, fmt.Sprintf("%s queue, %d validation queues", c.String("queue"), evalQ), rep.Rows)
	}
	return nil
}

func dsppoEval(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	sys, err := dsppoSystem(c)
	if err != nil {
		return err
	}
	n := c.Int("queues")
	if n < 1 || n > 10000 {
		return &usageError{msg: fmt.Sprintf("--queues %d outside [1, 10000].", n), cmd: c.Command.HelpName}
	}
	seed0 := uint64(dspporun.TestSeed0)
	switch c.String("split") {
	case "test":
	case "validation":
		seed0 = dspporun.ValidationSeed0
	default:
		return &usageError{msg: fmt.Sprintf("--split %q: want test or validation.", c.String("split")), cmd: c.Command.HelpName}
	}
	ag, _, err := dsppo.Load(c.String("model"))
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if types := ag.Actors[0].(*dsppo.Actor).Enc.Config.Types; types != len(sys.TaskTypes) {
		return fmt.Errorf("--model: %s was trained on %d task types, the system has %d", c.String("model"), types, len(sys.TaskTypes))
	}
	rows, err := dspporun.Evaluate(sys, append(dspporun.Baselines(sys), dspporun.AgentMethod("ds-ppo", ag)), dspporun.Seeds(seed0, n))
	if err != nil {
		return err
	}
	dspporun.WriteMarkdown(c.App.Writer, fmt.Sprintf("%s queue, %d %s queues", c.String("queue"), n, c.String("split")), rows)
	return nil
}

// benchDSPPOCommand is `cpntrain bench dsppo`.
func benchDSPPOCommand() *cli.Command {
	return &cli.Command{
		Name:      "dsppo",
		Usage:     "DS-PPO vs the heuristics (greedy, Sigmoid-PSO, GWO, S-P-GWO) and the learned baselines (DRL-DQN, DRL-REINFORCE, the MLP ablation) on both queues",
		UsageText: "cpntrain bench dsppo [--queues stable,burst] [--test-queues 5] [--algos ppo,ppo-mlp,dqn,reinforce] [--seeds 5] [--steps 100000] [--jobs 2] [--csv FILE] [--plots DIR]",
		Description: "Scores the heuristics (first-fit, fastest-fit, fastest-spread, best-or-wait, Sigmoid-PSO, GWO, S-P-GWO) on --test-queues\n" +
			"held-out queues of each queue kind, trains every\n" +
			"algorithm of --algos --seeds times per queue kind (at most --steps decisions each; the\n" +
			"70-episode early stop may end them sooner) and scores each on the same held-out queues.\n" +
			"Prints a table per queue with the paper's percentages against DS-PPO; --csv writes every\n" +
			"run, --plots bar charts with error bars and learning curves. With --variants (default) every\n" +
			"method is also scored on the testbed with 6 more edge nodes and with a cloud server lost, the\n" +
			"learned ones without retraining. Every learned method trains with the same settings (those of\n" +
			"'dsppo train'). The table's 'DS-PPO faster on' column counts the (training seed, test queue)\n" +
			"pairs where DS-PPO's average completion time is lower.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "queues", Value: cli.NewStringSlice("stable", "burst"), Usage: "queue kinds: stable, burst"},
			&cli.StringFlag{Name: "cluster", Usage: "cluster file (JSON or YAML); default: the paper's testbed"},
			&cli.IntFlag{Name: "test-queues", Value: 5, Usage: "held-out queues per kind"},
			&cli.StringSliceFlag{Name: "algos", Value: cli.NewStringSlice("ppo", "ppo-mlp", "dqn", "reinforce"), Usage: "learned methods to train (none: only the heuristics)"},
			&cli.IntFlag{Name: "seeds", Value: 5, Usage: "training runs per learned method and queue kind"},
			&cli.Int64Flag{Name: "steps", Value: 100000, Usage: "decisions per training run (at most)"},
			&cli.IntFlag{Name: "jobs", Value: 1, Usage: "training runs at a time (the scoring stays sequential)"},
			&cli.BoolFlag{Name: "variants", Value: true, Usage: "also score every method on the testbed with 6 more edge nodes and with one cloud server lost (learned methods without retraining); not with --cluster"},
			&cli.StringFlag{Name: "csv", Usage: "also write every run to this CSV file"},
			&cli.StringFlag{Name: "plots", Usage: "also write PNG figures into this folder"},
		}, dsppoTrainingFlags()...),
		Action: benchDSPPO,
	}
}

func benchDSPPO(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	bc := dspporun.BenchConfig{System: cluster.PaperConfig(), Queues: c.StringSlice("queues"), TestQueues: c.Int("test-queues"),
		Seeds: c.Int("seeds"), Steps: c.Int64("steps"), Reward: c.String("reward"), Gamma: c.Float64("gamma"), Prior: c.Float64("prior"),
		WaitCost: c.Float64("wait-cost"), LR: c.Float64("lr"), Jobs: c.Int("jobs"),
		SelectEvery: c.Int64("select-every"), SelectQueues: c.Int("select-queues"), Log: infoWriter(c)}
	if err := checkTrainingFlags(c); err != nil {
		return err
	}
	for _, a := range c.StringSlice("algos") {
		if a == "none" {
			continue
		}
		if !slices.Contains(dspporun.Algos, a) {
			return &usageError{msg: fmt.Sprintf("--algos: %q is not one of %v.", a, dspporun.Algos), cmd: c.Command.HelpName}
		}
		bc.Algos = append(bc.Algos, a)
	}
	for _, q := range bc.Queues {
		if _, err := dspporun.QueueOf(q); err != nil {
			return &usageError{msg: "--queues: " + err.Error() + ".", cmd: c.Command.HelpName}
		}
	}
	switch {
	case bc.TestQueues < 1 || bc.TestQueues > 10000:
		return &usageError{msg: fmt.Sprintf("--test-queues %d outside [1, 10000].", bc.TestQueues), cmd: c.Command.HelpName}
	case bc.Seeds < 1 || bc.Seeds > 100:
		return &usageError{msg: fmt.Sprintf("--seeds %d outside [1, 100].", bc.Seeds), cmd: c.Command.HelpName}
	case len(bc.Algos) > 0 && (bc.Steps < 2048 || bc.Steps > 1e9):
		return &usageError{msg: fmt.Sprintf("--steps %d outside [2048, 1e9].", bc.Steps), cmd: c.Command.HelpName}
	case bc.Jobs < 1 || bc.Jobs > 256:
		return &usageError{msg: fmt.Sprintf("--jobs %d outside [1, 256].", bc.Jobs), cmd: c.Command.HelpName}
	}
	if path := c.String("cluster"); path != "" {
		sys, err := cluster.LoadConfig(path)
		if err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		bc.System = sys
	} else if c.Bool("variants") {
		bc.Variants = dspporun.DefaultVariants()
	}
	rows, err := dspporun.Bench(c.Context, bc)
	if err != nil {
		return err
	}
	dspporun.WriteBenchMarkdown(c.App.Writer, rows, bc)
	return writeCSVAndPlots(c, func(w io.Writer) error { return dspporun.WriteBenchCSV(w, rows) },
		func(dir string) ([]string, error) { return dspporun.BenchPlot(dir, rows) })
}

// writeCSVAndPlots writes a bench's rows to --csv (when given) with
// writeCSV and its figures into --plots (when given) with plot, naming
// each file written.
func writeCSVAndPlots(c *cli.Context, writeCSV func(io.Writer) error, plot func(dir string) ([]string, error)) error {
	if path := c.String("csv"); path != "" {
		var buf bytes.Buffer
		if err := writeCSV(&buf); err != nil {
			return err
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
	}
	if dir := c.String("plots"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--plots: %w", err)
		}
		files, err := plot(dir)
		if err != nil {
			return fmt.Errorf("--plots: %w", err)
		}
		for _, f := range files {
			fmt.Fprintln(infoWriter(c), "wrote", f)
		}
	}
	return nil
}
