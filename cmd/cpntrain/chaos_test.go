package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/train/runlog"
)

// childEnv makes the test binary act as cpntrain (see TestMain): the
// chaos test runs real processes it can signal and kill.
const childEnv = "CPNTRAIN_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Args = argv
		main()
	}
	// The controller sees the measured compute latencies in these tests
	// unless a test says otherwise: the default (TSFT from 50 shots)
	// pretrains 12 base models into the empty test cache, minutes per run.
	// TestTSFTShotsDefault checks the default itself.
	os.Setenv(tsftShotsEnv, "0")
	// No test downloads from the internet: TestFirstRunFetches turns the
	// automatic download back on against a local server.
	os.Setenv(noFetchEnv, "1")
	_, err := os.Stat("runs")
	before := err == nil
	code := m.Run()
	// A test that ran a command without --out wrote runs/ into the source
	// tree: make that a failure.
	if _, err := os.Stat("runs"); err == nil && !before {
		fmt.Fprintln(os.Stderr, "a test left a runs/ folder in cmd/cpntrain: give it --out t.TempDir()")
		os.RemoveAll("runs")
		code = 1
	}
	os.Exit(code)
}

// startChild starts cpntrain with args in a child process.
func startChild(t *testing.T, args []string, stderr *bytes.Buffer) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(append([]string{"cpntrain"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// chaosCase is one training command under test: args without --out;
// "{cache}" in args and model stands for a folder of the sequence's own
// (a model cache that must start empty).
type chaosCase struct {
	name  string
	args  []string
	model string // the file compared with the uninterrupted run's (relative to the run folder, or under {cache})
}

// expand replaces {cache} by cache in args.
func expand(args []string, cache string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "{cache}", cache)
	}
	return out
}

// readModel reads the case's model file of a run folder (a glob pattern).
func readModel(t *testing.T, c chaosCase, dir, cache string) []byte {
	t.Helper()
	pattern := strings.ReplaceAll(c.model, "{cache}", cache)
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(dir, pattern)
	}
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s: %d files match %s", c.name, len(m), pattern)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChaos: every training command, started and interrupted at random
// points by SIGKILL, SIGINT or SIGTERM (several seeds), then resumed until
// it finishes, ends with the model bytes of an uninterrupted run and a
// metrics.jsonl that parses completely with the same steps, each once.
// CHAOS_INTERRUPTIONS (default 20) sets the interruptions per command.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many processes")
	}
	root := dataRoot(t)
	want := 20
	if v := os.Getenv("CHAOS_INTERRUPTIONS"); v != "" {
		fmt.Sscan(v, &want)
	}
	cases := []chaosCase{
		{"rlms-train", []string{"--quiet", "--data-dir", root, "rlms", "train", "--steps", "4800", "--envs", "4", "--dim", "8", "--tasks", "20",
			"--checkpoint-every", "5", "--eval-seeds", "0"}, "model.safetensors"},
		{"rlms-train-ppo", []string{"--quiet", "--data-dir", root, "rlms", "train", "--algo", "ppo", "--steps", "4096", "--envs", "4", "--nsteps", "16",
			"--dim", "8", "--tasks", "20", "--checkpoint-every", "3", "--eval-seeds", "0"}, "model.safetensors"},
		{"rl-smoke-ppo", []string{"--quiet", "rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--steps", "40960", "--checkpoint-every", "4"}, "train-state.safetensors"},
		{"rl-smoke-dqn", []string{"--quiet", "rl", "smoke", "--algo", "dqn", "--env", "chain", "--steps", "12000", "--checkpoint-every", "2"}, "train-state.safetensors"},
		{"offload-train", []string{"--quiet", "offload", "train", "--devices", "6", "--steps", "1500", "--checkpoint-every", "200", "--eval-sets", "0"},
			"model.safetensors"},
		// Two epochs: the pretraining state of epoch 1 is a resume point.
		{"tsft-pretrain", []string{"--quiet", "--data-dir", root, "tsft", "pretrain", "--epochs", "2", "--gnn-dim", "0", "--cache", "{cache}"},
			"{cache}/tsft-base-*.safetensors"},
		{"tsft-adapt", []string{"--quiet", "--data-dir", root, "tsft", "--device", "fpga", "--shots", "20", "--pseudo", "200", "--epochs", "2",
			"--gnn-dim", "0", "--cache", "{cache}"}, "tsft-fpga.safetensors"},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref, refCache := filepath.Join(t.TempDir(), "ref"), t.TempDir()
			var se bytes.Buffer
			start := time.Now()
			cmd := startChild(t, append([]string{"--out", ref}, expand(c.args, refCache)...), &se)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, se.String())
			}
			dur := time.Since(start)
			refModel := readModel(t, c, ref, refCache)
			refRecs := metricRecords(t, ref)
			rng := rand.New(rand.NewPCG(uint64(ci), 17))
			signals := []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM}
			hits, bySignal := 0, map[syscall.Signal]int{}
			for seed := 0; hits < want; seed++ {
				dir, cache := filepath.Join(t.TempDir(), fmt.Sprintf("run%d", seed)), t.TempDir()
				var history []string // what happened to each attempt, for the failure message
				for attempt := 0; ; attempt++ {
					var se bytes.Buffer
					cmd := startChild(t, append([]string{"--out", dir}, expand(c.args, cache)...), &se)
					done := make(chan error, 1)
					go func() { done <- cmd.Wait() }()
					start := time.Now()
					var sig syscall.Signal
					if attempt < 3 && hits < want {
						sig = signals[rng.IntN(len(signals))]
					}
					var err error
					if sig != 0 {
						select {
						case err = <-done: // finished before the signal
						case <-time.After(time.Duration(rng.Float64() * float64(dur))):
							cmd.Process.Signal(sig)
							err = <-done
							history = append(history, fmt.Sprintf("%v after %.2f s: exit %d, checkpoint %s",
								sig, time.Since(start).Seconds(), cmd.ProcessState.ExitCode(), checkpointSummary(dir)))
							hits++
							bySignal[sig]++
							checkInterrupted(t, dir, sig, cmd, err, se.String())
						}
					} else {
						err = <-done
					}
					if sig == 0 || cmd.ProcessState.ExitCode() == 0 {
						if err != nil {
							t.Fatalf("seed %d: the resumed run failed: %v\n%s", seed, err, se.String())
						}
						break
					}
				}
				if got := readModel(t, c, dir, cache); !bytes.Equal(got, refModel) {
					keep := keepForDiagnosis(t, dir, ref)
					t.Fatalf("seed %d: %s differs from the uninterrupted run's; interruptions: %s%s",
						seed, c.model, strings.Join(history, "; "), keep)
				}
				if recs := metricRecords(t, dir); !slices.Equal(recs, refRecs) {
					i := 0
					for i < min(len(recs), len(refRecs)) && recs[i] == refRecs[i] {
						i++
					}
					t.Fatalf("seed %d: %d metrics records, uninterrupted %d; first difference at record %d: %s | %s",
						seed, len(recs), len(refRecs), i, head(recs[i:]), head(refRecs[i:]))
				}
			}
			t.Logf("%d interruptions (%d SIGKILL, %d SIGINT, %d SIGTERM); every resumed run matched (uninterrupted run %.1f s)",
				hits, bySignal[syscall.SIGKILL], bySignal[syscall.SIGINT], bySignal[syscall.SIGTERM], dur.Seconds())
		})
	}
}

// checkpointSummary names the training checkpoints in dir with their
// sizes (a failure message's clue to where an interruption landed).
func checkpointSummary(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil {
			parts = append(parts, fmt.Sprintf("%s %d B", filepath.Base(f), fi.Size()))
		}
	}
	return strings.Join(parts, ", ")
}

// keepForDiagnosis copies a failing run folder and the reference next to
// CHAOS_KEEP (when set) and says where.
func keepForDiagnosis(t *testing.T, dir, ref string) string {
	keep := os.Getenv("CHAOS_KEEP")
	if keep == "" {
		return " (set CHAOS_KEEP=DIR to keep the folders)"
	}
	for _, d := range []string{dir, ref} {
		if out, err := exec.Command("cp", "-r", d, filepath.Join(keep, filepath.Base(d))).CombinedOutput(); err != nil {
			t.Logf("keeping %s: %v %s", d, err, out)
		}
	}
	return " (kept in " + keep + ")"
}

// checkInterrupted: after SIGINT or SIGTERM the process exits 130 or 143
// and run.json says interrupted (if the run had started).
func checkInterrupted(t *testing.T, dir string, sig syscall.Signal, cmd *exec.Cmd, err error, stderr string) {
	t.Helper()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); sig == syscall.SIGKILL || cmd.ProcessState.ExitCode() == 0 || ok && ws.Signaled() {
		return // killed, finished first, or signalled before the handler was installed
	}
	if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
		t.Errorf("%v: exit %d (%v), want %d\n%s", sig, code, err, 128+int(sig), stderr)
	}
	var st runlog.Status
	b, rerr := os.ReadFile(filepath.Join(dir, runlog.StatusFile))
	if errors.Is(rerr, os.ErrNotExist) {
		return // interrupted before the run folder existed
	}
	if json.Unmarshal(b, &st) != nil || st.State != runlog.StateInterrupted {
		t.Errorf("%v: run.json %s, want state interrupted\n%s", sig, b, stderr)
	}
}

// metricRecords reads dir's metrics.jsonl (every line must parse) and
// returns its records as text (step, then the tags and values in order;
// timings such as charts/SPS and time/… left out), for comparing runs record by
// record: none lost, none doubled.
func metricRecords(t *testing.T, dir string) []string {
	t.Helper()
	recs, err := runlog.ReadMetrics(filepath.Join(dir, runlog.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		var tags []string
		for k := range r.Values {
			if !strings.Contains(k, "SPS") && !strings.HasPrefix(k, "time/") {
				tags = append(tags, k)
			}
		}
		slices.Sort(tags)
		line := fmt.Sprint(r.Step)
		for _, k := range tags {
			line += fmt.Sprintf(" %s=%v", k, r.Values[k])
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no metrics", dir)
	}
	return out
}

func head(s []string) string {
	if len(s) > 3 {
		s = s[:3]
	}
	return strings.Join(s, "; ")
}

// TestConcurrentStart: a second training process started on a run folder
// in use exits 1 at once, naming the first's process id, and leaves the
// run alone; the first, interrupted, records itself.
func TestConcurrentStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	root := dataRoot(t)
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"--quiet", "--data-dir", root, "--out", dir, "rlms", "train", "--steps", "400000", "--envs", "4", "--dim", "8", "--eval-seeds", "0"}
	var seA bytes.Buffer
	a := startChild(t, args, &seA)
	defer a.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st runlog.Status
		if b, err := os.ReadFile(filepath.Join(dir, runlog.StatusFile)); err == nil && json.Unmarshal(b, &st) == nil && st.State == runlog.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run did not start: %s", seA.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var seB bytes.Buffer
	b := startChild(t, args, &seB)
	err := b.Wait()
	want := fmt.Sprintf("is in use by process %d", a.Process.Pid)
	if b.ProcessState.ExitCode() != exitFail || !strings.Contains(seB.String(), want) {
		t.Fatalf("second start: %v, stderr %q; want exit 1 with %q", err, seB.String(), want)
	}
	a.Process.Signal(syscall.SIGINT)
	a.Wait()
	var st runlog.Status
	if b, err := os.ReadFile(filepath.Join(dir, runlog.StatusFile)); err != nil || json.Unmarshal(b, &st) != nil ||
		st.State != runlog.StateInterrupted || st.PID != a.Process.Pid || st.Sessions != 1 {
		t.Errorf("run.json after the first run's interruption: %+v (%v)", st, err)
	}
}
