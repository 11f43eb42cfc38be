package mec

import (
	"fmt"
	"math"
)

// Config holds the parameters of the system and of its task sets. Defaults
// (DefaultConfig) come from the mobile-edge-computing literature; each
// field says from where.
type Config struct {
	// Devices is D, the number of smart mobile devices (one task each);
	// APs is N, the number of access points (device n uses AP n mod N).
	Devices, APs int

	// Bandwidth is ω, the uplink bandwidth of an AP in Hz, shared equally
	// by the devices offloading through it (5 MHz: Chen et al., IEEE/ACM
	// ToN 2016, "Efficient multi-user computation offloading for mobile-
	// edge cloud computing").
	Bandwidth float64
	// Noise is σ, the noise power spectral density in W/Hz (−174 dBm/Hz,
	// thermal noise at 290 K; −107 dBm over 5 MHz, near the −100 dBm of
	// Chen et al. 2016).
	Noise float64
	// PathLossRef and PathLossExp give the channel gain
	// g = PathLossRef · d^−PathLossExp (d in metres from the device to its
	// AP, uniform in [DistMin, DistMax]): the 3GPP TR 36.814 macro-cell
	// model 128.1 + 37.6·log10(d / km) dB that MEC papers commonly use,
	// i.e. 10^−1.53 at 1 m and exponent 3.76.
	PathLossRef, PathLossExp float64
	DistMin, DistMax         float64
	// FrontHaul is c_AP, the wired AP→edge rate in bit/s (1 Gbit/s).
	FrontHaul float64
	// EdgeCPU is f_EC, the edge server's CPU frequency in Hz, shared
	// equally by the offloaded tasks: 10 GHz, half the 20 GHz server of
	// Tran & Pompili (IEEE TVT 2019, "Joint task offloading and resource
	// allocation for multi-server mobile-edge computing networks"), which
	// here serves every offloaded task of the set (with 20 GHz the optimum
	// offloads nearly everything: no decision left to learn).
	EdgeCPU float64

	// LocalCPUMax is f_max of a device in Hz (1 GHz, as Tran & Pompili
	// 2019's devices).
	LocalCPUMax float64
	// Kappa is κ, the effective switched capacitance: a cycle at f costs
	// κ·f² J. 1e-27 (1 nJ per cycle at 1 GHz); Tran & Pompili 2019 use
	// 5e-27, which makes local execution so costly that the optimum
	// offloads nearly everything (measured: 9.8 of 10 tasks).
	Kappa float64
	// PowerMax is p_max, the largest transmit power in W (100 mW, as Chen
	// et al. 2016).
	PowerMax float64
	// BatteryTotal is P_total in J (a phone battery of 3,000 mAh at 3.8 V
	// holds ~41,000 J; a task budget of 100 J keeps the battery term
	// relevant at the scale of one task set).
	BatteryTotal float64

	// Task sizes: input bits uniform in [InputMin, InputMax] and CPU
	// cycles in [CyclesMin, CyclesMax], ranges around the 420 KB and 1,000
	// Mcycles of Tran & Pompili 2019; deadline = (cycles / LocalCPUMax) ×
	// uniform [SlackMin, SlackMax] (≥ 1, so that running locally at full
	// speed always meets it).
	InputMin, InputMax   float64
	CyclesMin, CyclesMax float64
	SlackMin, SlackMax   float64
	// Battery: P_remain / P_total uniform in [BatteryMin, BatteryMax]
	// (the bench's low / mid / full levels set these).
	BatteryMin, BatteryMax float64
	// LatencyPreference ω_t per device, uniform in [PrefMin, PrefMax]:
	// the weight the device gives latency before its battery scales it.
	PrefMin, PrefMax float64

	// Penalty is added to the cost of a task whose decision breaks its
	// deadline or its battery (the sum then stays finite, so every vector
	// has a cost; it exceeds the largest feasible cost difference, so the
	// optimum never breaks a constraint when a feasible vector exists).
	Penalty float64
	// RewardScale multiplies Env's rewards (the cost decreases); 0 means
	// 1. Smaller rewards keep a learner's targets small when penalties
	// make costs span orders of magnitude.
	RewardScale float64
}

// DefaultConfig returns the defaults (sources in Config's fields) for D
// devices.
func DefaultConfig(devices int) Config {
	return Config{
		Devices: devices, APs: 1,
		Bandwidth: 5e6, Noise: math.Pow(10, -17.4) / 1000, // −174 dBm/Hz in W/Hz
		PathLossRef: math.Pow(10, -1.53), PathLossExp: 3.76, DistMin: 10, DistMax: 100,
		FrontHaul: 1e9, EdgeCPU: 10e9,
		LocalCPUMax: 1e9, Kappa: 1e-27, PowerMax: 0.1, BatteryTotal: 100,
		InputMin: 300 * 8e3, InputMax: 500 * 8e3,
		CyclesMin: 0.5e9, CyclesMax: 1.5e9,
		SlackMin: 1.1, SlackMax: 2,
		BatteryMin: 0.1, BatteryMax: 1,
		PrefMin: 0.2, PrefMax: 0.8,
		Penalty: 100,
	}
}

// MaxDevices bounds Config.Devices (2^D vectors are enumerated for the
// exact optimum up to MaxExactDevices).
const MaxDevices = 64

// Validate reports parameters out of range.
func (c Config) Validate() error {
	pos := func(name string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("mec: %s %v must be positive and finite", name, v)
		}
		return nil
	}
	switch {
	case c.Devices < 1 || c.Devices > MaxDevices:
		return fmt.Errorf("mec: Devices %d outside [1, %d]", c.Devices, MaxDevices)
	case c.APs < 1 || c.APs > c.Devices:
		return fmt.Errorf("mec: APs %d outside [1, Devices = %d]", c.APs, c.Devices)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Bandwidth", c.Bandwidth}, {"Noise", c.Noise}, {"PathLossRef", c.PathLossRef}, {"PathLossExp", c.PathLossExp},
		{"DistMin", c.DistMin}, {"FrontHaul", c.FrontHaul}, {"EdgeCPU", c.EdgeCPU}, {"LocalCPUMax", c.LocalCPUMax},
		{"Kappa", c.Kappa}, {"PowerMax", c.PowerMax}, {"BatteryTotal", c.BatteryTotal}, {"InputMin", c.InputMin},
		{"CyclesMin", c.CyclesMin}, {"SlackMin", c.SlackMin}, {"BatteryMin", c.BatteryMin}, {"Penalty", c.Penalty}} {
		if err := pos(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case !(c.DistMax >= c.DistMin) || math.IsInf(c.DistMax, 0):
		return fmt.Errorf("mec: DistMax %v below DistMin %v", c.DistMax, c.DistMin)
	case !(c.InputMax >= c.InputMin) || math.IsInf(c.InputMax, 0):
		return fmt.Errorf("mec: InputMax %v below InputMin %v", c.InputMax, c.InputMin)
	case !(c.CyclesMax >= c.CyclesMin) || math.IsInf(c.CyclesMax, 0):
		return fmt.Errorf("mec: CyclesMax %v below CyclesMin %v", c.CyclesMax, c.CyclesMin)
	case c.SlackMin < 1 || !(c.SlackMax >= c.SlackMin) || math.IsInf(c.SlackMax, 0):
		return fmt.Errorf("mec: slack [%v, %v] must be ordered and ≥ 1 (local execution at full speed meets every deadline)", c.SlackMin, c.SlackMax)
	case !(c.BatteryMax >= c.BatteryMin && c.BatteryMax <= 1):
		return fmt.Errorf("mec: battery ratios [%v, %v] must be ordered within (0, 1]", c.BatteryMin, c.BatteryMax)
	case !(c.PrefMin >= 0 && c.PrefMax >= c.PrefMin && c.PrefMax <= 1):
		return fmt.Errorf("mec: latency preferences [%v, %v] must be ordered within [0, 1]", c.PrefMin, c.PrefMax)
	}
	return nil
}
