package cluster

import (
	"math"

	"github.com/cpntrain/cpntrain/rl"
)

// The greedy baselines, as policies over the observation (the paper's
// First-Fit and two readings of it).

// FirstFit places the task on the first node, in configuration order, and
// with the first of its strategies there, that fits now; it waits only
// when nothing fits (classic first-fit).
func FirstFit() rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		for a, ok := range o.Mask[:o.WaitAction()] {
			if ok {
				return rl.Action{Index: a}, nil
			}
		}
		return rl.Action{Index: o.WaitAction()}, nil
	})
}

// Fastest places the task with the shortest run time among the placements
// that fit now (ties: the first in action order); it waits only when
// nothing fits.
func Fastest() rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		best, bestT := o.WaitAction(), math.Inf(1)
		strategies := o.Cfg.TaskTypes[o.Task].Strategies
		for a, ok := range o.Mask[:o.WaitAction()] {
			if ok {
				if rt := strategies[o.Option(a)].Runtime; rt < bestT {
					best, bestT = a, rt
				}
			}
		}
		return rl.Action{Index: best}, nil
	})
}

// FastestSpread is Fastest with its ties broken towards the node with
// the most free resources (the sum over resources of the free share of
// the node's capacity; ties: the first in action order): the same run
// time, but load spread over the nodes instead of packed on the first.
func FastestSpread() rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		best, bestT, bestFree := o.WaitAction(), math.Inf(1), math.Inf(-1)
		strategies := o.Cfg.TaskTypes[o.Task].Strategies
		slots := len(o.Mask) / max(1, len(o.Nodes))
		for a, ok := range o.Mask[:o.WaitAction()] {
			if !ok {
				continue
			}
			n := o.Nodes[a/slots]
			free := 0.0
			for r := range n.Cap {
				if n.Cap[r] > 0 {
					free += n.Free[r] / n.Cap[r]
				}
			}
			if rt := strategies[o.Option(a)].Runtime; rt < bestT || rt == bestT && free > bestFree {
				best, bestT, bestFree = a, rt, free
			}
		}
		return rl.Action{Index: best}, nil
	})
}

// BestOrWait is the paper's description of its First-Fit baseline (section
// 5.4): it seeks "the best completion time of the current task" and "even
// with a slightly worse node idle, tends to wait for a better one": the
// task runs only with its fastest strategy (on the first node where that
// fits) and otherwise waits, unless waiting is not allowed (nothing runs
// and nothing will arrive), when it takes the fastest placement that fits.
func BestOrWait() rl.Policy[Obs] {
	fastest := Fastest()
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		strategies := o.Cfg.TaskTypes[o.Task].Strategies
		bestT := math.Inf(1)
		for _, s := range strategies {
			if fitsEmpty(o, s) {
				bestT = math.Min(bestT, s.Runtime)
			}
		}
		for a, ok := range o.Mask[:o.WaitAction()] {
			if ok && strategies[o.Option(a)].Runtime == bestT {
				return rl.Action{Index: a}, nil
			}
		}
		if o.Mask[o.WaitAction()] {
			return rl.Action{Index: o.WaitAction()}, nil
		}
		return fastest.Decide(o)
	})
}

// fitsEmpty reports whether strategy s fits an empty node of its cluster.
func fitsEmpty(o Obs, s Strategy) bool {
	for _, cl := range o.Cfg.Clusters {
		if cl.Name == s.Cluster {
			return cl.Nodes > 0 && fits(s.Demand.Vec(), cl.Node.Vec())
		}
	}
	return false
}
