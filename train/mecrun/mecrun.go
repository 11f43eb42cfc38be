// Package mecrun holds the offloading experiments (patent 004): training
// the DQN of models/mecdqn on rl/envs/mec and scoring it, with the
// baselines, against the exact optimum.
package mecrun

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cpntrain/cpntrain/models/mecdqn"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/dqn"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// Config is one training run.
type Config struct {
	Env   mec.Config
	Model mecdqn.Config
	DQN   dqn.Config
}

// DefaultConfig trains on task sets of d devices for 60,000 decisions:
// Adam 3e-4, γ = 1 (an episode's return is minus the set's cost: nothing
// to discount), a replay of 20,000 decisions, batch 64, a hard target
// update every 100 steps, double DQN, Huber loss, exploration from 1 to
// 0.05 over half the run (the patent's β-greedy with β = 1 − ε rising),
// 1,000 random steps first; rewards scaled by 0.005; 64 channels and
// hidden units. Chosen at D = 10 on validation sets (40 sets from
// ValidationSeed0, mixed batteries; docs/results/offload/tuning.md): 32
// wide, Adam 1e-3, target every 500: 1.130 of the optimum's cost at
// 100,000 steps; Adam 3e-4: 1.129; target every 100: 1.075 (30,000
// steps); 64 wide: 1.087; both: 1.080 at 30,000 steps, 1.039 at 60,000.
func DefaultConfig(d int) Config {
	c := dqn.DefaultConfig()
	c.TotalTimesteps, c.LearningRate, c.Gamma = 60000, 3e-4, 1
	c.BufferSize, c.BatchSize, c.TargetNetworkFrequency, c.Tau = 20000, 64, 100, 1
	c.StartE, c.EndE, c.ExplorationFraction, c.LearningStarts, c.TrainFrequency = 1, 0.05, 0.5, 1000, 1
	c.DoubleDQN, c.Loss = true, dqn.Huber
	env := mec.DefaultConfig(d)
	env.RewardScale = 0.005
	return Config{Env: env, Model: mecdqn.Config{Channels: 64, Hidden: 64}, DQN: c}
}

// Train trains a Q-network; training task sets come from the environment's
// seeds (rl/dqn's episode seeds), never from TestSeed0 on.
func Train(ctx context.Context, cfg Config, logger func(step int64, m map[string]float64)) (dqn.Result[mec.Obs], error) {
	if err := cfg.Env.Validate(); err != nil {
		return dqn.Result[mec.Obs]{}, err
	}
	newEnv := func() rl.Env[mec.Obs] {
		e, _ := mec.NewEnv(cfg.Env) // validated above
		return e
	}
	return dqn.Train(ctx, cfg.DQN, newEnv, mecdqn.Builder(cfg.Model), logger)
}

// TestSeed0 is the first held-out test task set (the bench's and
// `offload eval`'s); ValidationSeed0 the first validation set (what
// `offload train` reports, for choosing settings without touching the
// test sets).
const (
	TestSeed0       = 1_000_000
	ValidationSeed0 = 2_000_000
)

// Score is a method's result on one task set.
type Score struct {
	Method string
	// Cost is the total cost; Normalised its ratio to the optimum's.
	Cost, Normalised float64
	// Time and Energy are the mean latency (s) and energy (J) per task;
	// Broken counts tasks that miss their deadline or battery.
	Time, Energy float64
	Broken       int
	// Offloaded tasks; Decision is the time to decide the whole set
	// (building its cost table included).
	Offloaded int
	Decision  time.Duration
}

// Policy plays the DQN's greedy ordering on set seed: at each step the
// allowed (task, strategy) of largest Q-value.
func Policy(q agent.QFunction[mec.Obs]) func(env *mec.Env, seed uint64) (mec.Solution, error) {
	p := agent.GreedyQ(q)
	return func(env *mec.Env, seed uint64) (mec.Solution, error) {
		o, err := env.Reset(seed)
		if err != nil {
			return mec.Solution{}, err
		}
		for {
			a, err := p.Decide(o)
			if err != nil {
				return mec.Solution{}, err
			}
			s, err := env.Step(a)
			if err != nil {
				return mec.Solution{}, err
			}
			o = s.Obs
			if s.Terminated {
				break
			}
		}
		v := make([]bool, len(o.Decision))
		for n, d := range o.Decision {
			v[n] = d == mec.Offloaded
		}
		c, _ := o.Set.Evaluate(v)
		return mec.Solution{Offload: v, Cost: c}, nil
	}
}

// Method is one way of deciding a task set.
type Method struct {
	Name   string
	Decide func(s *mec.Set, seed uint64) (mec.Solution, error)
}

// MaxBenchExhaustive is the largest D at which the bench also times the
// brute-force search (2^D vectors).
const MaxBenchExhaustive = 20

// Methods returns the optimum (first: the reference) and the baselines
// for sets of d devices: brute force (up to MaxBenchExhaustive),
// coordinate descent, the greedy ordering with the exact cost model, all
// local, all offload and random.
func Methods(d int) []Method {
	ms := []Method{{"optimum", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.Optimal(), nil }}}
	if d <= MaxBenchExhaustive {
		ms = append(ms, Method{"exhaustive", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.Exhaustive() }})
	}
	return append(ms,
		Method{"coordinate descent", func(s *mec.Set, seed uint64) (mec.Solution, error) { return s.CoordinateDescent(20, seed), nil }},
		Method{"greedy", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.Greedy(), nil }},
		Method{"all local", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.AllLocal(), nil }},
		Method{"all offload", func(s *mec.Set, _ uint64) (mec.Solution, error) { return s.AllOffload(), nil }},
		Method{"random", func(s *mec.Set, seed uint64) (mec.Solution, error) { return s.Random(seed), nil }},
	)
}

// DQNMethod plays q's greedy ordering.
func DQNMethod(cfg mec.Config, q agent.QFunction[mec.Obs]) (Method, error) {
	env, err := mec.NewEnv(cfg)
	if err != nil {
		return Method{}, err
	}
	play := Policy(q)
	return Method{"dqn", func(_ *mec.Set, seed uint64) (mec.Solution, error) { return play(env, seed) }}, nil
}

// Evaluate scores the methods (the first is the reference) on the
// held-out sets seed0 … seed0+sets−1 of cfg. Each method decides a
// freshly drawn copy of the set, so its time includes the cost table.
func Evaluate(cfg mec.Config, methods []Method, sets int, seed0 uint64) ([][]Score, error) {
	var all [][]Score
	for i := range sets {
		seed := seed0 + uint64(i)
		var scores []Score
		for _, m := range methods {
			s, err := mec.NewSet(cfg, seed)
			if err != nil {
				return nil, err
			}
			start := time.Now()
			sol, err := m.Decide(s, seed)
			if err != nil {
				return nil, fmt.Errorf("%s on set %d: %w", m.Name, seed, err)
			}
			sc := Score{Method: m.Name, Decision: time.Since(start)}
			var out []mec.Outcome
			sc.Cost, out = s.Evaluate(sol.Offload)
			for n, o := range out {
				if sol.Offload[n] {
					sc.Offloaded++
				}
				if !o.OK {
					sc.Broken++
				}
				sc.Time += o.Time / float64(len(out))
				sc.Energy += o.Energy / float64(len(out))
			}
			scores = append(scores, sc)
		}
		for k := range scores {
			scores[k].Normalised = scores[k].Cost / scores[0].Cost
		}
		all = append(all, scores)
	}
	return all, nil
}

// BenchConfig is `cpntrain offload bench`.
type BenchConfig struct {
	// Devices lists the set sizes D; Sets the held-out sets per size and
	// battery level; Batteries the levels (BatteryLevels' names).
	Devices   []int
	Sets      int
	Batteries []string
	// DQNSteps trains DQNs per size for that many steps (0: none), one per
	// seed Seed, Seed+1, … (DQNSeeds of them), on the default battery
	// range; each is scored at every battery level.
	DQNSteps int64
	DQNSeeds int
	// DROOSteps trains one DROO per size on that many task sets (0: none).
	DROOSteps int
	Seed      uint64
}

// BatteryLevels maps the bench's battery levels to ranges of the ratio
// P_remain / P_total; "mixed" is the training range of DefaultConfig.
var BatteryLevels = map[string][2]float64{
	"low": {0.05, 0.2}, "mid": {0.4, 0.6}, "full": {0.9, 1}, "mixed": {0.1, 1},
}

// Row is one method at one set size and battery level: means over the
// sets (and the DQN's seeds) and the worst set.
type Row struct {
	Devices           int
	Battery, Method   string
	NormMean, NormMax float64
	// Time and Energy per task (s, J); Broken constraints per set.
	Time, Energy, Broken float64
	Offloaded            float64
	DecisionMean         float64 // seconds per set
	TrainSec             float64 // per DQN
	// Beats counts the sets where the method is strictly cheaper than
	// every heuristic (greedy, coordinate descent, all local, all offload,
	// random); Sets is the number of sets scored.
	Beats, Sets int
	// SeedMeans holds the mean normalised cost of each instance of a
	// method that appears several times (the DQN's training seeds).
	SeedMeans []float64
}

// heuristics are the methods a learned policy must beat.
var heuristics = map[string]bool{"greedy": true, "coordinate descent": true, "all local": true, "all offload": true, "random": true}

// Bench scores every method at every size and battery level.
func Bench(ctx context.Context, bc BenchConfig, log func(string)) ([]Row, error) {
	var rows []Row
	if bc.DQNSeeds < 1 {
		bc.DQNSeeds = 1
	}
	for _, d := range bc.Devices {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		cfg := DefaultConfig(d)
		var qs []agent.QFunction[mec.Obs]
		trainSec := map[string]float64{}
		var drooM []Method
		if bc.DROOSteps > 0 {
			dc := DefaultDROOConfig(d)
			dc.Steps, dc.Seed = bc.DROOSteps, bc.Seed
			start := time.Now()
			res, err := TrainDROO(ctx, dc, nil)
			if err != nil {
				return rows, err
			}
			drooM, trainSec["droo"] = []Method{DROOMethod(res)}, time.Since(start).Seconds()
			if log != nil {
				log(fmt.Sprintf("D = %d: DROO trained in %.0f s (K = %d)", d, trainSec["droo"], res.K))
			}
		}
		for k := range bc.DQNSeeds {
			if bc.DQNSteps <= 0 {
				break
			}
			c := cfg
			c.DQN.TotalTimesteps, c.DQN.Seed = bc.DQNSteps, bc.Seed+uint64(k)
			start := time.Now()
			res, err := Train(ctx, c, nil)
			if err != nil {
				return rows, err
			}
			qs = append(qs, res.Q)
			trainSec["dqn"] += time.Since(start).Seconds() / float64(bc.DQNSeeds)
			if log != nil {
				log(fmt.Sprintf("D = %d: DQN seed %d trained in %.0f s", d, c.DQN.Seed, time.Since(start).Seconds()))
			}
		}
		for _, level := range bc.Batteries {
			br, ok := BatteryLevels[level]
			if !ok {
				return rows, fmt.Errorf("mecrun: unknown battery level %q (low, mid, full, mixed)", level)
			}
			env := cfg.Env
			env.BatteryMin, env.BatteryMax = br[0], br[1]
			methods := append(Methods(d), drooM...)
			for _, q := range qs {
				m, err := DQNMethod(env, q)
				if err != nil {
					return rows, err
				}
				methods = append(methods, m)
			}
			r, err := scoreRows(env, level, methods, bc.Sets, TestSeed0, trainSec)
			if err != nil {
				return rows, err
			}
			rows = append(rows, r...)
			if log != nil {
				log(fmt.Sprintf("D = %d, battery %s: scored", d, level))
			}
		}
	}
	return rows, nil
}

// scoreRows evaluates methods on the held-out sets seed0 … of env and sums them
// up, one Row per method (trainSec: training seconds by method name).
func scoreRows(env mec.Config, level string, methods []Method, sets int, seed0 uint64, trainSec map[string]float64) ([]Row, error) {
	scores, err := Evaluate(env, methods, sets, seed0)
	if err != nil {
		return nil, err
	}
	d := env.Devices
	byName := map[string]*Row{}
	var order []string
	for _, sc := range scores {
		best := math.Inf(1)
		for _, x := range sc {
			if heuristics[x.Method] {
				best = min(best, x.Cost)
			}
		}
		seen := map[string]int{}
		for _, x := range sc {
			inst := seen[x.Method]
			seen[x.Method]++
			r := byName[x.Method]
			if r == nil {
				r = &Row{Devices: d, Battery: level, Method: x.Method}
				byName[x.Method] = r
				order = append(order, x.Method)
			}
			r.Sets++
			for len(r.SeedMeans) <= inst {
				r.SeedMeans = append(r.SeedMeans, 0)
			}
			r.SeedMeans[inst] += x.Normalised / float64(len(scores))
			r.NormMean += x.Normalised
			r.NormMax = max(r.NormMax, x.Normalised)
			r.Time += x.Time
			r.Energy += x.Energy
			r.Broken += float64(x.Broken)
			r.Offloaded += float64(x.Offloaded)
			r.DecisionMean += x.Decision.Seconds()
			if x.Cost < best {
				r.Beats++
			}
		}
	}
	var rows []Row
	for _, name := range order {
		r := byName[name]
		n := float64(r.Sets)
		r.NormMean /= n
		r.Time /= n
		r.Energy /= n
		r.Broken /= n
		r.Offloaded /= n
		r.DecisionMean /= n
		r.TrainSec = trainSec[name]
		if len(r.SeedMeans) < 2 {
			r.SeedMeans = nil
		}
		rows = append(rows, *r)
	}
	return rows, nil
}

// WriteMarkdown prints the rows as one table per battery level.
func WriteMarkdown(w io.Writer, rows []Row, bc BenchConfig) {
	fmt.Fprintf(w, "Normalised cost (the exact optimum = 1), mean and worst over %d held-out task sets per size", bc.Sets)
	if bc.DQNSteps > 0 {
		fmt.Fprintf(w, " (the DQN: over %d training seeds × the sets, %d steps each, trained on the mixed battery range)", bc.DQNSeeds, bc.DQNSteps)
	}
	fmt.Fprintln(w, "; latency and energy per task; constraints broken per set; decision time for the whole set, its cost table included; \"beats\": sets where the method is strictly cheaper than every heuristic.")
	level := ""
	for _, r := range rows {
		if r.Battery != level {
			level = r.Battery
			br := BatteryLevels[level]
			fmt.Fprintf(w, "\n### Battery %s (P_remain / P_total in [%g, %g])\n\n", level, br[0], br[1])
			fmt.Fprintln(w, "| D | method | normalised cost (mean) | worst | latency (s) | energy (J) | broken | offloaded | decision time | beats | training (s) |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
		}
		train := "–"
		if r.TrainSec > 0 {
			train = fmt.Sprintf("%.0f", r.TrainSec)
		}
		name := r.Method
		if len(r.SeedMeans) > 0 {
			var parts []string
			for _, v := range r.SeedMeans {
				parts = append(parts, fmt.Sprintf("%.4f", v))
			}
			name += " (per seed: " + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintf(w, "| %d | %s | %.4f | %.4f | %.3f | %.3f | %.2f | %.1f | %s | %d/%d | %s |\n", r.Devices, name, r.NormMean, r.NormMax,
			r.Time, r.Energy, r.Broken, r.Offloaded, time.Duration(r.DecisionMean*1e9).Round(time.Microsecond), r.Beats, r.Sets, train)
	}
}

// WriteCSV prints the rows as CSV with a header.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"devices", "battery", "method", "norm_mean", "norm_max", "latency_s", "energy_j", "broken", "offloaded", "decision_s", "beats", "sets", "train_s"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range rows {
		cw.Write([]string{strconv.Itoa(r.Devices), r.Battery, r.Method, f(r.NormMean), f(r.NormMax), f(r.Time), f(r.Energy), f(r.Broken),
			f(r.Offloaded), f(r.DecisionMean), strconv.Itoa(r.Beats), strconv.Itoa(r.Sets), f(r.TrainSec)})
	}
	cw.Flush()
	return cw.Error()
}
