package dspporun

import (
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// Model selection on validation queues during training (Config.SelectEvery):
// training on the burst queue does not improve steadily (one episode is
// 2,000 decisions whose return depends more on the queue than on the
// policy), and longer runs drifted away from their best (docs/dsppo.md),
// so a run keeps the parameters whose greedy policy scored best on
// queues of their own (SelectionSeed0 on: neither a validation nor a test
// queue).

// selector scores the model every `every` decisions and keeps a copy of
// the best parameters.
type selector struct {
	cfg     Config
	method  func() Method    // the current parameters' greedy policy
	module  func() nn.Module // the parameters (built by the trainer: read at the first scoring)
	params  []nn.NamedParam
	next    int64     // the next scoring's step
	last    int64     // the last scoring's step
	best    []float32 // flattened parameters, nil until a score beats threshold
	score   float64   // best score so far (the threshold before any)
	step    int64
	onBest  func(step int64, score float64) error
	scoring bool
}

// newSelector scores at the first step that reaches each multiple of
// cfg.SelectEvery after start (a resumed run's step: the scorings of an
// uninterrupted run) and keeps what beats threshold. A run from step 0
// also scores at its first report (the first episode's end, before the
// first update of PPO and REINFORCE, and of DQN when its learning starts
// later): training that only makes the policy worse keeps its start.
func newSelector(cfg Config, start int64, module func() nn.Module, method func() Method, threshold float64, onBest func(int64, float64) error) *selector {
	next := (start/cfg.SelectEvery + 1) * cfg.SelectEvery
	if start == 0 {
		next = 0
	}
	return &selector{cfg: cfg, method: method, module: module, next: next, score: threshold, onBest: onBest}
}

// observe scores the model when step has reached the next scoring point;
// it returns the score (0, false when none was due).
func (s *selector) observe(step int64) (float64, bool, error) {
	if s.scoring || step < s.next {
		return 0, false, nil
	}
	s.scoring = true
	defer func() { s.scoring = false }()
	if s.params == nil {
		s.params = nn.Collect(s.module())
	}
	for s.next <= step {
		s.next += s.cfg.SelectEvery
	}
	s.last = step
	rows, err := Evaluate(s.cfg.Env, []Method{s.method()}, Seeds(SelectionSeed0, s.cfg.SelectQueues))
	if err != nil {
		return 0, false, err
	}
	c, _ := metrics.MeanStd(rows[0].Completion)
	if c < s.score {
		s.score, s.step, s.best = c, step, s.best[:0]
		for _, p := range s.params {
			s.best = append(s.best, p.Param.V.Data...)
		}
		if s.onBest != nil {
			if err := s.onBest(step, c); err != nil {
				return c, true, err
			}
		}
	}
	return c, true, nil
}

// restore puts the best parameters back (nothing when none beat the
// threshold) and reports whether it did.
func (s *selector) restore() bool {
	if s.best == nil {
		return false
	}
	off := 0
	for _, p := range s.params {
		d := p.Param.V.Data
		copy(d, s.best[off:off+len(d)])
		off += len(d)
	}
	return true
}

// selected reports the kept parameters' step and score.
func (s *selector) selected() (int64, float64, bool) {
	return s.step, s.score, s.best != nil
}
