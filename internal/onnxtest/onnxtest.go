// Package onnxtest runs exported ONNX models in ONNX Runtime (the npm
// package onnxruntime-node under scripts/onnx, run by node; `make
// setup-onnx` installs it) and through ONNX's checker (Debian
// python3-onnx), for the exporters' tests. Without ONNX Runtime the tests
// that need it skip, unless CPNTRAIN_REQUIRE_ORT=1 (set by .ci/run, which
// installs it): then they fail, so CI cannot pass without the
// cross-check. The checker is optional.
package onnxtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Input is one model input: type "float32", "int64" or "bool".
type Input struct {
	Type string    `json:"type"`
	Dims []int64   `json:"dims"`
	Data []float64 `json:"data"`
}

// F32 is a float32 input.
func F32(dims []int64, data []float32) Input {
	d := make([]float64, len(data))
	for i, v := range data {
		d[i] = float64(v)
	}
	return Input{Type: "float32", Dims: dims, Data: d}
}

// I64 is an int64 vector input.
func I64(v []int64) Input {
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(x)
	}
	return Input{Type: "int64", Dims: []int64{int64(len(v))}, Data: d}
}

// Ints is an int64 vector input from ints.
func Ints(v []int) Input {
	d := make([]int64, len(v))
	for i, x := range v {
		d[i] = int64(x)
	}
	return I64(d)
}

// F32Vec is a float32 vector input.
func F32Vec(v []float32) Input { return F32([]int64{int64(len(v))}, v) }

// Output is one output of a run.
type Output struct {
	Dims []int64 `json:"dims"`
	Data Values  `json:"data"`
}

// Values are an output's elements; NaN and ±Inf, which JSON cannot hold,
// come from run.js as the strings "NaN", "Infinity" and "-Infinity".
type Values []float64

// UnmarshalJSON implements json.Unmarshaler.
func (v *Values) UnmarshalJSON(b []byte) error {
	var raw []any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]float64, len(raw))
	for i, x := range raw {
		switch x := x.(type) {
		case float64:
			out[i] = x
		case string:
			switch x {
			case "Infinity":
				out[i] = math.Inf(1)
			case "-Infinity":
				out[i] = math.Inf(-1)
			default:
				out[i] = math.NaN()
			}
		default:
			return fmt.Errorf("onnxtest: output element %v", x)
		}
	}
	*v = out
	return nil
}

// scriptsDir is scripts/onnx in this module.
func scriptsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "onnx")
}

// unavailable skips t (or fails it under CPNTRAIN_REQUIRE_ORT=1).
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CPNTRAIN_REQUIRE_ORT") == "1" {
		t.Fatalf("%s (CPNTRAIN_REQUIRE_ORT=1)", msg)
	}
	t.Skip(msg)
}

// Run runs the model file in ONNX Runtime on the inputs and returns its
// outputs by name.
func Run(t testing.TB, model string, in map[string]Input) map[string]Output {
	t.Helper()
	dir := scriptsDir()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed: the ONNX Runtime cross-check needs it")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		unavailable(t, "onnxruntime-node is not installed: run 'cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci'")
	}
	req, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "run.js"), model)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ONNX Runtime on %s: %v: %s", model, err, stderr.String())
	}
	var out map[string]Output
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("ONNX Runtime output: %v: %.200s", err, stdout.String())
	}
	return out
}

// Check runs onnx.checker.check_model(full_check=True) on the model file.
// Without python3-onnx it logs that and returns (an optional check, like
// the PyTorch ones; ONNX Runtime loading the file is the required one).
func Check(t testing.TB, model string) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Logf("ONNX's checker skipped: python3-onnx is not installed (apt-get install python3-onnx)")
		return
	}
	out, err := exec.Command(py, "-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", model).CombinedOutput()
	if err != nil {
		t.Fatalf("ONNX checker on %s: %v\n%s", model, err, out)
	}
}

// Close reports the largest relative difference between got and want and
// fails t if it exceeds tol. The difference of value i is |g − w| /
// max(|w|, 10⁻²·max_j |w_j|): relative, except that values a hundred
// times smaller than the output's largest (where float32 cancellation
// dominates, e.g. near a clamp at 0) are compared at that scale.
func Close(t testing.TB, what string, got []float64, want []float32, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	floor := math.Max(1e-2*scale, 1e-30)
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i]-float64(want[i])) / math.Max(floor, math.Abs(float64(want[i])))
		if !(d <= tol) { // NaN fails too
			t.Fatalf("%s: value %d: got %v, want %v (relative difference %.3g > %g)", what, i, got[i], want[i], d, tol)
		}
		worst = math.Max(worst, d)
	}
	return worst
}
