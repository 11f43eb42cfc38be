package rlmsrun

import (
	"fmt"
	"io"
	"path/filepath"
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

// PlotPerTask writes, per experiment, the per-task latency of the first
// seed's test episode for every policy (the paper's figures 15–18) and the
// learning curves of the trained policies, as PNG files in dir. It
// returns the files written.
func PlotPerTask(dir string, rows []Row) ([]string, error) {
	var files []string
	for _, k := range experiments(rows) {
		g := group(rows, k.exp, k.topo, k.k, k.mix)
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s, K=%d, %s tasks: response latency per task (seed 1)", k.topo, k.k, k.mix)
		p.X.Label.Text = "task"
		p.Y.Label.Text = "response latency (ms)"
		// Policies far slower than Base1 (the nearest-node baselines, a
		// GNN+DQN that overloads nodes) would squash the others: they are
		// left out of the picture (the tables have them).
		b1, _ := find(g, "base1")
		m1, _ := b1.Mean()
		var args []any
		for _, r := range g {
			if m, _ := r.Mean(); m > 2*m1 {
				continue
			}
			pts := make(plotter.XYs, len(r.PerTaskMs))
			for i, v := range r.PerTaskMs {
				pts[i] = plotter.XY{X: float64(i + 1), Y: v}
			}
			args = append(args, r.Policy, pts)
		}
		if err := plotutil.AddLines(p, args...); err != nil {
			return files, err
		}
		p.Legend.Top = true
		name := filepath.Join(dir, fmt.Sprintf("per-task-%s-k%d-%s.png", strings.ToLower(k.topo), k.k, k.mix))
		if err := p.Save(9*vg.Inch, 4.5*vg.Inch, name); err != nil {
			return files, err
		}
		files = append(files, name)

		c := plot.New()
		c.Title.Text = fmt.Sprintf("%s, K=%d, %s tasks: learning curve (seed 1)", k.topo, k.k, k.mix)
		c.X.Label.Text = "tenth of training"
		c.Y.Label.Text = "mean latency of training episodes (ms)"
		args = args[:0]
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
		name = filepath.Join(dir, fmt.Sprintf("learning-%s-k%d-%s.png", strings.ToLower(k.topo), k.k, k.mix))
		if err := c.Save(7*vg.Inch, 4*vg.Inch, name); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	return files, nil
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
