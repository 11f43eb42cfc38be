package cpn

import (
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

func benchBaseline(b *testing.B, name string) {
	n := testNetwork(b, nil)
	e := NewEnv(n)
	e.Reset(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Baselines[name](e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOracle(b *testing.B) { benchBaseline(b, "oracle") }
func BenchmarkBase3(b *testing.B)  { benchBaseline(b, "base3") }

func BenchmarkStep(b *testing.B) {
	n := testNetwork(b, nil)
	e := NewEnv(n)
	e.Reset(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := e.Step(rl.Action{Index: 0, Values: e.ECMP(0)})
		if err != nil {
			b.Fatal(err)
		}
		if s.Done() {
			e.Reset(uint64(i))
		}
	}
}
