package decimarun

import (
	"context"
	"fmt"
	"github.com/cpntrain/cpntrain/datasets/tpch"
	"os"
	"testing"
	"time"
)

func TestZZTrain(t *testing.T) {
	lib, err := tpch.LoadAll(os.Getenv("CPNTRAIN_DATA"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mode := os.Getenv("ZZMODE")
	cfg, _ := DefaultConfig(mode)
	cfg.PG.TotalTimesteps = 150000
	if v := os.Getenv("ZZSTEPS"); v != "" {
		fmt.Sscan(v, &cfg.PG.TotalTimesteps)
	}
	if v := os.Getenv("ZZLR"); v != "" {
		fmt.Sscan(v, &cfg.PG.LearningRate)
	}
	if v := os.Getenv("ZZEPS"); v != "" {
		fmt.Sscan(v, &cfg.PG.NumEpisodes)
		cfg.PG.NumEnvs = cfg.PG.NumEpisodes
	}
	if v := os.Getenv("ZZENT"); v != "" {
		fmt.Sscan(v, &cfg.PG.EntCoef)
	}
	if v := os.Getenv("ZZARCH"); v != "" {
		cfg.Arch = v
		cfg.Model, _ = ModelConfig(v)
	}
	if mode == ModeContinuous {
		cfg.PG.TotalTimesteps = 150000
		if v := os.Getenv("ZZSTEPS"); v != "" {
			fmt.Sscan(v, &cfg.PG.TotalTimesteps)
		}
		if v := os.Getenv("ZZLR"); v != "" {
			fmt.Sscan(v, &cfg.PG.LearningRate)
		}
		if v := os.Getenv("ZZEPS"); v != "" {
			fmt.Sscan(v, &cfg.PG.NumEpisodes)
			cfg.PG.NumEnvs = cfg.PG.NumEpisodes
		}
		if v := os.Getenv("ZZENT"); v != "" {
			fmt.Sscan(v, &cfg.PG.EntCoef)
		}
		if v := os.Getenv("ZZARCH"); v != "" {
			cfg.Arch = v
			cfg.Model, _ = ModelConfig(v)
		}
	}
	st := time.Now()
	wf, _ := TuneWF(cfg.Env, lib, 5)
	cfg.Warm.WF = wf.Best
	if v := os.Getenv("ZZHORIZON"); v != "" { fmt.Sscan(v, &cfg.TrainMaxTime) }
	if os.Getenv("ZZFAIR") != "" { cfg.Warm.WF = WF{} }
	fmt.Println("wf", wf.Best, wf.Scores, time.Since(st))
	ag, res, err := Train(context.Background(), cfg, lib, func(step int64, m map[string]float64) {
		if v, ok := m["warm/log_likelihood"]; ok {
			fmt.Println("warm ll", v, time.Since(st))
		}
		if v, ok := m["select/avg_jct_s"]; ok {
			fmt.Printf("%d select %.2f %v\n", step, v, time.Since(st).Round(time.Second))
		}
		if v, ok := m["train/avg_jct_s"]; ok && step%2000 < 400 {
			fmt.Printf("%d train %.2f\n", step, v)
		}
	})
	fmt.Println(res.Updates, res.Steps, res.Selected, res.SelectedUpdate, res.SelectedScore, err, time.Since(st))
	rows, err := Evaluate(cfg.Env, lib, append(Baselines(wf.Best), AgentMethod("learned", ag)), Seeds(ValidationSeed0, 5))
	for _, r := range rows {
		fmt.Println(r.Method, r.Mean(), r.Decision)
	}
}
