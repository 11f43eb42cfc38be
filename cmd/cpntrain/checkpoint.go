package main

import (
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
)

func checkpointCommand() *cli.Command {
	return &cli.Command{
		Name:  "checkpoint",
		Usage: "look inside checkpoint files",
		Subcommands: []*cli.Command{{
			Name:        "inspect",
			Usage:       "print a checkpoint's metadata, optimizer state, checksum status and tensors",
			ArgsUsage:   "FILE",
			Description: "Reads any safetensors file; for cpntrain checkpoints also decodes the metadata and verifies the SHA-256.",
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, "FILE"); err != nil {
					return err
				}
				info, err := checkpoints.Inspect(c.Args().First())
				if err != nil {
					return err
				}
				w := c.App.Writer
				fmt.Fprintf(w, "%s: %d bytes (header %d, data %d)\n", info.File, info.Size, info.HeaderBytes, info.DataBytes)
				if info.Checkpoint {
					fmt.Fprintf(w, "model kind %q, step %d, config %s\n", info.Meta.ModelKind, info.Meta.Step, string(info.Meta.ModelConfig))
					if info.ChecksumOK {
						fmt.Fprintln(w, "checksum: ok")
					} else {
						fmt.Fprintf(w, "checksum: BAD (%v)\n", info.ChecksumErr)
					}
					if info.Optim != nil {
						fmt.Fprintf(w, "optimizer %s, step %d, %v\n", info.Optim.Kind, info.Optim.Step, info.Optim.Hyper)
					}
					keys := make([]string, 0, len(info.Meta.Extra))
					for k := range info.Meta.Extra {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						v := string(info.Meta.Extra[k])
						if len(v) > 200 {
							v = v[:200] + "…"
						}
						fmt.Fprintf(w, "extra %s: %s\n", k, v)
					}
				} else {
					fmt.Fprintln(w, "not a cpntrain checkpoint (plain safetensors)")
				}
				var n int64
				for _, t := range info.Tensors {
					fmt.Fprintf(w, "  %-40s %s %v\n", t.Name, t.DType, t.Shape)
					size := int64(1)
					for _, d := range t.Shape {
						size *= d
					}
					n += size
				}
				fmt.Fprintf(w, "%d tensors, %d values\n", len(info.Tensors), n)
				return nil
			},
		}},
	}
}
