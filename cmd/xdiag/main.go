package main

import (
	"fmt"
	"math"
	"os"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

func bestSplit(e *cpn.Env, i int) rl.Action {
	best, bl := rl.Action{}, math.Inf(1)
	for a := 0; a <= 20; a++ {
		for b := 0; a+b <= 20; b++ {
			x := []float32{float32(a) / 20, float32(b) / 20, float32(20-a-b) / 20}
			out, err := e.Evaluate(rl.Action{Index: i, Values: x})
			if err == nil && out.LatencyMs < bl {
				bl, best = out.LatencyMs, rl.Action{Index: i, Values: x}
			}
		}
	}
	return best
}

func main() {
	cfg := cpn.DefaultConfig()
	cfg.DataDir = os.Getenv("CPNTRAIN_DATA")
	n, _ := cpn.NewNetwork(cfg)
	pols := map[string]func(e *cpn.Env) rl.Action{
		"fastest+bestsplit": func(e *cpn.Env) rl.Action { return bestSplit(e, e.Fastest()) },
		"bestnode+ecmp": func(e *cpn.Env) rl.Action {
			best, bl := rl.Action{}, math.Inf(1)
			for i := range e.Candidates() {
				a := rl.Action{Index: i, Values: e.ECMP(i)}
				out, _ := e.Evaluate(a)
				if out.LatencyMs < bl {
					bl, best = out.LatencyMs, a
				}
			}
			return best
		},
		"bestnode+lp": func(e *cpn.Env) rl.Action {
			best, bl := rl.Action{}, math.Inf(1)
			for i := range e.Candidates() {
				x, _ := e.LPSplit(i)
				a := rl.Action{Index: i, Values: x}
				out, _ := e.Evaluate(a)
				if out.LatencyMs < bl {
					bl, best = out.LatencyMs, a
				}
			}
			return best
		},
		"oracle": func(e *cpn.Env) rl.Action { a, _ := e.Oracle(20); return a },
		"base1":  func(e *cpn.Env) rl.Action { a, _ := cpn.Baselines["base1"](e); return a },
	}
	for _, name := range []string{"base1", "fastest+bestsplit", "bestnode+ecmp", "bestnode+lp", "oracle"} {
		var tot float64
		var cnt int
		for seed := uint64(1); seed <= 5; seed++ {
			e := cpn.NewEnv(n)
			e.Reset(1000000 + seed)
			for {
				s, _ := e.Step(pols[name](e))
				tot += s.Info["latency_ms"]
				cnt++
				if s.Done() {
					break
				}
			}
		}
		fmt.Printf("%-18s %.2f ms\n", name, tot/float64(cnt))
	}
}
