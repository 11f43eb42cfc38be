// Package rlms trains and evaluates RLMS-CPN (joint compute-node selection
// and multipath splitting with SyncGNN and actor-critic) on the cpn
// simulator, with the paper's baselines on the same tasks.
package rlmsrun

import (
	"fmt"
	"time"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// A PolicyMaker builds the policy evaluated on one environment. Learned
// policies and wf decide from the observation alone and ignore env; the
// paper's heuristics (Base1–Base4) and the oracle read env's true state —
// the one documented exception to deciding from the observation.
type PolicyMaker func(env *cpn.Env) rl.Policy[cpn.Obs]

// Episode is the outcome of one evaluation episode.
type Episode struct {
	// LatencyMs is the response latency of every task, in order (the
	// simulator's latency_ms step info).
	LatencyMs []float64
	// DecisionNs is the mean wall time of one decision.
	DecisionNs float64
}

// Mean returns the mean latency of the episode.
func (e Episode) Mean() float64 { return mean(e.LatencyMs) }

// timed wraps a policy and adds up the wall time of its decisions.
type timed struct {
	p     rl.Policy[cpn.Obs]
	spent time.Duration
}

func (t *timed) Decide(o cpn.Obs) (rl.Action, error) {
	start := time.Now()
	a, err := t.p.Decide(o)
	t.spent += time.Since(start)
	return a, err
}

// Run plays one episode of net's tasks from seed with the policy mk makes,
// through rl.Evaluate. Every policy evaluated with the same seed meets the
// same task stream (the simulator draws tasks and probe noise
// independently of the decisions).
func Run(net *cpn.Network, mk PolicyMaker, seed uint64) (Episode, error) {
	env := cpn.NewEnv(net)
	p := &timed{p: mk(env)}
	var ep Episode
	_, err := rl.Evaluate(rl.Env[cpn.Obs](env), rl.Policy[cpn.Obs](p), 1, seed, func(_ int, s rl.Step[cpn.Obs]) {
		ep.LatencyMs = append(ep.LatencyMs, s.Info["latency_ms"])
	})
	if err != nil {
		return ep, fmt.Errorf("rlms: task %d: %w", len(ep.LatencyMs), err)
	}
	ep.DecisionNs = float64(p.spent.Nanoseconds()) / float64(len(ep.LatencyMs))
	return ep, nil
}

// Baseline returns the named cpn baseline (base1…base4, wf, oracle) as a
// PolicyMaker.
func Baseline(name string) (PolicyMaker, error) {
	b, ok := cpn.Baselines[name]
	if !ok {
		return nil, fmt.Errorf("rlms: unknown baseline %q (want one of %v)", name, cpn.BaselineNames)
	}
	return func(env *cpn.Env) rl.Policy[cpn.Obs] {
		return rl.PolicyFunc[cpn.Obs](func(cpn.Obs) (rl.Action, error) { return b(env) })
	}, nil
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
