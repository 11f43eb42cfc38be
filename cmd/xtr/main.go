package main

import (
	"context"
	"fmt"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"math"
	"os"
	"runtime/pprof"
	"strconv"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/rlms"
)

func main() {
	f, _ := os.Create("/tmp/xtr" + os.Getenv("XTAG") + ".prof")
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	cfg := cpn.DefaultConfig()
	cfg.DataDir = os.Getenv("CPNTRAIN_DATA")
	cfg.Topology = os.Args[1]
	net, err := cpn.NewNetwork(cfg)
	if err != nil {
		panic(err)
	}
	tc := rlms.DefaultConfig(cfg.K, cfg.P)
	steps, _ := strconv.Atoi(os.Args[2])
	tc.AC.TotalTimesteps = int64(steps)
	if len(os.Args) > 3 {
		tc.Model.Encoder = os.Args[3]
	}
	env := func(k string, p *float64) {
		if v := os.Getenv(k); v != "" {
			fmt.Sscan(v, p)
		}
	}
	env("XGAMMA", &tc.AC.Gamma)
	env("XLRA", &tc.AC.LearningRateActor)
	env("XLRC", &tc.AC.LearningRateCritic)
	env("XENT", &tc.AC.EntCoef)
	var dim, ns, ne float64 = float64(tc.Model.Dim), float64(tc.AC.NSteps), float64(tc.AC.NumEnvs)
	env("XDIM", &dim)
	env("XNS", &ns)
	env("XNE", &ne)
	tc.Model.Split = os.Getenv("XSPLIT")
	tc.Model.Dim, tc.Model.Hidden, tc.AC.NSteps, tc.AC.NumEnvs = int(dim), int(dim), int(ns), int(ne)
	var n int
	var sum float64
	m, res, err := rlms.Train(context.Background(), net, tc, func(step int64, mm map[string]float64) {
		if r, ok := mm["charts/episodic_return"]; ok {
			sum += r
			n++
			if n%100 == 0 {
				fmt.Printf("step %d: mean episodic latency %.2f ms\n", step, -sum/float64(n)*cfg.RewardScale/float64(cfg.Tasks))
				sum, n = 0, 0
			}
		}
	})
	if err != nil {
		panic(err)
	}
	pprof.StopCPUProfile()
	fmt.Printf("trained %d steps in %v (%.0f SPS)\n", res.Steps, res.Elapsed, res.SPS)
	best := func(e *cpn.Env, i int) rl.Action {
		ba, bl := rl.Action{}, math.Inf(1)
		for a := 0; a <= 20; a++ {
			for b := 0; a+b <= 20; b++ {
				x := []float32{float32(a) / 20, float32(b) / 20, float32(20-a-b) / 20}
				out, err := e.Evaluate(rl.Action{Index: i, Values: x})
				if err == nil && out.LatencyMs < bl {
					bl, ba = out.LatencyMs, rl.Action{Index: i, Values: x}
				}
			}
		}
		return ba
	}
	md := rlms.ModelDecider(m)
	diag := map[string]rlms.Decider{
		"rlmsnode+bestsplit": func(e *cpn.Env) (rl.Action, error) { a, _ := md(e); return best(e, a.Index), nil },
		"fastest+rlmssplit": func(e *cpn.Env) (rl.Action, error) {
			i := e.Fastest()
			p := m.Path
			t := nn.NewInference()
			acts := p.ModeGiven(t, []cpn.Obs{e.Obs()}, [][]rl.Action{{{Index: i}}})
			return rl.Action{Index: i, Values: acts[0].Values}, nil
		},
	}
	for _, name := range []string{"rlms", "base1", "base3", "oracle", "rlmsnode+bestsplit", "fastest+rlmssplit"} {
		var d rlms.Decider
		if name == "rlms" {
			d = rlms.ModelDecider(m)
		} else if dd, ok := diag[name]; ok {
			d = dd
		} else {
			d, _ = rlms.BaselineDecider(name)
		}
		var means []float64
		var dec float64
		for s := uint64(1); s <= 5; s++ {
			ep, err := rlms.Run(net, d, 1000+s)
			if err != nil {
				panic(err)
			}
			means = append(means, ep.Mean())
			dec += ep.DecisionNs / 5
		}
		mu, sd := rlms.MeanStd(means)
		fmt.Printf("%-7s %.2f ± %.2f ms  (decision %.1f µs)\n", name, mu, sd, dec/1000)
	}
}
