package mpnn

import (
	"fmt"

	"github.com/cpntrain/cpntrain/nn/onnx"
)

// PropagateONNX adds one round of Propagate to g: h (N × In node states),
// src and dst (INT64 edge lists); the result is N × Out. It supports the
// MLP message without edge features, the sum aggregation and the MLP
// update (SyncGNN's layers).
func (m *Model) PropagateONNX(g *onnx.Graph, h, src, dst, name string) (string, error) {
	msgNet, ok := m.Message.(*MLPMessage)
	if !ok || msgNet.EdgeIn != 0 {
		return "", fmt.Errorf("mpnn: no ONNX export of the message %T", m.Message)
	}
	if m.Config.Aggr != Sum && m.Config.Aggr != "" {
		return "", fmt.Errorf("mpnn: no ONNX export of the %q aggregation", m.Config.Aggr)
	}
	upd, ok := m.Update.(*MLPUpdate)
	if !ok {
		return "", fmt.Errorf("mpnn: no ONNX export of the update %T", m.Update)
	}
	axis0 := onnx.AttrInt("axis", 0)
	in := g.Op("Concat", []string{g.Op("Gather", []string{h, dst}, axis0), g.Op("Gather", []string{h, src}, axis0)}, onnx.AttrInt("axis", 1))
	msg, err := msgNet.Net.ONNX(g, in, name+"_message")
	if err != nil {
		return "", err
	}
	// Sum aggregation: scatter-add every edge's message into its
	// destination's row of zeros.
	shape := g.Op("Shape", []string{msg})
	rowsShape := g.Op("Concat", []string{g.Op("Slice", []string{g.Op("Shape", []string{h}), g.ConstInt64(name+"_s0", []int64{1}, []int64{0}), g.ConstInt64(name+"_e1", []int64{1}, []int64{1})}),
		g.Op("Slice", []string{shape, g.ConstInt64(name+"_s1", []int64{1}, []int64{1}), g.ConstInt64(name+"_e2", []int64{1}, []int64{2})})}, axis0)
	zeros := g.Op("ConstantOfShape", []string{rowsShape})
	zerosF := g.Op("Cast", []string{zeros}, onnx.AttrInt("to", onnx.Float))
	idx := g.Op("Expand", []string{g.Op("Unsqueeze", []string{dst, g.ConstInt64(name+"_ax1", []int64{1}, []int64{1})}), shape})
	agg := g.Op("ScatterElements", []string{zerosF, idx, msg}, axis0, onnx.AttrString("reduction", "add"))
	out, err := upd.Net.ONNX(g, g.Op("Concat", []string{h, agg}, onnx.AttrInt("axis", 1)), name+"_update")
	if err != nil {
		return "", err
	}
	if upd.Residual {
		out = g.Op("Add", []string{h, out})
	}
	return out, nil
}
