package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/internal/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "benchmarks that print tables for closing notes and papers",
		Description: "Each subcommand measures side by side in one invocation and prints a Markdown table;\n" +
			"with --out it also writes the result as JSON into that folder.",
		Subcommands: []*cli.Command{benchEngineCommand(), benchLatencyCommand(), benchRLMSCommand(), benchOffloadCommand(), benchDSPPOCommand(), benchDecimaCommand(), benchServeCommand()},
	}
}

func benchEngineCommand() *cli.Command {
	return &cli.Command{
		Name:  "engine",
		Usage: "time the engine: MLP train step and batch-1 inference, f32 matmul 256³; PyTorch alongside when available",
		Description: "Measures the MLP 32→64→64→8 (ReLU) as an Adam train step at batch 64 and as batch-1\n" +
			"inference on a no-tape path, and f32 matmul 256×256×256 in GFLOP/s. Each number is the\n" +
			"median of --rounds rounds of at least --min-time. When the Python interpreter has torch\n" +
			"(Debian python3-torch), the same model runs in PyTorch on one thread in the same\n" +
			"invocation and the table shows the speed-ups against the goals.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "rounds", Value: 5, Usage: "timed rounds per measurement (median reported)"},
			&cli.DurationFlag{Name: "min-time", Value: 200 * time.Millisecond, Usage: "minimum duration of one round"},
			&cli.StringFlag{Name: "python", Value: "/usr/bin/python3", Usage: "interpreter for the PyTorch side (\"\" to skip it)"},
			&cli.StringFlag{Name: "script", Usage: "path of scripts/bench/engine_torch.py (default: found from the working directory)"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			if c.Int("rounds") <= 0 || c.Duration("min-time") <= 0 {
				return &usageError{msg: "--rounds and --min-time must be positive, e.g. 'cpntrain bench engine --rounds 5 --min-time 200ms'", cmd: "cpntrain bench engine"}
			}
			g := globalsFrom(c)
			var log io.Writer = c.App.ErrWriter
			if g.Quiet {
				log = io.Discard
			}
			res, err := bench.Engine(c.Context, bench.EngineOptions{
				Rounds:  c.Int("rounds"),
				MinTime: c.Duration("min-time"),
				Python:  c.String("python"),
				Script:  c.String("script"),
			}, log)
			if err != nil {
				return err
			}
			res.Markdown(c.App.Writer)
			if g.Out != "" {
				if err := os.MkdirAll(g.Out, 0o755); err != nil {
					return err
				}
				b, _ := json.MarshalIndent(res, "", "  ")
				if err := os.WriteFile(filepath.Join(g.Out, "bench-engine.json"), append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// benchOffloadCommand is `cpntrain offload bench` under the bench group.
func benchOffloadCommand() *cli.Command {
	c := offloadBenchCommand()
	c.Name = "offload"
	return c
}
