package rlms

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// onnxObs is a plausible observation of K candidates and P paths drawn
// from rng (no data needed): one masked candidate, one repeated path row.
func onnxObs(rng *rand.Rand, k, p int) cpn.Obs {
	o := cpn.Obs{K: k, P: p, Task: cpn.Task{Images: 1 + rng.IntN(500), Bytes: 1e5 + 1e7*rng.Float64(), Arch: rng.IntN(cpn.NumArchs)},
		Nodes: make([]cpn.Candidate, k), Paths: make([]cpn.Path, k*p), NodeMask: make([]bool, k), PathMask: make([]bool, k*p), Overlap: make([]bool, k*p*p)}
	for i := range o.Nodes {
		est := 5 + 50*rng.Float64()
		o.Nodes[i] = cpn.Candidate{ComputeMs: 1 + 30*rng.Float64(), WaitMs: 10 * rng.Float64(), Hops: 1 + rng.IntN(4), Class: cpn.Class(rng.IntN(cpn.NumClasses)),
			WaterFillMs: est / 2, SharedWaterFillMs: est / 1.8, SinglePathMs: est / 1.5, EstimateMs: est}
		o.NodeMask[i] = i != 1
	}
	for q := range o.Paths {
		bw := 1e8 + 1e9*rng.Float64()
		o.Paths[q] = cpn.Path{ProbeMs: 1 + 5*rng.Float64(), PropMs: 1 + 3*rng.Float64(), BottleneckBps: bw, Hops: 1 + rng.IntN(5), Util: rng.Float64(),
			AloneMs: 5 + 20*rng.Float64(), SharedLinks: float64(rng.IntN(2)), SharedBottleneckBps: bw / 2, BandwidthShare: 1 / float64(p), SpeedShare: 1 / float64(p),
			WaterFill: float32(rng.Float64()), SharedWaterFill: float32(rng.Float64()), Split: float32(rng.Float64())}
		o.PathMask[q] = q%p != p-1 || q/p != 0 // candidate 0's last path repeats
		o.Overlap[q*p%len(o.Overlap)] = rng.IntN(2) == 0
	}
	if p > 1 {
		o.Paths[p-1] = o.Paths[0]
	}
	return o
}

// TestONNX: the decision graph, run in ONNX Runtime on 12 observations
// per policy, picks the candidate Decision picks and its split within
// 1e-5 relative, for the CLI's default policy (SyncGNN, path subsets,
// priors, logistic-normal split), a SyncGNN with path edges, 2 rounds and
// the Dirichlet split (which takes no prior), and the MLP encoder with neither subsets nor
// priors.
func TestONNX(t *testing.T) {
	dir := t.TempDir()
	for name, mod := range map[string]func(*Config){
		// The CLI's default policy.
		"syncgnn-subsets-priors-logistic": func(c *Config) {
			c.Split, c.Subsets, c.Prior = SplitLogisticNormal, true, true
		},
		"syncgnn-pathedges-2rounds-dirichlet": func(c *Config) {
			c.PathEdges, c.Rounds = true, 2
		},
		"mlp-dirichlet-plain": func(c *Config) {
			c.Encoder, c.Split, c.Subsets, c.Prior = EncoderMLP, SplitDirichlet, false, false
		},
	} {
		cfg := DefaultConfig()
		if mod != nil {
			mod(&cfg)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		m := New(cfg, rng)
		om, err := m.ONNXModel("test")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".onnx")
		if err := os.WriteFile(path, om.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		onnxtest.Check(t, path)
		worst := 0.0
		for i := range 12 {
			o := onnxObs(rng, cfg.K, cfg.P)
			node, ratios := m.Decision(o)
			wantRatios := append([]float32(nil), ratios...)
			in := m.ONNXFeatures(o)
			feeds := map[string]onnxtest.Input{
				"compute_features": onnxtest.F32([]int64{int64(cfg.K), ComputeIn}, in.Compute),
				"path_features":    onnxtest.F32([]int64{int64(cfg.K * cfg.P), PathIn}, in.Paths),
				"node_mask":        onnxtest.F32([]int64{int64(cfg.K)}, in.NodeMask),
				"node_prior":       onnxtest.F32([]int64{int64(cfg.K)}, in.NodePrior),
				"path_mask":        onnxtest.F32([]int64{int64(cfg.K * cfg.P)}, in.PathMask),
				"path_wf":          onnxtest.F32([]int64{int64(cfg.K * cfg.P)}, in.PathWF),
			}
			if m.Node.Encoder.GNN != nil {
				feeds["edge_src"], feeds["edge_dst"] = onnxtest.I64(in.Src), onnxtest.I64(in.Dst)
			}
			out := onnxtest.Run(t, path, feeds)
			if got := int(out["node"].Data[0]); got != node {
				t.Fatalf("%s, observation %d: ONNX chose candidate %d, Decision %d", name, i, got, node)
			}
			worst = max(worst, onnxtest.Close(t, name+" ratios", out["ratios"].Data, wantRatios, 1e-5))
		}
		t.Logf("%s: 12 observations, same candidates, largest relative difference of the split %.2g", name, worst)
	}
}
