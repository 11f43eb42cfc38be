// Package dspporun is DS-PPO's experiments (paper 001): training the
// DeepSets policy of models/dsppo with rl/ppo on rl/envs/cluster, and
// scoring it with the baselines on held-out queues.
package dspporun

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
	"github.com/cpntrain/cpntrain/rl/pg"
	"github.com/cpntrain/cpntrain/rl/ppo"
)

// Queue seeds: training queues are PPO's (its Seed + small offsets),
// validation queues (choose settings there), test queues (the bench's)
// and selection queues (Config.SelectEvery's: a split of their own, so
// that validation scores of a selected model are not biased by the
// selection) start far above them.
const (
	TestSeed0       = 1_000_000
	ValidationSeed0 = 2_000_000
	SelectionSeed0  = 3_000_000
)

// Algorithms: DS-PPO and the learned baselines of the paper (the same
// DeepSets encoder trained by DQN and by REINFORCE) and the issue's
// ablation (PPO with an MLP over a padded vector).
const (
	AlgoPPO       = "ppo"
	AlgoPPOMLP    = "ppo-mlp"
	AlgoDQN       = "dqn"
	AlgoREINFORCE = "reinforce"
)

// Algos lists the algorithms.
var Algos = []string{AlgoPPO, AlgoPPOMLP, AlgoDQN, AlgoREINFORCE}

// MethodName is an algorithm's name in the tables (the paper's names).
func MethodName(algo string) string {
	switch algo {
	case AlgoPPOMLP:
		return "ppo-mlp"
	case AlgoDQN:
		return "drl-dqn"
	case AlgoREINFORCE:
		return "drl-reinforce"
	}
	return "ds-ppo"
}

// Config is one training run.
type Config struct {
	// Algo is one of Algos ("" means AlgoPPO).
	Algo string
	// Env is the system and its queue (the training distribution).
	Env   cluster.Config
	Model dsppo.Config
	PPO   ppo.Config
	// DQN and PG configure the DRL-DQN and DRL-REINFORCE baselines; their
	// step budget is PPO.TotalTimesteps, their seed PPO.Seed.
	DQN dqn.Config
	PG  pg.Config
	// Patience stops training once the best episodic return has not
	// improved for that many episodes (the paper: 70; 0: never).
	Patience int
	// SelectEvery, when positive, scores the greedy policy on
	// SelectQueues selection queues (SelectionSeed0 on: neither a
	// validation nor a test queue) every SelectEvery decisions and ends training with the
	// parameters that scored best (lowest mean completion time); 0 keeps
	// the last parameters (select.go says why).
	SelectEvery  int64 `json:",omitempty"`
	SelectQueues int   `json:",omitempty"`
}

// DefaultConfig is the paper's testbed with queue q and its PPO settings
// (Table 4, as the issue reads it: γ 0.99, Adam 1e-3, 2,048 steps per
// rollout, minibatches of 64, 10 epochs, clip 0.2, entropy 0.01; GAE
// λ 0.95, value weight 0.5, gradient clipping 0.5 and unclipped values
// are Stable-Baselines3's defaults, which the paper's names follow), the
// early stop after 70 episodes without a better return, 64 wide, and the
// completion-time reward (cluster.RewardJCT; docs/dsppo.md says why).
func DefaultConfig(q cluster.Queue) Config {
	env := cluster.PaperConfig()
	env.Queue, env.Reward = q, cluster.RewardJCT
	p := ppo.DefaultConfig()
	p.TotalTimesteps, p.LearningRate, p.AnnealLR = 200_000, 1e-3, false
	p.NumEnvs, p.NumSteps, p.NumMinibatches, p.UpdateEpochs = 1, 2048, 32, 10
	p.Gamma, p.GAELambda, p.ClipCoef, p.ClipVLoss = 0.99, 0.95, 0.2, false
	p.EntCoef, p.VFCoef, p.MaxGradNorm, p.NormAdv, p.AdamEps = 0.01, 0.5, 0.5, true, 1e-8
	d := dqn.DefaultConfig()
	d.LearningRate, d.BufferSize, d.BatchSize, d.Gamma = 1e-3, 20000, 64, 0.99
	d.TargetNetworkFrequency, d.StartE, d.EndE, d.ExplorationFraction = 500, 1, 0.05, 0.3
	d.LearningStarts, d.TrainFrequency, d.DoubleDQN, d.Loss = 2048, 4, true, dqn.Huber
	g := pg.DefaultConfig()
	g.NumEnvs, g.NumEpisodes, g.LearningRate, g.LearningRateCritic = 1, 1, 1e-3, 1e-3
	g.Gamma, g.EntCoef, g.NormAdv, g.MaxGradNorm = 0.99, 0.01, true, 0.5
	return Config{Algo: AlgoPPO, Env: env, Model: dsppo.DefaultConfig(len(env.TaskTypes)), PPO: p, DQN: d, PG: g, Patience: 70}
}

// Validate reports a config Train cannot run.
func (c Config) Validate() error {
	if err := c.Env.Validate(); err != nil {
		return err
	}
	if c.Model.Types != len(c.Env.TaskTypes) {
		return fmt.Errorf("dsppo: the model has %d task types, the system %d", c.Model.Types, len(c.Env.TaskTypes))
	}
	if c.Algo != "" && !slices.Contains(Algos, c.Algo) {
		return fmt.Errorf("dsppo: unknown algorithm %q (%v)", c.Algo, Algos)
	}
	if c.Patience < 0 {
		return fmt.Errorf("dsppo: patience %d < 0", c.Patience)
	}
	if c.SelectEvery < 0 || c.SelectEvery > 0 && c.SelectQueues < 1 {
		return fmt.Errorf("dsppo: selection every %d decisions on %d queues", c.SelectEvery, c.SelectQueues)
	}
	if err := c.Model.Validate(); err != nil {
		return err
	}
	return c.PPO.Validate()
}

// Stalled is the paper's early stop: true once the best return so far is
// patience or more episodes old.
func Stalled(patience int) func(returns []float64) bool {
	return func(r []float64) bool {
		best := 0
		for i, v := range r {
			if v > r[best] {
				best = i
			}
		}
		return len(r) > 0 && len(r)-1-best >= patience
	}
}

// Result is what Train did.
type Result struct {
	EpisodicReturns []float64
	Steps           int64
	Iterations      int
	// Stopped says why training ended early ("" when it ran its steps).
	Stopped string
	// Selected says whether the parameters kept are a selection's
	// (Config.SelectEvery), from which step and with what validation
	// score (mean completion time, s).
	Selected      bool
	SelectedStep  int64
	SelectedScore float64
	SPS           float64
	Elapsed       time.Duration
}

// Trained is a trained scheduler.
type Trained struct {
	// Agent is set for the actor-critic algorithms (PPO, PPO-MLP,
	// REINFORCE), Q for DQN.
	Agent agent.Agent[cluster.Obs]
	Q     agent.QFunction[cluster.Obs]
}

// Method returns the trained scheduler's greedy policy as a Method.
func (tr Trained) Method(name string) Method {
	if tr.Q != nil {
		return Method{name, func() rl.Policy[cluster.Obs] { return agent.GreedyQ(tr.Q) }}
	}
	return AgentMethod(name, tr.Agent)
}

// Train trains a new scheduler with cfg.Algo (initialised from
// cfg.PPO.Seed).
func Train(ctx context.Context, cfg Config, logger func(step int64, metrics map[string]float64)) (Trained, Result, error) {
	return train(ctx, cfg, logger, selectState{threshold: math.Inf(1)})
}

// selectState is a resumed run's selection: the step training resumes
// from (scorings stay at the multiples of SelectEvery an uninterrupted
// run crosses), the best score so far (a selection must beat it) and a
// hook called at every new best.
type selectState struct {
	start     int64
	threshold float64
	onBest    func(int64, float64, Trained) error
}

// train is Train resuming a selection.
func train(ctx context.Context, cfg Config, logger func(step int64, metrics map[string]float64), ss selectState) (Trained, Result, error) {
	if err := cfg.Validate(); err != nil {
		return Trained{}, Result{}, err
	}
	newEnv := func() rl.Env[cluster.Obs] {
		e, err := cluster.NewEnv(cfg.Env)
		if err != nil {
			panic(err) // validated above
		}
		return e
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	rng := rand.New(rand.NewPCG(cfg.PPO.Seed, 0xd5))
	start := time.Now()
	var tr Trained
	var res Result
	var err error
	var sel *selector
	var selErr error
	if cfg.SelectEvery > 0 {
		sel = newSelector(cfg, ss.start, func() nn.Module {
			if tr.Q != nil {
				return tr.Q
			}
			return tr.Agent
		}, func() Method { return tr.Method("selection") }, ss.threshold, func(step int64, score float64) error {
			if ss.onBest == nil {
				return nil
			}
			return ss.onBest(step, score, tr)
		})
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		inner := logger
		logger = func(step int64, m map[string]float64) {
			if selErr == nil {
				c, ok, err := sel.observe(step)
				if err != nil {
					selErr = fmt.Errorf("dsppo: model selection at step %d: %w", step, err)
					cancel()
				}
				if ok {
					m["select/avg_completion_s"] = c
				}
			}
			inner(step, m)
		}
	}
	switch cfg.Algo {
	case AlgoDQN:
		d := cfg.DQN
		d.Seed, d.TotalTimesteps = cfg.PPO.Seed, cfg.PPO.TotalTimesteps
		qb := dsppo.QBuilder(cfg.Model)
		online := func(first cluster.Obs, space rl.Space, rng *rand.Rand) (agent.QFunction[cluster.Obs], error) {
			q, err := qb(first, space, rng)
			if tr.Q == nil { // dqn.Train builds the online network first, then the target
				tr.Q = q
			}
			return q, err
		}
		var r dqn.Result[cluster.Obs]
		r, err = dqn.Train(ctx, d, newEnv, online, logger)
		tr.Q = r.Q
		for _, e := range r.Episodes {
			res.EpisodicReturns = append(res.EpisodicReturns, e.Return)
		}
		res.Steps, res.Iterations, res.SPS = r.Steps, int(r.Updates), r.SPS
	case AlgoREINFORCE:
		g := cfg.PG
		g.Seed, g.TotalTimesteps = cfg.PPO.Seed, cfg.PPO.TotalTimesteps
		if tr.Agent, err = dsppo.NewAgent(cfg.Model, rng); err != nil {
			return tr, res, err
		}
		var r pg.Result
		r, err = pg.Train(ctx, g, newEnv, tr.Agent, nil, logger)
		res.EpisodicReturns, res.Steps, res.Iterations, res.SPS = r.EpisodicReturns, r.Steps, int(r.Updates), r.SPS
	default:
		if cfg.Algo == AlgoPPOMLP {
			tr.Agent, err = dsppo.NewFlatAgent(cfg.Model, dsppo.ShapeOf(cfg.Env), rng)
		} else {
			tr.Agent, err = dsppo.NewAgent(cfg.Model, rng)
		}
		if err != nil {
			return tr, res, err
		}
		p := cfg.PPO
		if cfg.Patience > 0 {
			p.Stop = Stalled(cfg.Patience)
		}
		var r ppo.Result
		r, err = ppo.Train(ctx, p, newEnv, tr.Agent, logger)
		res = Result{EpisodicReturns: r.EpisodicReturns, Steps: r.GlobalStep, Iterations: r.Iterations, SPS: r.SPS}
		if r.Stopped {
			res.Stopped = fmt.Sprintf("no better return in the last %d episodes", cfg.Patience)
		}
	}
	res.Elapsed = time.Since(start)
	if selErr != nil {
		return tr, res, selErr
	}
	if sel != nil && err == nil {
		if sel.last < res.Steps { // the last parameters are candidates too
			sel.next = res.Steps
			c, ok, err := sel.observe(res.Steps)
			if err != nil {
				return tr, res, fmt.Errorf("dsppo: model selection at step %d: %w", res.Steps, err)
			}
			if ok {
				logger(res.Steps, map[string]float64{"select/avg_completion_s": c})
			}
		}
		res.Selected = sel.restore()
		res.SelectedStep, res.SelectedScore, _ = sel.selected()
	}
	return tr, res, err
}

// Method is a scheduler scored by Evaluate.
type Method struct {
	Name string
	// Policy returns the method's policy for one episode.
	Policy func() rl.Policy[cluster.Obs]
}

// Baselines are the heuristics of rl/envs/cluster on system sys: the
// greedy ones and the metaheuristics (a fresh, seeded search state per
// episode). S-P-GWO's SVM is fitted, at its first episode, to
// Sigmoid-PSO's placements on SVMQueues training queues of sys (seeds
// 1…SVMQueues: never a validation or test queue).
func Baselines(sys cluster.Config) []Method {
	var (
		once sync.Once
		svm  *cluster.SVM
		err  error
	)
	pso := func() rl.Policy[cluster.Obs] { return cluster.SigmoidPSO(cluster.DefaultSwarm()) }
	return []Method{
		{"first-fit", cluster.FirstFit},
		{"fastest-fit", cluster.Fastest},
		{"fastest-spread", cluster.FastestSpread},
		{"best-or-wait", cluster.BestOrWait},
		{"sigmoid-pso", pso},
		{"gwo", func() rl.Policy[cluster.Obs] { return cluster.GWO(cluster.DefaultSwarm()) }},
		{"s-p-gwo", func() rl.Policy[cluster.Obs] {
			once.Do(func() { svm, err = cluster.TrainSVM(sys, pso, Seeds(1, SVMQueues)) })
			if err != nil {
				return rl.PolicyFunc[cluster.Obs](func(cluster.Obs) (rl.Action, error) {
					return rl.Action{}, fmt.Errorf("s-p-gwo: training its SVM: %w", err)
				})
			}
			return cluster.SPGWO(cluster.DefaultSwarm(), svm)
		}},
	}
}

// SVMQueues is the number of training queues S-P-GWO's SVM learns from.
const SVMQueues = 3

// AgentMethod is a trained agent's greedy policy (the most probable
// action).
func AgentMethod(name string, ag agent.Agent[cluster.Obs]) Method {
	return Method{name, func() rl.Policy[cluster.Obs] { return agent.Greedy(ag) }}
}

// Row is one method's scores over the evaluated queues.
type Row struct {
	Method string
	// Per queue: average completion and waiting time (s), utilisation.
	Completion, Wait, Util []float64
	// Decision is the mean time of one decision; Decisions their number
	// per queue (waits included).
	Decision  time.Duration
	Decisions float64
}

// Evaluate plays every method on the queues of seeds (of sys's queue
// distribution) and scores them.
func Evaluate(sys cluster.Config, methods []Method, seeds []uint64) ([]Row, error) {
	rows := make([]Row, len(methods))
	for i, m := range methods {
		rows[i].Method = m.Name
		var spent time.Duration
		var decisions int
		for _, seed := range seeds {
			env, err := cluster.NewEnv(sys)
			if err != nil {
				return nil, err
			}
			p := m.Policy()
			o, err := env.Reset(seed)
			if err != nil {
				return nil, err
			}
			for {
				t0 := time.Now()
				a, err := p.Decide(o)
				spent += time.Since(t0)
				decisions++
				if err != nil {
					return nil, fmt.Errorf("%s: queue %d: %w", m.Name, seed, err)
				}
				s, err := env.Step(a)
				if err != nil {
					return nil, fmt.Errorf("%s: queue %d: %w", m.Name, seed, err)
				}
				if s.Terminated {
					rows[i].Completion = append(rows[i].Completion, s.Info["avg_completion_s"])
					rows[i].Wait = append(rows[i].Wait, s.Info["avg_wait_s"])
					rows[i].Util = append(rows[i].Util, s.Info["utilisation"])
					break
				}
				o = s.Obs
			}
		}
		if decisions > 0 {
			rows[i].Decision = spent / time.Duration(decisions)
			rows[i].Decisions = float64(decisions) / float64(len(seeds))
		}
	}
	return rows, nil
}

// Seeds returns n seeds from seed0.
func Seeds(seed0 uint64, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = seed0 + uint64(i)
	}
	return s
}
