package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/train/exportrun"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a trained model as ONNX, plain safetensors or a PyTorch state dict",
		UsageText: "cpntrain export --model FILE [--format onnx|safetensors|pt] [--out FILE]",
		Description: "Reads a checkpoint written by a training command and writes it for other tools:\n" +
			"  onnx         an ONNX model (IR 8, opset 17) with named, documented inputs and outputs and\n" +
			"               a dynamic batch dimension; runs in ONNX Runtime and passes ONNX's checker\n" +
			"  safetensors  the parameters under PyTorch's names and layouts (nn.Linear weights are\n" +
			"               out × in), plus FILE.json describing the tensors, the inputs, the\n" +
			"               preprocessing and the computation\n" +
			"  pt           the same state dict as torch.save writes it, read by\n" +
			"               torch.load(FILE, weights_only=True), plus the same FILE.json\n" +
			"ONNX: the adapted TSFT predictor that 'cpntrain tsft' writes (with its correction, blend and\n" +
			"dead-cell offset; input edge_ops, outputs latency normalised and latency_ms). safetensors and\n" +
			"pt: every model; the TSFT predictor under PyTorch's names and layouts, the others with the\n" +
			"engine's names and layouts, described in the sidecar. See docs/export.md.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "the checkpoint to export (required)"},
			&cli.StringFlag{Name: "format", Value: "onnx", Usage: "onnx, safetensors or pt"},
			&cli.StringFlag{Name: "out", Usage: "the file to write (default: next to --model, with the format's extension)"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			if c.String("model") == "" {
				return &usageError{msg: "--model is required: the checkpoint to export.", cmd: c.Command.HelpName}
			}
			if f := c.String("format"); !slices.Contains(exportrun.Formats, f) {
				return &usageError{msg: fmt.Sprintf("--format %q: want %s.", f, strings.Join(exportrun.Formats, ", ")), cmd: c.Command.HelpName}
			}
			rep, err := exportrun.Export(exportrun.Config{Model: c.String("model"), Format: c.String("format"), Out: c.String("out"), Version: version})
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "wrote %s (%s, %s model, %d bytes)\n", rep.Path, rep.Format, rep.Kind, rep.Bytes)
			if rep.Sidecar != "" {
				fmt.Fprintf(w, "wrote %s (tensors, inputs and computation)\n", rep.Sidecar)
			}
			if len(rep.Inputs) > 0 {
				fmt.Fprintf(w, "inputs: %s; outputs: %s\n", strings.Join(rep.Inputs, ", "), strings.Join(rep.Outputs, ", "))
			}
			return nil
		},
	}
}
