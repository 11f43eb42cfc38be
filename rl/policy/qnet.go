package policy

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
)

// QNetwork is CleanRL's DQN Q-network over vector observations: an MLP
// from the D features through hidden ReLU layers to the N actions'
// Q-values. It implements agent.QFunction; its parameters are the MLP's
// ("0/w", "0/b", …). QValues keeps no scratch state and may run
// concurrently on distinct tapes.
type QNetwork[O rl.Vector] struct {
	Net *mlp.Model
}

// NewQNetwork returns a Q-network for inputs features and actions actions
// with the given hidden widths, initialised from rng (PyTorch's default
// Linear initialisation, as CleanRL).
func NewQNetwork[O rl.Vector](inputs, actions int, hidden []int, rng *rand.Rand) *QNetwork[O] {
	sizes := append(append([]int{inputs}, hidden...), actions)
	return &QNetwork[O]{Net: mlp.New(mlp.Config{Sizes: sizes, Act: nn.ReLU}, rng)}
}

// MLPQ returns the agent.QBuilder of QNetworks with the given hidden widths
// (CleanRL's CartPole network: 120, 84).
func MLPQ[O rl.Vector](hidden ...int) agent.QBuilder[O] {
	hidden = append([]int(nil), hidden...)
	return func(first O, space rl.Space, rng *rand.Rand) (agent.QFunction[O], error) {
		if space.Kind != rl.Discrete || space.N < 1 {
			return nil, fmt.Errorf("policy: a Q-network needs a discrete action space, got %v with N=%d", space.Kind, space.N)
		}
		d := len(first.Features())
		if d == 0 {
			return nil, fmt.Errorf("policy: observations have no features")
		}
		for _, h := range hidden {
			if h < 1 {
				return nil, fmt.Errorf("policy: hidden widths must be positive, got %v", hidden)
			}
		}
		return NewQNetwork[O](d, space.N, hidden, rng), nil
	}
}

// Params implements nn.Module.
func (q *QNetwork[O]) Params(visit func(string, *nn.Param)) { q.Net.Params(visit) }

// QValues implements agent.QFunction: the R×N Q-values of obs. It panics
// if an observation does not have the network's number of features.
func (q *QNetwork[O]) QValues(t *nn.Tape, obs []O) *nn.Tensor {
	d := q.Net.In()
	x := t.Zeros(len(obs), d)
	for i, o := range obs {
		f := o.Features()
		if len(f) != d {
			panic(fmt.Sprintf("policy: QValues: observation %d has %d features, want %d", i, len(f), d))
		}
		copy(x.Data[i*d:], f)
	}
	return q.Net.Forward(t, x)
}
