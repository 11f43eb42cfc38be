package mec

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
)

// MaxExactDevices bounds Exact: 2^D vectors are enumerated.
const MaxExactDevices = 24

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
			for total := m + 1; total <= d; total++ {
				tb.offload[n][m][total-1] = s.Offload(n, m+1, total).Cost
			}
		}
	}
	return tb
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

// Exact returns the optimum: the cheapest of all 2^D offloading vectors
// (each task at its optimal frequency or power), enumerated on every CPU
// in parallel; ties go to the smallest vector (bit n = task n), so the
// result does not depend on the number of workers.
func (s *Set) Exact() (Solution, error) {
	d := len(s.Tasks)
	if d > MaxExactDevices {
		return Solution{}, fmt.Errorf("mec: exact optimum of %d devices: at most %d (2^D vectors)", d, MaxExactDevices)
	}
	tb := s.table()
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

// CoordinateDescent is the method beyond MaxExactDevices (as in DROO's
// data sets): from all-local, flip the single decision that lowers the
// total cost most, until no flip does; restarts from the given number of
// random vectors (seeded) and keeps the best. It is a local optimum, an
// upper bound on the optimum.
func (s *Set) CoordinateDescent(restarts int, seed uint64) Solution {
	d := len(s.Tasks)
	tb := s.table()
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
