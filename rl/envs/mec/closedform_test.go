package mec

import (
	"math"
	"testing"
)

// TestLambertW0KnownValues: W₀ at points where it is known in closed form
// (W(0) = 0, W(e) = 1, W(−1/e) = −1, W(2e²) = 2, W(−ln2/2) = −ln 2) and
// the omega constant W(1) = 0.5671432904097838 (Knuth, TAOCP vol. 4A);
// everywhere else in a range that spans every start of the iteration,
// w·e^w = z to 1e-14 relative.
func TestLambertW0KnownValues(t *testing.T) {
	for _, c := range []struct{ z, w float64 }{
		{0, 0}, {math.E, 1}, {-1 / math.E, -1}, {2 * math.E * math.E, 2},
		{-math.Ln2 / 2, -math.Ln2}, {1, 0.5671432904097838},
	} {
		if got := lambertW0(c.z); math.Abs(got-c.w) > 1e-7*math.Max(1, math.Abs(c.w)) {
			t.Errorf("W0(%v) = %v, want %v", c.z, got, c.w)
		} else if c.z != -1/math.E && math.Abs(got-c.w) > 1e-14*math.Max(1, math.Abs(c.w)) {
			t.Errorf("W0(%v) = %v, want %v to 1e-14", c.z, got, c.w)
		}
	}
	for _, z := range []float64{-0.36, -0.3, -0.2, -1e-9, 1e-12, 0.5, 2.9, 3.1, 50, 1e6, 1e12, 1e100} {
		w := lambertW0(z)
		if got := w * math.Exp(w); math.Abs(got-z) > 1e-14*math.Abs(z) || w < -1 {
			t.Errorf("W0(%v) = %v: w·e^w = %v", z, w, got)
		}
	}
	if !math.IsNaN(lambertW0(-0.5)) || !math.IsNaN(lambertW0(math.NaN())) {
		t.Error("W0 below −1/e or of NaN is not NaN")
	}
}

// TestBestPowerByHand: λ_t = λ_e and a = 1 minimise (1 + p)/ln(1 + p) at
// 1 + p = e (TestOffloadKnownValues' case); time only (λ_e = 0) has no
// interior minimum; energy only (λ_t = 0) sends as softly as it can.
func TestBestPowerByHand(t *testing.T) {
	if p := bestPower(0.5, 0.5, 1); math.Abs(p-(math.E-1)) > 1e-14 {
		t.Errorf("p = %v, want e − 1", p)
	}
	// a = 4, λ_t = 3/4, λ_e = 1/4: C = 11; check the derivative's zero
	// x(ln x − 1) = C at x = 1 + 4p.
	p := bestPower(0.75, 0.25, 4)
	if x := 1 + 4*p; math.Abs(x*(math.Log(x)-1)-11) > 1e-12 {
		t.Errorf("p = %v: x(ln x − 1) = %v, want 11", p, x*(math.Log(x)-1))
	}
	if p := bestPower(1, 0, 3); !math.IsInf(p, 1) {
		t.Errorf("time only: p = %v, want +Inf", p)
	}
	if p := bestPower(0, 1, 3); p != 0 {
		t.Errorf("energy only: p = %v, want 0", p)
	}
}

// TestBatteryPowerByHand: a = B = 1 and i = 1/ln 2 give r(p) = log2(1 +
// p) and energy p/ln(1 + p); a battery of e − 1 J is spent exactly at
// p = e − 1 (ln(1 + p) = 1). A p_max below that is the cap; a battery
// under the energy's limit at p → 0 (1 J here) allows no power.
func TestBatteryPowerByHand(t *testing.T) {
	i := 1 / math.Ln2
	if p := batteryPower(math.E-1, i, 1, 1, 10); math.Abs(p-(math.E-1)) > 1e-13 {
		t.Errorf("cap %v, want e − 1", p)
	}
	if p := batteryPower(math.E-1, i, 1, 1, 1.5); p != 1.5 {
		t.Errorf("cap %v, want p_max 1.5", p)
	}
	if p := batteryPower(0.99, i, 1, 1, 10); p != 0 {
		t.Errorf("cap %v, want 0 (no power fits)", p)
	}
	// Near β = 1 the root is small: e^y − 1 = 1.001·y at y ≈ 0.002.
	p := batteryPower(1.001, i, 1, 1, 10)
	if en := p / math.Log1p(p); math.Abs(en-1.001) > 1e-12 {
		t.Errorf("cap %v spends %v J, want 1.001", p, en)
	}
}
