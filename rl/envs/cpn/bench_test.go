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

// BenchmarkStep is one task of the controller's work besides the policy:
// commit the decision, draw the next task, filter its candidates, look up
// their paths (cached after the first task from an access point) and
// probe them. On Kdl the first lookups run Yen's algorithm on 754 nodes.
func BenchmarkStep(b *testing.B) {
	for _, topo := range []string{"abilene", "kdl"} {
		b.Run(topo, func(b *testing.B) { benchStep(b, topo) })
	}
}

func benchStep(b *testing.B, topo string) {
	n := testNetwork(b, func(c *Config) { c.Topology = topo })
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
