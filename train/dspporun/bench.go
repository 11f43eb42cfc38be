package dspporun

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/cpntrain/cpntrain/rl/envs/cluster"
	"github.com/cpntrain/cpntrain/train/benchplot"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// BenchConfig is `cpntrain bench dsppo`.
type BenchConfig struct {
	// System is the cluster configuration (the paper's by default); its
	// queue is replaced by each of Queues.
	System cluster.Config
	// Queues names the queues: "stable", "burst".
	Queues []string
	// TestQueues is the number of held-out queues (TestSeed0 on) every
	// method is scored on.
	TestQueues int
	// Algos are the learned methods trained (Algos' names), Seeds training
	// runs each (seeds 1…Seeds), Steps decisions at most per run (the
	// 70-episode early stop may end them sooner), Reward and Gamma their
	// training reward and discount.
	Algos  []string
	Seeds  int
	Steps  int64
	Reward string
	Gamma  float64
	// Prior is the DeepSets policies' fastest-fit prior (dsppo.Config).
	Prior float64
	// WaitCost is the jct reward's cost of a wait (cluster.Config; 0: its
	// default), LR the learning rate of every learned method (0: the
	// paper's 1e-3).
	WaitCost, LR float64
	// Variants are other systems every method is also scored on, the
	// learned ones without retraining (DeepSets' generalisation claim;
	// the MLP ablation cannot read another system's size and is left
	// out).
	Variants []Variant
	// SelectEvery and SelectQueues are every run's model selection on
	// validation queues (Config; 0: off).
	SelectEvery  int64
	SelectQueues int
	// Jobs is the number of training runs at a time (≤ 1: one); the
	// scoring is sequential, so decision times are not shared.
	Jobs int
	// Log gets progress lines.
	Log io.Writer
}

// Variant is a change of the system.
type Variant struct {
	Name  string
	Apply func(*cluster.Config)
}

// DefaultVariants: the "more edge nodes, a lost cloud server" on
// the paper's testbed.
func DefaultVariants() []Variant {
	return []Variant{
		{"edge +6", func(c *cluster.Config) { c.Clusters[1].Nodes += 6 }},
		{"cloud −1", func(c *cluster.Config) { c.Clusters[0].Nodes-- }},
	}
}

// QueueOf names the paper's queues.
func QueueOf(name string) (cluster.Queue, error) {
	switch name {
	case "stable":
		return cluster.Stable, nil
	case "burst":
		return cluster.Burst, nil
	}
	return cluster.Queue{}, fmt.Errorf("queue %q: want stable or burst", name)
}

// BenchRow is one method on one queue: means over the test queues (and,
// for learned methods, the per-seed means in Seeds).
type BenchRow struct {
	Queue, Method string
	// Completion, Wait and Util are per-run means (one per training seed
	// for learned methods, one per test queue for the heuristics): the
	// table reports their mean ± std.
	Completion, Wait, Util []float64
	// PerQueue are a learned method's average completion times per
	// training seed and test queue (nil for the heuristics, whose
	// Completion is already per queue).
	PerQueue  [][]float64
	Decision  time.Duration
	Decisions float64
	TrainSec  float64
	// Curves are the learned runs' episodic average completion times.
	Curves [][]float64
}

// Bench trains and scores every method on every queue.
func Bench(ctx context.Context, bc BenchConfig) ([]BenchRow, error) {
	logf := func(format string, a ...any) {
		if bc.Log != nil {
			fmt.Fprintf(bc.Log, format+"\n", a...)
		}
	}
	var out []BenchRow
	for _, qn := range bc.Queues {
		q, err := QueueOf(qn)
		if err != nil {
			return nil, err
		}
		sys := bc.System
		sys.Queue = q
		seeds := Seeds(TestSeed0, bc.TestQueues)
		systems := []cluster.Config{sys}
		names := []string{qn}
		for _, v := range bc.Variants {
			vs := sys
			vs.Clusters = slices.Clone(sys.Clusters)
			v.Apply(&vs)
			if err := vs.Validate(); err != nil {
				return nil, fmt.Errorf("variant %s: %w", v.Name, err)
			}
			systems, names = append(systems, vs), append(names, qn+" / "+v.Name)
		}
		var variantRows []BenchRow
		for i, s := range systems {
			rows, err := Evaluate(s, Baselines(s), seeds)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				br := BenchRow{Queue: names[i], Method: r.Method, Completion: r.Completion, Wait: r.Wait, Util: r.Util, Decision: r.Decision, Decisions: r.Decisions}
				if i == 0 {
					out = append(out, br)
				} else {
					variantRows = append(variantRows, br)
				}
			}
		}
		for _, algo := range bc.Algos {
			br := BenchRow{Queue: qn, Method: MethodName(algo)}
			vrows := make([]BenchRow, len(systems)-1)
			for i := range vrows {
				vrows[i] = BenchRow{Queue: names[i+1], Method: br.Method + " (trained on " + qn + ")"}
			}
			trained, err := bc.trainSeeds(ctx, algo, q, sys)
			if err != nil {
				return nil, fmt.Errorf("%s on the %s queue: %w", algo, qn, err)
			}
			var dec time.Duration
			for k, ts := range trained {
				ev, err := Evaluate(sys, []Method{ts.tr.Method(br.Method)}, seeds)
				if err != nil {
					return nil, err
				}
				c, _ := metrics.MeanStd(ev[0].Completion)
				w, _ := metrics.MeanStd(ev[0].Wait)
				u, _ := metrics.MeanStd(ev[0].Util)
				br.Completion, br.Wait, br.Util = append(br.Completion, c), append(br.Wait, w), append(br.Util, u)
				br.PerQueue = append(br.PerQueue, ev[0].Completion)
				br.Curves = append(br.Curves, ts.curve)
				br.TrainSec += ts.res.Elapsed.Seconds() / float64(bc.Seeds)
				br.Decisions += ev[0].Decisions / float64(bc.Seeds)
				dec += ev[0].Decision / time.Duration(bc.Seeds)
				kept := ""
				if ts.res.Selected {
					kept = fmt.Sprintf(", kept step %d (selection queues %.2f s)", ts.res.SelectedStep, ts.res.SelectedScore)
				}
				logf("%s queue: %s seed %d: %d decisions in %.0f s (%s%s), test completion %.2f s", qn, br.Method, k+1, ts.res.Steps, ts.res.Elapsed.Seconds(), orFull(ts.res.Stopped), kept, c)
				if algo == AlgoPPOMLP {
					continue
				}
				for i := range vrows {
					ev, err := Evaluate(systems[i+1], []Method{ts.tr.Method(vrows[i].Method)}, seeds)
					if err != nil {
						return nil, err
					}
					c, _ := metrics.MeanStd(ev[0].Completion)
					w, _ := metrics.MeanStd(ev[0].Wait)
					u, _ := metrics.MeanStd(ev[0].Util)
					vr := &vrows[i]
					vr.Completion, vr.Wait, vr.Util = append(vr.Completion, c), append(vr.Wait, w), append(vr.Util, u)
					vr.PerQueue = append(vr.PerQueue, ev[0].Completion)
					vr.Decision += ev[0].Decision / time.Duration(bc.Seeds)
					vr.Decisions += ev[0].Decisions / float64(bc.Seeds)
				}
			}
			br.Decision = dec
			out = append(out, br)
			if algo != AlgoPPOMLP {
				variantRows = append(variantRows, vrows...)
			}
		}
		out = append(out, variantRows...)
	}
	return out, nil
}

// seedRun is one trained seed of a learned method.
type seedRun struct {
	tr    Trained
	res   Result
	curve []float64
}

// trainSeeds trains algo with seeds 1…Seeds on sys, Jobs at a time (each
// run is deterministic in its seed, so the order does not matter).
func (bc BenchConfig) trainSeeds(ctx context.Context, algo string, q cluster.Queue, sys cluster.Config) ([]seedRun, error) {
	out := make([]seedRun, bc.Seeds)
	errs := make([]error, bc.Seeds)
	sem := make(chan struct{}, max(1, bc.Jobs))
	var wg sync.WaitGroup
	for k := range bc.Seeds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cfg := DefaultConfig(q)
			cfg.Algo, cfg.Env = algo, sys
			cfg.Env.Reward, cfg.Env.WaitCost = bc.Reward, bc.WaitCost
			if bc.LR > 0 {
				cfg.PPO.LearningRate, cfg.DQN.LearningRate, cfg.PG.LearningRate, cfg.PG.LearningRateCritic = bc.LR, bc.LR, bc.LR, bc.LR
			}
			cfg.Model.Types, cfg.Model.Prior = len(sys.TaskTypes), bc.Prior
			cfg.PPO.Seed, cfg.PPO.TotalTimesteps = uint64(k+1), bc.Steps
			cfg.PPO.Gamma, cfg.DQN.Gamma, cfg.PG.Gamma = bc.Gamma, bc.Gamma, bc.Gamma
			cfg.SelectEvery, cfg.SelectQueues = bc.SelectEvery, bc.SelectQueues
			var curve []float64
			tr, res, err := Train(ctx, cfg, func(step int64, m map[string]float64) {
				EpisodeMetrics(m)
				if c, ok := m["queue/avg_completion_s"]; ok {
					curve = append(curve, c)
				}
			})
			if err != nil {
				errs[k] = fmt.Errorf("seed %d: %w", k+1, err)
				return
			}
			out[k] = seedRun{tr, res, curve}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func orFull(stopped string) string {
	if stopped == "" {
		return "ran its steps"
	}
	return "stopped: " + stopped
}

// WriteBenchMarkdown prints one table per queue with the paper's
// percentages: how much longer every other method's average completion
// time is than the best learned method's ((other − best)/best, the
// paper's "275.93 %"), and how much higher the best's utilisation is
// ((best − other)/other, its "38.86 %").
func WriteBenchMarkdown(w io.Writer, rows []BenchRow, bc BenchConfig) {
	var queues []string
	for _, r := range rows {
		if !slices.Contains(queues, r.Queue) {
			queues = append(queues, r.Queue)
		}
	}
	for _, q := range queues {
		fmt.Fprintf(w, "### %s queue (%d held-out queues; learned methods: mean ± std over %d training seeds of their means)\n\n", q, bc.TestQueues, bc.Seeds)
		ref := -1
		for i, r := range rows {
			if r.Queue == q && strings.HasPrefix(r.Method, MethodName(AlgoPPO)) {
				ref = i
			}
		}
		fmt.Fprintln(w, "| method | avg completion (s) | avg waiting (s) | utilisation | completion vs DS-PPO | DS-PPO's utilisation gain | DS-PPO faster on | decisions per queue | time per decision | training (s) |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
		for i, r := range rows {
			if r.Queue != q {
				continue
			}
			c, cs := metrics.MeanStd(r.Completion)
			wt, ws := metrics.MeanStd(r.Wait)
			u, us := metrics.MeanStd(r.Util)
			vs, gain, wins := "–", "–", "–"
			if ref >= 0 && i != ref {
				won, pairs := Wins(rows[ref], r)
				wins = fmt.Sprintf("%d of %d", won, pairs)
				rc, _ := metrics.MeanStd(rows[ref].Completion)
				ru, _ := metrics.MeanStd(rows[ref].Util)
				vs = fmt.Sprintf("%+.2f %%", 100*(c-rc)/rc)
				if u > 0 {
					gain = fmt.Sprintf("%+.2f %%", 100*(ru-u)/u)
				}
			}
			train := "–"
			if r.TrainSec > 0 {
				train = fmt.Sprintf("%.0f", r.TrainSec)
			}
			fmt.Fprintf(w, "| %s | %.2f ± %.2f | %.2f ± %.2f | %.3f ± %.3f | %s | %s | %s | %.0f | %v | %s |\n", r.Method, c, cs, wt, ws, u, us, vs, gain, wins, r.Decisions, r.Decision.Round(10*time.Nanosecond), train)
		}
		fmt.Fprintln(w)
	}
}

// Wins counts the (training seed, test queue) pairs on which ref's
// average completion time is below other's: a learned method is paired
// seed by seed when both have as many seeds, else with every run of
// other; a heuristic by queue.
func Wins(ref, other BenchRow) (won, pairs int) {
	runs := func(r BenchRow) [][]float64 {
		if r.PerQueue != nil {
			return r.PerQueue
		}
		return [][]float64{r.Completion}
	}
	a, b := runs(ref), runs(other)
	for k, qa := range a {
		ks := []int{k}
		if len(b) != len(a) {
			ks = ks[:0]
			for j := range b {
				ks = append(ks, j)
			}
		}
		for _, kb := range ks {
			for j := range min(len(qa), len(b[kb])) {
				pairs++
				if qa[j] < b[kb][j] {
					won++
				}
			}
		}
	}
	return won, pairs
}

// WriteBenchCSV writes one line per method, queue and run.
func WriteBenchCSV(w io.Writer, rows []BenchRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"queue", "method", "run", "avg_completion_s", "avg_wait_s", "utilisation", "decision_s", "decisions_per_queue", "train_s"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
	for _, r := range rows {
		for i := range r.Completion {
			cw.Write([]string{r.Queue, r.Method, strconv.Itoa(i), f(r.Completion[i]), f(r.Wait[i]), f(r.Util[i]), f(r.Decision.Seconds()), f(r.Decisions), f(r.TrainSec)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// BenchPlot writes, per queue, bars of the average completion time with
// error bars (± std) per method and the learned methods' learning curves
// (episodic average completion time, mean over seeds), as PNG files in
// dir; it returns the files written.
func BenchPlot(dir string, rows []BenchRow) ([]string, error) {
	var queues []string
	for _, r := range rows {
		if !slices.Contains(queues, r.Queue) {
			queues = append(queues, r.Queue)
		}
	}
	var files []string
	for _, q := range queues {
		var names []string
		var means, stds []float64
		for _, r := range rows {
			if r.Queue != q {
				continue
			}
			m, s := metrics.MeanStd(r.Completion)
			names, means, stds = append(names, r.Method), append(means, m), append(stds, s)
		}
		bars, err := benchplot.Bars(fmt.Sprintf("DS-PPO, %s queue: average completion time (mean ± std)", q), "seconds", names, means, stds)
		if err != nil {
			return files, err
		}
		name := filepath.Join(dir, fmt.Sprintf("dsppo-%s-completion.png", benchplot.Slug(q)))
		if err := bars.Save(8*vg.Inch, 4.5*vg.Inch, name); err != nil {
			return files, err
		}
		files = append(files, name)

		curves := plot.New()
		curves.Title.Text = fmt.Sprintf("%s queue: training episodes' average completion time (mean over seeds)", q)
		curves.X.Label.Text, curves.Y.Label.Text = "episode", "seconds"
		var args []any
		for _, r := range rows {
			if r.Queue != q || len(r.Curves) == 0 {
				continue
			}
			xy := benchplot.MeanCurve(r.Curves)
			args = append(args, r.Method, xy)
		}
		if len(args) == 0 {
			continue
		}
		if err := plotutil.AddLines(curves, args...); err != nil {
			return files, err
		}
		name = filepath.Join(dir, fmt.Sprintf("dsppo-%s-learning.png", benchplot.Slug(q)))
		if err := curves.Save(8*vg.Inch, 4.5*vg.Inch, name); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	return files, nil
}
