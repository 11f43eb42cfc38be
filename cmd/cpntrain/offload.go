package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/rl/envs/mec"
	"github.com/cpntrain/cpntrain/train/mecrun"
)

func offloadCommand() *cli.Command {
	return &cli.Command{
		Name:  "offload",
		Usage: "computation offloading (patent 004): local vs edge, latency vs battery energy, against the exact optimum",
		Subcommands: []*cli.Command{{
			Name:      "bench",
			Usage:     "every method's cost relative to the exact optimum, per number of devices",
			UsageText: "cpntrain offload bench [--devices 5,10,15,20,30] [--sets 20] [--dqn-steps 0]",
			Description: "Draws --sets held-out task sets per size (rl/envs/mec defaults; sources in its docs) and\n" +
				"scores the exact optimum (every 2^D offloading vector, up to 24 devices; coordinate descent\n" +
				"beyond), the greedy ordering with the exact cost model, all local, all offload, random and,\n" +
				"with --dqn-steps N, the DQN trained for N steps per size. Prints a Markdown table.",
			Flags: []cli.Flag{
				&cli.IntSliceFlag{Name: "devices", Value: cli.NewIntSlice(5, 10, 15, 20, 30), Usage: "numbers of devices D"},
				&cli.IntFlag{Name: "sets", Value: 20, Usage: "held-out task sets per size"},
				&cli.Int64Flag{Name: "dqn-steps", Value: 0, Usage: "train a DQN per size for this many steps (0: baselines only)"},
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
				w := infoWriter(c)
				rows, err := mecrun.Bench(c.Context, mecrun.BenchConfig{Devices: devs, Sets: c.Int("sets"), DQNSteps: c.Int64("dqn-steps"),
					Seed: uint64(globalsFrom(c).Seed)}, func(s string) { fmt.Fprintln(w, s) })
				if err != nil {
					return err
				}
				mecrun.WriteMarkdown(c.App.Writer, rows, c.Int("sets"))
				return nil
			},
		}},
	}
}
