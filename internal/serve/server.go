package serve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ModelFile names a model and the file it is loaded from.
type ModelFile struct {
	Name, Path string
}

// Config configures a Server.
type Config struct {
	Models []ModelFile
	// Load reads a model file.
	Load Loader
	// MaxBodyBytes bounds a REST request body and a gRPC message.
	MaxBodyBytes int64
	// Timeout bounds one inference (0: none).
	Timeout time.Duration
	// Name and Version are the server's, as /v2 reports them.
	Name, Version string
}

// loaded is one loaded version of a model.
type loaded struct {
	m       Model
	version string
	at      time.Time
}

// entry is a served model: the current version is swapped atomically by
// a reload, so a request in flight finishes on the version it started
// with and none is dropped.
type entry struct {
	name, path string
	cur        atomic.Pointer[loaded]
	reloads    int
}

// Server serves the models of a Config.
type Server struct {
	cfg     Config
	entries map[string]*entry
	order   []string
	met     *metrics
	mu      sync.Mutex // serialises reloads
}

// New loads every model and returns the server.
func New(cfg Config) (*Server, error) {
	if len(cfg.Models) == 0 {
		return nil, errors.New("serve: no model to serve")
	}
	if cfg.Load == nil {
		return nil, errors.New("serve: no loader")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.Name == "" {
		cfg.Name = "cpntrain"
	}
	s := &Server{cfg: cfg, entries: map[string]*entry{}, met: newMetrics()}
	for _, mf := range cfg.Models {
		if mf.Name == "" {
			return nil, fmt.Errorf("serve: model file %s has no name", mf.Path)
		}
		if _, dup := s.entries[mf.Name]; dup {
			return nil, fmt.Errorf("serve: model name %q given twice", mf.Name)
		}
		m, err := cfg.Load(mf.Path)
		if err != nil {
			return nil, fmt.Errorf("serve: model %s: %w", mf.Name, err)
		}
		e := &entry{name: mf.Name, path: mf.Path, reloads: 1}
		e.cur.Store(&loaded{m: m, version: "1", at: time.Now()})
		s.entries[mf.Name] = e
		s.order = append(s.order, mf.Name)
		s.met.setReady(mf.Name, true)
	}
	return s, nil
}

// Reload reads every model file again and swaps in the new versions. A
// model whose file fails to load keeps serving its current version; the
// errors are returned joined.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, name := range s.order {
		e := s.entries[name]
		m, err := s.cfg.Load(e.path)
		if err != nil {
			s.met.reload(name, false)
			errs = append(errs, fmt.Errorf("serve: reload %s from %s (the previous version stays): %w", name, e.path, err))
			continue
		}
		e.reloads++
		e.cur.Store(&loaded{m: m, version: strconv.Itoa(e.reloads), at: time.Now()})
		s.met.reload(name, true)
	}
	return errors.Join(errs...)
}

// Models returns the served models' names in the order given.
func (s *Server) Models() []string { return append([]string(nil), s.order...) }

// errNotFound is a model or version that is not served.
type errNotFound struct{ msg string }

func (e *errNotFound) Error() string { return e.msg }

// model returns the current version of a model, or the named version if
// it is the current one.
func (s *Server) model(name, version string) (*loaded, error) {
	e, ok := s.entries[name]
	if !ok {
		return nil, &errNotFound{fmt.Sprintf("unknown model %q (served: %v)", name, s.order)}
	}
	l := e.cur.Load()
	if version != "" && version != l.version {
		return nil, &errNotFound{fmt.Sprintf("model %q has no version %q (current: %s)", name, version, l.version)}
	}
	return l, nil
}

// inferResult is what both protocols answer.
type inferResult struct {
	model, version string
	outputs        []Tensor
}

// infer runs one inference: the inputs are checked against the model's
// specs, the requested outputs (nil: all) against its outputs.
func (s *Server) infer(ctx context.Context, name, version string, in []*Tensor, want []string) (inferResult, error) {
	l, err := s.model(name, version)
	if err != nil {
		return inferResult{}, err
	}
	byName, err := checkInputs(l.m.Inputs(), in)
	if err != nil {
		return inferResult{}, err
	}
	for _, w := range want {
		found := false
		for _, o := range l.m.Outputs() {
			found = found || o.Name == w
		}
		if !found {
			return inferResult{}, badRequest("unknown output %q (the model gives %s)", w, specNames(l.m.Outputs()))
		}
	}
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	out, err := l.m.Infer(ctx, byName)
	if err != nil {
		return inferResult{}, err
	}
	if ctx.Err() != nil {
		return inferResult{}, ctx.Err()
	}
	if want != nil {
		kept := out[:0:0]
		for _, o := range out {
			for _, w := range want {
				if o.Name == w {
					kept = append(kept, o)
				}
			}
		}
		out = kept
	}
	return inferResult{model: name, version: l.version, outputs: out}, nil
}
