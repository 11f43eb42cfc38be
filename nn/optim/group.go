package optim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cpntrain/cpntrain/nn"
)

// Member is one named optimizer of a Group.
type Member struct {
	Name string
	Opt  Optimizer
}

// Group makes several optimizers one Optimizer, so that a model trained
// with, say, an actor optimizer and a critic optimizer saves and restores
// them as one state (one checkpoint, one atomic file).
//
// Step steps every member; LR and StepCount report the first member's;
// SetLR sets every member's rate (set them one by one through the members
// to keep different rates). State prefixes every member's hyper-parameters
// and buffers with "<name>/", under the kind "group".
type Group []Member

var _ Optimizer = Group(nil)

// Step implements Optimizer.
func (g Group) Step() {
	for _, m := range g {
		m.Opt.Step()
	}
}

// LR implements Optimizer: the first member's rate.
func (g Group) LR() float64 {
	if len(g) == 0 {
		return 0
	}
	return g[0].Opt.LR()
}

// SetLR implements Optimizer: every member gets lr.
func (g Group) SetLR(lr float64) {
	for _, m := range g {
		m.Opt.SetLR(lr)
	}
}

// StepCount implements Optimizer: the first member's count.
func (g Group) StepCount() int64 {
	if len(g) == 0 {
		return 0
	}
	return g[0].Opt.StepCount()
}

// State implements Optimizer. The members' kinds are stored as the
// hyper-parameters "<name>/kind:<kind>" = 1 and their step counts as
// "<name>/step".
func (g Group) State() State {
	s := State{Kind: "group", Step: g.StepCount(), Hyper: map[string]float64{}, Buffers: map[string]*nn.Tensor{}}
	for _, m := range g {
		ms := m.Opt.State()
		s.Hyper[m.Name+"/kind:"+ms.Kind] = 1
		s.Hyper[m.Name+"/step"] = float64(ms.Step)
		for k, v := range ms.Hyper {
			s.Hyper[m.Name+"/"+k] = v
		}
		for k, v := range ms.Buffers {
			s.Buffers[m.Name+"/"+k] = v
		}
	}
	return s
}

// LoadState implements Optimizer. It splits s by member name and loads
// every member; if one member rejects its part, the members already loaded
// get their previous state back, so that on error the group is unchanged.
func (g Group) LoadState(s State) error {
	if s.Kind != "group" {
		return &StateError{Kind: "group", Msg: fmt.Sprintf("state of kind %q, want \"group\"", s.Kind)}
	}
	parts := make([]State, len(g))
	names := make(map[string]int, len(g))
	for i, m := range g {
		names[m.Name] = i
		parts[i] = State{Hyper: map[string]float64{}, Buffers: map[string]*nn.Tensor{}, Step: -1}
	}
	split := func(key string) (int, string, error) {
		name, rest, ok := strings.Cut(key, "/")
		i, known := names[name]
		if !ok || !known {
			return 0, "", fmt.Errorf("key %q names no member of the group", key)
		}
		return i, rest, nil
	}
	keys := make([]string, 0, len(s.Hyper))
	for k := range s.Hyper {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i, rest, err := split(k)
		if err != nil {
			return &StateError{Kind: "group", Msg: err.Error()}
		}
		switch {
		case strings.HasPrefix(rest, "kind:"):
			parts[i].Kind = strings.TrimPrefix(rest, "kind:")
		case rest == "step":
			v := s.Hyper[k]
			if !(v >= 0 && v <= 1<<53) || v != float64(int64(v)) {
				return &StateError{Kind: "group", Msg: fmt.Sprintf("%s = %v is not a step count", k, v)}
			}
			parts[i].Step = int64(v)
		default:
			parts[i].Hyper[rest] = s.Hyper[k]
		}
	}
	for k, v := range s.Buffers {
		i, rest, err := split(k)
		if err != nil {
			return &StateError{Kind: "group", Buffer: k, Msg: err.Error()}
		}
		parts[i].Buffers[rest] = v
	}
	for i, m := range g {
		if parts[i].Kind == "" || parts[i].Step < 0 {
			return &StateError{Kind: "group", Msg: fmt.Sprintf("the state has no kind or step for member %q", m.Name)}
		}
	}
	old := make([]State, 0, len(g))
	for i, m := range g {
		prev := m.Opt.State()
		if err := m.Opt.LoadState(parts[i]); err != nil {
			for j := range old {
				_ = g[j].Opt.LoadState(old[j]) // a state it produced itself
			}
			var se *StateError
			if ok := asStateError(err, &se); ok && se.Buffer != "" {
				return &StateError{Kind: "group", Buffer: m.Name + "/" + se.Buffer, Msg: se.Msg}
			}
			return &StateError{Kind: "group", Msg: fmt.Sprintf("member %q: %v", m.Name, err)}
		}
		old = append(old, prev)
	}
	return nil
}

func asStateError(err error, se **StateError) bool {
	e, ok := err.(*StateError)
	if ok {
		*se = e
	}
	return ok
}
