package baselines

import (
	"math/rand/v2"
	"testing"
)

// benchmarkBRPNASEpoch measures one training epoch of cfg on 900 cells (the
// BRP-NAS training-set size); multiply by cfg.Epochs for a whole Fit.
func benchmarkBRPNASEpoch(b *testing.B, cfg BRPConfig) {
	xs, ops := allCells()
	raw := make([]float64, len(xs))
	for k, o := range ops {
		raw[k] = structural(o)
	}
	ys := normalise(raw)
	rng := rand.New(rand.NewPCG(1, 2))
	train, _ := split(rng, len(xs), 900, 0)
	tx, ty := pick(xs, train), pick(ys, train)
	cfg.Epochs = 1
	p := NewBRPNAS(cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := p.Fit(tx, ty, rng); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBRPNASEpochDefault is one epoch of DefaultBRPConfig (4×600,
// batch size 1).
func BenchmarkBRPNASEpochDefault(b *testing.B) { benchmarkBRPNASEpoch(b, DefaultBRPConfig()) }

// BenchmarkBRPNASEpochTiny is one epoch of the unit tests' configuration.
func BenchmarkBRPNASEpochTiny(b *testing.B) { benchmarkBRPNASEpoch(b, tinyBRP()) }

// BenchmarkLayerWiseFit fits the layer-wise table on 900 cells.
func BenchmarkLayerWiseFit(b *testing.B) {
	xs, _ := allCells()
	y := make([]float32, 900)
	for i := range y {
		y[i] = float32(i%7) / 7
	}
	l := NewLayerWise()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := l.Fit(xs[:900], y, nil); err != nil {
			b.Fatal(err)
		}
	}
}
