package tsft

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn/onnx"
)

// ONNX adds the model to g on edge, a graph value of shape (batch, 30):
// the one-hot edge operations (EdgeOneHot). The device embedding is either
// emb, a constant repeated on every row (an adapted predictor of one
// device), or embIn, a graph value of shape (batch,
// Embed) (the base model, any device). It returns the normalised latency,
// shape (batch, 1). Models with a graph encoder or the layer-wise prior
// are not exported yet.
func (m *Model) ONNX(g *onnx.Graph, edge string, emb []float32, embIn string) (string, error) {
	if m.GNN != nil || m.Config.Prior {
		return "", fmt.Errorf("tsft: ONNX export of a model with a graph encoder (--gnn-dim) or the layer-wise prior (--prior) is not supported")
	}
	if (emb == nil) == (embIn == "") {
		return "", fmt.Errorf("tsft: ONNX needs either a constant embedding or an embedding input")
	}
	first := m.Head.Layers[0]
	if emb != nil {
		if len(emb) != m.Config.Embed {
			return "", fmt.Errorf("tsft: embedding of %d values for a model of width %d", len(emb), m.Config.Embed)
		}
		// The constant embedding on every row, then the same first layer
		// as the engine's (folding it into the bias changes the float32
		// summation and loses agreement near 0).
		rows := g.Op("Slice", []string{g.Op("Shape", []string{edge}), g.ConstInt64("emb_s", []int64{1}, []int64{0}), g.ConstInt64("emb_e", []int64{1}, []int64{1})})
		shape := g.Op("Concat", []string{rows, g.ConstInt64("emb_w", []int64{1}, []int64{int64(len(emb))})}, onnx.AttrInt("axis", 0))
		embIn = g.Op("Expand", []string{g.Const("embedding", []int64{1, int64(len(emb))}, emb), shape})
	}
	h := first.ONNX(g, g.Op("Concat", []string{edge, embIn}, onnx.AttrInt("axis", 1)), "head_0")
	var err error
	for i, l := range m.Head.Layers {
		if i > 0 {
			h = l.ONNX(g, h, fmt.Sprintf("head_%d", i))
		}
		act := m.Head.Config.OutAct
		if i+1 < len(m.Head.Layers) {
			act = m.Head.Config.Act
		}
		if h, err = g.Activation(h, string(act)); err != nil {
			return "", err
		}
	}
	return h, nil
}

// PerOpONNX adds b + Σ_e beta[op of edge e] for every row of edge (batch,
// 30 one-hot), shape (batch, 1): a linear function of the one-hot edges.
func PerOpONNX(g *onnx.Graph, edge, name string, b float32, beta [NumOps]float32) string {
	w := make([]float32, EdgeFeatures)
	for e := range NumEdges {
		copy(w[e*NumOps:], beta[:])
	}
	return g.Gemm(edge, name, w, EdgeFeatures, 1, []float32{b})
}

// DisconnectedONNX adds, for every row of edge (batch, 30 one-hot), 1 when
// the cell has no input→output path through operations other than "none"
// and 0 otherwise, shape (batch, 1) (nasbench201.Arch.Connected): with
// live_e = 1 − none_e, reach1 = live0, reach2 = max(live1, reach1·live2),
// reach3 = max(live3, reach1·live4, reach2·live5).
func DisconnectedONNX(g *onnx.Graph, edge string) string {
	live := make([]string, NumEdges)
	for e := range NumEdges {
		sel := make([]float32, EdgeFeatures)
		sel[e*NumOps] = -1 // op 0 is "none": live = 1 − one-hot[none]
		live[e] = g.Gemm(edge, fmt.Sprintf("live%d", e), sel, EdgeFeatures, 1, []float32{1})
	}
	// Cell edge e goes from node edgeFrom[e] to edgeTo[e], in topological
	// order of edgeTo.
	reach := [4]string{}
	for e := range NumEdges {
		v := live[e]
		if from := edgeFrom[e]; from != 0 {
			v = g.Op("Mul", []string{reach[from], live[e]})
		}
		if to := edgeTo[e]; reach[to] == "" {
			reach[to] = v
		} else {
			reach[to] = g.Op("Max", []string{reach[to], v})
		}
	}
	return g.Op("Sub", []string{g.Scalar("one", 1), reach[3]})
}
