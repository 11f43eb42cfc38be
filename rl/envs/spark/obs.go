package spark

import (
	"fmt"

	"github.com/cpntrain/cpntrain/rl"
)

// JobObs is a job in the system.
type JobObs struct {
	// ID is the job's index in the episode (arrival order).
	ID      int
	Name    string
	Arrival float64 // ms
	// Executors counts the executors on the job, moving to it and
	// committed to it from elsewhere (decima-sim's exec_map).
	Executors int
	// MinLimit is the smallest executor limit an action on this job may
	// choose (more than Executors, less the source executors when they
	// are the job's); above Config.Executors no stage of the job is
	// offered.
	MinLimit int
	// Stages are the job's stage slots in Obs.Stages: [First, First+N).
	First, N int
	// Runnable are the slots of its stages whose parents are done and
	// which have tasks to start, in decima-sim's order (job_dag's
	// frontier_nodes).
	Runnable []int
}

// StageObs is one stage of a job in the system.
type StageObs struct {
	Job, Stage int // index in Obs.Jobs; stage index in its job
	Tasks      int
	TasksLeft  int     // not yet started
	MeanMs     float64 // the mean measured task duration (decima-sim's rough duration)
	Running    int     // executors on it
	// Covered counts its tasks started, plus the executors committed or
	// moving to it (Covered ≥ Tasks: saturated).
	Covered int
	Done    bool
	// Children and Parents are stage slots in Obs.Stages.
	Children, Parents []int
}

// Obs is what the scheduler sees at a decision: the jobs in the system
// and their stages, the source executors to place (SourceJob: the job
// they belong to, index in Jobs, −1 for the free pool), and the stages it
// may choose (Valid: slots). Action slot·Cfg.Executors + limit − 1 runs
// stage `slot` and lets its job hold `limit` executors. Observations
// are snapshots.
type Obs struct {
	Cfg         *Config
	Time        float64
	Jobs        []JobObs
	Stages      []StageObs
	SourceJob   int
	SourceExecs int
	Valid       []int
	// Done is true on the episode's final observation.
	Done bool
	Memo *rl.Memo
}

// ActionMask implements rl.Masked: allowed are the valid stages with a
// limit from their job's MinLimit up to the cluster's size. It has
// Cfg.MaxJobs × MaxStages × Cfg.Executors entries: models should use
// Valid and MinLimit instead.
func (o Obs) ActionMask() []bool {
	if o.Cfg == nil {
		return nil
	}
	e := o.Cfg.Executors
	m := make([]bool, o.Cfg.MaxJobs*MaxStages*e+1)
	for _, slot := range o.Valid {
		for l := o.Jobs[o.Stages[slot].Job].MinLimit; l <= e; l++ {
			m[slot*e+l-1] = true
		}
	}
	m[len(m)-1] = !o.Done
	return m
}

// Action returns the action running stage slot with executor limit.
func (o Obs) Action(slot, limit int) rl.Action {
	return rl.Action{Index: slot*o.Cfg.Executors + limit - 1}
}

// Void is the action committing the source executors to nothing.
func (o Obs) Void() rl.Action { return rl.Action{Index: o.Cfg.MaxJobs * MaxStages * o.Cfg.Executors} }

// Use returns the action committing `use` executors (≥ 1) to stage slot:
// the limit that makes Step commit min(use, the stage's uncovered tasks,
// the source executors).
func (o Obs) Use(slot, use int) rl.Action {
	j := o.Jobs[o.Stages[slot].Job]
	limit := j.Executors + use
	if o.Stages[slot].Job == o.SourceJob {
		limit -= o.SourceExecs
	}
	return o.Action(slot, max(j.MinLimit, min(limit, o.Cfg.Executors)))
}

// execMap is decima-sim's exec_map for job j.
func (e *Env) execMap(j int) int {
	jb := e.jobs[j]
	n := len(jb.executors)
	for s := range jb.stages {
		n += jb.stages[s].moving
	}
	for src, l := range e.commit {
		for _, c := range l {
			if c.node.isStage() && c.node.j == j && c.node.j != src.j {
				n += c.amount
			}
		}
	}
	return n
}

// minLimit is the least executor limit for job j (decima-sim's
// least_exec_amount).
func (e *Env) minLimit(j int) int {
	if j == e.sourceJob {
		return e.execMap(j) - e.numSource + 1
	}
	return e.execMap(j) + 1
}

// validStages are the frontier stages whose job can take one more
// executor.
func (e *Env) validStages() []ref {
	var out []ref
	lim := map[int]int{}
	for _, r := range e.frontierNodes() {
		l, ok := lim[r.j]
		if !ok {
			l = e.minLimit(r.j)
			lim[r.j] = l
		}
		if l <= e.Cfg.Executors {
			out = append(out, r)
		}
	}
	return out
}

func (e *Env) obs() Obs {
	o := Obs{Cfg: &e.Cfg, Time: e.now, SourceJob: -1, SourceExecs: e.numSource, Done: e.done, Memo: new(rl.Memo)}
	slotOf := map[ref]int{}
	for k, j := range e.system {
		jb := e.jobs[j]
		if j == e.sourceJob {
			o.SourceJob = k
		}
		o.Jobs = append(o.Jobs, JobObs{ID: j, Name: jb.spec.Name, Arrival: jb.arrival, Executors: e.execMap(j), MinLimit: e.minLimit(j), First: len(o.Stages), N: len(jb.stages)})
		for s := range jb.stages {
			st := &jb.stages[s]
			slotOf[ref{j, s}] = len(o.Stages)
			o.Stages = append(o.Stages, StageObs{Job: k, Stage: s, Tasks: st.spec.Tasks, TasksLeft: st.spec.Tasks - st.next,
				MeanMs: st.spec.MeanMs, Running: len(st.executors), Covered: st.next + st.commit + st.moving, Done: st.allDone})
		}
		for _, s := range jb.frontier {
			o.Jobs[k].Runnable = append(o.Jobs[k].Runnable, slotOf[ref{j, s}])
		}
	}
	for i := range o.Stages {
		so := &o.Stages[i]
		j := e.system[so.Job]
		st := &e.jobs[j].stages[so.Stage]
		for _, c := range st.children {
			so.Children = append(so.Children, slotOf[ref{j, c}])
		}
		for _, p := range st.parents {
			so.Parents = append(so.Parents, slotOf[ref{j, p}])
		}
	}
	if !e.done {
		for _, r := range e.validStages() {
			if slot := slotOf[r]; slot < e.Cfg.MaxJobs*MaxStages { // beyond: outside the action space
				o.Valid = append(o.Valid, slot)
			}
		}
	}
	return o
}

// Step implements rl.Env: the void action (Obs.Void) commits the source
// executors to nothing; action slot·Executors + limit − 1 commits
// min(the stage's tasks not yet covered, limit − the job's executors
// (+ the source executors when they are the job's), the source executors)
// executors to stage slot (decima-sim's actor agent), then runs the
// cluster to the next decision. The reward is −(jobs in the system ×
// elapsed ms)/RewardScale; the last step's Info has the episode's
// metrics (avg_jct_s, jobs_done, makespan_s).
func (e *Env) Step(a rl.Action) (rl.Step[Obs], error) {
	if !e.started || e.done {
		return rl.Step[Obs]{}, rl.ErrEpisodeOver
	}
	node, use, err := e.decode(a)
	if err != nil {
		return rl.Step[Obs]{}, err
	}
	before := e.area
	e.decisions++
	e.apply(node, use)
	e.skipVoid()
	step := rl.Step[Obs]{Obs: e.obs(), Reward: -(e.area - before) / e.Cfg.RewardScale, Terminated: e.done && !e.cut, Truncated: e.cut}
	if e.done {
		step.Info = e.metrics()
	}
	return step, nil
}

// decode turns an action into decima-sim's (stage, executors committed).
func (e *Env) decode(a rl.Action) (ref, int, error) {
	ex := e.Cfg.Executors
	if a.Index == e.ActionSpace().N-1 { // void: the source executors wait
		return none, e.numSource, nil
	}
	slot, limit := a.Index/ex, a.Index%ex+1
	var r ref
	k := 0
	found := false
	for _, j := range e.system {
		if slot < k+len(e.jobs[j].stages) {
			r, found = ref{j, slot - k}, true
			break
		}
		k += len(e.jobs[j].stages)
	}
	if a.Index < 0 || !found || !containsRef(e.offered(), r) {
		return none, 0, fmt.Errorf("%w: stage slot %d is not offered", rl.ErrInvalidAction, slot)
	}
	if ml := e.minLimit(r.j); limit < ml {
		return none, 0, fmt.Errorf("%w: executor limit %d below the job's %d", rl.ErrInvalidAction, limit, ml)
	}
	st := e.stage(r)
	agent := limit - e.execMap(r.j)
	if r.j == e.sourceJob {
		agent += e.numSource
	}
	return r, min(st.spec.Tasks-st.next-st.commit-st.moving, agent, e.numSource), nil
}

func containsRef(l []ref, r ref) bool {
	for _, x := range l {
		if x == r {
			return true
		}
	}
	return false
}

// metrics are the episode's: the mean completion time of the jobs done
// (s), how many, and the last completion.
func (e *Env) metrics() map[string]float64 {
	var sum, last float64
	n := 0
	for _, jb := range e.jobs {
		if jb.completed {
			sum += jb.completion - jb.arrival
			last = max(last, jb.completion)
			n++
		}
	}
	m := map[string]float64{"jobs_done": float64(n), "makespan_s": last / 1000, "decisions": float64(e.decisions)}
	if n > 0 {
		m["avg_jct_s"] = sum / float64(n) / 1000
	}
	return m
}

var _ rl.Env[Obs] = (*Env)(nil)

// JCTs returns the completion times (s) of the jobs completed so far in
// the episode, in arrival order (for CDFs; avg_jct_s is their mean).
func (e *Env) JCTs() []float64 {
	var out []float64
	for _, jb := range e.jobs {
		if jb.completed {
			out = append(out, (jb.completion-jb.arrival)/1000)
		}
	}
	return out
}
