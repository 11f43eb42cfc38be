package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchShapes = append(append([]shape(nil), engineShapes...),
	shape{"sq256_256x256x256", 256, 256, 256, false, false, false},
	shape{"sq256_NT", 256, 256, 256, false, true, false},
	shape{"sq256_TN", 256, 256, 256, true, false, false},
	shape{"sq128_128x128x128", 128, 128, 128, false, false, false},
	shape{"sq512_512x512x512", 512, 512, 512, false, false, false},
)

func benchOne(b *testing.B, kern Kernel, s shape) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice(r, s.m*s.k)
	bb := randSlice(r, s.k*s.n)
	dst := make([]float32, s.m*s.n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		kern.MatMul(dst, a, bb, s.m, s.k, s.n, s.transA, s.transB, s.acc)
	}
	b.ReportMetric(2*float64(s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul covers the engine's shapes (MLP 32→64→64→8 train step at
// batch 64, batch-1 inference) and square sizes, for every kernel.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range benchShapes {
		for _, kern := range Available() {
			if s.m*s.k*s.n > 1<<20 && kern.Name() == "generic" && s.m > 256 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, kern.Name()), func(b *testing.B) { benchOne(b, kern, s) })
		}
	}
}

// BenchmarkTrainStep runs the nine products of one train step; BenchmarkInfer
// the three of one batch-1 forward pass.
func BenchmarkTrainStep(b *testing.B) { benchGroup(b, engineShapes[:9]) }

// BenchmarkInfer runs the three products of batch-1 inference.
func BenchmarkInfer(b *testing.B) { benchGroup(b, engineShapes[9:]) }

func benchGroup(b *testing.B, shapes []shape) {
	for _, kern := range Available() {
		b.Run(kern.Name(), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			type prob struct{ a, b, d []float32 }
			ps := make([]prob, len(shapes))
			flops := 0
			for i, s := range shapes {
				ps[i] = prob{randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)}
				flops += 2 * s.m * s.k * s.n
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i, s := range shapes {
					kern.MatMul(ps[i].d, ps[i].a, ps[i].b, s.m, s.k, s.n, s.transA, s.transB, s.acc)
				}
			}
			b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
