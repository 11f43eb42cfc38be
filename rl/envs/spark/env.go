package spark

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/rl"
)

// ref names a stage (j, s), a job's free executors (j, −1), or nothing
// (−1, −1): the executor sources and destinations of decima-sim.
type ref struct{ j, s int }

var none = ref{-1, -1}

func (r ref) isNone() bool  { return r.j < 0 }
func (r ref) isStage() bool { return r.j >= 0 && r.s >= 0 }

// executor is one executor: the job it belongs to (−1: the free pool),
// the stage it works on (node) and the stage of its last task (task: −1
// when detached, decima-sim's executor.task).
type executor struct {
	job        int
	node, task ref
}

type stage struct {
	spec      *tpch.Stage
	next      int // next task to start
	finished  int
	noMore    bool // every task started
	allDone   bool
	executors []int // ordered
	commit    int   // executors committed to it
	moving    int   // executors moving to it
	parents   []int
	children  []int
}

type job struct {
	spec       *tpch.Job
	arrival    float64
	completion float64
	stages     []stage
	executors  []int // ordered: executors that belong to the job
	frontier   []int // ordered: runnable stages (decima-sim's job_dag.frontier_nodes)
	nodesDone  int
	completed  bool
	inSystem   bool
}

type commitEntry struct {
	node   ref
	amount int
}

// event kinds.
const (
	evTask = iota
	evArrival
	evExecutor
)

type event struct {
	t    float64
	seq  int
	kind int
	j, s int // task: its stage; arrival: the job
	x    int // task, executor: the executor
}

type timeline []event

func (h timeline) Len() int { return len(h) }
func (h timeline) Less(a, b int) bool {
	if h[a].t != h[b].t {
		return h[a].t < h[b].t
	}
	return h[a].seq < h[b].seq
}
func (h timeline) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *timeline) Push(x any)   { *h = append(*h, x.(event)) }
func (h *timeline) Pop() any     { o := *h; x := o[len(o)-1]; *h = o[:len(o)-1]; return x }
func (e *Env) push(ev event)     { ev.seq = e.seq; e.seq++; heap.Push(&e.tl, ev) }
func (e *Env) pushTask(t float64, j, s, x int) {
	e.push(event{t: t, kind: evTask, j: j, s: s, x: x})
}

// Env is the Spark cluster of decima-sim (package doc). Build it with
// NewEnv.
type Env struct {
	Cfg     Config
	library map[string][]*tpch.Job // size → queries 1…

	rng  *rand.Rand
	seed uint64

	now        float64
	tl         timeline
	seq        int
	jobs       []*job // every job of the episode, by arrival
	system     []int  // jobs in the system, by arrival
	exec       []executor
	free       map[int][]int // job (−1: the null pool) → ordered free executors
	commit     map[ref][]commitEntry
	nodeCommit map[ref]int // committed executors per destination (none included)
	movingTo   map[int]ref

	toSchedule []int // decima-sim's exec_to_schedule
	sourceJob  int
	numSource  int
	selected   map[ref]bool

	area, prevArea float64 // ∫ jobs in the system dt (ms), at the last step
	lastT          float64
	started, done  bool
	cut            bool // done by Cfg.MaxTime with work left (a truncation)
	decisions      int
}

// NewEnv validates cfg and builds an environment drawing its jobs from
// library (every job of cfg.Sizes × 1…cfg.Queries must be in it).
func NewEnv(cfg Config, library []*tpch.Job) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Env{Cfg: cfg, library: map[string][]*tpch.Job{}}
	for _, s := range cfg.Sizes {
		e.library[s] = make([]*tpch.Job, cfg.Queries)
	}
	for _, j := range library {
		if l, ok := e.library[j.Size]; ok && j.Query >= 1 && j.Query <= cfg.Queries {
			l[j.Query-1] = j
		}
	}
	for s, l := range e.library {
		for q, j := range l {
			if j == nil {
				return nil, fmt.Errorf("spark: the job library lacks query %d at size %s", q+1, s)
			}
			if len(j.Stages) > MaxStages {
				return nil, fmt.Errorf("spark: %s has %d stages, more than %d", j.Name, len(j.Stages), MaxStages)
			}
		}
	}
	return e, nil
}

// MaxStages is the most stages a job may have (TPC-H's largest has 20).
const MaxStages = 32

// ActionSpace implements rl.Env: action slot·Executors + (limit − 1)
// runs stage slot (Obs.Stages' index) with the job's executor limit
// `limit`; slots are MaxJobs × MaxStages; the last action (Obs.Void)
// commits the source executors to nothing (they wait).
func (e *Env) ActionSpace() rl.Space {
	return rl.Space{Kind: rl.Discrete, N: e.Cfg.MaxJobs*MaxStages*e.Cfg.Executors + 1}
}

// Reset implements rl.Env: a job stream drawn from seed (every draw of
// the episode, durations included, comes from the seed), every executor
// free in the null pool.
func (e *Env) Reset(seed uint64) (Obs, error) {
	e.rng = rand.New(rand.NewPCG(seed, 0x5a4c))
	e.seed = seed
	var specs []*tpch.Job
	var arrivals []float64
	t := 0.0
	for i := range e.Cfg.InitJobs + e.Cfg.StreamJobs {
		if i >= e.Cfg.InitJobs {
			t += math.Floor(e.rng.ExpFloat64() * e.Cfg.MeanGap)
		}
		// decima-sim draws the size, then the query (its initial jobs
		// draw the query first; one order is used here).
		size := e.Cfg.Sizes[e.rng.IntN(len(e.Cfg.Sizes))]
		q := e.rng.IntN(e.Cfg.Queries)
		specs, arrivals = append(specs, e.library[size][q]), append(arrivals, t)
	}
	return e.ResetJobs(specs, arrivals)
}

// ResetJobs starts an episode on given jobs arriving at given times
// (non-decreasing, ≥ 0; those at 0 are in the system at the start), with
// the generator of the last Reset's seed (or seed 0).
func (e *Env) ResetJobs(specs []*tpch.Job, arrivals []float64) (Obs, error) {
	if len(specs) == 0 || len(specs) != len(arrivals) {
		return Obs{}, fmt.Errorf("spark: %d jobs and %d arrival times", len(specs), len(arrivals))
	}
	for i, a := range arrivals {
		if !(a >= 0) || math.IsInf(a, 0) || i > 0 && a < arrivals[i-1] {
			return Obs{}, fmt.Errorf("spark: job %d arrives at %v: times must be finite, ≥ 0 and non-decreasing", i, a)
		}
		if specs[i] == nil || len(specs[i].Stages) == 0 || len(specs[i].Stages) > MaxStages {
			return Obs{}, fmt.Errorf("spark: job %d has no stage or more than %d", i, MaxStages)
		}
	}
	if e.rng == nil {
		e.rng = rand.New(rand.NewPCG(0, 0x5a4c))
	}
	e.now, e.tl, e.seq, e.lastT, e.area, e.prevArea, e.decisions = 0, e.tl[:0], 0, 0, 0, 0, 0
	e.jobs, e.system = nil, nil
	e.exec = make([]executor, e.Cfg.Executors)
	e.free = map[int][]int{-1: nil}
	e.commit = map[ref][]commitEntry{none: nil}
	e.nodeCommit = map[ref]int{none: 0}
	e.movingTo = map[int]ref{}
	e.selected = map[ref]bool{}
	for x := range e.exec {
		e.exec[x] = executor{job: -1, node: none, task: none}
		e.free[-1] = append(e.free[-1], x)
	}
	for i, sp := range specs {
		jb := &job{spec: sp, arrival: arrivals[i], completion: math.Inf(1), stages: make([]stage, len(sp.Stages))}
		for s := range jb.stages {
			jb.stages[s] = stage{spec: &sp.Stages[s], parents: sp.Parents[s], children: sp.Children[s]}
		}
		for s := range jb.stages {
			if jb.schedulable(s) {
				jb.frontier = append(jb.frontier, s)
			}
		}
		e.jobs = append(e.jobs, jb)
		if arrivals[i] == 0 {
			e.addJob(i)
		} else {
			e.push(event{t: arrivals[i], kind: evArrival, j: i})
		}
	}
	e.sourceJob, e.numSource = -1, e.Cfg.Executors
	e.toSchedule = slices.Clone(e.free[-1])
	e.started, e.done, e.cut = true, false, false
	if len(e.system) == 0 { // nothing at t = 0: run to the first arrival
		e.numSource = 0
		e.toSchedule = nil
		e.run()
	}
	e.skipVoid()
	return e.obs(), nil
}

// schedulable is decima-sim's node.is_schedulable.
func (jb *job) schedulable(s int) bool {
	st := &jb.stages[s]
	if st.noMore || st.allDone {
		return false
	}
	for _, p := range st.parents {
		if !jb.stages[p].allDone {
			return false
		}
	}
	return true
}

func (e *Env) addJob(j int) {
	jb := e.jobs[j]
	jb.inSystem = true
	e.system = append(e.system, j)
	e.free[j] = nil
	e.commit[ref{j, -1}] = nil
	for s := range jb.stages {
		e.commit[ref{j, s}] = nil
		e.nodeCommit[ref{j, s}] = 0
	}
}

func (e *Env) stage(r ref) *stage { return &e.jobs[r.j].stages[r.s] }

func removeValue(s []int, v int) []int {
	if i := slices.Index(s, v); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}

func addValue(s []int, v int) []int {
	if !slices.Contains(s, v) {
		s = append(s, v)
	}
	return s
}

func (e *Env) detachNode(x int) {
	ex := &e.exec[x]
	if ex.node.isStage() {
		st := e.stage(ex.node)
		st.executors = removeValue(st.executors, x)
	}
	ex.node, ex.task = none, none
}

func (e *Env) detachJob(x int) {
	ex := &e.exec[x]
	if ex.job >= 0 {
		jb := e.jobs[ex.job]
		jb.executors = removeValue(jb.executors, x)
	}
	ex.job = -1
	e.detachNode(x)
}

// freeAdd puts x in job's free pool (−1: the null pool).
func (e *Env) freeAdd(j, x int) {
	if j < 0 {
		e.detachJob(x)
	} else {
		e.detachNode(x)
	}
	e.free[j] = addValue(e.free[j], x)
}

func (e *Env) movingAdd(x int, node ref) {
	e.detachJob(x)
	e.movingTo[x] = node
	e.stage(node).moving++
}

// move sends x to stage node: it arrives after the moving delay.
func (e *Env) move(x int, node ref) {
	e.push(event{t: e.now + e.Cfg.MovingDelay, kind: evExecutor, x: x})
	e.movingAdd(x, node)
}

func (e *Env) movingPop(x int) ref {
	node, ok := e.movingTo[x]
	if !ok {
		return none
	}
	delete(e.movingTo, x)
	e.stage(node).moving--
	return node
}

func (e *Env) commitAdd(source, node ref, amount int) {
	l := e.commit[source]
	i := slices.IndexFunc(l, func(c commitEntry) bool { return c.node == node })
	if i < 0 {
		l = append(l, commitEntry{node, 0})
		i = len(l) - 1
	}
	l[i].amount += amount
	e.commit[source] = l
	e.nodeCommit[node] += amount
	if node.isStage() {
		e.stage(node).commit += amount
	}
}

func (e *Env) commitPop(source ref) ref {
	l := e.commit[source]
	node := l[0].node
	l[0].amount--
	e.nodeCommit[node]--
	if node.isStage() {
		e.stage(node).commit--
	}
	if l[0].amount == 0 {
		l = slices.Delete(l, 0, 1)
	}
	e.commit[source] = l
	return node
}

// saturated is decima-sim's: the tasks started, committed and headed for
// cover the stage.
func (e *Env) saturated(r ref) bool {
	st := e.stage(r)
	return st.next+st.commit+st.moving >= st.spec.Tasks
}

// frontierNodes is decima-sim's get_frontier_nodes: stages not selected in
// this round, not saturated, whose parents are saturated.
func (e *Env) frontierNodes() []ref {
	var out []ref
	for _, j := range e.system {
		jb := e.jobs[j]
		for s := range jb.stages {
			r := ref{j, s}
			if e.selected[r] || e.saturated(r) {
				continue
			}
			ok := true
			for _, p := range jb.stages[s].parents {
				if !e.saturated(ref{j, p}) {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// sourceOf is decima-sim's source of an executor: its stage, else its
// job, else nothing.
func (e *Env) sourceOf(x int) ref {
	ex := e.exec[x]
	if ex.node.isStage() {
		return ex.node
	}
	if ex.job >= 0 {
		return ref{ex.job, -1}
	}
	return none
}

// executorKey is decima-sim's sample_executor_key: the data point below
// and above n, the lower one with probability (r − n)/(r − l)... as
// decima-sim writes it: a draw u uniform in 1…r−l picks l when u ≤ n − l.
// A key the stage has no first wave for becomes its largest.
func (e *Env) executorKey(st *stage, n int) int {
	dp := e.Cfg.DataPoints
	var l, r int
	switch i, found := slices.BinarySearch(dp, n); {
	case found || n <= dp[0]:
		l, r = dp[min(i, len(dp)-1)], dp[min(i, len(dp)-1)]
		if n <= dp[0] {
			l, r = dp[0], dp[0]
		}
	case i >= len(dp):
		l, r = dp[len(dp)-1], dp[len(dp)-1]
	default:
		l, r = dp[i-1], dp[i]
	}
	key := l
	if l != r {
		if u := 1 + e.rng.IntN(r-l); u > n-l {
			key = r
		}
	}
	fw := st.spec.FirstWaveClean
	if _, ok := slices.BinarySearch(fw.Executors, key); !ok {
		key = slices.Max(fw.Executors)
	}
	return key
}

func (e *Env) pick(l []float64) float64 { return l[e.rng.IntN(len(l))] }

// duration is decima-sim's node.schedule's duration for a task of stage
// r run by executor x (package doc).
func (e *Env) duration(r ref, x int) float64 {
	jb := e.jobs[r.j]
	st := &jb.stages[r.s]
	key := e.executorKey(st, len(jb.executors))
	sp := st.spec
	first, rest, fresh := sp.FirstWaveClean.Of(key), sp.RestWave.Of(key), sp.Fresh.Of(key)
	ex := e.exec[x]
	switch {
	case ex.task.isNone() || ex.task.j != r.j: // fresh to the job: warm-up
		if len(fresh) > 0 {
			return e.pick(fresh)
		}
		if len(first) > 0 {
			return e.pick(first) + e.Cfg.WarmupDelay
		}
	case ex.task == r && len(rest) > 0: // the same stage again
		return e.pick(rest)
	default: // fresh to the stage
		if len(first) > 0 {
			return e.pick(first)
		}
		if len(fresh) > 0 {
			return e.pick(fresh)
		}
	}
	// No measurement for this case at this key (decima-sim would fail on
	// an empty list): the stage's mean duration.
	return sp.MeanMs
}

// startTask is decima-sim's node.schedule: stage r's next task on x now.
func (e *Env) startTask(r ref, x int) {
	d := e.duration(r, x)
	e.detachNode(x)
	jb := e.jobs[r.j]
	st := &jb.stages[r.s]
	ex := &e.exec[x]
	ex.task, ex.node, ex.job = r, r, r.j
	st.executors = addValue(st.executors, x)
	st.next++
	st.noMore = st.next >= st.spec.Tasks
	if st.noMore {
		jb.frontier = removeValue(jb.frontier, r.s)
	}
	e.pushTask(e.now+d, r.j, r.s, x)
}

func (e *Env) inFrontier(r ref) bool { return slices.Contains(e.jobs[r.j].frontier, r.s) }

// assignExecutor is decima-sim's assign_executor, for x whose task just
// ended.
func (e *Env) assignExecutor(x int, frontierChanged bool) {
	ex := e.exec[x]
	if ex.node.isStage() && !e.stage(ex.node).noMore {
		e.startTask(ex.node, x) // keep working on the stage
		return
	}
	if frontierChanged {
		src := ex.job
		if ex.node.isStage() && len(e.commit[ex.node]) > 0 {
			e.toSchedule = []int{x}
			e.schedule()
		} else {
			e.freeAdd(src, x)
		}
		e.toSchedule = slices.Clone(e.free[src])
		e.sourceJob, e.numSource = src, len(e.free[src])
		return
	}
	e.toSchedule = []int{x}
	if ex.node.isStage() && len(e.commit[ex.node]) > 0 {
		e.schedule()
		return
	}
	e.sourceJob = ex.job
	e.numSource = 0
	if ex.node.isStage() {
		e.numSource = len(e.stage(ex.node).executors)
	}
}

// backupSchedule is decima-sim's backup_schedule: a runnable stage of x's
// job, else the first frontier stage anywhere (moving), else idle.
func (e *Env) backupSchedule(x int) {
	ex := e.exec[x]
	if ex.job >= 0 {
		for _, s := range e.jobs[ex.job].frontier {
			if r := (ref{ex.job, s}); !e.saturated(r) {
				e.startTask(r, x)
				return
			}
		}
	}
	if f := e.frontierNodes(); len(f) > 0 {
		e.move(x, f[0])
		return
	}
	e.freeAdd(ex.job, x)
}

// schedule is decima-sim's schedule: fulfil the commitments of the first
// executor's source with the executors to schedule.
func (e *Env) schedule() {
	if len(e.toSchedule) == 0 {
		return
	}
	source := e.sourceOf(e.toSchedule[0])
	for len(e.commit[source]) > 0 && len(e.toSchedule) > 0 {
		node := e.commitPop(source)
		x := e.toSchedule[0]
		e.toSchedule = e.toSchedule[1:]
		ex := e.exec[x]
		if slices.Contains(e.free[ex.job], x) {
			e.free[ex.job] = removeValue(e.free[ex.job], x)
		}
		switch {
		case node.isNone():
			if ex.job >= 0 && slices.ContainsFunc(e.jobs[ex.job].stages, func(s stage) bool { return !s.noMore }) {
				e.freeAdd(ex.job, x)
			} else {
				e.freeAdd(-1, x)
			}
		case !e.stage(node).noMore:
			if ex.job == node.j {
				if e.inFrontier(node) {
					e.startTask(node, x)
				} else {
					e.freeAdd(ex.job, x)
				}
			} else {
				e.move(x, node)
			}
		default:
			e.backupSchedule(x)
		}
	}
}

// integrate adds the jobs in the system × time up to t.
func (e *Env) integrate(t float64) {
	if t > e.lastT {
		e.area += float64(len(e.system)) * (t - e.lastT)
		e.lastT = t
	}
	e.now = math.Max(e.now, t)
}

// run processes events until a decision is needed or none is left.
func (e *Env) run() {
	for len(e.tl) > 0 && e.numSource == 0 {
		ev := heap.Pop(&e.tl).(event)
		e.integrate(ev.t)
		switch ev.kind {
		case evTask:
			jb := e.jobs[ev.j]
			st := &jb.stages[ev.s]
			st.finished++
			changed := false
			if st.finished == st.spec.Tasks {
				st.allDone = true
				jb.nodesDone++
				for _, c := range st.children {
					if jb.schedulable(c) {
						jb.frontier = addValue(jb.frontier, c)
						changed = true // decima-sim: any schedulable child (see the package doc)
					}
				}
			}
			e.assignExecutor(ev.x, changed)
			if jb.nodesDone == len(jb.stages) && !jb.completed {
				jb.completed, jb.completion = true, e.now
				e.removeJob(ev.j)
			}
		case evArrival:
			e.addJob(ev.j)
			if len(e.free[-1]) > 0 {
				e.toSchedule = slices.Clone(e.free[-1])
				e.sourceJob, e.numSource = -1, len(e.free[-1])
			}
		case evExecutor:
			x := ev.x
			node := e.movingPop(x)
			if !node.isNone() {
				e.exec[x].job = node.j
				jb := e.jobs[node.j]
				jb.executors = addValue(jb.executors, x)
			}
			if !node.isNone() && !e.stage(node).noMore {
				if e.inFrontier(node) {
					e.startTask(node, x)
				} else {
					e.freeAdd(node.j, x)
				}
			} else {
				e.backupSchedule(x)
			}
		}
	}
}

// removeJob is decima-sim's remove_job: its executors leave it, its free
// ones join the null pool, executors moving to it lose their destination.
func (e *Env) removeJob(j int) {
	jb := e.jobs[j]
	for _, x := range slices.Clone(jb.executors) {
		e.detachJob(x)
	}
	delete(e.commit, ref{j, -1})
	for s := range jb.stages {
		r := ref{j, s}
		delete(e.commit, r)
		delete(e.nodeCommit, r)
		for src, l := range e.commit {
			e.commit[src] = slices.DeleteFunc(l, func(c commitEntry) bool { return c.node == r })
		}
	}
	for _, x := range e.free[j] {
		e.detachJob(x)
		e.free[-1] = addValue(e.free[-1], x)
	}
	delete(e.free, j)
	for x, r := range e.movingTo {
		if r.j == j {
			delete(e.movingTo, x)
		}
	}
	e.system = removeValue(e.system, j)
	jb.inSystem = false
}

// skipVoid makes the decisions that have no choice: with no stage to
// offer, the source executors are committed to nothing (decima-sim's
// agent returns no node), until a decision has a choice or the episode
// ends.
func (e *Env) skipVoid() {
	for e.numSource > 0 && len(e.offered()) == 0 {
		e.apply(none, e.numSource)
	}
	// The episode ends when nothing is left to happen, or at the first
	// decision at or after MaxTime (executors may still be waiting for
	// one: the decision is not offered).
	over := e.numSource == 0 && len(e.tl) == 0
	e.cut = !over && e.Cfg.MaxTime > 0 && e.now >= e.Cfg.MaxTime
	e.done = over || e.cut
}

// offered are the valid stages within the action space (the first
// Cfg.MaxJobs × MaxStages stage slots).
func (e *Env) offered() []ref {
	var out []ref
	slot, k := map[int]int{}, 0
	for _, j := range e.system {
		slot[j] = k
		k += len(e.jobs[j].stages)
	}
	for _, r := range e.validStages() {
		if slot[r.j]+r.s < e.Cfg.MaxJobs*MaxStages {
			out = append(out, r)
		}
	}
	return out
}

// apply is decima-sim's env.step(node, amount).
func (e *Env) apply(node ref, amount int) {
	e.selected[node] = true
	source := e.sourceOf(e.toSchedule[0])
	if _, ok := e.commit[source]; !ok {
		source = none // the source's job left the system
	}
	e.commitAdd(source, node, amount)
	e.numSource -= amount
	if e.numSource == 0 {
		clear(e.selected)
		e.schedule()
	}
	e.run()
}
