package mecrun

import (
	"fmt"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot writes, per battery level, the mean normalised cost of every
// method against D (methods above 3× the optimum at some D are left out:
// they would squash the others; the tables have them) and the decision time per set against D on a
// log scale, as PNG files in dir; it returns the files written.
func Plot(dir string, rows []Row) ([]string, error) {
	var levels, methods []string
	for _, r := range rows {
		if !slices.Contains(levels, r.Battery) {
			levels = append(levels, r.Battery)
		}
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	var files []string
	for _, level := range levels {
		cost, dec := plot.New(), plot.New()
		cost.Title.Text = fmt.Sprintf("offloading, battery %s: cost / optimum's (mean over sets)", level)
		cost.X.Label.Text, cost.Y.Label.Text = "devices D", "normalised cost"
		dec.Title.Text = fmt.Sprintf("offloading, battery %s: decision time per task set", level)
		dec.X.Label.Text, dec.Y.Label.Text = "devices D", "seconds (log scale)"
		dec.Y.Scale, dec.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
		var costArgs, decArgs []any
		for _, m := range methods {
			var pc, pd plotter.XYs
			low := true
			for _, r := range rows {
				if r.Battery != level || r.Method != m {
					continue
				}
				pc = append(pc, plotter.XY{X: float64(r.Devices), Y: r.NormMean})
				pd = append(pd, plotter.XY{X: float64(r.Devices), Y: max(r.DecisionMean, 1e-7)})
				low = low && r.NormMean <= 3
			}
			if len(pc) == 0 {
				continue
			}
			if low {
				costArgs = append(costArgs, m, pc)
			}
			decArgs = append(decArgs, m, pd)
		}
		for _, p := range []struct {
			pl   *plot.Plot
			args []any
			name string
		}{{cost, costArgs, "cost"}, {dec, decArgs, "decision-time"}} {
			if err := plotutil.AddLinePoints(p.pl, p.args...); err != nil {
				return files, err
			}
			p.pl.Legend.Top = true
			name := filepath.Join(dir, fmt.Sprintf("offload-%s-%s.png", p.name, level))
			if err := p.pl.Save(7*vg.Inch, 4.5*vg.Inch, name); err != nil {
				return files, err
			}
			files = append(files, name)
		}
	}
	return files, nil
}
