package exportrun

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/internal/torchpt"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// genericModel is any other checkpoint's parameters, as the engine
// stores them: written to safetensors and .pt with '.'-separated names
// and the engine's layouts; no ONNX graph yet.
type genericModel struct {
	kind string
	meta checkpoints.Meta
	ts   []torchpt.Tensor
}

func loadGeneric(path string) (*genericModel, error) {
	meta, ts, err := checkpoints.ReadModelTensors(path)
	if err != nil {
		return nil, err
	}
	g := &genericModel{kind: meta.ModelKind, meta: meta}
	for _, t := range ts {
		g.ts = append(g.ts, torchpt.Tensor{Name: strings.ReplaceAll(t.Name, "/", "."), Shape: t.Shape, Data: t.Data})
	}
	return g, nil
}

func (g *genericModel) onnx(string) (*onnx.Model, error) {
	return nil, fmt.Errorf("ONNX export of %q models is not built yet (safetensors and pt are; ONNX: %s)", g.kind, strings.Join(onnxKinds, ", "))
}

func (g *genericModel) tensors() []torchpt.Tensor { return g.ts }

func (g *genericModel) sidecar() map[string]any {
	return map[string]any{
		"model_config": json.RawMessage(g.meta.ModelConfig),
		"step":         g.meta.Step,
		"layout": "the engine's own: every tensor is [rows, cols] row-major; a linear layer's '…w' is in × out and '…b' is 1 × out " +
			"(y = x·w + b; PyTorch's nn.Linear holds w transposed); names are the engine's parameter paths with '/' → '.'",
		"preprocessing": "the model's inputs are the features its package computes (docs/" + docFor(g.kind) + "); model_config gives the sizes",
	}
}

// docFor names the documentation page of a model kind.
func docFor(kind string) string {
	switch {
	case strings.Contains(kind, "rlms"), kind == "syncgnn", kind == "mlp":
		return "rlms.md"
	case strings.Contains(kind, "decima"):
		return "decima.md"
	case strings.Contains(kind, "dsppo"), strings.Contains(kind, "deepsets"):
		return "dsppo.md"
	case strings.Contains(kind, "offload"), strings.Contains(kind, "mec"), strings.Contains(kind, "droo"):
		return "offload.md"
	}
	return "design.md"
}

// withONNX is a generic model whose kind has an ONNX exporter.
type withONNX struct {
	*genericModel
	build func(version string) (*onnx.Model, error)
}

func (w withONNX) onnx(version string) (*onnx.Model, error) { return w.build(version) }
