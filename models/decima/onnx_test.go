package decima

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// TestONNX: the exported decision, run in ONNX Runtime on the hand-made
// observations (one to three jobs, chains, forks, diamonds, two cluster
// sizes), takes Mode's stage and limit, and its stage and limit scores
// agree with the engine's within 1e-5 relative, for the patent's network
// (attention + LSTM) and Decima's own (neither).
func TestONNX(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]Config{"patent": DefaultConfig(), "decima": DecimaConfig()} {
		a := New(cfg, rand.New(rand.NewPCG(3, 9)))
		// Larger weights than the initialisation's, so that the scores
		// differ clearly between stages and limits; the attention scorer's
		// negated, so that its scores fall on the LeakyReLU's negative side.
		for _, p := range nn.Collect(a) {
			scale := float32(3)
			if p.Path == "gnn/att/w" {
				scale = -3
			}
			for i := range p.Param.V.Data {
				p.Param.V.Data[i] *= scale
			}
		}
		om, err := a.ONNXModel("test")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".onnx")
		if err := os.WriteFile(path, om.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		onnxtest.Check(t, path)
		for oi, o := range []spark.Obs{obsA(), obsB(), obsC(), obsD()} {
			tp := nn.NewInference()
			want := a.Mode(tp, []spark.Obs{o})[0]
			en := a.encode(tp, []spark.Obs{o})
			sl := a.stageLogits(tp, en).Data
			in, err := a.ONNXFeatures(o)
			if err != nil {
				t.Fatal(err)
			}
			out := onnxtest.Run(t, path, feeds(in))
			stage := o.Valid[int(out["stage"].Data[0])]
			limit := int(out["limit"].Data[0])
			if got := o.Action(stage, limit); got.Index != want.Index {
				t.Fatalf("%s, observation %d: ONNX chose slot %d limit %d (action %d), Mode action %d", name, oi, stage, limit, got.Index, want.Index)
			}
			var wantSL []float32
			for _, v := range o.Valid {
				wantSL = append(wantSL, sl[v])
			}
			w1 := onnxtest.Close(t, "stage_logits", out["stage_logits"].Data, wantSL, 1e-5)
			ll, _ := a.limitLogits(tp, en, []spark.Obs{o}, []int{stage})
			w2 := onnxtest.Close(t, "limit_logits", out["limit_logits"].Data, ll.Data, 1e-5)
			t.Logf("%s, observation %d: action %d, largest relative differences %.2g (stages), %.2g (limits)", name, oi, want.Index, w1, w2)
		}
	}
}

// feeds turns ONNXInput into ONNX Runtime inputs.
func feeds(in ONNXInput) map[string]onnxtest.Input {
	i64, f1 := onnxtest.I64, onnxtest.F32Vec
	return map[string]onnxtest.Input{
		"stage_features": onnxtest.F32([]int64{int64(len(in.X) / Features), Features}, in.X),
		"edge_parent":    i64(in.EdgeParent), "edge_child": i64(in.EdgeChild), "edge_level": i64(in.EdgeLvl),
		"node_level": i64(in.NodeLevel), "node_job": i64(in.NodeJob), "num_jobs": i64(in.NumJobs), "valid_stages": i64(in.Valid),
		"job_executors": f1(in.JobExecutors), "job_min_limit": f1(in.JobMinLimit), "limits": f1(in.Limits), "fair": f1(in.Fair),
	}
}

// TestONNXLevels: a chain of MaxONNXLevels stages (levels 0 to 15: every
// level the graph unrolls) is accepted and decided as Mode decides it,
// every level's message reaching the head of the chain; a chain of one
// more stage is refused, naming the depth.
func TestONNXLevels(t *testing.T) {
	chain := func(n int) []stageSpec {
		st := make([]stageSpec, n)
		for s := 0; s+1 < n; s++ {
			st[s].children = []int{s + 1}
		}
		return st
	}
	a := New(DefaultConfig(), rand.New(rand.NewPCG(2, 8)))
	om, err := a.ONNXModel("test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.onnx")
	if err := os.WriteFile(path, om.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	o := makeObs(cluster(5), []jobSpec{{1, 1, chain(MaxONNXLevels)}, {2, 1, single}}, 0, []int{0, MaxONNXLevels})
	in, err := a.ONNXFeatures(o)
	if err != nil {
		t.Fatalf("a chain of %d stages: %v", MaxONNXLevels, err)
	}
	tp := nn.NewInference()
	en := a.encode(tp, []spark.Obs{o})
	sl := a.stageLogits(tp, en).Data
	out := onnxtest.Run(t, path, feeds(in))
	onnxtest.Close(t, "stage_logits", out["stage_logits"].Data, []float32{sl[0], sl[MaxONNXLevels]}, 1e-5)
	deep := makeObs(cluster(5), []jobSpec{{1, 1, chain(MaxONNXLevels + 1)}}, 0, []int{0})
	if _, err := a.ONNXFeatures(deep); err == nil || !strings.Contains(err.Error(), "17 levels") {
		t.Fatalf("a chain of %d stages: %v, want a refusal naming 17 levels", MaxONNXLevels+1, err)
	}
}
