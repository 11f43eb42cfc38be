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
	"github.com/cpntrain/cpntrain/rl/agent"
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
	// Checkpoint makes the run resumable (per iteration); the
	// environments must implement rl.Snapshotter.
	Checkpoint rl.Checkpointing
	// Stop, when set, is asked before every iteration with the returns of
	// every episode finished so far (a resumed run's earlier ones
	// included, so it stops where an uninterrupted run would); true ends
	// training there with Result.Stopped (an early-stopping rule).
	Stop func(returns []float64) bool `json:"-"`
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
	// Stopped reports that Config.Stop ended training early.
	Stopped bool
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

// Train runs PPO on NumEnvs environments made by newEnv and updates ag's
// actors and critic in place. Any agent trains: a vector MLP
// (policy.Agent), a set or graph model, several actors whose joint policy
// is their product (the ratio is that of the joint probabilities). It
// stops early with ctx's error when ctx is cancelled, and with an error
// when an environment fails.
//
// Truncated episodes are bootstrapped: γ·V(final observation) is added to
// the reward of the truncated step, which then counts as done for GAE.
func Train[O any](ctx context.Context, cfg Config, newEnv func() rl.Env[O], ag agent.Agent[O], logger Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if err := ag.Check("ppo", true); err != nil {
		return Result{}, err
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	// --- Set-up: seeding, environments, optimizer, buffers. ---
	nE, nS, nA, B := cfg.NumEnvs, cfg.NumSteps, len(ag.Actors), cfg.BatchSize()
	src := rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)
	rng := rand.New(src)
	venv, err := rl.NewVecEnv("ppo", nE, newEnv, func(e int, k uint64) uint64 { return cfg.Seed + uint64(e) + k*uint64(nE) })
	if err != nil {
		return Result{}, err
	}
	venv.Parallel = cfg.ParallelEnvs
	space := venv.Envs[0].ActionSpace()
	nextDone := make([]bool, nE)
	params := nn.Collect(ag)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: cfg.LearningRate, Beta1: 0.9, Beta2: 0.999, Eps: cfg.AdamEps})
	iters := cfg.Iterations()
	sched := optim.Linear{Base: cfg.LearningRate, Total: int64(iters)}

	// Rollout storage, step-major: index t*nE + e.
	obs := make([]O, B)
	actions := newActs(nA, B) // actions[k][i]
	stepActs := make([][]rl.Action, nA)
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
	parts := make([]rl.Action, nA)
	envAct := make([]rl.Action, nE)
	mbSize := cfg.MinibatchSize()
	perm := make([]int, B)
	mbObs := make([]O, mbSize)
	mbAct := newActs(nA, mbSize)
	oldLP := make([]float32, mbSize)
	mbAdv := make([]float32, mbSize)
	mbRet := make([]float32, mbSize)
	mbVal := make([]float32, mbSize)
	metrics := map[string]float64{}
	res := Result{}
	var global int64
	start := time.Now()

	// --- Resume. ---
	first := 0
	if cfg.Checkpoint.Path != "" {
		st, ok, err := loadRun(cfg.Checkpoint.Path, ag, opt, src, venv)
		if err != nil {
			return res, err
		}
		if ok {
			first, global = st.Iter, st.Global
			copy(nextDone, st.NextDone)
			res.EpisodicReturns, res.EpisodicLengths = st.Returns, st.Lengths
			// A checkpoint taken after the last iteration leaves the loop
			// nothing to do: the result still counts what was done.
			res.Iterations, res.GlobalStep = first, global
		}
	}

	// checkpoint saves the state at the start of iteration iter.
	checkpoint := func(iter int) error {
		return cfg.Checkpoint.Save(func(path string) error {
			st := runState{Iter: iter, Global: global, NextDone: nextDone, Returns: res.EpisodicReturns, Lengths: res.EpisodicLengths}
			return saveRun(path, ag, opt, src, venv, st)
		})
	}

	for iter := first; iter < iters; iter++ {
		if cfg.Stop != nil && cfg.Stop(res.EpisodicReturns) {
			res.Stopped = true
			break
		}
		if err := ctx.Err(); err != nil {
			if cerr := checkpoint(iter); cerr != nil { // a last checkpoint
				return res, errors.Join(err, cerr)
			}
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
			copy(obs[base:base+nE], venv.Obs)
			copy(dones[base:base+nE], nextDone)
			for k := range stepActs {
				stepActs[k] = actions[k][base : base+nE]
			}
			inf.Reset()
			ag.SampleLogProb(inf, venv.Obs, rng, stepActs, logProbs[base:base+nE])
			v := ag.Critic.Value(inf, venv.Obs)
			for e := range nE {
				values[base+e] = float64(v.Data[e])
				for k := range parts {
					parts[k] = stepActs[k][e]
				}
				envAct[e] = clipBox(space, ag.Action(parts), &envAct[e])
			}
			steps, err := venv.Step(envAct)
			if err != nil {
				return res, err
			}
			truncObs, truncIdx = truncObs[:0], truncIdx[:0]
			for e, s := range steps {
				rewards[base+e] = s.Reward
				nextDone[e] = s.Done()
				if s.Truncated && !s.Terminated {
					truncObs = append(truncObs, s.Obs)
					truncIdx = append(truncIdx, base+e)
				}
			}
			for _, f := range venv.Finished {
				res.EpisodicReturns = append(res.EpisodicReturns, f.Return)
				res.EpisodicLengths = append(res.EpisodicLengths, f.Length)
				m := map[string]float64{"charts/episodic_return": f.Return, "charts/episodic_length": float64(f.Length)}
				f.InfoMetrics(m)
				logger(global, m)
			}
			if len(truncObs) > 0 { // bootstrap truncated episodes from their final observation
				inf.Reset()
				tv := ag.Critic.Value(inf, truncObs)
				for k, i := range truncIdx {
					rewards[i] += cfg.Gamma * float64(tv.Data[k])
				}
			}
		}

		// --- Advantages: GAE per environment. ---
		inf.Reset()
		nextV := ag.Critic.Value(inf, venv.Obs)
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
				for j, i := range mb {
					mbObs[j], oldLP[j] = obs[i], logProbs[i]
					for k := range mbAct {
						mbAct[k][j] = actions[k][i]
					}
					mbAdv[j], mbRet[j], mbVal[j] = float32(adv[i]), float32(ret[i]), float32(values[i])
				}
				if cfg.NormAdv {
					rl.NormalizeAdvantages(mbAdv)
				}
				st := shardedLoss(tapes, shardStats, cfg, ag, mbObs, mbAct, oldLP, mbAdv, mbRet, mbVal)
				if cfg.MaxGradNorm > 0 {
					if n := optim.ClipGradNorm(params, cfg.MaxGradNorm); math.IsNaN(n) || math.IsInf(n, 0) {
						nn.ZeroGrads(ag)
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

		// --- Metrics and checkpoint. ---
		res.Iterations = iter + 1
		res.GlobalStep = global
		elapsed := time.Since(start).Seconds()
		res.SPS = float64(global) / elapsed
		clear(metrics)
		metrics["charts/learning_rate"] = lr
		sum.put(metrics)
		metrics["losses/explained_variance"] = explainedVariance(values, ret)
		metrics["charts/SPS"] = res.SPS
		logger(global, metrics)
		if cfg.Checkpoint.Due(int64(iter + 1)) {
			if err := checkpoint(iter + 1); err != nil {
				return res, err
			}
		}
	}
	res.Metrics = make(map[string]float64, len(metrics))
	for k, v := range metrics {
		res.Metrics[k] = v
	}
	return res, nil
}

// newActs returns nA action slices of length n.
func newActs(nA, n int) [][]rl.Action {
	a := make([][]rl.Action, nA)
	for k := range a {
		a[k] = make([]rl.Action, n)
	}
	return a
}

// shardedLoss records the minibatch loss on len(tapes) shards, the
// forward passes concurrently, then back-propagates them in order, each
// weighted by its share of the minibatch. It returns the minibatch's
// statistics (share-weighted means of the shards'). With several shards
// the agent's Evaluate and Value run concurrently on distinct tapes.
func shardedLoss[O any](tapes []*nn.Tape, sts []stats, cfg Config, ag agent.Agent[O], obs []O, acts [][]rl.Action, oldLP, advs, rets, vals []float32) stats {
	n, k := len(obs), len(tapes)
	bounds := func(s int) (int, int) { return s * n / k, (s + 1) * n / k }
	shard := func(s int) {
		lo, hi := bounds(s)
		tapes[s].Reset()
		sa := make([][]rl.Action, len(acts))
		for j := range acts {
			sa[j] = acts[j][lo:hi]
		}
		sts[s] = lossPPO(tapes[s], cfg, ag, obs[lo:hi], sa, oldLP[lo:hi], advs[lo:hi], rets[lo:hi], vals[lo:hi])
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
func lossPPO[O any](t *nn.Tape, cfg Config, ag agent.Agent[O], obs []O, acts [][]rl.Action, oldLP, advs, rets, vals []float32) stats {
	n := len(obs)
	newLP, ent := ag.Evaluate(t, obs, acts)
	v := ag.Critic.Value(t, obs)
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
