package deepsets

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn/onnx"
)

// ONNX adds the layer for one set to g: x is the set's elements (rows ×
// In, the number of rows dynamic, possibly 0); the result is 1 × Out.
// Empty sets pool to zeros, as Forward's empty segments do.
func (m *Model) ONNX(g *onnx.Graph, x, name string) (string, error) {
	z, err := m.Phi.ONNX(g, x, name+"_phi")
	if err != nil {
		return "", err
	}
	pooled, err := m.PoolONNX(g, z, name)
	if err != nil {
		return "", err
	}
	if m.Rho == nil {
		return pooled, nil
	}
	return m.Rho.ONNX(g, pooled, name+"_rho")
}

// PoolONNX adds the pooling of one set's element features z (rows ×
// Latent) to g, giving 1 × Latent.
func (m *Model) PoolONNX(g *onnx.Graph, z, name string) (string, error) {
	axes := g.ConstInt64(name+"_axes", []int64{1}, []int64{0})
	sum := func(v string) string { return g.Op("ReduceSum", []string{v, axes}, onnx.AttrInt("keepdims", 1)) }
	switch m.Config.Pool {
	case Sum, "":
		return sum(z), nil
	case Mean:
		// sum / max(rows, 1): an empty set gives zeros.
		rows := g.Op("Cast", []string{g.Op("Gather", []string{g.Op("Shape", []string{z}), g.ConstInt64(name+"_d0", nil, []int64{0})})}, onnx.AttrInt("to", onnx.Float))
		return g.Op("Div", []string{sum(z), g.Op("Max", []string{rows, g.Scalar(name+"_one", 1)})}), nil
	case Attention:
		s, err := m.Score.ONNX(g, z, name+"_score")
		if err != nil {
			return "", err
		}
		w := g.Op("Softmax", []string{s}, onnx.AttrInt("axis", 0))
		return sum(g.Op("Mul", []string{z, w})), nil
	}
	return "", fmt.Errorf("deepsets: no ONNX export of %q pooling", m.Config.Pool)
}
