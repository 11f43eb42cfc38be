// Package ppo is Proximal Policy Optimization (Schulman et al. 2017) with
// the choices of CleanRL's ppo.py: NumEnvs synchronous environments, fixed
// NumSteps rollouts, GAE, advantage normalisation per minibatch, the clipped
// surrogate objective, an optionally clipped value loss, an entropy bonus,
// global gradient-norm clipping, a linearly annealed learning rate and an
// early stop on the approximate KL divergence.
//
// The file reads top to bottom: Config, then Train (set-up, then per
// iteration: collect a rollout, compute advantages, update the policy).
//
// References: J. Schulman et al., "Proximal Policy Optimization
// Algorithms", arXiv:1707.06347, 2017; S. Huang et al., "The 37
// Implementation Details of Proximal Policy Optimization", ICLR Blog Track
// 2022 (CleanRL).
package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// Config holds PPO's hyper-parameters, named as CleanRL's Args.
type Config struct {
	// Seed seeds the environments (env i is reset with Seed+i first), the
	// action sampling and the minibatch shuffling. The policy's
	// initialisation is the caller's (policy.New takes its own rng).
	Seed uint64
	// TotalTimesteps is the number of environment steps to train for,
	// rounded down to whole iterations of NumEnvs·NumSteps steps.
	TotalTimesteps int64
	// LearningRate is Adam's (initial) learning rate.
	LearningRate float64
	// AnnealLR decays the learning rate linearly to 0 over the iterations.
	AnnealLR bool
	// NumEnvs is the number of environments stepped in lockstep.
	NumEnvs int
	// NumSteps is the number of steps per environment per rollout.
	NumSteps int
	// Gamma is the discount factor γ.
	Gamma float64
	// GAELambda is the λ of generalised advantage estimation.
	GAELambda float64
	// NumMinibatches is the number of minibatches per epoch.
	NumMinibatches int
	// UpdateEpochs is the number of passes over each rollout.
	UpdateEpochs int
	// NormAdv normalises advantages per minibatch (zero mean, unit std).
	NormAdv bool
	// ClipCoef is the surrogate clipping coefficient ε.
	ClipCoef float64
	// ClipVLoss clips the value loss around the rollout values, as the
	// surrogate objective.
	ClipVLoss bool
	// EntCoef weighs the entropy bonus.
	EntCoef float64
	// VFCoef weighs the value loss.
	VFCoef float64
	// MaxGradNorm is the maximum global gradient norm (0: no clipping).
	MaxGradNorm float64
	// TargetKL stops an update's epochs early once the approximate KL
	// divergence exceeds it (0: never).
	TargetKL float64
	// AdamEps is Adam's ε (CleanRL: 1e-5).
	AdamEps float64
	// Shards splits each minibatch's forward pass over this many tapes run
	// on concurrent goroutines; their backward passes then run one after
	// another, in order, each weighted by its share of the minibatch. The
	// loss is CleanRL's; results depend on Shards (float summation order)
	// but not on GOMAXPROCS. 1 (the default) is a single pass; 2 helps on
	// two idle cores only while nn's Tanh dominates the forward pass.
	Shards int
	// ParallelEnvs steps the NumEnvs environments concurrently, one
	// goroutine per environment per step, for simulators whose step costs
	// far more than a goroutine hand-off (the CPN and cluster simulators);
	// results are processed in environment order, so a run is identical
	// with and without it. Leave it off for cheap environments such as
	// CartPole.
	ParallelEnvs bool
	// CheckpointPath, when set, makes the run resumable: every
	// CheckpointEvery iterations the policy, the optimizer, the generator,
	// the counters and the environments (which must implement
	// rl.Snapshotter) are saved there, and a run started with an existing
	// checkpoint at that path continues from it, ending with the same
	// parameters as an uninterrupted run.
	CheckpointPath  string
	CheckpointEvery int
}

// DefaultConfig returns CleanRL's ppo.py defaults (CartPole-v1).
func DefaultConfig() Config {
	return Config{
		Seed:           1,
		TotalTimesteps: 500_000,
		LearningRate:   2.5e-4,
		AnnealLR:       true,
		NumEnvs:        4,
		NumSteps:       128,
		Gamma:          0.99,
		GAELambda:      0.95,
		NumMinibatches: 4,
		UpdateEpochs:   4,
		NormAdv:        true,
		ClipCoef:       0.2,
		ClipVLoss:      true,
		EntCoef:        0.01,
		VFCoef:         0.5,
		MaxGradNorm:    0.5,
		TargetKL:       0,
		AdamEps:        1e-5,
		Shards:         1,
	}
}

// BatchSize returns NumEnvs·NumSteps.
func (c Config) BatchSize() int { return c.NumEnvs * c.NumSteps }

// MinibatchSize returns BatchSize/NumMinibatches.
func (c Config) MinibatchSize() int { return c.BatchSize() / max(c.NumMinibatches, 1) }

// Iterations returns the number of rollout-update iterations.
func (c Config) Iterations() int {
	if c.BatchSize() <= 0 {
		return 0
	}
	return int(c.TotalTimesteps / int64(c.BatchSize()))
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	switch {
	case c.NumEnvs < 1 || c.NumSteps < 1:
		return fmt.Errorf("ppo: NumEnvs (%d) and NumSteps (%d) must be positive", c.NumEnvs, c.NumSteps)
	case c.NumMinibatches < 1 || c.BatchSize()%c.NumMinibatches != 0:
		return fmt.Errorf("ppo: NumMinibatches %d must divide the batch size %d", c.NumMinibatches, c.BatchSize())
	case c.Shards < 1 || c.Shards > c.MinibatchSize():
		return fmt.Errorf("ppo: Shards %d must be in [1, %d]", c.Shards, c.MinibatchSize())
	case c.UpdateEpochs < 1:
		return fmt.Errorf("ppo: UpdateEpochs %d must be positive", c.UpdateEpochs)
	case c.Iterations() < 1:
		return fmt.Errorf("ppo: TotalTimesteps %d is less than one batch (%d)", c.TotalTimesteps, c.BatchSize())
	case !(c.LearningRate > 0) || !(c.Gamma >= 0 && c.Gamma <= 1) || !(c.GAELambda >= 0 && c.GAELambda <= 1):
		return fmt.Errorf("ppo: invalid LearningRate %v, Gamma %v or GAELambda %v", c.LearningRate, c.Gamma, c.GAELambda)
	case !(c.ClipCoef > 0) || c.EntCoef < 0 || c.VFCoef < 0 || c.MaxGradNorm < 0 || c.TargetKL < 0 || c.AdamEps < 0:
		return errors.New("ppo: ClipCoef must be positive and EntCoef, VFCoef, MaxGradNorm, TargetKL, AdamEps non-negative")
	}
	return nil
}

// Result summarises a training run.
type Result struct {
	// GlobalStep is the number of environment steps taken.
	GlobalStep int64
	// Iterations is the number of rollout-update iterations run.
	Iterations int
	// EpisodicReturns and EpisodicLengths list every finished episode, in
	// the order they finished.
	EpisodicReturns []float64
	EpisodicLengths []int
	// SPS is environment steps per second, updates included.
	SPS float64
	// Metrics holds the last iteration's metrics.
	Metrics map[string]float64
}

// MeanLastReturns returns the mean return of the last n episodes (all of
// them if fewer; NaN if none).
func (r Result) MeanLastReturns(n int) float64 {
	rs := r.EpisodicReturns[max(0, len(r.EpisodicReturns)-n):]
	if len(rs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range rs {
		s += x
	}
	return s / float64(len(rs))
}

// Logger receives metrics under CleanRL's names at a global step; nil
// discards them. The map is reused: copy what you keep.
type Logger func(step int64, metrics map[string]float64)

// Train runs PPO on NumEnvs environments made by newEnv and updates pol in
// place. It stops early with ctx's error when ctx is cancelled, and with
// an error when an environment fails.
//
// Truncated episodes are bootstrapped: γ·V(final observation) is added to
// the reward of the truncated step, which then counts as done for GAE.
func Train[O rl.Vector](ctx context.Context, cfg Config, newEnv func() rl.Env[O], pol *policy.ActorCritic[O], logger Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	// --- Set-up: seeding, environments, optimizer, buffers. ---
	nE, nS, B := cfg.NumEnvs, cfg.NumSteps, cfg.BatchSize()
	src := rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)
	rng := rand.New(src)
	envs := make([]rl.Env[O], nE)
	next := make([]O, nE) // current observation of each env
	nextDone := make([]bool, nE)
	episodes := make([]uint64, nE)
	epRet := make([]float64, nE)
	epLen := make([]int, nE)
	for i := range envs {
		envs[i] = newEnv()
		o, err := envs[i].Reset(cfg.Seed + uint64(i))
		if err != nil {
			return Result{}, fmt.Errorf("ppo: reset env %d: %w", i, err)
		}
		next[i] = o
	}
	space := pol.Space
	params := nn.Collect(pol)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: cfg.LearningRate, Beta1: 0.9, Beta2: 0.999, Eps: cfg.AdamEps})
	iters := cfg.Iterations()
	sched := optim.Linear{Base: cfg.LearningRate, Total: int64(iters)}

	// Rollout storage, step-major: index t*nE + e.
	obs := make([]O, B)
	actions := make([]rl.Action, B)
	logProbs := make([]float32, B)
	values := make([]float64, B)
	rewards := make([]float64, B)
	dones := make([]bool, B)
	adv := make([]float64, B)
	ret := make([]float64, B)
	// Per-env views for GAE.
	eRew, eVal, eAdv, eRet := make([]float64, nS), make([]float64, nS), make([]float64, nS), make([]float64, nS)
	eDone := make([]bool, nS)

	inf := nn.NewInference()
	tapes := make([]*nn.Tape, cfg.Shards)
	for i := range tapes {
		tapes[i] = nn.NewTape()
	}
	shardStats := make([]stats, cfg.Shards)
	var truncObs []O
	var truncIdx []int
	envAct := make([]rl.Action, nE)
	stepRes := make([]rl.Step[O], nE)
	stepErr := make([]error, nE)
	mbSize := cfg.MinibatchSize()
	perm := make([]int, B)
	mbObs := make([]O, mbSize)
	mbAct := make([]rl.Action, mbSize)
	oldLP := make([]float32, mbSize)
	mbAdv := make([]float32, mbSize)
	mbRet := make([]float32, mbSize)
	mbVal := make([]float32, mbSize)
	metrics := map[string]float64{}
	res := Result{}
	var global int64
	start := time.Now()

	first := 0
	if cfg.CheckpointPath != "" {
		st, ok, err := loadRun(cfg.CheckpointPath, pol, opt, src, envs, next)
		if err != nil {
			return res, err
		}
		if ok {
			first, global = st.Iter, st.Global
			copy(episodes, st.Episodes)
			copy(epRet, st.EpRet)
			copy(epLen, st.EpLen)
			copy(nextDone, st.NextDone)
			res.EpisodicReturns, res.EpisodicLengths = st.Returns, st.Lengths
		}
	}

	for iter := first; iter < iters; iter++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		lr := cfg.LearningRate
		if cfg.AnnealLR {
			lr = sched.LR(int64(iter))
		}
		opt.SetLR(lr)

		// --- Collect NumSteps steps from every environment. ---
		for t := 0; t < nS; t++ {
			global += int64(nE)
			base := t * nE
			copy(obs[base:base+nE], next)
			copy(dones[base:base+nE], nextDone)
			inf.Reset()
			acts, lp, v := pol.Act(inf, next, rng)
			copy(actions[base:], acts)
			copy(logProbs[base:], lp)
			for e := range nE {
				values[base+e] = float64(v[e])
			}
			truncObs, truncIdx = truncObs[:0], truncIdx[:0]
			for e := range envs {
				envAct[e] = clipBox(space, acts[e], &envAct[e])
			}
			if cfg.ParallelEnvs {
				var wg sync.WaitGroup
				for e, env := range envs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						stepRes[e], stepErr[e] = env.Step(envAct[e])
					}()
				}
				wg.Wait()
			} else {
				for e, env := range envs {
					stepRes[e], stepErr[e] = env.Step(envAct[e])
				}
			}
			for e, env := range envs {
				s, err := stepRes[e], stepErr[e]
				if err != nil {
					return res, fmt.Errorf("ppo: step env %d: %w", e, err)
				}
				rewards[base+e] = s.Reward
				epRet[e] += s.Reward
				epLen[e]++
				nextDone[e] = s.Done()
				if s.Truncated && !s.Terminated {
					truncObs = append(truncObs, s.Obs)
					truncIdx = append(truncIdx, base+e)
				}
				if !s.Done() {
					next[e] = s.Obs
					continue
				}
				res.EpisodicReturns = append(res.EpisodicReturns, epRet[e])
				res.EpisodicLengths = append(res.EpisodicLengths, epLen[e])
				logger(global, map[string]float64{"charts/episodic_return": epRet[e], "charts/episodic_length": float64(epLen[e])})
				epRet[e], epLen[e] = 0, 0
				episodes[e]++
				o, err := env.Reset(cfg.Seed + uint64(e) + episodes[e]*uint64(nE))
				if err != nil {
					return res, fmt.Errorf("ppo: reset env %d: %w", e, err)
				}
				next[e] = o
			}
			if len(truncObs) > 0 { // bootstrap truncated episodes from their final observation
				inf.Reset()
				tv := pol.Value(inf, truncObs)
				for k, i := range truncIdx {
					rewards[i] += cfg.Gamma * float64(tv.Data[k])
				}
			}
		}

		// --- Advantages: GAE per environment. ---
		inf.Reset()
		nextV := pol.Value(inf, next)
		for e := range nE {
			for t := range nS {
				i := t*nE + e
				eRew[t], eVal[t], eDone[t] = rewards[i], values[i], dones[i]
			}
			rl.GAE(eRew, eVal, eDone, float64(nextV.Data[e]), nextDone[e], cfg.Gamma, cfg.GAELambda, eAdv, eRet)
			for t := range nS {
				adv[t*nE+e], ret[t*nE+e] = eAdv[t], eRet[t]
			}
		}

		// --- Update: UpdateEpochs passes over shuffled minibatches. ---
		for i := range perm {
			perm[i] = i
		}
		var sum statSums
		var approxKL float64
	epochs:
		for epoch := 0; epoch < cfg.UpdateEpochs; epoch++ {
			rng.Shuffle(B, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			var epKL float64
			var epMB int
			for s := 0; s < B; s += mbSize {
				mb := perm[s : s+mbSize]
				for k, i := range mb {
					mbObs[k], mbAct[k], oldLP[k] = obs[i], actions[i], logProbs[i]
					mbAdv[k], mbRet[k], mbVal[k] = float32(adv[i]), float32(ret[i]), float32(values[i])
				}
				if cfg.NormAdv {
					rl.NormalizeAdvantages(mbAdv)
				}
				st := shardedLoss(tapes, shardStats, cfg, pol, mbObs, mbAct, oldLP, mbAdv, mbRet, mbVal)
				if cfg.MaxGradNorm > 0 {
					if n := optim.ClipGradNorm(params, cfg.MaxGradNorm); math.IsNaN(n) || math.IsInf(n, 0) {
						nn.ZeroGrads(pol)
						continue // skip a non-finite step
					}
				}
				opt.Step()
				sum.add(st)
				epKL += st.kl
				epMB++
			}
			approxKL = epKL / float64(max(epMB, 1))
			if cfg.TargetKL > 0 && approxKL > cfg.TargetKL {
				break epochs
			}
		}

		// --- Metrics. ---
		res.Iterations = iter + 1
		res.GlobalStep = global
		elapsed := time.Since(start).Seconds()
		res.SPS = float64(global) / elapsed
		clear(metrics)
		metrics["charts/learning_rate"] = lr
		sum.put(metrics)
		metrics["losses/explained_variance"] = explainedVariance(values, ret)
		metrics["charts/SPS"] = res.SPS
		if cfg.CheckpointPath != "" && cfg.CheckpointEvery > 0 && (iter+1)%cfg.CheckpointEvery == 0 {
			st := runState{Iter: iter + 1, Global: global, Episodes: episodes, EpRet: epRet, EpLen: epLen, NextDone: nextDone,
				Returns: res.EpisodicReturns, Lengths: res.EpisodicLengths}
			if err := saveRun(cfg.CheckpointPath, pol, opt, src, envs, st); err != nil {
				return res, err
			}
		}
		logger(global, metrics)
	}
	res.Metrics = make(map[string]float64, len(metrics))
	for k, v := range metrics {
		res.Metrics[k] = v
	}
	return res, nil
}

// shardedLoss records the minibatch loss on len(tapes) shards, the
// forward passes concurrently, then back-propagates them in order, each
// weighted by its share of the minibatch. It returns the minibatch's
// statistics (share-weighted means of the shards').
func shardedLoss[O rl.Vector](tapes []*nn.Tape, sts []stats, cfg Config, pol *policy.ActorCritic[O], obs []O, acts []rl.Action, oldLP, advs, rets, vals []float32) stats {
	n, k := len(obs), len(tapes)
	bounds := func(s int) (int, int) { return s * n / k, (s + 1) * n / k }
	shard := func(s int) {
		lo, hi := bounds(s)
		tapes[s].Reset()
		sts[s] = lossPPO(tapes[s], cfg, pol, obs[lo:hi], acts[lo:hi], oldLP[lo:hi], advs[lo:hi], rets[lo:hi], vals[lo:hi])
	}
	var wg sync.WaitGroup
	for s := 1; s < k; s++ {
		wg.Go(func() { shard(s) })
	}
	shard(0)
	wg.Wait()
	var st stats
	for s := range k {
		lo, hi := bounds(s)
		w := float64(hi-lo) / float64(n)
		tapes[s].BackwardWith(sts[s].loss, float32(w))
		st.pg += w * sts[s].pg
		st.v += w * sts[s].v
		st.ent += w * sts[s].ent
		st.kl += w * sts[s].kl
		st.oldKL += w * sts[s].oldKL
		st.clipFrac += w * sts[s].clipFrac
	}
	return st
}

// stats are one minibatch's loss and diagnostics.
type stats struct {
	loss                            *nn.Tensor
	pg, v, ent, kl, oldKL, clipFrac float64
}

// statSums accumulates the diagnostics of an update's minibatches.
type statSums struct {
	pg, v, ent, kl, oldKL, clipFrac float64
	n                               int
}

// add counts one minibatch's diagnostics.
func (s *statSums) add(st stats) {
	s.pg += st.pg
	s.v += st.v
	s.ent += st.ent
	s.kl += st.kl
	s.oldKL += st.oldKL
	s.clipFrac += st.clipFrac
	s.n++
}

// put stores the means over the minibatches under CleanRL's names (0
// without minibatches).
func (s statSums) put(metrics map[string]float64) {
	n := float64(max(s.n, 1))
	metrics["losses/value_loss"] = s.v / n
	metrics["losses/policy_loss"] = s.pg / n
	metrics["losses/entropy"] = s.ent / n
	metrics["losses/old_approx_kl"] = s.oldKL / n
	metrics["losses/approx_kl"] = s.kl / n
	metrics["losses/clipfrac"] = s.clipFrac / n
}

// lossPPO records CleanRL's loss on t:
//
//	ratio = exp(log π(a|s) − log π_old(a|s))
//	L_pg  = mean(max(−A·ratio, −A·clip(ratio, 1−ε, 1+ε)))
//	L_v   = ½ mean(max((V−R)², (V_old + clip(V−V_old, −ε, ε) − R)²))  (or ½ mean((V−R)²))
//	loss  = L_pg − EntCoef·mean(H) + VFCoef·L_v
func lossPPO[O rl.Vector](t *nn.Tape, cfg Config, pol *policy.ActorCritic[O], obs []O, acts []rl.Action, oldLP, advs, rets, vals []float32) stats {
	n := len(obs)
	newLP, ent, v := pol.Evaluate(t, obs, acts)
	logRatio := t.Sub(newLP, t.Const(n, 1, oldLP))
	ratio := t.Exp(logRatio)
	var st stats
	eps := float32(cfg.ClipCoef)
	for i := range n {
		lr, r := float64(logRatio.Data[i]), float64(ratio.Data[i])
		st.oldKL -= lr
		st.kl += (r - 1) - lr
		if math.Abs(r-1) > cfg.ClipCoef {
			st.clipFrac++
		}
	}
	st.oldKL /= float64(n)
	st.kl /= float64(n)
	st.clipFrac /= float64(n)

	negA := t.Const(n, 1, advs)
	negA = t.Neg(negA)
	pg := t.Mean(t.Maximum(t.Mul(negA, ratio), t.Mul(negA, t.Clamp(ratio, 1-eps, 1+eps))))

	R := t.Const(n, 1, rets)
	var vl *nn.Tensor
	if cfg.ClipVLoss {
		old := t.Const(n, 1, vals)
		unclipped := t.Square(t.Sub(v, R))
		clipped := t.Square(t.Sub(t.Add(old, t.Clamp(t.Sub(v, old), -eps, eps)), R))
		vl = t.Scale(t.Mean(t.Maximum(unclipped, clipped)), 0.5)
	} else {
		vl = t.Scale(t.Mean(t.Square(t.Sub(v, R))), 0.5)
	}
	entropy := t.Mean(ent)
	loss := t.Add(t.Sub(pg, t.Scale(entropy, float32(cfg.EntCoef))), t.Scale(vl, float32(cfg.VFCoef)))
	st.loss = loss
	st.pg, st.v, st.ent = float64(pg.Item()), float64(vl.Item()), float64(entropy.Item())
	return st
}

// explainedVariance returns 1 − Var(ret − values)/Var(ret) (NaN if Var(ret) = 0).
func explainedVariance(values, ret []float64) float64 {
	var mr, md float64
	n := float64(len(ret))
	for i := range ret {
		mr += ret[i]
		md += ret[i] - values[i]
	}
	mr /= n
	md /= n
	var vr, vd float64
	for i := range ret {
		a, b := ret[i]-mr, ret[i]-values[i]-md
		vr += a * a
		vd += b * b
	}
	if vr == 0 {
		return math.NaN()
	}
	return 1 - vd/vr
}

// clipBox returns a, or for Box spaces with bounds a copy (in *buf) clipped
// to [Low, High]; the unclipped action is what the policy is trained on, as
// Gymnasium's ClipAction wrapper in CleanRL.
func clipBox(space rl.Space, a rl.Action, buf *rl.Action) rl.Action {
	if space.Kind != rl.Box || (space.Low == nil && space.High == nil) {
		return a
	}
	if cap(buf.Values) < len(a.Values) {
		buf.Values = make([]float32, len(a.Values))
	}
	buf.Values = buf.Values[:len(a.Values)]
	for j, v := range a.Values {
		if space.Low != nil {
			v = max(v, space.Low[j])
		}
		if space.High != nil {
			v = min(v, space.High[j])
		}
		buf.Values[j] = v
	}
	return *buf
}
