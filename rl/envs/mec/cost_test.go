package mec

import (
	"math"
	"testing"
)

// handConfig is a system with round numbers: a 1 MHz channel whose
// gain/noise makes a = g/(B·σ) = 1 per W for one device (2 for two
// sharing it), a 10 Mbit/s fronthaul, a 10 GHz edge, 1 GHz devices,
// κ = 5e-27, 1 W transmitters, a 100 J battery, penalty 100.
func handConfig(devices int) Config {
	c := DefaultConfig(devices)
	c.Bandwidth, c.Noise, c.FrontHaul, c.EdgeCPU = 1e6, 1e-12, 1e7, 1e10
	c.LocalCPUMax, c.Kappa, c.PowerMax, c.BatteryTotal, c.Penalty = 1e9, 5e-27, 1, 100, 100
	return c
}

// handTask: 1 Mbit in, 1 Gcycle, the given deadline, gain 1e-6 (a = 1),
// full battery, latency preference 0.5 (λ_t = λ_e = 0.5).
func handTask(deadline float64) Task {
	return Task{Input: 1e6, Cycles: 1e9, Deadline: deadline, Gain: 1e-6, Battery: 100, Pref: 0.5}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

func checkOutcome(t *testing.T, what string, o Outcome, cost, time, energy float64, ok bool) {
	t.Helper()
	if !near(o.Cost, cost) || !near(o.Time, time) || !near(o.Energy, energy) || o.OK != ok {
		t.Errorf("%s: cost %.6f, time %.6f s, energy %.6f J, ok %v; want %.6f, %.6f, %.6f, %v",
			what, o.Cost, o.Time, o.Energy, o.OK, cost, time, energy, ok)
	}
}

// TestLocalKnownValues: one task run locally, by hand. λ_t = λ_e = 0.5:
// the stationary frequency f' = (λ_t/(2·λ_e·κ))^(1/3) = (1e26)^(1/3) =
// 4.6416e8 Hz.
func TestLocalKnownValues(t *testing.T) {
	fp := math.Cbrt(1e26)
	for _, c := range []struct {
		name                 string
		task                 Task
		total                float64 // BatteryTotal
		freq, cost, time, en float64
		ok                   bool
	}{
		// τ = 4 s: f' ∈ [c/τ = 2.5e8, 1e9]; time 1e9/f', energy κ·f'²·1e9.
		{"unclipped", handTask(4), 100, fp, 0.5*1e9/fp + 0.5*5e-27*fp*fp*1e9, 1e9 / fp, 5e-27 * fp * fp * 1e9, true},
		// τ = 2 s: f' < c/τ = 5e8, so 5e8: 2 s and 1.25 J, cost 1 + 0.625.
		{"clipped by the deadline", handTask(2), 100, 5e8, 1.625, 2, 1.25, true},
		// Battery 0.5 J of 0.5 (ratio 1): κ·f²·c ≤ 0.5 caps f at
		// √(1e17) = 3.1623e8 < f': energy exactly 0.5 J, time 3.16228 s.
		{"clipped by the battery", Task{Input: 1e6, Cycles: 1e9, Deadline: 4, Battery: 0.5, Pref: 0.5}, 0.5,
			math.Sqrt(1e17), 0.5*1e9/math.Sqrt(1e17) + 0.5*0.5, 1e9 / math.Sqrt(1e17), 0.5, true},
		// τ = 0.5 s needs 2 GHz > f_max: infeasible, run at 1 GHz (1 s,
		// 5 J) and pay the penalty.
		{"infeasible", handTask(0.5), 100, 1e9, 0.5*1 + 0.5*5 + 100, 1, 5, false},
	} {
		cfg := handConfig(1)
		cfg.BatteryTotal = c.total
		s := &Set{Cfg: cfg, Tasks: []Task{c.task}}
		o := s.Local(0)
		checkOutcome(t, c.name, o, c.cost, c.time, c.en, c.ok)
		if !near(o.Freq, c.freq) {
			t.Errorf("%s: frequency %v, want %v", c.name, o.Freq, c.freq)
		}
	}
}

// TestOffloadKnownValues: one task offloaded alone, by hand. a = 1, so
// r(p) = 1e6·log2(1 + p); fronthaul 1e6/1e7 = 0.1 s, edge 1e9/1e10 = 0.1
// s. With λ_t = λ_e the power minimises (1 + p)/log2(1 + p): 1 + p = e.
func TestOffloadKnownValues(t *testing.T) {
	s := &Set{Cfg: handConfig(1), Tasks: []Task{handTask(2)}}
	// p_max = 1 W < e − 1: the objective still falls at 1 W, so p = 1:
	// r = 1e6, upload 1 s, time 1.2 s, energy 1 J, cost 0.6 + 0.5.
	o := s.Offload(0, 1, 1)
	checkOutcome(t, "p_max 1 W", o, 1.1, 1.2, 1, true)
	if !near(o.Power, 1) {
		t.Errorf("power %v, want 1", o.Power)
	}
	// p_max = 5 W: p = e − 1, r = 1e6·log2(e), upload ln 2 s, energy
	// (e − 1)·ln 2 J.
	s.Cfg.PowerMax = 5
	o = s.Offload(0, 1, 1)
	up := math.Ln2
	checkOutcome(t, "p_max 5 W", o, 0.5*(up+0.2)+0.5*(math.E-1)*up, up+0.2, (math.E-1)*up, true)
	if math.Abs(o.Power-(math.E-1)) > 1e-5 {
		t.Errorf("power %v, want e − 1", o.Power)
	}
	// A deadline of 1 s leaves 0.8 s for the upload: r ≥ 1.25e6 needs
	// p ≥ 2^1.25 − 1 = 1.3784 W > p_max = 1 W: infeasible, p_max and the
	// penalty.
	s = &Set{Cfg: handConfig(1), Tasks: []Task{handTask(1)}}
	checkOutcome(t, "deadline", s.Offload(0, 1, 1), 1.1+100, 1.2, 1, false)
}

// TestTwoTasksShareTheChannel: two devices on one AP both offload: each
// gets half the bandwidth (B = 0.5 MHz, a = 2) and half the edge (0.2 s).
// (1 + p)/log2(1 + 2p) still falls at p = 1 (its minimum solves
// ln(1 + 2p) = 2(1 + p)/(1 + 2p), between 1 and 2), so p = 1:
// r = 0.5e6·log2 3, upload 2/log2 3 s, time that + 0.3 s, energy the
// upload time × 1 W. One offloading alone pays the one-device values.
func TestTwoTasksShareTheChannel(t *testing.T) {
	s := &Set{Cfg: handConfig(2), Tasks: []Task{handTask(4), handTask(4)}}
	up := 2 / math.Log2(3)
	each := 0.5*(up+0.3) + 0.5*up
	total, out := s.Evaluate([]bool{true, true})
	checkOutcome(t, "shared, task 0", out[0], each, up+0.3, up, true)
	checkOutcome(t, "shared, task 1", out[1], each, up+0.3, up, true)
	if !near(total, 2*each) {
		t.Errorf("total %v, want %v", total, 2*each)
	}
	// Task 0 offloads alone (the one-device values: 1.1), task 1 runs
	// locally at f' (τ = 4 s).
	fp := math.Cbrt(1e26)
	local := 0.5*1e9/fp + 0.5*5e-27*fp*fp*1e9
	if total, _ := s.Evaluate([]bool{true, false}); !near(total, 1.1+local) {
		t.Errorf("one offloading: total %v, want %v", total, 1.1+local)
	}
	// On two APs nobody shares a channel, but the edge is still shared:
	// 0.1 s more each than alone.
	s.Cfg.APs, s.Tasks[1].AP = 2, 1
	if total, _ := s.Evaluate([]bool{true, true}); !near(total, 2*(1.1+0.5*0.1)) {
		t.Errorf("two APs: total %v, want %v", total, 2*1.15)
	}
}

// TestWeightsFollowTheBattery: λ_t = ω_t·r_p, λ_e = 1 − λ_t.
func TestWeightsFollowTheBattery(t *testing.T) {
	s := &Set{Cfg: handConfig(1), Tasks: []Task{{Battery: 25, Pref: 0.8}}}
	if lt, le := s.Weights(0); !near(lt, 0.2) || !near(le, 0.8) {
		t.Errorf("weights %v, %v; want 0.2, 0.8", lt, le)
	}
}

// TestNewSetDrawsWithinTheConfig: every drawn task lies in its configured
// ranges (input, cycles, slack = deadline·f_max/cycles, distance from the
// gain, battery ratio, preference), devices go to AP n mod N, and the
// draws spread over each range (not a constant at one end).
func TestNewSetDrawsWithinTheConfig(t *testing.T) {
	cfg := DefaultConfig(60)
	cfg.APs = 4
	s, err := NewSet(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	in := func(name string, v, lo, hi float64) {
		if !(v >= lo*(1-1e-12) && v <= hi*(1+1e-12)) {
			t.Errorf("%s %v outside [%v, %v]", name, v, lo, hi)
		}
	}
	var lowIn, highIn int
	for n, tk := range s.Tasks {
		in("input", tk.Input, cfg.InputMin, cfg.InputMax)
		in("cycles", tk.Cycles, cfg.CyclesMin, cfg.CyclesMax)
		in("slack", tk.Deadline*cfg.LocalCPUMax/tk.Cycles, cfg.SlackMin, cfg.SlackMax)
		in("distance", math.Pow(tk.Gain/cfg.PathLossRef, -1/cfg.PathLossExp), cfg.DistMin, cfg.DistMax)
		in("battery ratio", tk.Battery/cfg.BatteryTotal, cfg.BatteryMin, cfg.BatteryMax)
		in("preference", tk.Pref, cfg.PrefMin, cfg.PrefMax)
		if tk.AP != n%cfg.APs {
			t.Errorf("task %d at AP %d, want %d", n, tk.AP, n%cfg.APs)
		}
		if tk.Input < (cfg.InputMin+cfg.InputMax)/2 {
			lowIn++
		} else {
			highIn++
		}
	}
	if lowIn < 10 || highIn < 10 {
		t.Errorf("inputs not spread: %d below the middle, %d above", lowIn, highIn)
	}
}
