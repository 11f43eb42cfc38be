// Package rlms trains and evaluates RLMS-CPN (joint compute-node selection
// and multipath splitting with SyncGNN and actor-critic) on the cpn
// simulator, with the paper's baselines on the same tasks.
package rlms

import (
	"fmt"
	"time"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Decider decides for the current task of an environment.
type Decider func(e *cpn.Env) (rl.Action, error)

// Episode is the outcome of one evaluation episode.
type Episode struct {
	// LatencyMs is the response latency of every task, in order.
	LatencyMs []float64
	// DecisionNs is the mean wall time of one decision.
	DecisionNs float64
}

// Mean returns the mean latency of the episode.
func (e Episode) Mean() float64 { return mean(e.LatencyMs) }

// Run plays one episode of net's tasks from seed with decide. Every
// policy evaluated with the same seed meets the same task stream (the
// simulator draws tasks and probe noise independently of the decisions).
func Run(net *cpn.Network, decide Decider, seed uint64) (Episode, error) {
	env := cpn.NewEnv(net)
	if _, err := env.Reset(seed); err != nil {
		return Episode{}, err
	}
	var ep Episode
	var spent time.Duration
	for {
		start := time.Now()
		a, err := decide(env)
		spent += time.Since(start)
		if err != nil {
			return ep, err
		}
		s, err := env.Step(a)
		if err != nil {
			return ep, fmt.Errorf("rlms: task %d: %w", len(ep.LatencyMs), err)
		}
		ep.LatencyMs = append(ep.LatencyMs, s.Info["latency_ms"])
		if s.Done() {
			break
		}
	}
	ep.DecisionNs = float64(spent.Nanoseconds()) / float64(len(ep.LatencyMs))
	return ep, nil
}

// BaselineDecider returns the named cpn baseline (base1…base4, oracle).
func BaselineDecider(name string) (Decider, error) {
	b, ok := cpn.Baselines[name]
	if !ok {
		return nil, fmt.Errorf("rlms: unknown baseline %q (want one of %v)", name, cpn.BaselineNames)
	}
	return Decider(b), nil
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
