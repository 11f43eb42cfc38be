package nn

import (
	"fmt"
	"math/rand/v2"
)

// Gather returns the rows idx[0], idx[1], … of a as a len(idx)×C tensor.
// Gradients scatter-add back. It panics on an index out of range.
func (t *Tape) Gather(a *Tensor, idx []int) *Tensor {
	c := a.Cols
	for k, i := range idx {
		if i < 0 || i >= a.Rows {
			panic(fmt.Sprintf("nn: Gather: index %d (position %d) outside [0,%d)", i, k, a.Rows))
		}
	}
	out, rec := t.outFull(len(idx), c, a)
	for k, i := range idx {
		copy(out.Data[k*c:(k+1)*c], a.Data[i*c:(i+1)*c])
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for k, i := range idx {
					dst := ga[i*c : (i+1)*c]
					for j, v := range g[k*c : (k+1)*c] {
						dst[j] += v
					}
				}
			}
		})
	}
	return out
}

// PickCols returns the R×1 column out[i] = a[i, cols[i]] (e.g. the
// log-probability of the action taken in each row).
func (t *Tape) PickCols(a *Tensor, cols []int) *Tensor {
	if len(cols) != a.Rows {
		panic(fmt.Sprintf("nn: PickCols: %d indices for %s", len(cols), a.Shape()))
	}
	c := a.Cols
	for i, j := range cols {
		if j < 0 || j >= c {
			panic(fmt.Sprintf("nn: PickCols: column %d of row %d outside [0,%d)", j, i, c))
		}
	}
	out, rec := t.out(a.Rows, 1, a)
	for i, j := range cols {
		out.Data[i] = a.Data[i*c+j]
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i, j := range cols {
					ga[i*c+j] += g[i]
				}
			}
		})
	}
	return out
}

// ConcatCols joins tensors with equal row counts side by side.
func (t *Tape) ConcatCols(ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("nn: ConcatCols of nothing")
	}
	r, c := ts[0].Rows, 0
	for _, x := range ts {
		if x.Rows != r {
			panic(fmt.Sprintf("nn: ConcatCols: row counts differ (%s vs %s)", ts[0].Shape(), x.Shape()))
		}
		c += x.Cols
	}
	out, rec := t.outFull(r, c, ts...)
	off := 0
	for _, x := range ts {
		for i := 0; i < r; i++ {
			copy(out.Data[i*c+off:i*c+off+x.Cols], x.Data[i*x.Cols:(i+1)*x.Cols])
		}
		off += x.Cols
	}
	if rec {
		parts := append([]*Tensor(nil), ts...)
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			off := 0
			for _, x := range parts {
				if x.needGrad {
					gx := t.grad(x)
					for i := 0; i < r; i++ {
						src := g[i*c+off : i*c+off+x.Cols]
						dst := gx[i*x.Cols : (i+1)*x.Cols]
						for j, v := range src {
							dst[j] += v
						}
					}
				}
				off += x.Cols
			}
		})
	}
	return out
}

// ConcatRows stacks tensors with equal column counts.
func (t *Tape) ConcatRows(ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("nn: ConcatRows of nothing")
	}
	r, c := 0, ts[0].Cols
	for _, x := range ts {
		if x.Cols != c {
			panic(fmt.Sprintf("nn: ConcatRows: column counts differ (%s vs %s)", ts[0].Shape(), x.Shape()))
		}
		r += x.Rows
	}
	out, rec := t.outFull(r, c, ts...)
	off := 0
	for _, x := range ts {
		copy(out.Data[off:], x.Data)
		off += len(x.Data)
	}
	if rec {
		parts := append([]*Tensor(nil), ts...)
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			off := 0
			for _, x := range parts {
				if x.needGrad {
					gx := t.grad(x)
					for j, v := range g[off : off+len(x.Data)] {
						gx[j] += v
					}
				}
				off += len(x.Data)
			}
		})
	}
	return out
}

// SliceRows returns rows [from, to) of a (a copy).
func (t *Tape) SliceRows(a *Tensor, from, to int) *Tensor {
	if from < 0 || to > a.Rows || from > to {
		panic(fmt.Sprintf("nn: SliceRows [%d,%d) of %s", from, to, a.Shape()))
	}
	c := a.Cols
	out, rec := t.outFull(to-from, c, a)
	copy(out.Data, a.Data[from*c:to*c])
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)[from*c : to*c]
				for j, v := range g {
					ga[j] += v
				}
			}
		})
	}
	return out
}

// SliceCols returns columns [from, to) of a.
func (t *Tape) SliceCols(a *Tensor, from, to int) *Tensor {
	if from < 0 || to > a.Cols || from > to {
		panic(fmt.Sprintf("nn: SliceCols [%d,%d) of %s", from, to, a.Shape()))
	}
	r, c, w := a.Rows, a.Cols, to-from
	out, rec := t.outFull(r, w, a)
	for i := 0; i < r; i++ {
		copy(out.Data[i*w:(i+1)*w], a.Data[i*c+from:i*c+to])
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := 0; i < r; i++ {
					dst := ga[i*c+from : i*c+to]
					for j, v := range g[i*w : (i+1)*w] {
						dst[j] += v
					}
				}
			}
		})
	}
	return out
}

// Reshape returns a with the same row-major data viewed as r×c (a copy).
func (t *Tape) Reshape(a *Tensor, r, c int) *Tensor {
	if r*c != a.Len() {
		panic(fmt.Sprintf("nn: Reshape %s to %d×%d", a.Shape(), r, c))
	}
	out, rec := t.outFull(r, c, a)
	copy(out.Data, a.Data)
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for j, v := range g {
					ga[j] += v
				}
			}
		})
	}
	return out
}

// Transpose returns aᵀ.
func (t *Tape) Transpose(a *Tensor) *Tensor {
	r, c := a.Rows, a.Cols
	out, rec := t.outFull(c, r, a)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.Data[j*r+i] = a.Data[i*c+j]
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := 0; i < r; i++ {
					for j := 0; j < c; j++ {
						ga[i*c+j] += g[j*r+i]
					}
				}
			}
		})
	}
	return out
}

// Dropout zeroes each element with probability p and scales the others by
// 1/(1−p) (inverted dropout). On an inference tape, or with p == 0, it
// returns a unchanged.
func (t *Tape) Dropout(a *Tensor, p float64, rng *rand.Rand) *Tensor {
	if !t.record || p == 0 {
		return a
	}
	if !(p >= 0 && p < 1) { // NaN too
		panic(fmt.Sprintf("nn: Dropout probability %v outside [0,1)", p))
	}
	keep := t.alloc(a.Rows, a.Cols)
	s := float32(1 / (1 - p))
	for i := range keep.Data {
		if rng.Float64() >= p {
			keep.Data[i] = s
		}
	}
	return t.Mul(a, keep)
}
