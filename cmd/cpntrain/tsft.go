package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/runlog"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

func tsftFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cache", Usage: "folder of cached pretrained base models (default: <user cache>/cpntrain/models)"},
		&cli.IntFlag{Name: "epochs", Value: tsftrun.DefaultPretrainConfig().Epochs, Usage: "pretraining epochs over the training devices"},
		&cli.IntFlag{Name: "gnn-dim", Value: tsft.DefaultConfig().GNNDim, Usage: "width of the GCN encoder over the cell graph (0: one-hot edge operations only)"},
		&cli.BoolFlag{Name: "prior", Value: tsft.DefaultConfig().Prior, Usage: "give the base model the layer-wise prior (a ridge fit of the reference latencies on operation counts) as an input"},
	}
}

// selectFlags are the settings of the cross-validated selection of the
// adapted predictor (tsftrun.Select).
func selectFlags() []cli.Flag {
	d := tsftrun.DefaultSelectConfig()
	return []cli.Flag{
		&cli.IntFlag{Name: "select-folds", Value: d.Folds, Usage: "cross-validation folds choosing the adapted predictor (0: leave-one-out)"},
		&cli.IntFlag{Name: "select-repeats", Value: d.Repeats, Usage: "cross-validations (different folds) averaged"},
		&cli.Float64Flag{Name: "select-se", Value: d.SE, Usage: "standard errors by which a candidate must beat the calibrated base model (0: the lowest error wins)"},
		&cli.StringFlag{Name: "select-steps", Value: "20,50,100", Usage: "fine-tune step counts tried (comma-separated, increasing)"},
		&cli.StringFlag{Name: "select-weights", Value: "1,0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0", Usage: "blend weights W of W·candidate + (1−W)·layer-wise tried ('1': no blend)"},
		&cli.BoolFlag{Name: "select-pseudo", Usage: "also try TSFT's pseudo-labelled stage 2 (one stage-2 run per fold: several times slower)"},
		&cli.BoolFlag{Name: "select-rank-guard", Value: d.RankGuard, Usage: "only candidates ranking the measured cells (cross-validated Kendall τ) at least as well as the base model"},
	}
}

// selectConfig reads selectFlags.
func selectConfig(c *cli.Context) (tsftrun.SelectConfig, error) {
	cfg := tsftrun.DefaultSelectConfig()
	cfg.Folds, cfg.Repeats, cfg.SE, cfg.RankGuard = c.Int("select-folds"), c.Int("select-repeats"), c.Float64("select-se"), c.Bool("select-rank-guard")
	cfg.Pseudo = c.Bool("select-pseudo")
	steps, err := parseInts(c.String("select-steps"), "select-steps", 1)
	if err != nil || !slices.IsSorted(steps) || len(steps) > 20 || slices.Max(steps) > 100000 {
		return cfg, &usageError{msg: "--select-steps must list up to 20 increasing step counts between 1 and 100000.", cmd: c.Command.HelpName}
	}
	cfg.Steps = steps
	cfg.Weights = nil
	for _, f := range strings.Split(c.String("select-weights"), ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || !(v >= 0 && v <= 1) {
			return cfg, &usageError{msg: fmt.Sprintf("--select-weights: %q is not a weight between 0 and 1.", f), cmd: c.Command.HelpName}
		}
		cfg.Weights = append(cfg.Weights, float32(v))
	}
	if cfg.Weights[0] != 1 {
		cfg.Weights = append([]float32{1}, cfg.Weights...)
	}
	if cfg.Folds < 0 || cfg.Folds == 1 || cfg.Folds > 1000 {
		return cfg, &usageError{msg: "--select-folds must be 0 (leave-one-out) or between 2 and 1000.", cmd: c.Command.HelpName}
	}
	if cfg.Repeats < 1 || cfg.Repeats > 100 {
		return cfg, &usageError{msg: "--select-repeats must be between 1 and 100.", cmd: c.Command.HelpName}
	}
	if !(cfg.SE >= 0 && cfg.SE <= 100) {
		return cfg, &usageError{msg: "--select-se must be between 0 and 100.", cmd: c.Command.HelpName}
	}
	return cfg, nil
}

func tsftCommand() *cli.Command {
	ad := tsftrun.DefaultAdaptConfig()
	return &cli.Command{
		Name:  "tsft",
		Usage: "adapt the TSFT latency predictor to a device from a few measured samples",
		UsageText: "cpntrain tsft --device fpga [--shots 50] [--pseudo 1000] [--seed 1]\n" +
			"cpntrain tsft pretrain [--epochs 8]",
		Description: "Predicts the latency of NAS-Bench-201 cells on a device (HELP's measurements, 27 devices).\n" +
			"Loads the pretrained base model from the cache (or pretrains it on the 18 training devices\n" +
			"and caches it), then adapts it to --device in two stages: fine-tuning on --shots measured\n" +
			"cells (the 10 reference architectures that form the device embedding count toward the\n" +
			"budget, the rest come from the 900-cell training pool; from 20 shots on one of them is a\n" +
			"dead cell). With --method select (the default) the adapted predictor is chosen by\n" +
			"cross-validation on the measured cells only, among the base model (calibrated to the\n" +
			"device's scale), the model fine-tuned for 20, 50 or 100 steps, the base model with a\n" +
			"layer-wise correction, and each blended with a layer-wise model (ridge regression on\n" +
			"operation counts); a candidate must beat the base model by --select-se standard errors, so\n" +
			"an adaptation that does not measurably help leaves the base model's ranking. The choice\n" +
			"is printed. --method tsft runs the paper's two stages instead: fine-tuning, then\n" +
			"pseudo-labelling --pseudo unmeasured cells and training again, blended with the\n" +
			"layer-wise model by --blend-folds cross-validation (0: the paper's TSFT alone).\n" +
			"See docs/tsft.md for the measurements behind these choices. Prints the normalised MSE\n" +
			"and Spearman ρ on the query set (every unmeasured cell from index 900 on) and the stage\n" +
			"times, and writes the adapted model to the run folder (--out). Pretraining resumes after an\n" +
			"interruption (see 'tsft pretrain --help'); the adaptation itself takes seconds and restarts.",
		Flags: append(append(tsftFlags(), selectFlags()...),
			&cli.StringFlag{Name: "device", Usage: "target device (e.g. fpga, raspi4, pixel2; 'cpntrain tsft --device list' lists them); with --measurements, the name of your device"},
			&cli.StringFlag{Name: "measurements", Usage: "your own device's measurements: a CSV of 'architecture string,latency in ms' lines that includes the 10 reference architectures (docs/tsft.md); replaces --shots"},
			&cli.StringFlag{Name: "method", Value: "select", Usage: "'select' (cross-validated choice) or 'tsft' (the paper's two stages + blend)"},
			&cli.IntFlag{Name: "shots", Value: 50, Usage: "measured samples of the target device (≥ 10)"},
			&cli.IntFlag{Name: "pseudo", Value: ad.Pseudo, Usage: "pseudo-labelled cells of stage 2 (0 skips it)"},
			&cli.IntFlag{Name: "blend-folds", Value: ad.BlendFolds, Usage: "cross-validation folds choosing the TSFT / layer-wise blend weight (0: TSFT alone)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the run (same as the global --seed)"},
			forceFlag(),
		),
		Subcommands: []*cli.Command{{
			Name:  "pretrain",
			Usage: "build (or rebuild) the cached base model on the training devices",
			Description: "Pretrains the base model on the 18 training devices (all 15,625 cells each) and saves it in --cache.\n" +
				"The pretraining state is saved after every epoch next to the cached model: an interrupted\n" +
				"run (Ctrl-C, SIGTERM, kill) resumes from the last finished epoch when run again with the\n" +
				"same --out (or by any command that needs that base model).",
			Flags:  append(tsftFlags(), forceFlag()),
			Action: tsftPretrain,
		}, tsftPredictCommand()},
		Action: tsftAdapt,
	}
}

func cacheDir(c *cli.Context) string {
	if d := c.String("cache"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "cpntrain", "models")
}

func baseSpec(c *cli.Context) tsftrun.BaseSpec {
	mc := tsft.DefaultConfig()
	mc.GNNDim = c.Int("gnn-dim")
	mc.Prior = c.Bool("prior")
	pc := tsftrun.DefaultPretrainConfig()
	pc.Epochs = c.Int("epochs")
	return tsftrun.BaseSpec{Model: mc, Pretrain: pc, Devices: tsftrun.DefaultSplit().Train, Seed: uint64(globalsFrom(c).Seed)}
}

func checkBaseFlags(c *cli.Context) error {
	if c.Int("epochs") <= 0 || c.Int("epochs") > 10000 {
		return &usageError{msg: "--epochs must be between 1 and 10000.", cmd: c.Command.HelpName}
	}
	if c.Int("gnn-dim") < 0 || c.Int("gnn-dim") > 4096 {
		return &usageError{msg: "--gnn-dim must be 0 (off) or between 1 and 4096.", cmd: c.Command.HelpName}
	}
	return nil
}

func pretrainProgress(c *cli.Context, total int) (tsftrun.Progress, func()) {
	p := runlog.NewProgress(c.App.ErrWriter, total, "pretrain", globalsFrom(c).Quiet)
	return func(ep, n int, loss float64) { p.Add(1, fmt.Sprintf("loss=%.3g", loss)) }, p.Finish
}

// tsftRunConfig is what both TSFT commands share.
func tsftRunConfig(c *cli.Context, name string) tsftrun.RunConfig {
	g := globalsFrom(c)
	dir := g.Out
	if dir == "" {
		dir = defaultRunDir(name, time.Now())
	}
	return tsftrun.RunConfig{DataDir: g.DataDir, Spec: baseSpec(c), CacheDir: cacheDir(c), Dir: dir,
		Record: func(settings any) any { return runRecord(c, name, settings) }, Force: c.Bool("force"),
		Log: infoWriter(c), Quiet: g.Quiet}
}

func tsftPretrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkBaseFlags(c); err != nil {
		return err
	}
	if err := ensureData(c, "nasbench201"); err != nil {
		return err
	}
	rep, err := tsftrun.RunPretrain(c.Context, tsftRunConfig(c, "tsft-pretrain"))
	if err != nil {
		return err
	}
	rep.Write(c.App.Writer)
	return nil
}

func tsftAdapt(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkBaseFlags(c); err != nil {
		return err
	}
	dev := c.String("device")
	meas := c.String("measurements")
	if meas != "" {
		if c.IsSet("shots") {
			return &usageError{msg: "--shots does not apply with --measurements: every measured cell is used.", cmd: c.Command.HelpName}
		}
		if _, err := os.Stat(meas); err != nil {
			return &usageError{msg: fmt.Sprintf("--measurements: %v.", err), cmd: c.Command.HelpName}
		}
		if dev == "" {
			dev = strings.TrimSuffix(filepath.Base(meas), filepath.Ext(meas))
		}
		if dev == "" || strings.ContainsAny(dev, "/\\ ") {
			return &usageError{msg: fmt.Sprintf("--device %q: name the measured device with letters, digits, '-' or '_'.", dev), cmd: c.Command.HelpName}
		}
	} else if dev == "" || dev == "list" {
		msg := "give the target device with --device, e.g. 'cpntrain tsft --device fpga'. Devices: "
		for i, d := range nasbench201.Devices() {
			if i > 0 {
				msg += ", "
			}
			msg += d
		}
		return &usageError{msg: msg + ".", cmd: c.Command.HelpName}
	}
	if meas == "" && !isNASDevice(dev) {
		return &usageError{msg: fmt.Sprintf("unknown device %q. Known devices: %v (or bring your own with --measurements FILE).", dev, nasbench201.Devices()), cmd: c.Command.HelpName}
	}
	shots, pseudo := c.Int("shots"), c.Int("pseudo")
	if shots < nasbench201.NumRefs || shots > tsftrun.TrainPool {
		return &usageError{msg: fmt.Sprintf("--shots must be between %d (the reference architectures) and %d (the training pool).", nasbench201.NumRefs, tsftrun.TrainPool), cmd: c.Command.HelpName}
	}
	if pseudo < 0 || pseudo > nasbench201.NumArchs {
		return &usageError{msg: fmt.Sprintf("--pseudo must be between 0 and %d (the cells).", nasbench201.NumArchs), cmd: c.Command.HelpName}
	}
	if bf := c.Int("blend-folds"); bf < 0 || bf == 1 || bf > shots {
		return &usageError{msg: "--blend-folds must be 0 (no blend) or between 2 and --shots.", cmd: c.Command.HelpName}
	}
	cfg := tsftrun.DefaultAdaptConfig()
	cfg.Pseudo, cfg.BlendFolds = pseudo, c.Int("blend-folds")
	var sel *tsftrun.SelectConfig
	switch c.String("method") {
	case "select":
		sc, err := selectConfig(c)
		if err != nil {
			return err
		}
		sel = &sc
	case "tsft":
	default:
		return &usageError{msg: fmt.Sprintf("--method must be 'select' or 'tsft', not %q.", c.String("method")), cmd: c.Command.HelpName}
	}
	if err := ensureData(c, "nasbench201"); err != nil {
		return err
	}
	rep, err := tsftrun.RunAdapt(c.Context, tsftrun.AdaptRun{RunConfig: tsftRunConfig(c, "tsft-"+dev), Device: dev, Shots: shots, Adapt: cfg,
		Select: sel, Seed: uint64(globalsFrom(c).Seed), MeasurementsFile: meas})
	if rep.ModelPath != "" && err == nil {
		rep.Write(c.App.Writer)
	}
	return err
}

func isNASDevice(name string) bool {
	for _, d := range nasbench201.Devices() {
		if d == name {
			return true
		}
	}
	return false
}
