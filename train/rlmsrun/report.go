package rlmsrun

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// group returns the rows of one experiment, in order.
func group(rows []Row, exp, topo string, k int, mix string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Experiment == exp && r.Topology == topo && r.K == k && string(r.Mix) == mix {
			out = append(out, r)
		}
	}
	return out
}

type key struct {
	exp, topo string
	k         int
	mix       string
}

func experiments(rows []Row) []key {
	var ks []key
	seen := map[key]bool{}
	for _, r := range rows {
		k := key{r.Experiment, r.Topology, r.K, string(r.Mix)}
		if !seen[k] {
			seen[k] = true
			ks = append(ks, k)
		}
	}
	return ks
}

func find(rows []Row, policy string) (Row, bool) {
	for _, r := range rows {
		if r.Policy == policy {
			return r, true
		}
	}
	return Row{}, false
}

// WriteMarkdown writes the paper's tables: per experiment the mean
// response latency (± std over seeds) of every policy, its improvement
// over Base1 and its share of the oracle's improvement over Base1, the
// decision time and the training time.
func WriteMarkdown(w io.Writer, rows []Row, seeds, tasks int) {
	fmt.Fprintf(w, "Mean response latency over %d test tasks, mean ± std over %d seeds (one trained policy and one test task stream per seed; every policy meets the same tasks).\n", tasks, seeds)
	fmt.Fprintf(w, "\"vs Base1\" is the latency reduction relative to Base1; \"of oracle\" is that reduction as a share of the oracle's.\n\n")
	for _, k := range experiments(rows) {
		g := group(rows, k.exp, k.topo, k.k, k.mix)
		fmt.Fprintf(w, "### %s, K = %d, %s tasks\n\n", k.topo, k.k, k.mix)
		fmt.Fprintln(w, "| policy | latency (ms) | vs Base1 | of oracle | decision (µs) | training (s) |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		b1, _ := find(g, "base1")
		or, _ := find(g, "oracle")
		m1, _ := b1.Mean()
		mo, _ := or.Mean()
		for _, r := range g {
			m, s := r.Mean()
			imp := 100 * (m1 - m) / m1
			share := "–"
			if m1 > mo {
				share = fmt.Sprintf("%.1f %%", 100*(m1-m)/(m1-mo))
			}
			train := "–"
			if r.TrainS > 0 {
				train = fmt.Sprintf("%.0f", r.TrainS)
			}
			fmt.Fprintf(w, "| %s | %.2f ± %.2f | %+.1f %% | %s | %.1f | %s |\n", r.Policy, m, s, imp, share, r.DecisionUs, train)
		}
		fmt.Fprintln(w)
	}
}

// Plot writes the bench's figures as PNG files in dir, their names
// starting with prefix, and returns the files written: per experiment, the
// distribution of every policy's task latencies over all seeds' test
// episodes (an empirical CDF on a log axis: where a policy's median and
// tail sit) and the learning curves of the trained policies (first seed);
// over the topology experiments, each policy's mean latency per topology
// as bars with ± one standard deviation over the seeds.
func Plot(dir, prefix string, rows []Row) ([]string, error) {
	var files []string
	for _, k := range experiments(rows) {
		g := group(rows, k.exp, k.topo, k.k, k.mix)
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s, K=%d, %s tasks: latency of every test task, all seeds", k.topo, k.k, k.mix)
		p.X.Label.Text = "response latency (ms, log scale)"
		p.Y.Label.Text = "share of tasks at or below"
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		n := 0
		for i, r := range g {
			pts := cdf(r.TaskMs)
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return files, err
			}
			l.Color, l.Dashes, l.Width = palette[i%len(palette)], plotutil.Dashes(i/len(palette)*2), vg.Points(1.2)
			p.Add(l)
			p.Legend.Add(r.Policy, l)
			n++
		}
		if n > 0 {
			// CDFs rise from the lower left to the upper right: the upper
			// left corner is free.
			p.Legend.Top, p.Legend.Left = true, true
			p.Legend.XOffs, p.Legend.YOffs = vg.Points(10), -vg.Points(5)
			name := filepath.Join(dir, fmt.Sprintf("%scdf-%s-k%d-%s.png", prefix, strings.ToLower(k.topo), k.k, k.mix))
			if err := p.Save(8*vg.Inch, 5*vg.Inch, name); err != nil {
				return files, err
			}
			files = append(files, name)
		}

		c := plot.New()
		c.Title.Text = fmt.Sprintf("%s, K=%d, %s tasks: learning curve (seed 1)", k.topo, k.k, k.mix)
		c.X.Label.Text = "tenth of training"
		c.Y.Label.Text = "mean latency of training episodes (ms)"
		var args []any
		for _, r := range g {
			if len(r.Curve) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(r.Curve))
			for i, v := range r.Curve {
				pts[i] = plotter.XY{X: float64(i + 1), Y: v}
			}
			args = append(args, r.Policy, pts)
		}
		if len(args) == 0 {
			continue
		}
		if err := plotutil.AddLinePoints(c, args...); err != nil {
			return files, err
		}
		name := filepath.Join(dir, fmt.Sprintf("%slearning-%s-k%d-%s.png", prefix, strings.ToLower(k.topo), k.k, k.mix))
		if err := c.Save(7*vg.Inch, 4*vg.Inch, name); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	name := filepath.Join(dir, prefix+"bars-topologies.png")
	ok, err := plotBars(name, rows)
	if err != nil {
		return files, err
	}
	if ok {
		files = append(files, name)
	}
	return files, nil
}

// cdf returns the empirical distribution function of the positive values
// in v as a step line: (x, share of values ≤ x).
func cdf(v []float64) plotter.XYs {
	s := make([]float64, 0, len(v))
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	n := float64(len(s))
	pts := make(plotter.XYs, 0, 2*len(s))
	for i, x := range s {
		pts = append(pts, plotter.XY{X: x, Y: float64(i) / n}, plotter.XY{X: x, Y: float64(i+1) / n})
	}
	return pts
}

// palette holds 12 colours told apart at a glance (Tableau's 10 and two
// more), one per policy.
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255}, color.RGBA{214, 39, 40, 255},
	color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255}, color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
	color.RGBA{188, 189, 34, 255}, color.RGBA{23, 190, 207, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 215, 0, 255},
}

// barPoints are bar centres with ± errors (plotter.YErrorer).
type barPoints struct {
	plotter.XYs
	plotter.YErrors
}

// plotBars writes to name each policy's mean latency on every topology of
// the topology experiments, as grouped bars with ± one standard deviation
// over the seeds. It reports false (and writes nothing) without topology
// experiments.
func plotBars(name string, rows []Row) (bool, error) {
	var topos, policies []string
	means := map[[2]string][2]float64{}
	for _, r := range rows {
		if r.Experiment != "topology" {
			continue
		}
		if !slices.Contains(topos, r.Topology) {
			topos = append(topos, r.Topology)
		}
		if !slices.Contains(policies, r.Policy) {
			policies = append(policies, r.Policy)
		}
		m, sd := r.Mean()
		means[[2]string{r.Topology, r.Policy}] = [2]float64{m, sd}
	}
	if len(topos) == 0 {
		return false, nil
	}
	// Policies far slower than Base1 everywhere (the nearest-node
	// baselines) would squash the others: they are named in the title and
	// left to the tables.
	var off []string
	policies = slices.DeleteFunc(policies, func(pol string) bool {
		for _, t := range topos {
			b1, ok := means[[2]string{t, "base1"}]
			if !ok || means[[2]string{t, pol}][0] <= 2*b1[0] {
				return false
			}
		}
		off = append(off, pol)
		return true
	})
	p := plot.New()
	p.Title.Text = "mean response latency per topology (± std over seeds)"
	if len(off) > 0 {
		p.Title.Text += "; off the scale: " + strings.Join(off, ", ")
	}
	p.Y.Label.Text = "mean latency (ms)"
	p.NominalX(topos...)
	step := 0.8 / float64(len(policies))
	width := vg.Length(min(18, 480/(len(policies)*len(topos)+1)))
	for j, pol := range policies {
		vals := make(plotter.Values, len(topos))
		pts := barPoints{XYs: make(plotter.XYs, len(topos)), YErrors: make(plotter.YErrors, len(topos))}
		x0 := -0.4 + step*(float64(j)+0.5)
		for i, t := range topos {
			ms := means[[2]string{t, pol}] // 0 where a policy did not run on t
			vals[i] = ms[0]
			pts.XYs[i] = plotter.XY{X: float64(i) + x0, Y: ms[0]}
			pts.YErrors[i] = struct{ Low, High float64 }{ms[1], ms[1]}
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return false, err
		}
		b.XMin = x0
		b.LineStyle.Width = vg.Length(0)
		b.Color = palette[j%len(palette)]
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return false, err
		}
		p.Add(b, eb)
		p.Legend.Add(pol, b)
	}
	// Room above the bars for the legend, and for the outer bars.
	var top float64
	for _, t := range topos {
		for _, pol := range policies {
			ms := means[[2]string{t, pol}]
			top = max(top, ms[0]+ms[1])
		}
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1.45*top
	p.X.Min, p.X.Max = -0.55, float64(len(topos))-0.45
	return true, p.Save(vg.Length(max(8, 2*len(topos)))*vg.Inch, 5*vg.Inch, name)
}

// WriteRegimes writes, per experiment, every policy's latency in the
// paper's regime next to the realistic one (same test streams), with the
// difference.
func WriteRegimes(w io.Writer, paper, realistic []Row, seeds, tasks int) {
	fmt.Fprintf(w, "Mean response latency (ms) over %d test tasks, mean ± std over %d seeds, in both regimes.\n\n", tasks, seeds)
	for _, k := range experiments(paper) {
		gp := group(paper, k.exp, k.topo, k.k, k.mix)
		gr := group(realistic, k.exp, k.topo, k.k, k.mix)
		fmt.Fprintf(w, "### %s, K = %d, %s tasks\n\n| policy | paper | realistic | realistic − paper |\n|---|---|---|---|\n", k.topo, k.k, k.mix)
		for _, p := range gp {
			mp, sp := p.Mean()
			r, ok := find(gr, p.Policy)
			if !ok {
				fmt.Fprintf(w, "| %s | %.2f ± %.2f | – | – |\n", p.Policy, mp, sp)
				continue
			}
			mr, sr := r.Mean()
			fmt.Fprintf(w, "| %s | %.2f ± %.2f | %.2f ± %.2f | %+.2f |\n", p.Policy, mp, sp, mr, sr, mr-mp)
		}
		fmt.Fprintln(w)
	}
}
