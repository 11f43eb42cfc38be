package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/datasets/topology"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/rlmsrun"
	"github.com/cpntrain/cpntrain/train/runlog"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// topologyNames are the --topology values.
func topologyNames() []string { return append(topology.Names(), "waxman") }

// simFlags are the simulator flags shared by rlms train, eval and bench.
func simFlags() []cli.Flag {
	d := cpn.DefaultConfig()
	return []cli.Flag{
		&cli.StringFlag{Name: "mix", Value: string(d.Mix), Usage: "task mix: mixed, io (100 KB-10 MB transfers) or compute (64-2048 inferences)"},
		&cli.IntFlag{Name: "paths", Value: d.P, Usage: "candidate paths per compute node (k shortest by propagation delay)"},
		&cli.Float64Flag{Name: "load", Value: d.Load, Usage: "background traffic: mean utilisation of the busiest link"},
		&cli.Float64Flag{Name: "arrival-rate", Value: d.ArrivalRate, Usage: "tasks per second"},
		&cli.IntFlag{Name: "tasks", Value: d.Tasks, Usage: "tasks per episode (and per test episode)"},
		&cli.StringFlag{Name: "regime", Value: "paper", Usage: "'paper' (dedicated nodes, exact and fresh probes, one traffic matrix per 5 minutes) or 'realistic' (--tenants 0.3, --probe-noise 0.3, --traffic-drift, --bursts 0.1, --probe-age-ms 50 unless given; see docs/rlms.md); bench rlms also takes 'both' (side by side)"},
		&cli.Float64Flag{Name: "tenants", Value: 0, Usage: "share of every compute node's time taken by other tenants' jobs the controller does not see (0: dedicated nodes, the paper's setting)"},
		&cli.Float64Flag{Name: "tenant-job-ms", Value: 50, Usage: "mean duration of another tenant's job (with --tenants)"},
		&cli.Float64Flag{Name: "probe-noise", Value: 0, Usage: "probes are samples: each sees every link's cross traffic at bg·(1 + σz), z normal (σ: the variation within a 5-minute traffic interval; 0: exact)"},
		&cli.BoolFlag{Name: "traffic-drift", Usage: "cross traffic moves linearly from one 5-minute traffic matrix to the next instead of jumping at the interval's end"},
		&cli.Float64Flag{Name: "bursts", Value: 0, Usage: "share of time slots (--burst-ms) in which a link carries a burst of extra cross traffic, independently per link and slot (0: none)"},
		&cli.Float64Flag{Name: "burst-size", Value: 0.3, Usage: "a burst's extra load, as a share of the link's capacity (with --bursts)"},
		&cli.Float64Flag{Name: "burst-ms", Value: 20, Usage: "length of a burst slot in ms (with --bursts)"},
		&cli.Float64Flag{Name: "probe-age-ms", Value: 0, Usage: "the probes saw the cross traffic this long before the decision (a controller probing periodically); transfers meet it as it is"},
		&cli.IntFlag{Name: "tsft-shots", Value: defaultShots, EnvVars: []string{tsftShotsEnv}, Usage: "the controller sees compute latencies predicted by TSFT adapted from this many measured architectures per device (0: the measured latencies, a perfect predictor); the base models are pretrained once (about 2 minutes) and cached in the user cache"},
	}
}

// predictions returns the compute latencies the controller sees by
// --tsft-shots (nil: the measured ones) and their settings, printing how
// well each device is predicted.
func predictions(c *cli.Context) (*cpn.Latencies, *rlmsrun.PredictorConfig, error) {
	r, err := regimeOf(c)
	if err != nil {
		return nil, nil, err
	}
	return predictionsFor(c, r)
}

// predictionsFor is predictions in regime r.
func predictionsFor(c *cli.Context, r regime) (*cpn.Latencies, *rlmsrun.PredictorConfig, error) {
	shots := r.shots
	if shots == 0 {
		return nil, nil, nil
	}
	if shots < nasbench201.NumRefs || shots > tsftrun.TrainPool {
		return nil, nil, &usageError{msg: fmt.Sprintf("--tsft-shots must be 0 (measured latencies) or between %d and %d.", nasbench201.NumRefs, tsftrun.TrainPool), cmd: c.Command.HelpName}
	}
	g := globalsFrom(c)
	pc := rlmsrun.DefaultPredictorConfig(shots, uint64(g.Seed), cacheDir(c))
	var prog *runlog.Progress
	pc.Progress = func(fam string, ep, n int) {
		if prog == nil {
			prog = runlog.NewProgress(c.App.ErrWriter, n, "pretrain "+fam, g.Quiet)
		}
		prog.Add(1, "")
		if ep == n {
			prog.Finish()
			prog = nil
		}
	}
	lat, rep, err := rlmsrun.TSFTLatencies(c.Context, g.DataDir, pc, infoWriter(c))
	if err != nil {
		return nil, nil, err
	}
	rlmsrun.WritePredictions(infoWriter(c), shots, rep)
	return lat, &pc, nil
}

// regime is the realism of a run: the paper's setting, or the switches of
// the realistic regime (docs/rlms.md), each overridden by its own flag.
type regime struct {
	name                string
	tenants, probeNoise float64
	drift               bool
	bursts, probeAgeMs  float64
	shots               int
}

// defaultShots is the --tsft-shots default: the controller sees TSFT's
// predictions from 50 measured architectures per device, as the paper's
// pipeline feeds it (issue 16).
const defaultShots = 50

// tsftShotsEnv sets --tsft-shots from the environment.
const tsftShotsEnv = "CPNTRAIN_TSFT_SHOTS"

// Realistic regime settings (docs/rlms.md says why these values).
const (
	realisticTenants    = 0.3
	realisticProbeNoise = 0.3
	realisticBursts     = 0.1
	realisticProbeAgeMs = 50
)

// regimeOf reads --regime and the switches it sets.
func regimeOf(c *cli.Context) (regime, error) {
	return regimeNamed(c, c.String("regime"))
}

// regimeNamed is the regime name with the switches given by flags.
func regimeNamed(c *cli.Context, name string) (regime, error) {
	r := regime{name: name, tenants: c.Float64("tenants"), probeNoise: c.Float64("probe-noise"), drift: c.Bool("traffic-drift"),
		bursts: c.Float64("bursts"), probeAgeMs: c.Float64("probe-age-ms"), shots: c.Int("tsft-shots")}
	switch r.name {
	case "paper":
	case "realistic":
		if !c.IsSet("tenants") {
			r.tenants = realisticTenants
		}
		if !c.IsSet("probe-noise") {
			r.probeNoise = realisticProbeNoise
		}
		if !c.IsSet("traffic-drift") {
			r.drift = true
		}
		if !c.IsSet("bursts") {
			r.bursts = realisticBursts
		}
		if !c.IsSet("probe-age-ms") {
			r.probeAgeMs = realisticProbeAgeMs
		}
	default:
		return r, &usageError{msg: fmt.Sprintf("--regime must be 'paper' or 'realistic', not %q.", r.name), cmd: c.Command.HelpName}
	}
	return r, nil
}

// describe is the regime's switches in a sentence (for reports).
func (r regime) describe(tenantJobMs, burstSize, burstMs float64) string {
	var parts []string
	if r.tenants > 0 {
		parts = append(parts, fmt.Sprintf("other tenants %.2f of each node (jobs of %g ms)", r.tenants, tenantJobMs))
	}
	if r.probeNoise > 0 {
		parts = append(parts, fmt.Sprintf("probe noise %.2f", r.probeNoise))
	}
	if r.drift {
		parts = append(parts, "traffic drifting between the 5-minute matrices")
	}
	if r.bursts > 0 {
		parts = append(parts, fmt.Sprintf("bursts of %.2f·capacity in %.2f of the %g ms slots", burstSize, r.bursts, burstMs))
	}
	if r.probeAgeMs > 0 {
		parts = append(parts, fmt.Sprintf("probes %g ms old", r.probeAgeMs))
	}
	if r.shots > 0 {
		parts = append(parts, fmt.Sprintf("TSFT predictions from %d measured architectures per device", r.shots))
	} else {
		parts = append(parts, "the measured compute latencies (a perfect predictor)")
	}
	return strings.Join(parts, ", ")
}

// simConfig reads the simulator flags (K given by the caller).
func simConfig(c *cli.Context, topo string, k int) (cpn.Config, error) {
	r, err := regimeOf(c)
	if err != nil {
		return cpn.Config{}, err
	}
	return simConfigFor(c, topo, k, r)
}

// simConfigFor is simConfig in regime r.
func simConfigFor(c *cli.Context, topo string, k int, r regime) (cpn.Config, error) {
	cfg := cpn.DefaultConfig()
	cfg.DataDir = globalsFrom(c).DataDir
	cfg.Topology, cfg.K, cfg.P = topo, k, c.Int("paths")
	cfg.Mix = cpn.Mix(c.String("mix"))
	cfg.Load, cfg.ArrivalRate, cfg.Tasks = c.Float64("load"), c.Float64("arrival-rate"), c.Int("tasks")
	cfg.ProbeNoise, cfg.TrafficDrift, cfg.ProbeAgeMs = r.probeNoise, r.drift, r.probeAgeMs
	if cfg.BurstShare = r.bursts; cfg.BurstShare > 0 {
		cfg.BurstSize, cfg.BurstMs = c.Float64("burst-size"), c.Float64("burst-ms")
	}
	if cfg.Tenants = r.tenants; cfg.Tenants > 0 {
		cfg.TenantJobMs = c.Float64("tenant-job-ms")
	}
	if f := c.String("topology-file"); f != "" {
		// The user's own network: its file name names it.
		if _, err := os.Stat(f); err != nil {
			return cfg, &usageError{msg: fmt.Sprintf("--topology-file: %v.", err), cmd: c.Command.HelpName}
		}
		cfg.TopologyFile = f
		cfg.Topology = strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
	} else if !slices.Contains(topologyNames(), strings.ToLower(topo)) {
		return cfg, &usageError{msg: fmt.Sprintf("unknown topology %q; available: %s.", topo, strings.Join(topologyNames(), ", ")), cmd: c.Command.HelpName}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{msg: withPeriod(flagMessage(err.Error(), rlmsFlagNames)), cmd: c.Command.HelpName}
	}
	return cfg, nil
}

// trainFlags are the RLMS-CPN training flags.
func trainFlags() []cli.Flag {
	d := rlmsrun.DefaultConfig(5, 3)
	return []cli.Flag{
		&cli.StringFlag{Name: "algo", Value: d.Algo, Usage: "trainer: ac (the paper's actor-critic) or ppo (PPO over the same actors, one value baseline; --lr-actor is its learning rate, --nsteps its rollout length)"},
		&cli.Int64Flag{Name: "steps", Value: d.AC.TotalTimesteps, Usage: "training tasks (environment steps over all simulators)"},
		&cli.StringFlag{Name: "encoder", Value: d.Model.Encoder, Usage: "syncgnn (the paper) or mlp (the ablation: no message passing)"},
		&cli.IntFlag{Name: "dim", Value: d.Model.Dim, Usage: "embedding and hidden width"},
		&cli.BoolFlag{Name: "staged-critic", Value: d.Model.Staged, Usage: "give the path actor the baseline V(s, chosen node) instead of V(s)"},
		&cli.BoolFlag{Name: "path-edges", Value: d.Model.PathEdges, Usage: "SyncGNN edges between a candidate's paths that share a link (not in the paper)"},
		&cli.BoolFlag{Name: "subsets", Value: d.Model.Subsets, Usage: "a third actor picks which paths carry data before the split (not in the paper; --subsets=false: the paper's two actors)"},
		&cli.IntFlag{Name: "rounds", Value: max(1, d.Model.Rounds), Usage: "SyncGNN message-passing rounds (the paper: 1)"},
		&cli.StringFlag{Name: "split", Value: d.Model.Split, Usage: "path-split distribution: logistic-normal or dirichlet"},
		&cli.BoolFlag{Name: "prior", Value: d.Model.Prior, Usage: "start the actors from the controller's water-filling estimates (the wf baseline) and learn corrections; --prior=false learns from scratch"},
		&cli.Float64Flag{Name: "gamma", Value: d.AC.Gamma, Usage: "discount factor of the TD target (the paper: 0.99; 0 learns best here, see docs/rlms.md)"},
		&cli.Float64Flag{Name: "ent-coef", Value: d.AC.EntCoef, Usage: "entropy bonus of both actors"},
		&cli.Float64Flag{Name: "lr-actor", Value: d.AC.LearningRateActor, Usage: "Adam learning rate of the actors"},
		&cli.Float64Flag{Name: "lr-critic", Value: d.AC.LearningRateCritic, Usage: "Adam learning rate of the critic"},
		&cli.IntFlag{Name: "envs", Value: d.AC.NumEnvs, Usage: "simulators stepped in parallel (one goroutine each)"},
		&cli.IntFlag{Name: "nsteps", Value: d.AC.NSteps, Usage: "steps per simulator per update (n-step TD targets; 1 = TD(0))"},
	}
}

func trainConfig(c *cli.Context, k, p int) (rlmsrun.Config, error) {
	tc := rlmsrun.DefaultConfig(k, p)
	tc.Model.Encoder, tc.Model.Dim, tc.Model.Hidden, tc.Model.Split = c.String("encoder"), c.Int("dim"), c.Int("dim"), c.String("split")
	tc.Model.Prior, tc.Model.Staged, tc.Model.Subsets = c.Bool("prior"), c.Bool("staged-critic"), c.Bool("subsets")
	if tc.Model.Encoder == rlms.EncoderSyncGNN {
		tc.Model.Rounds, tc.Model.PathEdges = c.Int("rounds"), c.Bool("path-edges")
	}
	tc.Algo = c.String("algo")
	tc.SetSteps(c.Int64("steps"))
	tc.SetSeed(uint64(globalsFrom(c).Seed))
	tc.AC.Gamma, tc.AC.LearningRateActor, tc.AC.LearningRateCritic = c.Float64("gamma"), c.Float64("lr-actor"), c.Float64("lr-critic")
	tc.AC.NumEnvs, tc.AC.NSteps, tc.AC.EntCoef = c.Int("envs"), c.Int("nsteps"), c.Float64("ent-coef")
	if tc.Algo == rlmsrun.AlgoPPO { // the flags PPO shares; its own defaults where the flag was not given
		tc.PPO.Gamma, tc.PPO.EntCoef, tc.PPO.NumEnvs = c.Float64("gamma"), c.Float64("ent-coef"), c.Int("envs")
		if c.IsSet("lr-actor") {
			tc.PPO.LearningRate = c.Float64("lr-actor")
		}
		if c.IsSet("nsteps") {
			tc.PPO.NumSteps = c.Int("nsteps")
		}
	}
	if !slices.Contains(rlmsrun.Algos, tc.Algo) {
		return tc, &usageError{msg: fmt.Sprintf("--algo %q: want %s.", tc.Algo, strings.Join(rlmsrun.Algos, " or ")), cmd: c.Command.HelpName}
	}
	if err := tc.Validate(); err != nil {
		return tc, &usageError{msg: withPeriod(flagMessage(err.Error(), rlmsFlagNames)), cmd: c.Command.HelpName}
	}
	if tc.Steps() <= 0 {
		return tc, &usageError{msg: "--steps must be positive.", cmd: c.Command.HelpName}
	}
	return tc, nil
}

// rlmsFlagNames names the flags behind the simulator's, the model's and
// the trainers' settings, for their validation messages.
var rlmsFlagNames = map[string]string{
	"K": "--k", "P": "--paths", "ArrivalRate": "--arrival-rate", "Tasks": "--tasks", "Load": "--load",
	"NumEnvs": "--envs", "NSteps": "--nsteps", "NumSteps": "--nsteps", "TotalTimesteps": "--steps",
	"LearningRateActor": "--lr-actor", "LearningRateCritic": "--lr-critic", "LearningRate": "--lr-actor",
	"Gamma": "--gamma", "EntCoef": "--ent-coef", "CheckpointEvery": "--checkpoint-every", "Checkpoint.Every": "--checkpoint-every",
	"Dim": "--dim", "Hidden": "--dim", "Rounds": "--rounds", "MinSplit": "--paths",
	"Tenants": "--tenants", "TenantJobMs": "--tenant-job-ms", "ProbeNoise": "--probe-noise",
	"BurstShare": "--bursts", "BurstSize": "--burst-size", "BurstMs": "--burst-ms", "ProbeAgeMs": "--probe-age-ms",
}

func rlmsCommand() *cli.Command {
	return &cli.Command{
		Name:  "rlms",
		Usage: "RLMS-CPN: joint compute-node selection and multipath splitting (SyncGNN + actor-critic)",
		Subcommands: []*cli.Command{{
			Name:      "train",
			Usage:     "train RLMS-CPN on a simulated computing-power network",
			UsageText: "cpntrain rlms train [--topology abilene] [--steps N] [--k 5] [--mix mixed] [--encoder syncgnn|mlp]",
			Description: "Simulates tasks (NAS-Bench-201 inferences with measured latencies) arriving at access points\n" +
				"of a real topology (CFR-RL's Abilene/Ebone/Sprintlink/Tiscali, Topology Zoo's UsCarrier/Kdl,\n" +
				"or a generated Waxman graph), and trains the node-selection and path-split actors with one\n" +
				"critic. Metrics go to the run folder (JSONL + TensorBoard), the trained policy to\n" +
				"<run>/" + rlmsrun.ModelFile + ", and a resumable training state to <run>/" + rlmsrun.StateFile + "\n" +
				"every --checkpoint-every updates and when interrupted (Ctrl-C, SIGTERM): run the same\n" +
				"command with --out <run> to resume an interrupted or killed run (the settings must match,\n" +
				"or pass --force). At the end the policy is evaluated against Base1 (fastest node + ECMP), Base3 (fastest\n" +
				"node + LP split), wf (the controller's own estimates: best estimated node + water-filling\n" +
				"split) and the oracle on --eval-seeds test task streams.",
			Flags: append(append([]cli.Flag{
				&cli.StringFlag{Name: "topology", Value: "abilene", Usage: "network: " + strings.Join(topologyNames(), ", ")},
				&cli.StringFlag{Name: "topology-file", Usage: "your own network instead of --topology: a Topology Zoo GML file (.gml) or a CFR-RL topology text file (anything else); see docs/rlms.md"},
				&cli.IntFlag{Name: "k", Value: 5, Usage: "candidate compute nodes per task"},
				&cli.IntFlag{Name: "checkpoint-every", Value: 500, Usage: "updates (actor-critic) or iterations (PPO) between resumable checkpoints (0: none)"},
				&cli.IntFlag{Name: "eval-seeds", Value: 5, Usage: "test task streams evaluated at the end (0: none)"},
				forceFlag(),
			}, simFlags()...), trainFlags()...),
			Action: rlmsTrain,
		}, {
			Name:      "eval",
			Usage:     "evaluate a trained RLMS-CPN policy against the baselines on the same tasks",
			UsageText: "cpntrain rlms eval --model FILE [--topology abilene] [--seeds 5]",
			Description: "Loads a policy saved by 'rlms train' and plays --seeds test task streams with it and with\n" +
				"Base1-4 and the oracle on the same simulator. K and the number of paths come from the model.",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "model", Required: true, Usage: "policy checkpoint (" + rlmsrun.ModelFile + " of a training run)"},
				&cli.StringFlag{Name: "topology", Value: "abilene", Usage: "network: " + strings.Join(topologyNames(), ", ")},
				&cli.StringFlag{Name: "topology-file", Usage: "your own network instead of --topology: a Topology Zoo GML file (.gml) or a CFR-RL topology text file (anything else); see docs/rlms.md"},
				&cli.IntFlag{Name: "seeds", Value: 5, Usage: "test task streams"},
			}, simFlags()...),
			Action: rlmsEval,
		}},
	}
}

func rlmsTrain(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if c.Int("k") < 1 || c.Int("checkpoint-every") < 0 || c.Int("eval-seeds") < 0 {
		return &usageError{msg: "--k must be positive, --checkpoint-every and --eval-seeds not negative.", cmd: c.Command.HelpName}
	}
	ec, err := simConfig(c, c.String("topology"), c.Int("k"))
	if err != nil {
		return err
	}
	tc, err := trainConfig(c, ec.K, ec.P)
	if err != nil {
		return err
	}
	if err := ensureData(c, "topologies", "nasbench201"); err != nil {
		return err
	}
	lat, pc, err := predictions(c)
	if err != nil {
		return err
	}
	g := globalsFrom(c)
	name := "rlms-train-" + strings.ToLower(ec.Topology)
	dir := g.Out
	if dir == "" {
		dir = defaultRunDir(name, time.Now())
	}
	rep, err := rlmsrun.RunTrain(c.Context, rlmsrun.RunConfig{
		Env: ec, Train: tc, Predictions: lat, Predictor: pc, Dir: dir, Record: func(cfg any) any { return runRecord(c, name, cfg) },
		CheckpointEvery: c.Int("checkpoint-every"), EvalSeeds: c.Int("eval-seeds"), Force: c.Bool("force"),
		Log: infoWriter(c), Quiet: g.Quiet,
	})
	if rep.ModelPath != "" {
		rep.Write(c.App.Writer)
	}
	return err
}

func rlmsEval(c *cli.Context) error {
	if err := exactArgs(c); err != nil {
		return err
	}
	if c.Int("seeds") < 1 {
		return &usageError{msg: "--seeds must be positive.", cmd: c.Command.HelpName}
	}
	m, _, err := rlms.Load(c.String("model"))
	if err != nil {
		return err
	}
	ec, err := simConfig(c, c.String("topology"), m.Config.K)
	if err != nil {
		return err
	}
	if ec.P != m.Config.P {
		return &usageError{msg: fmt.Sprintf("the model splits over %d paths; pass --paths %d.", m.Config.P, m.Config.P), cmd: c.Command.HelpName}
	}
	if err := ensureData(c, "topologies", "nasbench201"); err != nil {
		return err
	}
	lat, _, err := predictions(c)
	if err != nil {
		return err
	}
	net, err := cpn.NewNetwork(ec)
	if err != nil {
		return err
	}
	net.SetPredictions(lat)
	rows, err := rlmsrun.EvalPolicy(net, rlmsrun.ModelPolicy(m), c.Int("seeds"), cpn.BaselineNames)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	rlmsrun.WriteMarkdown(c.App.Writer, rows, c.Int("seeds"), net.Cfg.Tasks)
	return nil
}
