package rlmsrun

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// TestCDF: the empirical distribution of (3, 1, 2) as a step line; values
// that are not positive and finite (0, NaN, +Inf) are left out, since the
// axis is logarithmic.
func TestCDF(t *testing.T) {
	got := cdf([]float64{3, 0, 1, math.NaN(), 2, math.Inf(1)})
	want := plotter.XYs{{X: 1, Y: 0}, {X: 1, Y: 1.0 / 3}, {X: 2, Y: 1.0 / 3}, {X: 2, Y: 2.0 / 3}, {X: 3, Y: 2.0 / 3}, {X: 3, Y: 1}}
	if len(got) != len(want) {
		t.Fatalf("cdf %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cdf %v, want %v", got, want)
		}
	}
	if cdf([]float64{0, -1}) != nil {
		t.Fatal("cdf of no positive value is not empty")
	}
}

// TestPlotBars: the bars figure is written for topology experiments only.
func TestPlotBars(t *testing.T) {
	dir := t.TempDir()
	rows := []Row{
		{Experiment: "topology", Topology: "Abilene", Policy: "wf", MeanMs: []float64{40, 42}},
		{Experiment: "topology", Topology: "Ebone", Policy: "wf", MeanMs: []float64{36, 38}},
		{Experiment: "topology", Topology: "Abilene", Policy: "oracle", MeanMs: []float64{39, 40}},
	}
	name := filepath.Join(dir, "b.png")
	ok, err := plotBars(name, rows)
	if err != nil || !ok {
		t.Fatalf("plotBars: %v, %v", ok, err)
	}
	if st, err := os.Stat(name); err != nil || st.Size() < 1000 {
		t.Fatalf("bars file: %v, %v", st, err)
	}
	ok, err = plotBars(filepath.Join(dir, "none.png"), []Row{{Experiment: "k", Topology: "Abilene", Policy: "wf", MeanMs: []float64{1}}})
	if err != nil || ok {
		t.Fatalf("no topology experiment: %v, %v", ok, err)
	}
}
