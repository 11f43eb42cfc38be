package serverun

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/internal/serve"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// validObs is a plausible observation for K = 5, P = 3 (no data needed).
func validObs() cpn.Obs {
	o := cpn.Obs{K: 5, P: 3, Task: cpn.Task{Images: 64, Bytes: 196608, Arch: 7},
		Nodes: make([]cpn.Candidate, 5), Paths: make([]cpn.Path, 15), NodeMask: make([]bool, 5), PathMask: make([]bool, 15)}
	for i := range o.Nodes {
		o.Nodes[i] = cpn.Candidate{ComputeMs: 3 + float64(i), Hops: 1 + i%3, Class: cpn.Class(i % 2), WaterFillMs: 2, SharedWaterFillMs: 2.5, SinglePathMs: 3, EstimateMs: 6 + float64(i)}
		o.NodeMask[i] = i != 2
	}
	for j := range o.Paths {
		o.Paths[j] = cpn.Path{ProbeMs: 1 + float64(j%3), PropMs: 1, BottleneckBps: 1e9, Hops: 2, Util: 0.3, AloneMs: 2, BandwidthShare: 1.0 / 3, SpeedShare: 1.0 / 3, WaterFill: 1.0 / 3, SharedWaterFill: 1.0 / 3, Split: 1.0 / 3}
		o.PathMask[j] = true
	}
	return o
}

func infer(t testing.TB, m serve.Model, obs ...[]byte) ([]serve.Tensor, error) {
	return m.Infer(context.Background(), map[string]*serve.Tensor{"observation": {Name: "observation", Datatype: serve.BYTES, Shape: []int64{int64(len(obs))}, Bytes: obs}})
}

// TestRLMSModel: the served decision is the model's Decision (node and
// ratios, a batch of two), and every malformed observation is a request
// error naming what is wrong.
func TestRLMSModel(t *testing.T) {
	pm := rlms.New(rlms.DefaultConfig(), rand.New(rand.NewPCG(2, 2)))
	ref := pm.Clone()
	m := newRLMS(pm)
	o := validObs()
	b, _ := json.Marshal(o)
	out, err := infer(t, m, b, b)
	if err != nil {
		t.Fatal(err)
	}
	node, ratios := ref.Decision(o)
	if out[0].INT64[0] != int64(node) || out[0].INT64[1] != int64(node) || len(out[1].FP32) != 6 || out[1].Shape[1] != 3 {
		t.Fatalf("outputs %+v, want node %d twice", out, node)
	}
	for j, r := range ratios {
		if out[1].FP32[j] != r || out[1].FP32[3+j] != r {
			t.Fatalf("ratios %v, want %v twice", out[1].FP32, ratios)
		}
	}
	mod := func(f func(*cpn.Obs)) []byte {
		o := validObs()
		f(&o)
		b, _ := json.Marshal(o)
		return b
	}
	for _, c := range []struct {
		obs  []byte
		want string
	}{
		{[]byte(`{`), "observation 0"},
		{mod(func(o *cpn.Obs) { o.K = 4 }), "K=4, P=3; the model decides for K=5, P=3"},
		{mod(func(o *cpn.Obs) { o.Nodes = o.Nodes[:4] }), "4 Nodes"},
		{mod(func(o *cpn.Obs) { o.PathMask = nil }), "0 PathMask"},
		{mod(func(o *cpn.Obs) { o.NodeMask = make([]bool, 5) }), "no allowed candidate"},
		{mod(func(o *cpn.Obs) { o.Nodes[1].ComputeMs = 1e300 }), "candidate 1: a value out of range"},
		{mod(func(o *cpn.Obs) { o.Paths[4].BottleneckBps = -1e200 }), "path 4: a value out of range"},
		{mod(func(o *cpn.Obs) { o.Task.Arch = -1 }), "task"},
		{mod(func(o *cpn.Obs) { o.Nodes[0].Class = 9 }), "candidate 0"},
		{mod(func(o *cpn.Obs) { o.Overlap = []bool{true} }), "1 Overlap entries"},
	} {
		_, err := infer(t, m, c.obs)
		var re *serve.RequestError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &re) {
			t.Errorf("%.80s: %v, want a request error with %q", c.obs, err, c.want)
		}
	}
}

// FuzzObservation: any observation bytes give a decision or a request
// error; nothing panics.
func FuzzObservation(f *testing.F) {
	b, _ := json.Marshal(validObs())
	f.Add(b)
	f.Add([]byte(`{"K":5,"P":3}`))
	f.Add([]byte(`null`))
	m := newRLMS(rlms.New(rlms.DefaultConfig(), rand.New(rand.NewPCG(2, 2))))
	f.Fuzz(func(t *testing.T, obs []byte) {
		out, err := infer(t, m, obs)
		if err != nil {
			var re *serve.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("%q: %v is not a request error", obs, err)
			}
			return
		}
		var sum float32
		for _, r := range out[1].FP32 {
			sum += r
		}
		if n := out[0].INT64[0]; n < 0 || n >= 5 || sum < 0.999 || sum > 1.001 {
			t.Fatalf("%q: node %d, ratios %v", obs, n, out[1].FP32)
		}
	})
}
