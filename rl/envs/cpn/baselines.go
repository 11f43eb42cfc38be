package cpn

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/internal/lp"
	"github.com/cpntrain/cpntrain/rl"
)

// A Baseline decides for the current task of an environment: the paper's
// heuristics and the oracle from the environment's true state (they model
// a controller that knows it), "wf" from the controller's observation only
// (WaterFillingFromObs).
type Baseline func(e *Env) (rl.Action, error)

// Baselines by name: base1 (fastest compute + ECMP), base2 (nearest +
// ECMP), base3 (fastest compute + LP split), base4 (nearest + LP), wf
// (not in the paper: the candidate of smallest estimated response latency
// and the split behind that estimate, both from the observation; see
// WaterFillingFromObs), oracle.
var Baselines = map[string]Baseline{
	"base1":  func(e *Env) (rl.Action, error) { return e.baseline(e.Fastest(), false) },
	"base2":  func(e *Env) (rl.Action, error) { return e.baseline(e.Nearest(), false) },
	"base3":  func(e *Env) (rl.Action, error) { return e.baseline(e.Fastest(), true) },
	"base4":  func(e *Env) (rl.Action, error) { return e.baseline(e.Nearest(), true) },
	"wf":     func(e *Env) (rl.Action, error) { return e.WaterFilling() },
	"oracle": func(e *Env) (rl.Action, error) { return e.Oracle(20) },
	// The oracle with lookahead over the next 10 tasks (rollouts by the
	// myopic oracle on a 1/10 grid).
	"oracle-la": func(e *Env) (rl.Action, error) { return e.Lookahead(10, 20, 10) },
}

// BaselineNames lists Baselines in report order.
var BaselineNames = []string{"base1", "base2", "base3", "base4", "wf", "oracle", "oracle-la"}

// WaterFillingFromObs is the wf baseline, a policy of the observation
// alone: the allowed candidate of smallest estimated response latency
// (Candidate.EstimateMs; the first on ties) with the controller's split of
// its paths (Path.Split).
func WaterFillingFromObs(o Obs) (rl.Action, error) {
	best := -1
	for i := 0; i < o.K; i++ {
		if o.NodeMask[i] && (best < 0 || o.Nodes[i].EstimateMs < o.Nodes[best].EstimateMs) {
			best = i
		}
	}
	if best < 0 {
		return rl.Action{}, fmt.Errorf("cpn: no candidate")
	}
	split := make([]float32, o.P)
	for j := range split {
		split[j] = o.Paths[best*o.P+j].Split
	}
	return rl.Action{Index: best, Values: split}, nil
}

// WaterFilling is the wf baseline on the current task: WaterFillingFromObs
// of the current observation (rl.ErrEpisodeOver when there is none).
func (e *Env) WaterFilling() (rl.Action, error) {
	if !e.reset || e.done {
		return rl.Action{}, rl.ErrEpisodeOver
	}
	return WaterFillingFromObs(e.obs)
}

// Fastest returns the candidate whose compute finishes first: predicted
// compute latency plus the node's current backlog.
func (e *Env) Fastest() int {
	best, bt := -1, math.Inf(1)
	for i, c := range e.cands {
		t := e.Net.Predicted(c, e.task)/1000 + math.Max(0, e.busy[c]-e.now)
		if t < bt {
			best, bt = i, t
		}
	}
	return best
}

// Nearest returns the candidate fewest hops away (ties: shorter
// propagation delay, then lower index).
func (e *Env) Nearest() int {
	h, _ := e.Net.nearest(e.Net.APs[e.task.AP])
	best := -1
	for i, c := range e.cands {
		if best < 0 {
			best = i
			continue
		}
		hb, hi := h[e.Net.Compute[e.cands[best]].Node], h[e.Net.Compute[c].Node]
		if hi < hb || hi == hb && e.psets[i].prop[0] < e.psets[best].prop[0] {
			best = i
		}
	}
	return best
}

// ECMP returns the equal split over candidate i's distinct paths.
func (e *Env) ECMP(i int) []float32 { return ECMPFromObs(e.obs, i) }

// ECMPFromObs splits evenly over candidate i's distinct paths, the rows
// o.PathMask marks (a repeated row gets 0): ECMP from the observation alone.
func ECMPFromObs(o Obs, i int) []float32 {
	x := make([]float32, o.P)
	var n int
	for j := 0; j < o.P; j++ {
		if o.PathMask[i*o.P+j] {
			n++
		}
	}
	for j := 0; j < o.P; j++ {
		if o.PathMask[i*o.P+j] {
			x[j] = 1 / float32(n)
		}
	}
	return x
}

// LPSplit returns the split over candidate i's distinct paths that
// minimises the largest link utilisation once the task's traffic (its
// bytes spread over one second) is added: the linear program of
// traffic-engineering baselines.
func (e *Env) LPSplit(i int) ([]float32, error) {
	ps := e.psets[i]
	var distinct []int
	for j, o := range ps.orig {
		if o == j {
			distinct = append(distinct, j)
		}
	}
	rows := map[int]int{}
	var a []float64
	var B [][]float64
	demand := e.task.Bytes * 8
	for k, j := range distinct {
		for _, l := range ps.links[j] {
			r, ok := rows[l]
			if !ok {
				r = len(a)
				rows[l] = r
				bg, _, _ := e.linkState(e.probeTime(), l) // the background as the probes saw it
				a = append(a, (bg+e.res[l])/e.Net.G.Links[l].Capacity)
				B = append(B, make([]float64, len(distinct)))
			}
			B[r][k] += demand / e.Net.G.Links[l].Capacity
		}
	}
	x, _, err := lp.MinMaxOnSimplex(a, B)
	if err != nil {
		return nil, fmt.Errorf("cpn: LP split: %w", err)
	}
	out := make([]float32, e.Net.Cfg.P)
	var s float32
	for k, j := range distinct {
		out[j] = float32(max(0, x[k]))
		s += out[j]
	}
	for j := range out {
		out[j] /= s
	}
	return out, nil
}

func (e *Env) baseline(i int, useLP bool) (rl.Action, error) {
	if i < 0 {
		return rl.Action{}, fmt.Errorf("cpn: no candidate")
	}
	if !useLP {
		return rl.Action{Index: i, Values: e.ECMP(i)}, nil
	}
	x, err := e.LPSplit(i)
	return rl.Action{Index: i, Values: x}, err
}

// Oracle returns the best decision for the current task given the
// simulator's true state: every candidate × every split of the distinct
// paths on a grid of step 1/grid (grid = 20: 231 splits over 3 paths). It
// is myopic — it does not plan for the tasks that follow — which makes it
// the ceiling of any per-task decision rule on the observed state.
func (e *Env) Oracle(grid int) (rl.Action, error) {
	acts, err := e.oracleByCandidate(grid)
	if err != nil {
		return rl.Action{}, err
	}
	best, bestLat := rl.Action{}, math.Inf(1)
	for _, a := range acts {
		if lat := e.outcome(a.Index, a.Values, false).LatencyMs; lat < bestLat {
			best, bestLat = a, lat
		}
	}
	return best, nil
}

// oracleByCandidate returns, per candidate, the split of its distinct paths
// on the 1/grid grid with the least latency of the current task.
func (e *Env) oracleByCandidate(grid int) ([]rl.Action, error) {
	if !e.reset || e.done {
		return nil, rl.ErrEpisodeOver
	}
	out := make([]rl.Action, 0, len(e.cands))
	x := make([]float32, e.Net.Cfg.P)
	for i := range e.cands {
		ps := e.psets[i]
		var distinct []int
		for j, o := range ps.orig {
			if o == j {
				distinct = append(distinct, j)
			}
		}
		best, bestLat := rl.Action{}, math.Inf(1)
		var rec func(k, left int)
		rec = func(k, left int) {
			if k == len(distinct)-1 {
				x[distinct[k]] = float32(left) / float32(grid)
				if lat := e.outcome(i, x, false).LatencyMs; lat < bestLat {
					bestLat = lat
					best = rl.Action{Index: i, Values: append([]float32(nil), x...)}
				}
				return
			}
			for v := 0; v <= left; v++ {
				x[distinct[k]] = float32(v) / float32(grid)
				rec(k+1, left-v)
			}
		}
		clear(x)
		rec(0, grid)
		out = append(out, best)
	}
	return out, nil
}

// Lookahead is the oracle with lookahead: each candidate's best split for
// the current task (oracleByCandidate) is scored by the task's latency plus
// the latencies of the next horizon tasks, decided by the myopic oracle
// (grid rolloutGrid) on a copy of the environment that meets the true
// future (the same task stream, tenants and background); the best total
// wins. It plans a short future the controller cannot see, so it bounds
// what any policy that trades the current task for the next ones can gain.
// The environment itself is left alone.
func (e *Env) Lookahead(horizon, grid, rolloutGrid int) (rl.Action, error) {
	acts, err := e.oracleByCandidate(grid)
	if err != nil {
		return rl.Action{}, err
	}
	if horizon <= 0 || len(acts) == 1 {
		best, bestLat := rl.Action{}, math.Inf(1)
		for _, a := range acts {
			if lat := e.outcome(a.Index, a.Values, false).LatencyMs; lat < bestLat {
				best, bestLat = a, lat
			}
		}
		return best, nil
	}
	snap, err := e.Snapshot()
	if err != nil {
		return rl.Action{}, err
	}
	sim := NewEnv(e.Net)
	best, bestTotal := rl.Action{}, math.Inf(1)
	for _, a := range acts {
		if _, err := sim.Restore(snap); err != nil {
			return rl.Action{}, err
		}
		st, err := sim.Step(a)
		if err != nil {
			return rl.Action{}, err
		}
		total := st.Info["latency_ms"]
		for h := 0; h < horizon && !st.Truncated && total < bestTotal; h++ {
			ra, err := sim.Oracle(rolloutGrid)
			if err != nil {
				return rl.Action{}, err
			}
			if st, err = sim.Step(ra); err != nil {
				return rl.Action{}, err
			}
			total += st.Info["latency_ms"]
		}
		if total < bestTotal {
			best, bestTotal = a, total
		}
	}
	return best, nil
}
