package nn

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
	for i, x := range a.Data {
		if x > 0 {
			out.Data[i] = x
		} else {
			out.Data[i] = slope * x
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i, x := range a.Data {
					if x > 0 {
						ga[i] += g[i]
					} else {
						ga[i] += slope * g[i]
					}
				}
			}
		})
	}
	return out
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
