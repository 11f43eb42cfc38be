package rl

import (
	"fmt"
	"math"
	"sort"
)

// Policy decides an action from an observation alone. Learned policies
// (rl/agent's Greedy and Sampled adapters), heuristics and baselines all
// implement it, so one Evaluate scores them all on the same episodes. An
// oracle that needs the simulator's hidden state is the one exception: it
// is built around its environment and still implements Policy over that
// environment's observations, saying so in its documentation.
//
// Decide may keep scratch state between calls of one episode; it must not
// be called concurrently.
type Policy[O any] interface {
	Decide(obs O) (Action, error)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc[O any] func(obs O) (Action, error)

// Decide implements Policy.
func (f PolicyFunc[O]) Decide(obs O) (Action, error) { return f(obs) }

// Evaluation is the outcome of Evaluate: one entry per episode, in order.
type Evaluation struct {
	Returns []float64
	Lengths []int
	// Info sums every step-info key per episode: Info[key][episode].
	// Keys missing from a step count as 0 for that step.
	Info map[string][]float64
	// Steps is the total number of steps.
	Steps int
}

// MeanReturn is the mean episode return (NaN with no episode).
func (e Evaluation) MeanReturn() float64 { return mean(e.Returns) }

// InfoPerStep is the mean of info key over all steps of all episodes
// (NaN if the key never appeared or there was no step).
func (e Evaluation) InfoPerStep(key string) float64 {
	v, ok := e.Info[key]
	if !ok || e.Steps == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(e.Steps)
}

// InfoKeys lists the info keys seen, sorted.
func (e Evaluation) InfoKeys() []string {
	keys := make([]string, 0, len(e.Info))
	for k := range e.Info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Evaluate runs episodes episodes of p on env, resetting it with seeds
// seed, seed+1, …, and returns their returns, lengths and summed step
// infos; onStep functions, if any, see every step (per-task records). It
// is the one evaluation loop of the project: trainers, models and benches
// call it for learned policies and heuristics alike, so two policies
// evaluated with the same seed meet the same episodes.
func Evaluate[O any](env Env[O], p Policy[O], episodes int, seed uint64, onStep ...func(episode int, s Step[O])) (Evaluation, error) {
	if episodes < 0 {
		return Evaluation{}, fmt.Errorf("rl: evaluate: %d episodes", episodes)
	}
	ev := Evaluation{Returns: make([]float64, 0, episodes), Lengths: make([]int, 0, episodes), Info: map[string][]float64{}}
	for ep := 0; ep < episodes; ep++ {
		o, err := env.Reset(seed + uint64(ep))
		if err != nil {
			return ev, fmt.Errorf("rl: evaluate: episode %d: reset: %w", ep, err)
		}
		var ret float64
		n := 0
		for {
			a, err := p.Decide(o)
			if err != nil {
				return ev, fmt.Errorf("rl: evaluate: episode %d, step %d: policy: %w", ep, n, err)
			}
			s, err := env.Step(a)
			if err != nil {
				return ev, fmt.Errorf("rl: evaluate: episode %d, step %d: %w", ep, n, err)
			}
			ret += s.Reward
			n++
			for _, f := range onStep {
				f(ep, s)
			}
			for k, v := range s.Info {
				col := ev.Info[k]
				if col == nil {
					col = make([]float64, ep, episodes)
				}
				if len(col) == ep {
					col = append(col, 0)
				}
				col[ep] += v
				ev.Info[k] = col
			}
			o = s.Obs
			if s.Done() {
				break
			}
		}
		for k, col := range ev.Info {
			if len(col) == ep {
				ev.Info[k] = append(col, 0)
			}
		}
		ev.Returns = append(ev.Returns, ret)
		ev.Lengths = append(ev.Lengths, n)
		ev.Steps += n
	}
	return ev, nil
}
