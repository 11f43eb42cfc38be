package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/train/serverun"
)

func benchServeCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "load-test the decision service: throughput and p50/p99/p99.9 over REST and gRPC next to a minimal Go JSON handler",
		UsageText: "cpntrain bench serve --policy FILE [--predictor FILE] [--clients 64] [--requests 50000] [--duration 20s]",
		Description: "Serves --policy (an RLMS-CPN checkpoint from 'rlms train') and --predictor (a TSFT predictor\n" +
			"from 'tsft', optional) on loopback as 'cpntrain serve' does, and sends them --requests requests\n" +
			"from --clients concurrent clients (at most --duration per row): RLMS-CPN decisions on\n" +
			"observations of the simulator over REST and gRPC, the same over REST while the models are\n" +
			"reloaded every --reload, TSFT latencies. The first row is a minimal Go handler decoding and\n" +
			"answering a small JSON body on the same machine: the ceiling of JSON over HTTP here. Client\n" +
			"and server share the machine's cores. Writes serve.md in the run folder.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "policy", Usage: "RLMS-CPN checkpoint (model.safetensors of an 'rlms train' run; required)"},
			&cli.StringFlag{Name: "predictor", Usage: "TSFT predictor (tsft-DEVICE.safetensors of a 'tsft' run; optional)"},
			&cli.IntFlag{Name: "clients", Value: 64, Usage: "concurrent clients"},
			&cli.IntFlag{Name: "requests", Value: 50000, Usage: "requests per row"},
			&cli.DurationFlag{Name: "duration", Value: 20 * time.Second, Usage: "longest time per row"},
			&cli.DurationFlag{Name: "reload", Value: 200 * time.Millisecond, Usage: "reload the models this often during the reload row (0: no such row)"},
		},
		Action: func(c *cli.Context) (err error) {
			if err := exactArgs(c); err != nil {
				return err
			}
			cfg := serverun.BenchConfig{Policy: c.String("policy"), Predictor: c.String("predictor"), DataDir: globalsFrom(c).DataDir,
				Clients: c.Int("clients"), Requests: c.Int("requests"), Duration: c.Duration("duration"), Reload: c.Duration("reload")}
			switch {
			case cfg.Policy == "":
				return &usageError{msg: "--policy is required: an RLMS-CPN checkpoint ('cpntrain rlms train' writes model.safetensors).", cmd: c.Command.HelpName}
			case cfg.Clients < 1 || cfg.Clients > 4096:
				return &usageError{msg: "--clients must be between 1 and 4096.", cmd: c.Command.HelpName}
			case cfg.Requests < 1 || cfg.Requests > 100_000_000:
				return &usageError{msg: "--requests must be between 1 and 100,000,000.", cmd: c.Command.HelpName}
			case cfg.Duration <= 0 || cfg.Reload < 0:
				return &usageError{msg: "--duration must be positive and --reload not negative.", cmd: c.Command.HelpName}
			}
			if err := ensureData(c, "topologies", "nasbench201"); err != nil { // the observations' network
				return err
			}
			run, err := openRun(c, "bench-serve", cfg)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, run.Close()) }()
			log := c.App.ErrWriter
			if globalsFrom(c).Quiet {
				log = io.Discard
			}
			start := time.Now()
			rows, err := serverun.Bench(c.Context, cfg, log)
			if err != nil {
				return err
			}
			return writeReport(c, filepath.Join(run.Dir(), "serve.md"), start, func(w io.Writer) {
				fmt.Fprintln(w, "## cpntrain serve under load")
				fmt.Fprintln(w)
				serverun.WriteBench(w, rows, cfg)
			})
		},
	}
}
