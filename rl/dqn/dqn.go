// Package dqn is deep Q-learning (Mnih et al. 2015) for discrete actions,
// following CleanRL's dqn.py line by line: a Q-network, a target network
// updated every TargetNetworkFrequency steps (hard copy, or Polyak averaging
// with Tau < 1), ε-greedy exploration with a linear schedule, a uniform
// replay buffer (rl.Replay), and an optional Double-DQN target (van Hasselt
// et al. 2016).
//
// The Q-function is any agent.QFunction over any observation type O (a
// vector MLP: policy.MLPQ; a set, graph or convolutional model), built by
// an agent.QBuilder that Train calls twice (online and target networks).
// When observations implement rl.Masked, masked actions are never chosen
// (neither greedily nor at random) and the bootstrap target maximises over
// the allowed actions of the next state only.
//
// Shapes: the Q-function maps a batch of N observations to N×A Q-values
// (A = ActionSpace().N).
//
// Truncated episodes bootstrap from their final observation; terminated
// ones do not.
package dqn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
)

// Loss names the TD loss.
type Loss string

// TD losses.
const (
	// MSE is the squared TD error, as CleanRL's dqn.py.
	MSE Loss = "mse"
	// Huber is the smooth-L1 loss with threshold HuberDelta, as the Nature
	// DQN and Stable-Baselines3.
	Huber Loss = "huber"
)

// Config holds DQN's hyper-parameters, named as the arguments of CleanRL's
// dqn.py. DefaultConfig gives CleanRL's CartPole-v1 defaults.
type Config struct {
	// Seed seeds network initialisation, exploration, replay sampling and
	// the environments' Reset seeds. The same seed gives the same run.
	Seed uint64
	// TotalTimesteps is the number of environment steps.
	TotalTimesteps int64
	// LearningRate is Adam's learning rate.
	LearningRate float64
	// BufferSize is the replay buffer's capacity.
	BufferSize int
	// Gamma is the discount factor.
	Gamma float64
	// Tau is the target network's update rate: θ' ← τ·θ + (1−τ)·θ'
	// (1 is a hard copy).
	Tau float64
	// TargetNetworkFrequency is the number of environment steps between
	// target network updates.
	TargetNetworkFrequency int64
	// BatchSize is the number of transitions per gradient step.
	BatchSize int
	// StartE and EndE are the exploration rate ε at the start and end of
	// the linear schedule.
	StartE, EndE float64
	// ExplorationFraction is the fraction of TotalTimesteps over which ε
	// decays from StartE to EndE.
	ExplorationFraction float64
	// LearningStarts is the number of steps before learning begins (the
	// buffer fills with transitions of the ε-greedy policy meanwhile).
	LearningStarts int64
	// TrainFrequency is the number of environment steps per gradient step.
	TrainFrequency int64

	// DoubleDQN selects the next action with the online network and
	// evaluates it with the target network.
	DoubleDQN bool
	// Loss is the TD loss ("" means MSE).
	Loss Loss
	// HuberDelta is the Huber loss threshold (used when Loss is Huber).
	HuberDelta float64
	// MaxGradNorm clips the global gradient norm when positive (CleanRL:
	// no clipping; SB3: 10).
	MaxGradNorm float64
	// NSteps > 1 stores n-step transitions (Sutton 1988; Rainbow, Hessel
	// et al. 2018): the discounted sum of NSteps rewards and the
	// observation NSteps steps later, bootstrapped with γ^NSteps (fewer
	// steps at an episode's end, which is never bootstrapped across). 0
	// or 1: one-step DQN.
	NSteps int

	// Checkpoint makes the run resumable (per environment step); the
	// environment must implement rl.Snapshotter, and the replay buffer is
	// saved with its observations as JSON, so O must round-trip through
	// encoding/json (exported fields).
	Checkpoint rl.Checkpointing
}

// DefaultConfig returns CleanRL's dqn.py defaults for CartPole-v1.
func DefaultConfig() Config {
	return Config{
		Seed:                   1,
		TotalTimesteps:         500000,
		LearningRate:           2.5e-4,
		BufferSize:             10000,
		Gamma:                  0.99,
		Tau:                    1.0,
		TargetNetworkFrequency: 500,
		BatchSize:              128,
		StartE:                 1,
		EndE:                   0.05,
		ExplorationFraction:    0.5,
		LearningStarts:         10000,
		TrainFrequency:         10,
		Loss:                   MSE,
		HuberDelta:             1,
	}
}

// Validate reports hyper-parameters out of range.
func (c Config) Validate() error {
	switch {
	case c.TotalTimesteps < 0:
		return fmt.Errorf("dqn: TotalTimesteps %d < 0", c.TotalTimesteps)
	case !(c.LearningRate >= 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("dqn: invalid LearningRate %v", c.LearningRate)
	case c.BufferSize < 1:
		return fmt.Errorf("dqn: BufferSize %d < 1", c.BufferSize)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return fmt.Errorf("dqn: Gamma %v outside [0,1]", c.Gamma)
	case !(c.Tau > 0 && c.Tau <= 1):
		return fmt.Errorf("dqn: Tau %v outside (0,1]", c.Tau)
	case c.TargetNetworkFrequency < 1:
		return fmt.Errorf("dqn: TargetNetworkFrequency %d < 1", c.TargetNetworkFrequency)
	case c.BatchSize < 1:
		return fmt.Errorf("dqn: BatchSize %d < 1", c.BatchSize)
	case !(c.StartE >= 0 && c.StartE <= 1 && c.EndE >= 0 && c.EndE <= 1):
		return fmt.Errorf("dqn: StartE %v and EndE %v must lie in [0,1]", c.StartE, c.EndE)
	case !(c.ExplorationFraction >= 0 && c.ExplorationFraction <= 1):
		return fmt.Errorf("dqn: ExplorationFraction %v outside [0,1]", c.ExplorationFraction)
	case c.LearningStarts < 0:
		return fmt.Errorf("dqn: LearningStarts %d < 0", c.LearningStarts)
	case c.TrainFrequency < 1:
		return fmt.Errorf("dqn: TrainFrequency %d < 1", c.TrainFrequency)
	case c.Loss != "" && c.Loss != MSE && c.Loss != Huber:
		return fmt.Errorf("dqn: unknown Loss %q (want mse or huber)", c.Loss)
	case c.Loss == Huber && !(c.HuberDelta > 0):
		return fmt.Errorf("dqn: HuberDelta %v must be positive", c.HuberDelta)
	case !(c.MaxGradNorm >= 0):
		return fmt.Errorf("dqn: MaxGradNorm %v < 0", c.MaxGradNorm)
	case c.NSteps < 0 || c.NSteps > maxNSteps:
		return fmt.Errorf("dqn: NSteps %d outside [0,%d]", c.NSteps, maxNSteps)
	case c.Checkpoint.Every < 0:
		return fmt.Errorf("dqn: CheckpointEvery %d < 0", c.Checkpoint.Every)
	}
	return nil
}

// maxNSteps bounds Config.NSteps (a longer span is Monte Carlo in all but
// name, and the pending steps are kept in memory and checkpoints).
const maxNSteps = 1000

// Episode records one finished training episode.
type Episode struct {
	// Step is the global step at which the episode ended.
	Step   int64
	Return float64
	Length int
}

// Result is the outcome of Train.
type Result[O any] struct {
	// Q is the trained Q-function; agent.GreedyQ(Q) is its greedy policy.
	Q agent.QFunction[O]
	// Episodes lists the training episodes that finished, in order (their
	// returns include exploration).
	Episodes []Episode
	// Steps is the number of environment steps taken; Updates the number
	// of gradient steps.
	Steps, Updates int64
	// Elapsed is the wall time of the run, and SPS its environment steps
	// per second.
	Elapsed time.Duration
	SPS     float64
}

// LinearSchedule returns CleanRL's linear_schedule: start at t = 0,
// decaying linearly to end at t = duration and constant after.
func LinearSchedule(start, end float64, duration, t int64) float64 {
	if duration <= 0 {
		return end
	}
	slope := (end - start) / float64(duration)
	v := slope*float64(t) + start
	if start >= end {
		return math.Max(v, end)
	}
	return math.Min(v, end)
}

// Train runs DQN for cfg.TotalTimesteps steps on one environment made by
// newEnv, with the online and target Q-functions built by newQ (called
// twice, with Train's generator, after the first reset), calling logger
// (if non-nil) with CleanRL's metrics: charts/episodic_return and
// charts/episodic_length at the end of every episode; losses/td_loss,
// losses/q_values, charts/epsilon and charts/SPS every 100 steps once
// learning has started. The metrics map is reused between calls: logger
// must not keep it. Train stops early with ctx's error when ctx is
// cancelled, returning what it has so far.
func Train[O any](ctx context.Context, cfg Config, newEnv func() rl.Env[O], newQ agent.QBuilder[O], logger func(step int64, metrics map[string]float64)) (Result[O], error) {
	if err := cfg.Validate(); err != nil {
		return Result[O]{}, err
	}
	if newQ == nil {
		return Result[O]{}, errors.New("dqn: no Q-function builder")
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	start := time.Now()

	// --- Set-up: seeding (rng drives initialisation, exploration and
	// replay sampling; envRng the environment's Reset seeds), environment,
	// Q-functions, optimiser, buffers. ---
	src, envSrc := rand.NewPCG(cfg.Seed, 0xd9e), rand.NewPCG(cfg.Seed, 0xe5e)
	rng, envRng := rand.New(src), rand.New(envSrc)
	env := newEnv()
	space := env.ActionSpace()
	if space.Kind != rl.Discrete || space.N < 1 {
		return Result[O]{}, fmt.Errorf("dqn: need a discrete action space, got %v with N=%d", space.Kind, space.N)
	}
	nA := space.N
	obs, err := env.Reset(envRng.Uint64())
	if err != nil {
		return Result[O]{}, fmt.Errorf("dqn: reset: %w", err)
	}
	q, target, err := buildQ(newQ, obs, space, rng)
	if err != nil {
		return Result[O]{}, err
	}
	qParams, targetParams := nn.Collect(q), nn.Collect(target)
	softUpdate(targetParams, qParams, 1)
	adam := optim.DefaultAdamConfig()
	adam.LR = cfg.LearningRate
	opt := optim.NewAdam(qParams, adam)

	rb := rl.NewReplay[O](cfg.BufferSize)
	ns := nstep[O]{n: max(1, cfg.NSteps), gamma: cfg.Gamma, rb: rb}
	var batch rl.ReplayBatch[O]
	n := cfg.BatchSize
	actions := make([]int, n)
	targets := make([]float32, n)
	one := make([]O, 1)
	trainTape, inf := nn.NewTape(), nn.NewInference()
	metrics := map[string]float64{}
	masks := agent.NewMasks[O]()

	res := Result[O]{Q: q}
	var epReturn float64
	var epLength int
	var epInfo map[string]float64
	exploration := int64(cfg.ExplorationFraction * float64(cfg.TotalTimesteps))
	finish := func(step int64) {
		res.Steps = step
		res.Elapsed = time.Since(start)
		if s := res.Elapsed.Seconds(); s > 0 {
			res.SPS = float64(step) / s
		}
	}

	// --- Resume. ---
	model := nn.Modules{{Name: "q", M: q}, {Name: "target", M: target}}
	gens := []*rand.PCG{src, envSrc}
	first := int64(0)
	if cfg.Checkpoint.Path != "" {
		var st runState[O]
		ok, err := runstate.Load(cfg.Checkpoint.Path, CheckpointKind, model, opt, gens, &st)
		if err != nil {
			return res, err
		}
		if ok {
			envs, cur := []rl.Env[O]{env}, []O{obs}
			if err := rl.RestoreEnvs("dqn", cfg.Checkpoint.Path, envs, st.Envs, cur); err != nil {
				return res, err
			}
			if err := rb.Restore(st.Replay, st.ReplayPos); err != nil {
				return res, fmt.Errorf("dqn: %s: %w", cfg.Checkpoint.Path, err)
			}
			obs, first = cur[0], st.Step
			if len(st.Pending) >= ns.n {
				return res, fmt.Errorf("dqn: %s: %d pending steps with NSteps %d", cfg.Checkpoint.Path, len(st.Pending), ns.n)
			}
			ns.pending = st.Pending
			epReturn, epLength, epInfo = st.EpReturn, st.EpLength, st.EpInfo
			res.Episodes, res.Updates = st.Episodes, st.Updates
		}
	}

	// checkpoint saves the state before step.
	checkpoint := func(step int64) error {
		return cfg.Checkpoint.Save(func(path string) error {
			return saveRun(path, model, opt, gens, env, rb, runState[O]{
				Step: step, Updates: res.Updates, EpReturn: epReturn, EpLength: epLength, EpInfo: epInfo, Episodes: res.Episodes,
				Pending: ns.pending,
			})
		})
	}

	for step := first; step < cfg.TotalTimesteps; step++ {
		if step&1023 == 0 {
			if err := ctx.Err(); err != nil {
				finish(step)
				if cerr := checkpoint(step); cerr != nil { // a last checkpoint
					return res, errors.Join(err, cerr)
				}
				return res, err
			}
		}
		// --- Act ε-greedily among the allowed actions. ---
		eps := LinearSchedule(cfg.StartE, cfg.EndE, exploration, step)
		mask := masks.Of(&obs)
		var a int
		if rng.Float64() < eps {
			a = randomAllowed(rng, nA, mask)
		} else {
			inf.Reset()
			one[0] = obs
			a = agent.ArgmaxAllowed(q.QValues(inf, one).Data, mask)
		}
		if a < 0 {
			return res, fmt.Errorf("dqn: step %d: every action is masked", step)
		}
		s, err := env.Step(rl.Action{Index: a})
		if err != nil {
			return res, fmt.Errorf("dqn: step %d: %w", step, err)
		}
		epReturn += s.Reward
		epLength++
		epInfo = rl.AddInfo(epInfo, s.Info)
		// Truncation bootstraps from the final observation: store it with
		// Terminated false.
		ns.add(obs, rl.Action{Index: a}, s.Reward, s.Obs, s.Terminated, s.Done())
		obs = s.Obs
		if s.Done() {
			res.Episodes = append(res.Episodes, Episode{Step: step, Return: epReturn, Length: epLength})
			clear(metrics)
			metrics["charts/episodic_return"] = epReturn
			metrics["charts/episodic_length"] = float64(epLength)
			metrics["charts/epsilon"] = eps
			rl.Finished{Return: epReturn, Length: epLength, Info: epInfo}.InfoMetrics(metrics)
			logger(step+1, metrics) // steps done, as the checkpoint counts them
			epReturn, epLength, epInfo = 0, 0, nil
			if obs, err = env.Reset(envRng.Uint64()); err != nil {
				return res, fmt.Errorf("dqn: reset: %w", err)
			}
		}

		if step <= cfg.LearningStarts {
			continue
		}
		// --- Targets and one gradient step. ---
		if step%cfg.TrainFrequency == 0 {
			rb.Sample(rng, n, &batch)
			for i := 0; i < n; i++ {
				actions[i] = batch.Actions[i].Index
			}
			tdTargets(inf, q, target, cfg, masks, &batch, targets)
			loss, pred := tdLoss(trainTape, q, cfg, batch.Obs, actions, targets)
			trainTape.Backward(loss)
			if cfg.MaxGradNorm > 0 {
				optim.ClipGradNorm(qParams, cfg.MaxGradNorm)
			}
			opt.Step()
			res.Updates++
			if step%100 == 0 {
				var mean float64
				for _, v := range pred.Data {
					mean += float64(v)
				}
				clear(metrics)
				metrics["losses/td_loss"] = float64(loss.Item())
				metrics["losses/q_values"] = mean / float64(n)
				metrics["charts/epsilon"] = eps
				metrics["charts/SPS"] = float64(step) / time.Since(start).Seconds()
				logger(step+1, metrics) // steps done, as the checkpoint counts them
			}
		}
		// --- Target network and checkpoint. ---
		if step%cfg.TargetNetworkFrequency == 0 {
			softUpdate(targetParams, qParams, cfg.Tau)
		}
		if cfg.Checkpoint.Due(step + 1) {
			if err := checkpoint(step + 1); err != nil {
				return res, err
			}
		}
	}
	finish(cfg.TotalTimesteps)
	return res, nil
}

// buildQ builds the online and target Q-functions with newQ and checks
// that they have the same parameters and give one Q-value per action.
func buildQ[O any](newQ agent.QBuilder[O], obs O, space rl.Space, rng *rand.Rand) (q, target agent.QFunction[O], err error) {
	if q, err = newQ(obs, space, rng); err != nil {
		return nil, nil, fmt.Errorf("dqn: building the Q-function: %w", err)
	}
	if target, err = newQ(obs, space, rng); err != nil {
		return nil, nil, fmt.Errorf("dqn: building the target Q-function: %w", err)
	}
	qp, tp := nn.Collect(q), nn.Collect(target)
	if len(qp) != len(tp) {
		return nil, nil, fmt.Errorf("dqn: the target Q-function has %d parameters, the online one %d", len(tp), len(qp))
	}
	for i := range qp {
		a, b := qp[i], tp[i]
		if a.Path != b.Path || a.Param.V.Rows != b.Param.V.Rows || a.Param.V.Cols != b.Param.V.Cols {
			return nil, nil, fmt.Errorf("dqn: target parameter %s %d×%d does not match the online %s %d×%d",
				b.Path, b.Param.V.Rows, b.Param.V.Cols, a.Path, a.Param.V.Rows, a.Param.V.Cols)
		}
	}
	v := q.QValues(nn.NewInference(), []O{obs})
	if v.Rows != 1 || v.Cols != space.N {
		return nil, nil, fmt.Errorf("dqn: the Q-function gives %d×%d values for one observation, want 1×%d", v.Rows, v.Cols, space.N)
	}
	return q, target, nil
}

// tdTargets sets targets[i] to the TD target of transition i of batch,
// r + γ·Q'(s', b)·(1 − terminated), without gradients: Q' is the target
// network and b the allowed action of s' with the largest Q-value by the
// online network q with Double DQN, by Q' itself otherwise. A next state
// whose actions are all masked is not bootstrapped. The forward passes
// run on the inference tape inf, which tdTargets resets.
func tdTargets[O any](inf *nn.Tape, q, target agent.QFunction[O], cfg Config, masks agent.Masks[O], batch *rl.ReplayBatch[O], targets []float32) {
	n := len(targets)
	inf.Reset()
	qNext := target.QValues(inf, batch.NextObs[:n])
	nA := qNext.Cols
	var qSel *nn.Tensor
	if cfg.DoubleDQN {
		qSel = q.QValues(inf, batch.NextObs[:n])
	}
	for i := 0; i < n; i++ {
		y := batch.Rewards[i]
		discount := cfg.Gamma
		if i < len(batch.Steps) && batch.Steps[i] > 1 {
			discount = math.Pow(cfg.Gamma, float64(batch.Steps[i]))
		}
		if !batch.Terminated[i] {
			m := masks.Of(&batch.NextObs[i])
			row := qNext.Data[i*nA : (i+1)*nA]
			var b int
			if qSel != nil {
				b = agent.ArgmaxAllowed(qSel.Data[i*nA:(i+1)*nA], m)
			} else {
				b = agent.ArgmaxAllowed(row, m)
			}
			if b >= 0 {
				y += discount * float64(row[b])
			}
		}
		targets[i] = float32(y)
	}
}

// tdLoss regresses Q(s, a) on the targets: it returns the TD loss (Huber
// with threshold cfg.HuberDelta when cfg.Loss is Huber, MSE otherwise)
// of q's Q-values of the taken actions and those Q-values (N×1), recorded
// on the tape t, which tdLoss resets.
func tdLoss[O any](t *nn.Tape, q agent.QFunction[O], cfg Config, obs []O, actions []int, targets []float32) (loss, pred *nn.Tensor) {
	n := len(targets)
	t.Reset()
	pred = t.PickCols(q.QValues(t, obs[:n]), actions)
	tgt := t.Const(n, 1, targets)
	if cfg.Loss == Huber {
		return t.Huber(pred, tgt, float32(cfg.HuberDelta)), pred
	}
	return t.MSE(pred, tgt), pred
}

// CheckpointKind is the model kind of DQN training checkpoints.
const CheckpointKind = "dqn-run"

// runState is what a checkpoint holds besides parameters, optimizer state
// and generators.
type runState[O any] struct {
	Step      int64              `json:"next_step"`
	Updates   int64              `json:"updates"`
	EpReturn  float64            `json:"episode_return_so_far"`
	EpLength  int                `json:"episode_length_so_far"`
	EpInfo    map[string]float64 `json:"episode_info_so_far,omitempty"`
	Episodes  []Episode          `json:"episodes"`
	Envs      [][]byte           `json:"envs"`
	Replay    []rl.Transition[O] `json:"replay"`
	ReplayPos int                `json:"replay_pos"`
	// Pending are the steps of the current episode not yet stored
	// (NSteps > 1): Obs, Action and Reward of each.
	Pending []rl.Transition[O] `json:"pending,omitempty"`
}

// nstep turns environment steps into n-step transitions for the replay
// buffer: it keeps the last n−1 steps of the current episode, and stores
// the oldest once n have accumulated (its reward the discounted sum of the
// n rewards, its next observation the newest); at an episode's end it
// stores every pending step with what remains of the episode.
type nstep[O any] struct {
	n       int
	gamma   float64
	rb      *rl.Replay[O]
	pending []rl.Transition[O]
}

// add records one step (done: the episode ended, by termination or
// truncation).
func (ns *nstep[O]) add(obs O, a rl.Action, r float64, next O, terminated, done bool) {
	if ns.n == 1 {
		ns.rb.Add(obs, a, r, next, terminated)
		return
	}
	ns.pending = append(ns.pending, rl.Transition[O]{Obs: obs, Action: a, Reward: r})
	store := func() { // the oldest pending step, spanning all of them
		var sum, g float64 = 0, 1
		for _, p := range ns.pending {
			sum += g * p.Reward
			g *= ns.gamma
		}
		first := ns.pending[0]
		ns.rb.AddSteps(first.Obs, first.Action, sum, next, terminated, len(ns.pending))
		var zero rl.Transition[O]
		ns.pending[0] = zero
		ns.pending = ns.pending[1:]
	}
	if done {
		for len(ns.pending) > 0 {
			store()
		}
		ns.pending = nil
		return
	}
	if len(ns.pending) == ns.n {
		store()
	}
}

// saveRun completes st with the environment's snapshot and the replay
// buffer and writes the checkpoint.
func saveRun[O any](path string, model nn.Module, opt optim.Optimizer, gens []*rand.PCG, env rl.Env[O], rb *rl.Replay[O], st runState[O]) error {
	snaps, err := rl.SnapshotEnvs("dqn", []rl.Env[O]{env})
	if err != nil {
		return err
	}
	st.Envs = snaps
	st.Replay = make([]rl.Transition[O], rb.Len())
	for i := range st.Replay {
		st.Replay[i] = rb.At(i)
	}
	st.ReplayPos = rb.Pos()
	return runstate.Save(path, CheckpointKind, st.Step, model, opt, gens, st)
}

// softUpdate sets every target parameter to τ·online + (1−τ)·target.
func softUpdate(target, online []nn.NamedParam, tau float64) {
	for i, tp := range target {
		dst, src := tp.Param.V.Data, online[i].Param.V.Data
		if tau == 1 {
			copy(dst, src)
			continue
		}
		t := float32(tau)
		for j, v := range src {
			dst[j] = t*v + (1-t)*dst[j]
		}
	}
}

// randomAllowed returns an action drawn uniformly among the allowed ones,
// or −1 if none is allowed.
func randomAllowed(rng *rand.Rand, n int, mask []bool) int {
	if mask == nil {
		return rng.IntN(n)
	}
	k := 0
	for _, ok := range mask[:n] {
		if ok {
			k++
		}
	}
	if k == 0 {
		return -1
	}
	r := rng.IntN(k)
	for j, ok := range mask[:n] {
		if ok {
			if r == 0 {
				return j
			}
			r--
		}
	}
	return -1
}
