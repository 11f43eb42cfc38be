package runlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Names of the files in a run folder.
const (
	// ConfigFile holds the run's configuration as indented JSON.
	ConfigFile = "config.json"
	// MetricsFile holds one JSON object per logged step.
	MetricsFile = "metrics.jsonl"
	// EventFilePrefix starts the name of every TensorBoard event file; the
	// full name is EventFilePrefix + "<unix seconds>.<hostname>".
	EventFilePrefix = "events.out.tfevents."
)

// DefaultFlushInterval is how often a Run flushes its buffers to the
// operating system when Options.FlushInterval is zero.
const DefaultFlushInterval = 5 * time.Second

// Options configures Create. The zero value is valid.
type Options struct {
	// Config, when non-nil, is marshaled with encoding/json and written to
	// config.json. When nil, no config.json is written until WriteConfig is
	// called.
	Config any
	// Append continues a run in a folder that already holds one:
	// metrics.jsonl is appended to and a new event file is added beside the
	// old ones (TensorBoard reads them all); config.json is replaced only
	// when Config is non-nil. Without Append, Create fails on a folder that
	// already holds a metrics.jsonl, leaving it untouched.
	Append bool
	// FlushInterval is the longest time buffered scalars stay in memory
	// before they are written to the files, checked whenever a step is
	// written. Zero means DefaultFlushInterval; a negative value flushes
	// after every step.
	FlushInterval time.Duration
	// Hostname is used in the event file's name; empty means os.Hostname.
	Hostname string
	// Now is the clock used for wall times and the event file's name; nil
	// means time.Now.
	Now func() time.Time
}

// Run is one training run's folder: config.json, metrics.jsonl and a
// TensorBoard event file, written side by side.
//
// Scalars logged for the same step are gathered and written as one line of
// metrics.jsonl and one TensorBoard event when a scalar for another step
// arrives, when a tag repeats within the step, or on Flush and Close.
//
// The methods of a Run are safe for concurrent use. Write errors are sticky:
// the first one is kept and returned by Flush, Err and Close.
type Run struct {
	mu sync.Mutex

	dir           string
	now           func() time.Time
	flushInterval time.Duration
	lastFlush     time.Time

	metricsFile *os.File
	metrics     *bufio.Writer
	eventsFile  *os.File
	events      *bufio.Writer
	ew          *EventWriter

	pending pendingStep
	line    []byte
	err     error
	closed  bool
}

// pendingStep is the step whose scalars are being gathered.
type pendingStep struct {
	active   bool
	step     int64
	wallTime float64
	tags     []string
	values   []float64
}

func (p *pendingStep) has(tag string) bool { return slices.Contains(p.tags, tag) }

// Create makes the run folder dir (and its parents), writes config.json
// when opts.Config is non-nil, and opens metrics.jsonl and a new TensorBoard
// event file. Errors name the path that could not be created or written.
func Create(dir string, opts Options) (*Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runlog: create run folder %s: %w", dir, err)
	}
	r := &Run{dir: dir, now: opts.Now, flushInterval: opts.FlushInterval}
	if r.now == nil {
		r.now = time.Now
	}
	if r.flushInterval == 0 {
		r.flushInterval = DefaultFlushInterval
	}
	metricsPath := filepath.Join(dir, MetricsFile)
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Append {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	mf, err := os.OpenFile(metricsPath, flag, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("runlog: run folder %s already holds a run (%s exists); choose another folder or use Options.Append", dir, MetricsFile)
	}
	if err != nil {
		return nil, fmt.Errorf("runlog: %w", err)
	}
	// abandon undoes the creation of metrics.jsonl when Create fails later,
	// so that a retry in the same folder is not refused.
	abandon := func(err error) error {
		err = errors.Join(err, closeFile(mf))
		if !opts.Append {
			_ = os.Remove(metricsPath) // Best effort: the folder stays usable if it fails.
		}
		return err
	}

	if opts.Config != nil {
		if err := r.WriteConfig(opts.Config); err != nil {
			return nil, abandon(err)
		}
	}

	start := r.now()
	ef, err := createEventFile(dir, start, opts.Hostname)
	if err != nil {
		return nil, abandon(err)
	}
	r.metricsFile, r.metrics = mf, bufio.NewWriter(mf)
	r.eventsFile, r.events = ef, bufio.NewWriter(ef)
	r.ew = NewEventWriter(r.events)
	r.lastFlush = start
	if err := r.ew.WriteFileVersion(wallTime(start)); err != nil {
		r.err = fmt.Errorf("runlog: write %s: %w", ef.Name(), err)
	}
	// Make the files visible to TensorBoard and tail -f at once.
	if err := r.flushLocked(); err != nil {
		return nil, errors.Join(err, r.closeFiles())
	}
	return r, nil
}

// createEventFile creates a new event file in dir, named after t and the
// host; a numeric suffix is added if that name is taken.
func createEventFile(dir string, t time.Time, hostname string) (*os.File, error) {
	if hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		hostname = h
	}
	hostname = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, hostname)
	base := filepath.Join(dir, fmt.Sprintf("%s%d.%s", EventFilePrefix, t.Unix(), hostname))
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("runlog: create event file: %w", err)
		}
		return f, nil
	}
}

// Dir returns the run folder.
func (r *Run) Dir() string { return r.dir }

// MetricsPath returns the path of the run's metrics.jsonl.
func (r *Run) MetricsPath() string { return filepath.Join(r.dir, MetricsFile) }

// EventsPath returns the path of the TensorBoard event file this Run writes.
func (r *Run) EventsPath() string { return r.eventsFile.Name() }

// WriteConfig marshals cfg with encoding/json and replaces config.json with
// it, writing a temporary file first and renaming it so that a crash never
// leaves a half-written config.
func (r *Run) WriteConfig(cfg any) error {
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("runlog: marshal config for %s: %w", r.dir, err)
	}
	data = append(data, '\n')
	path := filepath.Join(r.dir, ConfigFile)
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, data); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// Scalar logs value under tag for step. Tags are namespaced with slashes in
// the CleanRL way ("charts/episodic_return", "losses/value_loss"). NaN and
// infinite values are logged as they are: TensorBoard stores them as float32
// and metrics.jsonl as the strings "NaN", "Inf" and "-Inf" (see
// ReadMetrics).
//
// Scalar panics if tag is empty, is "step" or "wall_time" (the names of the
// line's own fields), or if the Run is closed.
func (r *Run) Scalar(tag string, step int64, value float64) {
	checkTag(tag)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOpen()
	if r.pending.active && (r.pending.step != step || r.pending.has(tag)) {
		r.writePendingLocked()
	}
	r.addLocked(step, tag, value)
}

// Scalars logs several values for one step; see Scalar. The tags are
// written in sorted order.
func (r *Run) Scalars(step int64, values map[string]float64) {
	tags := make([]string, 0, len(values))
	for tag := range values {
		checkTag(tag)
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOpen()
	if r.pending.active {
		clash := r.pending.step != step
		for _, tag := range tags {
			clash = clash || r.pending.has(tag)
		}
		if clash {
			r.writePendingLocked()
		}
	}
	for _, tag := range tags {
		r.addLocked(step, tag, values[tag])
	}
}

func checkTag(tag string) {
	if tag == "" || tag == "step" || tag == "wall_time" {
		panic(fmt.Sprintf("runlog: invalid scalar tag %q", tag))
	}
}

func (r *Run) checkOpen() {
	if r.closed {
		panic("runlog: scalar logged on a closed Run")
	}
}

func (r *Run) addLocked(step int64, tag string, value float64) {
	p := &r.pending
	if !p.active {
		p.active, p.step, p.wallTime = true, step, wallTime(r.now())
		p.tags, p.values = p.tags[:0], p.values[:0]
	}
	p.tags = append(p.tags, tag)
	p.values = append(p.values, value)
}

// writePendingLocked writes the pending step to both files and flushes
// them if the flush interval has passed.
func (r *Run) writePendingLocked() {
	p := &r.pending
	if !p.active {
		return
	}
	p.active = false

	r.line = appendMetricsLine(r.line[:0], p.step, p.wallTime, p.tags, p.values)
	if _, err := r.metrics.Write(r.line); err != nil && r.err == nil {
		r.err = fmt.Errorf("runlog: write %s: %w", r.MetricsPath(), err)
	}
	ev := Event{WallTime: p.wallTime, Step: p.step, Values: make([]Value, len(p.tags))}
	for i, tag := range p.tags {
		ev.Values[i] = Value{Tag: tag, SimpleValue: float32(p.values[i])}
	}
	if err := r.ew.WriteEvent(ev); err != nil && r.err == nil {
		r.err = fmt.Errorf("runlog: write %s: %w", r.EventsPath(), err)
	}

	if now := r.now(); r.flushInterval < 0 || now.Sub(r.lastFlush) >= r.flushInterval {
		_ = r.flushLocked() // The error is kept in r.err.
	}
}

// appendMetricsLine appends one line of metrics.jsonl.
func appendMetricsLine(dst []byte, step int64, wall float64, tags []string, values []float64) []byte {
	dst = append(dst, `{"step":`...)
	dst = strconv.AppendInt(dst, step, 10)
	dst = append(dst, `,"wall_time":`...)
	dst = strconv.AppendFloat(dst, wall, 'f', 6, 64)
	for i, tag := range tags {
		dst = append(dst, ',')
		dst = appendJSONString(dst, tag)
		dst = append(dst, ':')
		dst = appendJSONFloat(dst, values[i])
	}
	return append(dst, "}\n"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // Unreachable: strings always marshal.
		panic(err)
	}
	return append(dst, b...)
}

// appendJSONFloat writes v as a JSON number, or as the string "NaN", "Inf"
// or "-Inf", which JSON numbers cannot express.
func appendJSONFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"Inf"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Inf"`...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

func wallTime(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// Flush writes the pending step and the buffered lines and events to the
// files (without syncing them to disk) and returns the first write error
// the Run has met, if any.
func (r *Run) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.writePendingLocked()
	return r.flushLocked()
}

func (r *Run) flushLocked() error {
	r.lastFlush = r.now()
	if err := r.metrics.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("runlog: write %s: %w", r.MetricsPath(), err)
	}
	if err := r.events.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("runlog: write %s: %w", r.EventsPath(), err)
	}
	return r.err
}

// Err returns the first write error the Run has met, or nil.
func (r *Run) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close writes the pending step, flushes, syncs both files to disk and
// closes them. It returns the first write error the Run has met joined with
// any error of syncing or closing. Calling Close again returns the same
// error and does nothing else.
func (r *Run) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.writePendingLocked()
	_ = r.flushLocked() // The error is kept in r.err.
	r.closed = true
	if err := r.closeFiles(); err != nil {
		r.err = errors.Join(r.err, err)
	}
	return r.err
}

// closeFiles syncs and closes both files.
func (r *Run) closeFiles() error {
	return errors.Join(closeFile(r.metricsFile), closeFile(r.eventsFile))
}

func closeFile(f *os.File) error {
	err := f.Sync()
	if err != nil {
		err = fmt.Errorf("runlog: sync: %w", err)
	}
	return errors.Join(err, f.Close())
}

// Record is one line of metrics.jsonl as ReadMetrics returns it.
type Record struct {
	// Step is the training step the values belong to.
	Step int64
	// WallTime is the time the first value of the step was logged, in
	// seconds since the Unix epoch.
	WallTime float64
	// Values maps each tag to its value; NaN and infinities are restored
	// from their string forms.
	Values map[string]float64
}

// ReadMetrics reads a metrics.jsonl file as written by a Run. Numbers are
// read as float64, the strings "NaN", "Inf", "+Inf" and "-Inf" as the
// corresponding special values and null as NaN. Errors name the file and
// the line.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("runlog: read metrics: %w", err)
	}
	defer f.Close() // Read only: a Close error cannot lose data.
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		rec, err := parseMetricsLine(sc.Bytes())
		if err != nil {
			return recs, fmt.Errorf("runlog: %s:%d: %w", path, line, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return recs, fmt.Errorf("runlog: read %s: %w", path, err)
	}
	return recs, nil
}

func parseMetricsLine(b []byte) (Record, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Record{}, err
	}
	rec := Record{Values: make(map[string]float64, len(raw))}
	stepRaw, ok := raw["step"]
	if !ok {
		return Record{}, errors.New(`missing "step"`)
	}
	if err := json.Unmarshal(stepRaw, &rec.Step); err != nil {
		return Record{}, fmt.Errorf(`"step": %w`, err)
	}
	for k, v := range raw {
		if k == "step" {
			continue
		}
		x, err := parseJSONFloat(v)
		if err != nil {
			return Record{}, fmt.Errorf("%q: %w", k, err)
		}
		if k == "wall_time" {
			rec.WallTime = x
			continue
		}
		rec.Values[k] = x
	}
	return rec, nil
}

func parseJSONFloat(v json.RawMessage) (float64, error) {
	var s string
	switch {
	case string(v) == "null":
		return math.NaN(), nil
	case json.Unmarshal(v, &s) == nil:
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Inf", "+Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("value %s is not a number", v)
	}
	var x float64
	err := json.Unmarshal(v, &x)
	return x, err
}
