// Package bench measures the engine for `cpntrain bench engine` and `make
// bench`: the reference MLP 32→64→64→8 (ReLU) as an Adam train step at batch
// 64 and as batch-1 inference, and f32 matmul 256³ — and, when /usr/bin/python3
// has torch, the same three in PyTorch on one thread in the same invocation,
// so the printed ratios compare like with like on the same machine state.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/kernel"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// EngineOptions tunes the engine benchmark.
type EngineOptions struct {
	// Rounds is the number of timed rounds per measurement (median reported).
	Rounds int
	// MinTime is the minimum duration of one round.
	MinTime time.Duration
	// Python is the interpreter for the PyTorch side ("" skips it).
	Python string
	// Script is the path of scripts/bench/engine_torch.py ("" finds it next
	// to the working directory or the executable).
	Script string
}

// DefaultEngineOptions returns 5 rounds of at least 200 ms and
// /usr/bin/python3 for the PyTorch side.
func DefaultEngineOptions() EngineOptions {
	return EngineOptions{Rounds: 5, MinTime: 200 * time.Millisecond, Python: "/usr/bin/python3"}
}

// EngineResult holds the measurements. Torch fields are zero when PyTorch
// was not available; TorchNote says why.
type EngineResult struct {
	Kernel          string  `json:"kernel"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	TrainStepUS     float64 `json:"train_step_us"`
	InferUS         float64 `json:"infer_us"`
	InferAllocs     float64 `json:"infer_allocs"`
	Matmul256GFLOPS float64 `json:"matmul256_gflops"`

	TorchVersion         string  `json:"torch_version,omitempty"`
	TorchTrainStepUS     float64 `json:"torch_train_step_us,omitempty"`
	TorchInferUS         float64 `json:"torch_infer_us,omitempty"`
	TorchMatmul256GFLOPS float64 `json:"torch_matmul256_gflops,omitempty"`
	TorchNote            string  `json:"torch_note,omitempty"`
}

// medianUS runs fn in Rounds rounds of at least MinTime and returns the
// median time per call in microseconds.
func medianUS(o EngineOptions, fn func()) float64 {
	for i := 0; i < 50; i++ {
		fn()
	}
	res := make([]float64, 0, o.Rounds)
	for r := 0; r < o.Rounds; r++ {
		n := 0
		start := time.Now()
		var el time.Duration
		for {
			fn()
			n++
			if el = time.Since(start); el >= o.MinTime {
				break
			}
		}
		res = append(res, float64(el.Nanoseconds())/float64(n)/1e3)
	}
	sort.Float64s(res)
	return res[len(res)/2]
}

// Engine runs the benchmark. Progress notes go to log (may be nil).
func Engine(ctx context.Context, o EngineOptions, log io.Writer) (EngineResult, error) {
	if o.Rounds <= 0 || o.MinTime <= 0 {
		return EngineResult{}, fmt.Errorf("bench: rounds and min time must be positive")
	}
	if log == nil {
		log = io.Discard
	}
	res := EngineResult{Kernel: kernel.Active.Name(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	rng := rand.New(rand.NewPCG(0, 0))
	m := mlp.New(mlp.Config{Sizes: []int{32, 64, 64, 8}, Act: nn.ReLU}, rng)
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	x := nn.New(64, 32)
	y := nn.New(64, 8)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	for i := range y.Data {
		y.Data[i] = float32(rng.NormFloat64())
	}
	tp := nn.NewTape()
	fmt.Fprintln(log, "timing cpntrain train step (MLP 32→64→64→8, batch 64, Adam)…")
	res.TrainStepUS = medianUS(o, func() {
		tp.Reset()
		tp.Backward(tp.MSE(m.Forward(tp, x), y))
		opt.Step()
	})
	inf := nn.NewInference()
	x1 := make([]float32, 32)
	for i := range x1 {
		x1[i] = float32(rng.NormFloat64())
	}
	infer := func() {
		inf.Reset()
		m.Forward(inf, inf.Const(1, 32, x1))
	}
	fmt.Fprintln(log, "timing cpntrain batch-1 inference…")
	res.InferUS = medianUS(o, infer)
	res.InferAllocs = allocsPerRun(200, infer)
	a := make([]float32, 256*256)
	b := make([]float32, 256*256)
	c := make([]float32, 256*256)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
		b[i] = float32(rng.NormFloat64())
	}
	fmt.Fprintln(log, "timing f32 matmul 256³…")
	mmUS := medianUS(o, func() { kernel.Active.MatMul(c, a, b, 256, 256, 256, false, false, false) })
	res.Matmul256GFLOPS = 2 * 256 * 256 * 256 / (mmUS * 1e3)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if o.Python == "" {
		res.TorchNote = "PyTorch side skipped"
		return res, nil
	}
	fmt.Fprintln(log, "timing PyTorch (one thread)…")
	torchSide(ctx, o, &res)
	return res, nil
}

func allocsPerRun(runs int, f func()) float64 {
	var before, after runtime.MemStats
	f()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs)
}

func findScript(o EngineOptions) string {
	if o.Script != "" {
		return o.Script
	}
	cands := []string{filepath.Join("scripts", "bench", "engine_torch.py")}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, filepath.Join(d, "scripts", "bench", "engine_torch.py"),
			filepath.Join(d, "..", "scripts", "bench", "engine_torch.py"))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

func torchSide(ctx context.Context, o EngineOptions, res *EngineResult) {
	if _, err := os.Stat(o.Python); err != nil {
		res.TorchNote = fmt.Sprintf("no %s: install python3-torch to compare", o.Python)
		return
	}
	script := findScript(o)
	if script == "" {
		res.TorchNote = "scripts/bench/engine_torch.py not found (run from the repository root)"
		return
	}
	args := []string{script}
	if o.MinTime < 100*time.Millisecond {
		args = append(args, "--quick")
	}
	cmd := exec.CommandContext(ctx, o.Python, args...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if bytes.Contains(stderr.Bytes(), []byte("No module named 'torch'")) {
			msg = "torch is not installed (apt-get install -y python3-torch)"
		}
		res.TorchNote = fmt.Sprintf("PyTorch side failed: %v %s", err, msg)
		return
	}
	var t struct {
		Version string  `json:"torch_version"`
		Train   float64 `json:"train_step_us"`
		Infer   float64 `json:"infer_us"`
		MM      float64 `json:"matmul256_gflops"`
	}
	if err := json.Unmarshal(out, &t); err != nil {
		res.TorchNote = fmt.Sprintf("PyTorch side printed unreadable output: %v", err)
		return
	}
	res.TorchVersion, res.TorchTrainStepUS, res.TorchInferUS, res.TorchMatmul256GFLOPS = t.Version, t.Train, t.Infer, t.MM
}

// Markdown writes the result as a table with goals and ratios.
func (r EngineResult) Markdown(w io.Writer) {
	fmt.Fprintf(w, "cpntrain engine benchmark — kernel %s, GOMAXPROCS %d, %s/%s\n\n", r.Kernel, r.GOMAXPROCS, runtime.GOOS, runtime.GOARCH)
	torch := r.TorchTrainStepUS > 0
	if torch {
		fmt.Fprintf(w, "| measurement | cpntrain | PyTorch %s (1 thread) | speed-up | goal |\n|---|---|---|---|---|\n", r.TorchVersion)
		fmt.Fprintf(w, "| MLP 32→64→64→8 Adam train step, batch 64 | %.1f µs | %.1f µs | %.1fx | ≥ 4x |\n", r.TrainStepUS, r.TorchTrainStepUS, r.TorchTrainStepUS/r.TrainStepUS)
		fmt.Fprintf(w, "| MLP inference, batch 1 | %.2f µs (%.0f allocs) | %.1f µs | %.1fx | ≥ 15x |\n", r.InferUS, r.InferAllocs, r.TorchInferUS, r.TorchInferUS/r.InferUS)
		fmt.Fprintf(w, "| f32 matmul 256³ | %.1f GFLOP/s | %.1f GFLOP/s | %.1fx | ≥ 60 GFLOP/s |\n", r.Matmul256GFLOPS, r.TorchMatmul256GFLOPS, r.Matmul256GFLOPS/r.TorchMatmul256GFLOPS)
		return
	}
	fmt.Fprintf(w, "| measurement | cpntrain | goal |\n|---|---|---|\n")
	fmt.Fprintf(w, "| MLP 32→64→64→8 Adam train step, batch 64 | %.1f µs | ≤ 101 µs (4x PyTorch's 403 µs) |\n", r.TrainStepUS)
	fmt.Fprintf(w, "| MLP inference, batch 1 | %.2f µs (%.0f allocs) | ≤ 1.7 µs (15x PyTorch's 25 µs) |\n", r.InferUS, r.InferAllocs)
	fmt.Fprintf(w, "| f32 matmul 256³ | %.1f GFLOP/s | ≥ 60 GFLOP/s |\n", r.Matmul256GFLOPS)
	if r.TorchNote != "" {
		fmt.Fprintf(w, "\nPyTorch not measured: %s\n", r.TorchNote)
	}
}
