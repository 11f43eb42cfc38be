// Package spark simulates the Spark cluster of Decima (Mao et al.,
// SIGCOMM 2019) as its simulator hongzimao/decima-sim models it: jobs are
// DAGs of stages from the TPC-H measurements (datasets/tpch), executors
// run one task at a time, and at every scheduling event the scheduler
// picks a runnable stage and how many executors its job may hold.
//
// It is a port of decima-sim's semantics (spark_env/env.py, node.py,
// job_dag.py and the translation of the action in actor_agent.py),
// written anew; the places where it departs are listed below and in
// docs/decima.md.
//
// # Semantics (decima-sim's)
//
//   - Executors start in a free pool that belongs to no job. One moving
//     to a job's stage (from the pool or from another job) arrives after
//     MovingDelay; one of the job already runs the stage's tasks at once.
//   - A scheduling event has source executors: all free executors at the
//     start and at a job's arrival (those of the free pool), the free
//     executors of a job when one of its stages completes and a child
//     becomes runnable, or the executors of a stage when its last task has
//     started and one of them finishes. The scheduler commits them, a
//     decision at a time, to stages (Obs.Valid: stages not chosen in this
//     round, not saturated — started + committed + moving tasks cover
//     them — whose parents are saturated); when all are committed the
//     commitments are carried out. An executor whose stage still has
//     tasks to start keeps running them without a decision.
//   - An action is a stage and an executor limit for its job: the
//     executors committed are min(the stage's uncovered tasks, limit − the
//     job's executors (+ the source executors when they are the job's),
//     the source executors).
//   - Task durations come from the measurements of the stage at an
//     executor count near the job's (the data points around it, one drawn
//     as decima-sim draws it): an executor new to the job draws a fresh
//     duration (or a first-wave one plus WarmupDelay), one that ran the
//     same stage before a rest-wave duration, otherwise a first-wave one
//     (first waves without the fresh durations, as decima-sim cleans
//     them). Decisions with no stage to offer commit the source executors
//     to nothing (decima-sim's agent then returns no stage) without
//     asking the scheduler.
//   - Reward: −(jobs in the system × elapsed ms)/RewardScale between
//     decisions: the return is −Σ job durations/RewardScale (Decima's
//     average-JCT objective).
//
// # Where it departs from decima-sim
//
//   - Every draw (jobs, arrivals, executor keys, durations) comes from the
//     episode's seeded generator; decima-sim draws durations from NumPy's
//     global generator, so its episodes cannot be repeated.
//   - A measurement list that is empty where decima-sim would index it
//     (and fail) gives the stage's mean duration instead.
//   - The reward counts a job that arrives and completes between two
//     decisions (decima-sim's reward calculator misses it).
//   - Executors released to the free pool when a job completes wait there
//     until the next job arrives, as in decima-sim (its free pool is only
//     consulted at arrivals): in batch mode they stay idle.
package spark
