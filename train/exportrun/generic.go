package exportrun

import (
	"encoding/json"
	"strings"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/internal/torchpt"
)

// genericModel is any checkpoint's parameters (but the TSFT predictor's,
// see tsftModel), as the engine stores them: written to safetensors and
// .pt with '.'-separated names and the engine's layouts.
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
