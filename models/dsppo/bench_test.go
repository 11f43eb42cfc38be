package dsppo

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// BenchmarkDecide: one greedy decision of an untrained agent (the network
// costs the same trained) on the paper's 33 nodes with 64 waiting tasks
// listed, at widths 32 and 64 (the bar: 100 µs).
func BenchmarkDecide(b *testing.B) {
	t := &testing.T{}
	o := busyObs(t, burst(), 600)
	for o.Waiting < 65 {
		o = busyObs(t, burst(), 600+o.Waiting)
	}
	if len(o.Queue) != 64 || len(o.Nodes) != 33 {
		b.Fatalf("%d queued listed, %d nodes", len(o.Queue), len(o.Nodes))
	}
	for _, dim := range []int{32, 64} {
		cfg := DefaultConfig(5)
		cfg.Dim = dim
		ag, _ := NewAgent(cfg, rand.New(rand.NewPCG(1, 1)))
		p := agent.Greedy(ag)
		b.Run(map[int]string{32: "width32", 64: "width64"}[dim], func(b *testing.B) {
			for b.Loop() {
				o.Memo = new(cluster.Memo) // a new observation: its features are computed too
				if _, err := p.Decide(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
