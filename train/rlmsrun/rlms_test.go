package rlmsrun

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

func testEnvConfig(t *testing.T) cpn.Config {
	t.Helper()
	dir := os.Getenv("CPNTRAIN_DATA")
	if dir == "" {
		t.Skip("CPNTRAIN_DATA is not set")
	}
	c := cpn.DefaultConfig()
	c.DataDir, c.Tasks = dir, 20
	return c
}

// TestBenchSmall runs the whole bench pipeline on a tiny budget: every
// policy is evaluated on the same tasks, the reports are written.
func TestBenchSmall(t *testing.T) {
	ec := testEnvConfig(t)
	tc := DefaultConfig(ec.K, ec.P)
	tc.AC.TotalTimesteps, tc.AC.NumEnvs, tc.Model.Dim, tc.Model.Hidden = 640, 4, 8, 8
	tc.Model.Rounds = 1 // as the CLI sets it: the MLP ablation must drop it
	cfg := BenchConfig{Env: ec, Train: tc, Topologies: []string{"abilene"}, Seeds: 2, TestSeed0: 50,
		Ks: []int{3}, Ablation: true, DQN: true, DQNSteps: 300}
	var log bytes.Buffer
	rows, err := Bench(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"base1": 2, "base2": 2, "base3": 2, "base4": 2, "wf": 2, "oracle": 2, "oracle-la": 2, PolicyRLMS: 2, PolicyMLP: 2, PolicyDQN: 2}
	for _, r := range rows {
		want[r.Policy]--
		if len(r.MeanMs) != 2 || len(r.PerTaskMs) != ec.Tasks || len(r.TaskMs) != 2*ec.Tasks {
			t.Fatalf("%s: %d seeds, %d tasks, %d over the seeds", r.Policy, len(r.MeanMs), len(r.PerTaskMs), len(r.TaskMs))
		}
		for _, m := range r.MeanMs {
			if !(m > 0) {
				t.Fatalf("%s: mean latency %v", r.Policy, m)
			}
		}
	}
	for p, n := range want {
		if n != 0 {
			t.Errorf("policy %s: %d rows missing", p, n)
		}
	}
	// Same tasks for every policy: the oracle is never slower than Base1
	// on average (it minimises each task's latency on the same state).
	var b1, or float64
	for _, r := range rows {
		m, _ := r.Mean()
		if r.Experiment == "topology" && r.Policy == "base1" {
			b1 = m
		}
		if r.Experiment == "topology" && r.Policy == "oracle" {
			or = m
		}
	}
	if !(or <= b1) {
		t.Errorf("oracle %.2f ms slower than base1 %.2f ms", or, b1)
	}
	var md bytes.Buffer
	WriteMarkdown(&md, rows, 2, ec.Tasks)
	for _, s := range []string{"| base1 |", "| rlms-cpn |", "| gnn+dqn |", "Abilene, K = 3"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
	dir := t.TempDir()
	if err := WriteCSV(filepath.Join(dir, "r.csv"), rows); err != nil {
		t.Fatal(err)
	}
	files, err := Plot(dir, "x-", rows)
	if err != nil || len(files) != 5 {
		t.Fatalf("plots %v, %v", files, err)
	}
}

// TestModelPolicyMatchesDecision: the evaluation policy is the model's
// deterministic decision.
func TestModelPolicyMatchesDecision(t *testing.T) {
	ec := testEnvConfig(t)
	net, err := cpn.NewNetwork(ec)
	if err != nil {
		t.Fatal(err)
	}
	tc := DefaultConfig(ec.K, ec.P)
	tc.AC.TotalTimesteps, tc.AC.NumEnvs = 320, 4
	m, _, err := Train(context.Background(), net, tc, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := cpn.NewEnv(net)
	e.Reset(9)
	a, err := ModelPolicy(m)(e).Decide(e.Obs())
	if err != nil {
		t.Fatal(err)
	}
	node, ratios := m.Decision(e.Obs())
	if a.Index != node || len(a.Values) != len(ratios) || a.Values[0] != ratios[0] {
		t.Fatalf("decider %+v, decision %d %v", a, node, ratios)
	}
	// The wrong K is refused.
	bad := tc
	bad.Model = rlms.DefaultConfig()
	bad.Model.K = ec.K + 1
	if _, _, err := Train(context.Background(), net, bad, nil); err == nil {
		t.Error("a model of another K was trained")
	}
}

// TestResumeAfterKill: an RLMS-CPN training run on the simulator killed
// after a checkpoint and resumed with a fresh model ends with exactly the
// parameters of an uninterrupted run (simulator snapshots, the actors, the
// critic, the optimizers and the generators are restored), with the
// actor-critic trainer and with PPO.
func TestResumeAfterKill(t *testing.T) {
	ec := testEnvConfig(t)
	net, err := cpn.NewNetwork(ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range Algos {
		t.Run(algo, func(t *testing.T) {
			tc := DefaultConfig(ec.K, ec.P)
			tc.Algo = algo
			tc.AC.NumEnvs, tc.AC.NSteps = 4, 5
			tc.PPO.NumEnvs, tc.PPO.NumSteps, tc.PPO.NumMinibatches, tc.PPO.UpdateEpochs = 4, 5, 2, 2
			tc.SetSteps(4 * 5 * 24)
			tc.SetSeed(3)
			tc.Model.Dim, tc.Model.Hidden = 8, 8
			params := func(m *rlms.Model) []float32 {
				var ps []float32
				for _, np := range nn.Collect(m) {
					ps = append(ps, np.Param.V.Data...)
				}
				return ps
			}
			ref, refRes, err := Train(context.Background(), net, tc, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.SetCheckpoint(filepath.Join(t.TempDir(), "state.safetensors"), 5)
			ctx, cancel := context.WithCancel(context.Background())
			episodes := 0
			_, _, err = Train(ctx, net, tc, func(step int64, m map[string]float64) {
				if _, ok := m["charts/episodic_return"]; ok {
					if episodes++; episodes == 6 {
						cancel()
					}
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("the killed run returned %v", err)
			}
			var firstStep int64 = -1
			got, res, err := Train(context.Background(), net, tc, func(step int64, m map[string]float64) {
				if firstStep < 0 {
					firstStep = step
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			// The second process started from the checkpoint, not from scratch.
			if firstStep < 100 || res.Updates != refRes.Updates || len(res.EpisodicReturns) != len(refRes.EpisodicReturns) {
				t.Fatalf("resumed run: first log at step %d, %d updates, %d episodes; uninterrupted %d updates, %d episodes",
					firstStep, res.Updates, len(res.EpisodicReturns), refRes.Updates, len(refRes.EpisodicReturns))
			}
			a, b := params(ref), params(got)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("parameter %d after resume %v, uninterrupted %v", i, b[i], a[i])
				}
			}
		})
	}
}

// TestConfigAlgo: the trainer is chosen by Algo; an unknown one is an
// error naming it, and each trainer's own settings are validated.
func TestConfigAlgo(t *testing.T) {
	c := DefaultConfig(5, 3)
	if c.Algo != AlgoAC || c.Validate() != nil {
		t.Fatalf("default: algo %q, %v", c.Algo, c.Validate())
	}
	c.SetSeed(7)
	c.SetSteps(1234)
	if c.Seed() != 7 || c.Steps() != 1234 || c.PPO.Seed != 7 || c.AC.TotalTimesteps != 1234 {
		t.Errorf("seed/steps not set on both trainers: %+v %+v", c.AC, c.PPO)
	}
	c.Algo = "sac"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"sac"`) {
		t.Errorf("unknown trainer: %v", err)
	}
	c.Algo = AlgoPPO
	c.PPO.ClipCoef = 0
	if c.Validate() == nil {
		t.Error("PPO with clip 0 validated")
	}
	c.PPO.ClipCoef, c.AC.NumEnvs = 0.2, 0
	if err := c.Validate(); err != nil {
		t.Errorf("PPO validated the actor-critic's settings: %v", err)
	}
}

// TestPriorStartsAtWaterFilling: an untrained model with the prior decides
// like the wf baseline — the same candidate, and a split that costs within
// 1 % of wf's on the same state (it differs by the untrained heads' small
// outputs and PriorEps).
func TestPriorStartsAtWaterFilling(t *testing.T) {
	ec := testEnvConfig(t)
	ec.Tasks = 100
	net, err := cpn.NewNetwork(ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, subsets := range []bool{false, true} {
		cfg := DefaultConfig(ec.K, ec.P).Model
		cfg.Prior, cfg.Subsets = true, subsets
		checkStartsAtWF(t, net, rlms.New(cfg, rand.New(rand.NewPCG(1, 2))))
	}
}

func checkStartsAtWF(t *testing.T, net *cpn.Network, m *rlms.Model) {
	e := cpn.NewEnv(net)
	e.Reset(7)
	for k := 0; ; k++ {
		w, err := e.WaterFilling()
		if err != nil {
			t.Fatal(err)
		}
		node, ratios := m.Decision(e.Obs())
		got, err := e.Evaluate(rl.Action{Index: node, Values: ratios})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := e.Evaluate(w)
		if node != w.Index || math.Abs(got.LatencyMs-want.LatencyMs) > 0.01*want.LatencyMs {
			t.Fatalf("task %d: model %d %v (%.4f ms), wf %d %v (%.4f ms)", k, node, ratios, got.LatencyMs, w.Index, w.Values, want.LatencyMs)
		}
		if s, _ := e.Step(w); s.Done() {
			break
		}
	}
}
