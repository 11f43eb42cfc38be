package mec

import "math"

// Closed forms of the offload power (what offloadCosts uses; Offload keeps
// the numerical searches as the reference they are tested against).

// bestPower is the unconstrained minimiser over p > 0 of
// (λ_t + λ_e·p)/ln(1 + a·p), the per-bit cost of sending at power p.
// With x = 1 + a·p the derivative vanishes where x·(ln x − 1) =
// λ_t·a/λ_e − 1 =: C; with u = ln x − 1 this is u·e^u = C/e, so
// u = W₀(C/e) (Lambert's W, principal branch; C ≥ −1 puts C/e in its
// domain) and p = (e^(1+u) − 1)/a. λ_e = 0 (time only) has no interior
// minimum: +Inf (the caller clips to its cap).
func bestPower(lt, le, a float64) float64 {
	if le <= 0 {
		return math.Inf(1)
	}
	c := lt*a/le - 1
	u := lambertW0(c / math.E)
	return math.Expm1(1+u) / a
}

// lambertW0 is the principal branch of Lambert's W: the w ≥ −1 with
// w·e^w = z, for z ≥ −1/e (NaN below). Halley's iteration from a start
// fitted to each range, to full float64 precision.
func lambertW0(z float64) float64 {
	const branch = -1 / math.E
	switch {
	case math.IsNaN(z) || z < branch:
		return math.NaN()
	case z == 0:
		return 0
	case math.IsInf(z, 1):
		return z
	}
	var w float64
	switch {
	case z < -0.25: // near the branch point: w ≈ −1 + q − q²/3 + 11q³/72, q = √(2(ez + 1))
		q := math.Sqrt(math.Max(0, 2*(math.E*z+1)))
		w = -1 + q*(1+q*(-1.0/3+q*11.0/72))
	case z < 3:
		w = math.Log1p(z) * 0.8
	default:
		l := math.Log(z)
		w = l - math.Log(l)
	}
	for range 50 {
		ew := math.Exp(w)
		f := w*ew - z
		if f == 0 {
			break
		}
		wp1 := w + 1
		if wp1 == 0 { // at the branch point exactly
			break
		}
		d := f / (ew*wp1 - (w+2)*f/(2*wp1))
		w -= d
		if math.Abs(d) <= 1e-15*(1+math.Abs(w)) {
			break
		}
	}
	return w
}

// batteryPower is the largest power up to pmax whose energy p·i/r(p)
// stays within the battery e. With r(p) = B·ln(1 + a·p)/ln 2 and
// y = ln(1 + a·p) the energy is (e^y − 1)·i·ln 2/(a·B·y), growing in y,
// so the cap solves e^y − 1 = β·y with β = e·a·B/(i·ln 2): the positive
// root of a convex function, found by Newton's method from y_max =
// ln(1 + a·pmax), above the root when pmax overdraws (the iterates fall
// monotonically to it). The energy tends to i·ln 2/(a·B) as p → 0, so
// β ≤ 1 means no power fits: 0.
func batteryPower(e, i, a, b, pmax float64) float64 {
	beta := e * a * b / (i * math.Ln2)
	y := math.Log1p(a * pmax)
	if math.Expm1(y)-beta*y <= 0 {
		return pmax
	}
	if !(beta > 1) {
		return 0
	}
	for range 200 {
		f := math.Expm1(y) - beta*y
		d := f / (math.Exp(y) - beta)
		y -= d
		if !(d > 1e-15*y) {
			break
		}
	}
	return math.Expm1(y) / a
}
