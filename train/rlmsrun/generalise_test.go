package rlmsrun

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestGeneraliseTable: two topologies, two seeds: 4 baselines per test
// topology, then one RLMS-CPN row per (train, test) pair, every row with
// one mean per seed; the table marks the diagonal (trained where tested).
func TestGeneraliseTable(t *testing.T) {
	ec := testEnvConfig(t)
	tc := DefaultConfig(ec.K, ec.P)
	tc.AC.TotalTimesteps, tc.AC.NumEnvs, tc.Model.Dim, tc.Model.Hidden = 320, 4, 8, 8
	cfg := BenchConfig{Env: ec, Train: tc, Topologies: []string{"abilene", "waxman"}, Seeds: 2, TestSeed0: 50}
	var log bytes.Buffer
	rows, err := Generalise(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*4+2*2 {
		t.Fatalf("%d rows, want 12", len(rows))
	}
	pairs := map[string]bool{}
	for _, r := range rows {
		if len(r.MeanMs) != 2 {
			t.Fatalf("%+v: %d seeds", r, len(r.MeanMs))
		}
		if r.Train != "" {
			pairs[r.Train+">"+r.Test] = true
		}
	}
	if len(pairs) != 4 {
		t.Fatalf("train>test pairs %v", pairs)
	}
	var md bytes.Buffer
	WriteGeneralisation(&md, rows, 2, ec.Tasks)
	out := md.String()
	for _, want := range []string{"| policy | Abilene |", "| RLMS-CPN trained on Abilene | **", "| wf |"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "**") != 4 { // two bold diagonal cells
		t.Errorf("diagonal not marked once per topology:\n%s", out)
	}
}

// TestWriteRegimesKnownRows: per experiment, each policy's mean in both
// regimes and the difference: wf 40 and 42 (seeds 39, 41 and 41, 43) →
// +2.00; a policy only in the paper's rows gets dashes.
func TestWriteRegimesKnownRows(t *testing.T) {
	row := func(p string, ms ...float64) Row {
		return Row{Experiment: "topology", Topology: "Abilene", K: 5, Mix: "mixed", Policy: p, MeanMs: ms}
	}
	paper := []Row{row("wf", 39, 41), row("rlms-cpn", 38, 40)}
	real := []Row{row("wf", 41, 43)}
	var b bytes.Buffer
	WriteRegimes(&b, paper, real, 2, 100)
	out := b.String()
	for _, want := range []string{"### Abilene, K = 5, mixed tasks", "| wf | 40.00 ± 1.41 | 42.00 ± 1.41 | +2.00 |", "| rlms-cpn | 39.00 ± 1.41 | – | – |"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
