// Package exportrun is `cpntrain export`: it turns a trained model's
// checkpoint into files other tools read — ONNX (run by ONNX Runtime),
// plain safetensors with a JSON sidecar, or a PyTorch state dict — and
// reports what it wrote.
package exportrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/internal/torchpt"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/models/dsppo"
	"github.com/cpntrain/cpntrain/models/mecdqn"
	"github.com/cpntrain/cpntrain/models/rlms"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn/onnx"
)

// Formats lists the export formats.
var Formats = []string{"onnx", "safetensors", "pt"}

// onnxKind is a model kind with an ONNX exporter: load reads a checkpoint
// of it and returns its ONNX model builder.
type onnxKind struct {
	kind string
	load func(path string) (func(version string) (*onnx.Model, error), error)
}

// onnxBuilders are the model kinds with an ONNX exporter, in the order
// messages list them; every checkpoint's parameters can be written to
// safetensors and .pt.
var onnxBuilders = []onnxKind{
	{tsft.Kind, func(p string) (func(string) (*onnx.Model, error), error) {
		m, err := loadTSFT(p)
		if err != nil {
			return nil, err
		}
		return m.onnx, nil
	}},
	{rlms.Kind, func(p string) (func(string) (*onnx.Model, error), error) {
		m, _, err := rlms.Load(p)
		if err != nil {
			return nil, err
		}
		return m.ONNXModel, nil
	}},
	{mecdqn.Kind, func(p string) (func(string) (*onnx.Model, error), error) {
		m, _, err := mecdqn.Load(p)
		if err != nil {
			return nil, err
		}
		return m.ONNXModel, nil
	}},
	{dsppo.Kind, func(p string) (func(string) (*onnx.Model, error), error) {
		ag, _, err := dsppo.Load(p)
		if err != nil {
			return nil, err
		}
		return ag.Actors[0].(*dsppo.Actor).ONNXModel, nil // Load builds a *dsppo.Actor
	}},
	{decima.Kind, func(p string) (func(string) (*onnx.Model, error), error) {
		ag, _, err := decima.Load(p)
		if err != nil {
			return nil, err
		}
		return ag.Actors[0].(*decima.Actor).ONNXModel, nil // Load builds a *decima.Actor
	}},
}

// onnxKinds names the kinds of onnxBuilders.
func onnxKinds() string {
	var ks []string
	for _, b := range onnxBuilders {
		ks = append(ks, b.kind)
	}
	return strings.Join(ks, ", ")
}

// Config says what to export where.
type Config struct {
	// Model is the checkpoint to export.
	Model string
	// Format is one of Formats.
	Format string
	// Out is the file to write; "" puts it next to Model with the
	// format's extension.
	Out string
	// Version is the producer version written into ONNX files.
	Version string
}

// Report says what was written.
type Report struct {
	Kind, Format string
	// Path is the exported file; Sidecar the JSON description written
	// with safetensors and .pt files ("" for ONNX, which documents its
	// inputs and outputs itself).
	Path, Sidecar string
	Bytes         int64
	// Inputs and Outputs name the model's inputs and outputs.
	Inputs, Outputs []string
}

// parameters is a loaded model's parameters ready to be written to
// safetensors or .pt.
type parameters interface {
	// tensors returns the parameters under the names and layouts written.
	tensors() []torchpt.Tensor
	// sidecar describes the tensors, the inputs and the computation.
	sidecar() map[string]any
}

// Export writes cfg.Model in cfg.Format.
func Export(cfg Config) (Report, error) {
	rep := Report{Format: cfg.Format}
	if !slices.Contains(Formats, cfg.Format) {
		return rep, fmt.Errorf("unknown format %q (want %s)", cfg.Format, strings.Join(Formats, ", "))
	}
	info, err := checkpoints.Inspect(cfg.Model)
	if err != nil {
		return rep, err
	}
	if !info.Checkpoint {
		return rep, fmt.Errorf("%s is not a cpntrain checkpoint", cfg.Model)
	}
	rep.Kind = info.Meta.ModelKind
	// Only what the format needs is loaded: the ONNX builder, or the
	// parameters.
	var build func(version string) (*onnx.Model, error)
	var m parameters
	if cfg.Format == "onnx" {
		i := slices.IndexFunc(onnxBuilders, func(b onnxKind) bool { return b.kind == rep.Kind })
		if i < 0 {
			return rep, fmt.Errorf("ONNX export of %q models is not built (safetensors and pt are; ONNX: %s)", rep.Kind, onnxKinds())
		}
		if build, err = onnxBuilders[i].load(cfg.Model); err != nil {
			return rep, err
		}
	} else if rep.Kind == tsft.Kind {
		if m, err = loadTSFT(cfg.Model); err != nil {
			return rep, err
		}
	} else if m, err = loadGeneric(cfg.Model); err != nil {
		return rep, err
	}
	ext := map[string]string{"onnx": ".onnx", "safetensors": ".safetensors", "pt": ".pt"}[cfg.Format]
	rep.Path = cfg.Out
	if rep.Path == "" {
		rep.Path = strings.TrimSuffix(cfg.Model, filepath.Ext(cfg.Model)) + ext
		if cfg.Format == "safetensors" {
			rep.Path = strings.TrimSuffix(cfg.Model, filepath.Ext(cfg.Model)) + ".export.safetensors"
		}
	}
	if abs(rep.Path) == abs(cfg.Model) {
		return rep, fmt.Errorf("the export %s would overwrite the checkpoint; give --out", rep.Path)
	}
	var data []byte
	switch cfg.Format {
	case "onnx":
		om, err := build(cfg.Version)
		if err != nil {
			return rep, err
		}
		data = om.Marshal()
		for _, v := range om.Graph.Inputs {
			rep.Inputs = append(rep.Inputs, v.Name)
		}
		for _, v := range om.Graph.Outputs {
			rep.Outputs = append(rep.Outputs, v.Name)
		}
	case "safetensors":
		var ts []checkpoints.Tensor
		for _, t := range m.tensors() {
			ts = append(ts, checkpoints.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
		}
		if data, err = checkpoints.EncodeSafetensors(ts, map[string]string{"model_kind": rep.Kind, "producer": "cpntrain " + cfg.Version}); err != nil {
			return rep, err
		}
	case "pt":
		var buf bytes.Buffer
		if err := torchpt.Write(&buf, m.tensors()); err != nil {
			return rep, err
		}
		data = buf.Bytes()
	}
	if cfg.Format != "onnx" {
		side := m.sidecar()
		side["model_kind"], side["file"], side["format"] = rep.Kind, filepath.Base(rep.Path), cfg.Format
		var ts []map[string]any
		for _, t := range m.tensors() {
			ts = append(ts, map[string]any{"name": t.Name, "shape": t.Shape})
		}
		side["tensors"] = ts
		js, err := json.MarshalIndent(side, "", "  ")
		if err != nil {
			return rep, err
		}
		rep.Sidecar = rep.Path + ".json"
		if err := checkpoints.WriteFileAtomic(rep.Sidecar, append(js, '\n')); err != nil {
			return rep, err
		}
	}
	if err := checkpoints.WriteFileAtomic(rep.Path, data); err != nil {
		return rep, err
	}
	rep.Bytes = int64(len(data))
	return rep, nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// linearTensors returns a layer's weight (out × in, PyTorch's nn.Linear
// layout: ours is in × out) and bias under prefix.
func linearTensors(prefix string, w []float32, in, out int, b []float32) []torchpt.Tensor {
	wt := make([]float32, in*out)
	for i := range in {
		for o := range out {
			wt[o*in+i] = w[i*out+o]
		}
	}
	ts := []torchpt.Tensor{{Name: prefix + ".weight", Shape: []int{out, in}, Data: wt}}
	if b != nil {
		ts = append(ts, torchpt.Tensor{Name: prefix + ".bias", Shape: []int{out}, Data: append([]float32(nil), b...)})
	}
	return ts
}
