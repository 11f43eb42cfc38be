package exportrun

import (
	"fmt"

	"github.com/cpntrain/cpntrain/internal/torchpt"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn/onnx"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// tsftModel is an adapted TSFT predictor.
type tsftModel struct {
	a  *tsftrun.Adapted
	am tsftrun.AdaptedMeta
}

func loadTSFT(path string) (*tsftModel, error) {
	a, am, err := tsftrun.LoadAdapted(path)
	if err != nil {
		return nil, err
	}
	return &tsftModel{a: a, am: am}, nil
}

func (m *tsftModel) onnx(version string) (*onnx.Model, error) { return m.a.ONNXModel(m.am, version) }

func (m *tsftModel) tensors() []torchpt.Tensor {
	var ts []torchpt.Tensor
	for i, l := range m.a.Net.Head.Layers {
		var b []float32
		if l.B != nil {
			b = l.B.V.Data
		}
		ts = append(ts, linearTensors(fmt.Sprintf("head.%d", i), l.W.V.Data, l.Config.In, l.Config.Out, b)...)
	}
	return ts
}

func (m *tsftModel) sidecar() map[string]any {
	a, am := m.a, m.am
	var layers []map[string]any
	for i, l := range a.Net.Head.Layers {
		act := a.Net.Head.Config.Act
		if i+1 == len(a.Net.Head.Layers) {
			act = a.Net.Head.Config.OutAct
		}
		if act == "" {
			act = "none"
		}
		layers = append(layers, map[string]any{"weight": fmt.Sprintf("head.%d.weight", i), "bias": fmt.Sprintf("head.%d.bias", i),
			"in": l.Config.In, "out": l.Config.Out, "activation": act})
	}
	post := map[string]any{"blend_weight": a.W, "dead_offset": a.Dead}
	if a.Corr != nil {
		post["correction"] = map[string]any{"a": a.Corr.A, "b": a.Corr.B, "beta_per_op": a.Corr.Beta}
	}
	if !a.Add.None() {
		post["layerwise"] = map[string]any{"b": a.Add.B, "beta_per_op": a.Add.Beta}
	}
	if am.Ms != nil {
		post["ms"] = map[string]any{"lo": am.Ms.Lo, "hi": am.Ms.Hi, "low": tsftrun.Low, "high": tsftrun.High}
	}
	return map[string]any{
		"device": am.Device, "shots": am.Shots, "choice": am.Choice,
		"inputs": []map[string]any{{"name": "edge_ops", "shape": []any{"batch", tsft.EdgeFeatures},
			"doc": "one-hot operation of each of the cell's 6 edges in the order of the NAS-Bench-201 architecture string, 5 columns per edge: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"}},
		"embedding":   a.Emb,
		"network":     map[string]any{"input": "concat(edge_ops, embedding broadcast over the batch)", "layers": layers},
		"postprocess": post,
		"formula": "y = network(x); with a correction y = a·y + b + Σ_edges beta_per_op[op]; y = blend_weight·y + (1 − blend_weight)·(layerwise.b + Σ_edges layerwise.beta_per_op[op]) (layerwise absent: 0); a cell with no input→output path through non-none edges gets y += dead_offset; " +
			"y is the normalised latency; ms = max(0, lo + (y − low)·(hi − lo)/(high − low))",
	}
}
