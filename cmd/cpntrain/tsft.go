package main

import (
	"fmt"
	"os"
	"path/filepath"
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
	}
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
			"budget, the rest come from the 900-cell training pool), then pseudo-labelling --pseudo\n" +
			"unmeasured cells with the fine-tuned model and training again. The prediction blends the\n" +
			"network with a layer-wise model (ridge regression on operation counts) with a weight chosen\n" +
			"by --blend-folds cross-validation on the measured cells (--blend-folds 0: the paper's\n" +
			"TSFT alone; see docs/tsft.md for why). Prints the normalised MSE\n" +
			"and Spearman ρ on the query set (every unmeasured cell from index 900 on) and the stage\n" +
			"times, and writes the adapted model to the run folder (--out). Pretraining resumes after an\n" +
			"interruption (see 'tsft pretrain --help'); the adaptation itself takes seconds and restarts.",
		Flags: append(tsftFlags(),
			&cli.StringFlag{Name: "device", Usage: "target device (e.g. fpga, raspi4, pixel2; 'cpntrain tsft --device list' lists them)"},
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
		}},
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
	if dev == "" || dev == "list" {
		msg := "give the target device with --device, e.g. 'cpntrain tsft --device fpga'. Devices: "
		for i, d := range nasbench201.Devices() {
			if i > 0 {
				msg += ", "
			}
			msg += d
		}
		return &usageError{msg: msg + ".", cmd: c.Command.HelpName}
	}
	if !isNASDevice(dev) {
		return &usageError{msg: fmt.Sprintf("unknown device %q. Known devices: %v.", dev, nasbench201.Devices()), cmd: c.Command.HelpName}
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
	rep, err := tsftrun.RunAdapt(c.Context, tsftrun.AdaptRun{RunConfig: tsftRunConfig(c, "tsft-"+dev), Device: dev, Shots: shots, Adapt: cfg,
		Seed: uint64(globalsFrom(c).Seed)})
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
