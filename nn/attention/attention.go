// Package attention is multi-head scaled dot-product attention (Vaswani et
// al. 2017) over 2-D tensors, with an optional mask that also expresses
// batches of variable-size sets (SegmentMask).
//
//	head_h = softmax(Q_h·K_hᵀ/√d_h + mask)·V_h,   Q = q·Wq, K = kv·Wk, V = kv·Wv
//	out    = [head_1 … head_H]·Wo + bo
//
// Shapes: q is Nq×Dim, kv is Nk×KVDim (KVDim defaults to Dim), the mask has
// Nq·Nk entries (row-major, true = may attend), the output is Nq×Dim.
package attention

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
)

// Config describes a multi-head attention layer. Dim must be divisible by Heads.
type Config struct {
	Dim, Heads int
	KVDim      int // width of keys/values input; 0 means Dim
}

// Validate reports a config that cannot build a layer.
func (c Config) Validate() error {
	if c.Dim <= 0 || c.Heads <= 0 || c.Dim%c.Heads != 0 || c.KVDim < 0 {
		return fmt.Errorf("attention: need Dim > 0 divisible by Heads > 0, got Dim=%d Heads=%d KVDim=%d", c.Dim, c.Heads, c.KVDim)
	}
	return nil
}

// Model is a multi-head attention layer.
type Model struct {
	Config       Config
	Q, K, V, Out *linear.Model
}

var _ nn.Module = (*Model)(nil)

// New builds the layer with PyTorch-style Linear initialisation.
func New(cfg Config, rng *rand.Rand) *Model {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	kv := cfg.KVDim
	if kv == 0 {
		kv = cfg.Dim
	}
	return &Model{
		Config: cfg,
		Q:      linear.New(linear.Config{In: cfg.Dim, Out: cfg.Dim}, rng),
		K:      linear.New(linear.Config{In: kv, Out: cfg.Dim}, rng),
		V:      linear.New(linear.Config{In: kv, Out: cfg.Dim}, rng),
		Out:    linear.New(linear.Config{In: cfg.Dim, Out: cfg.Dim}, rng),
	}
}

// Forward attends from q to kv under mask (nil: every query sees every key).
// A query row whose mask allows no key panics.
func (m *Model) Forward(t *nn.Tape, q, kv *nn.Tensor, mask []bool) *nn.Tensor {
	out, _ := m.Attend(t, q, kv, mask, false)
	return out
}

// Attend is Forward that also returns, when weights is true, the attention
// weights of each head (Nq×Nk each, rows summing to 1).
func (m *Model) Attend(t *nn.Tape, q, kv *nn.Tensor, mask []bool, weights bool) (*nn.Tensor, []*nn.Tensor) {
	if mask != nil && len(mask) != q.Rows*kv.Rows {
		panic(fmt.Sprintf("attention: mask has %d entries for %d queries × %d keys", len(mask), q.Rows, kv.Rows))
	}
	Q := m.Q.Forward(t, q)
	K := m.K.Forward(t, kv)
	V := m.V.Forward(t, kv)
	H := m.Config.Heads
	dh := m.Config.Dim / H
	scale := float32(1 / math.Sqrt(float64(dh)))
	var ws []*nn.Tensor
	var heads *nn.Tensor
	for h := 0; h < H; h++ {
		qh, kh, vh := Q, K, V
		if H > 1 {
			qh = t.SliceCols(Q, h*dh, (h+1)*dh)
			kh = t.SliceCols(K, h*dh, (h+1)*dh)
			vh = t.SliceCols(V, h*dh, (h+1)*dh)
		}
		s := t.Scale(t.MatMulT(qh, kh, false, true), scale)
		var a *nn.Tensor
		if mask == nil {
			a = t.Softmax(s)
		} else {
			a = t.MaskedSoftmax(s, mask)
		}
		if weights {
			ws = append(ws, a)
		}
		o := t.MatMul(a, vh)
		if heads == nil {
			heads = o
		} else {
			heads = t.ConcatCols(heads, o)
		}
	}
	return m.Out.Forward(t, heads), ws
}

// SegmentMask returns the mask letting query i attend key j exactly when
// they belong to the same segment: self-attention within each set of a batch
// of variable-size sets laid out as one tensor.
func SegmentMask(segQ, segK []int) []bool {
	mask := make([]bool, len(segQ)*len(segK))
	for i, a := range segQ {
		for j, b := range segK {
			mask[i*len(segK)+j] = a == b
		}
	}
	return mask
}

// Params implements nn.Module: "q/…", "k/…", "v/…", "out/…".
func (m *Model) Params(visit func(string, *nn.Param)) {
	m.Q.Params(nn.Prefix("q", visit))
	m.K.Params(nn.Prefix("k", visit))
	m.V.Params(nn.Prefix("v", visit))
	m.Out.Params(nn.Prefix("out", visit))
}
