package baselines

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// TestBRPNASScale trains BRP-NAS on 900 cells of the synthetic structural
// target (plus Gaussian noise of 1% of its range), as in the BRP-NAS and
// HELP few-shot setting, and logs the fit time and the held-out Spearman ρ
// and MSE of FastBRPConfig and DefaultBRPConfig (the published
// hyper-parameters: minutes here), next to the layer-wise and FLOPS
// baselines. It runs only when CPNTRAIN_LONG
// is set: CPNTRAIN_LONG=1 go test -run BRPNASScale -v ./models/baselines/
func TestBRPNASScale(t *testing.T) {
	if os.Getenv("CPNTRAIN_LONG") == "" {
		t.Skip("set CPNTRAIN_LONG=1 to run the paper-scale BRP-NAS fits")
	}
	xs, ops := allCells()
	rng := rand.New(rand.NewPCG(11, 12))
	raw := make([]float64, len(xs))
	for k, o := range ops {
		raw[k] = structural(o)
	}
	clean := normalise(raw)
	noisy := make([]float32, len(clean))
	for k, v := range clean {
		noisy[k] = v + float32(0.009*rng.NormFloat64()) // 1% of [0.05, 0.95]
	}
	train, test := split(rng, len(xs), 900, 5000)
	tx, ty := pick(xs, train), pick(noisy, train)
	ex, ey := pick(xs, test), pick(noisy, test)

	layer := NewLayerWise()
	if err := layer.Fit(tx, ty, nil); err != nil {
		t.Fatal(err)
	}
	lp := layer.Predict(ex, nil)
	t.Logf("%-28s ρ %.4f  MSE %.6f", "layer-wise", Spearman(lp, ey), MSE(lp, ey))
	flops := NewFLOPS()
	if err := flops.Fit(tx, ty, nil); err != nil {
		t.Fatal(err)
	}
	fp := flops.Predict(ex, nil)
	t.Logf("%-28s ρ %.4f  MSE %.6f", "flops", Spearman(fp, ey), MSE(fp, ey))

	type run struct {
		name string
		cfg  BRPConfig
	}
	runs := []run{{"FastBRPConfig", FastBRPConfig()}, {"DefaultBRPConfig (paper)", DefaultBRPConfig()}}
	for _, r := range runs {
		p := NewBRPNAS(r.cfg)
		start := time.Now()
		if err := p.Fit(tx, ty, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		pred := p.Predict(ex, nil)
		t.Logf("%-28s ρ %.4f  MSE %.6f  fit %v", r.name, Spearman(pred, ey), MSE(pred, ey), d.Round(time.Millisecond))
	}
}
