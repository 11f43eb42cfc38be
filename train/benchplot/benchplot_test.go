package benchplot

import (
	"fmt"
	"math"
	"testing"
)

// TestMeanCurve: seeds of lengths 3 and 1: (1+3)/2, then 2, then 4 alone.
func TestMeanCurve(t *testing.T) {
	got := fmt.Sprint(MeanCurve([][]float64{{1, 2, 4}, {3}}))
	if want := "[{1 2} {2 2} {3 4}]"; got != want {
		t.Errorf("MeanCurve = %s, want %s", got, want)
	}
	if len(MeanCurve(nil)) != 0 {
		t.Error("no curves, yet points")
	}
}

// TestSlug: runs of other characters become one dash, none at the ends.
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"burst / edge +6": "burst-edge-6", " wf (α=-1)": "wf-α-1", "fair": "fair", "": ""} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBars: a NaN deviation (one run) draws no error bar instead of
// failing; mismatched lengths are the caller's bug.
func TestBars(t *testing.T) {
	p, err := Bars("t", "s", []string{"a", "b"}, []float64{1, 2}, []float64{0.5, math.NaN()})
	if err != nil || p == nil {
		t.Fatalf("Bars: %v", err)
	}
}
