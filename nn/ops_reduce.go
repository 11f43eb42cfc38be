package nn

import (
	"fmt"
	"math"
)

// Sum returns the sum of all elements as a 1×1 tensor.
func (t *Tape) Sum(a *Tensor) *Tensor {
	out, rec := t.out(1, 1, a)
	var s float32
	for _, x := range a.Data {
		s += x
	}
	out.Data[0] = s
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := range ga {
					ga[i] += g[0]
				}
			}
		})
	}
	return out
}

// Mean returns the mean of all elements as a 1×1 tensor (0 for an empty tensor).
func (t *Tape) Mean(a *Tensor) *Tensor {
	n := a.Len()
	if n == 0 {
		return t.Sum(a)
	}
	return t.Scale(t.Sum(a), 1/float32(n))
}

// SumRows returns the sum of each row as an R×1 column.
func (t *Tape) SumRows(a *Tensor) *Tensor {
	r, c := a.Rows, a.Cols
	out, rec := t.out(r, 1, a)
	for i := 0; i < r; i++ {
		var s float32
		for _, x := range a.Data[i*c : (i+1)*c] {
			s += x
		}
		out.Data[i] = s
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := 0; i < r; i++ {
					for j := 0; j < c; j++ {
						ga[i*c+j] += g[i]
					}
				}
			}
		})
	}
	return out
}

// MeanRows returns the mean of each row as an R×1 column.
func (t *Tape) MeanRows(a *Tensor) *Tensor {
	if a.Cols == 0 {
		return t.SumRows(a)
	}
	return t.Scale(t.SumRows(a), 1/float32(a.Cols))
}

// SumCols returns the sum of each column as a 1×C row.
func (t *Tape) SumCols(a *Tensor) *Tensor {
	r, c := a.Rows, a.Cols
	out, rec := t.out(1, c, a)
	for i := 0; i < r; i++ {
		for j, x := range a.Data[i*c : (i+1)*c] {
			out.Data[j] += x
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := 0; i < r; i++ {
					for j := 0; j < c; j++ {
						ga[i*c+j] += g[j]
					}
				}
			}
		})
	}
	return out
}

// MeanCols returns the mean of each column as a 1×C row.
func (t *Tape) MeanCols(a *Tensor) *Tensor {
	if a.Rows == 0 {
		return t.SumCols(a)
	}
	return t.Scale(t.SumCols(a), 1/float32(a.Rows))
}

// MaxRows returns the maximum of each row as an R×1 column. The gradient goes
// to the first maximal element. It panics on a row with no columns.
func (t *Tape) MaxRows(a *Tensor) *Tensor {
	r, c := a.Rows, a.Cols
	if c == 0 && r > 0 {
		panic("nn: MaxRows of a tensor with no columns")
	}
	out, rec := t.out(r, 1, a)
	arg := t.intBuf(r)
	for i := 0; i < r; i++ {
		row := a.Data[i*c : (i+1)*c]
		best := 0
		for j, x := range row {
			if x > row[best] {
				best = j
			}
		}
		arg[i] = best
		out.Data[i] = row[best]
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i := 0; i < r; i++ {
					ga[i*c+arg[i]] += g[i]
				}
			}
		})
	}
	return out
}

// MaxCols returns the maximum of each column as a 1×C row. The gradient goes
// to the first maximal element. It panics on a column with no rows.
func (t *Tape) MaxCols(a *Tensor) *Tensor {
	r, c := a.Rows, a.Cols
	if r == 0 && c > 0 {
		panic("nn: MaxCols of a tensor with no rows")
	}
	out, rec := t.out(1, c, a)
	arg := t.intBuf(c)
	for j := 0; j < c; j++ {
		arg[j] = 0
		if r > 0 {
			out.Data[j] = a.Data[j]
		}
	}
	for i := 1; i < r; i++ {
		for j, x := range a.Data[i*c : (i+1)*c] {
			if x > out.Data[j] {
				out.Data[j] = x
				arg[j] = i
			}
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for j := 0; j < c; j++ {
					ga[arg[j]*c+j] += g[j]
				}
			}
		})
	}
	return out
}

// checkSegments validates segment ids for a tensor with rows rows.
func checkSegments(op string, rows int, seg []int, nseg int) {
	if len(seg) != rows {
		panic(fmt.Sprintf("nn: %s: %d segment ids for %d rows", op, len(seg), rows))
	}
	for i, s := range seg {
		if s < 0 || s >= nseg {
			panic(fmt.Sprintf("nn: %s: segment id %d of row %d outside [0,%d)", op, s, i, nseg))
		}
	}
}

// SegmentSum returns an nseg×C tensor whose row s is the sum of the rows i
// of a with seg[i] == s (a scatter-add; empty segments are zero).
func (t *Tape) SegmentSum(a *Tensor, seg []int, nseg int) *Tensor {
	checkSegments("SegmentSum", a.Rows, seg, nseg)
	c := a.Cols
	out, rec := t.out(nseg, c, a)
	for i, s := range seg {
		dst := out.Data[s*c : (s+1)*c]
		for j, x := range a.Data[i*c : (i+1)*c] {
			dst[j] += x
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for i, s := range seg {
					src := g[s*c : (s+1)*c]
					dst := ga[i*c : (i+1)*c]
					for j, x := range src {
						dst[j] += x
					}
				}
			}
		})
	}
	return out
}

// ScatterAdd adds row i of a into row idx[i] of a new n×C zero tensor.
// It is SegmentSum under the name message-passing code uses.
func (t *Tape) ScatterAdd(a *Tensor, idx []int, n int) *Tensor { return t.SegmentSum(a, idx, n) }

// SegmentMean is SegmentSum divided by each segment's row count (empty
// segments are zero).
func (t *Tape) SegmentMean(a *Tensor, seg []int, nseg int) *Tensor {
	checkSegments("SegmentMean", a.Rows, seg, nseg)
	cnt := t.alloc(nseg, 1)
	for _, s := range seg {
		cnt.Data[s]++
	}
	for i, v := range cnt.Data {
		if v > 0 {
			cnt.Data[i] = 1 / v
		}
	}
	return t.Mul(t.SegmentSum(a, seg, nseg), cnt)
}

// SegmentMax returns an nseg×C tensor whose row s is the columnwise maximum
// over the rows of segment s (empty segments are zero). The gradient goes to
// the first maximal row.
func (t *Tape) SegmentMax(a *Tensor, seg []int, nseg int) *Tensor {
	checkSegments("SegmentMax", a.Rows, seg, nseg)
	c := a.Cols
	out, rec := t.out(nseg, c, a)
	arg := t.intBuf(nseg * c)
	for i := range arg {
		arg[i] = -1
	}
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			k := s*c + j
			if arg[k] < 0 || x > out.Data[k] {
				out.Data[k] = x
				arg[k] = i
			}
		}
	}
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				ga := t.grad(a)
				for k, i := range arg {
					if i >= 0 {
						ga[i*c+k%c] += g[k]
					}
				}
			}
		})
	}
	return out
}

// Softmax returns the softmax of each row.
func (t *Tape) Softmax(a *Tensor) *Tensor { return t.softmax(a, nil, false) }

// LogSoftmax returns the log-softmax of each row, computed stably.
func (t *Tape) LogSoftmax(a *Tensor) *Tensor { return t.softmax(a, nil, true) }

// MaskedSoftmax is Softmax where only elements with mask[i] true take part;
// masked elements get probability 0. mask has one entry per element. A row
// with no allowed element panics.
func (t *Tape) MaskedSoftmax(a *Tensor, mask []bool) *Tensor { return t.softmax(a, mask, false) }

// MaskedLogSoftmax is LogSoftmax over allowed elements; masked elements get
// −Inf (so exp gives probability 0) and receive no gradient.
func (t *Tape) MaskedLogSoftmax(a *Tensor, mask []bool) *Tensor { return t.softmax(a, mask, true) }

func (t *Tape) softmax(a *Tensor, mask []bool, logOut bool) *Tensor {
	if mask != nil && len(mask) != a.Len() {
		panic(fmt.Sprintf("nn: softmax: mask has %d entries for %s", len(mask), a.Shape()))
	}
	r, c := a.Rows, a.Cols
	out, rec := t.out(r, c, a)
	ninf := float32(math.Inf(-1))
	for i := 0; i < r; i++ {
		row := a.Data[i*c : (i+1)*c]
		o := out.Data[i*c : (i+1)*c]
		mx := ninf
		for j, x := range row {
			if (mask == nil || mask[i*c+j]) && x > mx {
				mx = x
			}
		}
		if mx == ninf && c > 0 {
			if mask != nil {
				panic(fmt.Sprintf("nn: softmax: row %d has no allowed element", i))
			}
		}
		var s float64
		for j, x := range row {
			if mask != nil && !mask[i*c+j] {
				continue
			}
			s += math.Exp(float64(x - mx))
		}
		ls := float32(math.Log(s))
		for j, x := range row {
			if mask != nil && !mask[i*c+j] {
				if logOut {
					o[j] = ninf
				}
				continue
			}
			if logOut {
				o[j] = x - mx - ls
			} else {
				o[j] = float32(math.Exp(float64(x-mx)) / s)
			}
		}
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			ga := t.grad(a)
			for i := 0; i < r; i++ {
				o := out.Data[i*c : (i+1)*c]
				gr := g[i*c : (i+1)*c]
				dr := ga[i*c : (i+1)*c]
				if logOut { // d = g − softmax·Σg
					var sg float32
					for j, v := range gr {
						if mask == nil || mask[i*c+j] {
							sg += v
						}
					}
					for j := range dr {
						if mask == nil || mask[i*c+j] {
							dr[j] += gr[j] - float32(math.Exp(float64(o[j])))*sg
						}
					}
				} else { // d = y∘(g − Σ y∘g)
					var dot float32
					for j, y := range o {
						dot += y * gr[j]
					}
					for j, y := range o {
						if mask == nil || mask[i*c+j] {
							dr[j] += y * (gr[j] - dot)
						}
					}
				}
			}
		})
	}
	return out
}

// SegmentSoftmax returns, for each column, the softmax over the rows of each
// segment: out[i,j] = exp(a[i,j]) / Σ_{k: seg[k]=seg[i]} exp(a[k,j]). It is
// attention over variable-size sets (children of a DAG node, paths of a
// compute node) without padding.
func (t *Tape) SegmentSoftmax(a *Tensor, seg []int, nseg int) *Tensor {
	checkSegments("SegmentSoftmax", a.Rows, seg, nseg)
	r, c := a.Rows, a.Cols
	out, rec := t.out(r, c, a)
	mx := t.alloc(nseg, c)
	for k := range mx.Data {
		mx.Data[k] = float32(math.Inf(-1))
	}
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			if x > mx.Data[s*c+j] {
				mx.Data[s*c+j] = x
			}
		}
	}
	sum := t.alloc(nseg, c)
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			e := float32(math.Exp(float64(x - mx.Data[s*c+j])))
			out.Data[i*c+j] = e
			sum.Data[s*c+j] += e
		}
	}
	for i, s := range seg {
		for j := 0; j < c; j++ {
			out.Data[i*c+j] /= sum.Data[s*c+j]
		}
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			dot := sum // reuse: Σ_k y_k g_k per segment and column
			clear(dot.Data)
			for i, s := range seg {
				for j := 0; j < c; j++ {
					dot.Data[s*c+j] += out.Data[i*c+j] * g[i*c+j]
				}
			}
			ga := t.grad(a)
			for i, s := range seg {
				for j := 0; j < c; j++ {
					k := i*c + j
					ga[k] += out.Data[k] * (g[k] - dot.Data[s*c+j])
				}
			}
		})
	}
	return out
}

// Max returns the largest element as a 1×1 tensor; the gradient goes to the
// first maximal element. It panics on an empty tensor.
func (t *Tape) Max(a *Tensor) *Tensor {
	if a.Len() == 0 {
		panic("nn: Max of an empty tensor")
	}
	out, rec := t.out(1, 1, a)
	best := 0
	for i, x := range a.Data {
		if x > a.Data[best] {
			best = i
		}
	}
	out.Data[0] = a.Data[best]
	if rec {
		t.push(func() {
			if g := out.Grad; g != nil {
				t.grad(a)[best] += g[0]
			}
		})
	}
	return out
}

// SegmentLogSoftmax is the logarithm of SegmentSoftmax, computed stably:
// out[i,j] = a[i,j] − log Σ_{k: seg[k]=seg[i]} exp(a[k,j]). It scores a
// choice among each segment's rows (a compute node among a task's
// candidates, a stage among a job's runnable stages) without padding.
func (t *Tape) SegmentLogSoftmax(a *Tensor, seg []int, nseg int) *Tensor {
	checkSegments("SegmentLogSoftmax", a.Rows, seg, nseg)
	r, c := a.Rows, a.Cols
	out, rec := t.out(r, c, a)
	mx := t.alloc(nseg, c)
	for k := range mx.Data {
		mx.Data[k] = float32(math.Inf(-1))
	}
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			if x > mx.Data[s*c+j] {
				mx.Data[s*c+j] = x
			}
		}
	}
	lse := t.alloc(nseg, c) // Σ exp(a − max), then max + log of it
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			lse.Data[s*c+j] += float32(math.Exp(float64(x - mx.Data[s*c+j])))
		}
	}
	for k, v := range lse.Data {
		if v > 0 {
			lse.Data[k] = mx.Data[k] + float32(math.Log(float64(v)))
		}
	}
	for i, s := range seg {
		for j, x := range a.Data[i*c : (i+1)*c] {
			out.Data[i*c+j] = x - lse.Data[s*c+j]
		}
	}
	if rec {
		t.push(func() {
			g := out.Grad
			if g == nil {
				return
			}
			sg := mx // reuse: Σ g per segment and column
			clear(sg.Data)
			for i, s := range seg {
				for j := 0; j < c; j++ {
					sg.Data[s*c+j] += g[i*c+j]
				}
			}
			ga := t.grad(a)
			for i, s := range seg {
				for j := 0; j < c; j++ {
					k := i*c + j
					ga[k] += g[k] - float32(math.Exp(float64(out.Data[k])))*sg.Data[s*c+j]
				}
			}
		})
	}
	return out
}
