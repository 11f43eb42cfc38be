// Package decima is the DAG scheduler of patent 003 and Decima (Mao et
// al., SIGCOMM 2019) over rl/envs/spark's observations: at each
// scheduling event it picks one runnable stage and an executor limit for
// that stage's job.
//
// # The network
//
// Per stage v (a row of the batch), ten features x_v (Features):
// executors on its job, whether the executors to place are its job's, how
// many there are, its remaining work and tasks, its out-degree and
// in-degree in the job's DAG, its running executors (Decima's five and
// the patent's degrees), its job's remaining work (log scale) and the
// number of jobs in the system. Then:
//
//  1. candidate vectors: two fully connected layers (nn/dagnn's prep);
//  2. the graph network (nn/dagnn), leaves first: e_v = own candidate
//     vector + g(Σ_u a_vu f(e_u)) over v's children u, with the
//     attention weights a_vu ∈ [0, 1] a softmax over the children
//     (Config.Attention; Decima's sum, a_vu = 1, without);
//  3. job vector y_j = Σ_{v ∈ j} JobNet([x_v ‖ e_v]);
//  4. global vector z = the last hidden state of an LSTM scanning the job
//     vectors in arrival order (Config.LSTM; Decima's Σ_j GlobalNet(y_j)
//     without);
//  5. stage score Stage([x_v ‖ e_v ‖ y_j(v) ‖ z]), a softmax over the
//     valid stages; executor limit score Limit([y_j ‖ z ‖ l/50 ‖
//     l/(E/J) ‖ (l − executors of j)/50]) for l = 1 … E (the cluster's
//     executors, J jobs in the system: l/(E/J) is the limit against a
//     fair share), a softmax over the limits from the chosen job's
//     MinLimit.
//
// The policy is π(stage, limit | s) = π(stage | s)·π(limit | s, stage),
// one Actor whose action is the environment's (Obs.Action(slot, limit));
// its entropy is H(stage) + H(limit | the chosen stage).
//
// DecimaConfig is Decima's own architecture (sum over children, summed
// global vector): the ablation of the issue.
package decima

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dagnn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/lstm"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// Features is the width of a stage's raw features.
const Features = 10

// limitFeatures is the width of a limit's own features.
const limitFeatures = 3

// LimitScale divides an executor limit in the limit head's input.
const LimitScale = 50

// Config shapes the network.
type Config struct {
	// Dim is the width of the stage embeddings, JobDim of the job and
	// global vectors (Decima: 8 and 8).
	Dim, JobDim int
	// Hidden are the hidden widths of the candidate layers, the graph
	// network's f and g and the job network (Decima: [16, 8]).
	Hidden []int
	// ScoreHidden are the hidden widths of the stage and limit heads
	// (Decima: [32, 16, 8]).
	ScoreHidden []int
	// Attention weights each stage's children by learned attention (the
	// patent); without, they are summed (Decima).
	Attention bool
	// LSTM makes the global vector an LSTM over the job vectors (the
	// patent); without, Σ_j GlobalNet(y_j) (Decima).
	LSTM bool
}

// DefaultConfig is the patent's network with Decima's widths.
func DefaultConfig() Config {
	return Config{Dim: 8, JobDim: 8, Hidden: []int{16, 8}, ScoreHidden: []int{32, 16, 8}, Attention: true, LSTM: true}
}

// DecimaConfig is Decima's own architecture (the ablation).
func DecimaConfig() Config {
	c := DefaultConfig()
	c.Attention, c.LSTM = false, false
	return c
}

// Validate reports a config that cannot build a network, naming the field.
func (c Config) Validate() error {
	if c.Dim < 1 || c.Dim > 1024 || c.JobDim < 1 || c.JobDim > 1024 {
		return fmt.Errorf("decima: Dim %d and JobDim %d must be in [1, 1024]", c.Dim, c.JobDim)
	}
	for _, hs := range [][]int{c.Hidden, c.ScoreHidden} {
		for _, h := range hs {
			if h < 1 || h > 4096 {
				return fmt.Errorf("decima: hidden widths %v must be in [1, 4096]", hs)
			}
		}
	}
	return nil
}

// Actor is the scheduling policy (agent.Actor over spark.Obs).
//
// Act and Mode must not run concurrently (they share a plan cache);
// Evaluate on recording tapes may.
type Actor struct {
	Config  Config
	GNN     *dagnn.Model
	Summary *dagnn.Summary // JobNet always; GlobalNet without LSTM
	LSTM    *lstm.Model    // nil without Config.LSTM
	Stage   *mlp.Model
	Limit   *mlp.Model

	plans *dagnn.Cache
}

var _ agent.Actor[spark.Obs] = (*Actor)(nil)

// New builds an actor (PyTorch's default initialisation) from rng. It
// panics on an invalid config (call Validate first).
func New(cfg Config, rng *rand.Rand) *Actor {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	act := nn.LeakyReLU
	a := &Actor{Config: cfg, plans: dagnn.NewCache(64)}
	a.GNN = dagnn.New(dagnn.Config{In: Features, Dim: cfg.Dim, PrepHidden: cfg.Hidden, FHidden: cfg.Hidden, GHidden: cfg.Hidden,
		Act: act, Attention: cfg.Attention}, rng)
	a.Summary = dagnn.NewSummary(dagnn.SummaryConfig{In: Features + cfg.Dim, JobHidden: cfg.Hidden, JobOut: cfg.JobDim,
		GlobalHidden: cfg.Hidden, GlobalOut: cfg.JobDim, Act: act}, rng)
	if cfg.LSTM {
		a.LSTM = lstm.New(lstm.Config{In: cfg.JobDim, Hidden: cfg.JobDim, ForgetBias: 1}, rng)
	}
	head := func(in int) *mlp.Model {
		return mlp.New(mlp.Config{Sizes: append(append([]int{in}, cfg.ScoreHidden...), 1), Act: act}, rng)
	}
	a.Stage = head(Features + cfg.Dim + 2*cfg.JobDim)
	a.Limit = head(2*cfg.JobDim + limitFeatures)
	return a
}

// Params implements nn.Module: "gnn/…", "summary/…" (summary/global/…
// unused with LSTM but kept: one layout for both), "lstm/…" (with LSTM),
// "stage/…", "limit/…".
func (a *Actor) Params(visit func(string, *nn.Param)) {
	a.GNN.Params(nn.Prefix("gnn", visit))
	a.Summary.Params(nn.Prefix("summary", visit))
	if a.LSTM != nil {
		a.LSTM.Params(nn.Prefix("lstm", visit))
	}
	a.Stage.Params(nn.Prefix("stage", visit))
	a.Limit.Params(nn.Prefix("limit", visit))
}

// batch is a set of observations laid out as one graph.
type batch struct {
	r, n      int
	x         []float32 // n×Features
	edges     [][2]int  // {parent, child} node ids
	nodeJob   []int     // the job (batch id) of each node
	nodeObs   []int     // the observation of each node
	jobFirst  []int     // r+1: the jobs of observation i are [jobFirst[i], jobFirst[i+1])
	jobObs    []int     // the observation of each job
	nodeFirst []int     // r+1
	k         int       // the widest observation's stage count
	valid     []int     // node ids of the valid stages, observation after observation
	slots     []int     // r×k: index in valid of stage slot s of observation i (len(valid): not valid)
	mask      []bool    // r×k: valid stages
	e         int       // the widest cluster (limit choices)
}

// Fill lays out obs; it checks what the model relies on.
func fill(obs []spark.Obs) (*batch, error) {
	b := &batch{r: len(obs), jobFirst: []int{0}, nodeFirst: []int{0}}
	for i, o := range obs {
		if o.Cfg == nil {
			return nil, fmt.Errorf("decima: observation %d has no cluster config", i)
		}
		if len(o.Valid) == 0 {
			return nil, fmt.Errorf("decima: observation %d (t = %v ms) offers no stage", i, o.Time)
		}
		b.k = max(b.k, len(o.Stages))
		b.e = max(b.e, o.Cfg.Executors)
		base, jbase := b.n, len(b.jobObs)
		work := make([]float64, len(o.Jobs))
		for _, st := range o.Stages {
			work[st.Job] += float64(st.TasksLeft) * st.MeanMs
		}
		for range o.Jobs {
			b.jobObs = append(b.jobObs, i)
		}
		njobs := float32(len(o.Jobs)) / 20
		for s, st := range o.Stages {
			j := o.Jobs[st.Job]
			local := float32(0)
			if st.Job == o.SourceJob {
				local = 1
			}
			b.x = append(b.x, float32(j.Executors)/20, local, float32(o.SourceExecs)/20,
				float32(float64(st.TasksLeft)*st.MeanMs/1e5), float32(st.TasksLeft)/200,
				float32(len(st.Children))/5, float32(len(st.Parents))/5, float32(st.Running)/20,
				float32(math.Log1p(work[st.Job]/1000)/10), njobs)
			b.nodeJob = append(b.nodeJob, jbase+st.Job)
			b.nodeObs = append(b.nodeObs, i)
			for _, c := range st.Children {
				b.edges = append(b.edges, [2]int{base + s, base + c})
			}
		}
		b.n += len(o.Stages)
		b.jobFirst = append(b.jobFirst, len(b.jobObs))
		b.nodeFirst = append(b.nodeFirst, b.n)
	}
	b.slots = make([]int, b.r*b.k)
	b.mask = make([]bool, b.r*b.k)
	for i, o := range obs {
		for _, s := range o.Valid {
			if s < 0 || s >= len(o.Stages) || b.mask[i*b.k+s] {
				return nil, fmt.Errorf("decima: observation %d: valid stage slot %d repeated or outside its %d stages", i, s, len(o.Stages))
			}
			b.mask[i*b.k+s] = true
		}
	}
	for i := range b.r {
		for s := range b.k {
			b.slots[i*b.k+s] = -1
			if b.mask[i*b.k+s] {
				b.slots[i*b.k+s] = len(b.valid)
				b.valid = append(b.valid, b.nodeFirst[i]+s)
			}
		}
	}
	for i, v := range b.slots {
		if v < 0 {
			b.slots[i] = len(b.valid)
		}
	}
	return b, nil
}

// encoded is a batch through the graph network and the summaries.
type encoded struct {
	b      *batch
	xe     *nn.Tensor // n×(Features+Dim): [x ‖ e]
	jobs   *nn.Tensor // J×JobDim
	global *nn.Tensor // r×JobDim
}

func (a *Actor) encode(t *nn.Tape, obs []spark.Obs) encoded {
	b, err := fill(obs)
	if err != nil {
		panic(err.Error())
	}
	var p *dagnn.Plan
	if t.Recording() {
		p, err = dagnn.NewPlan(b.n, b.edges)
	} else {
		p, err = a.plans.Plan(b.n, b.edges)
	}
	if err != nil {
		panic(fmt.Sprintf("decima: the stages' DAG: %v", err))
	}
	x := t.Const(b.n, Features, b.x)
	xe := t.ConcatCols(x, a.GNN.Forward(t, x, p))
	jobs := a.Summary.Jobs(t, xe, b.nodeJob, len(b.jobObs))
	var global *nn.Tensor
	if a.LSTM == nil {
		global = a.Summary.Global(t, jobs, b.jobObs, b.r)
	} else {
		global = a.scan(t, b, jobs)
	}
	return encoded{b: b, xe: xe, jobs: jobs, global: global}
}

// scan runs the LSTM over each observation's jobs in arrival order (the
// observations advance together; one with fewer jobs keeps its state)
// and returns the last hidden states (r×JobDim).
func (a *Actor) scan(t *nn.Tape, b *batch, jobs *nn.Tensor) *nn.Tensor {
	steps := 0
	for i := range b.r {
		steps = max(steps, b.jobFirst[i+1]-b.jobFirst[i])
	}
	padded := t.ConcatRows(jobs, t.Zeros(1, a.Config.JobDim))
	s := a.LSTM.Zero(t, b.r)
	for k := range steps {
		// Fresh each step: Gather keeps idx for the backward pass.
		idx, m := make([]int, b.r), make([]float32, b.r)
		for i := range b.r {
			if j := b.jobFirst[i] + k; j < b.jobFirst[i+1] {
				idx[i], m[i] = j, 1
			} else {
				idx[i] = len(b.jobObs) // the zero row
			}
		}
		next := a.LSTM.Step(t, t.Gather(padded, idx), s)
		mk := t.Const(b.r, 1, m)
		s = lstm.State{H: t.Add(s.H, t.Mul(mk, t.Sub(next.H, s.H))), C: t.Add(s.C, t.Mul(mk, t.Sub(next.C, s.C)))}
	}
	return s.H
}

// stageLogits are the r×k stage scores (masked: the valid stages).
func (a *Actor) stageLogits(t *nn.Tape, en encoded) *nn.Tensor {
	b := en.b
	jobOf, obsOf := make([]int, len(b.valid)), make([]int, len(b.valid))
	for k, v := range b.valid {
		jobOf[k], obsOf[k] = b.nodeJob[v], b.nodeObs[v]
	}
	in := t.ConcatCols(t.Gather(en.xe, b.valid), t.Gather(en.jobs, jobOf), t.Gather(en.global, obsOf))
	scores := t.ConcatRows(a.Stage.Forward(t, in), t.Zeros(1, 1)) // the last row: masked slots
	return t.Reshape(t.Gather(scores, b.slots), b.r, b.k)
}

// limitLogits are the r×e limit scores for the jobs of the chosen stage
// slots, with the mask of the limits each job may take.
func (a *Actor) limitLogits(t *nn.Tape, en encoded, obs []spark.Obs, slots []int) (*nn.Tensor, []bool) {
	b := en.b
	rows := b.r * b.e
	jobIdx, obsIdx := make([]int, rows), make([]int, rows)
	lim := make([]float32, rows*limitFeatures)
	mask := make([]bool, rows)
	for i, o := range obs {
		k := o.Stages[slots[i]].Job
		ml := o.Jobs[k].MinLimit
		fair := float32(o.Cfg.Executors) / float32(len(o.Jobs))
		for l := 1; l <= b.e; l++ {
			r := i*b.e + l - 1
			jobIdx[r], obsIdx[r] = b.jobFirst[i]+k, i
			f := lim[r*limitFeatures : (r+1)*limitFeatures]
			f[0], f[1], f[2] = float32(l)/LimitScale, float32(l)/fair, float32(l-o.Jobs[k].Executors)/LimitScale
			mask[r] = l >= ml && l <= o.Cfg.Executors
		}
	}
	in := t.ConcatCols(t.Gather(en.jobs, jobIdx), t.Gather(en.global, obsIdx), t.Const(rows, limitFeatures, lim))
	return t.Reshape(a.Limit.Forward(t, in), b.r, b.e), mask
}

func (a *Actor) decide(t *nn.Tape, obs []spark.Obs, pick func(*dist.Categorical) []int) []rl.Action {
	en := a.encode(t, obs)
	slots := pick(dist.NewCategorical(t, a.stageLogits(t, en), en.b.mask))
	ll, lm := a.limitLogits(t, en, obs, slots)
	limits := pick(dist.NewCategorical(t, ll, lm))
	out := make([]rl.Action, len(obs))
	for i, o := range obs {
		out[i] = o.Action(slots[i], limits[i]+1)
	}
	return out
}

// Act implements agent.Actor: a stage and a limit sampled per observation.
func (a *Actor) Act(t *nn.Tape, obs []spark.Obs, rng *rand.Rand) []rl.Action {
	return a.decide(t, obs, func(c *dist.Categorical) []int { return c.Sample(rng, nil) })
}

// Mode implements agent.Actor: the most probable stage, then the most
// probable limit for it.
func (a *Actor) Mode(t *nn.Tape, obs []spark.Obs) []rl.Action {
	return a.decide(t, obs, func(c *dist.Categorical) []int { return c.Mode(nil) })
}

// Evaluate implements agent.Actor: log π(stage|s) + log π(limit|s, stage)
// and H(stage) + H(limit | the chosen stage), R×1 each.
func (a *Actor) Evaluate(t *nn.Tape, obs []spark.Obs, actions []rl.Action) (logProb, entropy *nn.Tensor) {
	if len(actions) != len(obs) {
		panic(fmt.Sprintf("decima: Evaluate: %d actions for %d observations", len(actions), len(obs)))
	}
	en := a.encode(t, obs)
	slots, limits := make([]int, len(obs)), make([]int, len(obs))
	for i, o := range obs {
		ex := o.Cfg.Executors
		slots[i], limits[i] = actions[i].Index/ex, actions[i].Index%ex
		if actions[i].Index < 0 || slots[i] >= len(o.Stages) {
			panic(fmt.Sprintf("decima: Evaluate: action %d of observation %d is not a stage's", actions[i].Index, i))
		}
	}
	cs := dist.NewCategorical(t, a.stageLogits(t, en), en.b.mask)
	ll, lm := a.limitLogits(t, en, obs, slots)
	cl := dist.NewCategorical(t, ll, lm)
	return t.Add(cs.LogProb(slots), cl.LogProb(limits)), t.Add(cs.Entropy(), cl.Entropy())
}

// NewAgent is the actor as an agent (no critic: Decima's baseline is the
// time-based one, rl/pg.TimeBaseline).
func NewAgent(cfg Config, rng *rand.Rand) (agent.Agent[spark.Obs], *Actor, error) {
	if err := cfg.Validate(); err != nil {
		return agent.Agent[spark.Obs]{}, nil, err
	}
	a := New(cfg, rng)
	return agent.Agent[spark.Obs]{Actors: []agent.Actor[spark.Obs]{a}}, a, nil
}
