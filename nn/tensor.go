package nn

import "fmt"

// Tensor is a dense row-major float32 matrix with an optional gradient.
//
// Rows are items (nodes, paths, set elements, batch samples) and columns are
// features. Data holds Rows*Cols values; Grad, when non-nil, has the same
// length and receives ∂loss/∂Data during Tape.Backward.
//
// Tensors produced by a Tape live in the tape's arena: they stay valid until
// the next Tape.Reset, after which their buffers are reused.
type Tensor struct {
	Rows, Cols int
	Data       []float32
	Grad       []float32

	needGrad bool      // gradient flows into this tensor
	gbuf     []float32 // reusable backing store for Grad (arena tensors)
}

// New returns a zeroed r×c tensor that is not part of any tape.
// It panics if r or c is negative.
func New(r, c int) *Tensor {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("nn: New: negative shape %d×%d", r, c))
	}
	return &Tensor{Rows: r, Cols: c, Data: make([]float32, r*c)}
}

// FromSlice wraps data (not copied) as an r×c tensor.
// It panics if len(data) != r*c.
func FromSlice(r, c int, data []float32) *Tensor {
	if r < 0 || c < 0 || len(data) != r*c {
		panic(fmt.Sprintf("nn: FromSlice: %d values for shape %d×%d", len(data), r, c))
	}
	return &Tensor{Rows: r, Cols: c, Data: data}
}

// Scalar returns a 1×1 tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{Rows: 1, Cols: 1, Data: []float32{v}} }

// At returns the element at row i, column j.
func (t *Tensor) At(i, j int) float32 { return t.Data[i*t.Cols+j] }

// Set sets the element at row i, column j.
func (t *Tensor) Set(i, j int, v float32) { t.Data[i*t.Cols+j] = v }

// Row returns row i as a slice aliasing Data.
func (t *Tensor) Row(i int) []float32 { return t.Data[i*t.Cols : (i+1)*t.Cols] }

// Len returns Rows*Cols.
func (t *Tensor) Len() int { return t.Rows * t.Cols }

// Item returns the single value of a 1×1 tensor. It panics otherwise.
func (t *Tensor) Item() float32 {
	if t.Rows*t.Cols != 1 {
		panic(fmt.Sprintf("nn: Item on %d×%d tensor", t.Rows, t.Cols))
	}
	return t.Data[0]
}

// RequiresGrad reports whether gradients flow into t.
func (t *Tensor) RequiresGrad() bool { return t.needGrad }

// SetRequiresGrad marks t as a leaf whose gradient Backward computes
// (allocating Grad if needed). Parameters are such leaves.
func (t *Tensor) SetRequiresGrad(v bool) {
	t.needGrad = v
	if v && len(t.Grad) != len(t.Data) {
		t.Grad = make([]float32, len(t.Data))
	}
}

// ZeroGrad clears the gradient.
func (t *Tensor) ZeroGrad() { clear(t.Grad) }

// Clone returns a deep copy of the values (without gradient or tape links).
func (t *Tensor) Clone() *Tensor {
	c := New(t.Rows, t.Cols)
	copy(c.Data, t.Data)
	return c
}

// Shape returns "r×c" for messages.
func (t *Tensor) Shape() string { return fmt.Sprintf("%d×%d", t.Rows, t.Cols) }

// String formats small tensors for debugging.
func (t *Tensor) String() string {
	if t.Len() > 64 {
		return fmt.Sprintf("Tensor(%s)", t.Shape())
	}
	s := fmt.Sprintf("Tensor(%s)[", t.Shape())
	for i := 0; i < t.Rows; i++ {
		if i > 0 {
			s += "; "
		}
		for j := 0; j < t.Cols; j++ {
			if j > 0 {
				s += " "
			}
			s += fmt.Sprintf("%.4g", t.At(i, j))
		}
	}
	return s + "]"
}
