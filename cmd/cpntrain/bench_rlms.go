package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/rlmsrun"
)

func benchRLMSCommand() *cli.Command {
	return &cli.Command{
		Name:  "rlms",
		Usage: "RLMS-CPN vs Base1-4, wf, GNN+DQN, the MLP ablation and the oracle: the paper's tables, CSV and PNG plots",
		Description: "Per topology (K = --k, --mix tasks): the baselines and the oracle on --seeds test task streams,\n" +
			"then RLMS-CPN (and with --ablation the MLP encoder, with --dqn the GNN+DQN baseline) trained\n" +
			"once per seed and evaluated on that seed's stream. On the first topology it also varies K\n" +
			"(--ks) and the task mix (--mixes). Writes rlms.md, rlms.csv, rlms-per-task.csv and per-task and learning-curve\n" +
			"PNGs into the run folder.",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "topologies", Value: "abilene,ebone,sprintlink,tiscali", Usage: "comma-separated topologies"},
			&cli.IntFlag{Name: "seeds", Value: 5, Usage: "seeds: trained policies and test task streams"},
			&cli.IntFlag{Name: "k", Value: 5, Usage: "candidate compute nodes per task"},
			&cli.StringFlag{Name: "ks", Value: "3,4,5,6,7", Usage: "candidate counts evaluated on the first topology (\"\": none)"},
			&cli.StringFlag{Name: "mixes", Value: "io,compute", Usage: "task mixes evaluated on the first topology (\"\": none)"},
			&cli.BoolFlag{Name: "ablation", Value: true, Usage: "train the MLP-encoder ablation too"},
			&cli.BoolFlag{Name: "dqn", Value: true, Usage: "train the GNN+DQN baseline too"},
			&cli.BoolFlag{Name: "ppo", Value: true, Usage: "train RLMS-CPN with PPO too (row rlms-ppo; the --algo flag is ignored here)"},
			&cli.Int64Flag{Name: "dqn-steps", Value: 100000, Usage: "GNN+DQN training tasks"},
			&cli.BoolFlag{Name: "sweeps-only", Usage: "run only the --ks and --mixes experiments on the first topology"},
			&cli.BoolFlag{Name: "generalise", Usage: "instead: train RLMS-CPN on each of --topologies and test every model on every topology, next to Base1, Base3, wf and the oracle (writes generalise.md)"},
		}, simFlags()...), trainFlags()...),
		Action: benchRLMS,
	}
}

func benchRLMS(c *cli.Context) (err error) {
	if err := exactArgs(c); err != nil {
		return err
	}
	if c.Int("seeds") < 1 || c.Int("k") < 1 || c.Int64("dqn-steps") < 1 {
		return &usageError{msg: "--seeds, --k and --dqn-steps must be positive.", cmd: c.Command.HelpName}
	}
	var topos []string
	for _, t := range strings.Split(c.String("topologies"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			topos = append(topos, t)
		}
	}
	if len(topos) == 0 {
		return &usageError{msg: "--topologies is empty.", cmd: c.Command.HelpName}
	}
	if err := ensureData(c, "topologies", "nasbench201"); err != nil {
		return err
	}
	if c.String("regime") == "both" {
		return benchRegimes(c, topos)
	}
	r, err := regimeOf(c)
	if err != nil {
		return err
	}
	cfg, pc, err := benchConfig(c, topos, r)
	if err != nil {
		return err
	}
	ec, tc := cfg.Env, cfg.Train
	run, err := openRun(c, "bench-rlms", map[string]any{"bench": cfg, "predictor": pc})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, run.Close()) }()
	log := c.App.ErrWriter
	if globalsFrom(c).Quiet {
		log = io.Discard
	}
	start := time.Now()
	if c.Bool("generalise") {
		gr, err := rlmsrun.Generalise(c.Context, cfg, log)
		if err != nil {
			return err
		}
		return writeReport(c, filepath.Join(run.Dir(), "generalise.md"), start, func(w io.Writer) {
			rlmsrun.WriteGeneralisation(w, gr, cfg.Seeds, ec.Tasks)
			fmt.Fprintf(w, "\nTraining: %d tasks per policy.\n", tc.AC.TotalTimesteps)
		})
	}
	rows, err := rlmsrun.Bench(c.Context, cfg, log)
	if err != nil {
		return err
	}
	if err := writeReport(c, filepath.Join(run.Dir(), "rlms.md"), start, func(w io.Writer) {
		rlmsrun.WriteMarkdown(w, rows, cfg.Seeds, ec.Tasks)
		fmt.Fprintf(w, "Training: %d tasks per policy (%s encoder width %d, prior %v, subset actor %v, %s split); actor-critic γ = %g, Adam %g / %g, %d simulators × %d steps per update; GNN+DQN %d tasks.\n",
			tc.AC.TotalTimesteps, tc.Model.Encoder, tc.Model.Dim, tc.Model.Prior, tc.Model.Subsets, tc.Model.Split, tc.AC.Gamma, tc.AC.LearningRateActor, tc.AC.LearningRateCritic, tc.AC.NumEnvs, tc.AC.NSteps, cfg.DQNSteps)
		if cfg.PPO {
			p := tc.PPO
			fmt.Fprintf(w, "PPO (rlms-ppo): γ = %g, Adam %g (annealed %v), %d simulators × %d steps per iteration, %d epochs × %d minibatches, clip %g, value clip %v, entropy %g.\n",
				p.Gamma, p.LearningRate, p.AnnealLR, p.NumEnvs, p.NumSteps, p.UpdateEpochs, p.NumMinibatches, p.ClipCoef, p.ClipVLoss, p.EntCoef)
		}
	}); err != nil {
		return err
	}
	if err := rlmsrun.WriteCSV(filepath.Join(run.Dir(), "rlms.csv"), rows); err != nil {
		return err
	}
	if err := rlmsrun.WritePerTaskCSV(filepath.Join(run.Dir(), "rlms-per-task.csv"), rows); err != nil {
		return err
	}
	files, err := rlmsrun.Plot(run.Dir(), "", rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(infoWriter(c), "wrote %s/{rlms.md,rlms.csv,rlms-per-task.csv} and %d plots\n", run.Dir(), len(files))
	return nil
}

// benchRegimes runs the bench in the paper's and the realistic regime on
// the same test streams and writes both side by side (regimes.md), then
// each regime's full tables and CSV.
func benchRegimes(c *cli.Context, topos []string) (err error) {
	if c.Bool("generalise") {
		return &usageError{msg: "--generalise runs one regime; pick --regime paper or realistic.", cmd: c.Command.HelpName}
	}
	type result struct {
		reg  regime
		cfg  rlmsrun.BenchConfig
		rows []rlmsrun.Row
	}
	var res []result
	for _, name := range []string{"paper", "realistic"} {
		r, err := regimeNamed(c, name)
		if err != nil {
			return err
		}
		cfg, _, err := benchConfig(c, topos, r)
		if err != nil {
			return err
		}
		res = append(res, result{reg: r, cfg: cfg})
	}
	run, err := openRun(c, "bench-rlms-regimes", map[string]any{"paper": res[0].cfg, "realistic": res[1].cfg})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, run.Close()) }()
	log := c.App.ErrWriter
	if globalsFrom(c).Quiet {
		log = io.Discard
	}
	start := time.Now()
	for i := range res {
		fmt.Fprintf(log, "== regime %s\n", res[i].reg.name)
		if res[i].rows, err = rlmsrun.Bench(c.Context, res[i].cfg, log); err != nil {
			return err
		}
		if err := rlmsrun.WriteCSV(filepath.Join(run.Dir(), "rlms-"+res[i].reg.name+".csv"), res[i].rows); err != nil {
			return err
		}
		if _, err := rlmsrun.Plot(run.Dir(), res[i].reg.name+"-", res[i].rows); err != nil {
			return err
		}
	}
	return writeReport(c, filepath.Join(run.Dir(), "regimes.md"), start, func(w io.Writer) {
		rlmsrun.WriteRegimes(w, res[0].rows, res[1].rows, c.Int("seeds"), res[0].cfg.Env.Tasks)
		for _, r := range res {
			fmt.Fprintf(w, "Regime %s: %s (docs/rlms.md).\n\n", r.reg.name, r.reg.describe(r.cfg.Env.TenantJobMs, r.cfg.Env.BurstSize, r.cfg.Env.BurstMs))
		}
		for _, r := range res {
			fmt.Fprintf(w, "\n## Regime %s\n\n", r.reg.name)
			rlmsrun.WriteMarkdown(w, r.rows, r.cfg.Seeds, r.cfg.Env.Tasks)
		}
	})
}

// benchConfig builds the bench of regime r from the flags: the simulator
// on every topology (checked), the trainer, the controller's predictions,
// the --ks and --mixes sweeps.
func benchConfig(c *cli.Context, topos []string, r regime) (rlmsrun.BenchConfig, *rlmsrun.PredictorConfig, error) {
	var cfg rlmsrun.BenchConfig
	ec, err := simConfigFor(c, topos[0], c.Int("k"), r)
	if err != nil {
		return cfg, nil, err
	}
	for _, t := range topos[1:] {
		if _, err := simConfigFor(c, t, c.Int("k"), r); err != nil {
			return cfg, nil, err
		}
	}
	tc, err := trainConfig(c, ec.K, ec.P)
	if err != nil {
		return cfg, nil, err
	}
	lat, pc, err := predictionsFor(c, r)
	if err != nil {
		return cfg, nil, err
	}
	cfg = rlmsrun.BenchConfig{Env: ec, Train: tc, Predictions: lat, Topologies: topos, Seeds: c.Int("seeds"), TestSeed0: 1_000_000,
		Ablation: c.Bool("ablation"), DQN: c.Bool("dqn"), PPO: c.Bool("ppo"), DQNSteps: c.Int64("dqn-steps"), SweepsOnly: c.Bool("sweeps-only")}
	if s := c.String("ks"); s != "" {
		if cfg.Ks, err = parseInts(s, "ks", 1); err != nil {
			return cfg, nil, &usageError{msg: err.Error(), cmd: c.Command.HelpName}
		}
	}
	if s := c.String("mixes"); s != "" {
		for _, m := range strings.Split(s, ",") {
			mix := cpn.Mix(strings.TrimSpace(m))
			if mix != cpn.Mixed && mix != cpn.IOHeavy && mix != cpn.ComputeHeavy {
				return cfg, nil, &usageError{msg: fmt.Sprintf("unknown mix %q in --mixes; available: mixed, io, compute.", m), cmd: c.Command.HelpName}
			}
			cfg.Mixes = append(cfg.Mixes, mix)
		}
	}
	return cfg, pc, nil
}

// writeReport writes a Markdown report to path and to standard output
// (write's text, then the bench time since start and the command line).
func writeReport(c *cli.Context, path string, start time.Time, write func(w io.Writer)) error {
	md, err := os.Create(path)
	if err != nil {
		return err
	}
	w := io.MultiWriter(c.App.Writer, md)
	write(w)
	fmt.Fprintf(w, "\nTotal bench time %.0f s. Command: cpntrain %s\n", time.Since(start).Seconds(), strings.Join(os.Args[1:], " "))
	return md.Close()
}
