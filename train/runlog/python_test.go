package runlog

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"testing"
)

// pyEvent is one event as testdata/read_tfevents.py prints it.
type pyEvent struct {
	WallTime    float64 `json:"wall_time"`
	Step        int64   `json:"step,string"`
	FileVersion string  `json:"file_version"`
	Values      []struct {
		Tag         string `json:"tag"`
		SimpleValue any    `json:"simple_value"`
	} `json:"values"`
}

// TestPythonReadsEventFile has an independent reader, python protobuf with
// Debian's python3-protobuf and python3-crc32c, decode a file written by a
// Run. It is skipped when python3 or those packages are missing.
func TestPythonReadsEventFile(t *testing.T) {
	t.Parallel()
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		p, err := exec.LookPath("python3")
		if err != nil {
			t.Skip("python3 not found")
		}
		python = p
	}

	r, err := Create(t.TempDir(), Options{Now: newClock().now})
	if err != nil {
		t.Fatal(err)
	}
	r.Scalars(0, map[string]float64{"charts/SPS": 1510, "losses/value_loss": 0.031})
	r.Scalar("losses/approx_kl", 1<<40, -1.5e-7)
	r.Scalar("charts/episodic_return", 1<<40+1, math.NaN())
	r.Scalar("weird tag/ü", -3, math.Inf(-1))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want, err := ReadEvents(r.EventsPath())
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(python, "testdata/read_tfevents.py", r.EventsPath())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		t.Skip("python3-protobuf or python3-crc32c not installed")
	}
	if err != nil {
		t.Fatalf("read_tfevents.py: %v", err)
	}
	var got []pyEvent
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding python output %s: %v", out, err)
	}
	if len(got) != len(want) {
		t.Fatalf("python read %d events, Go %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.WallTime != w.WallTime || g.Step != w.Step || g.FileVersion != w.FileVersion || len(g.Values) != len(w.Values) {
			t.Errorf("event %d: python %+v, Go %+v", i, g, w)
			continue
		}
		for j, wv := range w.Values {
			gv := g.Values[j]
			if gv.Tag != wv.Tag || !sameJSONFloat(gv.SimpleValue, wv.SimpleValue) {
				t.Errorf("event %d value %d: python %v=%v, Go %v=%v", i, j, gv.Tag, gv.SimpleValue, wv.Tag, wv.SimpleValue)
			}
		}
	}
}

func sameJSONFloat(py any, v float32) bool {
	switch x := py.(type) {
	case float64:
		return x == float64(v)
	case string:
		return (x == "NaN" && math.IsNaN(float64(v))) ||
			(x == "Inf" && math.IsInf(float64(v), 1)) ||
			(x == "-Inf" && math.IsInf(float64(v), -1))
	}
	return false
}
