package nn

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn/kernel"
)

// MatMul returns a·b for a (m×k) and b (k×n).
func (t *Tape) MatMul(a, b *Tensor) *Tensor { return t.MatMulT(a, b, false, false) }

// MatMulT returns op(a)·op(b) where op transposes its argument when the flag
// is set. It panics if the inner dimensions differ.
func (t *Tape) MatMulT(a, b *Tensor, transA, transB bool) *Tensor {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	k2, n := b.Rows, b.Cols
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("nn: MatMul: inner dimensions differ: %s%s · %s%s", a.Shape(), tr(transA), b.Shape(), tr(transB)))
	}
	out, rec := t.outFull(m, n, a, b)
	kernel.Active.MatMul(out.Data, a.Data, b.Data, m, k, n, transA, transB, false)
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			if a.needGrad {
				ga := t.grad(a)
				if !transA { // ga (m×k) += g (m×n) · op(b)ᵀ
					kernel.Active.MatMul(ga, g, b.Data, m, n, k, false, !transB, true)
				} else { // ga (k×m) += op(b) · gᵀ
					kernel.Active.MatMul(ga, b.Data, g, k, n, m, transB, true, true)
				}
			}
			if b.needGrad {
				gb := t.grad(b)
				if !transB { // gb (k×n) += op(a)ᵀ · g
					kernel.Active.MatMul(gb, a.Data, g, k, m, n, !transA, false, true)
				} else { // gb (n×k) += gᵀ · op(a)
					kernel.Active.MatMul(gb, g, a.Data, n, m, k, true, transA, true)
				}
			}
		})
	}
	return out
}

func tr(b bool) string {
	if b {
		return "ᵀ"
	}
	return ""
}

// Linear returns x·w + b, with b a 1×n row broadcast over the rows of x (b
// may be nil). It is one fused op: the bias is added in place.
func (t *Tape) Linear(x, w, b *Tensor) *Tensor {
	if b != nil && (b.Rows != 1 || b.Cols != w.Cols) {
		panic(fmt.Sprintf("nn: Linear: bias %s does not match weight %s", b.Shape(), w.Shape()))
	}
	if x.Cols != w.Rows {
		panic(fmt.Sprintf("nn: Linear: input %s does not match weight %s", x.Shape(), w.Shape()))
	}
	m, k, n := x.Rows, x.Cols, w.Cols
	var out *Tensor
	var rec bool
	if b != nil {
		out, rec = t.outFull(m, n, x, w, b)
		for i := 0; i < m; i++ {
			copy(out.Data[i*n:(i+1)*n], b.Data)
		}
		kernel.Active.MatMul(out.Data, x.Data, w.Data, m, k, n, false, false, true)
	} else {
		out, rec = t.outFull(m, n, x, w)
		kernel.Active.MatMul(out.Data, x.Data, w.Data, m, k, n, false, false, false)
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			if x.needGrad {
				kernel.Active.MatMul(t.grad(x), g, w.Data, m, n, k, false, true, true)
			}
			if w.needGrad {
				kernel.Active.MatMul(t.grad(w), x.Data, g, k, m, n, true, false, true)
			}
			if b != nil && b.needGrad {
				gb := t.grad(b)
				for i := 0; i < m; i++ {
					row := g[i*n : (i+1)*n]
					for j, v := range row {
						gb[j] += v
					}
				}
			}
		})
	}
	return out
}
