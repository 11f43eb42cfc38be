// Package deepsets is a DeepSets policy and Q-function (Zaheer et al.,
// NeurIPS 2017) over observations that are sets of a varying number of
// elements: every element x_i (with the observation's global features g
// appended) is embedded by φ, the embeddings are pooled (sum, mean, max or
// attention: nn/deepsets' layer) and transformed by ρ into a set context
// c = ρ(pool_i φ([x_i ‖ g])). The heads read it:
//
//   - Actor: one logit per element, ψ([φ_i ‖ c]), softmax over the present
//     elements (element i is discrete action i); agent.Actor.
//   - Critic: V(s) = v(c); agent.Critic.
//   - QNet: Q(s, i) = ψ_Q([φ_i ‖ c]); agent.QFunction.
//
// The pooling makes every output invariant to the elements' order (the
// logits and Q-values permute with them) and defined for any set size up
// to Config.MaxElems, the size of the action space. DS-PPO (paper 001)
// encodes its servers and queued tasks this way; the package's tests train
// it with all four trainers of rl on testenv.Placement.
//
// Shapes: for R observations with M elements in all, φ is M×Dim, the
// context R×Dim, the logits and Q-values R×MaxElems (absent elements
// masked: −Inf logits; Q-values 0, masked by the observation's rl.Masked).
package deepsets

import (
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	nnds "github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
)

// Set is the observation contract: Len elements of ElemDim features each
// and GlobalDim global features (both fixed per model).
type Set interface {
	Len() int
	Element(i int) []float32
	Global() []float32
}

// Poolings (nn/deepsets').
const (
	Sum       = nnds.Sum
	Mean      = nnds.Mean
	Max       = nnds.Max
	Attention = nnds.Attention
)

// Config describes a model.
type Config struct {
	// ElemDim and GlobalDim are the feature counts of an element and of
	// the global features; MaxElems the largest set (the action count).
	ElemDim, GlobalDim, MaxElems int
	// Dim is the width of φ, ρ and the heads' hidden layer.
	Dim int
	// Pool is the pooling ("" means Mean); Attention is the light
	// attention pooling DS-PPO adds.
	Pool nnds.Pooling
}

// DefaultConfig returns width 64 and mean pooling for the given sizes.
func DefaultConfig(elemDim, globalDim, maxElems int) Config {
	return Config{ElemDim: elemDim, GlobalDim: globalDim, MaxElems: maxElems, Dim: 64, Pool: Mean}
}

// Validate reports a config that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.ElemDim < 1 || c.GlobalDim < 0 || c.MaxElems < 1 || c.Dim < 1:
		return fmt.Errorf("deepsets: need ElemDim ≥ 1, GlobalDim ≥ 0, MaxElems ≥ 1, Dim ≥ 1; got %d, %d, %d, %d", c.ElemDim, c.GlobalDim, c.MaxElems, c.Dim)
	}
	return c.Pool.Validate()
}

// Encoder is φ, the pooling and ρ: an nn/deepsets layer (φ: [x ‖ g] → Dim
// → Dim, ρ: Dim → Dim → Dim, ReLU throughout).
type Encoder struct {
	Config Config
	Layer  *nnds.Model
}

// NewEncoder builds an encoder (PyTorch's default initialisation).
func NewEncoder(cfg Config, rng *rand.Rand) *Encoder {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	d, pool := cfg.Dim, cfg.Pool
	if pool == "" {
		pool = Mean
	}
	return &Encoder{Config: cfg, Layer: nnds.New(nnds.Config{
		Phi:  mlp.Config{Sizes: []int{cfg.ElemDim + cfg.GlobalDim, d, d}, Act: nn.ReLU, OutAct: nn.ReLU},
		Rho:  mlp.Config{Sizes: []int{d, d, d}, Act: nn.ReLU, OutAct: nn.ReLU},
		Pool: pool,
	}, rng)}
}

// Params implements nn.Module: "phi/…", "rho/…" (and "score/…" with
// attention pooling).
func (e *Encoder) Params(visit func(string, *nn.Param)) { e.Layer.Params(visit) }

// encoded is one forward pass of the encoder over a batch.
type encoded struct {
	phi, ctx *nn.Tensor // M×Dim, R×Dim
	seg      []int      // element m's observation
	slot     []int      // element m's index r·MaxElems + i in the padded R×MaxElems layout
	mask     []bool     // R×MaxElems: element present
}

// encode runs φ and ρ over obs. It panics on a set larger than MaxElems,
// an empty set or wrong feature counts (a model/environment mismatch).
func encode[O Set](e *Encoder, t *nn.Tape, obs []O) encoded {
	c := e.Config
	in := c.ElemDim + c.GlobalDim
	m := 0
	for r, o := range obs {
		n := o.Len()
		if n < 1 || n > c.MaxElems {
			panic(fmt.Sprintf("deepsets: observation %d has %d elements, want 1…%d", r, n, c.MaxElems))
		}
		m += n
	}
	x := t.Zeros(m, in)
	enc := encoded{seg: make([]int, 0, m), slot: make([]int, 0, m), mask: make([]bool, len(obs)*c.MaxElems)}
	k := 0
	for r, o := range obs {
		g := o.Global()
		if len(g) != c.GlobalDim {
			panic(fmt.Sprintf("deepsets: observation %d has %d global features, want %d", r, len(g), c.GlobalDim))
		}
		for i := 0; i < o.Len(); i++ {
			f := o.Element(i)
			if len(f) != c.ElemDim {
				panic(fmt.Sprintf("deepsets: observation %d, element %d has %d features, want %d", r, i, len(f), c.ElemDim))
			}
			row := x.Data[k*in : (k+1)*in]
			copy(row, f)
			copy(row[c.ElemDim:], g)
			enc.seg = append(enc.seg, r)
			enc.slot = append(enc.slot, r*c.MaxElems+i)
			enc.mask[r*c.MaxElems+i] = true
			k++
		}
	}
	enc.phi = e.Layer.Phi.Forward(t, x)
	enc.ctx = e.Layer.Rho.Forward(t, e.Layer.Pool(t, enc.phi, enc.seg, len(obs)))
	return enc
}

// elementHead returns the R×MaxElems per-element outputs head([φ_i ‖ c])
// (0 where no element is).
func elementHead(t *nn.Tape, head *mlp.Model, enc encoded, rows, maxElems int) *nn.Tensor {
	ctx := t.Gather(enc.ctx, enc.seg) // M×Dim: each element's set context
	s := head.Forward(t, t.ConcatCols(enc.phi, ctx))
	return t.Reshape(t.ScatterAdd(s, enc.slot, rows*maxElems), rows, maxElems)
}

func newHead(in, hidden, out int, rng *rand.Rand) *mlp.Model {
	return mlp.New(mlp.Config{Sizes: []int{in, hidden, out}, Act: nn.ReLU}, rng)
}

// Actor is the categorical policy over a set's elements, with its own
// encoder. It implements agent.Actor and agent.LogProbActor; Act and Mode
// keep scratch buffers (not concurrent), Evaluate does not.
type Actor[O Set] struct {
	Enc  *Encoder
	Head *mlp.Model // [φ ‖ c] → 1
	head agent.CategoricalHead[O]
}

// NewActor builds an actor.
func NewActor[O Set](cfg Config, rng *rand.Rand) *Actor[O] {
	enc := NewEncoder(cfg, rng)
	return &Actor[O]{Enc: enc, Head: newHead(2*cfg.Dim, cfg.Dim, 1, rng)}
}

// Params implements nn.Module: "enc/…", "head/…".
func (a *Actor[O]) Params(visit func(string, *nn.Param)) {
	a.Enc.Params(nn.Prefix("enc", visit))
	a.Head.Params(nn.Prefix("head", visit))
}

// Logits returns the R×MaxElems logits and the mask of present elements.
func (a *Actor[O]) Logits(t *nn.Tape, obs []O) (*nn.Tensor, []bool) {
	enc := encode(a.Enc, t, obs)
	return elementHead(t, a.Head, enc, len(obs), a.Enc.Config.MaxElems), enc.mask
}

// Act implements agent.Actor.
func (a *Actor[O]) Act(t *nn.Tape, obs []O, rng *rand.Rand) []rl.Action {
	return a.cat().Act(t, obs, rng)
}

// ActLogProb implements agent.LogProbActor.
func (a *Actor[O]) ActLogProb(t *nn.Tape, obs []O, rng *rand.Rand) ([]rl.Action, []float32) {
	return a.cat().ActLogProb(t, obs, rng)
}

// Mode implements agent.Actor: the most probable element.
func (a *Actor[O]) Mode(t *nn.Tape, obs []O) []rl.Action { return a.cat().Mode(t, obs) }

// Evaluate implements agent.Actor.
func (a *Actor[O]) Evaluate(t *nn.Tape, obs []O, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.cat().Evaluate(t, obs, actions)
}

func (a *Actor[O]) cat() *agent.CategoricalHead[O] {
	if a.head.Logits == nil {
		a.head.Logits = a.Logits
	}
	return &a.head
}

// Critic is V(s) = v(ρ(pool φ)), with its own encoder. It implements
// agent.Critic and may run concurrently on distinct tapes.
type Critic[O Set] struct {
	Enc  *Encoder
	Head *mlp.Model // c → 1
}

// NewCritic builds a critic.
func NewCritic[O Set](cfg Config, rng *rand.Rand) *Critic[O] {
	return &Critic[O]{Enc: NewEncoder(cfg, rng), Head: newHead(cfg.Dim, cfg.Dim, 1, rng)}
}

// Params implements nn.Module: "enc/…", "head/…".
func (c *Critic[O]) Params(visit func(string, *nn.Param)) {
	c.Enc.Params(nn.Prefix("enc", visit))
	c.Head.Params(nn.Prefix("head", visit))
}

// Value implements agent.Critic.
func (c *Critic[O]) Value(t *nn.Tape, obs []O) *nn.Tensor {
	return c.Head.Forward(t, encode(c.Enc, t, obs).ctx)
}

// NewAgent returns a one-actor agent.Agent of a DeepSets actor and critic
// (separate encoders, as CleanRL's separate actor and critic networks).
func NewAgent[O Set](cfg Config, rng *rand.Rand) agent.Agent[O] {
	return agent.Agent[O]{Critic: NewCritic[O](cfg, rng), Actors: []agent.Actor[O]{NewActor[O](cfg, rng)}}
}

// QNet is Q(s, i) = ψ_Q([φ_i ‖ c]) over a set's elements. It implements
// agent.QFunction (the observation's rl.Masked mask must exclude absent
// elements) and may run concurrently on distinct tapes.
type QNet[O Set] struct {
	Enc  *Encoder
	Head *mlp.Model // [φ ‖ c] → 1
}

// NewQNet builds a Q-function.
func NewQNet[O Set](cfg Config, rng *rand.Rand) *QNet[O] {
	return &QNet[O]{Enc: NewEncoder(cfg, rng), Head: newHead(2*cfg.Dim, cfg.Dim, 1, rng)}
}

// Params implements nn.Module: "enc/…", "head/…".
func (q *QNet[O]) Params(visit func(string, *nn.Param)) {
	q.Enc.Params(nn.Prefix("enc", visit))
	q.Head.Params(nn.Prefix("head", visit))
}

// QValues implements agent.QFunction.
func (q *QNet[O]) QValues(t *nn.Tape, obs []O) *nn.Tensor {
	return elementHead(t, q.Head, encode(q.Enc, t, obs), len(obs), q.Enc.Config.MaxElems)
}

// QBuilder returns the agent.QBuilder of QNets with cfg (MaxElems must be
// the environment's action count).
func QBuilder[O Set](cfg Config) agent.QBuilder[O] {
	return func(_ O, space rl.Space, rng *rand.Rand) (agent.QFunction[O], error) {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if space.Kind != rl.Discrete || space.N != cfg.MaxElems {
			return nil, fmt.Errorf("deepsets: the environment has %v actions N=%d; the model MaxElems=%d discrete", space.Kind, space.N, cfg.MaxElems)
		}
		return NewQNet[O](cfg, rng), nil
	}
}

var (
	_ agent.LogProbActor[Set] = (*Actor[Set])(nil)
	_ agent.Critic[Set]       = (*Critic[Set])(nil)
	_ agent.QFunction[Set]    = (*QNet[Set])(nil)
)
