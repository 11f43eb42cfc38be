package cluster

import (
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// The metaheuristic baselines (the paper's Sigmoid-PSO and the GWO part
// of its S-P-GWO), as policies over the observation. The paper gives no
// formulation for the online queue; the one used here (docs/dsppo.md):
//
//   - At each decision the batch is the decided task and the next
//     BatchSize−1 waiting tasks listed in the observation. A solution
//     gives each of them one of its type's placements (any node × its
//     strategies on the node's cluster) or "defer".
//   - A solution is decoded in queue order against the nodes' free
//     resources: a placement that fits is reserved and the task completes
//     after its wait + run time; a deferred task, or one whose placement
//     no longer fits, is estimated to complete after its wait + its
//     fastest run time + DeferCost × that run time (it must wait for
//     resources).
//   - The fitness is the paper's objective (equation 12) over the batch:
//     α·mean completion + β·mean wait − σ·u, with u the utilisation after
//     the batch's placements (the weights of the configuration).
//   - The decided task's placement in the best solution found is played
//     (a wait if it is "defer" or does not fit, when waiting is allowed;
//     otherwise the fastest placement that fits).
//
// Positions are continuous in [0, K) per task (K = placements + 1) and
// decoded by their integer part: the usual encoding of PSO and GWO for
// assignment problems.

// SwarmConfig sizes the searches.
type SwarmConfig struct {
	BatchSize, Particles, Iterations int
	// DeferCost is the estimated extra delay of a deferred task, in units
	// of its fastest run time.
	DeferCost float64
	Seed      uint64
}

// DefaultSwarm: batches of 8, 20 particles (wolves), 30 iterations,
// DeferCost 1.
func DefaultSwarm() SwarmConfig {
	return SwarmConfig{BatchSize: 8, Particles: 20, Iterations: 30, DeferCost: 1, Seed: 1}
}

// batch is one decision's search problem.
type batch struct {
	o       Obs
	types   []int
	waits   []float64
	options [][][2]int // per task: (node, strategy) placements
	fastest []float64
	free    [][NumResources]float64
	capC    float64
	capA    float64
	deferC  float64
}

func newBatch(o Obs, size int, deferCost float64) *batch {
	b := &batch{o: o, deferC: deferCost}
	b.types = append(b.types, o.Task)
	b.waits = append(b.waits, o.TaskWait)
	for _, q := range o.Queue {
		if len(b.types) == size {
			break
		}
		b.types = append(b.types, q.Type)
		b.waits = append(b.waits, q.Wait)
	}
	for _, nd := range o.Nodes {
		b.capC += nd.Cap[0]
		b.capA += nd.Cap[2]
	}
	for _, typ := range b.types {
		var opts [][2]int
		fast := math.Inf(1)
		for n, nd := range o.Nodes {
			for _, si := range optionsOf(o, typ, nd.Cluster) {
				opts = append(opts, [2]int{n, si})
			}
		}
		for _, s := range o.Cfg.TaskTypes[typ].Strategies {
			if fitsEmpty(o, s) {
				fast = math.Min(fast, s.Runtime)
			}
		}
		b.options, b.fastest = append(b.options, opts), append(b.fastest, fast)
	}
	b.free = make([][NumResources]float64, len(o.Nodes))
	return b
}

// optionsOf returns the strategies of type typ on cluster ci.
func optionsOf(o Obs, typ, ci int) []int {
	if typ == o.Task {
		return o.Options[ci]
	}
	var out []int
	for si, s := range o.Cfg.TaskTypes[typ].Strategies {
		if s.Cluster == o.Cfg.Clusters[ci].Name {
			out = append(out, si)
		}
	}
	return out
}

// decode returns the fitness of position x (lower is better) and the
// decided task's placement (node, strategy) or (−1, −1).
func (b *batch) decode(x []float64) (float64, [2]int) {
	for n, nd := range b.o.Nodes {
		b.free[n] = nd.Free
	}
	w := b.o.Cfg.Weights
	var compl, wait float64
	usedC, usedA := 0.0, 0.0
	for _, nd := range b.o.Nodes {
		usedC += nd.Cap[0] - nd.Free[0]
		usedA += nd.Cap[2] - nd.Free[2]
	}
	first := [2]int{-1, -1}
	for i, typ := range b.types {
		k := int(x[i])
		placed := false
		if k < len(b.options[i]) {
			opt := b.options[i][k]
			s := b.o.Cfg.TaskTypes[typ].Strategies[opt[1]]
			d := s.Demand.Vec()
			if fits(d, b.free[opt[0]]) {
				for r := range d {
					b.free[opt[0]][r] -= d[r]
				}
				usedC, usedA = usedC+d[0], usedA+d[2]
				compl += b.waits[i] + s.Runtime
				wait += b.waits[i]
				placed = true
				if i == 0 {
					first = opt
				}
			}
		}
		if !placed {
			compl += b.waits[i] + b.fastest[i]*(1+b.deferC)
			wait += b.waits[i] + b.fastest[i]*b.deferC
		}
	}
	m := float64(len(b.types))
	var u, parts float64
	if b.capC > 0 {
		u, parts = u+usedC/b.capC, parts+1
	}
	if b.capA > 0 {
		u, parts = u+usedA/b.capA, parts+1
	}
	if parts > 0 {
		u /= parts
	}
	return w.Alpha*compl/m + w.Beta*wait/m - w.Sigma*u, first
}

// dims returns the position bounds: K per task.
func (b *batch) dims() []float64 {
	k := make([]float64, len(b.types))
	for i := range k {
		k[i] = float64(len(b.options[i]) + 1)
	}
	return k
}

// act turns the best solution's first placement into an action.
func (b *batch) act(best [2]int) rl.Action {
	o := b.o
	slots := len(o.Mask) / max(1, len(o.Nodes))
	if best[0] >= 0 {
		for k, si := range o.Options[o.Nodes[best[0]].Cluster] {
			if si == best[1] && o.Mask[best[0]*slots+k] {
				return rl.Action{Index: best[0]*slots + k}
			}
		}
	}
	if o.Mask[o.WaitAction()] {
		return rl.Action{Index: o.WaitAction()}
	}
	a, _ := Fastest().Decide(o)
	return a
}

// SigmoidPSO is particle swarm optimisation with a sigmoid-decreasing
// inertia weight (the paper's [24], Premkumar et al. 2023): w(t) =
// w_min + (w_max − w_min)/(1 + e^(10(t/T − ½))), w from 0.9 to 0.4,
// c1 = c2 = 2, velocities clamped to ±K/2 per task.
func SigmoidPSO(cfg SwarmConfig) rl.Policy[Obs] {
	calls := uint64(0)
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		calls++
		rng := rand.New(rand.NewPCG(cfg.Seed, calls))
		b := newBatch(o, cfg.BatchSize, cfg.DeferCost)
		_, _, first := psoSearch(b, cfg, rng)
		return b.act(first), nil
	})
}

// psoSearch is Sigmoid-PSO over b: the best position, its fitness and its
// first task's placement.
func psoSearch(b *batch, cfg SwarmConfig, rng *rand.Rand) ([]float64, float64, [2]int) {
	k := b.dims()
	d := len(k)
	pos, vel, pbest := make([][]float64, cfg.Particles), make([][]float64, cfg.Particles), make([][]float64, cfg.Particles)
	pfit := make([]float64, cfg.Particles)
	gbest, gfit, gfirst := make([]float64, d), math.Inf(1), [2]int{-1, -1}
	for p := range pos {
		pos[p], vel[p] = make([]float64, d), make([]float64, d)
		for j := range d {
			pos[p][j] = rng.Float64() * k[j]
			vel[p][j] = (rng.Float64() - 0.5) * k[j] / 2
		}
		if p == 0 { // one particle starts at "fastest placement first" for every task
			for j := range d {
				pos[p][j] = fastestIndex(b, j)
			}
		}
		pbest[p] = append([]float64(nil), pos[p]...)
		f, first := b.decode(pos[p])
		pfit[p] = f
		if f < gfit {
			gfit, gfirst = f, first
			copy(gbest, pos[p])
		}
	}
	for it := range cfg.Iterations {
		w := 0.4 + 0.5/(1+math.Exp(10*(float64(it)/float64(cfg.Iterations)-0.5)))
		for p := range pos {
			for j := range d {
				v := w*vel[p][j] + 2*rng.Float64()*(pbest[p][j]-pos[p][j]) + 2*rng.Float64()*(gbest[j]-pos[p][j])
				vel[p][j] = math.Max(-k[j]/2, math.Min(k[j]/2, v))
				pos[p][j] = math.Max(0, math.Min(k[j]-1e-9, pos[p][j]+vel[p][j]))
			}
			f, first := b.decode(pos[p])
			if f < pfit[p] {
				pfit[p] = f
				copy(pbest[p], pos[p])
			}
			if f < gfit {
				gfit, gfirst = f, first
				copy(gbest, pos[p])
			}
		}
	}
	return gbest, gfit, gfirst
}

// GWO is the grey wolf optimiser (Mirjalili et al. 2014): the three best
// wolves (α, β, δ) lead; a falls linearly from 2 to 0; each wolf moves to
// the mean of X_l − A·|C·X_l − X| over the leaders.
func GWO(cfg SwarmConfig) rl.Policy[Obs] {
	calls := uint64(0)
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		calls++
		rng := rand.New(rand.NewPCG(cfg.Seed, calls^0x6770))
		b := newBatch(o, cfg.BatchSize, cfg.DeferCost)
		return b.act(gwoSearch(b, cfg, rng, nil)), nil
	})
}

// gwoSearch is GWO over b, one wolf starting at "fastest placement first"
// (or at start, when given); it returns the best first placement.
func gwoSearch(b *batch, cfg SwarmConfig, rng *rand.Rand, start []float64) [2]int {
	k := b.dims()
	d := len(k)
	wolves := make([][]float64, cfg.Particles)
	fit := make([]float64, cfg.Particles)
	firsts := make([][2]int, cfg.Particles)
	for p := range wolves {
		wolves[p] = make([]float64, d)
		for j := range d {
			wolves[p][j] = rng.Float64() * k[j]
			if p == 0 {
				wolves[p][j] = fastestIndex(b, j)
				if start != nil {
					wolves[p][j] = start[j]
				}
			}
		}
		fit[p], firsts[p] = b.decode(wolves[p])
	}
	bestFit, bestFirst := math.Inf(1), [2]int{-1, -1}
	leaders := make([][]float64, 3)
	for it := range cfg.Iterations {
		idx := []int{-1, -1, -1}
		for p := range wolves {
			if fit[p] < bestFit {
				bestFit, bestFirst = fit[p], firsts[p]
			}
			for l := range 3 {
				if idx[l] < 0 || fit[p] < fit[idx[l]] {
					copy(idx[l+1:], idx[l:2])
					idx[l] = p
					break
				}
			}
		}
		for l := range 3 {
			if idx[l] < 0 {
				idx[l] = idx[0]
			}
			leaders[l] = append(leaders[l][:0], wolves[idx[l]]...)
		}
		a := 2 * (1 - float64(it)/float64(cfg.Iterations))
		for p := range wolves {
			for j := range d {
				var x float64
				for l := range 3 {
					A, C := 2*a*rng.Float64()-a, 2*rng.Float64()
					x += leaders[l][j] - A*math.Abs(C*leaders[l][j]-wolves[p][j])
				}
				wolves[p][j] = math.Max(0, math.Min(k[j]-1e-9, x/3))
			}
			fit[p], firsts[p] = b.decode(wolves[p])
		}
	}
	for p := range wolves {
		if fit[p] < bestFit {
			bestFit, bestFirst = fit[p], firsts[p]
		}
	}
	return bestFirst
}

// fastestIndex is the position of task j's fastest placement that fits
// an empty node (the first such in node order), as a seed solution.
func fastestIndex(b *batch, j int) float64 {
	best, bestT := len(b.options[j]), math.Inf(1)
	for i, opt := range b.options[j] {
		s := b.o.Cfg.TaskTypes[b.types[j]].Strategies[opt[1]]
		if fits(s.Demand.Vec(), b.o.Nodes[opt[0]].Free) && s.Runtime < bestT {
			best, bestT = i, s.Runtime
		}
	}
	return float64(best) + 0.5
}
