package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/datasets/topology"
	"github.com/cpntrain/cpntrain/datasets/tpch"
)

// dataCommand is `cpntrain data`: the reference datasets.
func dataCommand() *cli.Command {
	return &cli.Command{
		Name:  "data",
		Usage: "download the reference datasets",
		Subcommands: []*cli.Command{{
			Name:      "fetch",
			Usage:     "download a dataset into --data-dir, verifying SHA-256 (nasbench201, topologies, tpch)",
			ArgsUsage: "DATASET",
			Description: "nasbench201: HELP's NAS-Bench-201 latency measurements (27 devices × 15,625 cells) from\n" +
				"github.com/HayeonLee/HELP at revision " + nasbench201.Revision + ", every file checked\n" +
				"against its pinned SHA-256; files already present and intact are skipped.\n" +
				"topologies: CFR-RL's Abilene, Ebone, Sprintlink, Tiscali and AbileneTM (github.com/jrayzhang6/CFR-RL\n" +
				"at " + topology.CFRRLRevision + ") and Topology Zoo's UsCarrier, Kdl and Internet2\n" +
				"(github.com/mroughan/InternetTopologyZoo at " + topology.ZooRevision + "), SHA-256 checked.\n" +
				"tpch: Decima's Spark TPC-H job DAGs (22 queries × 7 input sizes: stage adjacency and measured task\n" +
				"durations; github.com/hongzimao/decima-sim at " + tpch.Revision + "), SHA-256 checked.",
			Flags: []cli.Flag{&cli.StringFlag{Name: "base-url", Usage: "download from this URL instead of the pinned upstream revision (mirrors, tests)"}},
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, "DATASET"); err != nil {
					return err
				}
				name := c.Args().First()
				if name != "nasbench201" && name != "topologies" && name != "tpch" {
					return &usageError{msg: fmt.Sprintf("unknown dataset %q; available: nasbench201, topologies, tpch.", name), cmd: c.Command.HelpName}
				}
				g := globalsFrom(c)
				var log io.Writer = c.App.ErrWriter
				if g.Quiet {
					log = io.Discard
				}
				if name == "tpch" {
					if err := tpch.Fetch(c.Context, c.String("base-url"), g.DataDir, log); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "tpch ready in %s\n", filepath.Join(g.DataDir, tpch.DirName))
					return nil
				}
				if name == "topologies" {
					if err := topology.Fetch(c.Context, c.String("base-url"), g.DataDir, log); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "topologies ready in %s\n", filepath.Join(g.DataDir, topology.DirName))
					return nil
				}
				if err := nasbench201.Fetch(c.Context, c.String("base-url"), g.DataDir, log); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "nasbench201 ready in %s\n", filepath.Join(g.DataDir, nasbench201.DirName))
				return nil
			},
		}},
	}
}
