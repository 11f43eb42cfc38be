package cluster

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/rl"
)

// NodeState is one node in an observation: its cluster (index into
// Config.Clusters), capacity and free resources.
type NodeState struct {
	Cluster   int
	Cap, Free [NumResources]float64
}

// Queued is a waiting task in an observation: its type and how long it has
// waited (s).
type Queued struct {
	Type int
	Wait float64
}

// Obs is what the scheduler sees at a decision: the task to place (its
// type and wait), every node, the other waiting tasks (the oldest
// Config.QueueView()), counts, and the allowed actions. Action
// n·Slots + k runs the task on node n with the k-th of its type's
// strategies on n's cluster (Option gives the strategy); the last action
// waits. Observations are snapshots: the environment never changes one it
// returned.
type Obs struct {
	Cfg  *Config
	Time float64
	// Task is the task type decided and TaskWait its wait so far.
	Task     int
	TaskWait float64
	Nodes    []NodeState
	// Queue lists other waiting tasks, oldest first; Waiting counts all
	// waiting tasks (the decided one included), Running the running
	// ones, ToArrive those still to come.
	Queue                      []Queued
	Waiting, Running, ToArrive int
	// Utilisation is u(t): the allocated share of the CPU cores and of
	// the accelerator units, averaged.
	Utilisation float64
	Mask        []bool
	// Options are, per cluster, the decided type's strategy indices in
	// slot order (shared: do not modify).
	Options [][]int
	// Memo is a slot a model may use to keep its encoding of this
	// observation (shared by its copies, e.g. in a rollout buffer read
	// for several epochs); nil in observations made by hand. A copy that
	// is then changed must get its own Memo (or nil).
	Memo *Memo
}

// Memo is rl.Memo: a model's cache of its encoding of an observation.
type Memo = rl.Memo

// ActionMask implements rl.Masked.
func (o Obs) ActionMask() []bool { return o.Mask }

// Option returns the strategy (index into the task type's strategies)
// action a runs, or −1 for the wait action and empty slots.
func (o Obs) Option(a int) int {
	slots := len(o.Mask) / max(1, len(o.Nodes))
	if a < 0 || a >= len(o.Nodes)*slots {
		return -1
	}
	opts := o.Options[o.Nodes[a/slots].Cluster]
	if k := a % slots; k < len(opts) {
		return opts[k]
	}
	return -1
}

// WaitAction is the index of the wait action.
func (o Obs) WaitAction() int { return len(o.Mask) - 1 }

// task is one task of the episode.
type task struct {
	typ      int
	arrival  float64
	start    float64 // −1 until placed
	end      float64
	node     int
	strategy int
}

// Env simulates the clusters (package doc). Build it with NewEnv.
type Env struct {
	Cfg Config

	slots    int
	nodeCl   []int                   // node → cluster
	nodeCap  [][NumResources]float64 // node → capacity
	opts     [][][]int               // [type][cluster] → strategy indices
	computeC float64                 // total CPU cores
	computeA float64                 // total accelerator units

	// Episode state.
	reset    bool
	done     bool
	now      float64
	tasks    []task
	next     int   // next task to arrive
	pending  []int // arrived, not placed, by arrival
	passed   []bool
	cur      int // position in pending of the task decided
	free     [][NumResources]float64
	running  endHeap
	placed   int
	finished int
	// Sums over finished tasks (the reward's) and over placed ones (the
	// episode's metrics), and the utilisation integral.
	finRun, finWait   float64
	sumWait, sumCompl float64
	uInt, lastT       float64
	makespan          float64
	// area is ∫ (tasks in the system) dt, RewardJCT's.
	area  float64
	waits int // waits so far
	// The episode's queue and actions (what a snapshot records).
	qTypes  []int
	qTimes  []float64
	actions []int
}

// NewEnv validates cfg and builds an environment.
func NewEnv(cfg Config) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Env{Cfg: cfg, slots: cfg.Slots()}
	for ci, cl := range cfg.Clusters {
		for range cl.Nodes {
			e.nodeCl = append(e.nodeCl, ci)
			e.nodeCap = append(e.nodeCap, cl.Node.Vec())
			e.computeC += cl.Node.CPU
			e.computeA += cl.Node.Accel
		}
	}
	e.opts = make([][][]int, len(cfg.TaskTypes))
	for t, tt := range cfg.TaskTypes {
		e.opts[t] = make([][]int, len(cfg.Clusters))
		for si, s := range tt.Strategies {
			ci := slices.IndexFunc(cfg.Clusters, func(c Cluster) bool { return c.Name == s.Cluster })
			e.opts[t][ci] = append(e.opts[t][ci], si)
		}
	}
	return e, nil
}

// ActionSpace implements rl.Env: Nodes × Slots placements and the wait.
func (e *Env) ActionSpace() rl.Space {
	return rl.Space{Kind: rl.Discrete, N: len(e.nodeCl)*e.slots + 1}
}

// Arrivals draws the queue of seed: task types and arrival times (sorted).
func (c Config) Arrivals(seed uint64) (types []int, times []float64) {
	rng := rand.New(rand.NewPCG(seed, 0xc1a5))
	n := c.Queue.Tasks
	types, times = make([]int, n), make([]float64, n)
	for i := range n {
		times[i] = rng.Float64() * c.Queue.Horizon
		types[i] = rng.IntN(len(c.TaskTypes))
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case times[a] < times[b]:
			return -1
		case times[a] > times[b]:
			return 1
		}
		return 0
	})
	st, sy := make([]float64, n), make([]int, n)
	for k, i := range idx {
		st[k], sy[k] = times[i], types[i]
	}
	return sy, st
}

// Reset implements rl.Env: the queue of seed (Config.Arrivals), all nodes
// free.
func (e *Env) Reset(seed uint64) (Obs, error) {
	types, times := e.Cfg.Arrivals(seed)
	return e.ResetQueue(types, times)
}

// ResetQueue starts an episode on a given queue (a trace): task i of type
// types[i] arrives at times[i] (non-decreasing, finite, ≥ 0).
func (e *Env) ResetQueue(types []int, times []float64) (Obs, error) {
	switch {
	case len(types) == 0 || len(types) != len(times):
		return Obs{}, fmt.Errorf("cluster: a queue of %d types and %d times", len(types), len(times))
	case len(types) > MaxTasks:
		return Obs{}, fmt.Errorf("cluster: a queue of %d tasks, more than %d", len(types), MaxTasks)
	}
	for i := range types {
		if types[i] < 0 || types[i] >= len(e.Cfg.TaskTypes) {
			return Obs{}, fmt.Errorf("cluster: task %d has type %d, want [0, %d)", i, types[i], len(e.Cfg.TaskTypes))
		}
		if !(times[i] >= 0) || math.IsInf(times[i], 0) || i > 0 && times[i] < times[i-1] {
			return Obs{}, fmt.Errorf("cluster: task %d arrives at %v: times must be finite, ≥ 0 and non-decreasing", i, times[i])
		}
	}
	e.qTypes, e.qTimes, e.actions, e.waits = slices.Clone(types), slices.Clone(times), e.actions[:0], 0
	e.tasks = make([]task, len(types))
	for i := range e.tasks {
		e.tasks[i] = task{typ: types[i], arrival: times[i], start: -1, node: -1, strategy: -1}
	}
	e.free = slices.Clone(e.nodeCap)
	e.now, e.next, e.pending, e.passed, e.cur = 0, 0, e.pending[:0], e.passed[:0], 0
	e.running = e.running[:0]
	e.placed, e.finished = 0, 0
	e.finRun, e.finWait, e.sumWait, e.sumCompl, e.uInt, e.lastT, e.makespan, e.area = 0, 0, 0, 0, 0, 0, 0, 0
	e.reset, e.done = true, false
	e.advanceTo(e.tasks[0].arrival)
	e.decide()
	return e.obs(), nil
}

// utilisation is u(t) from the free resources now.
func (e *Env) utilisation() float64 {
	var c, a float64
	for n, f := range e.free {
		c += e.nodeCap[n][0] - f[0]
		a += e.nodeCap[n][2] - f[2]
	}
	var parts, sum float64
	if e.computeC > 0 {
		sum, parts = sum+c/e.computeC, parts+1
	}
	if e.computeA > 0 {
		sum, parts = sum+a/e.computeA, parts+1
	}
	if parts == 0 {
		return 0
	}
	return sum / parts
}

// advanceTo moves the clock to t: tasks ending by then free their
// resources (in end order), tasks arriving by then join the queue.
func (e *Env) advanceTo(t float64) {
	for len(e.running) > 0 && e.tasks[e.running[0].task].end <= t {
		k := heap.Pop(&e.running).(endItem).task
		e.integrate(e.tasks[k].end)
		e.release(k)
	}
	e.integrate(t)
	for e.next < len(e.tasks) && e.tasks[e.next].arrival <= t {
		e.pending = append(e.pending, e.next)
		e.passed = append(e.passed, false)
		e.next++
	}
}

// integrate adds u·dt up to t.
func (e *Env) integrate(t float64) {
	if t > e.lastT {
		e.uInt += e.utilisation() * (t - e.lastT)
		e.area += float64(e.next-e.finished) * (t - e.lastT)
		e.lastT = t
	}
	e.now = math.Max(e.now, t)
}

func (e *Env) release(k int) {
	tk := e.tasks[k]
	d := e.Cfg.TaskTypes[tk.typ].Strategies[tk.strategy].Demand.Vec()
	for r := range d {
		e.free[tk.node][r] = math.Min(e.nodeCap[tk.node][r], e.free[tk.node][r]+d[r])
	}
	e.finished++
	e.finRun += tk.end - tk.start
	e.finWait += tk.start - tk.arrival
}

// decide finds the next task to decide: the oldest waiting task not
// passed over since the clock last moved and that some node can take now
// (a task no node can take waits without a decision: waiting is its only
// allowed action), moving the clock to the next event (an arrival or an
// end) while there is none. It leaves cur at len(pending) when every task
// is placed.
func (e *Env) decide() {
	can := make([]int8, len(e.Cfg.TaskTypes)) // per type: 0 unknown, 1 placeable, 2 not
	for {
		for i, p := range e.passed {
			if p {
				continue
			}
			typ := e.tasks[e.pending[i]].typ
			if can[typ] == 0 {
				can[typ] = 2
				if e.placeable(typ) {
					can[typ] = 1
				}
			}
			if can[typ] == 1 {
				e.cur = i
				return
			}
			e.passed[i] = true
		}
		nextT := math.Inf(1)
		if e.next < len(e.tasks) {
			nextT = e.tasks[e.next].arrival
		}
		if len(e.running) > 0 {
			nextT = math.Min(nextT, e.tasks[e.running[0].task].end)
		}
		if math.IsInf(nextT, 1) {
			e.cur = len(e.pending)
			return
		}
		e.advanceTo(nextT)
		clear(e.passed)
		clear(can)
	}
}

// placeable reports whether a task of type typ fits some node now.
func (e *Env) placeable(typ int) bool {
	for n, ci := range e.nodeCl {
		for _, si := range e.opts[typ][ci] {
			if fits(e.Cfg.TaskTypes[typ].Strategies[si].Demand.Vec(), e.free[n]) {
				return true
			}
		}
	}
	return false
}

// waitBudget is the episode's number of waits allowed.
func (e *Env) waitBudget() int {
	if e.Cfg.MaxWaits > 0 {
		return e.Cfg.MaxWaits
	}
	return 10 * len(e.tasks)
}

// events reports whether the clock can still move (a task runs or will
// arrive): only then may a task wait.
func (e *Env) events() bool { return len(e.running) > 0 || e.next < len(e.tasks) }

func (e *Env) mask(typ int) []bool {
	m := make([]bool, len(e.nodeCl)*e.slots+1)
	for n, ci := range e.nodeCl {
		for k, si := range e.opts[typ][ci] {
			m[n*e.slots+k] = fits(e.Cfg.TaskTypes[typ].Strategies[si].Demand.Vec(), e.free[n])
		}
	}
	m[len(m)-1] = e.events() && e.waits < e.waitBudget()
	return m
}

// finalObs is the observation after the last placement: no task to
// decide (Task −1), every action masked, the nodes as they are.
func (e *Env) finalObs() Obs {
	o := Obs{Cfg: &e.Cfg, Time: e.now, Task: -1, Nodes: make([]NodeState, len(e.nodeCl)),
		Mask: make([]bool, len(e.nodeCl)*e.slots+1), Options: make([][]int, len(e.Cfg.Clusters)), Utilisation: e.utilisation(), Memo: new(Memo)}
	for n := range o.Nodes {
		o.Nodes[n] = NodeState{Cluster: e.nodeCl[n], Cap: e.nodeCap[n], Free: e.free[n]}
	}
	return o
}

func (e *Env) obs() Obs {
	k := e.pending[e.cur]
	tk := e.tasks[k]
	o := Obs{Cfg: &e.Cfg, Time: e.now, Task: tk.typ, TaskWait: e.now - tk.arrival,
		Nodes: make([]NodeState, len(e.nodeCl)), Waiting: len(e.pending), Running: len(e.running),
		ToArrive: len(e.tasks) - e.next, Utilisation: e.utilisation(), Mask: e.mask(tk.typ), Options: e.opts[tk.typ], Memo: new(Memo)}
	for n := range o.Nodes {
		o.Nodes[n] = NodeState{Cluster: e.nodeCl[n], Cap: e.nodeCap[n], Free: e.free[n]}
	}
	view := e.Cfg.QueueView()
	for i, p := range e.pending {
		if len(o.Queue) == view {
			break
		}
		if i != e.cur {
			o.Queue = append(o.Queue, Queued{Type: e.tasks[p].typ, Wait: e.now - e.tasks[p].arrival})
		}
	}
	return o
}

// Step implements rl.Env. Placing the task starts it now and pays R(t)
// (equation 17); waiting pays −1 (equation 13) and passes to the next
// waiting task, or to the next event when every waiting task has been
// passed over. The episode terminates when every task is placed; its
// last step's Info has the episode's metrics (avg_completion_s,
// avg_wait_s, utilisation, makespan_s); every step's Info has "wait"
// (1 for a wait).
func (e *Env) Step(a rl.Action) (rl.Step[Obs], error) {
	if !e.reset || e.done {
		return rl.Step[Obs]{}, rl.ErrEpisodeOver
	}
	k := e.pending[e.cur]
	typ := e.tasks[k].typ
	if err := rl.CheckAction(e.ActionSpace(), a, e.mask(typ)); err != nil {
		return rl.Step[Obs]{}, err
	}
	area := e.area
	e.actions = append(e.actions, a.Index)
	if a.Index == len(e.nodeCl)*e.slots {
		e.passed[e.cur] = true
		e.waits++
		e.decide()
		wc := e.Cfg.WaitCost
		if wc == 0 {
			wc = 1
		}
		return rl.Step[Obs]{Obs: e.obs(), Reward: e.jctOr(area-wc, -1), Info: map[string]float64{"wait": 1}}, nil
	}
	n, slot := a.Index/e.slots, a.Index%e.slots
	si := e.opts[typ][e.nodeCl[n]][slot]
	s := e.Cfg.TaskTypes[typ].Strategies[si]
	e.integrate(e.now)
	d := s.Demand.Vec()
	for i := range d {
		e.free[n][i] -= d[i]
	}
	tk := &e.tasks[k]
	tk.start, tk.end, tk.node, tk.strategy = e.now, e.now+s.Runtime, n, si
	heap.Push(&e.running, endItem{task: k, end: tk.end, seq: k})
	e.placed++
	e.sumWait += tk.start - tk.arrival
	e.sumCompl += tk.end - tk.arrival
	e.makespan = math.Max(e.makespan, tk.end)
	reward := e.reward(k, s.Runtime)
	e.pending = slices.Delete(e.pending, e.cur, e.cur+1)
	e.passed = slices.Delete(e.passed, e.cur, e.cur+1)
	info := map[string]float64{"wait": 0}
	if e.placed == len(e.tasks) {
		e.done = true
		for len(e.running) > 0 { // run to the end for the utilisation
			k := heap.Pop(&e.running).(endItem).task
			e.integrate(e.tasks[k].end)
			e.release(k)
		}
		m := float64(len(e.tasks))
		info["avg_completion_s"] = e.sumCompl / m
		info["avg_wait_s"] = e.sumWait / m
		info["makespan_s"] = e.makespan
		if e.makespan > 0 {
			info["utilisation"] = e.uInt / e.makespan
		}
		return rl.Step[Obs]{Obs: e.finalObs(), Reward: e.jctOr(area, reward), Terminated: true, Info: info}, nil
	}
	e.decide()
	return rl.Step[Obs]{Obs: e.obs(), Reward: e.jctOr(area, reward), Info: info}, nil
}

// jctOr is RewardJCT's reward for a step that started with the area
// before, or paper (the paper's reward) under RewardPaper.
func (e *Env) jctOr(before, paper float64) float64 {
	if e.Cfg.Reward != RewardJCT {
		return paper
	}
	scale := e.Cfg.RewardScale
	if scale == 0 {
		scale = 1 / (100 * float64(len(e.tasks)))
	}
	return -scale * (e.area - before)
}

// reward is equation 17 for placing task k (run time rt) now, with u(t)
// after the placement: R = m + 1/(G + H) + σ·u with
// G = α·(ΣT_run/m + rt), H = β·(ΣT_wait/m + wait), m the finished tasks
// and the sums over them (0 when m = 0); the 1/(G + H) term is 0 when
// G + H = 0 (α = β = 0).
func (e *Env) reward(k int, rt float64) float64 {
	w := e.Cfg.Weights
	m := float64(e.finished)
	var meanRun, meanWait float64
	if m > 0 {
		meanRun, meanWait = e.finRun/m, e.finWait/m
	}
	g := w.Alpha * (meanRun + rt)
	h := w.Beta * (meanWait + e.now - e.tasks[k].arrival)
	r := m + w.Sigma*e.utilisation()
	if g+h > 0 {
		r += 1 / (g + h)
	}
	return r
}

// endItem is a running task in the end-time heap (ties by task index).
type endItem struct {
	task int
	end  float64
	seq  int
}

type endHeap []endItem

func (h endHeap) Len() int { return len(h) }
func (h endHeap) Less(i, j int) bool {
	if h[i].end != h[j].end {
		return h[i].end < h[j].end
	}
	return h[i].seq < h[j].seq
}
func (h endHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)   { *h = append(*h, x.(endItem)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var _ rl.Env[Obs] = (*Env)(nil)

// snapshot is an episode in progress: its queue and the actions taken
// (the simulator is deterministic, so replaying them restores it).
type snapshot struct {
	Format  int             `json:"format"`
	Config  json.RawMessage `json:"config"`
	Types   []int           `json:"types"`
	Times   []float64       `json:"times"`
	Actions []int           `json:"actions"`
}

const snapshotFormat = 1

// Snapshot implements rl.Snapshotter.
func (e *Env) Snapshot() ([]byte, error) {
	if !e.reset {
		return nil, fmt.Errorf("cluster: snapshot before the first Reset")
	}
	cfg, err := json.Marshal(e.Cfg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(snapshot{snapshotFormat, cfg, e.qTypes, e.qTimes, e.actions})
}

// Restore implements rl.Snapshotter: it replays the snapshot's queue and
// actions (each must be allowed when taken; the configuration must be
// this environment's).
func (e *Env) Restore(b []byte) (Obs, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return Obs{}, fmt.Errorf("cluster: restore: %w", err)
	}
	if s.Format != snapshotFormat {
		return Obs{}, fmt.Errorf("cluster: restore: snapshot format %d, this version reads %d", s.Format, snapshotFormat)
	}
	cfg, err := json.Marshal(e.Cfg)
	if err != nil {
		return Obs{}, err
	}
	if !bytes.Equal(cfg, s.Config) {
		return Obs{}, fmt.Errorf("cluster: restore: the snapshot's configuration differs from the environment's")
	}
	o, err := e.ResetQueue(s.Types, s.Times)
	if err != nil {
		return Obs{}, fmt.Errorf("cluster: restore: %w", err)
	}
	for i, a := range s.Actions {
		st, err := e.Step(rl.Action{Index: a})
		if err != nil {
			e.reset = false
			return Obs{}, fmt.Errorf("cluster: restore: action %d (%d): %w", i, a, err)
		}
		o = st.Obs
	}
	return o, nil
}
