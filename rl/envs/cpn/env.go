package cpn

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// ImageBytes is the size of one 32×32×3 input image.
const ImageBytes = 3072

// Task is one inference job: Images inferences of NAS-Bench-201
// architecture Arch on Bytes of input data, arriving at access point AP
// (an index into Network.APs) at time Arrival (seconds).
type Task struct {
	Arrival float64 `json:"arrival"`
	AP      int     `json:"ap"`
	Arch    int     `json:"arch"`
	Images  int     `json:"images"`
	Bytes   float64 `json:"bytes"`
}

// Outcome is what one decision costs.
type Outcome struct {
	// Node is the compute node (index into Network.Compute).
	Node int
	// LatencyMs = TransferMs + WaitMs + ComputeMs: the response latency.
	LatencyMs, TransferMs, WaitMs, ComputeMs float64
}

// Env is the computing-power network environment: an rl.Env[Obs] with a
// DiscreteSimplex action (candidate index, split ratios over its P paths).
// An episode is Config.Tasks consecutive tasks; it ends truncated (the
// network goes on), so bootstrapping from the last observation is right.
//
// Step's Info holds latency_ms, transfer_ms, wait_ms, compute_ms and node.
type Env struct {
	Net *Network

	src    *rand.PCG
	rng    *rand.Rand
	now    float64
	tm     int // traffic-matrix interval at time 0
	busy   []float64
	flows  flowHeap
	res    []float64 // reserved bit/s per link
	nflows []int32   // flows per link
	taskNo int
	task   Task
	cands  []int
	psets  []*pathSet
	obs    Obs
	done   bool
	reset  bool

	// Other tenants' jobs per compute node (Config.Tenants): the current
	// or next busy period [tenS, tenE) (s) and the node's own generator.
	tenS, tenE []float64
	tenRNG     []rand.PCG
	// probeSrc draws the probes' cross-traffic samples (Config.ProbeNoise
	// > 0), apart from the task stream.
	probeSrc *rand.PCG
	// burstSeed fixes the bursts of cross traffic (Config.BurstShare).
	burstSeed uint64

	share               []int32 // scratch: the task's flows per link
	uses                []pathUse
	bw, inv, dly, bwAll []float64 // scratch of observe
	wfAll, wfNaive      []float32
}

// pathUse is one used path of a decision.
type pathUse struct {
	links    []int
	rate, dt float64
}

// NewEnv returns an environment on net.
func NewEnv(net *Network) *Env {
	return &Env{Net: net, share: make([]int32, len(net.G.Links))}
}

var _ rl.Env[Obs] = (*Env)(nil)
var _ rl.Snapshotter[Obs] = (*Env)(nil)

// ActionSpace implements rl.Env.
func (e *Env) ActionSpace() rl.Space {
	return rl.Space{Kind: rl.DiscreteSimplex, N: e.Net.Cfg.K, M: e.Net.Cfg.P}
}

// Reset implements rl.Env: a new task stream from seed, an idle network
// and a random start in the background traffic's day.
func (e *Env) Reset(seed uint64) (Obs, error) {
	n := e.Net
	e.src = rand.NewPCG(seed, 0xc9)
	e.rng = rand.New(e.src)
	e.now = 0
	e.tm = e.rng.IntN(n.bg.intervals())
	e.busy = make([]float64, len(n.Compute))
	e.flows = nil
	e.res = make([]float64, len(n.G.Links))
	e.nflows = make([]int32, len(n.G.Links))
	e.taskNo, e.done, e.reset = 0, false, true
	e.resetTenants(seed)
	e.probeSrc = nil
	if n.Cfg.ProbeNoise > 0 {
		e.probeSrc = rand.NewPCG(seed, 0x9b0e)
	}
	e.burstSeed = mix64(seed ^ 0xb0b5)
	e.nextTask()
	return e.obs, nil
}

// resetTenants starts every node's tenant timeline: an idle gap, then the
// first busy period, drawn from the node's own generator (seeded from the
// episode seed and the node), so the timelines do not depend on the
// decisions until a task postpones a tenant job.
func (e *Env) resetTenants(seed uint64) {
	e.tenS, e.tenE, e.tenRNG = nil, nil, nil
	if e.Net.Cfg.Tenants <= 0 {
		return
	}
	n := len(e.Net.Compute)
	e.tenS, e.tenE, e.tenRNG = make([]float64, n), make([]float64, n), make([]rand.PCG, n)
	for c := range n {
		e.tenRNG[c] = *rand.NewPCG(seed, 0x7e0a+uint64(c))
		e.tenS[c], e.tenE[c] = e.tenantPeriod(&e.tenRNG[c], 0)
	}
}

// tenantPeriod draws the next tenant busy period after time t: an idle
// gap of mean D·(1−u)/u, then a job of mean D (D = TenantJobMs, u =
// Tenants), so that the long-run busy share is u.
func (e *Env) tenantPeriod(src *rand.PCG, t float64) (start, end float64) {
	cfg := e.Net.Cfg
	r := rand.New(src)
	d := cfg.TenantJobMs / 1000
	start = t + r.ExpFloat64()*d*(1-cfg.Tenants)/cfg.Tenants
	return start, start + r.ExpFloat64()*d
}

// tenantStart returns when a task ready at time ready (its data arrived
// and the node's earlier tasks done) starts on node c given the tenants'
// jobs: at ready, or when the tenant job running then ends. With commit
// the node's timeline advances to the task and a tenant job that would
// start during the task's compute is postponed to its end; otherwise the
// state is left alone (Evaluate and the oracle work on copies).
func (e *Env) tenantStart(c int, ready, compute float64, commit bool) float64 {
	if e.tenS == nil {
		return ready
	}
	src, s, end := e.tenRNG[c], e.tenS[c], e.tenE[c]
	for end <= ready {
		s, end = e.tenantPeriod(&src, end)
	}
	start := ready
	if s <= ready {
		start = end // a tenant job is running: wait for it
		s, end = e.tenantPeriod(&src, end)
	}
	if commit {
		if s < start+compute { // postponed behind the task
			end += start + compute - s
			s = start + compute
		}
		e.tenRNG[c], e.tenS[c], e.tenE[c] = src, s, end
	}
	return start
}

// Obs returns the current observation.
func (e *Env) Obs() Obs { return e.obs }

// Task returns the current task.
func (e *Env) Task() Task { return e.task }

// Candidates returns the current candidates (indices into Net.Compute);
// the slice is reused.
func (e *Env) Candidates() []int { return e.cands }

// Now returns the simulation time in seconds.
func (e *Env) Now() float64 { return e.now }

// nextTask draws the next task, advances time to its arrival, releases
// the flows that ended and builds the observation.
func (e *Env) nextTask() {
	n, cfg := e.Net, e.Net.Cfg
	if e.taskNo > 0 || e.now > 0 {
		e.now += e.rng.ExpFloat64() / cfg.ArrivalRate
	}
	t := Task{Arrival: e.now, AP: e.rng.IntN(len(n.APs)), Arch: e.rng.IntN(NumArchs)}
	io := cfg.Mix == IOHeavy || cfg.Mix == Mixed && e.rng.IntN(2) == 0
	if io {
		t.Images = 1
		t.Bytes = []float64{1e5, 1e6, 1e7}[e.rng.IntN(3)]
	} else {
		t.Images = int(math.Round(math.Exp(math.Log(64) + e.rng.Float64()*math.Log(2048.0/64))))
		t.Bytes = float64(t.Images * ImageBytes)
	}
	e.begin(t)
}

// begin makes t the current task at its arrival time: it releases the
// flows that ended by then, filters the candidates, looks up their paths
// and builds the observation.
func (e *Env) begin(t Task) {
	n := e.Net
	e.now = t.Arrival
	e.task = t
	for len(e.flows) > 0 && e.flows[0].End <= e.now {
		f := heap.Pop(&e.flows).(flow)
		for _, l := range f.Links {
			e.res[l] = math.Max(0, e.res[l]-f.Rate)
			e.nflows[l]--
		}
	}
	e.cands = n.candidates(e.cands, t)
	e.psets = e.psets[:0]
	for _, c := range e.cands {
		e.psets = append(e.psets, n.pathsTo(n.APs[t.AP], c))
	}
	e.obs = e.observe()
}

// intervalAt is the traffic-matrix interval at time t (s; t may be
// negative: probes taken before the first task).
func (e *Env) intervalAt(t float64) int {
	n := e.Net.bg.intervals()
	i := (e.tm + int(math.Floor(t/TMInterval))) % n
	if i < 0 {
		i += n
	}
	return i
}

// bgAt returns link l's background load (bit/s) at time t: the traffic
// matrix of t's interval, interpolated towards the next one with
// Config.TrafficDrift, plus a burst when one is on (Config.BurstShare).
func (e *Env) bgAt(t float64, l int) float64 {
	n, cfg := e.Net, e.Net.Cfg
	i := e.intervalAt(t)
	b := n.bg.at(i, l)
	if cfg.TrafficDrift {
		f := t/TMInterval - math.Floor(t/TMInterval)
		b = (1-f)*b + f*n.bg.at((i+1)%n.bg.intervals(), l)
	}
	if cfg.BurstShare > 0 && burstUniform(e.burstSeed, l, int64(math.Floor(t*1000/cfg.BurstMs))) < cfg.BurstShare {
		b += cfg.BurstSize * n.G.Links[l].Capacity
	}
	return b
}

// probeTime is when the current observation's probes saw the background.
func (e *Env) probeTime() float64 {
	return e.now - e.Net.Cfg.ProbeAgeMs/1000
}

// burstUniform is a uniform number in [0, 1) fixed by the seed, the link
// and the slot (a hash, so any time can be looked up in any order).
func burstUniform(seed uint64, l int, slot int64) float64 {
	z := mix64(seed + uint64(l)*0x9e3779b97f4a7c15)
	z = mix64(z ^ uint64(slot)*0xbf58476d1ce4e5b9)
	return float64(z>>11) / (1 << 53)
}

// mix64 is SplitMix64's finaliser.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// sampledProbes measures path j of ps with Config.ProbeNoise: each probe
// samples every link's cross traffic (bg·max(0, 1 + σz)) and sees the
// queue, utilisation and available bandwidth of that sample. It returns
// the means over the probes of the path's queueing delay, its largest
// utilisation, its bottleneck and shared bottleneck bandwidths, and the sum
// of the probes' delays (Probes of them; the caller divides).
func (e *Env) sampledProbes(tp float64, ps *pathSet, j int) (queue, maxU, bott, bottAll, probeSum float64) {
	cfg := e.Net.Cfg
	r := rand.New(e.probeSrc)
	sample := func(l int) float64 { return e.bgAt(tp, l) * math.Max(0, 1+cfg.ProbeNoise*r.NormFloat64()) }
	for range cfg.Probes {
		q, mu, b, ba := e.pathState(ps, j, sample)
		queue += q
		maxU += mu
		bott += b
		bottAll += ba
		probeSum += ps.prop[j] + q + cfg.ProbeBytes*8/b + e.rng.ExpFloat64()*(0.1*q+10e-6)
	}
	k := float64(cfg.Probes)
	return queue / k, maxU / k, bott / k, bottAll / k, probeSum
}

// pathState returns, for path j of ps with each link's background load
// given by bg (called once per link, in path order), the path's queueing
// delay, its largest utilisation, its bottleneck available bandwidth and
// its shared bottleneck (each link's available bandwidth divided among the
// set's paths on it).
func (e *Env) pathState(ps *pathSet, j int, bg func(l int) float64) (queue, maxU, bott, bottAll float64) {
	bott, bottAll = math.Inf(1), math.Inf(1)
	for li, l := range ps.links[j] {
		b := bg(l)
		_, u, q := e.linkStateBG(l, b)
		queue += q
		maxU = math.Max(maxU, u)
		a := e.availBG(l, b)
		bott = math.Min(bott, a)
		bottAll = math.Min(bottAll, a/ps.users[j][li])
	}
	return queue, maxU, bott, bottAll
}

// linkState returns link l's background load, its utilisation and
// queueing delay (s) at time t.
func (e *Env) linkState(t float64, l int) (bg, util, queue float64) {
	return e.linkStateBG(l, e.bgAt(t, l))
}

// linkStateBG is linkState with background load bg.
func (e *Env) linkStateBG(l int, bg float64) (_, util, queue float64) {
	lk := e.Net.G.Links[l]
	util = math.Min(0.99, (bg+e.res[l])/lk.Capacity)
	queue = e.Net.Cfg.QueueBurst * 8 / lk.Capacity * util / (1 - util)
	return bg, util, queue
}

// avail returns the bandwidth a new flow gets on link l: the residual
// capacity, but at least a fair share of the non-background capacity among
// the flows already there plus this one, and at least MinShare of the
// capacity.
func (e *Env) avail(t float64, l int) float64 {
	return e.availBG(l, e.bgAt(t, l))
}

// availBG is avail with background load bg.
func (e *Env) availBG(l int, bg float64) float64 {
	lk := e.Net.G.Links[l]
	free := lk.Capacity - bg
	return math.Max(e.Net.Cfg.MinShare*lk.Capacity, math.Max(free-e.res[l], free/float64(e.nflows[l]+1)))
}

// observe builds the observation of the current task (probing the paths).
func (e *Env) observe() Obs {
	n, cfg := e.Net, e.Net.Cfg
	K, P := cfg.K, cfg.P
	o := Obs{K: K, P: P, Task: e.task, Nodes: make([]Candidate, K), Paths: make([]Path, K*P),
		NodeMask: make([]bool, K), PathMask: make([]bool, K*P), Overlap: make([]bool, K*P*P)}
	tp := e.probeTime()
	h, _ := n.nearest(n.APs[e.task.AP])
	e.bw, e.inv, e.dly, e.bwAll = growF(e.bw, P), growF(e.inv, P), growF(e.dly, P), growF(e.bwAll, P)
	e.wfAll, e.wfNaive = grow32(e.wfAll, P), grow32(e.wfNaive, P)
	bw, inv, dly, bwAll, xAll := e.bw, e.inv, e.dly, e.bwAll, e.wfAll
	bits := e.task.Bytes * 8
	for i, c := range e.cands {
		o.NodeMask[i] = true
		comp := n.Predicted(c, e.task)
		wait := 1000 * math.Max(0, e.busy[c]-e.now)
		nd := &o.Nodes[i]
		nd.ComputeMs, nd.WaitMs, nd.Hops, nd.Class = comp, wait, h[n.Compute[c].Node], n.Compute[c].Class
		ps := e.psets[i]
		copy(o.Overlap[i*P*P:], ps.overlap)
		paths := o.Paths[i*P : (i+1)*P]
		for j := range paths {
			if ps.orig[j] != j {
				paths[j] = paths[ps.orig[j]] // its measurements; shares stay 0
				continue
			}
			o.PathMask[i*P+j] = true
			var queue, maxU, bott, bottAll, probe float64
			if e.probeSrc == nil {
				queue, maxU, bott, bottAll = e.pathState(ps, j, func(l int) float64 { return e.bgAt(tp, l) })
				for range cfg.Probes {
					probe += ps.prop[j] + queue + cfg.ProbeBytes*8/bott + e.rng.ExpFloat64()*(0.1*queue+10e-6)
				}
			} else {
				queue, maxU, bott, bottAll, probe = e.sampledProbes(tp, ps, j)
			}
			probe /= float64(cfg.Probes)
			paths[j] = Path{ProbeMs: 1000 * probe, PropMs: 1000 * ps.prop[j], BottleneckBps: bott, Hops: len(ps.links[j]),
				Util: maxU, AloneMs: 1000 * (probe + bits/bott), SharedLinks: ps.shared[j], SharedBottleneckBps: bottAll}
			bw[j], inv[j], dly[j], bwAll[j] = bott, 1/(probe+bits/bott), probe, bottAll
		}
		var sb, si float64
		for j := 0; j < P; j++ {
			if ps.orig[j] == j {
				sb += bw[j]
				si += inv[j]
			}
		}
		x := e.wfNaive
		t := waterFill(x, dly, bw, ps.orig, bits)
		tAll := waterFill(xAll, dly, bwAll, ps.orig, bits)
		// The controller's transfer estimate: the better of the two
		// splits it can cost exactly from its measurements — every path
		// at its shared bottleneck (water-filling), or the fastest path
		// alone (no sharing with the task's own flows).
		single, tSingle := -1, math.Inf(1)
		for j := 0; j < P; j++ {
			if ps.orig[j] == j {
				if tj := dly[j] + bits/bw[j]; tj < tSingle {
					single, tSingle = j, tj
				}
			}
		}
		useSingle := tSingle < tAll
		tBest := tAll
		if useSingle {
			tBest = tSingle
		}
		for j := 0; j < P; j++ {
			if ps.orig[j] == j {
				pj := &paths[j]
				pj.BandwidthShare, pj.SpeedShare, pj.WaterFill, pj.SharedWaterFill = bw[j]/sb, inv[j]/si, x[j], xAll[j]
				switch {
				case !useSingle:
					pj.Split = xAll[j]
				case j == single:
					pj.Split = 1
				}
			}
		}
		nd.WaterFillMs, nd.SharedWaterFillMs, nd.SinglePathMs = 1000*t, 1000*tAll, 1000*tSingle
		nd.EstimateMs = comp + math.Max(wait, 1000*tBest)
	}
	return o
}

// checkAction validates a against the current observation.
func (e *Env) checkAction(a rl.Action) error {
	return rl.CheckAction(e.ActionSpace(), a, e.obs.NodeMask)
}

// Evaluate returns the outcome of action a for the current task without
// changing the environment (for baselines and the oracle).
func (e *Env) Evaluate(a rl.Action) (Outcome, error) {
	if !e.reset || e.done {
		return Outcome{}, rl.ErrEpisodeOver
	}
	if err := e.checkAction(a); err != nil {
		return Outcome{}, err
	}
	return e.outcome(a.Index, a.Values, false), nil
}

// outcome computes (and, with commit, applies) candidate i with split x.
func (e *Env) outcome(i int, x []float32, commit bool) Outcome {
	n, cfg := e.Net, e.Net.Cfg
	c, ps := e.cands[i], e.psets[i]
	// Ratios given to repeated rows go to the path they repeat.
	var merged [16]float64
	for j, v := range x {
		merged[ps.orig[j]] += float64(v)
	}
	// Ratios below MinSplit are not worth a flowlet (see Config.MinSplit).
	var kept float64
	for j := 0; j < cfg.P; j++ {
		if merged[j] < cfg.MinSplit {
			merged[j] = 0
		}
		kept += merged[j]
	}
	for j := 0; j < cfg.P; j++ {
		merged[j] /= kept
	}
	for j := 0; j < cfg.P; j++ {
		if merged[j] > 1e-6 {
			for _, l := range ps.links[j] {
				e.share[l]++
			}
		}
	}
	bits := e.task.Bytes * 8
	var transfer float64
	e.uses = e.uses[:0]
	for j := 0; j < cfg.P; j++ {
		if merged[j] <= 1e-6 {
			continue
		}
		rate := math.Inf(1)
		queue := 0.0
		for _, l := range ps.links[j] {
			_, _, q := e.linkState(e.now, l)
			queue += q
			rate = math.Min(rate, e.avail(e.now, l)/float64(e.share[l]))
		}
		dt := merged[j] * bits / rate
		transfer = math.Max(transfer, ps.prop[j]+queue+dt)
		if commit {
			e.uses = append(e.uses, pathUse{links: ps.links[j], rate: rate, dt: dt})
		}
	}
	for j := 0; j < cfg.P; j++ {
		if merged[j] > 1e-6 {
			for _, l := range ps.links[j] {
				e.share[l] = 0
			}
		}
	}
	compute := n.Latency(c, e.task) / 1000
	arrive := e.now + transfer
	start := e.tenantStart(c, math.Max(arrive, e.busy[c]), compute, commit)
	wait := start - arrive
	if commit {
		e.busy[c] = arrive + wait + compute
		for _, u := range e.uses {
			heap.Push(&e.flows, flow{End: e.now + u.dt, Rate: u.rate, Links: u.links})
			for _, l := range u.links {
				e.res[l] += u.rate
				e.nflows[l]++
			}
		}
	}
	return Outcome{Node: c, LatencyMs: 1000 * (transfer + wait + compute), TransferMs: 1000 * transfer,
		WaitMs: 1000 * wait, ComputeMs: 1000 * compute}
}

// Step implements rl.Env: it schedules the current task as a says, moves
// to the next task and returns −latency/RewardScale.
func (e *Env) Step(a rl.Action) (rl.Step[Obs], error) {
	if !e.reset || e.done {
		return rl.Step[Obs]{}, rl.ErrEpisodeOver
	}
	if err := e.checkAction(a); err != nil {
		return rl.Step[Obs]{}, err
	}
	out := e.outcome(a.Index, a.Values, true)
	e.taskNo++
	e.done = e.taskNo >= e.Net.Cfg.Tasks
	e.nextTask()
	return rl.Step[Obs]{Obs: e.obs, Reward: -out.LatencyMs / e.Net.Cfg.RewardScale, Truncated: e.done,
		Info: map[string]float64{"latency_ms": out.LatencyMs, "transfer_ms": out.TransferMs,
			"wait_ms": out.WaitMs, "compute_ms": out.ComputeMs, "node": float64(out.Node)}}, nil
}

// snapshot is the JSON form of an Env's dynamic state.
type snapshot struct {
	Format   int       `json:"format"`
	Topology string    `json:"topology"`
	RNG      []byte    `json:"rng"`
	Now      float64   `json:"now"`
	TM       int       `json:"tm"`
	Busy     []float64 `json:"busy"`
	Flows    []flow    `json:"flows"`
	Res      []float64 `json:"reserved"`
	NFlows   []int32   `json:"nflows"`
	TaskNo   int       `json:"task_no"`
	Task     Task      `json:"task"`
	Obs      Obs       `json:"obs"`
	Done     bool      `json:"done"`
	// The tenants' timelines (Config.Tenants > 0).
	TenantS   []float64 `json:"tenant_start,omitempty"`
	TenantE   []float64 `json:"tenant_end,omitempty"`
	TenantRNG [][]byte  `json:"tenant_rng,omitempty"`
	// The probes' generator (Config.ProbeNoise > 0).
	ProbeRNG []byte `json:"probe_rng,omitempty"`
	// The bursts' seed (Config.BurstShare > 0).
	BurstSeed uint64 `json:"burst_seed,omitempty"`
}

// snapshotFormat is the version of the snapshot layout: 2 since Obs holds
// named fields in physical units (1, unnumbered, held feature rows).
const snapshotFormat = 2

// Snapshot implements rl.Snapshotter.
func (e *Env) Snapshot() ([]byte, error) {
	if !e.reset {
		return nil, fmt.Errorf("cpn: snapshot before Reset")
	}
	rs, err := e.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	snap := snapshot{Format: snapshotFormat, Topology: e.Net.G.Name, RNG: rs, Now: e.now, TM: e.tm, Busy: e.busy, Flows: e.flows,
		Res: e.res, NFlows: e.nflows, TaskNo: e.taskNo, Task: e.task, Obs: e.obs, Done: e.done, TenantS: e.tenS, TenantE: e.tenE,
		BurstSeed: e.burstSeed}
	if e.probeSrc != nil {
		if snap.ProbeRNG, err = e.probeSrc.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	for c := range e.tenRNG {
		b, err := e.tenRNG[c].MarshalBinary()
		if err != nil {
			return nil, err
		}
		snap.TenantRNG = append(snap.TenantRNG, b)
	}
	return json.Marshal(snap)
}

// Restore implements rl.Snapshotter.
func (e *Env) Restore(b []byte) (Obs, error) {
	var s snapshot
	var f struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Obs{}, fmt.Errorf("cpn: restore: %w", err)
	}
	if f.Format != snapshotFormat {
		return Obs{}, fmt.Errorf("cpn: restore: the snapshot has format %d; this version reads format %d (start the run afresh)", max(f.Format, 1), snapshotFormat)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Obs{}, fmt.Errorf("cpn: restore: %w", err)
	}
	n := e.Net
	if s.Topology != n.G.Name || len(s.Busy) != len(n.Compute) || len(s.Res) != len(n.G.Links) || len(s.NFlows) != len(n.G.Links) ||
		s.Task.AP < 0 || s.Task.AP >= len(n.APs) || s.Task.Arch < 0 || s.Task.Arch >= NumArchs {
		return Obs{}, fmt.Errorf("cpn: restore: the snapshot is of another network (%s)", s.Topology)
	}
	src := &rand.PCG{}
	if err := src.UnmarshalBinary(s.RNG); err != nil {
		return Obs{}, fmt.Errorf("cpn: restore: %w", err)
	}
	tenants := n.Cfg.Tenants > 0
	if tenants && (len(s.TenantS) != len(n.Compute) || len(s.TenantE) != len(n.Compute) || len(s.TenantRNG) != len(n.Compute)) ||
		!tenants && (s.TenantS != nil || s.TenantE != nil || s.TenantRNG != nil) {
		return Obs{}, fmt.Errorf("cpn: restore: the snapshot's tenant timelines do not match Tenants %v", n.Cfg.Tenants)
	}
	e.tenS, e.tenE, e.tenRNG = nil, nil, nil
	if tenants {
		e.tenRNG = make([]rand.PCG, len(n.Compute))
		for c, b := range s.TenantRNG {
			if err := e.tenRNG[c].UnmarshalBinary(b); err != nil {
				return Obs{}, fmt.Errorf("cpn: restore: %w", err)
			}
		}
		e.tenS, e.tenE = s.TenantS, s.TenantE
	}
	e.probeSrc = nil
	if n.Cfg.ProbeNoise > 0 {
		if s.ProbeRNG == nil {
			return Obs{}, fmt.Errorf("cpn: restore: the snapshot has no probe generator for ProbeNoise %v", n.Cfg.ProbeNoise)
		}
		e.probeSrc = &rand.PCG{}
		if err := e.probeSrc.UnmarshalBinary(s.ProbeRNG); err != nil {
			return Obs{}, fmt.Errorf("cpn: restore: %w", err)
		}
	}
	if n.Cfg.BurstShare > 0 && s.BurstSeed == 0 {
		return Obs{}, fmt.Errorf("cpn: restore: the snapshot has no burst seed for BurstShare %v", n.Cfg.BurstShare)
	}
	e.burstSeed = s.BurstSeed
	e.src, e.rng = src, rand.New(src)
	e.now, e.tm, e.busy, e.flows, e.res, e.nflows = s.Now, s.TM, s.Busy, s.Flows, s.Res, s.NFlows
	e.taskNo, e.task, e.obs, e.done, e.reset = s.TaskNo, s.Task, s.Obs, s.Done, true
	e.cands = n.candidates(e.cands, e.task)
	e.psets = e.psets[:0]
	for _, c := range e.cands {
		e.psets = append(e.psets, n.pathsTo(n.APs[e.task.AP], c))
	}
	return e.obs, nil
}

// waterFill writes to x the split of bits over the distinct rows of a
// path set (orig[j] == j) that equalises their finishing times given each
// path's delay d (s) and bandwidth b (bit/s) — the rate-proportional
// water-filling the fluid model prescribes when the paths share no link —
// and returns that finishing time (s). Repeated rows get 0.
func waterFill(x []float32, d, b []float64, orig []int, bits float64) float64 {
	// Fill in order of delay: with the m fastest paths active, the level
	// T = (bits + Σ b·d) / Σ b is valid while it does not exceed the next
	// path's delay.
	var order [16]int
	m := 0
	for j := range x {
		x[j] = 0
		if orig[j] == j {
			k := m
			for k > 0 && d[order[k-1]] > d[j] {
				order[k] = order[k-1]
				k--
			}
			order[k] = j
			m++
		}
	}
	var sb, sbd, level float64
	for k := 0; k < m; k++ {
		j := order[k]
		sb += b[j]
		sbd += b[j] * d[j]
		level = (bits + sbd) / sb
		if k+1 < m && level <= d[order[k+1]] {
			break
		}
	}
	var s float64
	for k := 0; k < m; k++ {
		j := order[k]
		if v := b[j] * (level - d[j]); v > 0 {
			x[j] = float32(v)
			s += v
		}
	}
	if s == 0 { // nothing to send: the fastest path
		x[order[0]], s = 1, 1
	}
	for j := range x {
		x[j] /= float32(s)
	}
	return level
}

func grow32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growF(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}
