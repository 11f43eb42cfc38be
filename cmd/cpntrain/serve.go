package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/internal/serve"
	"github.com/cpntrain/cpntrain/train/serverun"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve trained models over the Open Inference Protocol (KServe v2 / Triton), REST and gRPC",
		UsageText: "cpntrain serve --model NAME=FILE [--model NAME=FILE …] [--http :8000] [--grpc :8001]",
		Description: "Loads each --model checkpoint and answers the Open Inference Protocol:\n" +
			"  REST  GET /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME[/versions/V][/ready],\n" +
			"        POST /v2/models/NAME[/versions/V]/infer (JSON tensors); Prometheus metrics on /metrics\n" +
			"  gRPC  inference.GRPCInferenceService (ServerLive, ServerReady, ModelReady, ServerMetadata,\n" +
			"        ModelMetadata, ModelInfer)\n" +
			"Servable models: " + strings.Join(serverun.Kinds, ", ") + ". An RLMS-CPN policy takes \"observation\"\n" +
			"(BYTES: the controller's observation as JSON) and answers \"node\" and \"ratios\"; a TSFT\n" +
			"predictor takes \"arch\" (BYTES: architecture strings) and answers \"latency\" and \"latency_ms\".\n" +
			"See docs/serve.md. SIGHUP reloads every model file (requests in flight finish on the version\n" +
			"they started with; a file that fails to load keeps its previous version). SIGINT/SIGTERM stop\n" +
			"accepting, finish the requests in flight (up to --grace) and exit.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "model", Usage: "NAME=FILE: serve the checkpoint FILE as model NAME (repeatable)"},
			&cli.StringFlag{Name: "http", Value: ":8000", Usage: "REST listen address ('' or 'off': no REST)"},
			&cli.StringFlag{Name: "grpc", Value: ":8001", Usage: "gRPC listen address ('' or 'off': no gRPC)"},
			&cli.Int64Flag{Name: "max-body-bytes", Value: 4 << 20, Usage: "largest REST request body and gRPC message"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "deadline of one inference (0: none)"},
			&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, Usage: "how long shutdown waits for the requests in flight"},
		},
		Action: serveAction,
	}
}

// parseModelFlags reads the NAME=FILE values of --model.
func parseModelFlags(c *cli.Context) ([]serve.ModelFile, error) {
	var out []serve.ModelFile
	for _, v := range c.StringSlice("model") {
		name, file, ok := strings.Cut(v, "=")
		if !ok || name == "" || file == "" || strings.ContainsAny(name, "/ ") {
			return nil, &usageError{msg: fmt.Sprintf("--model %q: want NAME=FILE (a name without '/' or spaces).", v), cmd: c.Command.HelpName}
		}
		out = append(out, serve.ModelFile{Name: name, Path: file})
	}
	if len(out) == 0 {
		return nil, &usageError{msg: "no model to serve: give --model NAME=FILE.", cmd: c.Command.HelpName}
	}
	return out, nil
}

func serveAction(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	models, err := parseModelFlags(c)
	if err != nil {
		return err
	}
	if c.Int64("max-body-bytes") < 1024 || c.Int64("max-body-bytes") > 1<<30 {
		return &usageError{msg: "--max-body-bytes must be between 1024 and 1 GiB.", cmd: c.Command.HelpName}
	}
	if c.Duration("timeout") < 0 || c.Duration("grace") < 0 {
		return &usageError{msg: "--timeout and --grace must not be negative.", cmd: c.Command.HelpName}
	}
	off := func(a string) bool { return a == "" || a == "off" }
	if off(c.String("http")) && off(c.String("grpc")) {
		return &usageError{msg: "--http and --grpc are both off: nothing to serve on.", cmd: c.Command.HelpName}
	}
	s, err := serve.New(serve.Config{Models: models, Load: serverun.Load, MaxBodyBytes: c.Int64("max-body-bytes"),
		Timeout: c.Duration("timeout"), Name: "cpntrain", Version: version})
	if err != nil {
		return err
	}
	var hl, gl net.Listener
	if !off(c.String("http")) {
		if hl, err = net.Listen("tcp", c.String("http")); err != nil {
			return fmt.Errorf("--http %s: %w", c.String("http"), err)
		}
	}
	if !off(c.String("grpc")) {
		if gl, err = net.Listen("tcp", c.String("grpc")); err != nil {
			if hl != nil {
				hl.Close()
			}
			return fmt.Errorf("--grpc %s: %w", c.String("grpc"), err)
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	reload := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	fmt.Fprintf(c.App.ErrWriter, "serving %s\n", strings.Join(s.Models(), ", "))
	return s.Run(ctx, hl, gl, reload, c.Duration("grace"), c.App.ErrWriter)
}
