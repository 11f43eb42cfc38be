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
			Name:      "inspect",
			Usage:     "print a checkpoint's metadata, optimizer state, checksum status and tensors",
			ArgsUsage: "FILE",
			Description: "Reads any safetensors file; for cpntrain checkpoints also decodes the metadata and verifies the SHA-256.\n" +
				"Exit status: 0 when the file is a cpntrain checkpoint with a valid checksum, or a plain\n" +
				"safetensors file (which has no cpntrain checksum to verify: the report says so); 1 when a\n" +
				"cpntrain checkpoint's checksum is bad or missing (the report is printed first, then the\n" +
				"error), and when FILE cannot be read or is not well-formed safetensors (a directory, a\n" +
				"device such as /dev/zero, a FIFO, a file above " + fmt.Sprint(checkpoints.MaxFileSize>>30) + " GiB or with an impossible header\n" +
				"length are refused before anything is read).",
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
					fmt.Fprintln(w, "not a cpntrain checkpoint (plain safetensors: no cpntrain checksum to verify)")
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
				if info.Checkpoint && !info.ChecksumOK {
					return fmt.Errorf("%s: checksum mismatch: the file is damaged", info.File)
				}
				return nil
			},
		}},
	}
}
