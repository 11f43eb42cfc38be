package rlms

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// TestEncodeKnownValues: every column of the encoding, by hand. Two
// candidates (the second missing: a zero row), two paths each (the second
// path row of candidate 0 repeats the first: its measurements, no shares).
// Values are chosen so that log1p(x) = ln(1 + x) is a round logarithm.
func TestEncodeKnownValues(t *testing.T) {
	o := cpn.Obs{K: 2, P: 2,
		Task: cpn.Task{Bytes: 1e7, Images: 8},
		Nodes: []cpn.Candidate{{ComputeMs: 3, WaitMs: 1, Hops: 4, Class: cpn.GPU,
			WaterFillMs: 7, SharedWaterFillMs: 15, SinglePathMs: 31, EstimateMs: 63}, {}},
		Paths: []cpn.Path{
			{ProbeMs: 1, PropMs: 25, BottleneckBps: 3e9, Hops: 5, Util: 0.25, AloneMs: 9, SharedLinks: 0.5,
				SharedBottleneckBps: 1e9, BandwidthShare: 0.625, SpeedShare: 0.375, WaterFill: 0.75, SharedWaterFill: 0.125, Split: 1},
			{ProbeMs: 1, PropMs: 25, BottleneckBps: 3e9, Hops: 5, Util: 0.25, AloneMs: 9, SharedLinks: 0.5, SharedBottleneckBps: 1e9},
			{}, {}},
		NodeMask: []bool{true, false}, PathMask: []bool{true, false, false, false}}
	f := Encode(o)
	check := func(what string, got []float32, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d columns, want %d", what, len(got), len(want))
		}
		for c := range want {
			if math.Abs(float64(got[c])-want[c]) > 1e-6*math.Max(1, math.Abs(want[c])) {
				t.Errorf("%s column %d = %v, want %v", what, c, got[c], want[c])
			}
		}
	}
	check("task", f.Task, []float64{1, 3}) // log10(10 MB), log2(8)
	// compute ln 4, wait ln 2, hops 0.4, GPU one-hot, finish ln 5, water-fill
	// ln 8, estimate ln 64, ratio ln(63/63) = 0 (the only candidate), shared
	// ln 16, single ln 32.
	check("candidate 0", f.Nodes[:NodeFeatures], []float64{math.Log(4), math.Log(2), 0.4, 0, 1, 0, math.Log(5), math.Log(8), math.Log(64), 0, math.Log(16), math.Log(32)})
	check("candidate 1 (missing)", f.Nodes[NodeFeatures:], make([]float64, NodeFeatures))
	// probe ln 2, prop 2.5, bottleneck ln 4 (3 Gbit/s), hops 0.5, util,
	// alone ln 10, shares, shared links, shared bottleneck ln 2 (1 Gbit/s).
	measured := []float64{math.Log(2), 2.5, math.Log(4), 0.5, 0.25, math.Log(10)}
	check("path 0", f.Paths[:PathFeatures], append(append([]float64(nil), measured...), 0.625, 0.375, 0.75, 0.5, math.Log(2), 0.125, 1))
	check("path 1 (repeats path 0)", f.Paths[PathFeatures:2*PathFeatures], append(append([]float64(nil), measured...), 0, 0, 0, 0.5, math.Log(2), 0, 0))
	check("candidate 1's paths", f.Paths[2*PathFeatures:], make([]float64, 2*PathFeatures))

	// The estimate ratio is against the smallest estimate of the
	// candidates that exist: 63 and 7·e ms give 1 and 0.
	o.Nodes[1] = cpn.Candidate{EstimateMs: 63 / math.E, Class: cpn.CPU}
	o.NodeMask[1] = true
	f = Encode(o)
	if got := f.Nodes[NodeEstRatio]; math.Abs(float64(got)-1) > 1e-6 {
		t.Errorf("estimate ratio %v, want ln(e) = 1", got)
	}
	if got := f.Nodes[NodeFeatures+NodeClass]; got != 1 {
		t.Errorf("candidate 1: CPU one-hot %v, want 1", got)
	}
}

// TestEncodeMatchesTheBatch: the model's batch holds Encode's rows, each
// followed by the task's features.
func TestEncodeMatchesTheBatch(t *testing.T) {
	obs := randBatch(rand.New(rand.NewPCG(3, 3)), 4, 3, 2, 0.3)
	var b batch
	b.fill(obs, 3, 2, noEdges)
	for r, o := range obs {
		f := Encode(o)
		for i := range 3 {
			row := b.compute[(r*3+i)*ComputeIn : (r*3+i+1)*ComputeIn]
			for c, v := range append(append([]float32(nil), f.Nodes[i*NodeFeatures:(i+1)*NodeFeatures]...), f.Task...) {
				if row[c] != v {
					t.Fatalf("obs %d, candidate %d, column %d: batch %v, Encode %v", r, i, c, row[c], v)
				}
			}
		}
		for q := range 6 {
			row := b.paths[(r*6+q)*PathIn : (r*6+q+1)*PathIn]
			for c, v := range append(append([]float32(nil), f.Paths[q*PathFeatures:(q+1)*PathFeatures]...), f.Task...) {
				if row[c] != v {
					t.Fatalf("obs %d, path %d, column %d: batch %v, Encode %v", r, q, c, row[c], v)
				}
			}
		}
	}
}
