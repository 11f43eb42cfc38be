package rlms

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// randObs returns an observation of k candidates and p path rows with
// random measurements in physical units: each candidate is missing with
// probability missing (at least one exists), and has 1 … p real paths, the
// other rows repeating its first path with PathMask false and shares 0 (as
// the environment does).
func randObs(rng *rand.Rand, k, p int, missing float64) cpn.Obs {
	o := cpn.Obs{
		K: k, P: p,
		Task:     cpn.Task{Bytes: 1e5 * math.Pow(100, rng.Float64()), Images: 1 + rng.IntN(256)},
		Nodes:    make([]cpn.Candidate, k),
		Paths:    make([]cpn.Path, k*p),
		NodeMask: make([]bool, k),
		PathMask: make([]bool, k*p),
	}
	exists := false
	for i := 0; i < k; i++ {
		if rng.Float64() < missing && (exists || i < k-1) {
			continue
		}
		exists = true
		o.NodeMask[i] = true
		o.Nodes[i] = randCandidate(rng)
		n := 1 + rng.IntN(p)
		for j := 0; j < p; j++ {
			q := i*p + j
			if j < n {
				o.PathMask[q] = true
				o.Paths[q] = randPath(rng)
			} else {
				o.Paths[q] = o.Paths[i*p]
				o.Paths[q].BandwidthShare, o.Paths[q].SpeedShare = 0, 0
				o.Paths[q].WaterFill, o.Paths[q].SharedWaterFill, o.Paths[q].Split = 0, 0, 0
			}
		}
	}
	return o
}

// logUniform is a random value between lo and hi, uniform in log scale.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, rng.Float64())
}

func randCandidate(rng *rand.Rand) cpn.Candidate {
	c := cpn.Candidate{ComputeMs: logUniform(rng, 0.1, 1e4), Hops: 1 + rng.IntN(8), Class: cpn.Class(rng.IntN(3)),
		WaterFillMs: logUniform(rng, 0.5, 1e3), SinglePathMs: logUniform(rng, 0.5, 1e3)}
	if rng.IntN(2) == 0 {
		c.WaitMs = logUniform(rng, 0.1, 1e3)
	}
	c.SharedWaterFillMs = c.WaterFillMs * (1 + rng.Float64())
	c.EstimateMs = c.ComputeMs + max(c.WaitMs, min(c.SharedWaterFillMs, c.SinglePathMs))
	return c
}

func randPath(rng *rand.Rand) cpn.Path {
	p := cpn.Path{ProbeMs: logUniform(rng, 0.5, 50), PropMs: logUniform(rng, 0.5, 30), BottleneckBps: logUniform(rng, 1e7, 1e10),
		Hops: 1 + rng.IntN(8), Util: rng.Float64() * 0.99, SharedLinks: rng.Float64(),
		BandwidthShare: rng.Float64(), SpeedShare: rng.Float64(),
		WaterFill: float32(rng.Float64()), SharedWaterFill: float32(rng.Float64()), Split: float32(rng.Float64())}
	p.AloneMs = p.ProbeMs + logUniform(rng, 0.01, 1e3)
	p.SharedBottleneckBps = p.BottleneckBps * (0.2 + 0.8*rng.Float64())
	return p
}

// perturb changes every measurement of path q of o (in a copy of Paths).
func perturb(o *cpn.Obs, q int, rng *rand.Rand) {
	o.Paths = slices.Clone(o.Paths)
	p := &o.Paths[q]
	f := func() float64 { return 1.5 + rng.Float64() }
	p.ProbeMs *= f()
	p.PropMs *= f()
	p.BottleneckBps *= f()
	p.Hops++
	p.Util /= f()
	p.AloneMs *= f()
	p.SharedLinks /= f()
	p.SharedBottleneckBps *= f()
	p.BandwidthShare /= f()
	p.SpeedShare /= f()
	p.WaterFill /= float32(f())
	p.SharedWaterFill /= float32(f())
	p.Split /= float32(f())
}

func randBatch(rng *rand.Rand, r, k, p int, missing float64) []cpn.Obs {
	obs := make([]cpn.Obs, r)
	for i := range obs {
		obs[i] = randObs(rng, k, p, missing)
	}
	return obs
}

// permute returns o with its candidates reordered: candidate i of the
// result is candidate perm[i] of o (node row, block of path rows, masks).
func permute(o cpn.Obs, perm []int) cpn.Obs {
	k, p := o.K, o.P
	out := cpn.Obs{K: k, P: p, Task: o.Task,
		Nodes: make([]cpn.Candidate, k), Paths: make([]cpn.Path, k*p),
		NodeMask: make([]bool, k), PathMask: make([]bool, k*p)}
	for i, s := range perm {
		out.Nodes[i] = o.Nodes[s]
		copy(out.Paths[i*p:(i+1)*p], o.Paths[s*p:(s+1)*p])
		out.NodeMask[i] = o.NodeMask[s]
		copy(out.PathMask[i*p:(i+1)*p], o.PathMask[s*p:(s+1)*p])
	}
	return out
}

func tinyConfig(enc string) Config {
	return Config{Encoder: enc, Dim: 4, Hidden: 5, K: 3, P: 2}
}

var encoders = []string{EncoderSyncGNN, EncoderMLP}

// agentOf wires m for the trainers as train/rlmsrun does.
func agentOf(m *Model) agent.Agent[cpn.Obs] { return m.Agent() }
