// Package decimarun is the Decima experiments (patent 003, issue 13):
// training the DAG scheduler of models/decima with REINFORCE (rl/pg,
// Decima's time-based baseline over rollouts of one job sequence) on
// rl/envs/spark, tuning the weighted fair heuristic on training streams,
// and scoring everything on held-out streams.
package decimarun

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
	"github.com/cpntrain/cpntrain/rl/pg"
)

// Stream seeds. Training streams are REINFORCE's (64-bit seeds drawn from
// its Seed), tuning streams (the weighted fair grid search) 1…n,
// held-out streams start far above: test (the bench's), validation
// (`decima eval` by default), selection (Config.SelectEvery's).
const (
	TuneSeed0       = 1
	TestSeed0       = 1_000_000
	ValidationSeed0 = 2_000_000
	SelectionSeed0  = 3_000_000
)

// Modes of arrival.
const (
	ModeBatch      = "batch"
	ModeContinuous = "continuous"
)

// Modes lists the arrival modes.
var Modes = []string{ModeBatch, ModeContinuous}

// Architectures: the patent's (attention over children, LSTM over jobs)
// and Decima's own (sums: the ablation).
const (
	ArchPatent = "patent"
	ArchDecima = "decima"
)

// Archs lists the architectures.
var Archs = []string{ArchPatent, ArchDecima}

// EnvConfig is the cluster of a mode: spark.Batch (20 jobs at t = 0) or
// spark.Continuous (10 + 100 Poisson arrivals, mean gap 25 s), 50
// executors.
func EnvConfig(mode string) (spark.Config, error) {
	switch mode {
	case ModeBatch:
		return spark.Batch(), nil
	case ModeContinuous:
		return spark.Continuous(), nil
	}
	return spark.Config{}, fmt.Errorf("decima: unknown mode %q (want %v)", mode, Modes)
}

// ModelConfig is an architecture's network.
func ModelConfig(arch string) (decima.Config, error) {
	switch arch {
	case ArchPatent, "":
		return decima.DefaultConfig(), nil
	case ArchDecima:
		return decima.DecimaConfig(), nil
	}
	return decima.Config{}, fmt.Errorf("decima: unknown architecture %q (want %v)", arch, Archs)
}

// Config is one training run.
type Config struct {
	Mode  string
	Arch  string
	Env   spark.Config
	Model decima.Config
	PG    pg.Config
	// TrainMaxTime (ms) ends training episodes at the first decision at
	// or after it (0: at the last job's completion): Decima's early
	// termination for streams, which keeps episodes short; evaluation
	// streams always run to the end.
	TrainMaxTime float64
	// SelectEvery, when positive, scores the greedy policy on
	// SelectStreams selection streams every SelectEvery updates (and at
	// the end) and ends training with the parameters that scored best.
	SelectEvery   int64
	SelectStreams int
	// Warm, when Epochs > 0, imitates a weighted fair scheduler first.
	Warm WarmStart
}

// DefaultConfig is a mode's training run: REINFORCE with Decima's
// time-based baseline over 8 rollouts of one job sequence per update
// (8 environments in lockstep), Adam 1e-3, γ 1 (the reward already
// integrates time), entropy 0.01, advantages normalised per batch,
// gradient norm clipped at 1; continuous streams cut at 1,000 s in
// training; selection every 10 updates on 5 streams; no warm start
// (Warm.Epochs 0: random parameters, as Decima; with epochs, RunTrain and
// Bench imitate the tuned weighted fair setting).
func DefaultConfig(mode string) (Config, error) {
	env, err := EnvConfig(mode)
	if err != nil {
		return Config{}, err
	}
	p := pg.DefaultConfig()
	p.NumEnvs, p.NumEpisodes, p.TotalTimesteps = 8, 8, 2_000_000
	p.LearningRate, p.Gamma, p.EntCoef, p.NormAdv, p.MaxGradNorm = 1e-3, 1, 0.01, true, 1
	p.SameInput, p.EvalChunk = true, 1024
	c := Config{Mode: mode, Arch: ArchPatent, Env: env, Model: decima.DefaultConfig(), PG: p, SelectEvery: 10, SelectStreams: 5,
		Warm: WarmStart{WF: WF{Alpha: 0}, Streams: 5}}
	if mode == ModeContinuous {
		c.TrainMaxTime = 1_000_000
	}
	return c, nil
}

// Validate reports a config Train cannot run, naming the setting.
func (c Config) Validate() error {
	if !slices.Contains(Modes, c.Mode) {
		return fmt.Errorf("decima: unknown mode %q (want %v)", c.Mode, Modes)
	}
	if c.Arch != "" && !slices.Contains(Archs, c.Arch) {
		return fmt.Errorf("decima: unknown architecture %q (want %v)", c.Arch, Archs)
	}
	if err := c.Env.Validate(); err != nil {
		return err
	}
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if !(c.TrainMaxTime >= 0) || math.IsInf(c.TrainMaxTime, 0) {
		return fmt.Errorf("decima: training horizon %v ms must be finite and ≥ 0", c.TrainMaxTime)
	}
	if c.Warm.Epochs < 0 || c.Warm.Epochs > 10000 || c.Warm.Epochs > 0 && (c.Warm.Streams < 1 || c.Warm.Streams > 1000) {
		return fmt.Errorf("decima: warm start of %d epochs on %d streams: want epochs in [0, 10000], streams in [1, 1000]", c.Warm.Epochs, c.Warm.Streams)
	}
	if c.SelectEvery < 0 || c.SelectEvery > 0 && (c.SelectStreams < 1 || c.SelectStreams > 1000) {
		return fmt.Errorf("decima: selection every %d updates on %d streams: want streams in [1, 1000]", c.SelectEvery, c.SelectStreams)
	}
	return c.PG.Validate()
}

// Result is what Train did.
type Result struct {
	Steps, Updates int64
	// Curve is the mean average JCT (s) of each update's training
	// episodes (jobs completed within the horizon).
	Curve []float64
	// Selected says whether the parameters kept are a selection's, from
	// which update and with what score (mean average JCT over the
	// selection streams, s).
	Selected       bool
	SelectedUpdate int64
	SelectedScore  float64
	SPS            float64
	Elapsed        time.Duration
}

// Train trains a new scheduler (initialised from cfg.PG.Seed) on the jobs
// of lib.
func Train(ctx context.Context, cfg Config, lib []*tpch.Job, logger func(step int64, metrics map[string]float64)) (agent.Agent[spark.Obs], Result, error) {
	return train(ctx, cfg, lib, logger, selectState{threshold: math.Inf(1)})
}

// selectState is a resumed run's selection: the updates done, the best
// score so far and a hook called at each new best.
type selectState struct {
	updates   int64
	threshold float64
	onBest    func(update int64, score float64, ag agent.Agent[spark.Obs]) error
}

func train(ctx context.Context, cfg Config, lib []*tpch.Job, logger func(step int64, metrics map[string]float64), ss selectState) (agent.Agent[spark.Obs], Result, error) {
	var res Result
	if err := cfg.Validate(); err != nil {
		return agent.Agent[spark.Obs]{}, res, err
	}
	trainEnv := cfg.Env
	trainEnv.MaxTime = cfg.TrainMaxTime
	if _, err := spark.NewEnv(trainEnv, lib); err != nil {
		return agent.Agent[spark.Obs]{}, res, err
	}
	newEnv := func() rl.Env[spark.Obs] {
		e, err := spark.NewEnv(trainEnv, lib)
		if err != nil {
			panic(err) // checked above
		}
		return e
	}
	if logger == nil {
		logger = func(int64, map[string]float64) {}
	}
	ag, actor, err := decima.NewAgent(cfg.Model, rand.New(rand.NewPCG(cfg.PG.Seed, 0xdec)))
	if err != nil {
		return ag, res, err
	}
	start := time.Now()
	if cfg.Warm.Epochs > 0 && ss.updates == 0 {
		ll, err := imitate(ctx, actor, trainEnv, lib, cfg.Warm, cfg.PG.Seed)
		if err != nil {
			return ag, res, err
		}
		logger(0, map[string]float64{"warm/log_likelihood": ll})
	}
	params := nn.Collect(actor)
	best := make([][]float32, len(params))
	bestScore, bestUpdate, haveBest := ss.threshold, int64(0), false
	updates := ss.updates
	var jcts []float64
	var selErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	score := func() (float64, error) {
		rows, err := Evaluate(cfg.Env, lib, []Method{AgentMethod("selection", ag)}, Seeds(SelectionSeed0, cfg.SelectStreams))
		if err != nil {
			return 0, err
		}
		return rows[0].Mean(), nil
	}
	consider := func(step int64) {
		s, err := score()
		if err != nil {
			selErr = fmt.Errorf("decima: model selection at update %d: %w", updates, err)
			cancel()
			return
		}
		logger(step, map[string]float64{"select/avg_jct_s": s})
		if s < bestScore {
			bestScore, bestUpdate, haveBest = s, updates, true
			for i, p := range params {
				best[i] = append(best[i][:0], p.Param.V.Data...)
			}
			if ss.onBest != nil {
				if err := ss.onBest(updates, s, ag); err != nil {
					selErr = err
					cancel()
				}
			}
		}
	}
	if cfg.SelectEvery > 0 && updates == 0 {
		consider(0) // the initial parameters are candidates too
	}
	wrapped := func(step int64, m map[string]float64) {
		if v, ok := m["episode/avg_jct_s"]; ok {
			jcts = append(jcts, v*m["charts/episodic_length"])
			m["train/avg_jct_s"] = v * m["charts/episodic_length"]
		}
		if _, ok := m["losses/policy_loss"]; ok {
			updates++
			if len(jcts) > 0 {
				var s float64
				for _, v := range jcts {
					s += v
				}
				res.Curve = append(res.Curve, s/float64(len(jcts)))
				jcts = jcts[:0]
			}
			logger(step, m)
			if cfg.SelectEvery > 0 && updates%cfg.SelectEvery == 0 && selErr == nil {
				consider(step)
			}
			return
		}
		logger(step, m)
	}
	r, err := pg.Train(ctx, cfg.PG, newEnv, ag, pg.TimeBaseline(func(o spark.Obs) float64 { return o.Time }), wrapped)
	res.Steps, res.Updates, res.SPS = r.Steps, r.Updates, r.SPS
	if selErr != nil {
		return ag, res, selErr
	}
	if err != nil {
		return ag, res, err
	}
	if cfg.SelectEvery > 0 {
		if updates%cfg.SelectEvery != 0 {
			consider(r.Steps) // the last parameters
			if selErr != nil {
				return ag, res, selErr
			}
		}
		if haveBest {
			for i, p := range params {
				copy(p.Param.V.Data, best[i])
			}
			res.Selected, res.SelectedUpdate, res.SelectedScore = true, bestUpdate, bestScore
		}
	}
	res.Elapsed = time.Since(start)
	return ag, res, nil
}

// Method is a scheduler scored by Evaluate.
type Method struct {
	Name string
	// Policy returns the method's policy for one stream.
	Policy func() rl.Policy[spark.Obs]
}

// AgentMethod is a trained agent's greedy policy.
func AgentMethod(name string, ag agent.Agent[spark.Obs]) Method {
	return Method{name, func() rl.Policy[spark.Obs] { return agent.Greedy(ag) }}
}

// WF is a weighted fair setting: share ∝ remaining work^Alpha, at most
// Cap executors per job (0: no cap).
type WF struct {
	Alpha float64
	Cap   int
}

func (w WF) String() string {
	if w.Cap == 0 {
		return fmt.Sprintf("weighted-fair (α=%g)", w.Alpha)
	}
	return fmt.Sprintf("weighted-fair (α=%g, cap %d)", w.Alpha, w.Cap)
}

// WFGrid is the grid the weighted fair scheduler is tuned on (Decima
// tunes α and a cap; its Figure 9 uses the best setting).
func WFGrid(executors int) []WF {
	var g []WF
	for _, a := range []float64{-2, -1, -0.5, 0, 0.25, 0.5, 1, 2} {
		for _, c := range []int{0, executors / 5, executors / 2} {
			if c == 0 || c >= 1 {
				g = append(g, WF{a, c})
			}
		}
	}
	return g
}

// Tuned is the grid search of the weighted fair scheduler.
type Tuned struct {
	Best WF
	// Scores[i] is WFGrid's i-th setting's mean average JCT (s) on the
	// tuning streams.
	Grid   []WF
	Scores []float64
}

// TuneWF grid-searches the weighted fair scheduler on streams tuning
// streams of env (TuneSeed0 on: training data, never a test stream).
func TuneWF(env spark.Config, lib []*tpch.Job, streams int) (Tuned, error) {
	t := Tuned{Grid: WFGrid(env.Executors)}
	var ms []Method
	for _, w := range t.Grid {
		ms = append(ms, Method{w.String(), func() rl.Policy[spark.Obs] { return spark.WeightedFair(w.Alpha, w.Cap) }})
	}
	rows, err := Evaluate(env, lib, ms, Seeds(TuneSeed0, streams))
	if err != nil {
		return t, err
	}
	bi := 0
	for i, r := range rows {
		t.Scores = append(t.Scores, r.Mean())
		if r.Mean() < rows[bi].Mean() {
			bi = i
		}
	}
	t.Best = t.Grid[bi]
	return t, nil
}

// Baselines are FIFO, fair sharing (decima-sim's dynamic partition),
// shortest-job-first by critical path and the tuned weighted fair
// scheduler.
func Baselines(wf WF) []Method {
	return []Method{
		{"fifo", spark.FIFO},
		{"fair", spark.DynamicPartition},
		{"sjf-cp", spark.SJF},
		{wf.String(), func() rl.Policy[spark.Obs] { return spark.WeightedFair(wf.Alpha, wf.Cap) }},
	}
}

// Row is a method's outcome on a set of streams.
type Row struct {
	Method string
	// JCT[i] is stream i's average job completion time (s); Jobs holds
	// every completed job's completion time (s), all streams.
	JCT  []float64
	Jobs []float64
	// Decisions is the mean number of decisions per stream, Decision the
	// mean time of one (the policy's Decide call).
	Decisions float64
	Decision  time.Duration
}

// Mean is the mean over streams of the average JCT.
func (r Row) Mean() float64 {
	var s float64
	for _, v := range r.JCT {
		s += v
	}
	return s / float64(len(r.JCT))
}

// Seeds are n stream seeds from seed0.
func Seeds(seed0 uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = seed0 + uint64(i)
	}
	return out
}

// Evaluate runs every method on the streams of the seeds (each to its
// end) and returns one row per method.
func Evaluate(env spark.Config, lib []*tpch.Job, methods []Method, seeds []uint64) ([]Row, error) {
	return EvaluateTrace(env, lib, methods, seeds, nil)
}

// EvaluateTrace is Evaluate calling trace (when not nil) with every
// observation of method m on stream i.
func EvaluateTrace(env spark.Config, lib []*tpch.Job, methods []Method, seeds []uint64, trace func(m, i int, o spark.Obs)) ([]Row, error) {
	env.MaxTime = 0
	e, err := spark.NewEnv(env, lib)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, len(methods))
	for mi, m := range methods {
		rows[mi].Method = m.Name
		var spent time.Duration
		n := 0
		for i, seed := range seeds {
			o, err := e.Reset(seed)
			if err != nil {
				return nil, err
			}
			p := m.Policy()
			var info map[string]float64
			for !o.Done {
				if trace != nil {
					trace(mi, i, o)
				}
				t0 := time.Now()
				a, err := p.Decide(o)
				spent += time.Since(t0)
				n++
				if err != nil {
					return nil, fmt.Errorf("decima: %s on stream %d: %w", m.Name, seed, err)
				}
				s, err := e.Step(a)
				if err != nil {
					return nil, fmt.Errorf("decima: %s on stream %d: %w", m.Name, seed, err)
				}
				o, info = s.Obs, s.Info
			}
			if trace != nil {
				trace(mi, i, o)
			}
			rows[mi].JCT = append(rows[mi].JCT, info["avg_jct_s"])
			rows[mi].Jobs = append(rows[mi].Jobs, e.JCTs()...)
		}
		rows[mi].Decisions = float64(n) / float64(len(seeds))
		if n > 0 {
			rows[mi].Decision = spent / time.Duration(n)
		}
	}
	return rows, nil
}
