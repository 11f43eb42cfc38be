package tsftrun

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// MsMap turns a device's normalised latency back into milliseconds:
// ms = Lo + (y − Low)·(Hi − Lo)/(High − Low), the inverse of the
// normalisation of the device's training pool (NewEnv).
type MsMap struct {
	Lo, Hi float32
}

// Ms maps normalised latencies y to milliseconds in place, clamped at 0
// (the linear map can go below it for cells predicted under the range,
// such as dead cells on phones).
func (m MsMap) Ms(y []float32) []float32 {
	s := (m.Hi - m.Lo) / (High - Low)
	for i, v := range y {
		y[i] = max(0, m.Lo+(v-Low)*s)
	}
	return y
}

// AdaptedMeta is the metadata an adapted predictor is saved with (the
// "spec" entry of its checkpoint): what Adapted holds besides the network.
type AdaptedMeta struct {
	Device     string        `json:"device"`
	Shots      int           `json:"shots"`
	Embedding  []float32     `json:"embedding"`
	Additive   tsft.Additive `json:"additive"`
	BlendW     float32       `json:"blend_weight"`
	Correction *Correction   `json:"correction"`
	DeadOffset float32       `json:"dead_offset"`
	Choice     string        `json:"choice,omitempty"`
	Ms         *MsMap        `json:"ms,omitempty"`
}

// LoadAdapted reads an adapted predictor written by `cpntrain tsft`.
func LoadAdapted(path string) (*Adapted, AdaptedMeta, error) {
	var am AdaptedMeta
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return nil, am, err
	}
	if !info.Checkpoint || info.Meta.ModelKind != tsft.Kind {
		return nil, am, fmt.Errorf("%s: not a TSFT predictor (model kind %q)", path, info.Meta.ModelKind)
	}
	spec, ok := info.Meta.Extra["spec"]
	if !ok {
		return nil, am, fmt.Errorf("%s: no adaptation metadata", path)
	}
	if err := json.Unmarshal(spec, &am); err != nil {
		return nil, am, fmt.Errorf("%s: adaptation metadata: %w", path, err)
	}
	if am.Embedding == nil {
		return nil, am, fmt.Errorf("%s: a base model (no device embedding), not an adapted predictor", path)
	}
	var mc tsft.Config
	if err := json.Unmarshal(info.Meta.ModelConfig, &mc); err != nil {
		return nil, am, fmt.Errorf("%s: model config: %w", path, err)
	}
	if err := mc.Validate(); err != nil {
		return nil, am, fmt.Errorf("%s: %w", path, err)
	}
	if len(am.Embedding) != mc.Embed {
		return nil, am, fmt.Errorf("%s: embedding of %d values for a model of width %d", path, len(am.Embedding), mc.Embed)
	}
	m := tsft.New(mc, rand.New(rand.NewPCG(0, 0)))
	if _, err := checkpoints.Load(path, m, nil, checkpoints.ExpectKind(tsft.Kind)); err != nil {
		return nil, am, err
	}
	return &Adapted{Net: m, Corr: am.Correction, Add: am.Additive, W: am.BlendW, Emb: am.Embedding, Dead: am.DeadOffset}, am, nil
}

// ONNX adds the adapted predictor to g on edge (batch × 30 one-hot edge
// operations) and returns its normalised latency (batch × 1): the
// network with the device's embedding folded in, then the correction, the
// blend with the layer-wise model and the dead-cell offset, as Predict
// applies them.
func (a *Adapted) ONNX(g *onnx.Graph, edge string) (string, error) {
	p, err := a.Net.ONNX(g, edge, a.Emb, "")
	if err != nil {
		return "", err
	}
	if a.Corr != nil && *a.Corr != identity {
		lin := tsft.PerOpONNX(g, edge, "correction", a.Corr.B, a.Corr.Beta)
		p = g.Op("Add", []string{g.Op("Mul", []string{p, g.Scalar("correction_a", a.Corr.A)}), lin})
	}
	if a.W != 1 {
		p = g.Op("Mul", []string{p, g.Scalar("blend_w", a.W)})
		if add := a.Add; !add.None() {
			lw := tsft.PerOpONNX(g, edge, "layerwise", add.B, add.Beta)
			p = g.Op("Add", []string{p, g.Op("Mul", []string{lw, g.Scalar("blend_1mw", 1-a.W)})})
		}
	}
	if a.Dead != 0 {
		dead := tsft.DisconnectedONNX(g, edge)
		p = g.Op("Add", []string{p, g.Op("Mul", []string{dead, g.Scalar("dead_offset", a.Dead)})})
	}
	return p, nil
}

// ONNXModel is the adapted predictor as a whole ONNX model: input
// "edge_ops" (batch × 30), outputs "latency" (normalised, batch × 1) and,
// with ms, "latency_ms".
func (a *Adapted) ONNXModel(am AdaptedMeta, version string) (*onnx.Model, error) {
	g := onnx.NewGraph("tsft_" + am.Device)
	batch := onnx.Dim{Param: "batch"}
	edge := g.Input("edge_ops", onnx.Float, []onnx.Dim{batch, {Value: tsft.EdgeFeatures}},
		"one-hot operation of each of the cell's 6 edges, in the order of the NAS-Bench-201 architecture string; 5 columns per edge: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3")
	p, err := a.ONNX(g, edge)
	if err != nil {
		return nil, err
	}
	g.Output(p, "latency", onnx.Float, []onnx.Dim{batch, {Value: 1}}, "predicted latency, normalised: the device's training pool spans [0.05, 0.95]")
	if am.Ms != nil {
		s := (am.Ms.Hi - am.Ms.Lo) / (High - Low)
		ms := g.Op("Add", []string{g.Op("Mul", []string{g.Op("Sub", []string{p, g.Scalar("low", Low)}), g.Scalar("ms_scale", s)}), g.Scalar("ms_lo", am.Ms.Lo)})
		ms = g.Op("Relu", []string{ms}) // clamped at 0, as MsMap.Ms
		g.Output(ms, "latency_ms", onnx.Float, []onnx.Dim{batch, {Value: 1}}, "predicted latency in milliseconds (at least 0)")
	}
	meta := map[string]string{"model_kind": tsft.Kind, "device": am.Device, "shots": fmt.Sprint(am.Shots), "choice": am.Choice}
	return &onnx.Model{Graph: g, Producer: "cpntrain", ProducerVersion: version,
		Doc: "TSFT latency predictor adapted to " + am.Device + " (cpntrain tsft)", Meta: meta}, nil
}

// Prediction is an adapted predictor's latency for one cell.
type Prediction struct {
	Arch       string
	Normalised float32
	// Ms is the latency in milliseconds (NaN when the predictor has no
	// millisecond map).
	Ms float32
}

// PredictArchs returns the adapted predictor's latencies for the cells
// given as NAS-Bench-201 architecture strings.
func PredictArchs(a *Adapted, am AdaptedMeta, archs []string) ([]Prediction, error) {
	cells := make([]tsft.Cell, len(archs))
	for i, s := range archs {
		arch, err := nasbench201.ParseArch(s)
		if err != nil {
			return nil, err
		}
		cells[i] = tsft.Cell(arch)
	}
	f, err := tsft.NewFeatures(cells)
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(cells))
	for i := range idx {
		idx[i] = i
	}
	y := a.Predict(f, idx, nil)
	var ms []float32
	if am.Ms != nil {
		ms = am.Ms.Ms(append([]float32(nil), y...))
	}
	out := make([]Prediction, len(archs))
	for i := range archs {
		out[i] = Prediction{Arch: archs[i], Normalised: y[i], Ms: float32(math.NaN())}
		if ms != nil {
			out[i].Ms = ms[i]
		}
	}
	return out, nil
}
