// Package dsppo is DS-PPO's policy and value networks (paper 001,
// section 4.2): DeepSets encoders ρ(pool φ(x)) over the set of nodes and
// the set of waiting tasks, read by a head that scores every placement of
// the decided task (node × strategy) and one that scores waiting.
//
//   - Nodes: φ_N embeds each node's free and total resources; the light
//     attention pooling the paper adds (a learned weight per node,
//     softmax over the set) and ρ_N give the cluster context c_N.
//   - Waiting tasks: φ_Q embeds each waiting task (type, wait, whether it
//     is the decided one), mean pooling and ρ_Q give c_Q.
//   - Placement (node n, strategy s): ψ([x_ns ‖ φ_N(n) ‖ c_N ‖ c_Q ‖ g])
//     with x_ns the strategy's demand against the node, its run time and
//     whether it fits; waiting: ψ_W([c_N ‖ c_Q ‖ g]); g the global
//     features (the decided task's type and wait, queue counts, u(t)). A
//     masked softmax over the allowed actions is the policy.
//   - Critic: V = v([c_N ‖ c_Q ‖ g]) with its own encoders (CleanRL's
//     separate actor and critic networks).
//
// Every output is invariant to the order of the nodes (the placements'
// logits permute with them) and of the waiting tasks, and the networks
// run on any number of nodes, clusters and strategies: a policy trained on
// one cluster configuration can schedule another with the same task types
// (the paper's generalisation claim, measured by the bench). The MLP
// ablation (Flat) reads the same features through one padded vector.
package dsppo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	nnds "github.com/cpntrain/cpntrain/nn/deepsets"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// Feature widths (the global and queue widths add one column per task
// type).
const (
	NodeDim   = 2*cluster.NumResources + 2
	OptionDim = cluster.NumResources + 4
	queueBase = 2
	globBase  = 6
)

// Config sizes a model.
type Config struct {
	// Types is the number of task types (of the environment's config).
	Types int
	// Dim is the width of φ, ρ and the heads' hidden layers.
	Dim int
	// Pool is the node pooling: attention (the paper's light attention,
	// default) or sum / mean / max.
	Pool nnds.Pooling
	// Prior, when positive, adds a fixed term to every logit so that the
	// untrained policy starts near the fastest-fit heuristic and learns
	// corrections (as RLMS-CPN's actors start at water-filling):
	// −Prior·ln(T/T*) for a placement of run time T, T* the fastest
	// allowed placement's, and −Prior·ln 2 for waiting (as a placement
	// twice as slow). 0: none (the paper's plain policy).
	Prior float64 `json:",omitempty"`
}

// DefaultConfig: width 64, attention pooling.
func DefaultConfig(types int) Config { return Config{Types: types, Dim: 64, Pool: nnds.Attention} }

// Validate reports a config that cannot build a model.
func (c Config) Validate() error {
	if c.Types < 1 || c.Types > 1024 || c.Dim < 1 || c.Dim > 4096 {
		return fmt.Errorf("dsppo: need 1 ≤ Types ≤ 1024 and 1 ≤ Dim ≤ 4096, got %d and %d", c.Types, c.Dim)
	}
	if !(c.Prior >= 0 && c.Prior <= 100) {
		return fmt.Errorf("dsppo: Prior %v outside [0, 100]", c.Prior)
	}
	return c.Pool.Validate()
}

func (c Config) queueDim() int  { return c.Types + queueBase }
func (c Config) globalDim() int { return c.Types + globBase }

// Encoder is the two DeepSets encoders.
type Encoder struct {
	Config Config
	Nodes  *nnds.Model
	Queue  *nnds.Model
}

// NewEncoder builds the encoders.
func NewEncoder(cfg Config, rng *rand.Rand) *Encoder {
	d := cfg.Dim
	set := func(in int, pool nnds.Pooling) *nnds.Model {
		return nnds.New(nnds.Config{
			Phi:  mlp.Config{Sizes: []int{in, d, d}, Act: nn.ReLU, OutAct: nn.ReLU},
			Rho:  mlp.Config{Sizes: []int{d, d}, Act: nn.ReLU, OutAct: nn.ReLU},
			Pool: pool,
		}, rng)
	}
	pool := cfg.Pool
	if pool == "" {
		pool = nnds.Attention
	}
	return &Encoder{Config: cfg, Nodes: set(NodeDim, pool), Queue: set(cfg.queueDim(), nnds.Mean)}
}

// Params implements nn.Module: "nodes/…", "queue/…".
func (e *Encoder) Params(visit func(string, *nn.Param)) {
	e.Nodes.Params(nn.Prefix("nodes", visit))
	e.Queue.Params(nn.Prefix("queue", visit))
}

// encoded is one pass of the encoders over a batch.
type encoded struct {
	phiN *nn.Tensor // all nodes × Dim
	ctx  *nn.Tensor // R × (2·Dim + global)
	// Placement rows: features, node row, observation, action index.
	opt     []float32
	optNode []int
	optObs  []int
	optAct  []int
	actions int // per observation
}

func lg(x, scale float64) float32 { return float32(math.Log1p(math.Max(0, x)) / scale) }

// feat is one observation's inputs (placement rows relative to it).
type feat struct {
	nodes, queue, glob, opt []float32
	optNode, optAct         []int
	nNodes, nQueue, actions int
	prior                   []float32 // per action: the fastest-fit prior (see Config.Prior), Prior = 1
}

// featuresOf returns o's inputs, memoised in o.Memo.
func featuresOf(cfg Config, o cluster.Obs) *feat {
	key := fmt.Sprintf("dsppo/%d", cfg.Types)
	if f, ok := o.Memo.Get(key).(*feat); ok {
		return f
	}
	nodes, queue, glob, nodeSeg, queueSeg, enc := computeFeatures(cfg, []cluster.Obs{o})
	f := &feat{nodes: nodes, queue: queue, glob: glob, opt: enc.opt, optNode: enc.optNode, optAct: enc.optAct,
		nNodes: len(nodeSeg), nQueue: len(queueSeg), actions: enc.actions, prior: priorOf(o)}
	o.Memo.Put(key, f)
	return f
}

// features fills the batch's inputs (no tape work) from every
// observation's memoised ones.
func features(cfg Config, obs []cluster.Obs) (nodes, queue, glob []float32, nodeSeg, queueSeg []int, enc encoded) {
	enc.actions = len(obs[0].Mask)
	nodeBase := 0
	for r, o := range obs {
		f := featuresOf(cfg, o)
		if f.actions != enc.actions {
			panic(fmt.Sprintf("dsppo: observation %d has %d actions, observation 0 %d: a batch must come from one configuration", r, f.actions, enc.actions))
		}
		nodes, queue, glob = append(nodes, f.nodes...), append(queue, f.queue...), append(glob, f.glob...)
		for range f.nNodes {
			nodeSeg = append(nodeSeg, r)
		}
		for range f.nQueue {
			queueSeg = append(queueSeg, r)
		}
		enc.opt = append(enc.opt, f.opt...)
		for i := range f.optNode {
			enc.optNode = append(enc.optNode, nodeBase+f.optNode[i])
			enc.optObs = append(enc.optObs, r)
			enc.optAct = append(enc.optAct, r*enc.actions+f.optAct[i])
		}
		nodeBase += f.nNodes
	}
	return
}

// priorOf is the fastest-fit prior of o's actions with Prior = 1:
// −ln(T/T*) per allowed placement, −ln 2 for waiting, 0 elsewhere (masked).
func priorOf(o cluster.Obs) []float32 {
	p := make([]float32, len(o.Mask))
	if o.Task < 0 {
		return p
	}
	strategies := o.Cfg.TaskTypes[o.Task].Strategies
	fastest := math.Inf(1)
	for a, ok := range o.Mask[:len(o.Mask)-1] {
		if ok {
			fastest = math.Min(fastest, strategies[o.Option(a)].Runtime)
		}
	}
	for a, ok := range o.Mask[:len(o.Mask)-1] {
		if ok {
			p[a] = -float32(math.Log(strategies[o.Option(a)].Runtime / fastest))
		}
	}
	p[len(p)-1] = -math.Ln2
	return p
}

// computeFeatures computes the inputs of obs.
func computeFeatures(cfg Config, obs []cluster.Obs) (nodes, queue, glob []float32, nodeSeg, queueSeg []int, enc encoded) {
	qd, gd := cfg.queueDim(), cfg.globalDim()
	enc.actions = len(obs[0].Mask)
	nodeBase := 0
	for r, o := range obs {
		if len(o.Mask) != enc.actions {
			panic(fmt.Sprintf("dsppo: observation %d has %d actions, observation 0 %d: a batch must come from one configuration", r, len(o.Mask), enc.actions))
		}
		if o.Task < -1 || o.Task >= cfg.Types || len(o.Nodes) == 0 || o.Cfg == nil {
			panic(fmt.Sprintf("dsppo: observation %d decides type %d of %d with %d nodes (another configuration's?)", r, o.Task, cfg.Types, len(o.Nodes)))
		}
		slots := (len(o.Mask) - 1) / len(o.Nodes)
		var strategies []cluster.Strategy // none after the last task (Task −1)
		if o.Task >= 0 {
			strategies = o.Cfg.TaskTypes[o.Task].Strategies
		}
		fastest := math.Inf(1)
		for _, s := range strategies {
			fastest = math.Min(fastest, s.Runtime)
		}
		for n, nd := range o.Nodes {
			row := make([]float32, NodeDim)
			for k := range cluster.NumResources {
				if nd.Cap[k] > 0 {
					row[k] = float32(nd.Free[k] / nd.Cap[k])
				}
				row[cluster.NumResources+k] = lg(nd.Cap[k], 20)
			}
			var opts []int
			if o.Task >= 0 {
				opts = o.Options[nd.Cluster]
			}
			row[2*cluster.NumResources] = float32(len(opts)) / float32(max(1, slots))
			any := false
			for k, si := range opts {
				a := n*slots + k
				any = any || o.Mask[a]
				s := strategies[si]
				f := make([]float32, OptionDim)
				for j, d := range s.Demand.Vec() {
					switch {
					case nd.Cap[j] > 0:
						f[j] = float32(math.Min(2, d/nd.Cap[j]))
					case d > 0:
						f[j] = 2
					}
				}
				f[cluster.NumResources] = lg(s.Runtime, 7)
				f[cluster.NumResources+1] = lg(s.Runtime-fastest, 7)
				if s.Processor == "cpu" {
					f[cluster.NumResources+2] = 1
				}
				if o.Mask[a] {
					f[cluster.NumResources+3] = 1
				}
				enc.opt = append(enc.opt, f...)
				enc.optNode = append(enc.optNode, nodeBase+n)
				enc.optObs = append(enc.optObs, r)
				enc.optAct = append(enc.optAct, r*enc.actions+a)
			}
			if any {
				row[2*cluster.NumResources+1] = 1
			}
			nodes = append(nodes, row...)
			nodeSeg = append(nodeSeg, r)
		}
		nodeBase += len(o.Nodes)
		// The decided task, then the listed waiting ones.
		q := make([]float32, qd)
		if o.Task >= 0 {
			q[o.Task] = 1
		}
		q[cfg.Types], q[cfg.Types+1] = lg(o.TaskWait, 7), 1
		queue = append(queue, q...)
		queueSeg = append(queueSeg, r)
		for _, w := range o.Queue {
			q := make([]float32, qd)
			if w.Type >= 0 && w.Type < cfg.Types {
				q[w.Type] = 1
			}
			q[cfg.Types] = lg(w.Wait, 7)
			queue = append(queue, q...)
			queueSeg = append(queueSeg, r)
		}
		g := make([]float32, gd)
		if o.Task >= 0 {
			g[o.Task] = 1
		}
		b := cfg.Types
		g[b] = lg(o.TaskWait, 7)
		g[b+1] = lg(float64(o.Waiting), 8)
		g[b+2] = lg(float64(o.Running), 8)
		g[b+3] = float32(float64(o.ToArrive) / float64(o.ToArrive+o.Waiting+o.Running+1))
		g[b+4] = float32(o.Utilisation)
		if o.Mask[len(o.Mask)-1] {
			g[b+5] = 1
		}
		glob = append(glob, g...)
	}
	return
}

// encode runs the encoders over obs.
func encode(e *Encoder, t *nn.Tape, obs []cluster.Obs) encoded {
	if len(obs) == 0 {
		panic("dsppo: no observations")
	}
	nodes, queue, glob, nodeSeg, queueSeg, enc := features(e.Config, obs)
	enc.phiN, enc.ctx = encodeFeatures(e, t, nodes, queue, glob, nodeSeg, queueSeg, len(obs))
	return enc
}

// encodeFeatures runs the encoders over the features of r observations:
// the node embeddings φ_N (all nodes × Dim) and the contexts (r × (2·Dim
// + global)).
func encodeFeatures(e *Encoder, t *nn.Tape, nodes, queue, glob []float32, nodeSeg, queueSeg []int, r int) (phiN, ctx *nn.Tensor) {
	cfg := e.Config
	phiN = e.Nodes.Phi.Forward(t, t.Const(len(nodeSeg), NodeDim, nodes))
	cN := e.Nodes.Rho.Forward(t, e.Nodes.Pool(t, phiN, nodeSeg, r))
	cQ := e.Queue.Forward(t, t.Const(len(queueSeg), cfg.queueDim(), queue), queueSeg, r)
	return phiN, t.ConcatCols(cN, cQ, t.Const(r, cfg.globalDim(), glob))
}

func head(in, hidden int, rng *rand.Rand) *mlp.Model {
	return mlp.New(mlp.Config{Sizes: []int{in, hidden, 1}, Act: nn.ReLU}, rng)
}

// Actor is the placement-or-wait policy. It implements agent.Actor and
// agent.LogProbActor; Act and Mode keep scratch buffers (not concurrent).
//
// The placement head's first layer on [x_ns ‖ φ_N(n) ‖ ctx] is computed
// as W_x·[x_ns ‖ φ_N(n)] + W_c·ctx, the second term once per observation
// (the same function as one layer on the concatenation, without gathering
// the context into every placement's row).
type Actor struct {
	Enc    *Encoder
	PlaceX *linear.Model // [x_ns ‖ φ_N(n)] → Dim, with the bias
	PlaceC *linear.Model // ctx → Dim, no bias
	PlaceO *linear.Model // Dim → 1 (after a ReLU)
	Wait   *mlp.Model    // ctx → 1
	head   agent.CategoricalHead[cluster.Obs]
}

// NewActor builds an actor.
func NewActor(cfg Config, rng *rand.Rand) *Actor {
	ctx := 2*cfg.Dim + cfg.globalDim()
	enc := NewEncoder(cfg, rng)
	// PyTorch's initialisation of one layer with OptionDim+Dim+ctx inputs,
	// split by columns: both parts draw from ±1/√(fan-in of the whole).
	in := OptionDim + cfg.Dim + ctx
	px, pc := linear.New(linear.Config{In: OptionDim + cfg.Dim, Out: cfg.Dim}, rng), linear.New(linear.Config{In: ctx, Out: cfg.Dim, NoBias: true}, rng)
	bound := 1 / math.Sqrt(float64(in))
	for _, w := range [][]float32{px.W.V.Data, pc.W.V.Data, px.B.V.Data} {
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	return &Actor{Enc: enc, PlaceX: px, PlaceC: pc, PlaceO: linear.New(linear.Config{In: cfg.Dim, Out: 1}, rng), Wait: head(ctx, cfg.Dim, rng)}
}

// Params implements nn.Module: "enc/…", "place_x/…", "place_c/…",
// "place_o/…", "wait/…".
func (a *Actor) Params(visit func(string, *nn.Param)) {
	a.Enc.Params(nn.Prefix("enc", visit))
	a.PlaceX.Params(nn.Prefix("place_x", visit))
	a.PlaceC.Params(nn.Prefix("place_c", visit))
	a.PlaceO.Params(nn.Prefix("place_o", visit))
	a.Wait.Params(nn.Prefix("wait", visit))
}

// Logits returns the R×A logits (A = the environment's action count;
// empty slots 0) and the mask of allowed actions.
func (a *Actor) Logits(t *nn.Tape, obs []cluster.Obs) (*nn.Tensor, []bool) {
	return a.scores(t, obs, a.Enc.Config.Prior)
}

// scores is Logits with the prior's weight given.
func (a *Actor) scores(t *nn.Tape, obs []cluster.Obs, prior float64) (*nn.Tensor, []bool) {
	enc := encode(a.Enc, t, obs)
	r, n := len(obs), enc.actions
	place, wait := a.heads(t, enc)
	idx := make([]int, 0, len(enc.optAct)+r)
	scores := wait
	if place != nil {
		scores = t.ConcatRows(place, wait)
		idx = append(idx, enc.optAct...)
	}
	for i := range r {
		idx = append(idx, i*n+n-1)
	}
	logits := withPrior(t, t.Reshape(t.ScatterAdd(scores, idx, r*n), r, n), a.Enc.Config, obs, prior)
	mask := make([]bool, 0, r*n)
	for _, o := range obs {
		mask = append(mask, o.Mask...)
	}
	return logits, mask
}

// heads returns the placement options' scores (options × 1, nil without
// options) and every observation's wait score (R × 1), before the prior.
func (a *Actor) heads(t *nn.Tape, enc encoded) (place, wait *nn.Tensor) {
	wait = a.Wait.Forward(t, enc.ctx)
	if p := len(enc.optObs); p > 0 {
		x := a.PlaceX.Forward(t, t.ConcatCols(t.Const(p, OptionDim, enc.opt), t.Gather(enc.phiN, enc.optNode)))
		h := t.ReLU(t.Add(x, t.Gather(a.PlaceC.Forward(t, enc.ctx), enc.optObs)))
		place = a.PlaceO.Forward(t, h)
	}
	return place, wait
}

// withPrior adds k times the fastest-fit prior (Config.Prior) to the
// R×A logits of obs (nothing when k is 0).
func withPrior(t *nn.Tape, logits *nn.Tensor, cfg Config, obs []cluster.Obs, k float64) *nn.Tensor {
	if k <= 0 {
		return logits
	}
	n := len(obs[0].Mask)
	prior := make([]float32, 0, len(obs)*n)
	for _, o := range obs {
		for _, v := range featuresOf(cfg, o).prior {
			prior = append(prior, float32(k)*v)
		}
	}
	return t.Add(logits, t.Const(len(obs), n, prior))
}

// Act implements agent.Actor.
func (a *Actor) Act(t *nn.Tape, obs []cluster.Obs, rng *rand.Rand) []rl.Action {
	return a.cat().Act(t, obs, rng)
}

// ActLogProb implements agent.LogProbActor.
func (a *Actor) ActLogProb(t *nn.Tape, obs []cluster.Obs, rng *rand.Rand) ([]rl.Action, []float32) {
	return a.cat().ActLogProb(t, obs, rng)
}

// Mode implements agent.Actor: the most probable allowed action.
func (a *Actor) Mode(t *nn.Tape, obs []cluster.Obs) []rl.Action { return a.cat().Mode(t, obs) }

// Evaluate implements agent.Actor.
func (a *Actor) Evaluate(t *nn.Tape, obs []cluster.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	return a.cat().Evaluate(t, obs, actions)
}

// cat is the actor's categorical head over its logits.
func (a *Actor) cat() *agent.CategoricalHead[cluster.Obs] {
	if a.head.Logits == nil {
		a.head.Logits = a.Logits
	}
	return &a.head
}

// Critic is V(s) from its own encoders. It may run concurrently on
// distinct tapes.
type Critic struct {
	Enc  *Encoder
	Head *mlp.Model
}

// NewCritic builds a critic.
func NewCritic(cfg Config, rng *rand.Rand) *Critic {
	return &Critic{Enc: NewEncoder(cfg, rng), Head: head(2*cfg.Dim+cfg.globalDim(), cfg.Dim, rng)}
}

// Params implements nn.Module: "enc/…", "head/…".
func (c *Critic) Params(visit func(string, *nn.Param)) {
	c.Enc.Params(nn.Prefix("enc", visit))
	c.Head.Params(nn.Prefix("head", visit))
}

// Value implements agent.Critic.
func (c *Critic) Value(t *nn.Tape, obs []cluster.Obs) *nn.Tensor {
	return c.Head.Forward(t, encode(c.Enc, t, obs).ctx)
}

// NewAgent returns the actor and critic as an agent.Agent for rl/ppo (and
// the other trainers of rl/agent's contract).
func NewAgent(cfg Config, rng *rand.Rand) (agent.Agent[cluster.Obs], error) {
	if err := cfg.Validate(); err != nil {
		return agent.Agent[cluster.Obs]{}, err
	}
	return agent.Agent[cluster.Obs]{Critic: NewCritic(cfg, rng), Actors: []agent.Actor[cluster.Obs]{NewActor(cfg, rng)}}, nil
}

// QNet is DRL-DQN's Q-function (the paper's DQN baseline with DS-PPO's
// encoder): the actor's network, its scores read as Q-values (the
// environment's mask excludes the empty slots; no prior: it is not a
// probability). It implements agent.QFunction.
type QNet struct{ *Actor }

// QValues implements agent.QFunction: R × actions.
func (q QNet) QValues(t *nn.Tape, obs []cluster.Obs) *nn.Tensor {
	l, _ := q.scores(t, obs, 0)
	return l
}

// QBuilder builds QNets of cfg for rl/dqn.
func QBuilder(cfg Config) agent.QBuilder[cluster.Obs] {
	return func(first cluster.Obs, space rl.Space, rng *rand.Rand) (agent.QFunction[cluster.Obs], error) {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if space.Kind != rl.Discrete || space.N != len(first.Mask) {
			return nil, fmt.Errorf("dsppo: want the cluster environment's %d discrete actions, got %v with N=%d", len(first.Mask), space.Kind, space.N)
		}
		return QNet{NewActor(cfg, rng)}, nil
	}
}
