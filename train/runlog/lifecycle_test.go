package runlog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type settings struct {
	Seed  int     `json:"seed"`
	LR    float64 `json:"lr"`
	Model struct {
		Dim int `json:"dim"`
	} `json:"model"`
}

func checkpointAt(step int64) func() (int64, bool, error) {
	return func() (int64, bool, error) { return step, step >= 0, nil }
}

func status(t *testing.T, dir string) Status {
	t.Helper()
	var s Status
	if ok, err := readJSON(filepath.Join(dir, StatusFile), &s); !ok || err != nil {
		t.Fatalf("run.json: %v %v", ok, err)
	}
	return s
}

// TestLockExcludesASecondWriter: a second Start on a folder in use fails
// with an InUseError naming this process; after End the folder is free.
func TestLockExcludesASecondWriter(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(dir, StartOptions{Settings: settings{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(dir, StartOptions{Settings: settings{Seed: 1}, Checkpoint: checkpointAt(-1)})
	var iu *InUseError
	if !errors.As(err, &iu) || iu.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("in use by process %d", os.Getpid())) {
		t.Fatalf("second start: %v, want in use by this process", err)
	}
	if err := s.End(nil); err != nil {
		t.Fatal(err)
	}
	if st := status(t, dir); st.State != StateFinished || st.PID != os.Getpid() || st.Sessions != 1 {
		t.Errorf("status %+v, want finished by this process, 1 session", st)
	}
	// Finished, no checkpoint: refused, then forced afresh.
	if _, err := Start(dir, StartOptions{Settings: settings{Seed: 1}}); !errors.As(err, new(*FinishedError)) {
		t.Fatalf("start over a finished run: %v", err)
	}
	s, err = Start(dir, StartOptions{Settings: settings{Seed: 1}, Force: true})
	if err != nil || !s.Cleared {
		t.Fatalf("forced start: %v (cleared %v)", err, s != nil && s.Cleared)
	}
	s.End(nil)
}

// TestResumeCutsBackToTheCheckpoint: a run killed after logging steps 1–9
// (step 9's line half-written, as a kill leaves it) and checkpointed at
// step 6 resumes with metrics.jsonl and the event file holding steps 1–6
// exactly once; the resumed session then logs 7–10: every step once, and
// every line parses.
func TestResumeCutsBackToTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	st := settings{Seed: 3, LR: 0.01}
	s, err := Start(dir, StartOptions{Settings: st, Checkpoint: checkpointAt(-1), Config: st})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 8; step++ {
		s.Scalar("loss", step, float64(step))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// The kill: no End; a half line; the lock released by the kernel.
	f, _ := os.OpenFile(s.MetricsPath(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":9,"wall_ti`)
	f.Close()
	s.lock.Close()

	s, err = Start(dir, StartOptions{Settings: st, Checkpoint: checkpointAt(6)})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Resumed || s.ResumeStep != 6 || s.Dropped != 2+1+2 { // metrics 7, 8, half 9; events 7, 8
		t.Errorf("resumed %v at %d, dropped %d; want true, 6, 5", s.Resumed, s.ResumeStep, s.Dropped)
	}
	for step := int64(7); step <= 10; step++ {
		s.Scalar("loss", step, float64(step))
	}
	if err := s.End(nil); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for _, r := range recs {
		steps = append(steps, r.Step)
	}
	if fmt.Sprint(steps) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Errorf("metrics steps %v, want 1…10 once each", steps)
	}
	files, _ := filepath.Glob(filepath.Join(dir, EventFilePrefix+"*"))
	count := map[int64]int{}
	for _, path := range files {
		evs, err := ReadEvents(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if len(e.Values) > 0 {
				count[e.Step]++
			}
		}
	}
	for step := int64(1); step <= 10; step++ {
		if count[step] != 1 {
			t.Errorf("step %d in %d events, want 1 (files %d)", step, count[step], len(files))
		}
	}
	if st := status(t, dir); st.State != StateFinished || st.Sessions != 2 || st.ResumedAt != 6 {
		t.Errorf("status %+v", st)
	}
}

// TestResumeRefusesChangedSettings: each changed field is named; --force
// resumes and records the new settings.
func TestResumeRefusesChangedSettings(t *testing.T) {
	dir := t.TempDir()
	old := settings{Seed: 1, LR: 0.003}
	old.Model.Dim = 32
	s, err := Start(dir, StartOptions{Settings: old, Checkpoint: checkpointAt(-1)})
	if err != nil {
		t.Fatal(err)
	}
	s.End(nil)
	changed := settings{Seed: 9, LR: 0.1}
	changed.Model.Dim = 32
	_, err = Start(dir, StartOptions{Settings: changed, Checkpoint: checkpointAt(100)})
	var se *SettingsError
	if !errors.As(err, &se) {
		t.Fatalf("changed settings: %v", err)
	}
	if got := fmt.Sprint(se.Diffs); got != "[{lr 0.003 0.1} {seed 1 9}]" {
		t.Errorf("diffs %s", got)
	}
	if !strings.Contains(err.Error(), "seed: 1 (run) → 9 (now)") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("message %q", err)
	}
	s, err = Start(dir, StartOptions{Settings: changed, Checkpoint: checkpointAt(100), Force: true})
	if err != nil {
		t.Fatal(err)
	}
	s.End(nil)
	if d := DiffSettings(status(t, dir).Settings, []byte(`{"seed":9,"lr":0.1,"model":{"dim":32}}`)); len(d) != 0 {
		t.Errorf("recorded settings differ from the forced ones: %v", d)
	}
}

// TestFailedStartIsReusable: a folder left by a session that failed
// before any checkpoint starts afresh; End records how sessions end.
func TestFailedStartIsReusable(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(dir, StartOptions{Settings: settings{}, Checkpoint: checkpointAt(-1), Config: map[string]int{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	s.Scalar("x", 1, 1)
	if err := s.End(errors.New("no data")); err == nil || err.Error() != "no data" {
		t.Fatalf("End returned %v", err)
	}
	if st := status(t, dir); st.State != StateFailed || st.Message != "no data" {
		t.Errorf("status %+v, want failed: no data", st)
	}
	s, err = Start(dir, StartOptions{Settings: settings{Seed: 2}, Checkpoint: checkpointAt(-1)})
	if err != nil || !s.Cleared {
		t.Fatalf("retry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed run's config.json survived: %v", err)
	}
	if err := s.End(fmt.Errorf("stopping: %w", context.Canceled)); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if st := status(t, dir); st.State != StateInterrupted {
		t.Errorf("state %q, want interrupted", st.State)
	}
	// A folder of an older version (metrics, no run.json) is not touched.
	old := t.TempDir()
	os.WriteFile(filepath.Join(old, MetricsFile), []byte("{\"step\":1}\n"), 0o644)
	if _, err := Start(old, StartOptions{}); err == nil || !strings.Contains(err.Error(), "older version") {
		t.Errorf("older folder: %v", err)
	}
}

// TestKilledBetweenStatusAndFiles: run.json is written before the run's
// files, so a start that fails (or is killed) before its files exist
// leaves run.json saying so, and the next start clears the folder — the
// order that matters under a kill at any moment (the chaos test found a
// folder with metrics.jsonl and no run.json that refused every restart).
func TestKilledBetweenStatusAndFiles(t *testing.T) {
	dir := t.TempDir()
	// config.json as a folder: Create fails after run.json is written.
	if err := os.Mkdir(filepath.Join(dir, ConfigFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(dir, StartOptions{Settings: settings{}, Config: map[string]int{"a": 1}}); err == nil {
		t.Fatal("Start succeeded with config.json a folder")
	}
	if st := status(t, dir); st.State != StateFailed {
		t.Fatalf("state %q after a failed start, want failed", st.State)
	}
	s, err := Start(dir, StartOptions{Settings: settings{}})
	if err != nil || !s.Cleared {
		t.Fatalf("restart: %v (cleared %v)", err, s != nil && s.Cleared)
	}
	s.End(nil)
	// A start killed after run.json and before its files: run.json says
	// running, nothing else; the next start clears it and runs.
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, StatusFile), []byte(`{"state":"running","pid":1}`), 0o644)
	if s, err = Start(dir, StartOptions{Settings: settings{}}); err != nil || !s.Cleared {
		t.Fatalf("after a kill: %v", err)
	}
	s.End(nil)
}

// TestDiskFull: metrics written to a full disk (/dev/full: every write
// fails with ENOSPC) make Sync — called before each checkpoint — fail
// with the system's message, and End records the run as failed with it.
func TestDiskFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full here")
	}
	dir := t.TempDir()
	s, err := Start(dir, StartOptions{Settings: settings{}, Checkpoint: checkpointAt(-1)})
	if err != nil {
		t.Fatal(err)
	}
	s.metricsFile.Close()
	s.metricsFile, s.metrics = full, bufio.NewWriter(full)
	s.Scalar("loss", 1, 0.5)
	err = s.Sync()
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("Sync on a full disk: %v", err)
	}
	if err := s.End(err); err == nil {
		t.Fatal("End hid the error")
	}
	if st := status(t, dir); st.State != StateFailed || !strings.Contains(st.Message, "no space left on device") {
		t.Errorf("status %+v, want failed with the disk's message", st)
	}
}
