package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
			"by --blend-folds-fold cross-validation on the measured cells (--blend-folds 0: the paper's\n" +
			"TSFT alone; see docs/tsft.md for why). Prints the normalised MSE\n" +
			"and Spearman ρ on the query set (every unmeasured cell from index 900 on) and the stage\n" +
			"times, and writes the adapted model to the run folder (--out).",
		Flags: append(tsftFlags(),
			&cli.StringFlag{Name: "device", Usage: "target device (e.g. fpga, raspi4, pixel2; 'cpntrain tsft --device list' lists them)"},
			&cli.IntFlag{Name: "shots", Value: 50, Usage: "measured samples of the target device (≥ 10)"},
			&cli.IntFlag{Name: "pseudo", Value: ad.Pseudo, Usage: "pseudo-labelled cells of stage 2 (0 skips it)"},
			&cli.IntFlag{Name: "blend-folds", Value: ad.BlendFolds, Usage: "cross-validation folds choosing the TSFT / layer-wise blend weight (0: TSFT alone)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the run (same as the global --seed)"},
		),
		Subcommands: []*cli.Command{{
			Name:        "pretrain",
			Usage:       "build (or rebuild) the cached base model on the training devices",
			Description: "Pretrains the base model on the 18 training devices (all 15,625 cells each) and saves it in --cache.",
			Flags:       tsftFlags(),
			Action:      tsftPretrain,
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

// loadLatencyEnv reads the NAS-Bench-201 latency data from the data dir.
func loadLatencyEnv(c *cli.Context) (*tsftrun.Env, error) {
	g := globalsFrom(c)
	dir := filepath.Join(g.DataDir, nasbench201.DirName)
	d, err := nasbench201.Load(dir)
	if err != nil {
		return nil, err
	}
	return tsftrun.NewEnv(d)
}

func baseSpec(c *cli.Context) tsftrun.BaseSpec {
	mc := tsft.DefaultConfig()
	mc.GNNDim = c.Int("gnn-dim")
	pc := tsftrun.DefaultPretrainConfig()
	pc.Epochs = c.Int("epochs")
	return tsftrun.BaseSpec{Model: mc, Pretrain: pc, Devices: tsftrun.DefaultSplit().Train, Seed: uint64(globalsFrom(c).Seed)}
}

func checkBaseFlags(c *cli.Context) error {
	if c.Int("epochs") <= 0 {
		return &usageError{msg: "--epochs must be positive.", cmd: c.Command.HelpName}
	}
	if c.Int("gnn-dim") < 0 {
		return &usageError{msg: "--gnn-dim must be 0 (off) or positive.", cmd: c.Command.HelpName}
	}
	return nil
}

func pretrainProgress(c *cli.Context, total int) (tsftrun.Progress, func()) {
	p := runlog.NewProgress(c.App.ErrWriter, total, "pretrain", globalsFrom(c).Quiet)
	return func(ep, n int, loss float64) { p.Add(1, fmt.Sprintf("loss=%.3g", loss)) }, p.Finish
}

func getBase(c *cli.Context, env *tsftrun.Env, rebuild bool) (*tsft.Model, error) {
	spec := baseSpec(c)
	dir := cacheDir(c)
	prog, done := pretrainProgress(c, spec.Pretrain.Epochs)
	if rebuild {
		run, err := openRun(c, "tsft-pretrain", spec)
		if err != nil {
			return nil, err
		}
		logged := func(ep, n int, loss float64) {
			prog(ep, n, loss)
			run.Scalar("losses/pretrain_mse", int64(ep), loss)
		}
		start := time.Now()
		m, err := tsftrun.PretrainBase(c.Context, env, spec, logged)
		done()
		if cerr := run.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, spec.CacheName())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := tsftrun.SaveModel(path, m, spec, 0); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.App.Writer, "pretrained on %d devices in %.1f s → %s\n", len(spec.Devices), time.Since(start).Seconds(), path)
		return m, nil
	}
	start := time.Now()
	m, path, loaded, err := tsftrun.LoadOrPretrain(c.Context, env, spec, dir, prog)
	if !loaded {
		done()
	}
	if err != nil {
		return nil, err
	}
	if loaded {
		fmt.Fprintf(c.App.ErrWriter, "base model: %s (cached)\n", path)
	} else {
		fmt.Fprintf(c.App.ErrWriter, "base model: pretrained in %.1f s, cached at %s\n", time.Since(start).Seconds(), path)
	}
	return m, nil
}

func tsftPretrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if err := checkBaseFlags(c); err != nil {
		return err
	}
	env, err := loadLatencyEnv(c)
	if err != nil {
		return err
	}
	_, err = getBase(c, env, true)
	return err
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
	if pseudo < 0 {
		return &usageError{msg: "--pseudo must be 0 or positive.", cmd: c.Command.HelpName}
	}
	if bf := c.Int("blend-folds"); bf < 0 || bf == 1 {
		return &usageError{msg: "--blend-folds must be 0 (no blend) or at least 2.", cmd: c.Command.HelpName}
	}
	env, err := loadLatencyEnv(c)
	if err != nil {
		return err
	}
	base, err := getBase(c, env, false)
	if err != nil {
		return err
	}
	g := globalsFrom(c)
	rng := newRand(g.Seed, 0x7a5)
	task, err := env.NewTask(dev, shots, rng)
	if err != nil {
		return err
	}
	cfg := tsftrun.DefaultAdaptConfig()
	cfg.Pseudo = pseudo
	cfg.BlendFolds = c.Int("blend-folds")
	baseMSE, baseRho := task.Score(tsftrun.Predict(base, env.Features, task.Query, task.Device.Emb, nil))
	m, tm, err := tsftrun.Adapt(base, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, cfg, rng)
	if err != nil {
		return err
	}
	mse, rho := task.Score(m.Predict(env.Features, task.Query, nil))
	w := c.App.Writer
	fmt.Fprintf(w, "device %s, %d shots (%d reference + %d pool), %d pseudo-labels, query set %d cells\n",
		dev, shots, nasbench201.NumRefs, shots-nasbench201.NumRefs, cfg.Pseudo, len(task.Query))
	fmt.Fprintf(w, "| model | MSE (normalised) | Spearman ρ |\n|---|---|---|\n")
	fmt.Fprintf(w, "| base model alone | %.5f | %.4f |\n", baseMSE, baseRho)
	label := "TSFT (fine-tune + pseudo-label)"
	switch {
	case m.W < 1 && math.IsInf(m.Add.Lambda, 1):
		label = fmt.Sprintf("TSFT (fine-tune + pseudo-label), scaled by %.1f (no layer-wise model fits these shots)", m.W)
	case m.W < 1:
		label = fmt.Sprintf("TSFT (fine-tune + pseudo-label), blended %.1f·TSFT + %.1f·layer-wise", m.W, 1-m.W)
	}
	fmt.Fprintf(w, "| %s | %.5f | %.4f |\n", label, mse, rho)
	fmt.Fprintf(w, "stage 1 (fine-tune) %.0f ms, stage 2 (pseudo-label) %.0f ms, total %.0f ms\n",
		ms(tm.FineTune), ms(tm.Pseudo), ms(tm.FineTune+tm.Pseudo))
	run, err := openRun(c, "tsft-"+dev, map[string]any{"device": dev, "shots": shots, "adapt": cfg, "base": baseSpec(c)})
	if err != nil {
		return err
	}
	run.Scalars(0, map[string]float64{"query/mse": mse, "query/spearman": rho, "query/base_mse": baseMSE, "query/base_spearman": baseRho,
		"time/finetune_s": tm.FineTune.Seconds(), "time/pseudo_s": tm.Pseudo.Seconds()})
	path := filepath.Join(run.Dir(), "tsft-"+dev+".safetensors")
	if err := tsftrun.SaveModel(path, m.Net, map[string]any{"device": dev, "shots": shots, "embedding": task.Device.Emb, "additive": m.Add, "blend_weight": m.W}, int64(cfg.FineTuneSteps+cfg.PseudoSteps)); err != nil {
		return errors.Join(err, run.Close())
	}
	fmt.Fprintf(w, "adapted model: %s\n", path)
	return run.Close()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func isNASDevice(name string) bool {
	for _, d := range nasbench201.Devices() {
		if d == name {
			return true
		}
	}
	return false
}

// newRand returns the run's generator for one purpose (stream), seeded by
// --seed: PCG with the seed and a per-purpose stream constant.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}
