package dsppo

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// The ablation the issue asks for: PPO with a plain MLP over the same
// features laid out in one padded vector (nodes in configuration order,
// the waiting tasks, the global features, every action slot's placement
// features), instead of DeepSets. Its input size is fixed by the
// configuration (nodes, action slots, listed queue), so unlike the
// DeepSets policy it cannot schedule a system of another size, and a
// node's place in the vector matters. Config.Prior adds the same
// fastest-fit prior to its logits as to the DeepSets policy's, so the
// ablation changes the encoder only.

// FlatShape fixes the padded vector's layout.
type FlatShape struct {
	Nodes, Actions, Queue int // nodes, actions (with the wait), listed waiting tasks (the decided one besides)
}

// ShapeOf returns the layout of a configuration.
func ShapeOf(c cluster.Config) FlatShape {
	return FlatShape{Nodes: c.Nodes(), Actions: c.Nodes()*c.Slots() + 1, Queue: c.QueueView()}
}

func (s FlatShape) width(cfg Config) int {
	return s.Nodes*NodeDim + (s.Queue+1)*cfg.queueDim() + cfg.globalDim() + (s.Actions-1)*OptionDim
}

// flatten lays obs out as an R × width matrix.
func flatten(cfg Config, s FlatShape, obs []cluster.Obs) []float32 {
	nodes, queue, glob, nodeSeg, queueSeg, enc := features(cfg, obs)
	w, qd, gd := s.width(cfg), cfg.queueDim(), cfg.globalDim()
	out := make([]float32, len(obs)*w)
	ni, qi := 0, 0
	for r, o := range obs {
		if len(o.Nodes) != s.Nodes || len(o.Mask) != s.Actions {
			panic(fmt.Sprintf("dsppo: flat: observation %d has %d nodes and %d actions, the network %d and %d", r, len(o.Nodes), len(o.Mask), s.Nodes, s.Actions))
		}
		row := out[r*w : (r+1)*w]
		for k := 0; ni < len(nodeSeg) && nodeSeg[ni] == r; ni, k = ni+1, k+1 {
			copy(row[k*NodeDim:], nodes[ni*NodeDim:(ni+1)*NodeDim])
		}
		base := s.Nodes * NodeDim
		for k := 0; qi < len(queueSeg) && queueSeg[qi] == r; qi, k = qi+1, k+1 {
			if k <= s.Queue {
				copy(row[base+k*qd:], queue[qi*qd:(qi+1)*qd])
			}
		}
		base += (s.Queue + 1) * qd
		copy(row[base:], glob[r*gd:(r+1)*gd])
	}
	base := s.Nodes*NodeDim + (s.Queue+1)*qd + gd
	for i, a := range enc.optAct {
		r, slot := a/s.Actions, a%s.Actions
		copy(out[r*w+base+slot*OptionDim:], enc.opt[i*OptionDim:(i+1)*OptionDim])
	}
	return out
}

// FlatActor is the MLP policy: padded vector → Dim → Dim → one logit per
// action.
type FlatActor struct {
	Config Config
	Shape  FlatShape
	Net    *mlp.Model
	head   agent.CategoricalHead[cluster.Obs]
}

// Params implements nn.Module: "net/…".
func (a *FlatActor) Params(visit func(string, *nn.Param)) { a.Net.Params(nn.Prefix("net", visit)) }

func (a *FlatActor) logits(t *nn.Tape, obs []cluster.Obs) (*nn.Tensor, []bool) {
	x := t.Const(len(obs), a.Shape.width(a.Config), flatten(a.Config, a.Shape, obs))
	mask := make([]bool, 0, len(obs)*a.Shape.Actions)
	for _, o := range obs {
		mask = append(mask, o.Mask...)
	}
	return withPrior(t, a.Net.Forward(t, x), a.Config, obs, a.Config.Prior), mask
}

// Act implements agent.Actor.
func (a *FlatActor) Act(t *nn.Tape, obs []cluster.Obs, rng *rand.Rand) []rl.Action {
	return a.cat().Act(t, obs, rng)
}

// ActLogProb implements agent.LogProbActor.
func (a *FlatActor) ActLogProb(t *nn.Tape, obs []cluster.Obs, rng *rand.Rand) ([]rl.Action, []float32) {
	return a.cat().ActLogProb(t, obs, rng)
}

// Mode implements agent.Actor.
func (a *FlatActor) Mode(t *nn.Tape, obs []cluster.Obs) []rl.Action { return a.cat().Mode(t, obs) }

// Evaluate implements agent.Actor.
func (a *FlatActor) Evaluate(t *nn.Tape, obs []cluster.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.cat().Evaluate(t, obs, actions)
}

func (a *FlatActor) cat() *agent.CategoricalHead[cluster.Obs] {
	if a.head.Logits == nil {
		a.head.Logits = a.logits
	}
	return &a.head
}

// FlatCritic is the MLP value: padded vector → Dim → Dim → 1.
type FlatCritic struct {
	Config Config
	Shape  FlatShape
	Net    *mlp.Model
}

// Params implements nn.Module: "net/…".
func (c *FlatCritic) Params(visit func(string, *nn.Param)) { c.Net.Params(nn.Prefix("net", visit)) }

// Value implements agent.Critic.
func (c *FlatCritic) Value(t *nn.Tape, obs []cluster.Obs) *nn.Tensor {
	return c.Net.Forward(t, t.Const(len(obs), c.Shape.width(c.Config), flatten(c.Config, c.Shape, obs)))
}

// NewFlatAgent returns the MLP ablation's actor and critic for systems of
// shape s.
func NewFlatAgent(cfg Config, s FlatShape, rng *rand.Rand) (agent.Agent[cluster.Obs], error) {
	if err := cfg.Validate(); err != nil {
		return agent.Agent[cluster.Obs]{}, err
	}
	if s.Nodes < 1 || s.Actions < 2 || s.Queue < 0 {
		return agent.Agent[cluster.Obs]{}, fmt.Errorf("dsppo: flat shape %+v", s)
	}
	in := s.width(cfg)
	net := func(out int) *mlp.Model {
		return mlp.New(mlp.Config{Sizes: []int{in, cfg.Dim, cfg.Dim, out}, Act: nn.ReLU}, rng)
	}
	return agent.Agent[cluster.Obs]{
		Critic: &FlatCritic{Config: cfg, Shape: s, Net: net(1)},
		Actors: []agent.Actor[cluster.Obs]{&FlatActor{Config: cfg, Shape: s, Net: net(s.Actions)}},
	}, nil
}
