package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// maxArchLines bounds an --archs file (NAS-Bench-201 has 15,625 cells).
const maxArchLines = 1_000_000

func tsftPredictCommand() *cli.Command {
	return &cli.Command{
		Name:      "predict",
		Usage:     "print an adapted predictor's latencies for NAS-Bench-201 cells",
		UsageText: "cpntrain tsft predict --model FILE (--arch STR | --archs FILE)",
		Description: "Loads an adapted predictor written by 'cpntrain tsft' and prints, per cell, its\n" +
			"architecture string, the normalised latency and the latency in ms, tab-separated.\n" +
			"--arch takes one architecture string such as\n" +
			"  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'\n" +
			"(repeatable); --archs a file of one string per line (blank lines and lines starting with #\n" +
			"are skipped; '-' reads standard input).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "the adapted predictor (tsft-DEVICE.safetensors in a tsft run folder; required)"},
			&cli.StringSliceFlag{Name: "arch", Usage: "a NAS-Bench-201 architecture string (repeatable)"},
			&cli.StringFlag{Name: "archs", Usage: "a file of architecture strings, one per line ('-': standard input)"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			if c.String("model") == "" {
				return &usageError{msg: "--model is required: the adapted predictor to run.", cmd: c.Command.HelpName}
			}
			archs := c.StringSlice("arch")
			for _, a := range archs {
				if _, err := nasbench201.ParseArch(a); err != nil {
					return &usageError{msg: fmt.Sprintf("--arch: %v.", err), cmd: c.Command.HelpName}
				}
			}
			if f := c.String("archs"); f != "" {
				more, err := readArchs(c, f)
				if err != nil {
					return err
				}
				archs = append(archs, more...)
			}
			if len(archs) == 0 {
				return &usageError{msg: "no cell given: pass --arch STR or --archs FILE.", cmd: c.Command.HelpName}
			}
			a, am, err := tsftrun.LoadAdapted(c.String("model"))
			if err != nil {
				return err
			}
			ps, err := tsftrun.PredictArchs(a, am, archs)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(c.App.Writer)
			fmt.Fprintf(w, "# %s: TSFT predictor of %s (%d shots)\n# arch\tlatency_normalised\tlatency_ms\n", c.String("model"), am.Device, am.Shots)
			for _, p := range ps {
				ms := "NaN"
				if !math.IsNaN(float64(p.Ms)) {
					ms = fmt.Sprintf("%.8g", p.Ms)
				}
				fmt.Fprintf(w, "%s\t%.8g\t%s\n", p.Arch, p.Normalised, ms)
			}
			return w.Flush()
		},
	}
}

// readArchs reads architecture strings from path ('-': standard input).
func readArchs(c *cli.Context, path string) ([]string, error) {
	r := c.App.Reader
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--archs: %w", err)
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(out) == maxArchLines {
			return nil, fmt.Errorf("--archs %s: more than %d cells", path, maxArchLines)
		}
		if _, err := nasbench201.ParseArch(s); err != nil {
			return nil, fmt.Errorf("--archs %s, line %d: %w", path, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--archs %s: %w", path, err)
	}
	return out, nil
}
