package nn

import (
	"fmt"
	"math"
)

func sameShape(op string, a, b *Tensor) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("nn: %s: shapes %s and %s differ", op, a.Shape(), b.Shape()))
	}
}

// MSE returns the mean squared error between pred and target (same shape)
// as a 1×1 tensor.
func (t *Tape) MSE(pred, target *Tensor) *Tensor {
	sameShape("MSE", pred, target)
	return t.Mean(t.Square(t.Sub(pred, target)))
}

// Huber returns the mean Huber loss (smooth L1 with threshold delta, as
// torch.nn.HuberLoss): 0.5·d² where |d| ≤ delta, delta·(|d| − 0.5·delta)
// elsewhere. It panics unless delta > 0 (+Inf gives 0.5·d² everywhere).
func (t *Tape) Huber(pred, target *Tensor, delta float32) *Tensor {
	sameShape("Huber", pred, target)
	if !(delta > 0) {
		panic(fmt.Sprintf("nn: Huber threshold %v must be positive", delta))
	}
	out, rec := t.out(1, 1, pred, target)
	n := pred.Len()
	var s float64
	for i, p := range pred.Data {
		d := float64(p - target.Data[i])
		if math.Abs(d) <= float64(delta) {
			s += 0.5 * d * d
		} else {
			s += float64(delta) * (math.Abs(d) - 0.5*float64(delta))
		}
	}
	if n > 0 {
		out.Data[0] = float32(s / float64(n))
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			scale := g[0] / float32(n)
			for i, p := range pred.Data {
				d := p - target.Data[i]
				if d > delta {
					d = delta
				} else if d < -delta {
					d = -delta
				}
				if pred.needGrad {
					t.grad(pred)[i] += scale * d
				}
				if target.needGrad {
					t.grad(target)[i] -= scale * d
				}
			}
		})
	}
	return out
}

// CrossEntropy returns the mean over rows of −log softmax(logits)[i, labels[i]].
func (t *Tape) CrossEntropy(logits *Tensor, labels []int) *Tensor {
	return t.Neg(t.Mean(t.PickCols(t.LogSoftmax(logits), labels)))
}

// Entropy returns the R×1 entropies −Σ_j p_j log p_j of the row-wise
// categorical distributions given by logits, over the allowed elements when
// mask is non-nil (masked elements have probability 0 and contribute 0).
func (t *Tape) Entropy(logits *Tensor, mask []bool) *Tensor {
	lp := t.softmax(logits, mask, true)
	r, c := lp.Rows, lp.Cols
	out, rec := t.out(r, 1, lp)
	for i := 0; i < r; i++ {
		var h float64
		for j, l := range lp.Data[i*c : (i+1)*c] {
			if mask != nil && !mask[i*c+j] {
				continue
			}
			h -= math.Exp(float64(l)) * float64(l)
		}
		out.Data[i] = float32(h)
	}
	if rec {
		t.push(func() { // ∂H/∂l_j = −p_j (l_j + 1)
			g := out.Grad
			if g == nil {
				return
			}
			gl := t.grad(lp)
			for i := 0; i < r; i++ {
				for j, l := range lp.Data[i*c : (i+1)*c] {
					if mask != nil && !mask[i*c+j] {
						continue
					}
					gl[i*c+j] -= g[i] * float32(math.Exp(float64(l))) * (l + 1)
				}
			}
		})
	}
	return out
}

// LayerNorm normalises each row of x to zero mean and unit variance (biased
// variance, eps added), then applies the 1×C gain and bias (either may be nil).
func (t *Tape) LayerNorm(x, gain, bias *Tensor, eps float32) *Tensor {
	r, c := x.Rows, x.Cols
	for _, p := range []*Tensor{gain, bias} {
		if p != nil && (p.Rows != 1 || p.Cols != c) {
			panic(fmt.Sprintf("nn: LayerNorm: parameter %s for input %s", p.Shape(), x.Shape()))
		}
	}
	out, rec := t.out(r, c, x, gain, bias)
	xhat := t.alloc(r, c)
	rstd := t.alloc(r, 1)
	for i := 0; i < r; i++ {
		row := x.Data[i*c : (i+1)*c]
		var mu, v float64
		for _, a := range row {
			mu += float64(a)
		}
		mu /= float64(c)
		for _, a := range row {
			d := float64(a) - mu
			v += d * d
		}
		v /= float64(c)
		rs := 1 / math.Sqrt(v+float64(eps))
		rstd.Data[i] = float32(rs)
		for j, a := range row {
			h := float32((float64(a) - mu) * rs)
			xhat.Data[i*c+j] = h
			if gain != nil {
				h *= gain.Data[j]
			}
			if bias != nil {
				h += bias.Data[j]
			}
			out.Data[i*c+j] = h
		}
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			if gain != nil && gain.needGrad {
				gg := t.grad(gain)
				for k, v := range g {
					gg[k%c] += v * xhat.Data[k]
				}
			}
			if bias != nil && bias.needGrad {
				gb := t.grad(bias)
				for k, v := range g {
					gb[k%c] += v
				}
			}
			if !x.needGrad {
				return
			}
			gx := t.grad(x)
			for i := 0; i < r; i++ {
				// dxhat = g∘gain; dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat∘xhat))
				var m1, m2 float64
				for j := 0; j < c; j++ {
					d := g[i*c+j]
					if gain != nil {
						d *= gain.Data[j]
					}
					m1 += float64(d)
					m2 += float64(d * xhat.Data[i*c+j])
				}
				m1 /= float64(c)
				m2 /= float64(c)
				for j := 0; j < c; j++ {
					d := g[i*c+j]
					if gain != nil {
						d *= gain.Data[j]
					}
					gx[i*c+j] += rstd.Data[i] * (d - float32(m1) - xhat.Data[i*c+j]*float32(m2))
				}
			}
		})
	}
	return out
}
