package settings

import (
	"math"
	"testing"
)

func TestChecks(t *testing.T) {
	cases := []struct {
		f    *Fields
		want string
	}{
		{AtLeast(New("pg"), "NumEnvs", 1, 1), ""},
		{AtLeast(New("pg"), "NumEnvs", 0, 1), "pg: NumEnvs 0 < 1"},
		{AtLeast(New("ac"), "Steps", int64(-1), 0), "ac: Steps -1 < 0"},
		{New("ac").NonNeg("LR", 0), ""},
		{New("ac").NonNeg("LR", -1e-9), "ac: LR -1e-09 must be finite and ≥ 0"},
		{New("ac").NonNeg("LR", math.NaN()), "ac: LR NaN must be finite and ≥ 0"},
		{New("ac").NonNeg("LR", math.Inf(1)), "ac: LR +Inf must be finite and ≥ 0"},
		{New("ac").Unit("Gamma", 0).Unit("Gamma", 1), ""},
		{New("ac").Unit("Gamma", 1.0000001), "ac: Gamma 1.0000001 outside [0,1]"},
		{New("ac").Unit("Gamma", math.NaN()), "ac: Gamma NaN outside [0,1]"},
		{New("ac").Unit("A", -1).Unit("B", 2), "ac: A -1 outside [0,1]"}, // the first failure is kept
	}
	for i, c := range cases {
		got := ""
		if err := c.f.Err(); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}
