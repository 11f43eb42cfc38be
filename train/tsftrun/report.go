package tsftrun

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

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

// WriteMarkdown writes the partitions, the summary against the bars per
// partition and overall, HELP's bar on its split, and the per-device
// tables. floors maps a quantised device to the MSE its quantisation alone
// costs (Env.QuantFloor).
func WriteMarkdown(w io.Writer, rs []Result, cfg BenchConfig, floors map[string]float64) {
	fmt.Fprintf(w, "## Latency prediction on unseen devices (HELP's NAS-Bench-201 measurements)\n\n")
	fmt.Fprintf(w, "%d seeds; MSE of min-max normalised latency and Spearman ρ on the query set (unmeasured cells ≥ index 900); seconds = adaptation / fitting time per device. The default predictor is chosen per device by cross-validation on the measured cells (%d folds, one-standard-error rule %.0f, fine-tune steps %v).\n\n",
		cfg.Seeds, cfg.Select.Folds, cfg.Select.SE, cfg.Select.Steps)
	fmt.Fprintf(w, "### Partitions\n\n| partition | how the test devices were chosen | training devices | test devices |\n|---|---|---|---|\n")
	for _, p := range cfg.Partitions {
		fmt.Fprintf(w, "| %s | %s | %s (%d) | %s |\n", p.Name, p.Rule, strings.Join(p.Train, ", "), len(p.Train), strings.Join(p.Test, ", "))
	}
	lo, hi := slices.Min(cfg.Shots), slices.Max(cfg.Shots)
	fmt.Fprintf(w, "\n### Against the bars (mean over the partition's test devices; ± is the std over seeds)\n\n")
	fmt.Fprintf(w, "| partition | base ρ@%d | default ρ@%d | TSFT + blend ρ@%d | TSFT (paper) ρ@%d | base MSE@%d | default MSE@%d | TSFT + blend MSE@%d | worst device: default ρ − base ρ |\n|---|---|---|---|---|---|---|---|---|\n", lo, lo, lo, lo, hi, hi, hi)
	row := func(name string, rows []Result) {
		cell := func(m string, shots int, rho bool) string {
			a, as, _ := MeanOver(rows, m, shots, nil, rho)
			if rho {
				return pm(a, as, 4)
			}
			return pm(a, as, 5)
		}
		d, where := WorstDrop(rows, MethodSelect)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %+.4f (%s) |\n", name,
			cell(MethodBase, lo, true), cell(MethodSelect, lo, true), cell(MethodTSFT, lo, true), cell(MethodTSFTPure, lo, true),
			cell(MethodBase, hi, false), cell(MethodSelect, hi, false), cell(MethodTSFT, hi, false), d, where)
	}
	for _, p := range cfg.Partitions {
		row(p.Name, OfPartition(rs, p.Name))
	}
	if len(cfg.Partitions) > 1 {
		row(fmt.Sprintf("**all %d partitions**", len(cfg.Partitions)), rs)
	}
	if help := OfPartition(rs, "help"); len(help) > 0 {
		fmt.Fprintf(w, "\n### HELP's split against its bar (mean over devices; ± is the std over seeds)\n\n")
		fmt.Fprintf(w, "| method | MSE, 50 shots, 5 devices (bar ≤ 0.0010; paper TSFT 0.00304) | ρ, 10 shots, 6 devices (bar ≥ 0.955; HELP 0.932) |\n|---|---|---|\n")
		for _, m := range []string{MethodSelect, MethodTSFT, MethodTSFTPure, MethodStage1, MethodBase, MethodFLOPS, MethodLayerWis} {
			a, as, an := MeanOver(help, m, 50, MSEDevices, false)
			b, bs, bn := MeanOver(help, m, 10, RhoDevices, true)
			fmt.Fprintf(w, "| %s | %s (%d seeds) | %s (%d seeds) |\n", m, pm(a, as, 5), an, pm(b, bs, 4), bn)
		}
		if cfg.BRPSamples > 0 {
			a, as, an := MeanOver(help, MethodBRPNAS, min(cfg.BRPSamples, TrainPool), MSEDevices, false)
			b, bs, bn := MeanOver(help, MethodBRPNAS, min(cfg.BRPSamples, TrainPool), RhoDevices, true)
			fmt.Fprintf(w, "| BRP-NAS (%d samples, %d×%d GCN, batch %d, %d epochs; paper 0.00512 / ρ 0.789) | %s (%d seeds) | %s (%d seeds) |\n",
				cfg.BRPSamples, cfg.BRP.Layers, cfg.BRP.Hidden, cfg.BRP.BatchSize, cfg.BRP.Epochs, pm(a, as, 5), an, pm(b, bs, 4), bn)
		}
	}
	choices := map[string]map[string]int{}
	for _, r := range rs {
		if r.Method == MethodSelect {
			k := fmt.Sprintf("%s|%s|%d", r.Partition, r.Device, r.Shots)
			if choices[k] == nil {
				choices[k] = map[string]int{}
			}
			choices[k][r.Choice]++
		}
	}
	sum := Summarise(rs)
	for _, p := range cfg.Partitions {
		fmt.Fprintf(w, "\n### Partition %s\n\n| device | method | samples | MSE | Spearman ρ | s / device | chosen (times over seeds) |\n|---|---|---|---|---|---|---|\n", p.Name)
		for _, s := range sum {
			if s.Partition != p.Name {
				continue
			}
			ch := ""
			if s.Method == MethodSelect {
				c := choices[fmt.Sprintf("%s|%s|%d", s.Partition, s.Device, s.Shots)]
				var names []string
				for n := range c {
					names = append(names, n)
				}
				slices.Sort(names)
				for i, n := range names {
					if i > 0 {
						ch += "; "
					}
					ch += fmt.Sprintf("%s ×%d", n, c[n])
				}
			}
			dev := s.Device
			if f, ok := floors[s.Device]; ok {
				dev = fmt.Sprintf("%s (whole ms: MSE floor %.5f)", s.Device, f)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %.3f | %s |\n", dev, s.Method, s.Shots, pm(s.MSE, s.MSEStd, 5), pm(s.Rho, s.RhoStd, 4), s.Seconds, ch)
		}
	}
}

// WriteCSV writes every result row.
func WriteCSV(w io.Writer, rs []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"partition", "device", "method", "samples", "seed", "mse", "spearman", "seconds", "choice"}); err != nil {
		return err
	}
	for _, r := range rs {
		if err := cw.Write([]string{r.Partition, r.Device, r.Method, strconv.Itoa(r.Shots), strconv.Itoa(r.Seed),
			strconv.FormatFloat(r.MSE, 'g', 8, 64), strconv.FormatFloat(r.Rho, 'g', 8, 64), strconv.FormatFloat(r.Seconds, 'g', 6, 64), r.Choice}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// PlotMSE writes a PNG of the mean MSE over devices (nil: every device of
// rs, each partition's counted apart) against the number of shots, one
// line per method (log scale). It writes nothing when no method has a
// positive mean.
func PlotMSE(path string, rs []Result, shots []int, devices []string) error {
	p := plot.New()
	p.Title.Text = "Latency prediction on unseen devices"
	p.X.Label.Text = "measured samples on the target device (shots)"
	p.Y.Label.Text = fmt.Sprintf("MSE (normalised), mean over %d devices", len(devices))
	if devices == nil {
		p.Y.Label.Text = "MSE (normalised), mean over the test devices"
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	sorted := slices.Clone(shots)
	slices.Sort(sorted)
	var args []any
	for _, m := range []string{MethodSelect, MethodTSFT, MethodTSFTPure, MethodStage1, MethodBase, MethodFLOPS, MethodLayerWis} {
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
