// Package gnndqn is the GNN+DQN baseline of the RLMS-CPN paper (000): a DQN
// over the K candidate compute nodes whose input is one parameter-free
// message-passing round from each candidate's paths to the candidate (the
// mean and max of its path features) next to its node features, trained
// on the available-bandwidth reward, with ECMP over the chosen node's
// paths. The Q-network is rl/policy's MLP over Obs; rl/dqn trains it.
package gnndqn

import (
	"fmt"

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

// Features builds the GNN+DQN observation of o.
func Features(o cpn.Obs) Obs {
	x := append([]float32(nil), o.Task...)
	for i := 0; i < o.K; i++ {
		x = append(x, o.Nodes[i*cpn.NodeFeatures:(i+1)*cpn.NodeFeatures]...)
		for f := 0; f < cpn.PathFeatures; f++ {
			var s, mx float32
			for j := 0; j < o.P; j++ {
				v := o.Paths[(i*o.P+j)*cpn.PathFeatures+f]
				s += v
				if j == 0 || v > mx {
					mx = v
				}
			}
			x = append(x, s/float32(o.P), mx)
		}
	}
	return Obs{X: x, Mask: o.NodeMask}
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
			bw += float64(o.Paths[(a.Index*o.P+j)*cpn.PathFeatures+2])
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
