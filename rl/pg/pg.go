// Package pg is REINFORCE with a baseline (Williams 1992; Sutton & Barto
// 2018, §13.4), in CleanRL's one-file style: Monte-Carlo episodic returns,
// a baseline b(s_t) subtracted from them, and one gradient step per batch
// of NumEpisodes complete episodes.
//
//	G_t = r_t + γ r_{t+1} + … (to the end of the episode)
//	A_t = G_t − b_t            (optionally normalised over the batch)
//	L   = −mean_t(A_t · Σ_k log π_k(a_k,t|s_t)) − EntCoef·Σ_k mean_t H(π_k(·|s_t))
//
// The baseline is, in order of precedence:
//
//   - a Baseline function supplied by the caller, which sees the whole
//     batch (Decima's time-based baseline: StepBaseline and TimeBaseline);
//   - otherwise the agent's Critic, a learned value baseline trained with
//     ½·mean((V(s_t) − G_t)²) at LearningRateCritic;
//   - otherwise none (b = 0; set NormAdv to centre the returns).
//
// Agents are agent.Agent values: one or several actors acting on the
// same state (their joint log-probability is the sum of theirs) and an
// optional critic. An episode truncated by a time limit is bootstrapped
// with γ·V(final observation) when the agent has a critic, and cut
// otherwise.
//
// Metrics (CleanRL names): charts/episodic_return and
// charts/episodic_length per episode; losses/policy_loss, losses/entropy,
// losses/value_loss (with a critic) and charts/SPS per update.
package pg

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/internal/runstate"
	"github.com/cpntrain/cpntrain/rl/internal/settings"
)

// Config holds REINFORCE's hyper-parameters.
type Config struct {
	// Seed seeds action sampling and the environments' Reset seeds (the
	// caller seeds the networks it builds). The same seed gives the same run.
	Seed uint64
	// TotalTimesteps is the number of environment steps; training stops
	// after the first batch that reaches it.
	TotalTimesteps int64
	// NumEnvs is the number of environments stepped in lockstep.
	NumEnvs int
	// NumEpisodes is the number of complete episodes per gradient step.
	NumEpisodes int
	// LearningRate is the actors' Adam learning rate, LearningRateCritic
	// the value baseline's.
	LearningRate, LearningRateCritic float64
	// Gamma is the discount factor.
	Gamma float64
	// EntCoef weighs the entropy bonus of every actor.
	EntCoef float64
	// NormAdv normalises the advantages of each batch to mean 0, std 1.
	NormAdv bool
	// MaxGradNorm clips the global gradient norm of the actors' and of the
	// critic's parameters (separately) when positive.
	MaxGradNorm float64
	// AnnealLR decays both learning rates linearly to 0 over
	// TotalTimesteps (CleanRL's anneal_lr), which lets the policy settle
	// precisely (e.g. on split ratios).
	AnnealLR bool
	// SameInput resets every episode of a batch with one seed (drawn per
	// batch), so the batch's rollouts face the same input (e.g. the same
	// job arrivals) and differ by the policy's sampled actions only:
	// Decima's input-dependent baseline (Mao et al. 2019, §5.3) then
	// compares like with like. The environment must make its random
	// draws from the Reset seed.
	SameInput bool
	// EvalChunk bounds the observations evaluated on one tape in the
	// gradient step (0: the whole batch at once): the loss is summed over
	// chunks of at most EvalChunk observations, each weighted by its share
	// of the batch, and the gradients accumulate, which is the same
	// gradient in less memory (graph observations of hundreds of nodes).
	EvalChunk int

	// Checkpoint makes the run resumable (per update; batches are whole
	// episodes, so no environment state is saved).
	Checkpoint rl.Checkpointing
}

// DefaultConfig returns settings that solve the known-answer environments.
func DefaultConfig() Config {
	return Config{
		Seed:               1,
		TotalTimesteps:     50000,
		NumEnvs:            8,
		NumEpisodes:        16,
		LearningRate:       3e-3,
		LearningRateCritic: 3e-3,
		Gamma:              0.99,
		EntCoef:            0.01,
		NormAdv:            true,
		MaxGradNorm:        0.5,
	}
}

// Validate reports hyper-parameters out of range.
func (c Config) Validate() error {
	f := settings.New("pg")
	settings.AtLeast(f, "TotalTimesteps", c.TotalTimesteps, 0)
	settings.AtLeast(f, "NumEnvs", c.NumEnvs, 1)
	settings.AtLeast(f, "NumEpisodes", c.NumEpisodes, 1)
	settings.AtLeast(f, "EvalChunk", c.EvalChunk, 0)
	settings.AtLeast(f, "Checkpoint.Every", c.Checkpoint.Every, 0)
	return f.NonNeg("LearningRate", c.LearningRate).NonNeg("LearningRateCritic", c.LearningRateCritic).
		Unit("Gamma", c.Gamma).NonNeg("EntCoef", c.EntCoef).NonNeg("MaxGradNorm", c.MaxGradNorm).Err()
}

// Episode is one complete episode of a batch.
type Episode[O any] struct {
	// Obs[t] is the observation at step t.
	Obs []O
	// Rewards[t] is the reward of step t; Returns[t] the discounted
	// return-to-go G_t (including a truncation bootstrap, if any).
	Rewards, Returns []float64

	actions [][]rl.Action      // [actor][t]
	info    map[string]float64 // step infos summed
}

// Baseline fills b[i][t] (len(b[i]) = len(batch[i].Obs)) with the baseline
// of step t of episode i; it may use the whole batch.
type Baseline[O any] func(batch []Episode[O], b [][]float64)

// StepBaseline is Decima's time-based baseline with the step index as the
// time: b[i][t] is the mean over the batch of the returns-to-go at step t,
// counting 0 for episodes already over.
func StepBaseline[O any]() Baseline[O] {
	return func(batch []Episode[O], b [][]float64) {
		for i, ep := range batch {
			for t := range ep.Obs {
				var s float64
				for _, o := range batch {
					if t < len(o.Returns) {
						s += o.Returns[t]
					}
				}
				b[i][t] = s / float64(len(batch))
			}
		}
	}
}

// TimeBaseline is Decima's time-based baseline (Mao et al. 2019, §5.3):
// with clock(s) the wall time of an observation, b[i][t] is the mean over
// the batch's episodes j of G_j(τ), τ = clock(s_{i,t}), where G_j(τ) is the
// return-to-go of the last step of episode j that started at or before τ
// (the first step's if none did; 0 after the episode's end is not
// distinguished: the last step's return-to-go holds). Clocks must be
// non-decreasing within an episode.
func TimeBaseline[O any](clock func(O) float64) Baseline[O] {
	return func(batch []Episode[O], b [][]float64) {
		times := make([][]float64, len(batch))
		for j, ep := range batch {
			times[j] = make([]float64, len(ep.Obs))
			for t, o := range ep.Obs {
				times[j][t] = clock(o)
			}
		}
		for i, ep := range batch {
			for t := range ep.Obs {
				tau := times[i][t]
				var s float64
				for j, o := range batch {
					k := sort.Search(len(times[j]), func(k int) bool { return times[j][k] > tau }) - 1
					s += o.Returns[max(k, 0)]
				}
				b[i][t] = s / float64(len(batch))
			}
		}
	}
}

// Logger receives metrics under CleanRL's names at a global step; nil
// discards them. The map is reused: copy what you keep.
type Logger func(step int64, metrics map[string]float64)

// Result is the outcome of Train.
type Result struct {
	// EpisodicReturns and EpisodicLengths list every training episode
	// (stochastic actions), in the order they finished.
	EpisodicReturns []float64
	EpisodicLengths []int
	// Steps is the number of environment steps, Updates of gradient steps.
	Steps, Updates int64
	// SPS is environment steps per second, updates included.
	SPS float64
}

// Train runs REINFORCE on cfg.NumEnvs environments made by newEnv and
// updates agent's actors (and critic, if any) in place; baseline may be
// nil (see the package documentation). It stops early with ctx's error
// when ctx is cancelled, and with an error when an environment fails.
func Train[O any](ctx context.Context, cfg Config, newEnv func() rl.Env[O], ag agent.Agent[O], baseline Baseline[O], logger Logger) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if err := ag.Check("pg", false); err != nil {
		return Result{}, err
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	start := time.Now()

	// Seeding, all in one place: rng drives action sampling, envRng the
	// environments' Reset seeds.
	src, envSrc := rand.NewPCG(cfg.Seed, 0x9e1), rand.NewPCG(cfg.Seed, 0xe5e)
	rng, envRng := rand.New(src), rand.New(envSrc)

	nE, nA := cfg.NumEnvs, len(ag.Actors)
	envs := make([]rl.Env[O], nE)
	for i := range envs {
		envs[i] = newEnv()
	}

	// Optimisers.
	actorParams := nn.Collect(ag.ActorModules())
	adam := optim.DefaultAdamConfig()
	adam.LR = cfg.LearningRate
	optA := optim.NewAdam(actorParams, adam)
	var criticParams []nn.NamedParam
	var optC *optim.Adam
	if ag.Critic != nil {
		criticParams = nn.Collect(nn.Modules{{Name: "critic", M: ag.Critic}})
		adam.LR = cfg.LearningRateCritic
		optC = optim.NewAdam(criticParams, adam)
	}

	inf, tape := nn.NewInference(), nn.NewTape()
	metrics := map[string]float64{}
	parts := make([]rl.Action, nA)
	one := make([]O, 1)
	var res Result
	var global int64

	// Checkpointed state: the actors (and critic), their optimizers, the
	// generators and the counters.
	model := nn.Modules{{Name: "actors", M: ag.ActorModules()}}
	opts := optim.Group{{Name: "actors", Opt: optA}}
	if optC != nil {
		model = append(model, nn.Modules{{Name: "critic", M: ag.Critic}}...)
		opts = append(opts, optim.Member{Name: "critic", Opt: optC})
	}
	gens := []*rand.PCG{src, envSrc}
	if cfg.Checkpoint.Path != "" {
		var st runState
		ok, err := runstate.Load(cfg.Checkpoint.Path, CheckpointKind, model, opts, gens, &st)
		if err != nil {
			return res, err
		}
		if ok {
			global, res.Updates = st.Global, st.Updates
			res.EpisodicReturns, res.EpisodicLengths = st.Returns, st.Lengths
			// A checkpoint taken after the last update leaves the loop
			// nothing to do: the result still counts the steps done.
			res.Steps = global
		}
	}

	checkpoint := func() error {
		return cfg.Checkpoint.Save(func(path string) error {
			st := runState{Global: global, Updates: res.Updates, Returns: res.EpisodicReturns, Lengths: res.EpisodicLengths}
			return runstate.Save(path, CheckpointKind, global, model, opts, gens, st)
		})
	}

	for global < cfg.TotalTimesteps {
		if err := ctx.Err(); err != nil {
			if cerr := checkpoint(); cerr != nil { // a last checkpoint
				return res, errors.Join(err, cerr)
			}
			return res, err
		}
		// --- Collect NumEpisodes complete episodes. ---
		batch := make([]Episode[O], 0, cfg.NumEpisodes)
		cur := make([]*Episode[O], nE) // nil: env idle
		obs := make([]O, nE)
		started := 0
		batchSeed := envRng.Uint64()
		startEp := func(e int) error {
			seed := batchSeed
			if !cfg.SameInput && started > 0 {
				seed = envRng.Uint64()
			}
			o, err := envs[e].Reset(seed)
			if err != nil {
				return fmt.Errorf("pg: reset env %d: %w", e, err)
			}
			obs[e] = o
			cur[e] = &Episode[O]{actions: make([][]rl.Action, nA)}
			started++
			return nil
		}
		for e := 0; e < nE && started < cfg.NumEpisodes; e++ {
			if err := startEp(e); err != nil {
				return res, err
			}
		}
		active := make([]int, 0, nE)
		aObs := make([]O, 0, nE)
		for {
			active, aObs = active[:0], aObs[:0]
			for e := range envs {
				if cur[e] != nil {
					active = append(active, e)
					aObs = append(aObs, obs[e])
				}
			}
			if len(active) == 0 {
				break
			}
			inf.Reset()
			acts := make([][]rl.Action, nA)
			for k, ac := range ag.Actors {
				acts[k] = append([]rl.Action(nil), agent.ActWith(ac, inf, aObs, acts[:k], rng)...)
			}
			for j, e := range active {
				ep := cur[e]
				for k := range parts {
					parts[k] = acts[k][j]
					ep.actions[k] = append(ep.actions[k], acts[k][j])
				}
				s, err := envs[e].Step(ag.Action(parts))
				if err != nil {
					return res, fmt.Errorf("pg: step %d, env %d: %w", global, e, err)
				}
				global++
				ep.Obs = append(ep.Obs, obs[e])
				ep.Rewards = append(ep.Rewards, s.Reward)
				ep.info = rl.AddInfo(ep.info, s.Info)
				obs[e] = s.Obs
				if !s.Done() {
					continue
				}
				var boot float64
				if s.Truncated && !s.Terminated && ag.Critic != nil {
					inf.Reset()
					one[0] = s.Obs
					boot = float64(ag.Critic.Value(inf, one).Data[0])
				}
				finishEpisode(ep, cfg.Gamma, boot)
				batch = append(batch, *ep)
				var epRet float64
				for _, r := range ep.Rewards {
					epRet += r
				}
				res.EpisodicReturns = append(res.EpisodicReturns, epRet)
				res.EpisodicLengths = append(res.EpisodicLengths, len(ep.Rewards))
				clear(metrics)
				metrics["charts/episodic_return"] = epRet
				metrics["charts/episodic_length"] = float64(len(ep.Rewards))
				rl.Finished{Env: e, Return: epRet, Length: len(ep.Rewards), Info: ep.info}.InfoMetrics(metrics)
				logger(global, metrics)
				cur[e] = nil
				if started < cfg.NumEpisodes {
					if err := startEp(e); err != nil {
						return res, err
					}
				}
			}
		}

		// --- Flatten the batch and compute the baselines. ---
		var n int
		for _, ep := range batch {
			n += len(ep.Obs)
		}
		allObs := make([]O, 0, n)
		allActs := make([][]rl.Action, nA)
		rets := make([]float32, 0, n)
		for _, ep := range batch {
			allObs = append(allObs, ep.Obs...)
			for k := range allActs {
				allActs[k] = append(allActs[k], ep.actions[k]...)
			}
			for _, g := range ep.Returns {
				rets = append(rets, float32(g))
			}
		}
		chunk := n
		if cfg.EvalChunk > 0 {
			chunk = min(n, cfg.EvalChunk)
		}
		adv := make([]float32, n)
		tape.Reset()
		var v *nn.Tensor // the critic's values of the whole batch, on tape
		var vals []float32
		if ag.Critic != nil {
			if chunk == n {
				v = ag.Critic.Value(tape, allObs)
				vals = v.Data
			} else { // values for the advantages; the chunks record theirs
				vals = make([]float32, n)
				for lo := 0; lo < n; lo += chunk {
					inf.Reset()
					copy(vals[lo:], ag.Critic.Value(inf, allObs[lo:min(n, lo+chunk)]).Data)
				}
			}
		}
		switch {
		case baseline != nil:
			b := make([][]float64, len(batch))
			for i, ep := range batch {
				b[i] = make([]float64, len(ep.Obs))
			}
			baseline(batch, b)
			i := 0
			for _, bi := range b {
				for _, x := range bi {
					adv[i] = rets[i] - float32(x)
					i++
				}
			}
		case vals != nil:
			for i := range adv {
				adv[i] = rets[i] - vals[i]
			}
		default:
			copy(adv, rets)
		}
		if cfg.NormAdv && n > 1 {
			rl.NormalizeAdvantages(adv)
		}

		// --- One gradient step (gradients summed over the chunks). ---
		var pgSum, entSum, vLossVal float64
		prev := make([][]rl.Action, nA)
		for lo := 0; lo < n; lo += chunk {
			hi := min(n, lo+chunk)
			m := hi - lo
			cObs := allObs[lo:hi]
			if lo > 0 {
				tape.Reset()
			}
			if ag.Critic != nil && chunk < n {
				v = ag.Critic.Value(tape, cObs)
			}
			w := float64(m) / float64(n) // the chunk's share of the batch means
			for k := range prev {
				prev[k] = allActs[k][lo:hi]
			}
			A := tape.Const(m, 1, adv[lo:hi])
			var loss *nn.Tensor
			for k, ac := range ag.Actors {
				lp, ent := agent.EvaluateWith(ac, tape, cObs, prev[:k], prev[k])
				pgk := tape.Neg(tape.Mean(tape.Mul(A, lp)))
				h := tape.Mean(ent)
				l := tape.Sub(pgk, tape.Scale(h, float32(cfg.EntCoef)))
				if loss == nil {
					loss = l
				} else {
					loss = tape.Add(loss, l)
				}
				pgSum += w * float64(pgk.Item())
				entSum += w * float64(h.Item())
			}
			if v != nil {
				vl := tape.Scale(tape.Mean(tape.Square(tape.Sub(v, tape.Const(m, 1, rets[lo:hi])))), 0.5)
				vLossVal += w * float64(vl.Item())
				loss = tape.Add(loss, vl)
			}
			if m < n {
				loss = tape.Scale(loss, float32(w))
			}
			tape.Backward(loss)
		}
		if cfg.MaxGradNorm > 0 {
			optim.ClipGradNorm(actorParams, cfg.MaxGradNorm)
			if criticParams != nil {
				optim.ClipGradNorm(criticParams, cfg.MaxGradNorm)
			}
		}
		if cfg.AnnealLR {
			frac := max(0, 1-float64(global)/float64(cfg.TotalTimesteps))
			optA.SetLR(frac * cfg.LearningRate)
			if optC != nil {
				optC.SetLR(frac * cfg.LearningRateCritic)
			}
		}
		optA.Step()
		if optC != nil {
			optC.Step()
		}
		res.Updates++
		res.Steps = global
		res.SPS = float64(global) / time.Since(start).Seconds()
		clear(metrics)
		metrics["losses/policy_loss"] = pgSum
		metrics["losses/entropy"] = entSum
		if v != nil {
			metrics["losses/value_loss"] = vLossVal
		}
		metrics["charts/SPS"] = res.SPS
		logger(global, metrics)
		if cfg.Checkpoint.Due(res.Updates) {
			if err := checkpoint(); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// CheckpointKind is the model kind of policy-gradient training checkpoints.
const CheckpointKind = "pg-run"

// runState is what a checkpoint holds besides parameters, optimizer state
// and generators.
type runState struct {
	Global  int64     `json:"global_step"`
	Updates int64     `json:"updates"`
	Returns []float64 `json:"episodic_returns"`
	Lengths []int     `json:"episodic_lengths"`
}

// finishEpisode fills ep.Returns with the discounted returns-to-go,
// starting from boot after the last step.
func finishEpisode[O any](ep *Episode[O], gamma, boot float64) {
	ep.Returns = make([]float64, len(ep.Rewards))
	g := boot
	for t := len(ep.Rewards) - 1; t >= 0; t-- {
		g = ep.Rewards[t] + gamma*g
		ep.Returns[t] = g
	}
}
