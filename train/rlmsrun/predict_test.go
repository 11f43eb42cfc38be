package rlmsrun

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// TestToMsKnownValues: measured cells 0, 1, 2 with p = 0.1, 0.2, 0.3 and
// 2, 4, 6 ms give the line 20·p; cell 3 (p 0.4) → 8 ms, cell 4 (p −0.5)
// → −10, floored at a tenth of the smallest measurement, 0.2 ms.
func TestToMsKnownValues(t *testing.T) {
	p := []float32{0.1, 0.2, 0.3, 0.4, -0.5}
	raw := []float32{2, 4, 6, 0, 0}
	got := toMs(p, raw, []int{0, 1, 2})
	want := []float64{2, 4, 6, 8, 0.2}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 {
			t.Fatalf("toMs = %v, want %v", got, want)
		}
	}
	// Constant predictions: the mean of the measurements.
	got = toMs([]float32{0.5, 0.5, 0.5}, []float32{1, 2, 6}, []int{0, 1, 2})
	if math.Abs(float64(got[0])-3) > 1e-6 {
		t.Fatalf("constant predictions → %v, want 3", got)
	}
}

// TestTSFTLatenciesOnHELPData: with one pretraining epoch, every device the
// simulator uses gets a prediction table; each device's base model was
// pretrained without its family (titan_rtx's on 27 − 3 family − 1 twin
// (2080ti_256) − titanx_32 = 22 devices); a run is deterministic; bad
// budgets are errors.
func TestTSFTLatenciesOnHELPData(t *testing.T) {
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA not set")
	}
	cfg := DefaultPredictorConfig(10, 1, t.TempDir())
	cfg.Pretrain.Epochs = 1
	lat, rep, err := TSFTLatencies(context.Background(), root, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lat == nil || len(rep) != len(cpn.LatencyDevices()) {
		t.Fatalf("%d device reports, want %d", len(rep), len(cpn.LatencyDevices()))
	}
	for _, r := range rep {
		if !(r.Rho > 0.5) || !(r.RelMAE < 0.5) {
			t.Errorf("%s predicted with ρ %v, relative MAE %v", r.Device, r.Rho, r.RelMAE)
		}
		if r.Device == "titan_rtx_1" && r.TrainDevices != 22 {
			t.Errorf("titan_rtx base model on %d devices, want 22", r.TrainDevices)
		}
		if tsftrun.Family(r.Device) == "gold_6226" && r.TrainDevices != 25 {
			t.Errorf("gold_6226 base model on %d devices, want 25 (27 − itself − titanx_32)", r.TrainDevices)
		}
	}
	_, rep2, err := TSFTLatencies(context.Background(), root, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep {
		rep[i].Seconds, rep2[i].Seconds = 0, 0
	}
	if !slices.Equal(rep, rep2) {
		t.Fatal("two runs with the same seed differ")
	}
	for _, shots := range []int{0, 9, 901} {
		c := cfg
		c.Shots = shots
		if _, _, err := TSFTLatencies(context.Background(), root, c, nil); err == nil {
			t.Errorf("%d shots accepted", shots)
		}
	}
}
