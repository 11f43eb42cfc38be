package nn

import "math"

// Ops with a scalar parameter are written out (not through unary) so that no
// closure captures the parameter on the inference path: they allocate nothing
// when the tape does not record.

// Scale returns s·a.
func (t *Tape) Scale(a *Tensor, s float32) *Tensor {
	out, rec := t.outFull(a.Rows, a.Cols, a)
	for i, x := range a.Data {
		out.Data[i] = s * x
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := range ga {
					ga[i] += s * g[i]
				}
			}
		})
	}
	return out
}

// AddScalar returns a + s.
func (t *Tape) AddScalar(a *Tensor, s float32) *Tensor {
	out, rec := t.outFull(a.Rows, a.Cols, a)
	for i, x := range a.Data {
		out.Data[i] = x + s
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := range ga {
					ga[i] += g[i]
				}
			}
		})
	}
	return out
}

// LeakyReLU returns a where a > 0 and slope·a elsewhere.
func (t *Tape) LeakyReLU(a *Tensor, slope float32) *Tensor {
	out, rec := t.outFull(a.Rows, a.Cols, a)
	// Branch-free: the signs of ReLU inputs are random, so a branch per
	// element mispredicts about half the time (18 % of Decima's training
	// time before). leakyMul picks 1 for x > 0 and slope otherwise (−0,
	// +0 and negative NaNs included, as the comparison x > 0 did).
	mul := [2]float32{slope, 1}
	for i, x := range a.Data {
		out.Data[i] = x * mul[leakyPos(x)]
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				mul := [2]float32{slope, 1} // not the outer one: it would escape
				for i, x := range a.Data {
					ga[i] += g[i] * mul[leakyPos(x)]
				}
			}
		})
	}
	return out
}

// leakyPos is 1 when x > 0 and 0 otherwise (NaN included), without a
// branch: x > 0 exactly when its bits, read as a signed integer, lie in
// (0, +Inf].
func leakyPos(x float32) int {
	b := int32(math.Float32bits(x))
	// (b − 1) ≥ 0 for b ≥ 1; (0x7f800000 − b) ≥ 0 for b ≤ +Inf's bits;
	// both sign bits clear ⇔ 1 ≤ b ≤ 0x7f800000.
	return int(uint32(^((b - 1) | (0x7f800000 - b))) >> 31)
}

// Clamp limits a to [lo, hi]; the gradient is zero where it clamps.
func (t *Tape) Clamp(a *Tensor, lo, hi float32) *Tensor {
	out, rec := t.outFull(a.Rows, a.Cols, a)
	for i, x := range a.Data {
		out.Data[i] = min(max(x, lo), hi)
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i, x := range a.Data {
					if x >= lo && x <= hi {
						ga[i] += g[i]
					}
				}
			}
		})
	}
	return out
}
