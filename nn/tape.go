package nn

import "fmt"

// Tape records one forward pass so that Backward can propagate gradients
// through it once (define-by-run, reverse mode).
//
// Every op is a method on Tape. Its result lives in the tape's arena: after
// Reset, the next pass reuses the same buffers in the same order, so a pass
// over a graph of unchanged shape allocates nothing in steady state. Results
// of a pass are valid until the next Reset.
//
// A tape made with NewInference records nothing: it is the no-tape inference
// path used by rollouts and serving (zero allocations per call in steady
// state, see TestInferenceZeroAlloc).
//
// A Tape is not safe for concurrent use; use one tape per goroutine.
// Parameters may be shared by tapes on several goroutines for inference, but
// Backward accumulates into Param gradients and must not run concurrently on
// tapes that share parameters.
type Tape struct {
	record bool
	back   []func()

	arena []*Tensor
	n     int
	ints  [][]int
	ni    int
}

// NewTape returns a tape that records ops for Backward.
func NewTape() *Tape { return &Tape{record: true} }

// NewInference returns a tape that records nothing: ops compute values only.
func NewInference() *Tape { return &Tape{} }

// Recording reports whether the tape records ops for Backward.
func (t *Tape) Recording() bool { return t.record }

// Reset forgets the recorded pass and recycles every tensor the tape handed
// out. Parameter gradients are not touched.
func (t *Tape) Reset() {
	clear(t.back)
	t.back = t.back[:0]
	t.n = 0
	t.ni = 0
}

// alloc returns a zeroed r×c arena tensor.
func (t *Tape) alloc(r, c int) *Tensor { return t.allocZ(r, c, true) }

// allocZ returns an r×c arena tensor, zeroed when zero is set (ops that
// write every element skip the clearing).
func (t *Tape) allocZ(r, c int, zero bool) *Tensor {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("nn: negative shape %d×%d", r, c))
	}
	sz := r * c
	var x *Tensor
	if t.n < len(t.arena) {
		x = t.arena[t.n]
		if cap(x.Data) >= sz {
			x.Data = x.Data[:sz]
			if zero {
				clear(x.Data)
			}
		} else {
			x.Data = make([]float32, sz)
		}
	} else {
		x = &Tensor{Data: make([]float32, sz)}
		t.arena = append(t.arena, x)
	}
	t.n++
	x.Rows, x.Cols = r, c
	x.Grad = nil
	x.needGrad = false
	return x
}

// out allocates an op result; it needs a gradient when the tape records and
// any (non-nil) input needs one.
func (t *Tape) out(r, c int, in ...*Tensor) (*Tensor, bool) {
	return t.outZ(r, c, true, in...)
}

// outFull is out for ops that overwrite every element of the result.
func (t *Tape) outFull(r, c int, in ...*Tensor) (*Tensor, bool) {
	return t.outZ(r, c, false, in...)
}

func (t *Tape) outZ(r, c int, zero bool, in ...*Tensor) (*Tensor, bool) {
	x := t.allocZ(r, c, zero)
	if t.record {
		for _, i := range in {
			if i != nil && i.needGrad {
				x.needGrad = true
				break
			}
		}
	}
	return x, x.needGrad
}

// intBuf returns an arena int slice of length n (contents unspecified).
func (t *Tape) intBuf(n int) []int {
	if t.ni < len(t.ints) {
		b := t.ints[t.ni]
		if cap(b) < n {
			b = make([]int, n)
			t.ints[t.ni] = b
		}
		t.ni++
		return b[:n]
	}
	b := make([]int, n)
	t.ints = append(t.ints, b)
	t.ni++
	return b
}

// grad returns x's gradient buffer, allocating a zeroed one if needed.
func (t *Tape) grad(x *Tensor) []float32 {
	if len(x.Grad) == len(x.Data) {
		return x.Grad
	}
	n := len(x.Data)
	if cap(x.gbuf) >= n {
		x.Grad = x.gbuf[:n]
		clear(x.Grad)
	} else {
		x.gbuf = make([]float32, n)
		x.Grad = x.gbuf
	}
	return x.Grad
}

// push records a backward step.
func (t *Tape) push(f func()) { t.back = append(t.back, f) }

// Const copies data into a new r×c arena tensor that needs no gradient.
// It panics if len(data) != r*c.
func (t *Tape) Const(r, c int, data []float32) *Tensor {
	if len(data) != r*c {
		panic(fmt.Sprintf("nn: Const: %d values for shape %d×%d", len(data), r, c))
	}
	x := t.allocZ(r, c, false)
	copy(x.Data, data)
	return x
}

// Zeros returns a zeroed r×c arena tensor that needs no gradient.
func (t *Tape) Zeros(r, c int) *Tensor { return t.alloc(r, c) }

// Leaf copies data into a new arena tensor whose gradient Backward computes
// (for gradients with respect to inputs, e.g. in gradient checks).
func (t *Tape) Leaf(r, c int, data []float32) *Tensor {
	x := t.Const(r, c, data)
	x.needGrad = t.record
	return x
}

// Backward back-propagates from loss, a 1×1 tensor, through the recorded
// pass, accumulating into the Grad of every tensor that needs one
// (parameters included). It panics if loss is not 1×1 or the tape does not
// record. Backward may run once per pass; call Reset before the next pass.
func (t *Tape) Backward(loss *Tensor) {
	if loss.Len() != 1 {
		panic(fmt.Sprintf("nn: Backward: loss must be 1×1, got %s", loss.Shape()))
	}
	t.BackwardWith(loss, 1)
}

// BackwardWith is Backward with ∂loss/∂loss = seed (e.g. a loss weight).
// loss may be any shape; every element's gradient is set to seed.
func (t *Tape) BackwardWith(loss *Tensor, seed float32) {
	if !t.record {
		panic("nn: Backward on an inference tape")
	}
	if !loss.needGrad {
		return // nothing upstream needs a gradient
	}
	g := t.grad(loss)
	for i := range g {
		g[i] += seed
	}
	for i := len(t.back) - 1; i >= 0; i-- {
		t.back[i]()
	}
	clear(t.back)
	t.back = t.back[:0]
}

// P returns the value tensor of a parameter, for use as an op input.
func P(p *Param) *Tensor { return p.V }
