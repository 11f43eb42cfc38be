package mec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Task is one device's task and the device's state.
type Task struct {
	// Input is i, the task's input in bits; Cycles c, the CPU cycles it
	// needs; Deadline τ in seconds.
	Input, Cycles, Deadline float64
	// AP is the device's access point; Gain g its channel gain to it.
	AP   int
	Gain float64
	// Battery is P_remain in J; Pref the latency preference ω_t in [0, 1].
	Battery, Pref float64
}

// Set is a task set: one task per device, and the system's parameters.
// Its cost table is built on the first query that needs it and kept: a
// Set must not change after that.
type Set struct {
	Cfg   Config
	Tasks []Task

	tbOnce sync.Once
	tb     *table
	memo   Memo
}

// Memo is a slot a model may use to keep what it derives from the set
// alone (not from the decisions): shared by every observation of the set.
func (s *Set) Memo() *Memo { return &s.memo }

// costs returns the set's cost table (built once).
func (s *Set) costs() *table {
	s.tbOnce.Do(func() { s.tb = s.table() })
	return s.tb
}

// LocalCost is Local(n).Cost, from the set's table.
func (s *Set) LocalCost(n int) float64 { return s.costs().local[n] }

// OffloadCost is Offload(n, m, total).Cost, from the set's table.
func (s *Set) OffloadCost(n, m, total int) float64 {
	if m < 1 || total < m || m > len(s.costs().offload[n]) || total > len(s.Tasks) {
		panic(fmt.Sprintf("mec: OffloadCost(%d, %d, %d): need 1 ≤ m ≤ total ≤ D and m ≤ the AP's devices", n, m, total))
	}
	return s.costs().offload[n][m-1][total-1]
}

// NewSet draws a task set of cfg.Devices tasks from seed.
func NewSet(cfg Config, seed uint64) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x3ec))
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s := &Set{Cfg: cfg, Tasks: make([]Task, cfg.Devices)}
	for n := range s.Tasks {
		c := u(cfg.CyclesMin, cfg.CyclesMax)
		d := u(cfg.DistMin, cfg.DistMax)
		s.Tasks[n] = Task{
			Input: u(cfg.InputMin, cfg.InputMax), Cycles: c, Deadline: c / cfg.LocalCPUMax * u(cfg.SlackMin, cfg.SlackMax),
			AP: n % cfg.APs, Gain: cfg.PathLossRef * math.Pow(d, -cfg.PathLossExp),
			Battery: cfg.BatteryTotal * u(cfg.BatteryMin, cfg.BatteryMax), Pref: u(cfg.PrefMin, cfg.PrefMax),
		}
	}
	return s, nil
}

// Weights returns task n's cost weights: λ_t = ω_t · r_p with the battery
// ratio r_p = P_remain / P_total, and λ_e = 1 − λ_t (less battery: energy
// weighs more; the patent's rule, its equations rebuilt in doc.go).
func (s *Set) Weights(n int) (lt, le float64) {
	t := s.Tasks[n]
	lt = t.Pref * t.Battery / s.Cfg.BatteryTotal
	return lt, 1 - lt
}

// Outcome is the result of one task's decision.
type Outcome struct {
	// Cost = λ_t·Time + λ_e·Energy, plus Config.Penalty when the decision
	// breaks the deadline or the battery (OK false).
	Cost, Time, Energy float64
	// Freq is the local CPU frequency chosen (Hz), Power the transmit
	// power (W); the other is 0.
	Freq, Power float64
	OK          bool
}

// Local is task n run on its device at the frequency that minimises its
// cost: the stationary point f' = (λ_t / (2 λ_e κ))^(1/3) of the convex
// λ_t·c/f + λ_e·κ·f²·c, clipped to the frequencies that meet the deadline
// (f ≥ c/τ), the battery (κ·f²·c ≤ P_remain) and f ≤ f_max. When none
// does, the device runs at f_max and pays the penalty.
func (s *Set) Local(n int) Outcome {
	t, cfg := s.Tasks[n], s.Cfg
	lt, le := s.Weights(n)
	lo := t.Cycles / t.Deadline
	hi := math.Min(cfg.LocalCPUMax, math.Sqrt(t.Battery/(cfg.Kappa*t.Cycles)))
	var f float64
	ok := lo <= hi
	switch {
	case !ok:
		f = cfg.LocalCPUMax
	case le == 0:
		f = hi
	default:
		f = math.Min(hi, math.Max(lo, math.Cbrt(lt/(2*le*cfg.Kappa))))
	}
	o := Outcome{Time: t.Cycles / f, Energy: cfg.Kappa * f * f * t.Cycles, Freq: f, OK: ok}
	o.Cost = lt*o.Time + le*o.Energy
	if !ok {
		o.Cost += cfg.Penalty
	}
	return o
}

// Offload is task n sent to the edge when m devices (n included) offload
// through its AP and total devices offload in all: its share of the AP's
// bandwidth is B = ω/m, its uplink rate r(p) = B·log2(1 + p·g/(B·σ)), its
// share of the edge CPU f_EC/total, so
//
//	Time = i/r(p) + i/c_AP + c·total/f_EC,   Energy = p·i/r(p),
//
// at the power p ∈ [0, p_max] that minimises λ_t·Time + λ_e·Energy
// subject to the deadline and the battery (golden-section search: the
// objective (λ_t + λ_e·p)/log2(1 + a·p) is quasi-convex). When no power
// meets both, the device sends at p_max and pays the penalty.
func (s *Set) Offload(n, m, total int) Outcome {
	t, cfg := s.Tasks[n], s.Cfg
	if m < 1 || total < m {
		panic(fmt.Sprintf("mec: Offload(%d, %d, %d): need 1 ≤ m ≤ total", n, m, total))
	}
	lt, le := s.Weights(n)
	b := cfg.Bandwidth / float64(m)
	a := t.Gain / (b * cfg.Noise)
	rate := func(p float64) float64 { return b * math.Log2(1+a*p) }
	fixed := t.Input/cfg.FrontHaul + t.Cycles*float64(total)/cfg.EdgeCPU
	outcome := func(p float64, ok bool) Outcome {
		r := rate(p)
		o := Outcome{Time: t.Input/r + fixed, Energy: p * t.Input / r, Power: p, OK: ok}
		o.Cost = lt*o.Time + le*o.Energy
		if !ok {
			o.Cost += cfg.Penalty
		}
		return o
	}
	// The deadline needs r(p) ≥ i/(τ − fixed): p ≥ (2^(i/(B·slack)) − 1)/a.
	slack := t.Deadline - fixed
	if !(slack > 0) {
		return outcome(cfg.PowerMax, false)
	}
	lo := math.Expm1(t.Input/(b*slack)*math.Ln2) / a
	hi := s.powerCap(n, rate)
	if !(lo <= hi) {
		return outcome(cfg.PowerMax, false)
	}
	h := func(p float64) float64 { return (lt + le*p) / rate(p) }
	return outcome(goldenMin(h, lo, hi), true)
}

// powerCap is the largest power task n may send at: p_max, or less when
// the energy p·i/r(p) (growing with p) would exceed the battery
// (bisection).
func (s *Set) powerCap(n int, rate func(float64) float64) float64 {
	t := s.Tasks[n]
	hi := s.Cfg.PowerMax
	if energy := func(p float64) float64 { return p * t.Input / rate(p) }; energy(hi) > t.Battery {
		l, h := 0.0, hi
		for range 100 {
			mid := (l + h) / 2
			if energy(mid) > t.Battery {
				h = mid
			} else {
				l = mid
			}
		}
		hi = l
	}
	return hi
}

// goldenMin returns the minimiser of a quasi-convex f on [lo, hi] to
// within 1e-12 relative (and checks the ends, where a monotone f has it).
func goldenMin(f func(float64) float64, lo, hi float64) float64 {
	const phi = 0.6180339887498949
	a, b := lo, hi
	c, d := b-phi*(b-a), a+phi*(b-a)
	fc, fd := f(c), f(d)
	for range 200 {
		if b-a <= 1e-12*math.Max(1e-12, hi) {
			break
		}
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - phi*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + phi*(b-a)
			fd = f(d)
		}
	}
	best, fb := (a+b)/2, f((a+b)/2)
	for _, p := range []float64{lo, hi} {
		if v := f(p); v < fb {
			best, fb = p, v
		}
	}
	return best
}

// Evaluate returns the outcome of every task under the offloading vector
// off (off[n]: task n goes to the edge) and their total cost.
func (s *Set) Evaluate(off []bool) (total float64, out []Outcome) {
	if len(off) != len(s.Tasks) {
		panic(fmt.Sprintf("mec: a vector of %d decisions for %d tasks", len(off), len(s.Tasks)))
	}
	perAP := make([]int, s.Cfg.APs)
	all := 0
	for n, o := range off {
		if o {
			perAP[s.Tasks[n].AP]++
			all++
		}
	}
	out = make([]Outcome, len(off))
	for n, o := range off {
		if o {
			out[n] = s.Offload(n, perAP[s.Tasks[n].AP], all)
		} else {
			out[n] = s.Local(n)
		}
		total += out[n].Cost
	}
	return total, out
}
