package cpn

import (
	"math"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// linkAwareWaterFilling is a controller that knows every link's state and
// the simulator's bandwidth-sharing rule: for every candidate and every
// subset of its distinct paths it water-fills the data over the subset
// with each path's rate = min over its links of the available bandwidth
// divided among the subset's paths on that link, and it picks the
// candidate and subset of smallest compute + max(waiting, transfer). It is
// not a baseline of the bench (it is the oracle's model with a continuous
// split), but it shows where a water-filling controller's gap to the
// oracle comes from: links shared by a candidate's paths.
func linkAwareWaterFilling(e *Env) rl.Action {
	P := e.Net.Cfg.P
	iv := e.now
	bits := e.task.Bytes * 8
	d, b := make([]float64, P), make([]float64, P)
	orig := make([]int, P)
	best, bestEst := -1, math.Inf(1)
	var bestX []float32
	for i, c := range e.cands {
		ps := e.psets[i]
		for j := 0; j < P; j++ {
			if ps.orig[j] != j {
				continue
			}
			var q float64
			for _, l := range ps.links[j] {
				_, _, ql := e.linkState(iv, l)
				q += ql
			}
			d[j] = ps.prop[j] + q
		}
		wait := math.Max(0, e.busy[c]-e.now)
		for set := 1; set < 1<<P; set++ {
			ok := true
			for j := 0; j < P; j++ {
				orig[j] = -1
				if set>>j&1 == 1 {
					ok = ok && ps.orig[j] == j
					orig[j] = j
				}
			}
			if !ok {
				continue
			}
			for j := 0; j < P; j++ {
				if orig[j] != j {
					continue
				}
				b[j] = math.Inf(1)
				for _, l := range ps.links[j] {
					users := 0
					for k := 0; k < P; k++ {
						for _, l2 := range ps.links[k] {
							if orig[k] == k && l2 == l {
								users++
							}
						}
					}
					b[j] = math.Min(b[j], e.avail(iv, l)/float64(users))
				}
			}
			x := make([]float32, P)
			t := waterFill(x, d, b, orig, bits)
			if est := e.Net.Latency(c, e.task)/1000 + math.Max(wait, t); est < bestEst {
				best, bestEst, bestX = i, est, x
			}
		}
	}
	return rl.Action{Index: best, Values: bestX}
}

// TestLinkAwareWaterFillingReachesTheOracle measures how close a
// controller that knows every shared link gets to the oracle: on the four
// real topologies ≥ 98 % of the oracle's reduction over Base1 (it logs
// the wf baseline's share next to it).
func TestLinkAwareWaterFillingReachesTheOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the oracle on 4 topologies")
	}
	for _, topo := range []string{"abilene", "ebone", "sprintlink", "tiscali"} {
		n := testNetwork(t, func(c *Config) { c.Topology = topo })
		mean := func(decide func(*Env) rl.Action) float64 {
			var sum float64
			var tasks int
			for seed := uint64(1); seed <= 2; seed++ {
				e := NewEnv(n)
				e.Reset(1_000_000 + seed)
				for {
					s, err := e.Step(decide(e))
					if err != nil {
						t.Fatal(err)
					}
					sum += s.Info["latency_ms"]
					tasks++
					if s.Done() {
						break
					}
				}
			}
			return sum / float64(tasks)
		}
		must := func(name string) func(*Env) rl.Action {
			return func(e *Env) rl.Action {
				a, err := Baselines[name](e)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
		}
		b1, or, wf, la := mean(must("base1")), mean(must("oracle")), mean(must("wf")), mean(linkAwareWaterFilling)
		share := func(v float64) float64 { return 100 * (b1 - v) / (b1 - or) }
		t.Logf("%s: base1 %.2f, oracle %.2f, wf %.2f ms (%.1f %%), link-aware %.2f ms (%.1f %%)", topo, b1, or, wf, share(wf), la, share(la))
		if share(la) < 98 {
			t.Errorf("%s: the link-aware controller gets %.1f %% of the oracle's reduction", topo, share(la))
		}
	}
}
