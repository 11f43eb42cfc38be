package mecdqn

import (
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// ONNXModel returns the Q-network as an ONNX model for one set of
// devices: input "device_features" (FP32, D × Features: Encode's rows of
// one observation, D dynamic), output "q_values" (FP32, D × 2: column 0
// runs the device's task locally, column 1 offloads it; the environment's
// action 2n + o).
func (m *Model) ONNXModel(version string) (*onnx.Model, error) {
	g := onnx.NewGraph("mecdqn")
	dev := onnx.Dim{Param: "devices"}
	x := g.Input("device_features", onnx.Float, []onnx.Dim{dev, {Value: int64(Features)}},
		"one row per device of the set, the features mecdqn.Encode writes (docs/offload.md)")
	h := onnxConv(g, m.Conv1, x, "conv1")
	h = onnxConv(g, m.Conv2, h, "conv2")
	// Every row also sees the mean and the maximum of the set's rows.
	shape := g.Op("Shape", []string{h})
	mean := g.Op("Expand", []string{g.Op("ReduceMean", []string{h}, onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 1)), shape})
	mx := g.Op("Expand", []string{g.Op("ReduceMax", []string{h}, onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 1)), shape})
	h = g.Op("Concat", []string{h, mean, mx}, onnx.AttrInt("axis", 1))
	h = g.Op("Relu", []string{m.FC1.ONNX(g, h, "fc1")})
	q := m.FC2.ONNX(g, h, "fc2")
	g.Output(q, "q_values", onnx.Float, []onnx.Dim{dev, {Value: 2}}, "Q-value of running each device's task locally (column 0) or offloading it (column 1)")
	return &onnx.Model{Graph: g, Producer: "cpntrain", ProducerVersion: version, Doc: "DQN offloading Q-network (cpntrain offload train)",
		Meta: map[string]string{"model_kind": Kind}}, nil
}

// onnxConv is conv: a kernel-3 convolution along the device axis with
// zero padding, then ReLU.
func onnxConv(g *onnx.Graph, l *linear.Model, x, name string) string {
	pad := g.Op("Pad", []string{x, g.ConstInt64(name+"_pads", []int64{4}, []int64{1, 0, 1, 0})}) // one zero row above and below
	slice := func(start, end int64) string {
		return g.Op("Slice", []string{pad, g.ConstInt64(name+"_s", []int64{1}, []int64{start}), g.ConstInt64(name+"_e", []int64{1}, []int64{end}),
			g.ConstInt64(name+"_a", []int64{1}, []int64{0})})
	}
	left, right := slice(0, -2), slice(2, 1<<62)
	return g.Op("Relu", []string{l.ONNX(g, g.Op("Concat", []string{left, x, right}, onnx.AttrInt("axis", 1)), name)})
}
