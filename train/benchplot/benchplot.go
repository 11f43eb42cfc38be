// Package benchplot holds the figures the bench commands share: bars of a
// metric's mean with ± std error bars per method, learning curves averaged
// over seeds, and file-name slugs.
package benchplot

import (
	"math"
	"strings"
	"unicode"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Bars is a bar per name with height means[i] and an error bar of
// ± stds[i] (NaN: none, as for a single run).
func Bars(title, ylabel string, names []string, means, stds []float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.Y.Label.Text = title, ylabel
	vals := make(plotter.Values, len(means))
	errs := make(plotter.YErrors, len(means))
	pts := make(plotter.XYs, len(means))
	for i, m := range means {
		s := stds[i]
		if math.IsNaN(s) {
			s = 0
		}
		vals[i], errs[i], pts[i] = m, struct{ Low, High float64 }{s, s}, plotter.XY{X: float64(i), Y: m}
	}
	b, err := plotter.NewBarChart(vals, vg.Points(24))
	if err != nil {
		return nil, err
	}
	b.LineStyle.Width = vg.Length(0)
	b.Color = plotutil.Color(0)
	p.Add(b)
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{pts, errs})
	if err != nil {
		return nil, err
	}
	p.Add(eb)
	p.NominalX(names...)
	return p, nil
}

// MeanCurve is the mean over curves (one per seed) at each index, over
// the curves long enough to have it; points are numbered from 1.
func MeanCurve(curves [][]float64) plotter.XYs {
	var xy plotter.XYs
	for i := 0; ; i++ {
		var s float64
		n := 0
		for _, c := range curves {
			if i < len(c) {
				s, n = s+c[i], n+1
			}
		}
		if n == 0 {
			return xy
		}
		xy = append(xy, plotter.XY{X: float64(i + 1), Y: s / float64(n)})
	}
}

// Slug makes a name ("burst / edge +6") a file-name part
// ("burst-edge-6"): letters and digits kept, every other run a dash.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
