package optim

import (
	"fmt"
	"math"
	"sort"

	"github.com/cpntrain/cpntrain/nn"
)

// Optimizer updates a fixed list of parameters from their gradients.
//
// An Optimizer keeps all of its state (moment estimates, momentum buffers,
// step counter) itself, keyed by parameter path; nothing is stored on the
// parameters. Implementations in this package are not safe for concurrent
// use.
type Optimizer interface {
	// Step applies the gradients p.V.Grad to the values p.V.Data of every
	// parameter and then sets the gradients to zero. It does not check the
	// gradients for NaN or Inf: use the norm returned by ClipGradNorm to
	// skip a step on non-finite gradients.
	Step()
	// LR returns the current learning rate.
	LR() float64
	// SetLR sets the learning rate used by the following steps. It panics
	// if lr is negative, NaN or infinite.
	SetLR(lr float64)
	// StepCount returns the number of steps taken so far, including those
	// restored by LoadState.
	StepCount() int64
	// State returns a deep copy of the optimizer's state for checkpoints.
	State() State
	// LoadState replaces the optimizer's state (step count, hyper-parameters
	// and buffers) by s. It validates s completely before changing
	// anything: on error the optimizer is unchanged. Errors are of type
	// *StateError.
	LoadState(s State) error
}

// State is a snapshot of an optimizer, independent of the parameters'
// values, suitable for checkpoints.
type State struct {
	// Kind names the algorithm: "sgd", "adam" or "adamw".
	Kind string
	// Step is the number of steps taken.
	Step int64
	// Hyper holds the hyper-parameters under fixed names such as "lr",
	// "beta1" or "weight_decay"; booleans are stored as 0 or 1.
	Hyper map[string]float64
	// Buffers holds the per-parameter buffers keyed "<param path>/<name>",
	// for example "encoder/w/exp_avg". Each buffer has the shape of its
	// parameter.
	Buffers map[string]*nn.Tensor
}

// BufferKeys returns the keys of s.Buffers in sorted order.
func (s State) BufferKeys() []string {
	keys := make([]string, 0, len(s.Buffers))
	for k := range s.Buffers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// StateError describes why LoadState rejected a State.
type StateError struct {
	// Kind is the kind of the optimizer that rejected the state.
	Kind string
	// Buffer is the offending buffer key ("<param path>/<name>"), or empty
	// if the error is not about one buffer.
	Buffer string
	// Msg describes the problem.
	Msg string
}

// Error implements error.
func (e *StateError) Error() string {
	if e.Buffer != "" {
		return fmt.Sprintf("optim: %s: load state: buffer %q: %s", e.Kind, e.Buffer, e.Msg)
	}
	return fmt.Sprintf("optim: %s: load state: %s", e.Kind, e.Msg)
}

// slot is one parameter with the optimizer's per-parameter buffers.
type slot struct {
	path string
	p    *nn.Param
	n    int          // number of values, fixed at construction
	bufs [2][]float32 // buffers in the order of the optimizer's bufNames
}

// base holds what all optimizers of this package share.
type base struct {
	kind     string
	bufNames []string // names of the per-parameter buffers (at most 2)
	slots    []slot
	step     int64
}

// newBase checks params and allocates zeroed buffers. It panics on a nil
// parameter, a duplicate path, a parameter listed twice or a parameter whose
// gradient buffer does not match its values.
func newBase(kind string, params []nn.NamedParam, bufNames []string) base {
	b := base{kind: kind, bufNames: bufNames, slots: make([]slot, len(params))}
	paths := make(map[string]bool, len(params))
	ptrs := make(map[*nn.Param]string, len(params))
	for i, np := range params {
		if np.Param == nil || np.Param.V == nil {
			panic(fmt.Sprintf("optim: %s: nil parameter %q", kind, np.Path))
		}
		if paths[np.Path] {
			panic(fmt.Sprintf("optim: %s: duplicate parameter path %q", kind, np.Path))
		}
		if prev, ok := ptrs[np.Param]; ok {
			panic(fmt.Sprintf("optim: %s: parameter listed as %q and %q", kind, prev, np.Path))
		}
		paths[np.Path] = true
		ptrs[np.Param] = np.Path
		t := np.Param.V
		if len(t.Data) != t.Rows*t.Cols || len(t.Grad) != len(t.Data) {
			panic(fmt.Sprintf("optim: %s: parameter %q (%s) has %d values and %d gradients",
				kind, np.Path, t.Shape(), len(t.Data), len(t.Grad)))
		}
		s := slot{path: np.Path, p: np.Param, n: len(t.Data)}
		for j := range bufNames {
			s.bufs[j] = make([]float32, len(t.Data))
		}
		b.slots[i] = s
	}
	return b
}

// tensors returns the value and gradient slices of s, panicking if the
// parameter was resized after the optimizer was built.
func (b *base) tensors(s *slot) (data, grad []float32) {
	t := s.p.V
	if len(t.Data) != s.n || len(t.Grad) != s.n {
		panic(fmt.Sprintf("optim: %s: parameter %q changed size to %d values and %d gradients",
			b.kind, s.path, len(t.Data), len(t.Grad)))
	}
	return t.Data, t.Grad
}

// exportBuffers copies all buffers into a new map.
func (b *base) exportBuffers() map[string]*nn.Tensor {
	out := make(map[string]*nn.Tensor, len(b.slots)*len(b.bufNames))
	for i := range b.slots {
		s := &b.slots[i]
		for j, name := range b.bufNames {
			t := nn.New(s.p.V.Rows, s.p.V.Cols)
			copy(t.Data, s.bufs[j])
			out[s.path+"/"+name] = t
		}
	}
	return out
}

// checkHeader validates the kind, step and hyper-parameter names of st.
// wantHyper lists the required hyper-parameter names; others are rejected.
func (b *base) checkHeader(st State, wantHyper []string) error {
	if st.Kind != b.kind {
		return b.stateErr("", "state of kind %q, want %q", st.Kind, b.kind)
	}
	if st.Step < 0 {
		return b.stateErr("", "negative step %d", st.Step)
	}
	for _, h := range wantHyper {
		v, ok := st.Hyper[h]
		if !ok {
			return b.stateErr("", "missing hyper-parameter %q", h)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b.stateErr("", "hyper-parameter %q is %v", h, v)
		}
	}
	if len(st.Hyper) != len(wantHyper) {
		names := make([]string, 0, len(st.Hyper))
		for h := range st.Hyper {
			names = append(names, h)
		}
		sort.Strings(names)
		for _, h := range names {
			if !contains(wantHyper, h) {
				return b.stateErr("", "unknown hyper-parameter %q", h)
			}
		}
	}
	return nil
}

// checkBuffers validates the buffers of st: exactly the names wantBufs for
// every parameter (possibly fewer than b.bufNames, e.g. SGD without
// momentum), each with its parameter's shape and finite values. nonNeg names
// a buffer whose values must also be >= 0 ("" for none).
func (b *base) checkBuffers(st State, wantBufs []string, nonNeg string) error {
	for i := range b.slots {
		s := &b.slots[i]
		for _, name := range wantBufs {
			key := s.path + "/" + name
			t, ok := st.Buffers[key]
			if !ok || t == nil {
				return b.stateErr(key, "missing")
			}
			if t.Rows != s.p.V.Rows || t.Cols != s.p.V.Cols || len(t.Data) != s.n {
				return b.stateErr(key, "shape %s with %d values, parameter is %s", t.Shape(), len(t.Data), s.p.V.Shape())
			}
			for k, v := range t.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return b.stateErr(key, "non-finite value %v at index %d", v, k)
				}
				if name == nonNeg && v < 0 {
					return b.stateErr(key, "negative value %v at index %d", v, k)
				}
			}
		}
	}
	if len(st.Buffers) != len(b.slots)*len(wantBufs) {
		// Some key is not one we expect: name it.
		want := make(map[string]bool, len(b.slots)*len(wantBufs))
		for i := range b.slots {
			for _, name := range wantBufs {
				want[b.slots[i].path+"/"+name] = true
			}
		}
		for _, k := range st.BufferKeys() {
			if !want[k] {
				return b.stateErr(k, "unexpected buffer (no such parameter, or no such buffer in this configuration)")
			}
		}
	}
	return nil
}

// stateErr returns a *StateError for this optimizer.
func (b *base) stateErr(buf, format string, args ...any) error {
	return &StateError{Kind: b.kind, Buffer: buf, Msg: fmt.Sprintf(format, args...)}
}

// importBuffers copies the named buffers of st into the slots; names not in
// wantBufs are zeroed. It must only be called after checkBuffers succeeded.
func (b *base) importBuffers(st State, wantBufs []string) {
	for i := range b.slots {
		s := &b.slots[i]
		for j, name := range b.bufNames {
			if t, ok := st.Buffers[s.path+"/"+name]; ok && contains(wantBufs, name) {
				copy(s.bufs[j], t.Data)
			} else {
				clear(s.bufs[j])
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkLR panics unless lr is a finite non-negative number.
func checkLR(kind string, lr float64) {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		panic(fmt.Sprintf("optim: %s: invalid learning rate %v", kind, lr))
	}
}

// finiteNonNeg reports whether v is finite and >= 0.
func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

// boolHyper encodes a boolean hyper-parameter.
func boolHyper(v bool) float64 {
	if v {
		return 1
	}
	return 0
}
