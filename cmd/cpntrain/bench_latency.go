package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/models/baselines"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

func benchLatencyCommand() *cli.Command {
	return &cli.Command{
		Name:  "latency",
		Usage: "TSFT vs base model, BRP-NAS, FLOPS and layer-wise on unseen devices: Markdown, CSV and a PNG plot",
		Description: "For each seed: the base model (cached per seed), then for each device and shot count\n" +
			"TSFT (both stages), TSFT stage 1 only, the base model alone, FLOPS and layer-wise fitted on the\n" +
			"same measured cells, and BRP-NAS trained on --brp-samples cells of the device's training pool;\n" +
			"all scored on the same query set. Writes latency.md, latency.csv and latency.png into --out.",
		Flags: append(tsftFlags(),
			&cli.StringFlag{Name: "devices", Value: strings.Join(tsftrun.DefaultSplit().Test, ","), Usage: "comma-separated target devices"},
			&cli.StringFlag{Name: "shots", Value: "10,20,50", Usage: "comma-separated shot counts (≥ 10)"},
			&cli.IntFlag{Name: "seeds", Value: 5, Usage: "seeds (base model, sample draws, training)"},
			&cli.IntFlag{Name: "brp-samples", Value: 900, Usage: "training samples of BRP-NAS (0 skips it)"},
			&cli.StringFlag{Name: "brp-config", Value: "fast", Usage: "BRP-NAS hyper-parameters: 'paper' (4×600 GCN, batch 1, 250 epochs: about 7–11 min per device and seed here) or 'fast' (4×64, batch 16, 100 epochs: about 5 s; not published)"},
		),
		Action: benchLatency,
	}
}

func parseInts(s, flag string, lo int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < lo {
			return nil, fmt.Errorf("--%s: %q is not an integer ≥ %d", flag, f, lo)
		}
		out = append(out, v)
	}
	return out, nil
}

func benchLatency(c *cli.Context) (err error) {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkBaseFlags(c); err != nil {
		return err
	}
	shots, err := parseInts(c.String("shots"), "shots", 10)
	if err != nil {
		return &usageError{msg: err.Error(), cmd: c.Command.HelpName}
	}
	var devices []string
	for _, d := range strings.Split(c.String("devices"), ",") {
		d = strings.TrimSpace(d)
		if !isNASDevice(d) {
			return &usageError{msg: fmt.Sprintf("unknown device %q in --devices.", d), cmd: c.Command.HelpName}
		}
		devices = append(devices, d)
	}
	if c.Int("seeds") <= 0 || c.Int("brp-samples") < 0 {
		return &usageError{msg: "--seeds must be positive and --brp-samples non-negative.", cmd: c.Command.HelpName}
	}
	var brp baselines.BRPConfig
	switch c.String("brp-config") {
	case "paper":
		brp = baselines.DefaultBRPConfig()
	case "fast":
		brp = baselines.FastBRPConfig()
	default:
		return &usageError{msg: fmt.Sprintf("--brp-config must be 'paper' or 'fast', not %q.", c.String("brp-config")), cmd: c.Command.HelpName}
	}
	env, err := tsftrun.LoadEnv(globalsFrom(c).DataDir)
	if err != nil {
		return err
	}
	g := globalsFrom(c)
	cfg := tsftrun.BenchConfig{
		Devices: devices, Shots: shots, Seeds: c.Int("seeds"), Seed: uint64(g.Seed),
		Base: baseSpec(c), Adapt: tsftrun.DefaultAdaptConfig(), BRP: brp, BRPSamples: c.Int("brp-samples"),
	}
	var log io.Writer = c.App.ErrWriter
	if g.Quiet {
		log = io.Discard
	}
	dir := cacheDir(c)
	pretrainTimes := map[uint64]float64{}
	getBase := func(spec tsftrun.BaseSpec) (*tsft.Model, error) {
		prog, done := pretrainProgress(c, spec.Pretrain.Epochs)
		start := time.Now()
		m, path, loaded, err := tsftrun.LoadOrPretrain(c.Context, env, spec, dir, prog)
		if !loaded {
			done()
			pretrainTimes[spec.Seed] = time.Since(start).Seconds()
			fmt.Fprintf(log, "seed %d: pretrained in %.1f s → %s\n", spec.Seed, time.Since(start).Seconds(), path)
		}
		return m, err
	}
	start := time.Now()
	rs, err := tsftrun.Bench(c.Context, env, cfg, getBase, log)
	if err != nil {
		return err
	}
	run, err := openRun(c, "bench-latency", cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, run.Close()) }()
	md, err := os.Create(filepath.Join(run.Dir(), "latency.md"))
	if err != nil {
		return err
	}
	w := io.MultiWriter(c.App.Writer, md)
	tsftrun.WriteMarkdown(w, rs, cfg)
	if len(pretrainTimes) > 0 {
		fmt.Fprintf(w, "\nPretraining (per seed, not cached): ")
		for s, t := range pretrainTimes {
			fmt.Fprintf(w, "seed %d %.1f s; ", s, t)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nTotal bench time %.0f s. Command: cpntrain %s\n", time.Since(start).Seconds(), strings.Join(os.Args[1:], " "))
	if err := md.Close(); err != nil {
		return err
	}
	cf, err := os.Create(filepath.Join(run.Dir(), "latency.csv"))
	if err != nil {
		return err
	}
	if err := tsftrun.WriteCSV(cf, rs); err != nil {
		cf.Close()
		return err
	}
	if err := cf.Close(); err != nil {
		return err
	}
	if err := tsftrun.PlotMSE(filepath.Join(run.Dir(), "latency.png"), rs, shots, plotDevices(devices)); err != nil {
		return err
	}
	fmt.Fprintf(infoWriter(c), "wrote %s/{latency.md,latency.csv,latency.png}\n", run.Dir())
	return nil
}

// plotDevices returns the devices the MSE bar is stated on when all were
// benchmarked, otherwise the benchmarked ones.
func plotDevices(devices []string) []string {
	for _, d := range tsftrun.MSEDevices {
		if !slices.Contains(devices, d) {
			return devices
		}
	}
	return tsftrun.MSEDevices
}
