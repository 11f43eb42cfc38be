package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/rl/smoke"
)

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
				"evaluation return against the environment's known optimum, and steps per second.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "algo", Usage: "trainer: " + strings.Join(smoke.Algos, ", "), Required: true},
				&cli.StringFlag{Name: "env", Usage: "environment: " + strings.Join(smoke.Envs, ", "), Required: true},
				&cli.Int64Flag{Name: "steps", Usage: "environment steps (0: a budget that reaches the optimum)"},
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
				g := globalsFrom(c)
				run, err := openRun(c, "rl-smoke-"+algo+"-"+env, map[string]any{"algo": algo, "env": env, "steps": c.Int64("steps")})
				if err != nil {
					return err
				}
				rep, err := smoke.Run(c.Context, smoke.Options{Algo: algo, Env: env, Steps: c.Int64("steps"), Seed: uint64(g.Seed)},
					func(step int64, m map[string]float64) { run.Scalars(step, m) })
				if cerr := run.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				rep.Print(c.App.Writer)
				return nil
			},
		}},
	}
}
