package spark

import (
	"math"
	"slices"

	"github.com/cpntrain/cpntrain/rl"
)

// The heuristics of decima-sim (heuristic_agent.py, spark_agent.py), as
// policies over the observation.

// pickFor is the shared first step of decima-sim's heuristics: executors
// of a job stay in it (a runnable stage of the job that is offered, else
// any offered stage of the job), all of them.
func pickFor(o Obs) (rl.Action, bool) {
	if o.SourceJob < 0 {
		return rl.Action{}, false
	}
	j := o.Jobs[o.SourceJob]
	for _, s := range j.Runnable {
		if slices.Contains(o.Valid, s) {
			return o.Use(s, o.SourceExecs), true
		}
	}
	for _, s := range o.Valid {
		if o.Stages[s].Job == o.SourceJob {
			return o.Use(s, o.SourceExecs), true
		}
	}
	return rl.Action{}, false
}

// jobStage is the stage decima-sim's heuristics give job k: its first
// runnable offered stage, else its first offered one (−1: none).
func jobStage(o Obs, k int) int {
	for _, s := range o.Jobs[k].Runnable {
		if slices.Contains(o.Valid, s) {
			return s
		}
	}
	for _, s := range o.Valid {
		if o.Stages[s].Job == k {
			return s
		}
	}
	return -1
}

// uncovered is a stage's tasks not started, committed or moving.
func uncovered(o Obs, s int) int { return o.Stages[s].Tasks - o.Stages[s].Covered }

// DynamicPartition is decima-sim's fair scheduler (its strongest
// heuristic in the paper, "dynamic partition"): every unfinished job may
// hold ⌈executors / unfinished jobs⌉ executors; source executors stay in
// their job, others go to the first job (by arrival) under its share;
// when every job has its share they wait.
func DynamicPartition() rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		if a, ok := pickFor(o); ok {
			return a, nil
		}
		unfinished := 0
		for _, j := range o.Jobs {
			for s := j.First; s < j.First+j.N; s++ {
				if uncovered(o, s) > 0 {
					unfinished++
					break
				}
			}
		}
		cap := int(math.Ceil(float64(o.Cfg.Executors) / float64(max(1, unfinished))))
		for k, j := range o.Jobs {
			if j.Executors >= cap {
				continue
			}
			if s := jobStage(o, k); s >= 0 {
				return o.Use(s, min(uncovered(o, s), cap-j.Executors, o.SourceExecs)), nil
			}
		}
		return o.Void(), nil
	})
}

// StaticPartition is decima-sim's SparkAgent: each job may be given up to
// cap executors by decisions outside it (a count kept per job that only
// grows, as decima-sim keeps it); source executors stay in their job.
// With cap = the cluster's size it is Spark's FIFO: jobs served in
// arrival order, each as wide as it can use.
func StaticPartition(cap int) rl.Policy[Obs] {
	given := map[int]int{} // job (JobObs.ID) → executors given
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		if a, ok := pickFor(o); ok {
			return a, nil
		}
		for k, j := range o.Jobs {
			key := j.ID
			if given[key] >= cap {
				continue
			}
			if s := jobStage(o, k); s >= 0 {
				use := min(uncovered(o, s), cap-given[key], o.SourceExecs)
				given[key] += use
				return o.Use(s, use), nil
			}
		}
		return o.Void(), nil
	})
}

// FIFO is StaticPartition with no cap below the cluster's size.
func FIFO() rl.Policy[Obs] { return StaticPartition(math.MaxInt32) }

// remaining is a job's remaining work (ms): its tasks not yet started ×
// their stage's mean duration.
func remaining(o Obs, k int) float64 {
	j := o.Jobs[k]
	w := 0.0
	for s := j.First; s < j.First+j.N; s++ {
		w += float64(o.Stages[s].TasksLeft) * o.Stages[s].MeanMs
	}
	return w
}

// criticalPath is a job's longest chain of remaining stage work (ms):
// over the DAG, each stage weighing its tasks not yet started × their
// mean duration (the work one executor would take; Decima's SJF-CP
// heuristic weighs the path this way).
func criticalPath(o Obs, k int) float64 {
	j := o.Jobs[k]
	memo := make([]float64, j.N)
	done := make([]bool, j.N)
	var longest func(s int) float64
	longest = func(s int) float64 {
		i := s - j.First
		if done[i] {
			return memo[i]
		}
		best := 0.0
		for _, c := range o.Stages[s].Children {
			best = math.Max(best, longest(c))
		}
		memo[i], done[i] = best+float64(o.Stages[s].TasksLeft)*o.Stages[s].MeanMs, true
		return memo[i]
	}
	cp := 0.0
	for s := j.First; s < j.First+j.N; s++ {
		cp = math.Max(cp, longest(s))
	}
	return cp
}

// SJF is shortest-job-first by critical path: the source executors go to
// the job with the shortest remaining critical path that has a stage to
// offer (its first runnable offered stage), as many as that stage can
// use; ties go to the source job, then by arrival.
func SJF() rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		best, bestCP := -1, math.Inf(1)
		for k := range o.Jobs {
			s := jobStage(o, k)
			if s < 0 {
				continue
			}
			cp := criticalPath(o, k)
			if cp < bestCP || cp == bestCP && k == o.SourceJob {
				best, bestCP = k, cp
			}
		}
		if best < 0 {
			return o.Void(), nil
		}
		s := jobStage(o, best)
		return o.Use(s, min(uncovered(o, s), o.SourceExecs)), nil
	})
}

// WeightedFair is the weighted fair scheduler Decima compares with (its
// strongest heuristic once tuned): like DynamicPartition, but job k may
// hold ⌈Executors × w_k / Σw⌉ executors with w = remaining work^Alpha
// (Alpha 0: equal shares, DynamicPartition's), at most Cap (0: no cap).
func WeightedFair(alpha float64, capExec int) rl.Policy[Obs] {
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		if a, ok := pickFor(o); ok {
			return a, nil
		}
		w := make([]float64, len(o.Jobs))
		sum := 0.0
		for k, j := range o.Jobs {
			unfinished := false
			for s := j.First; s < j.First+j.N; s++ {
				if uncovered(o, s) > 0 {
					unfinished = true
					break
				}
			}
			if unfinished {
				w[k] = math.Pow(math.Max(remaining(o, k), 1), alpha)
				sum += w[k]
			}
		}
		for k, j := range o.Jobs {
			if w[k] == 0 {
				continue
			}
			share := int(math.Ceil(float64(o.Cfg.Executors) * w[k] / sum))
			if capExec > 0 {
				share = min(share, capExec)
			}
			if j.Executors >= share {
				continue
			}
			if s := jobStage(o, k); s >= 0 {
				return o.Use(s, min(uncovered(o, s), share-j.Executors, o.SourceExecs)), nil
			}
		}
		return o.Void(), nil
	})
}
