package decimarun

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
	"github.com/cpntrain/cpntrain/train/benchplot"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// BenchConfig is `cpntrain bench decima`.
type BenchConfig struct {
	Data  string
	Modes []string
	Archs []string
	// Seeds trains each architecture that many times (seeds 1…Seeds) per
	// mode, Steps decisions each; TestStreams held-out streams score
	// every method; TuneStreams tune the weighted fair scheduler.
	Seeds                    int
	Steps                    int64
	TestStreams, TuneStreams int
	// Jobs trains that many runs at once (scoring stays sequential, so
	// decision times are not shared with training).
	Jobs int
	// WarmOnly also scores the first architecture's warm start alone
	// (imitation of the tuned heuristic, no policy gradient): where the
	// learned policy's gain comes from.
	WarmOnly bool
	// Train adjusts each run's config (nil: DefaultConfig).
	Train func(*Config)
	Log   io.Writer
}

// Validate names the setting out of range.
func (bc BenchConfig) Validate() error {
	switch {
	case len(bc.Modes) == 0:
		return fmt.Errorf("bench decima: no mode")
	case bc.Seeds < 1 || bc.Seeds > 100:
		return fmt.Errorf("bench decima: --seeds %d outside [1, 100]", bc.Seeds)
	case bc.Steps < 1:
		return fmt.Errorf("bench decima: --steps %d < 1", bc.Steps)
	case bc.TestStreams < 1 || bc.TestStreams > 1000:
		return fmt.Errorf("bench decima: --test-streams %d outside [1, 1000]", bc.TestStreams)
	case bc.TuneStreams < 1 || bc.TuneStreams > 1000:
		return fmt.Errorf("bench decima: --tune-streams %d outside [1, 1000]", bc.TuneStreams)
	case bc.Jobs < 1 || bc.Jobs > 64:
		return fmt.Errorf("bench decima: --jobs %d outside [1, 64]", bc.Jobs)
	}
	for _, m := range bc.Modes {
		if !slices.Contains(Modes, m) {
			return fmt.Errorf("bench decima: unknown mode %q (want %v)", m, Modes)
		}
	}
	for _, a := range bc.Archs {
		if !slices.Contains(Archs, a) {
			return fmt.Errorf("bench decima: unknown architecture %q (want %v)", a, Archs)
		}
	}
	return nil
}

// BenchRow is one method in one mode. For a heuristic, JCT holds the
// average JCT of each test stream; for a learned method, the mean over
// the test streams of each seed's scheduler.
type BenchRow struct {
	Mode, Method string
	Learned      bool
	JCT          []float64
	// Jobs are all jobs' completion times (s), every stream (and seed).
	Jobs []float64
	// PerStream[s][i]: stream i's average JCT under seed s's scheduler
	// (learned) or PerStream[0] = JCT (heuristic): paired comparisons.
	PerStream [][]float64
	Decision  time.Duration
	// Curves are the learned method's training curves (one per seed),
	// TrainTime the mean training time.
	Curves    [][]float64
	TrainTime time.Duration
	// Timeline is the executors each job holds over the first test stream
	// (learned: seed 1's scheduler).
	Timeline []TimelinePoint
}

// TimelinePoint is the cluster at one decision.
type TimelinePoint struct {
	T        float64 // s
	PerJob   map[int]int
	InSystem int
}

// BenchResult is the bench's outcome.
type BenchResult struct {
	Rows []BenchRow
	// WF is the tuned weighted fair setting per mode.
	WF map[string]Tuned
}

func mean(x []float64) float64 { m, _ := metrics.MeanStd(x); return m }

// Bench tunes the heuristics, trains every architecture on every mode
// and scores everything on the same held-out streams.
func Bench(ctx context.Context, bc BenchConfig) (BenchResult, error) {
	out := BenchResult{WF: map[string]Tuned{}}
	if err := bc.Validate(); err != nil {
		return out, err
	}
	logw := bc.Log
	if logw == nil {
		logw = io.Discard
	}
	lib, err := tpch.LoadAll(bc.Data, nil)
	if err != nil {
		return out, err
	}
	for _, mode := range bc.Modes {
		env, _ := EnvConfig(mode)
		t0 := time.Now()
		wf, err := TuneWF(env, lib, bc.TuneStreams)
		if err != nil {
			return out, err
		}
		out.WF[mode] = wf
		fmt.Fprintf(logw, "%s: tuned %s on %d training streams (%.2f s) in %v\n", mode, wf.Best, bc.TuneStreams, wf.Scores[slices.Index(wf.Grid, wf.Best)], time.Since(t0).Round(time.Second))
		seeds := Seeds(TestSeed0, bc.TestStreams)
		var tl []TimelinePoint
		trace := func(m, i int, o spark.Obs) {
			if i == 0 {
				tl = append(tl, point(o))
			}
		}
		base := Baselines(wf.Best)
		for _, m := range base {
			tl = nil
			rows, err := EvaluateTrace(env, lib, []Method{m}, seeds, trace)
			if err != nil {
				return out, err
			}
			r := rows[0]
			out.Rows = append(out.Rows, BenchRow{Mode: mode, Method: r.Method, JCT: r.JCT, Jobs: r.Jobs, PerStream: [][]float64{r.JCT}, Decision: r.Decision, Timeline: tl})
			fmt.Fprintf(logw, "%s: %s %.2f s\n", mode, r.Method, r.Mean())
		}
		type variant struct {
			arch, name string
			steps      int64
		}
		var variants []variant
		for _, arch := range bc.Archs {
			variants = append(variants, variant{arch, Name(arch), bc.Steps})
		}
		if bc.WarmOnly && len(bc.Archs) > 0 {
			variants = append(variants, variant{bc.Archs[0], Name(bc.Archs[0]) + ", imitation only", 0})
		}
		for _, v := range variants {
			arch := v.arch
			runs, err := bc.trainSeeds(ctx, mode, arch, lib, wf.Best, v.steps)
			if err != nil {
				return out, err
			}
			row := BenchRow{Mode: mode, Method: v.name, Learned: true}
			var spent time.Duration
			for si, r := range runs {
				tl = nil
				tr := trace
				if si > 0 {
					tr = nil
				}
				rows, err := EvaluateTrace(env, lib, []Method{AgentMethod(v.name, r.ag)}, seeds, tr)
				if err != nil {
					return out, err
				}
				if si == 0 {
					row.Timeline = tl
				}
				row.JCT = append(row.JCT, rows[0].Mean())
				row.Jobs = append(row.Jobs, rows[0].Jobs...)
				row.PerStream = append(row.PerStream, rows[0].JCT)
				row.Curves = append(row.Curves, r.res.Curve)
				row.Decision += rows[0].Decision / time.Duration(len(runs))
				spent += r.res.Elapsed
				fmt.Fprintf(logw, "%s: %s seed %d: %.2f s (selected update %d, trained %v)\n", mode, row.Method, si+1, rows[0].Mean(), r.res.SelectedUpdate, r.res.Elapsed.Round(time.Second))
			}
			row.TrainTime = spent / time.Duration(len(runs))
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

func point(o spark.Obs) TimelinePoint {
	p := TimelinePoint{T: o.Time / 1000, PerJob: map[int]int{}, InSystem: len(o.Jobs)}
	for _, j := range o.Jobs {
		p.PerJob[j.ID] = j.Executors
	}
	return p
}

type seedRun struct {
	ag  agent.Agent[spark.Obs]
	res Result
}

// trainSeeds trains seeds 1…bc.Seeds, bc.Jobs at a time.
func (bc BenchConfig) trainSeeds(ctx context.Context, mode, arch string, lib []*tpch.Job, wf WF, steps int64) ([]seedRun, error) {
	runs := make([]seedRun, bc.Seeds)
	errs := make([]error, bc.Seeds)
	sem := make(chan struct{}, bc.Jobs)
	var wg sync.WaitGroup
	for s := range bc.Seeds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cfg, _ := DefaultConfig(mode)
			cfg.Arch = arch
			cfg.Model, _ = ModelConfig(arch)
			cfg.PG.Seed, cfg.PG.TotalTimesteps = uint64(s+1), steps
			if bc.Train != nil {
				bc.Train(&cfg)
			}
			if cfg.Warm.Epochs > 0 {
				cfg.Warm.WF = wf // the tuned setting
			}
			ag, res, err := Train(ctx, cfg, lib, nil)
			runs[s], errs[s] = seedRun{ag, res}, err
		}()
	}
	wg.Wait()
	for s, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s, %s, seed %d: %w", mode, arch, s+1, err)
		}
	}
	return runs, nil
}

// Wins counts the paired (seed, stream) comparisons where ref's average
// JCT is lower than other's: a learned row against a heuristic compares
// each seed's stream i with the heuristic's stream i.
func Wins(ref, other BenchRow) (won, pairs int) {
	for _, rs := range ref.PerStream {
		for _, os := range other.PerStream {
			for i := range min(len(rs), len(os)) {
				pairs++
				if rs[i] < os[i] {
					won++
				}
			}
		}
	}
	if !ref.Learned && !other.Learned || ref.Learned && other.Learned {
		// Two heuristics or two learned rows: pair stream by stream
		// within one list each (seed against seed for learned rows).
		won, pairs = 0, 0
		for k := range min(len(ref.PerStream), len(other.PerStream)) {
			for i := range min(len(ref.PerStream[k]), len(other.PerStream[k])) {
				pairs++
				if ref.PerStream[k][i] < other.PerStream[k][i] {
					won++
				}
			}
		}
	}
	return won, pairs
}

// rowsOf are the rows of one mode, in bench order.
func (res BenchResult) rowsOf(mode string) []BenchRow {
	var rows []BenchRow
	for _, r := range res.Rows {
		if r.Mode == mode {
			rows = append(rows, r)
		}
	}
	return rows
}

// bestAndRef are the indices of the heuristic with the lowest mean JCT
// (the reference of "vs best heuristic") and of the first learned row
// (the one "learned faster on" compares); −1 when there is none.
func bestAndRef(rows []BenchRow) (best, ref int) {
	best, ref = -1, -1
	for i, r := range rows {
		if !r.Learned && (best < 0 || mean(r.JCT) < mean(rows[best].JCT)) {
			best = i
		}
		if r.Learned && ref < 0 {
			ref = i
		}
	}
	return best, ref
}

// WriteBenchMarkdown prints one table per mode: mean ± std of the average
// JCT, the change of each method against the best heuristic, the paired
// wins of the first learned row, job percentiles and decision times.
func WriteBenchMarkdown(w io.Writer, res BenchResult, bc BenchConfig) {
	fmt.Fprintf(w, "Held-out streams: %d (seeds %d…), learned methods: %d seeds × %d decisions; heuristics ± over streams, learned ± over seeds (each the mean over the streams).\n\n",
		bc.TestStreams, TestSeed0, bc.Seeds, bc.Steps)
	for _, mode := range bc.Modes {
		rows := res.rowsOf(mode)
		best, ref := bestAndRef(rows)
		wf := res.WF[mode]
		fmt.Fprintf(w, "### %s\n\nWeighted fair tuned on %d settings × %d training streams: %s.\n\n", mode, len(wf.Grid), bc.TuneStreams, wf.Best)
		fmt.Fprintln(w, "| method | avg JCT (s) | vs best heuristic | learned faster on | p50 job (s) | p90 job (s) | time per decision | training |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
		for i, r := range rows {
			m, s := metrics.MeanStd(r.JCT)
			if math.IsNaN(s) {
				s = 0
			}
			vs := "–"
			if best >= 0 && i != best {
				vs = fmt.Sprintf("%+.1f %%", 100*(m/mean(rows[best].JCT)-1))
			}
			wins := "–"
			if ref >= 0 && i != ref {
				k, n := Wins(rows[ref], r)
				wins = fmt.Sprintf("%d/%d", k, n)
			}
			tt := "–"
			if r.Learned {
				tt = r.TrainTime.Round(time.Second).String()
			}
			fmt.Fprintf(w, "| %s | %.2f ± %.2f | %s | %s | %.1f | %.1f | %s | %s |\n", r.Method, m, s, vs, wins, quantile(r.Jobs, 0.5), quantile(r.Jobs, 0.9), perDecision(r.Decision), tt)
		}
		fmt.Fprintln(w)
	}
}

// perDecision prints a decision time to the microsecond ("< 1µs" below).
func perDecision(d time.Duration) string {
	if d < time.Microsecond {
		return "< 1µs"
	}
	return d.Round(time.Microsecond).String()
}

// WriteBenchCSV writes one line per (mode, method, seed or stream).
func WriteBenchCSV(w io.Writer, res BenchResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"mode", "method", "learned", "index", "avg_jct_s", "decision_us"})
	for _, r := range res.Rows {
		for i, v := range r.JCT {
			_ = cw.Write([]string{r.Mode, r.Method, strconv.FormatBool(r.Learned), strconv.Itoa(i + 1), strconv.FormatFloat(v, 'f', 4, 64),
				strconv.FormatFloat(float64(r.Decision)/1e3, 'f', 1, 64)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// BenchPlot writes per mode: bars of the average JCT (± std), the CDF of
// job completion times, the learning curves, and the executors per job
// over the first test stream for the best heuristic and the first learned
// method. It returns the files written.
func BenchPlot(dir string, res BenchResult, modes []string) ([]string, error) {
	var files []string
	save := func(p *plot.Plot, name string) error {
		f := filepath.Join(dir, name)
		if err := p.Save(8*vg.Inch, 4.5*vg.Inch, f); err != nil {
			return err
		}
		files = append(files, f)
		return nil
	}
	for _, mode := range modes {
		rows := res.rowsOf(mode)
		if len(rows) == 0 {
			continue
		}
		// Bars.
		var names []string
		var means, stds []float64
		for _, r := range rows {
			m, s := metrics.MeanStd(r.JCT)
			names, means, stds = append(names, shortName(r.Method)), append(means, m), append(stds, s)
		}
		bars, err := benchplot.Bars(fmt.Sprintf("Decima, %s: average job completion time (mean ± std)", mode), "seconds", names, means, stds)
		if err != nil {
			return files, err
		}
		if err := save(bars, fmt.Sprintf("decima-%s-jct.png", mode)); err != nil {
			return files, err
		}
		// CDF.
		cdf := plot.New()
		cdf.Title.Text = fmt.Sprintf("Decima, %s: CDF of job completion times (all held-out streams)", mode)
		cdf.X.Label.Text, cdf.Y.Label.Text = "job completion time (s)", "fraction of jobs"
		var args []any
		for _, r := range rows {
			s := append([]float64(nil), r.Jobs...)
			slices.Sort(s)
			xy := make(plotter.XYs, len(s))
			for i, v := range s {
				xy[i] = plotter.XY{X: v, Y: float64(i+1) / float64(len(s))}
			}
			args = append(args, shortName(r.Method), xy)
		}
		if err := plotutil.AddLines(cdf, args...); err != nil {
			return files, err
		}
		if err := save(cdf, fmt.Sprintf("decima-%s-cdf.png", mode)); err != nil {
			return files, err
		}
		// Learning curves.
		curves := plot.New()
		curves.Title.Text = fmt.Sprintf("Decima, %s: training rollouts' average JCT per update (mean over seeds)", mode)
		curves.X.Label.Text, curves.Y.Label.Text = "update", "seconds"
		args = nil
		for _, r := range rows {
			if len(r.Curves) == 0 {
				continue
			}
			xy := benchplot.MeanCurve(r.Curves)
			args = append(args, shortName(r.Method), xy)
		}
		if len(args) > 0 {
			if err := plotutil.AddLines(curves, args...); err != nil {
				return files, err
			}
			if err := save(curves, fmt.Sprintf("decima-%s-learning.png", mode)); err != nil {
				return files, err
			}
		}
		// Executor timelines: the best heuristic and the first learned row.
		best, ref := bestAndRef(rows)
		for _, i := range []int{best, ref} {
			if i < 0 || len(rows[i].Timeline) == 0 {
				continue
			}
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s, %s, first test stream: executors per job", mode, shortName(rows[i].Method))
			p.X.Label.Text, p.Y.Label.Text = "time (s)", "executors held"
			jobs := map[int]bool{}
			for _, pt := range rows[i].Timeline {
				for j := range pt.PerJob {
					jobs[j] = true
				}
			}
			ids := make([]int, 0, len(jobs))
			for j := range jobs {
				ids = append(ids, j)
			}
			slices.Sort(ids)
			for k, j := range ids {
				var xy plotter.XYs
				for _, pt := range rows[i].Timeline {
					if n, ok := pt.PerJob[j]; ok {
						xy = append(xy, plotter.XY{X: pt.T, Y: float64(n)})
					}
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					return files, err
				}
				l.Color = plotutil.Color(k)
				p.Add(l)
			}
			if err := save(p, fmt.Sprintf("decima-%s-timeline-%s.png", mode, benchplot.Slug(shortName(rows[i].Method)))); err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// shortName is a method's name on a plot axis.
func shortName(m string) string {
	for _, a := range Archs {
		if p := Name(a) + ", "; len(m) > len(p) && m[:len(p)] == p {
			return shortName(Name(a)) + ", " + m[len(p):]
		}
	}
	switch {
	case m == Name(ArchPatent):
		return "patent"
	case m == Name(ArchDecima):
		return "decima"
	case len(m) > 13 && m[:13] == "weighted-fair":
		return "wf" + m[13:]
	}
	return m
}
