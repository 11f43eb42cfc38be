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
