package tsftrun

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Bars are the acceptance figures of the TSFT issue and the published
// numbers they come from.
var (
	MSEDevices = []string{"titan_rtx_256", "gold_6226", "fpga", "raspi4", "eyeriss"}
	RhoDevices = []string{"titan_rtx_256", "gold_6226", "fpga", "raspi4", "eyeriss", "pixel2"}
)

func pm(mean, std float64, prec int) string {
	if math.IsNaN(mean) {
		return "–"
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, mean, prec, std)
}

// WriteMarkdown writes the per-device table and the summary against the bar.
func WriteMarkdown(w io.Writer, rs []Result, cfg BenchConfig) {
	sum := Summarise(rs)
	fmt.Fprintf(w, "## Latency prediction on unseen devices (HELP's NAS-Bench-201 measurements)\n\n")
	fmt.Fprintf(w, "%d seeds; MSE of min-max normalised latency and Spearman ρ on the query set (unmeasured cells ≥ index 900); seconds = adaptation / fitting time per device.\n\n", cfg.Seeds)
	fmt.Fprintf(w, "| device | method | samples | MSE | Spearman ρ | s / device |\n|---|---|---|---|---|---|\n")
	for _, s := range sum {
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %.3f |\n", s.Device, s.Method, s.Shots, pm(s.MSE, s.MSEStd, 5), pm(s.Rho, s.RhoStd, 4), s.Seconds)
	}
	fmt.Fprintf(w, "\n### Against the bar (mean over devices; ± is the std over seeds)\n\n")
	fmt.Fprintf(w, "| method | MSE, 50 shots, 5 devices (bar ≤ 0.0010; paper TSFT 0.00304) | ρ, 10 shots, 6 devices (bar ≥ 0.955; HELP 0.932) |\n|---|---|---|\n")
	methods := []string{MethodTSFT, MethodTSFTPure, MethodStage1, MethodBase, MethodFLOPS, MethodLayerWis}
	for _, m := range methods {
		a, as, an := MeanOver(rs, m, 50, MSEDevices, false)
		b, bs, bn := MeanOver(rs, m, 10, RhoDevices, true)
		fmt.Fprintf(w, "| %s | %s (%d seeds) | %s (%d seeds) |\n", m, pm(a, as, 5), an, pm(b, bs, 4), bn)
	}
	if cfg.BRPSamples > 0 {
		a, as, an := MeanOver(rs, MethodBRPNAS, min(cfg.BRPSamples, TrainPool), MSEDevices, false)
		b, bs, bn := MeanOver(rs, MethodBRPNAS, min(cfg.BRPSamples, TrainPool), RhoDevices, true)
		fmt.Fprintf(w, "| BRP-NAS (%d samples, %d×%d GCN, batch %d, %d epochs; paper 0.00512 / ρ 0.789) | %s (%d seeds) | %s (%d seeds) |\n",
			cfg.BRPSamples, cfg.BRP.Layers, cfg.BRP.Hidden, cfg.BRP.BatchSize, cfg.BRP.Epochs, pm(a, as, 5), an, pm(b, bs, 4), bn)
	}
}

// WriteCSV writes every result row.
func WriteCSV(w io.Writer, rs []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"device", "method", "samples", "seed", "mse", "spearman", "seconds"}); err != nil {
		return err
	}
	for _, r := range rs {
		if err := cw.Write([]string{r.Device, r.Method, strconv.Itoa(r.Shots), strconv.Itoa(r.Seed),
			strconv.FormatFloat(r.MSE, 'g', 8, 64), strconv.FormatFloat(r.Rho, 'g', 8, 64), strconv.FormatFloat(r.Seconds, 'g', 6, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// PlotMSE writes a PNG of the mean MSE over devices against the number of
// shots, one line per method (log scale). It writes nothing when no method
// has a positive mean.
func PlotMSE(path string, rs []Result, shots []int, devices []string) error {
	p := plot.New()
	p.Title.Text = "Latency prediction on unseen devices"
	p.X.Label.Text = "measured samples on the target device (shots)"
	p.Y.Label.Text = fmt.Sprintf("MSE (normalised), mean over %d devices", len(devices))
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	sorted := slices.Clone(shots)
	slices.Sort(sorted)
	var args []any
	for _, m := range []string{MethodTSFT, MethodTSFTPure, MethodStage1, MethodBase, MethodFLOPS, MethodLayerWis} {
		var pts plotter.XYs
		for _, s := range sorted {
			v, _, n := MeanOver(rs, m, s, devices, false)
			if n > 0 && v > 0 {
				pts = append(pts, plotter.XY{X: float64(s), Y: v})
			}
		}
		if len(pts) > 0 {
			args = append(args, m, pts)
		}
	}
	if len(args) == 0 {
		return nil
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return err
	}
	p.Legend.Top = true
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
