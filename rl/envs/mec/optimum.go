package mec

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// MaxExhaustiveDevices bounds Exhaustive: 2^D vectors are enumerated.
const MaxExhaustiveDevices = 24

// table holds every task's outcome under every sharing: local[n], and
// offload[n][m−1][total−1] for m devices offloading through n's AP and
// total in all. Costs of vectors are sums of table entries.
type table struct {
	local   []float64
	offload [][][]float64
}

func (s *Set) table() *table {
	d := len(s.Tasks)
	tb := &table{local: make([]float64, d), offload: make([][][]float64, d)}
	perAP := make([]int, s.Cfg.APs)
	for _, t := range s.Tasks {
		perAP[t.AP]++
	}
	for n, t := range s.Tasks {
		tb.local[n] = s.Local(n).Cost
		tb.offload[n] = make([][]float64, perAP[t.AP])
		for m := range tb.offload[n] {
			tb.offload[n][m] = make([]float64, d)
			s.offloadCosts(n, m+1, tb.offload[n][m])
		}
	}
	return tb
}

// offloadCosts writes Offload(n, m, total).Cost to dst[total−1] for every
// total from m to D, from closed forms (closedform.go) instead of
// Offload's searches: the total changes only the edge time, so only the
// deadline's lower bound lo on the power; the objective
// (λ_t + λ_e·p)/r(p) is quasi-convex, so its minimum over [lo, hi] is its
// minimiser p* over (0, hi] raised to lo. When lo binds, r(lo) = i/slack
// by lo's definition: the task ends at its deadline and spends lo·slack.
// (Offload is the reference; tests check the two agree.)
func (s *Set) offloadCosts(n, m int, dst []float64) {
	t, cfg := s.Tasks[n], s.Cfg
	lt, le := s.Weights(n)
	b := cfg.Bandwidth / float64(m)
	a := t.Gain / (b * cfg.Noise)
	rate := func(p float64) float64 { return b * math.Log2(1+a*p) }
	hi := batteryPower(t.Battery, t.Input, a, b, cfg.PowerMax)
	pStar := math.Min(bestPower(lt, le, a), hi)
	// The deadline leaves slack = τ − fixed for the upload, which needs
	// r(p) ≥ i/slack: no power up to hi does it when slack < i/r(hi)
	// (the penalty, at p_max); p* does when slack ≥ i/r(p*); in between
	// the bound lo = (2^(i/(B·slack)) − 1)/a binds.
	var atStar, needStar float64 // the cost at p* without the edge time; the slack p* needs
	if pStar > 0 {
		r := rate(pStar)
		atStar, needStar = lt*t.Input/r+le*pStar*t.Input/r, t.Input/r
	}
	needHi := math.Inf(1)
	if hi > 0 {
		needHi = t.Input / rate(hi)
	}
	rMax := rate(cfg.PowerMax)
	broken := lt*t.Input/rMax + le*cfg.PowerMax*t.Input/rMax + cfg.Penalty
	up := t.Input / cfg.FrontHaul
	for total := m; total <= len(s.Tasks); total++ {
		fixed := up + t.Cycles*float64(total)/cfg.EdgeCPU
		switch slack := t.Deadline - fixed; {
		case !(slack > 0) || slack < needHi:
			dst[total-1] = broken + lt*fixed
		case slack >= needStar:
			dst[total-1] = atStar + lt*fixed
		default:
			lo := math.Expm1(t.Input/(b*slack)*math.Ln2) / a
			dst[total-1] = lt*t.Deadline + le*lo*slack
		}
	}
}

// cost is the total cost of the vector mask (bit n: task n offloads).
func (s *Set) cost(tb *table, mask uint64, perAP []int) float64 {
	clear(perAP)
	for n, t := range s.Tasks {
		if mask>>n&1 == 1 {
			perAP[t.AP]++
		}
	}
	total := bits.OnesCount64(mask)
	var c float64
	for n, t := range s.Tasks {
		if mask>>n&1 == 1 {
			c += tb.offload[n][perAP[t.AP]-1][total-1]
		} else {
			c += tb.local[n]
		}
	}
	return c
}

// Cost is the total cost of the offloading vector off (Evaluate's total,
// from the set's cost table: a few lookups per task).
func (s *Set) Cost(off []bool) float64 {
	if len(off) != len(s.Tasks) {
		panic(fmt.Sprintf("mec: a vector of %d decisions for %d tasks", len(off), len(s.Tasks)))
	}
	dec := make([]int8, len(off))
	for n, o := range off {
		if o {
			dec[n] = Offloaded
		}
	}
	return s.partial(s.costs(), dec) // every task decided: the total
}

// Solution is an offloading vector and its total cost.
type Solution struct {
	Offload []bool
	Cost    float64
}

func (s *Set) solution(mask uint64, cost float64) Solution {
	off := make([]bool, len(s.Tasks))
	for n := range off {
		off[n] = mask>>n&1 == 1
	}
	return Solution{Offload: off, Cost: cost}
}

// Exhaustive returns the optimum by brute force: the cheapest of all 2^D
// offloading vectors (each task at its optimal frequency or power),
// enumerated on every CPU in parallel; ties go to the smallest vector
// (bit n = task n), so the result does not depend on the number of
// workers. Optimal finds the same cost in polynomial time; Exhaustive is
// its check and the bench's measure of what brute force costs.
func (s *Set) Exhaustive() (Solution, error) {
	d := len(s.Tasks)
	if d > MaxExhaustiveDevices {
		return Solution{}, fmt.Errorf("mec: exhaustive search over %d devices: at most %d (2^D vectors)", d, MaxExhaustiveDevices)
	}
	tb := s.costs()
	n := uint64(1) << d
	workers := min(runtime.GOMAXPROCS(0), int(max(1, n>>12)))
	type best struct {
		mask uint64
		cost float64
	}
	res := make([]best, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			b := best{cost: math.Inf(1)}
			perAP := make([]int, s.Cfg.APs)
			lo, hi := n*uint64(w)/uint64(workers), n*uint64(w+1)/uint64(workers)
			for mask := lo; mask < hi; mask++ {
				if c := s.cost(tb, mask, perAP); c < b.cost {
					b = best{mask, c}
				}
			}
			res[w] = b
		})
	}
	wg.Wait()
	b := res[0]
	for _, r := range res[1:] { // workers cover increasing ranges: strict < keeps the smallest mask on ties
		if r.cost < b.cost {
			b = r
		}
	}
	return s.solution(b.mask, b.cost), nil
}

// Optimal returns the optimum for any D, exactly, in polynomial time.
//
// A task's cost depends only on its own decision, the number m_a of
// offloaders at its AP a and the number M in all. Fix M and the counts
// (m_1 … m_N) with Σ m_a = M: the total cost separates by AP, and within
// AP a the best m_a offloaders are the m_a tasks of smallest
// offload[n][m_a][M] − local[n] (every choice of m_a tasks pays the same
// local costs for the others, up to these differences). So
//
//	best_a(m, M) = Σ_{n ∈ AP a} local[n] + (sum of the m smallest differences at (m, M)),
//
// and for each M the counts are a knapsack over the APs: a dynamic program
// min Σ_a best_a(m_a, M) subject to Σ m_a = M. The optimum is the best M.
// Work: O(D² · max_a |AP a| · log) for the sorted differences and
// O(N · D²) for the programs, against 2^D for Exhaustive (D = 30: well
// under a millisecond against 2^30 vectors). Ties go to the smallest M,
// then the lowest task indices, so the result is deterministic.
func (s *Set) Optimal() Solution {
	d, nAP := len(s.Tasks), s.Cfg.APs
	tb := s.costs()
	members := make([][]int, nAP)
	for n, t := range s.Tasks {
		members[t.AP] = append(members[t.AP], n)
	}
	var localSum float64
	for _, c := range tb.local {
		localSum += c
	}
	type pick struct {
		gain float64 // the sum of the m smallest differences
		idx  []int   // those tasks
	}
	// choose(a, m, M): AP a's best m offloaders when M offload in all.
	choose := func(a, m, total int) pick {
		if m == 0 {
			return pick{}
		}
		ms := members[a]
		order := make([]int, len(ms))
		copy(order, ms)
		diff := func(n int) float64 { return tb.offload[n][m-1][total-1] - tb.local[n] }
		slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(diff(x), diff(y)) })
		p := pick{idx: order[:m:m]}
		for _, n := range p.idx {
			p.gain += diff(n)
		}
		return p
	}
	bestCost := math.Inf(1)
	var bestPicks []pick
	gains := make([][]pick, nAP) // gains[a][m] at the current total
	for total := 0; total <= d; total++ {
		for a := range nAP {
			gains[a] = gains[a][:0]
			for m := 0; m <= min(len(members[a]), total); m++ {
				gains[a] = append(gains[a], choose(a, m, total))
			}
		}
		// dp[a][k]: the least gain of APs before a with k offloaders among
		// them; arg[a][k] the count of AP a−1 that reaches it.
		dp := make([][]float64, nAP+1)
		arg := make([][]int, nAP+1)
		for a := range dp {
			dp[a] = make([]float64, total+1)
			arg[a] = make([]int, total+1)
			for k := range dp[a] {
				dp[a][k] = math.Inf(1)
			}
		}
		dp[0][0] = 0
		for a := range nAP {
			for k := 0; k <= total; k++ {
				if math.IsInf(dp[a][k], 1) {
					continue
				}
				for m := 0; m < len(gains[a]) && k+m <= total; m++ {
					if v := dp[a][k] + gains[a][m].gain; v < dp[a+1][k+m] {
						dp[a+1][k+m], arg[a+1][k+m] = v, m
					}
				}
			}
		}
		if c := localSum + dp[nAP][total]; c < bestCost {
			bestCost = c
			bestPicks = make([]pick, nAP)
			for a, k := nAP, total; a > 0; a-- {
				m := arg[a][k]
				bestPicks[a-1] = gains[a-1][m]
				k -= m
			}
		}
	}
	off := make([]bool, d)
	for _, p := range bestPicks {
		for _, n := range p.idx {
			off[n] = true
		}
	}
	c, _ := s.Evaluate(off)
	return Solution{Offload: off, Cost: c}
}

// CoordinateDescent is the method of DROO's data sets (a baseline here:
// Optimal is exact at every D): from all-local, flip the single decision that lowers the
// total cost most, until no flip does; restarts from the given number of
// random vectors (seeded) and keeps the best. It is a local optimum, an
// upper bound on the optimum.
func (s *Set) CoordinateDescent(restarts int, seed uint64) Solution {
	d := len(s.Tasks)
	tb := s.costs()
	perAP := make([]int, s.Cfg.APs)
	rng := rand.New(rand.NewPCG(seed, 0xcd))
	descend := func(mask uint64) (uint64, float64) {
		cur := s.cost(tb, mask, perAP)
		for {
			bestMask, bestCost := mask, cur
			for n := range d {
				m := mask ^ 1<<n
				if c := s.cost(tb, m, perAP); c < bestCost {
					bestMask, bestCost = m, c
				}
			}
			if bestMask == mask {
				return mask, cur
			}
			mask, cur = bestMask, bestCost
		}
	}
	bm, bc := descend(0)
	for range restarts {
		start := rng.Uint64()
		if d < 64 {
			start &= 1<<d - 1
		}
		if m, c := descend(start); c < bc {
			bm, bc = m, c
		}
	}
	return s.solution(bm, bc)
}
