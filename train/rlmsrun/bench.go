package rlmsrun

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cpntrain/cpntrain/models/gnndqn"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/rl/policy"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// Policies in report order.
const (
	PolicyRLMS = "rlms-cpn"
	PolicyPPO  = "rlms-ppo"
	PolicyMLP  = "rlms-mlp"
	PolicyDQN  = "gnn+dqn"
)

// BenchConfig describes `cpntrain bench rlms`.
type BenchConfig struct {
	// Env is the simulator template (DataDir, Mix, K, … ); Topology is
	// set per experiment.
	Env cpn.Config
	// Train is the RLMS-CPN training template (seeds are set per run).
	Train Config
	// Predictions are the compute latencies the controller sees (nil: the
	// measured ones).
	Predictions *cpn.Latencies
	// Topologies are evaluated with Env's K and Mix; Seeds per topology.
	Topologies []string
	Seeds      int
	// TestSeed0 is the first test task stream (test seeds TestSeed0+1…),
	// disjoint from the training streams.
	TestSeed0 uint64
	// Ks and Mixes are extra experiments on the first topology (the
	// paper's candidate count K = 3…7 and task types).
	Ks    []int
	Mixes []cpn.Mix
	// Ablation trains the MLP encoder too; DQN the GNN+DQN baseline; PPO
	// the SyncGNN model with PPO (Train.PPO's settings) besides the
	// actor-critic.
	Ablation, DQN, PPO bool
	// SweepsOnly skips the per-topology experiments (only Ks and Mixes on
	// the first topology run).
	SweepsOnly bool
	// DQNSteps is the DQN baseline's budget.
	DQNSteps int64
}

// Row is one policy in one experiment: the mean latency of each seed's
// test episode (100 tasks by default).
type Row struct {
	Experiment string // "topology", "k", "mix"
	Topology   string
	K          int
	Mix        cpn.Mix
	Policy     string
	// MeanMs holds one mean latency per seed.
	MeanMs []float64
	// PerTaskMs is the first seed's latency per task (the per-task CSV);
	// TaskMs every seed's, one after the other (the latency CDFs).
	PerTaskMs []float64
	TaskMs    []float64 `json:"-"`
	// DecisionUs is the mean decision time per task; TrainS the mean
	// training time per seed (learned policies).
	DecisionUs, TrainS float64
	// Curve is the first seed's learning curve: mean latency (ms) of
	// training episodes by tenth of training (learned policies).
	Curve []float64
}

// Mean returns the mean and standard deviation over seeds.
func (r Row) Mean() (float64, float64) { return metrics.MeanStd(r.MeanMs) }

// Bench runs the experiments, logging progress to log.
func Bench(ctx context.Context, cfg BenchConfig, log io.Writer) ([]Row, error) {
	var rows []Row
	type exp struct {
		kind, topo string
		k          int
		mix        cpn.Mix
	}
	var exps []exp
	for _, t := range cfg.Topologies {
		if !cfg.SweepsOnly {
			exps = append(exps, exp{"topology", t, cfg.Env.K, cfg.Env.Mix})
		}
	}
	if len(cfg.Topologies) > 0 {
		for _, k := range cfg.Ks {
			if k != cfg.Env.K {
				exps = append(exps, exp{"k", cfg.Topologies[0], k, cfg.Env.Mix})
			}
		}
		for _, m := range cfg.Mixes {
			if m != cfg.Env.Mix {
				exps = append(exps, exp{"mix", cfg.Topologies[0], cfg.Env.K, m})
			}
		}
	}
	for _, x := range exps {
		ec := cfg.Env
		ec.Topology, ec.K, ec.Mix = x.topo, x.k, x.mix
		net, err := cpn.NewNetwork(ec)
		if err != nil {
			return rows, err
		}
		net.SetPredictions(cfg.Predictions)
		fmt.Fprintf(log, "== %s: %s, K=%d, %s tasks (%d nodes, %d access points, %d compute nodes)\n",
			x.kind, net.G.Name, x.k, x.mix, net.G.N, len(net.APs), len(net.Compute))
		add := func(r Row) {
			r.Experiment, r.Topology, r.K, r.Mix = x.kind, net.G.Name, x.k, x.mix
			m, s := r.Mean()
			fmt.Fprintf(log, "   %-9s %8.2f ± %5.2f ms   decision %7.1f µs", r.Policy, m, s, r.DecisionUs)
			if r.TrainS > 0 {
				fmt.Fprintf(log, "   training %.0f s", r.TrainS)
			}
			fmt.Fprintln(log)
			rows = append(rows, r)
		}
		for _, name := range cpn.BaselineNames {
			d, _ := Baseline(name)
			r, err := EvalSeeds(net, name, func(int) PolicyMaker { return d }, cfg)
			if err != nil {
				return rows, err
			}
			add(r)
		}
		type variant struct{ encoder, algo string }
		variants := []variant{{rlms.EncoderSyncGNN, AlgoAC}}
		if cfg.PPO {
			variants = append(variants, variant{rlms.EncoderSyncGNN, AlgoPPO})
		}
		if cfg.Ablation {
			variants = append(variants, variant{rlms.EncoderMLP, AlgoAC})
		}
		for _, v := range variants {
			r, err := trainSeeds(ctx, net, v.encoder, v.algo, cfg, log)
			if err != nil {
				return rows, err
			}
			add(r)
		}
		if cfg.DQN {
			r, err := dqnSeeds(ctx, net, cfg)
			if err != nil {
				return rows, err
			}
			add(r)
		}
	}
	return rows, nil
}

// EvalSeeds evaluates policy(seed) on the test streams of every seed.
func EvalSeeds(net *cpn.Network, name string, policy func(seed int) PolicyMaker, cfg BenchConfig) (Row, error) {
	r := Row{Policy: name}
	var dec float64
	for s := 1; s <= cfg.Seeds; s++ {
		ep, err := Run(net, policy(s), cfg.TestSeed0+uint64(s))
		if err != nil {
			return r, fmt.Errorf("rlms: %s: %w", name, err)
		}
		r.MeanMs = append(r.MeanMs, ep.Mean())
		if s == 1 {
			r.PerTaskMs = ep.LatencyMs
		}
		r.TaskMs = append(r.TaskMs, ep.LatencyMs...)
		dec += ep.DecisionNs / 1000
	}
	r.DecisionUs = dec / float64(cfg.Seeds)
	return r, nil
}

// trainSeeds trains one model per seed with the trainer algo and
// evaluates each.
func trainSeeds(ctx context.Context, net *cpn.Network, encoder, algo string, cfg BenchConfig, log io.Writer) (Row, error) {
	models := make([]*rlms.Model, cfg.Seeds+1)
	var train time.Duration
	var curve []float64
	for s := 1; s <= cfg.Seeds; s++ {
		tc := cfg.Train
		tc.Model.Encoder, tc.Model.K, tc.Model.P = encoder, net.Cfg.K, net.Cfg.P
		if encoder == rlms.EncoderMLP {
			tc.Model.Rounds, tc.Model.PathEdges = 0, false // the ablation has no message passing
		}
		tc.Algo = algo
		tc.SetSeed(uint64(s))
		var lat []float64
		m, res, err := Train(ctx, net, tc, func(step int64, mm map[string]float64) {
			if l, ok := mm["episode/latency_ms"]; ok { // the episode's mean latency, from the step infos
				lat = append(lat, l)
			}
		})
		if err != nil {
			return Row{}, err
		}
		if s == 1 {
			curve = tenths(lat)
		}
		fmt.Fprintf(log, "   trained %s/%s seed %d: %d steps in %.0f s (%.0f steps/s)\n", encoder, algo, s, res.Steps, res.Elapsed.Seconds(), res.SPS)
		train += res.Elapsed
		models[s] = m
	}
	name := PolicyRLMS
	switch {
	case encoder == rlms.EncoderMLP:
		name = PolicyMLP
	case algo == AlgoPPO:
		name = PolicyPPO
	}
	r, err := EvalSeeds(net, name, func(s int) PolicyMaker { return ModelPolicy(models[s]) }, cfg)
	r.TrainS, r.Curve = train.Seconds()/float64(cfg.Seeds), curve
	return r, err
}

// tenths returns the mean of x in each tenth.
func tenths(x []float64) []float64 {
	out := make([]float64, 0, 10)
	for q := 0; q < 10; q++ {
		lo, hi := q*len(x)/10, (q+1)*len(x)/10
		if hi > lo {
			out = append(out, mean(x[lo:hi]))
		}
	}
	return out
}

// dqnSeeds trains the GNN+DQN baseline per seed and evaluates it.
func dqnSeeds(ctx context.Context, net *cpn.Network, cfg BenchConfig) (Row, error) {
	qs := make([]PolicyMaker, cfg.Seeds+1)
	var train time.Duration
	for s := 1; s <= cfg.Seeds; s++ {
		dc := dqn.DefaultConfig()
		dc.Seed, dc.TotalTimesteps = uint64(s), cfg.DQNSteps
		dc.LearningStarts, dc.BufferSize, dc.TargetNetworkFrequency = min(5000, cfg.DQNSteps/10), 20000, 500
		dc.LearningRate, dc.Gamma = 1e-3, 0.9
		start := time.Now()
		res, err := dqn.Train(ctx, dc, func() rl.Env[gnndqn.Obs] { return gnndqn.NewEnv(cpn.NewEnv(net)) }, policy.MLPQ[gnndqn.Obs](64, 64), nil)
		if err != nil {
			return Row{}, fmt.Errorf("rlms: gnn+dqn: %w", err)
		}
		train += time.Since(start)
		qs[s] = dqnPolicy(res.Q)
	}
	r, err := EvalSeeds(net, PolicyDQN, func(s int) PolicyMaker { return qs[s] }, cfg)
	r.TrainS = train.Seconds() / float64(cfg.Seeds)
	return r, err
}

// dqnPolicy acts greedily with a trained Q-network (agent.GreedyQ
// respects the candidate mask) and splits evenly over the chosen node's
// distinct paths (ECMP), from the observation alone.
func dqnPolicy(q agent.QFunction[gnndqn.Obs]) PolicyMaker {
	return func(*cpn.Env) rl.Policy[cpn.Obs] {
		g := agent.GreedyQ(q)
		return rl.PolicyFunc[cpn.Obs](func(o cpn.Obs) (rl.Action, error) {
			a, err := g.Decide(gnndqn.Features(o))
			if err != nil {
				return rl.Action{}, fmt.Errorf("rlms: gnn+dqn: %w", err)
			}
			return rl.Action{Index: a.Index, Values: cpn.ECMPFromObs(o, a.Index)}, nil
		})
	}
}

// WriteCSV writes one line per policy, experiment and seed.
func WriteCSV(path string, rows []Row) error {
	return writeCSV(path, []string{"experiment", "topology", "k", "mix", "policy", "seed", "mean_latency_ms", "decision_us", "train_s"}, func(w *csv.Writer) {
		for _, r := range rows {
			for s, m := range r.MeanMs {
				w.Write([]string{r.Experiment, r.Topology, strconv.Itoa(r.K), string(r.Mix), r.Policy, strconv.Itoa(s + 1),
					strconv.FormatFloat(m, 'f', 4, 64), strconv.FormatFloat(r.DecisionUs, 'f', 2, 64), strconv.FormatFloat(r.TrainS, 'f', 1, 64)})
			}
		}
	})
}

// writeCSV writes header and the records of body to path.
func writeCSV(path string, header []string, body func(w *csv.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	body(w)
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WritePerTaskCSV writes the first seed's per-task latencies of every
// policy and experiment (the latency CDFs of Plot pool every seed's).
func WritePerTaskCSV(path string, rows []Row) error {
	return writeCSV(path, []string{"experiment", "topology", "k", "mix", "policy", "task", "latency_ms"}, func(w *csv.Writer) {
		for _, r := range rows {
			for i, v := range r.PerTaskMs {
				w.Write([]string{r.Experiment, r.Topology, strconv.Itoa(r.K), string(r.Mix), r.Policy, strconv.Itoa(i + 1), strconv.FormatFloat(v, 'f', 4, 64)})
			}
		}
	})
}
