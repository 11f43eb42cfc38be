package dsppo

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/internal/onnxtest"
)

// TestONNX: the exported actor, run in ONNX Runtime on random features of
// one observation (3, 1 or 2 nodes; 2, 0 or 1 queued tasks; 4, 1 or 2
// options), gives the engine's placement and wait logits (heads, before
// the prior) within 1e-5 relative.
func TestONNX(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	cfg := DefaultConfig(3)
	a := NewActor(cfg, rng)
	om, err := a.ONNXModel("test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.onnx")
	if err := os.WriteFile(path, om.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, path)
	randn := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, c := range []struct{ nodes, queued, options int }{{3, 2, 4}, {1, 0, 1}, {2, 1, 2}} {
		nodes, queue, glob := randn(c.nodes*NodeDim), randn(c.queued*cfg.queueDim()), randn(cfg.globalDim())
		opt := randn(c.options * OptionDim)
		optNode := make([]int, c.options)
		for i := range optNode {
			optNode[i] = rng.IntN(c.nodes)
		}
		place, wait := a.FeatureLogits(nodes, queue, glob, opt, optNode)
		out := onnxtest.Run(t, path, map[string]onnxtest.Input{
			"node_features":   onnxtest.F32([]int64{int64(c.nodes), NodeDim}, nodes),
			"queue_features":  onnxtest.F32([]int64{int64(c.queued), int64(cfg.queueDim())}, queue),
			"global_features": onnxtest.F32([]int64{1, int64(cfg.globalDim())}, glob),
			"options":         onnxtest.F32([]int64{int64(c.options), OptionDim}, opt),
			"option_node":     onnxtest.Ints(optNode),
		})
		// The logits of one decision, compared on one scale.
		w := onnxtest.Close(t, "logits (placement, wait)", append(out["placement_logits"].Data, out["wait_logit"].Data...), append(place, wait...), 1e-5)
		t.Logf("%+v: largest relative difference %.2g", c, w)
	}
}
