package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/models/mecdqn"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// TestExportTSFTEndToEnd is the path a user takes: adapt a predictor
// ('cpntrain tsft'), export it to ONNX, safetensors and .pt, and get from
// ONNX Runtime, and from PyTorch following the sidecar's formula, the
// latencies 'cpntrain tsft predict' prints, within 1e-5 relative, on 300
// cells of NAS-Bench-201 (with disconnected ones among them). Two
// predictors: the default selection (whose choice may lean on the
// layer-wise parts) and the paper's fine-tuned network alone (no blend),
// where every output goes through the network.
func TestExportTSFTEndToEnd(t *testing.T) {
	root := dataRoot(t)
	cache := t.TempDir()
	for _, method := range [][]string{{"--method", "select"}, {"--method", "tsft", "--blend-folds", "0", "--pseudo", "0"}} {
		t.Run(method[1], func(t *testing.T) { exportEndToEnd(t, root, cache, method) })
	}
}

func exportEndToEnd(t *testing.T, root, cache string, method []string) {
	out := t.TempDir()
	var so, se bytes.Buffer
	if code := run(append([]string{"cpntrain", "--quiet", "--data-dir", root, "--out", out, "tsft", "--device", "fpga", "--shots", "20",
		"--epochs", "1", "--cache", cache}, method...), &so, &se); code != 0 {
		t.Fatalf("tsft: exit %d: %s", code, se.String())
	}
	model := filepath.Join(out, "tsft-fpga.safetensors")
	for _, f := range []string{"onnx", "safetensors", "pt"} {
		r := runArgs(t, nil, "export", "--model", model, "--format", f)
		if r.code != exitOK {
			t.Fatalf("export --format %s: exit %d: %s", f, r.code, r.stderr)
		}
	}
	// Every 52nd cell, and the all-"none" cell (disconnected).
	var archs []string
	var edge []float32
	var dead int
	oh := make([]float32, tsft.EdgeFeatures)
	for i := 0; i < 15625; i += 52 {
		var a nasbench201.Arch
		for e, v := 0, i; e < 6; e, v = e+1, v/5 {
			a[e] = uint8(v % 5)
		}
		if !a.Connected() {
			dead++
		}
		archs = append(archs, a.String())
		tsft.EdgeOneHot(tsft.Cell(a), oh)
		edge = append(edge, oh...)
	}
	if dead == 0 {
		t.Fatal("no disconnected cell among the test cells")
	}
	list := filepath.Join(out, "archs.txt")
	if err := os.WriteFile(list, []byte("# test cells\n"+strings.Join(archs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runArgs(t, nil, "tsft", "predict", "--model", model, "--archs", list)
	if r.code != exitOK {
		t.Fatalf("tsft predict: exit %d: %s", r.code, r.stderr)
	}
	var norm, ms []float32
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[0] != archs[len(norm)] {
			t.Fatalf("predict line %q (want arch %s)", line, archs[len(norm)])
		}
		n, err1 := strconv.ParseFloat(f[1], 32)
		m, err2 := strconv.ParseFloat(f[2], 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("predict line %q: %v %v", line, err1, err2)
		}
		norm, ms = append(norm, float32(n)), append(ms, float32(m))
	}
	if len(norm) != len(archs) {
		t.Fatalf("%d predictions for %d cells", len(norm), len(archs))
	}
	onnxPath := filepath.Join(out, "tsft-fpga.onnx")
	onnxtest.Check(t, onnxPath)
	res := onnxtest.Run(t, onnxPath, map[string]onnxtest.Input{"edge_ops": onnxtest.F32([]int64{int64(len(archs)), tsft.EdgeFeatures}, edge)})
	onnxtest.Close(t, "ONNX latency vs tsft predict", res["latency"].Data, norm, 1e-5)
	onnxtest.Close(t, "ONNX latency_ms vs tsft predict", res["latency_ms"].Data, ms, 1e-5)

	// PyTorch: the state dict and the sidecar's recipe.
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch is not installed: the .pt check is skipped")
	}
	cmd := exec.Command(py, "-c", ptRecipe, filepath.Join(out, "tsft-fpga.pt"), filepath.Join(out, "tsft-fpga.pt.json"))
	req, _ := json.Marshal(map[string]any{"edge": edge, "n": len(archs)})
	cmd.Stdin = bytes.NewReader(req)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("PyTorch recipe: %v\n%s", err, got)
	}
	var pt struct{ Norm, Ms []float64 }
	if err := json.Unmarshal(got, &pt); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	onnxtest.Close(t, "PyTorch latency vs tsft predict", pt.Norm, norm, 1e-5)
	onnxtest.Close(t, "PyTorch latency_ms vs tsft predict", pt.Ms, ms, 1e-5)
}

// ptRecipe rebuilds the adapted predictor in PyTorch from the .pt state
// dict and the JSON sidecar alone, as docs/export.md tells a user to.
const ptRecipe = `
import json, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
side = json.load(open(sys.argv[2]))
req = json.load(sys.stdin)
x = torch.tensor(req["edge"], dtype=torch.float32).reshape(req["n"], 30)
ops = x.reshape(-1, 6, 5).argmax(-1)
h = torch.cat([x, torch.tensor(side["embedding"]).expand(x.shape[0], -1)], 1)
acts = {"relu": torch.relu, "none": lambda v: v}
for l in side["network"]["layers"]:
    h = acts[l["activation"]](h @ sd[l["weight"]].T + sd[l["bias"]])
y = h[:, 0]
post = side["postprocess"]
def per_op(m):
    return m["b"] + torch.tensor(m["beta_per_op"])[ops].sum(1)
if "correction" in post:
    c = post["correction"]
    y = c["a"] * y + per_op(c)
w = post["blend_weight"]
if w != 1:
    y = w * y + ((1 - w) * per_op(post["layerwise"]) if "layerwise" in post else 0)
live = ops != 0
r1 = live[:, 0]
r2 = live[:, 1] | (r1 & live[:, 2])
r3 = live[:, 3] | (r1 & live[:, 4]) | (r2 & live[:, 5])
y = y + post["dead_offset"] * (~r3).float()
m = post["ms"]
ms = torch.clamp(m["lo"] + (y - m["low"]) * (m["hi"] - m["lo"]) / (m["high"] - m["low"]), min=0)
print(json.dumps({"Norm": y.tolist(), "Ms": ms.tolist()}))
`

// TestExportOffloadONNX: a DQN offloading policy trained by 'offload
// train' and exported by 'export --format onnx' gives, in ONNX Runtime,
// the Q-values of the saved network on 5 devices' feature rows within
// 1e-5 relative; safetensors and .pt exports write their sidecars.
func TestExportOffloadONNX(t *testing.T) {
	out := t.TempDir()
	r := runArgs(t, nil, "--quiet", "--out", out, "offload", "train", "--devices", "6", "--steps", "300", "--eval-sets", "0")
	if r.code != exitOK {
		t.Fatalf("offload train: exit %d: %s", r.code, r.stderr)
	}
	model := filepath.Join(out, "model.safetensors")
	for _, f := range []string{"onnx", "safetensors", "pt"} {
		if r := runArgs(t, nil, "export", "--model", model, "--format", f); r.code != exitOK {
			t.Fatalf("export --format %s: exit %d: %s", f, r.code, r.stderr)
		}
	}
	q, _, err := mecdqn.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, 5*mecdqn.Features)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	tp := nn.NewInference()
	want := q.FromFeatures(tp, tp.Const(5, mecdqn.Features, x), 1, 5).Data
	path := filepath.Join(out, "model.onnx")
	onnxtest.Check(t, path)
	res := onnxtest.Run(t, path, map[string]onnxtest.Input{"device_features": onnxtest.F32([]int64{5, int64(mecdqn.Features)}, x)})
	onnxtest.Close(t, "q_values", res["q_values"].Data, want, 1e-5)
	if _, err := os.Stat(filepath.Join(out, "model.pt.json")); err != nil {
		t.Fatal(err)
	}
}

// TestExportDSPPOONNX: a DS-PPO agent trained by 'dsppo train' and
// exported by 'export --format onnx' answers, in ONNX Runtime, the
// saved actor's placement and wait logits on random features (4 nodes,
// 3 queued tasks, 5 options) within 1e-5 relative.
func TestExportDSPPOONNX(t *testing.T) {
	out := t.TempDir()
	r := runArgs(t, nil, "--quiet", "--out", out, "dsppo", "train", "--steps", "2048", "--eval-queues", "0")
	if r.code != exitOK {
		t.Fatalf("dsppo train: exit %d: %s", r.code, r.stderr)
	}
	model := filepath.Join(out, "model.safetensors")
	if r := runArgs(t, nil, "export", "--model", model, "--format", "onnx"); r.code != exitOK {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	ag, _, err := dsppo.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	actor := ag.Actors[0].(*dsppo.Actor)
	cfg := actor.Enc.Config
	rng := rand.New(rand.NewPCG(8, 8))
	randn := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	nodes, queue, glob, opt := randn(4*dsppo.NodeDim), randn(3*cfg.QueueDim()), randn(cfg.GlobalDim()), randn(5*dsppo.OptionDim)
	optNode := []int{0, 3, 1, 1, 2}
	place, wait := actor.FeatureLogits(nodes, queue, glob, opt, optNode)
	res := onnxtest.Run(t, filepath.Join(out, "model.onnx"), map[string]onnxtest.Input{
		"node_features":   onnxtest.F32([]int64{4, dsppo.NodeDim}, nodes),
		"queue_features":  onnxtest.F32([]int64{3, int64(cfg.QueueDim())}, queue),
		"global_features": onnxtest.F32([]int64{1, int64(cfg.GlobalDim())}, glob),
		"options":         onnxtest.F32([]int64{5, dsppo.OptionDim}, opt),
		"option_node":     onnxtest.Ints(optNode),
	})
	onnxtest.Close(t, "logits (placement, wait)", append(res["placement_logits"].Data, res["wait_logit"].Data...), append(place, wait...), 1e-5)
}

// TestExportRLMSONNX: an RLMS-CPN policy trained by 'rlms train' (the
// CLI's default policy: SyncGNN, path subsets, priors) and exported by
// 'export --format onnx' takes, in ONNX Runtime, the decisions the policy
// takes in 'rlms eval' (Model.Decision) on 15 simulator observations:
// the same candidate, the same split within 1e-5 relative.
func TestExportRLMSONNX(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	r := runArgs(t, nil, "--quiet", "--data-dir", root, "--out", out, "rlms", "train", "--steps", "2000", "--eval-seeds", "0")
	if r.code != exitOK {
		t.Fatalf("rlms train: exit %d: %s", r.code, r.stderr)
	}
	model := filepath.Join(out, "model.safetensors")
	if r := runArgs(t, nil, "export", "--model", model, "--format", "onnx"); r.code != exitOK {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	m, _, err := rlms.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Config.Subsets || !m.Config.Prior {
		t.Fatalf("the CLI's policy has no subsets or priors (%+v): the test would not exercise them", m.Config)
	}
	env, o := abileneEnv(t, root, 11)
	K, P := int64(m.Config.K), int64(m.Config.P)
	for i := range 15 {
		node, ratios := m.Decision(o)
		want := append([]float32(nil), ratios...)
		in := m.ONNXFeatures(o)
		i64 := onnxtest.I64
		res := onnxtest.Run(t, filepath.Join(out, "model.onnx"), map[string]onnxtest.Input{
			"compute_features": onnxtest.F32([]int64{K, rlms.ComputeIn}, in.Compute), "path_features": onnxtest.F32([]int64{K * P, rlms.PathIn}, in.Paths),
			"node_mask": onnxtest.F32([]int64{K}, in.NodeMask), "node_prior": onnxtest.F32([]int64{K}, in.NodePrior),
			"path_mask": onnxtest.F32([]int64{K * P}, in.PathMask), "path_wf": onnxtest.F32([]int64{K * P}, in.PathWF),
			"edge_src": i64(in.Src), "edge_dst": i64(in.Dst),
		})
		if got := int(res["node"].Data[0]); got != node {
			t.Fatalf("observation %d: ONNX chose candidate %d, the policy %d", i, got, node)
		}
		onnxtest.Close(t, fmt.Sprintf("observation %d: ratios", i), res["ratios"].Data, want, 1e-5)
		st, err := env.Step(rl.Action{Index: node, Values: want})
		if err != nil {
			t.Fatal(err)
		}
		o = st.Obs
	}
}

// TestExportDecimaONNX: a scheduler trained by 'decima train' (the
// patent's network: attention and LSTM) and exported by 'export --format
// onnx' takes, in ONNX Runtime, the decisions its Mode takes on 12
// observations of a TPC-H batch (20 jobs, 50 executors) as the episode
// runs: the same stage and executor limit.
func TestExportDecimaONNX(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	r := runArgs(t, nil, "--quiet", "--data-dir", root, "--out", out, "decima", "train", "--steps", "1", "--warm-epochs", "0",
		"--select-every", "0", "--eval-streams", "0", "--tune-streams", "1")
	if r.code != exitOK {
		t.Fatalf("decima train: exit %d: %s", r.code, r.stderr)
	}
	model := filepath.Join(out, "model.safetensors")
	if r := runArgs(t, nil, "export", "--model", model, "--format", "onnx"); r.code != exitOK {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	ag, _, err := decima.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	actor := ag.Actors[0].(*decima.Actor)
	scfg := spark.Batch()
	lib, err := tpch.LoadAll(root, scfg.Sizes)
	if err != nil {
		t.Fatal(err)
	}
	env, err := spark.NewEnv(scfg, lib)
	if err != nil {
		t.Fatal(err)
	}
	o, err := env.Reset(5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		want := actor.Mode(nn.NewInference(), []spark.Obs{o})[0]
		in, err := actor.ONNXFeatures(o)
		if err != nil {
			t.Fatal(err)
		}
		i64, f1 := onnxtest.I64, onnxtest.F32Vec
		res := onnxtest.Run(t, filepath.Join(out, "model.onnx"), map[string]onnxtest.Input{
			"stage_features": onnxtest.F32([]int64{int64(len(in.X) / decima.Features), decima.Features}, in.X),
			"edge_parent":    i64(in.EdgeParent), "edge_child": i64(in.EdgeChild), "edge_level": i64(in.EdgeLvl),
			"node_level": i64(in.NodeLevel), "node_job": i64(in.NodeJob), "num_jobs": i64(in.NumJobs), "valid_stages": i64(in.Valid),
			"job_executors": f1(in.JobExecutors), "job_min_limit": f1(in.JobMinLimit), "limits": f1(in.Limits), "fair": f1(in.Fair),
		})
		got := o.Action(int(in.Valid[int(res["stage"].Data[0])]), int(res["limit"].Data[0]))
		if got.Index != want.Index {
			t.Fatalf("observation %d: ONNX action %d, Mode %d", i, got.Index, want.Index)
		}
		st, err := env.Step(want)
		if err != nil {
			t.Fatal(err)
		}
		if st.Terminated || st.Truncated {
			break
		}
		o = st.Obs
	}
}
