package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/rl/smoke"
	"github.com/cpntrain/cpntrain/train/runlog"
)

// smokeStateFile is the resumable state of an rl smoke run.
const smokeStateFile = "train-state.safetensors"

func rlCommand() *cli.Command {
	return &cli.Command{
		Name:  "rl",
		Usage: "reinforcement-learning trainers on known-answer environments",
		Subcommands: []*cli.Command{{
			Name:      "smoke",
			Usage:     "train one algorithm on one known-answer environment and summarise the learning curve",
			UsageText: "cpntrain rl smoke --algo ppo|dqn|ac|pg --env cartpole|bandit|chain|split [--steps N]",
			Description: "Trains with the algorithm's CleanRL defaults, logs metrics (CleanRL names) to the run\n" +
				"folder, then prints the mean training return in each fifth of training, the greedy\n" +
				"evaluation return against the environment's known optimum, and steps per second.\n" +
				"An interrupted run (Ctrl-C, SIGTERM, kill) resumes when run again with the same --out.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "algo", Usage: "trainer: " + strings.Join(smoke.Algos, ", "), Required: true},
				&cli.StringFlag{Name: "env", Usage: "environment: " + strings.Join(smoke.Envs, ", "), Required: true},
				&cli.Int64Flag{Name: "steps", Usage: "environment steps (0: a budget that reaches the optimum)"},
				&cli.IntFlag{Name: "checkpoint-every", Value: 10, Usage: "updates (ppo: iterations; dqn: thousands of steps) between resumable checkpoints (0: only when interrupted)"},
				forceFlag(),
			},
			Action: func(c *cli.Context) error {
				if err := exactArgs(c); err != nil {
					return err
				}
				algo, env := c.String("algo"), c.String("env")
				if !slices.Contains(smoke.Algos, algo) {
					return &usageError{msg: fmt.Sprintf("unknown --algo %q; available: %s.", algo, strings.Join(smoke.Algos, ", ")), cmd: c.Command.HelpName}
				}
				if !slices.Contains(smoke.Envs, env) {
					return &usageError{msg: fmt.Sprintf("unknown --env %q; available: %s.", env, strings.Join(smoke.Envs, ", ")), cmd: c.Command.HelpName}
				}
				if c.Int64("steps") < 0 {
					return &usageError{msg: "--steps must be positive (or 0 for the default).", cmd: c.Command.HelpName}
				}
				if c.Int("checkpoint-every") < 0 {
					return &usageError{msg: "--checkpoint-every must not be negative.", cmd: c.Command.HelpName}
				}
				g := globalsFrom(c)
				o := smoke.Options{Algo: algo, Env: env, Steps: c.Int64("steps"), Seed: uint64(g.Seed)}
				o.Checkpoint.Every = int64(c.Int("checkpoint-every"))
				name := "rl-smoke-" + algo + "-" + env
				dir := g.Out
				if dir == "" {
					dir = defaultRunDir(name, time.Now())
				}
				settings := map[string]any{"algo": algo, "env": env, "steps": o.Budget(), "seed": o.Seed}
				o.Checkpoint.Path = filepath.Join(dir, smokeStateFile)
				run, err := runlog.Start(dir, runlog.StartOptions{Config: runRecord(c, name, settings), Settings: settings, Force: c.Bool("force"),
					Checkpoint: func() (int64, bool, error) { return checkpoints.StepOf(o.Checkpoint.Path) }})
				if err != nil {
					return err
				}
				if !g.Quiet {
					fmt.Fprintln(c.App.ErrWriter, run.Describe())
				}
				o.Checkpoint.Before = run.Sync
				prog := runlog.NewProgress(c.App.ErrWriter, int(o.Budget()), "train", g.Quiet)
				var last int64
				if run.Resumed {
					last = run.ResumeStep
					prog.Add(int(last), "")
				}
				rep, err := smoke.Run(c.Context, o, func(step int64, m map[string]float64) {
					run.Scalars(step, m)
					if step > last {
						prog.Add(int(step-last), "")
						last = step
					}
				})
				prog.Finish()
				if err = run.End(err); err != nil {
					return err
				}
				rep.Print(c.App.Writer)
				return nil
			},
		}},
	}
}
