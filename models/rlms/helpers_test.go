package rlms

import (
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// randObs returns an observation of k candidates and p path rows with
// random features: each candidate is missing with probability missing
// (at least one exists), and has 1 … p real paths, the other rows
// repeating its first path with PathMask false (as the environment does).
func randObs(rng *rand.Rand, k, p int, missing float64) cpn.Obs {
	o := cpn.Obs{
		K: k, P: p,
		Task:     make([]float32, cpn.TaskFeatures),
		Nodes:    make([]float32, k*cpn.NodeFeatures),
		Paths:    make([]float32, k*p*cpn.PathFeatures),
		NodeMask: make([]bool, k),
		PathMask: make([]bool, k*p),
	}
	for i := range o.Task {
		o.Task[i] = float32(rng.Float64() * 2)
	}
	exists := false
	for i := 0; i < k; i++ {
		if rng.Float64() < missing && (exists || i < k-1) {
			continue
		}
		exists = true
		o.NodeMask[i] = true
		for f := 0; f < cpn.NodeFeatures; f++ {
			o.Nodes[i*cpn.NodeFeatures+f] = float32(rng.Float64()*2 - 1)
		}
		n := 1 + rng.IntN(p)
		for j := 0; j < p; j++ {
			q := i*p + j
			row := o.Paths[q*cpn.PathFeatures : (q+1)*cpn.PathFeatures]
			if j < n {
				o.PathMask[q] = true
				for f := range row {
					row[f] = float32(rng.Float64()*2 - 1)
				}
			} else {
				copy(row, o.Paths[i*p*cpn.PathFeatures:])
			}
		}
	}
	return o
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
	out := cpn.Obs{K: k, P: p, Task: append([]float32(nil), o.Task...),
		Nodes: make([]float32, len(o.Nodes)), Paths: make([]float32, len(o.Paths)),
		NodeMask: make([]bool, k), PathMask: make([]bool, k*p)}
	nf, pf := cpn.NodeFeatures, cpn.PathFeatures
	for i, s := range perm {
		copy(out.Nodes[i*nf:(i+1)*nf], o.Nodes[s*nf:(s+1)*nf])
		copy(out.Paths[i*p*pf:(i+1)*p*pf], o.Paths[s*p*pf:(s+1)*p*pf])
		out.NodeMask[i] = o.NodeMask[s]
		copy(out.PathMask[i*p:(i+1)*p], o.PathMask[s*p:(s+1)*p])
	}
	return out
}

func tinyConfig(enc string) Config {
	return Config{Encoder: enc, Dim: 4, Hidden: 5, K: 3, P: 2}
}

var encoders = []string{EncoderSyncGNN, EncoderMLP}

// agentOf wires m for rl/actorcritic as train/rlms.Agent does.
func agentOf(m *Model) agent.Agent[cpn.Obs] { return m.Agent() }
