package runlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances by step on every call.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Unix(1764032400, 0), step: time.Millisecond}
}

type testConfig struct {
	LR    float64 `json:"lr"`
	Steps int     `json:"steps"`
}

func TestCreateWritesFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "runs", "ppo-1")
	r, err := Create(dir, Options{Config: testConfig{LR: 3e-4, Steps: 10}, Hostname: "box/1", Now: newClock().now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", r.Dir(), dir)
	}
	if want := filepath.Join(dir, "events.out.tfevents.1764032400.box_1"); r.EventsPath() != want {
		t.Errorf("EventsPath() = %q, want %q", r.EventsPath(), want)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg testConfig
	if err := json.Unmarshal(data, &cfg); err != nil || cfg != (testConfig{3e-4, 10}) {
		t.Errorf("config.json = %s (%v), want lr=3e-4 steps=10", data, err)
	}
	if _, err := os.Stat(r.MetricsPath()); err != nil {
		t.Error(err)
	}
	events, err := ReadEvents(r.EventsPath())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].FileVersion != FileVersion || events[0].WallTime != 1764032400 {
		t.Errorf("events = %+v, want only the file version at the start time", events)
	}
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Create(filepath.Join(file, "run"), Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(file, "run")) {
		t.Errorf("Create under a file: err = %v, want one naming the path", err)
	}

	_, err = Create(filepath.Join(base, "badcfg"), Options{Config: func() {}})
	if err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("unmarshalable config: err = %v", err)
	}
	// A failed Create leaves the folder usable.
	r, err := Create(filepath.Join(base, "badcfg"), Options{})
	if err != nil {
		t.Fatalf("retry after a failed Create: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCreateRefusesExistingRunUnlessAppend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newClock()
	r, err := Create(dir, Options{Config: testConfig{Steps: 1}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	r.Scalar("a", 1, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Create(dir, Options{Config: testConfig{Steps: 2}, Now: clock.now})
	if err == nil || !strings.Contains(err.Error(), "already holds a run") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Create: err = %v, want 'already holds a run' naming %s", err, dir)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if !strings.Contains(string(data), `"steps": 1`) {
		t.Errorf("refused Create overwrote config.json: %s", data)
	}

	r2, err := Create(dir, Options{Append: true, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if r2.EventsPath() == r.EventsPath() {
		t.Errorf("Append reused event file %s", r.EventsPath())
	}
	r2.Scalar("a", 2, 2)
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Step != 1 || recs[1].Step != 2 {
		t.Errorf("appended metrics = %+v, want steps 1 and 2", recs)
	}
}

func TestScalarsMergedPerStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The clock advances 1 ms per reading: Create reads it twice, each
	// new step once, and each written step once more (the flush check).
	r, err := Create(dir, Options{Now: newClock().now})
	if err != nil {
		t.Fatal(err)
	}
	r.Scalar("losses/value_loss", 1, 0.5)
	r.Scalar("losses/policy_loss", 1, -0.25)
	r.Scalars(1, map[string]float64{"charts/SPS": 1000})
	r.Scalars(2, map[string]float64{"z": 1, "charts/episodic_return": 7})
	r.Scalar("z", 2, 3) // Repeated tag in the same step: a new line.
	r.Scalar("a", 1, 9) // Going back to an earlier step: a new line.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	lines := readLines(t, r.MetricsPath())
	want := []string{
		`{"step":1,"wall_time":1764032400.002000,"losses/value_loss":0.5,"losses/policy_loss":-0.25,"charts/SPS":1000}`,
		`{"step":2,"wall_time":1764032400.004000,"charts/episodic_return":7,"z":1}`,
		`{"step":2,"wall_time":1764032400.006000,"z":3}`,
		`{"step":1,"wall_time":1764032400.008000,"a":9}`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("metrics.jsonl:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	events, err := ReadEvents(r.EventsPath())
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := []Event{
		{WallTime: 1764032400, FileVersion: FileVersion},
		{WallTime: 1764032400.002, Step: 1, Values: []Value{{"losses/value_loss", 0.5}, {"losses/policy_loss", -0.25}, {"charts/SPS", 1000}}},
		{WallTime: 1764032400.004, Step: 2, Values: []Value{{"charts/episodic_return", 7}, {"z", 1}}},
		{WallTime: 1764032400.006, Step: 2, Values: []Value{{"z", 3}}},
		{WallTime: 1764032400.008, Step: 1, Values: []Value{{"a", 9}}},
	}
	if !reflect.DeepEqual(events, wantEvents) {
		t.Fatalf("events:\n%+v\nwant\n%+v", events, wantEvents)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestNonFiniteValues(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{Now: newClock().now})
	if err != nil {
		t.Fatal(err)
	}
	r.Scalars(3, map[string]float64{"nan": math.NaN(), "pinf": math.Inf(1), "ninf": math.Inf(-1), "tiny": 1e-300, "big": 1e300})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, r.MetricsPath())
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	var generic map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &generic); err != nil {
		t.Fatalf("line is not valid JSON: %v\n%s", err, lines[0])
	}
	if generic["nan"] != "NaN" || generic["pinf"] != "Inf" || generic["ninf"] != "-Inf" {
		t.Errorf("non-finite values written as %v %v %v", generic["nan"], generic["pinf"], generic["ninf"])
	}

	recs, err := ReadMetrics(r.MetricsPath())
	if err != nil {
		t.Fatal(err)
	}
	v := recs[0].Values
	if !math.IsNaN(v["nan"]) || !math.IsInf(v["pinf"], 1) || !math.IsInf(v["ninf"], -1) || v["tiny"] != 1e-300 || v["big"] != 1e300 {
		t.Errorf("ReadMetrics values = %v", v)
	}

	events, err := ReadEvents(r.EventsPath())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float32{}
	for _, val := range events[1].Values {
		got[val.Tag] = val.SimpleValue
	}
	if !math.IsNaN(float64(got["nan"])) || !math.IsInf(float64(got["pinf"]), 1) || !math.IsInf(float64(got["big"]), 1) || got["tiny"] != 0 {
		t.Errorf("event values = %v (float32: 1e300 overflows to +Inf, 1e-300 underflows to 0)", got)
	}
}

func TestReadMetricsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, MetricsFile)
	content := `{"step":1,"wall_time":2,"a":1}` + "\n\n" + `{"step":2,"a":"oops"}` + "\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(path)
	if err == nil || !strings.Contains(err.Error(), path+":3") {
		t.Fatalf("err = %v, want one naming %s:3", err, path)
	}
	if len(recs) != 1 {
		t.Errorf("got %d records before the error, want 1", len(recs))
	}
	if err := os.WriteFile(path, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMetrics(path); err == nil || !strings.Contains(err.Error(), "step") {
		t.Errorf("line without step: err = %v", err)
	}
}

func TestFlushMakesDataVisible(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{Now: newClock().now, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}()
	r.Scalar("a", 1, 1)
	r.Scalar("a", 2, 2) // Writes step 1 into the buffer; an hour has not passed.
	if lines := readLines(t, r.MetricsPath()); len(lines) != 0 {
		t.Fatalf("before Flush: %d lines on disk, want 0", len(lines))
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, r.MetricsPath()); len(lines) != 2 {
		t.Fatalf("after Flush: %d lines on disk, want 2", len(lines))
	}
	events, err := ReadEvents(r.EventsPath())
	if err != nil || len(events) != 3 {
		t.Fatalf("after Flush: %d events, err %v; want 3", len(events), err)
	}
}

func TestFlushIntervalNegativeFlushesEveryStep(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.Scalar("a", 1, 1)
	r.Scalar("a", 2, 2)
	if lines := readLines(t, r.MetricsPath()); len(lines) != 1 {
		t.Errorf("%d lines on disk, want 1 (step 2 is still gathering)", len(lines))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseTwiceAndPanics(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := r.Flush(); err != nil {
		t.Errorf("Flush after Close = %v, want nil", err)
	}
	mustPanic(t, "Scalar after Close", func() { r.Scalar("a", 1, 1) })

	r2, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRun(t, r2)
	for _, tag := range []string{"", "step", "wall_time"} {
		mustPanic(t, "tag "+tag, func() { r2.Scalar(tag, 1, 1) })
		mustPanic(t, "Scalars tag "+tag, func() { r2.Scalars(1, map[string]float64{tag: 1}) })
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Errorf("%s: no panic", name)
			return
		}
		if s, ok := v.(string); !ok || !strings.HasPrefix(s, "runlog: ") {
			t.Errorf("%s: panic value %#v lacks the runlog: prefix", name, v)
		}
	}()
	f()
}

func TestCloseReportsWriteErrors(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Closing the file underneath the Run makes its writes fail.
	if err := r.metricsFile.Close(); err != nil {
		t.Fatal(err)
	}
	r.Scalar("a", 1, 1)
	err = r.Close()
	if err == nil || !strings.Contains(err.Error(), MetricsFile) {
		t.Fatalf("Close = %v, want an error naming %s", err, MetricsFile)
	}
	if !errors.Is(r.Err(), os.ErrClosed) {
		t.Errorf("Err() = %v, want os.ErrClosed", r.Err())
	}
}

func TestConcurrentScalars(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				r.Scalar("g"+string(rune('0'+g)), int64(i), float64(i))
			}
		})
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(r.MetricsPath())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs {
		n += len(rec.Values)
	}
	if n != 400 {
		t.Errorf("logged %d values, want 400", n)
	}
	events, err := ReadEvents(r.EventsPath())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(recs)+1 {
		t.Errorf("%d events for %d metric lines", len(events), len(recs))
	}
}

func TestWriteConfigReplaces(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRun(t, r)
	path := filepath.Join(r.Dir(), ConfigFile)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config.json exists without a Config: %v", err)
	}
	for _, steps := range []int{1, 2} {
		if err := r.WriteConfig(testConfig{Steps: steps}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg testConfig
		if err := json.Unmarshal(data, &cfg); err != nil || cfg.Steps != steps {
			t.Errorf("config.json = %s, want steps %d", data, steps)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary config left behind: %v", err)
	}
}

// closeRun closes r and fails the test on an error; for use with defer.
func closeRun(t *testing.T, r *Run) {
	t.Helper()
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}
