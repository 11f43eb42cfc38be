package rlmsrun

import (
	"context"
	"fmt"
	"io"

	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// GenRow is one policy on one test topology in the generalisation
// experiment: a trained policy (Train names the topology it was trained
// on) or a baseline (Train "").
type GenRow struct {
	Train, Test string
	Row
}

// Generalise trains the SyncGNN actor-critic policy on each of
// cfg.Topologies (cfg.Seeds models each) and evaluates every model on every
// topology's test streams, next to the baselines on those streams. The
// policy is a GNN over the candidate set, so a model trained on one network
// runs on any other with the same K and P.
func Generalise(ctx context.Context, cfg BenchConfig, log io.Writer) ([]GenRow, error) {
	nets := map[string]*cpn.Network{}
	for _, t := range cfg.Topologies {
		ec := cfg.Env
		ec.Topology = t
		net, err := cpn.NewNetwork(ec)
		if err != nil {
			return nil, err
		}
		net.SetPredictions(cfg.Predictions)
		nets[t] = net
	}
	var rows []GenRow
	for _, t := range cfg.Topologies {
		net := nets[t]
		for _, name := range []string{"base1", "base3", "wf", "oracle"} {
			d, _ := Baseline(name)
			r, err := EvalSeeds(net, name, func(int) PolicyMaker { return d }, cfg)
			if err != nil {
				return rows, err
			}
			m, s := r.Mean()
			fmt.Fprintf(log, "   %-12s on %-10s %8.2f ± %5.2f ms\n", name, net.G.Name, m, s)
			rows = append(rows, GenRow{Test: net.G.Name, Row: r})
		}
	}
	for _, tr := range cfg.Topologies {
		models := make([]*rlms.Model, cfg.Seeds+1)
		for s := 1; s <= cfg.Seeds; s++ {
			tc := cfg.Train
			tc.Model.Encoder, tc.Model.K, tc.Model.P = rlms.EncoderSyncGNN, nets[tr].Cfg.K, nets[tr].Cfg.P
			tc.Algo = AlgoAC
			tc.SetSeed(uint64(s))
			m, res, err := Train(ctx, nets[tr], tc, nil)
			if err != nil {
				return rows, err
			}
			fmt.Fprintf(log, "   trained on %s, seed %d: %d steps in %.0f s\n", nets[tr].G.Name, s, res.Steps, res.Elapsed.Seconds())
			models[s] = m
		}
		for _, te := range cfg.Topologies {
			r, err := EvalSeeds(nets[te], PolicyRLMS, func(s int) PolicyMaker { return ModelPolicy(models[s]) }, cfg)
			if err != nil {
				return rows, err
			}
			m, s := r.Mean()
			fmt.Fprintf(log, "   rlms-cpn trained on %-10s tested on %-10s %8.2f ± %5.2f ms\n", nets[tr].G.Name, nets[te].G.Name, m, s)
			rows = append(rows, GenRow{Train: nets[tr].G.Name, Test: nets[te].G.Name, Row: r})
		}
	}
	return rows, nil
}

// WriteGeneralisation writes the train × test table: per test topology
// (columns) the baselines, then one row per training topology, the
// diagonal (trained where tested) in bold.
func WriteGeneralisation(w io.Writer, rows []GenRow, seeds, tasks int) {
	var tests []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Test] {
			seen[r.Test] = true
			tests = append(tests, r.Test)
		}
	}
	fmt.Fprintf(w, "Mean response latency (ms) over %d test tasks, mean ± std over %d seeds; RLMS-CPN rows: trained on the row's topology, tested on the column's.\n\n", tasks, seeds)
	fmt.Fprintf(w, "| policy |")
	for _, t := range tests {
		fmt.Fprintf(w, " %s |", t)
	}
	fmt.Fprintf(w, "\n|---|")
	for range tests {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintln(w)
	cell := func(train, policy, test string) string {
		for _, r := range rows {
			if r.Train == train && r.Policy == policy && r.Test == test {
				m, s := r.Mean()
				if train != "" && train == test {
					return fmt.Sprintf("**%.2f ± %.2f**", m, s)
				}
				return fmt.Sprintf("%.2f ± %.2f", m, s)
			}
		}
		return "–"
	}
	for _, b := range []string{"base1", "base3", "wf", "oracle"} {
		fmt.Fprintf(w, "| %s |", b)
		for _, t := range tests {
			fmt.Fprintf(w, " %s |", cell("", b, t))
		}
		fmt.Fprintln(w)
	}
	for _, tr := range tests {
		fmt.Fprintf(w, "| RLMS-CPN trained on %s |", tr)
		for _, t := range tests {
			fmt.Fprintf(w, " %s |", cell(tr, PolicyRLMS, t))
		}
		fmt.Fprintln(w)
	}
}
