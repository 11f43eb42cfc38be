package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
)

// S-P-GWO, the paper's third heuristic baseline (section 5.4: "an SVM
// assigns servers, PSO finds the best server, GWO the strategy with the
// shortest run time"). The paper gives no more; the choices made here
// (docs/dsppo.md):
//
//   - Stage 1, the SVM: a linear one-vs-rest support vector machine
//     (hinge loss, L2, trained by Pegasos: Shalev-Shwartz et al. 2011)
//     maps a decision's features (SVMFeatures) to a cluster. Its labels
//     are the clusters Sigmoid-PSO places tasks on in training queues
//     (TrainSVM): the paper does not say where its labels come from, and
//     a search's choices are the only ones available offline. The
//     predicted cluster is the best-scoring one where the task has an
//     allowed placement.
//   - Stage 2, PSO: Sigmoid-PSO over the batch (as SigmoidPSO) with the
//     decided task's placements restricted to that cluster: the node.
//   - Stage 3, GWO: GWO over the batch with the decided task's placements
//     restricted to that node (its strategies there), one wolf starting
//     at PSO's solution: the strategy.

// SVM is a linear one-vs-rest classifier over SVMFeatures: W[c] scores
// cluster c (the last weight multiplies a constant 1).
type SVM struct {
	W [][]float64
}

// SVMFeatures describes a decision for the SVM: the task type (one-hot),
// per cluster the free share of its CPU cores, memory, accelerator units
// and network bandwidth (0 where the cluster has none), the task's wait
// (in 100 s) and the waiting tasks (in 100s).
func SVMFeatures(o Obs) []float64 {
	k := len(o.Cfg.Clusters)
	x := make([]float64, len(o.Cfg.TaskTypes)+4*k+2)
	if o.Task >= 0 {
		x[o.Task] = 1
	}
	base := len(o.Cfg.TaskTypes)
	var free, cp [][4]float64 = make([][4]float64, k), make([][4]float64, k)
	for _, nd := range o.Nodes {
		for i, r := range [4]int{0, 1, 2, 4} {
			free[nd.Cluster][i] += nd.Free[r]
			cp[nd.Cluster][i] += nd.Cap[r]
		}
	}
	for c := range k {
		for i := range 4 {
			if cp[c][i] > 0 {
				x[base+4*c+i] = free[c][i] / cp[c][i]
			}
		}
	}
	x[base+4*k] = o.TaskWait / 100
	x[base+4*k+1] = float64(o.Waiting) / 100
	return x
}

// score is W[c]·(x, 1).
func (m *SVM) score(c int, x []float64) float64 {
	w := m.W[c]
	s := w[len(w)-1]
	for i, v := range x {
		s += w[i] * v
	}
	return s
}

// Predict returns the best-scoring cluster among those where o's task has
// an allowed placement, or −1 when it has none.
func (m *SVM) Predict(o Obs) int {
	x := SVMFeatures(o)
	allowed := make([]bool, len(o.Cfg.Clusters))
	for a, ok := range o.Mask[:o.WaitAction()] {
		if ok {
			allowed[o.Nodes[a/(len(o.Mask)/len(o.Nodes))].Cluster] = true
		}
	}
	best, bestS := -1, math.Inf(-1)
	for c, ok := range allowed {
		if ok && c < len(m.W) {
			if s := m.score(c, x); s > bestS {
				best, bestS = c, s
			}
		}
	}
	return best
}

// FitSVM trains a one-vs-rest linear SVM on (xs, ys) (ys in [0, classes))
// by Pegasos: epochs passes in a seeded random order, regularisation
// lambda, step 1/(λt).
func FitSVM(xs [][]float64, ys []int, classes int, lambda float64, epochs int, seed uint64) (*SVM, error) {
	if len(xs) == 0 || len(xs) != len(ys) || classes < 1 || !(lambda > 0) || epochs < 1 {
		return nil, fmt.Errorf("cluster: svm: %d samples, %d labels, %d classes, lambda %v, %d epochs", len(xs), len(ys), classes, lambda, epochs)
	}
	d := len(xs[0])
	m := &SVM{W: make([][]float64, classes)}
	for c := range m.W {
		m.W[c] = make([]float64, d+1)
	}
	for i, y := range ys {
		if y < 0 || y >= classes || len(xs[i]) != d {
			return nil, fmt.Errorf("cluster: svm: sample %d has label %d and %d features (want [0, %d), %d)", i, y, len(xs[i]), classes, d)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5f3))
	t := 0
	for range epochs {
		for _, i := range rng.Perm(len(xs)) {
			t++
			eta := 1 / (lambda * float64(t))
			for c, w := range m.W {
				y := -1.0
				if ys[i] == c {
					y = 1
				}
				margin := y * m.score(c, xs[i])
				for j := range w {
					w[j] *= 1 - eta*lambda
				}
				if margin < 1 {
					for j, v := range xs[i] {
						w[j] += eta * y * v
					}
					w[d] += eta * y
				}
			}
		}
	}
	return m, nil
}

// TrainSVM labels the decisions of teacher on the queues of seeds (of
// sys's queue distribution) with the cluster it placed on (waits are
// skipped) and fits the SVM (λ 1e-3, 20 epochs).
func TrainSVM(sys Config, teacher func() rl.Policy[Obs], seeds []uint64) (*SVM, error) {
	var xs [][]float64
	var ys []int
	for _, seed := range seeds {
		env, err := NewEnv(sys)
		if err != nil {
			return nil, err
		}
		o, err := env.Reset(seed)
		if err != nil {
			return nil, err
		}
		p := teacher()
		for {
			a, err := p.Decide(o)
			if err != nil {
				return nil, err
			}
			if a.Index != o.WaitAction() {
				xs, ys = append(xs, SVMFeatures(o)), append(ys, o.Nodes[a.Index/env.slots].Cluster)
			}
			st, err := env.Step(a)
			if err != nil {
				return nil, err
			}
			if st.Terminated {
				break
			}
			o = st.Obs
		}
	}
	return FitSVM(xs, ys, len(sys.Clusters), 1e-3, 20, 1)
}

// SPGWO is S-P-GWO (see above) with a trained SVM.
func SPGWO(cfg SwarmConfig, m *SVM) rl.Policy[Obs] {
	calls := uint64(0)
	return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
		calls++
		rng := rand.New(rand.NewPCG(cfg.Seed, calls^0x5b6))
		b := newBatch(o, cfg.BatchSize, cfg.DeferCost)
		if c := m.Predict(o); c >= 0 {
			b.restrict(func(opt [2]int) bool { return o.Nodes[opt[0]].Cluster == c })
		}
		best, _, first := psoSearch(b, cfg, rng)
		if first[0] < 0 {
			return b.act(first), nil
		}
		node := first[0]
		prev := b.options[0][int(best[0])]
		b.restrict(func(opt [2]int) bool { return opt[0] == node })
		for i, opt := range b.options[0] {
			if opt == prev {
				best[0] = float64(i) + 0.5
			}
		}
		return b.act(gwoSearch(b, cfg, rng, best)), nil
	})
}

// restrict keeps the decided task's placements for which keep holds.
func (b *batch) restrict(keep func([2]int) bool) {
	var out [][2]int
	for _, opt := range b.options[0] {
		if keep(opt) {
			out = append(out, opt)
		}
	}
	b.options[0] = out
}
