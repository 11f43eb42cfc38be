package runlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Files of the run lifecycle.
const (
	// StatusFile records the run's state (running, interrupted, failed,
	// finished), the process that holds or last held it and the settings
	// a resume must match.
	StatusFile = "run.json"
	// LockFile is locked (flock) by the process writing the run.
	LockFile = ".lock"
)

// States of a run in run.json. A run whose process was killed (kill -9,
// power loss) stays "running" with a process that no longer holds the
// lock.
const (
	StateRunning     = "running"
	StateInterrupted = "interrupted"
	StateFailed      = "failed"
	StateFinished    = "finished"
)

// Status is the content of run.json.
type Status struct {
	State string `json:"state"`
	// PID and Host identify the process of the last session.
	PID  int    `json:"pid"`
	Host string `json:"host"`
	// Started is when the last session started, Updated when the state
	// last changed.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Sessions counts the starts and resumes.
	Sessions int `json:"sessions"`
	// ResumedAt is the checkpoint step the last session resumed from.
	ResumedAt int64 `json:"resumed_at_step,omitempty"`
	// Message is the error that ended a failed or interrupted session.
	Message string `json:"message,omitempty"`
	// Settings are the run's settings (StartOptions.Settings).
	Settings json.RawMessage `json:"settings,omitempty"`
}

// StartOptions configures Start.
type StartOptions struct {
	// Config is written to config.json when the run starts afresh (and on
	// a forced resume).
	Config any
	// Settings are what determines the run's result (the model and
	// trainer settings, the seed, the data): a resume compares them with
	// the recorded ones, field by field, and refuses any difference
	// unless Force.
	Settings any
	// Checkpoint reports the step of the folder's resumable state (ok
	// false when there is none). With one, the run resumes from it; nil
	// means the command cannot resume.
	Checkpoint func() (step int64, ok bool, err error)
	// Force resumes even when the settings differ (the new ones are
	// recorded) and starts afresh over a finished run without a
	// checkpoint.
	Force bool
	// FlushInterval, Hostname and Now are passed to Create.
	FlushInterval time.Duration
	Hostname      string
	Now           func() time.Time
}

// Session is one process's tenure of a run folder: the folder's lock, its
// run.json, and the Run writing its metrics. End it with End.
type Session struct {
	*Run
	// Resumed is true when the session continues the run from its
	// checkpoint at ResumeStep; the metrics and event files were cut back
	// to that step (Dropped lines and events removed).
	Resumed    bool
	ResumeStep int64
	Dropped    int
	// Cleared is true when the folder held files of a run that never
	// wrote a checkpoint (a failed start or a run killed before its first
	// checkpoint): they were removed and the run starts afresh.
	Cleared bool

	lock   *os.File
	dir    string // the run folder (run.json is written before the Run exists)
	status Status
	now    func() time.Time
	ended  bool
}

// InUseError is returned by Start when another process holds the folder.
type InUseError struct {
	Dir  string
	PID  int
	Host string
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("process %d", e.PID)
		if e.Host != "" {
			who += " on " + e.Host
		}
	}
	return fmt.Sprintf("run folder %s is in use by %s; wait for it to end or choose another folder", e.Dir, who)
}

// InterruptedError is what End returns for a session whose context was
// cancelled (Ctrl-C, SIGTERM): the run can be resumed.
type InterruptedError struct {
	Dir string
	Err error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted; the run in %s resumes from its last checkpoint when the same command is run again with --out %s", e.Dir, e.Dir)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Diff is one setting that differs between a run and its resume.
type Diff struct {
	// Path names the setting (JSON field names joined by dots).
	Path     string
	Old, New string
}

// SettingsError is returned by Start when a resume's settings differ from
// the run's.
type SettingsError struct {
	Dir   string
	Diffs []Diff
}

func (e *SettingsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the run in %s was started with other settings; resuming would mix two configurations:", e.Dir)
	for _, d := range e.Diffs {
		fmt.Fprintf(&b, "\n  %s: %s (run) → %s (now)", d.Path, d.Old, d.New)
	}
	b.WriteString("\nrerun with the run's settings, choose another folder, or pass --force to resume with the new ones")
	return b.String()
}

// FinishedError is returned by Start for a folder holding a finished run
// that cannot be resumed.
type FinishedError struct{ Dir string }

func (e *FinishedError) Error() string {
	return fmt.Sprintf("run folder %s holds a finished run; choose another folder (or pass --force to start it afresh)", e.Dir)
}

// Start opens the run folder dir for this process: it takes the folder's
// lock (an *InUseError when another process holds it), then
//   - with a checkpoint (opts.Checkpoint), resumes: the settings must
//     match the recorded ones (a *SettingsError lists the differences
//     unless opts.Force), and metrics.jsonl and the TensorBoard event
//     files are cut back to the checkpoint's step, so that no logged step
//     is lost, doubled or broken;
//   - without one, starts afresh: files left by a run that never wrote a
//     checkpoint are removed; a finished run is refused (*FinishedError)
//     unless opts.Force;
//
// and records the state "running" in run.json.
func Start(dir string, opts StartOptions) (s *Session, err error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runlog: create run folder %s: %w", dir, err)
	}
	lock, err := acquire(dir, now)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = unlock(lock)
			_ = lock.Close()
		}
	}()
	s = &Session{lock: lock, now: now, dir: dir}
	settings, err := json.Marshal(opts.Settings)
	if err != nil {
		return nil, fmt.Errorf("runlog: marshal settings: %w", err)
	}
	var prev Status
	hasStatus, err := readJSON(filepath.Join(dir, StatusFile), &prev)
	if err != nil {
		return nil, err
	}
	var step int64
	var ok bool
	if opts.Checkpoint != nil {
		if step, ok, err = opts.Checkpoint(); err != nil {
			return nil, err
		}
	}
	switch {
	case ok && hasStatus:
		if diffs := DiffSettings(prev.Settings, settings); len(diffs) > 0 && !opts.Force {
			return nil, &SettingsError{Dir: dir, Diffs: diffs}
		}
		if s.Dropped, err = cutBack(dir, step); err != nil {
			return nil, err
		}
		s.Resumed, s.ResumeStep = true, step
	case ok:
		return nil, fmt.Errorf("runlog: run folder %s holds a checkpoint but no %s (a run of an older version?); choose another folder", dir, StatusFile)
	case hasStatus && prev.State == StateFinished && !opts.Force:
		return nil, &FinishedError{Dir: dir}
	case hasStatus:
		if err := clearRun(dir); err != nil {
			return nil, err
		}
		s.Cleared = true
	default:
		if _, err := os.Stat(filepath.Join(dir, MetricsFile)); err == nil {
			return nil, fmt.Errorf("runlog: run folder %s holds a run (%s) without %s (a run of an older version?); choose another folder", dir, MetricsFile, StatusFile)
		}
	}
	host, _ := os.Hostname()
	s.status = Status{State: StateRunning, PID: os.Getpid(), Host: host, Started: now().UTC(), Sessions: prev.Sessions + 1,
		ResumedAt: step, Settings: settings}
	s.status.Updated = s.status.Started
	cfg := opts.Config
	if s.Resumed && !opts.Force {
		cfg = nil // config.json already describes the run
	}
	// run.json first: a process killed between the two never leaves run
	// files without it (the next start would refuse the folder).
	if err := s.writeStatus(); err != nil {
		return nil, err
	}
	if s.Run, err = Create(dir, Options{Config: cfg, Append: s.Resumed, FlushInterval: opts.FlushInterval, Hostname: opts.Hostname, Now: opts.Now}); err != nil {
		s.status.State, s.status.Message = StateFailed, err.Error()
		return nil, errors.Join(err, s.writeStatus())
	}
	return s, nil
}

// End records how the session ended in run.json — finished (err nil),
// interrupted (err wraps context.Canceled; End then returns it wrapped in
// an *InterruptedError) or failed — closes the Run and releases the lock.
// It returns err joined with any error of its own. Calling End again does
// nothing.
func (s *Session) End(err error) error {
	if s.ended {
		return err
	}
	s.ended = true
	cerr := s.Run.Close()
	switch {
	case err == nil && cerr == nil:
		s.status.State, s.status.Message = StateFinished, ""
	case errors.Is(err, context.Canceled):
		s.status.State, s.status.Message = StateInterrupted, "interrupted"
		err = &InterruptedError{Dir: s.Dir(), Err: err}
	default:
		s.status.State, s.status.Message = StateFailed, errors.Join(err, cerr).Error()
	}
	s.status.Updated = s.now().UTC()
	werr := s.writeStatus()
	uerr := unlock(s.lock)
	return errors.Join(err, cerr, werr, uerr, s.lock.Close())
}

// Describe is a line saying which run folder the session writes and how it
// started (afresh, afresh over a run without a checkpoint, or resuming).
func (s *Session) Describe() string {
	switch {
	case s.Resumed:
		return fmt.Sprintf("run folder %s: resuming from the checkpoint at step %d", s.Dir(), s.ResumeStep)
	case s.Cleared:
		return fmt.Sprintf("run folder %s: starting afresh (the run left there had no checkpoint)", s.Dir())
	}
	return fmt.Sprintf("run folder %s", s.Dir())
}

// Sync writes the pending step and everything buffered to the files and
// syncs them to disk: call it before writing a checkpoint, so that every
// step the checkpoint covers is in the files when it exists.
func (r *Run) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.writePendingLocked()
	if err := r.flushLocked(); err != nil {
		return err
	}
	if err := errors.Join(r.metricsFile.Sync(), r.eventsFile.Sync()); err != nil && r.err == nil {
		r.err = fmt.Errorf("runlog: sync: %w", err)
	}
	return r.err
}

func (s *Session) writeStatus() error {
	data, err := json.MarshalIndent(s.status, "", "  ")
	if err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	path := filepath.Join(s.dir, StatusFile)
	if err := writeFileSync(path+".tmp", append(data, '\n')); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	return nil
}

// Lock is an exclusive lock on a file (see LockPath).
type Lock struct{ f *os.File }

// LockPath takes the exclusive lock of the lock file path (created if
// needed) for this process, or returns an *InUseError (Dir: path) naming
// the process holding it. The kernel releases it if the process dies.
func LockPath(path string) (*Lock, error) {
	f, err := acquireFile(path, filepath.Dir(path), time.Now)
	if err != nil {
		return nil, err
	}
	return &Lock{f}, nil
}

// Release releases the lock.
func (l *Lock) Release() error { return errors.Join(unlock(l.f), l.f.Close()) }

// acquire locks dir's LockFile and writes this process's id into it.
func acquire(dir string, now func() time.Time) (*os.File, error) {
	return acquireFile(filepath.Join(dir, LockFile), dir, now)
}

// acquireFile locks the lock file path (of the folder dir, for messages).
func acquireFile(path, dir string, now func() time.Time) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlog: lock run folder: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("runlog: lock %s: %w", path, err)
	}
	if held {
		e := &InUseError{Dir: dir}
		if b, rerr := os.ReadFile(path); rerr == nil {
			fields := strings.Fields(string(b))
			if len(fields) >= 2 {
				e.PID, _ = strconv.Atoi(fields[0])
				e.Host = fields[1]
			}
		}
		f.Close()
		return nil, e
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	// The holder's id is for other processes' messages only: the lock is
	// the flock, so a failed write is not an error.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("%d %s %s\n", os.Getpid(), host, now().UTC().Format(time.RFC3339))), 0)
	}
	return f, nil
}

// readJSON reads path into v; ok is false when the file does not exist.
func readJSON(path string, v any) (ok bool, err error) {
	b, err := readBounded(path, 16<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("runlog: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("runlog: %s: %w", path, err)
	}
	return true, nil
}

// readBounded reads a file of at most limit bytes (it never allocates
// more, whatever the file).
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // Read only.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes a run file may have", path, limit)
	}
	return b, nil
}

// clearRun removes the files of a run that never wrote a checkpoint.
func clearRun(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	// run.json last: a process killed half-way leaves a folder the next
	// start clears again.
	var names []string
	for _, e := range ents {
		if n := e.Name(); n == MetricsFile || n == ConfigFile || strings.HasPrefix(n, EventFilePrefix) {
			names = append(names, n)
		}
	}
	for _, n := range append(names, StatusFile) {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("runlog: clear the run left in %s: %w", dir, err)
		}
	}
	return nil
}

// cutBack removes from metrics.jsonl and the event files of dir every
// record after step, and any broken (half-written) record, rewriting each
// file atomically. It returns the number of records removed.
func cutBack(dir string, step int64) (dropped int, err error) {
	metrics := filepath.Join(dir, MetricsFile)
	if b, err := os.ReadFile(metrics); err == nil {
		var kept []byte
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 { // a half-written last line
				dropped++
				break
			}
			line := b[:i+1]
			b = b[i+1:]
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if rec, err := parseMetricsLine(line); err != nil || rec.Step > step {
				dropped++
				continue
			}
			kept = append(kept, line...)
		}
		if dropped > 0 {
			if err := replaceFile(metrics, kept); err != nil {
				return dropped, err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("runlog: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return dropped, fmt.Errorf("runlog: %w", err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), EventFilePrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return dropped, fmt.Errorf("runlog: %w", err)
		}
		var kept []byte
		n := 0
		for len(b) > 0 {
			payload, size, err := nextRecord(b)
			if err != nil { // a half-written or broken record ends the file
				n++
				break
			}
			ev, err := UnmarshalEvent(payload)
			if err != nil || ev.Step > step {
				n++
			} else {
				kept = append(kept, b[:size]...)
			}
			b = b[size:]
		}
		if n > 0 {
			dropped += n
			if err := replaceFile(path, kept); err != nil {
				return dropped, err
			}
		}
	}
	return dropped, nil
}

// replaceFile replaces path's content with data atomically.
func replaceFile(path string, data []byte) error {
	if err := writeFileSync(path+".tmp", data); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("runlog: %w", err)
	}
	return nil
}

// DiffSettings compares two JSON documents field by field and returns the
// fields whose values differ (or exist in one only), sorted by path.
func DiffSettings(old, new []byte) []Diff {
	var a, b any
	if json.Unmarshal(old, &a) != nil || json.Unmarshal(new, &b) != nil {
		if !bytes.Equal(old, new) {
			return []Diff{{Path: "(settings)", Old: string(old), New: string(new)}}
		}
		return nil
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a, fa)
	flatten("", b, fb)
	var diffs []Diff
	for k, va := range fa {
		if vb, ok := fb[k]; !ok || vb != va {
			if !ok {
				vb = "(absent)"
			}
			diffs = append(diffs, Diff{Path: k, Old: va, New: vb})
		}
	}
	for k, vb := range fb {
		if _, ok := fa[k]; !ok {
			diffs = append(diffs, Diff{Path: k, Old: "(absent)", New: vb})
		}
	}
	slices.SortFunc(diffs, func(x, y Diff) int { return strings.Compare(x.Path, y.Path) })
	return diffs
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, c, out)
		}
	case []any:
		for i, c := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), c, out)
		}
	default:
		b, _ := json.Marshal(x)
		out[prefix] = string(b)
	}
}
