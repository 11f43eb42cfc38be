// Package gnndqn is the GNN+DQN baseline of the RLMS-CPN paper (000): a DQN
// over the K candidate compute nodes whose input is one parameter-free
// message-passing round from each candidate's paths to the candidate (the
// mean and max of its path features) next to its node features, trained
// on the available-bandwidth reward, with ECMP over the chosen node's
// paths. The Q-network is rl/policy's MLP over Obs; rl/dqn trains it.
package gnndqn

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Obs is the observation of the GNN+DQN baseline: per candidate its node
// features and the mean and max of its paths' features (one parameter-free
// message-passing round from paths to nodes), after the task features.
type Obs struct {
	X    []float32
	Mask []bool
}

// Features implements rl.Vector.
func (v Obs) Features() []float32 { return v.X }

// ActionMask implements rl.Masked.
func (v Obs) ActionMask() []bool { return v.Mask }

// Features builds the GNN+DQN observation of o from the RLMS-CPN feature
// encoding (models/rlms.Encode).
func Features(o cpn.Obs) Obs {
	f := rlms.Encode(o)
	return aggregate(f, o.K, o.P, o.NodeMask)
}

// aggregate lays out the task features, then per candidate its node
// features and, per path feature, the mean and max over its P path rows.
func aggregate(f rlms.Features, k, p int, mask []bool) Obs {
	const nf, pf = rlms.NodeFeatures, rlms.PathFeatures
	x := make([]float32, 0, len(f.Task)+k*(nf+2*pf))
	x = append(x, f.Task...)
	for i := 0; i < k; i++ {
		x = append(x, f.Nodes[i*nf:(i+1)*nf]...)
		for c := 0; c < pf; c++ {
			var s, mx float32
			for j := 0; j < p; j++ {
				v := f.Paths[(i*p+j)*pf+c]
				s += v
				if j == 0 || v > mx {
					mx = v
				}
			}
			x = append(x, s/float32(p), mx)
		}
	}
	return Obs{X: x, Mask: mask}
}

// NewEnv returns the cpn environment as the GNN+DQN baseline sees it: a
// discrete node choice, ECMP over the node's paths, and a reward from the
// available bandwidth (mean over the node's distinct paths of the
// bottleneck bandwidth, log1p Gbit/s) rather than from the latency. Step
// infos are the simulator's (latency_ms, …).
func NewEnv(e *cpn.Env) rl.Env[Obs] { return dqnEnv{e} }

type dqnEnv struct{ e *cpn.Env }

func (d dqnEnv) Reset(seed uint64) (Obs, error) {
	o, err := d.e.Reset(seed)
	return Features(o), err
}

func (d dqnEnv) Step(a rl.Action) (rl.Step[Obs], error) {
	o := d.e.Obs()
	if a.Index < 0 || a.Index >= o.K || !o.NodeMask[a.Index] {
		return rl.Step[Obs]{}, fmt.Errorf("%w: node %d", rl.ErrInvalidAction, a.Index)
	}
	var bw float64
	var n int
	for j := 0; j < o.P; j++ {
		if o.PathMask[a.Index*o.P+j] {
			// log1p of the bottleneck in Gbit/s, rounded to float32 as
			// the feature it was first computed from.
			bw += float64(float32(math.Log1p(o.Paths[a.Index*o.P+j].BottleneckBps / rlms.BandwidthUnit)))
			n++
		}
	}
	s, err := d.e.Step(rl.Action{Index: a.Index, Values: d.e.ECMP(a.Index)})
	if err != nil {
		return rl.Step[Obs]{}, err
	}
	return rl.Step[Obs]{Obs: Features(s.Obs), Reward: bw / float64(n), Truncated: s.Truncated, Terminated: s.Terminated, Info: s.Info}, nil
}

func (d dqnEnv) ActionSpace() rl.Space { return rl.Space{Kind: rl.Discrete, N: d.e.Net.Cfg.K} }
