package topology

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestReadTMTiny(t *testing.T) {
	in := "1 2 3 4\n5.5e1\t6 7 8  \r\n\n\n"
	tm, err := ReadTM(strings.NewReader(in), "tm")
	if err != nil {
		t.Fatal(err)
	}
	if tm.N != 2 || tm.Len() != 2 || tm.Unit != 1 || tm.Name != "tm" ||
		!slices.Equal(tm.M[0], []float64{1, 2, 3, 4}) || !slices.Equal(tm.M[1], []float64{55, 6, 7, 8}) {
		t.Fatalf("%+v", tm)
	}
	tm.Unit = 2
	d := tm.Demands(1)
	if !slices.Equal(d[0], []float64{0, 12}) || !slices.Equal(d[1], []float64{14, 0}) {
		t.Errorf("Demands(1) = %v", d)
	}
}

func TestReadTMErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "topology: f: no traffic matrix"},
		{"blank only", "\n \n", "topology: f: no traffic matrix"},
		{"not square", "1 2 3\n", "topology: f:1: 3 values is not N×N for an N in [1, 1024]"},
		{"short line", "1 2 3 4\n1 2 3\n", "topology: f:2: 3 values, want 4 (2×2)"},
		{"long line", "1 2 3 4\n1 2 3 4 5\n", "topology: f:2: more than 4 values (2×2)"},
		{"not a number", "1 2 x 4\n", `topology: f:1: value 3 "x" is not a number`},
		{"NaN", "1\n2\nNaN\n", `topology: f:3: value 1 "NaN" is not finite and non-negative`},
		{"negative", "1 2 3 -4\n", `topology: f:1: value 4 "-4" is not finite and non-negative`},
		{"infinite", "1 2 3 Inf\n", `topology: f:1: value 4 "Inf" is not finite and non-negative`},
		{"blank inside", "1\n\n2\n", "topology: f:2: blank line inside the matrices"},
		{"too long a line", strings.Repeat("1 ", maxTMLine), "topology: f:1: line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := ReadTM(strings.NewReader(tc.in), "f")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, %v\nwant error starting %q", tm, err, tc.want)
			}
		})
	}
}

func TestAbileneTM(t *testing.T) {
	tm, err := LoadAbileneTM(dataRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if tm.N != 12 || tm.Len() != 2016 || tm.Unit != AbileneTMUnit {
		t.Fatalf("N = %d, %d matrices, unit %v", tm.N, tm.Len(), tm.Unit)
	}
	for i, m := range tm.M {
		if len(m) != 144 {
			t.Fatalf("matrix %d has %d values", i, len(m))
		}
	}
	// The first value of the file, 1.0000000e+04, is the diagonal (0,0).
	if tm.M[0][0] != 1e4 {
		t.Errorf("M[0][0] = %v", tm.M[0][0])
	}
	// Total offered traffic: plausible for Abilene in 2004 (a few Gbit/s
	// across the 132 pairs); CFR-RL's kbit/s is value × 8/3 / 1000.
	var totals []float64
	for k := range tm.Len() {
		s := 0.0
		for _, row := range tm.Demands(k) {
			for _, v := range row {
				s += v
			}
		}
		totals = append(totals, s)
	}
	med := median(totals)
	t.Logf("total demand: median %.2f Gbit/s, range %.2f–%.2f", med/1e9, slices.Min(totals)/1e9, slices.Max(totals)/1e9)
	if med < 0.5e9 || med > 20e9 {
		t.Errorf("median total demand %v bit/s", med)
	}
	if d := tm.Demands(0); d[0][0] != 0 || math.Abs(d[0][1]-1.958280e5*8/3) > 1e-6 {
		t.Errorf("Demands(0)[0][:2] = %v", d[0][:2])
	}
}
