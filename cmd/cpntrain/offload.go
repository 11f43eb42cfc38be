package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/rl/envs/mec"
	"github.com/cpntrain/cpntrain/train/mecrun"
)

func offloadCommand() *cli.Command {
	return &cli.Command{
		Name:  "offload",
		Usage: "computation offloading (patent 004): local vs edge, latency vs battery energy, against the exact optimum",
		Subcommands: []*cli.Command{{
			Name:      "train",
			Usage:     "train the offloading DQN (or DROO) on task sets of D devices",
			UsageText: "cpntrain offload train [--algo dqn|droo] [--devices 10] [--steps N] [--eval-sets 20]",
			Description: "Trains on task sets drawn from rl/envs/mec's defaults (D devices, one AP, battery ratios 10-100 %).\n" +
				"dqn: the patent's Q-network (two convolutions over the devices, two fully connected layers)\n" +
				"deciding one task per step by greedy ordering; double DQN with a target network and\n" +
				"exploration falling from 1 to 0.05 over half the run. droo: Huang et al. 2020's DNN with K\n" +
				"quantised candidates scored by the exact cost. Metrics go to the run folder; the network to\n" +
				"<run>/" + mecrun.ModelFile + "; the DQN's resumable state to <run>/" + mecrun.StateFile + " every\n" +
				"--checkpoint-every steps and when interrupted (rerun with --out <run> to resume; DROO\n" +
				"restarts). At the end the model is scored against the optimum and the baselines on\n" +
				"validation sets (not the test sets of the bench and of 'offload eval').",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "algo", Value: mecrun.AlgoDQN, Usage: "dqn or droo"},
				&cli.IntFlag{Name: "devices", Value: 10, Usage: "devices D per task set"},
				&cli.Int64Flag{Name: "steps", Value: 0, Usage: "decisions (dqn, default 60000) or task sets (droo, default 100000)"},
				&cli.Int64Flag{Name: "checkpoint-every", Value: 10000, Usage: "DQN steps between resumable checkpoints (0: none)"},
				&cli.Float64Flag{Name: "lr", Value: 0, Usage: "Adam learning rate (0: the default, 3e-4 for dqn, 0.01 for droo)"},
				&cli.Float64Flag{Name: "reward-scale", Value: 0, Usage: "dqn: multiply the rewards (cost decreases) by this (0: the default, 0.005)"},
				&cli.IntFlag{Name: "width", Value: 64, Usage: "dqn: channels of the convolutions and hidden units of the first fully connected layer"},
				&cli.Int64Flag{Name: "target-every", Value: 100, Usage: "dqn: steps between target network copies"},
				&cli.IntFlag{Name: "n-steps", Value: 1, Usage: "dqn: rewards summed per stored transition before bootstrapping (1: one-step DQN; D: Monte Carlo over a task set)"},
				&cli.IntFlag{Name: "eval-sets", Value: 20, Usage: "held-out task sets scored at the end (0: none)"},
				forceFlag(),
			},
			Action: offloadTrain,
		}, {
			Name:      "eval",
			Usage:     "score a trained offloading model against the optimum and the baselines",
			UsageText: "cpntrain offload eval --model FILE [--devices 10] [--sets 20] [--battery low,mid,full]",
			Description: "Loads a model saved by 'offload train' (a DQN decides sets of any size; DROO only its own)\n" +
				"and scores it with the optimum and every baseline on --sets held-out task sets per battery level.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "model", Required: true, Usage: "model file (" + mecrun.ModelFile + " of a training run)"},
				&cli.IntFlag{Name: "devices", Value: 10, Usage: "devices D per task set"},
				&cli.IntFlag{Name: "sets", Value: 20, Usage: "held-out task sets per battery level"},
				&cli.StringSliceFlag{Name: "battery", Value: cli.NewStringSlice("low", "mid", "full"), Usage: "battery levels: low (5–20 %), mid (40–60 %), full (90–100 %), mixed (10–100 %)"},
				&cli.StringFlag{Name: "split", Value: "test", Usage: "test (the bench's sets) or validation (what 'offload train' reports: choose settings there)"},
			},
			Action: offloadEval,
		}, offloadBenchCommand()},
	}
}

func checkBatteries(c *cli.Context) error {
	for _, b := range c.StringSlice("battery") {
		if _, ok := mecrun.BatteryLevels[b]; !ok {
			return &usageError{msg: fmt.Sprintf("--battery %q: want low, mid, full or mixed.", b), cmd: c.Command.HelpName}
		}
	}
	return nil
}

func checkDevices(c *cli.Context) error {
	if d := c.Int("devices"); d < 1 || d > mec.MaxDevices {
		return &usageError{msg: fmt.Sprintf("--devices %d outside [1, %d].", d, mec.MaxDevices), cmd: c.Command.HelpName}
	}
	return nil
}

func offloadTrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkDevices(c); err != nil {
		return err
	}
	algo, steps, every, sets := c.String("algo"), c.Int64("steps"), c.Int64("checkpoint-every"), c.Int("eval-sets")
	switch {
	case algo != mecrun.AlgoDQN && algo != mecrun.AlgoDROO:
		return &usageError{msg: fmt.Sprintf("--algo %q: want dqn or droo.", algo), cmd: c.Command.HelpName}
	case steps < 0 || steps > 1e9:
		return &usageError{msg: fmt.Sprintf("--steps %d outside [0, 1e9] (0: the default).", steps), cmd: c.Command.HelpName}
	case every < 0:
		return &usageError{msg: "--checkpoint-every must not be negative.", cmd: c.Command.HelpName}
	case sets < 0 || sets > 100000:
		return &usageError{msg: fmt.Sprintf("--eval-sets %d outside [0, 100000].", sets), cmd: c.Command.HelpName}
	case !(c.Float64("lr") >= 0 && c.Float64("lr") <= 1):
		return &usageError{msg: fmt.Sprintf("--lr %v outside [0, 1] (0: the default).", c.Float64("lr")), cmd: c.Command.HelpName}
	case c.Int("width") < 1 || c.Int("width") > 1024:
		return &usageError{msg: fmt.Sprintf("--width %d outside [1, 1024].", c.Int("width")), cmd: c.Command.HelpName}
	case c.Int64("target-every") < 1 || c.Int64("target-every") > 1e9:
		return &usageError{msg: fmt.Sprintf("--target-every %d outside [1, 1e9].", c.Int64("target-every")), cmd: c.Command.HelpName}
	case c.Int("n-steps") < 1 || c.Int("n-steps") > 1000:
		return &usageError{msg: fmt.Sprintf("--n-steps %d outside [1, 1000].", c.Int("n-steps")), cmd: c.Command.HelpName}
	case !(c.Float64("reward-scale") >= 0 && c.Float64("reward-scale") <= 1e6):
		return &usageError{msg: fmt.Sprintf("--reward-scale %v outside [0, 1e6] (0: the default).", c.Float64("reward-scale")), cmd: c.Command.HelpName}
	}
	g := globalsFrom(c)
	d := c.Int("devices")
	rc := mecrun.RunConfig{Algo: algo, DQN: mecrun.DefaultConfig(d), DROO: mecrun.DefaultDROOConfig(d), Force: c.Bool("force"),
		Quiet: g.Quiet, Log: infoWriter(c), CheckpointEvery: every, EvalSets: sets}
	rc.DQN.DQN.Seed, rc.DROO.Seed = uint64(g.Seed), uint64(g.Seed)
	if steps > 0 {
		rc.DQN.DQN.TotalTimesteps, rc.DROO.Steps = steps, int(steps)
	}
	if lr := c.Float64("lr"); lr > 0 {
		rc.DQN.DQN.LearningRate, rc.DROO.LR = lr, lr
	}
	rc.DQN.Model.Channels, rc.DQN.Model.Hidden = c.Int("width"), c.Int("width")
	rc.DQN.DQN.TargetNetworkFrequency = c.Int64("target-every")
	rc.DQN.DQN.NSteps = c.Int("n-steps")
	if rs := c.Float64("reward-scale"); rs > 0 {
		rc.DQN.Env.RewardScale = rs
	}
	rc.Dir = g.Out
	if rc.Dir == "" {
		rc.Dir = defaultRunDir(fmt.Sprintf("offload-%s-d%d", algo, d), time.Now())
	}
	rep, err := mecrun.RunTrain(c.Context, rc)
	if rep.ModelPath != "" && err == nil {
		fmt.Fprintf(c.App.Writer, "trained %d %s in %.1f s; model saved to %s\n", rep.Steps, map[string]string{mecrun.AlgoDQN: "decisions", mecrun.AlgoDROO: "task sets"}[algo],
			rep.Elapsed.Seconds(), rep.ModelPath)
		if len(rep.Rows) > 0 {
			fmt.Fprintln(c.App.Writer)
			mecrun.WriteMarkdown(c.App.Writer, rep.Rows, mecrun.BenchConfig{Sets: sets})
		}
	}
	return err
}

func offloadEval(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkDevices(c); err != nil {
		return err
	}
	if err := checkBatteries(c); err != nil {
		return err
	}
	sets := c.Int("sets")
	if sets < 1 || sets > 100000 {
		return &usageError{msg: fmt.Sprintf("--sets %d outside [1, 100000].", sets), cmd: c.Command.HelpName}
	}
	seed0 := uint64(mecrun.TestSeed0)
	switch c.String("split") {
	case "test":
	case "validation":
		seed0 = mecrun.ValidationSeed0
	default:
		return &usageError{msg: fmt.Sprintf("--split %q: want test or validation.", c.String("split")), cmd: c.Command.HelpName}
	}
	d := c.Int("devices")
	m, err := mecrun.LoadMethod(c.String("model"), d)
	if err != nil {
		return err
	}
	var rows []mecrun.Row
	for _, level := range c.StringSlice("battery") {
		env := mecrun.DefaultConfig(d).Env
		br := mecrun.BatteryLevels[level]
		env.BatteryMin, env.BatteryMax = br[0], br[1]
		r, err := mecrun.EvalRows(env, level, []mecrun.Method{m}, sets, seed0)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	mecrun.WriteMarkdown(c.App.Writer, rows, mecrun.BenchConfig{Sets: sets})
	return nil
}

// offloadBenchCommand is `cpntrain offload bench`, also `cpntrain bench
// offload`.
func offloadBenchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "every method's cost relative to the exact optimum, per number of devices",
		UsageText: "cpntrain offload bench (or: cpntrain bench offload) [--devices 5,10,15,20,30] [--sets 20] [--battery low,mid,full] [--dqn-steps 0 --dqn-seeds 5] [--droo-steps 0] [--csv FILE] [--plots DIR]",
		Description: "Draws --sets held-out task sets per size and battery level (rl/envs/mec defaults; sources in\n" +
			"its docs) and scores the exact optimum (polynomial: per-AP counts, then the cheapest tasks), the\n" +
			"brute force over all 2^D vectors (up to 20 devices, for its time), coordinate descent, the greedy\n" +
			"ordering with the exact cost model, all local, all offload, random and, with --dqn-steps N, DQNs\n" +
			"trained for N steps per size (--dqn-seeds of them, on the mixed battery range), with\n" +
			"--droo-steps N, DROO trained on N task sets per size. Prints Markdown\n" +
			"tables; --csv writes the rows as CSV too, --plots PNG figures.",
		Flags: []cli.Flag{
			&cli.IntSliceFlag{Name: "devices", Value: cli.NewIntSlice(5, 10, 15, 20, 30), Usage: "numbers of devices D"},
			&cli.IntFlag{Name: "sets", Value: 20, Usage: "held-out task sets per size"},
			&cli.StringSliceFlag{Name: "battery", Value: cli.NewStringSlice("low", "mid", "full"), Usage: "battery levels: low (5–20 %), mid (40–60 %), full (90–100 %), mixed (10–100 %)"},
			&cli.Int64Flag{Name: "dqn-steps", Value: 0, Usage: "train DQNs per size for this many steps (0: baselines only)"},
			&cli.IntFlag{Name: "dqn-seeds", Value: 5, Usage: "DQNs per size (seeds --seed, --seed+1, …)"},
			&cli.IntFlag{Name: "droo-steps", Value: 0, Usage: "train DROO per size on this many task sets (0: none)"},
			&cli.StringFlag{Name: "csv", Usage: "also write the rows to this CSV file"},
			&cli.StringFlag{Name: "plots", Usage: "also write PNG plots (cost and decision time against D, per battery level) into this folder"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			devs := c.IntSlice("devices")
			for _, d := range devs {
				if d < 1 || d > mec.MaxDevices {
					return &usageError{msg: fmt.Sprintf("--devices %d outside [1, %d].", d, mec.MaxDevices), cmd: c.Command.HelpName}
				}
			}
			if c.Int("sets") < 1 || c.Int("sets") > 100000 || c.Int64("dqn-steps") < 0 || c.Int64("dqn-steps") > 1e9 {
				return &usageError{msg: "--sets must be between 1 and 100000, --dqn-steps between 0 and 1e9.", cmd: c.Command.HelpName}
			}
			if c.Int("droo-steps") < 0 || c.Int("droo-steps") > 1e8 {
				return &usageError{msg: fmt.Sprintf("--droo-steps %d outside [0, 1e8].", c.Int("droo-steps")), cmd: c.Command.HelpName}
			}
			if c.Int("dqn-seeds") < 1 || c.Int("dqn-seeds") > 100 {
				return &usageError{msg: fmt.Sprintf("--dqn-seeds %d outside [1, 100].", c.Int("dqn-seeds")), cmd: c.Command.HelpName}
			}
			if err := checkBatteries(c); err != nil {
				return err
			}
			bc := mecrun.BenchConfig{Devices: devs, Sets: c.Int("sets"), Batteries: c.StringSlice("battery"),
				DQNSteps: c.Int64("dqn-steps"), DQNSeeds: c.Int("dqn-seeds"), DROOSteps: c.Int("droo-steps"), Seed: uint64(globalsFrom(c).Seed)}
			w := infoWriter(c)
			rows, err := mecrun.Bench(c.Context, bc, func(s string) { fmt.Fprintln(w, s) })
			if err != nil {
				return err
			}
			mecrun.WriteMarkdown(c.App.Writer, rows, bc)
			return writeCSVAndPlots(c, func(w io.Writer) error { return mecrun.WriteCSV(w, rows) },
				func(dir string) ([]string, error) { return mecrun.Plot(dir, rows) })
		},
	}
}
