package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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

// Environment variables of the automatic download: CPNTRAIN_NO_FETCH=1
// turns it off (offline machines); CPNTRAIN_<DATASET>_URL downloads a
// dataset from a mirror instead of its pinned upstream revision (tests
// point them at a local server).
const noFetchEnv = "CPNTRAIN_NO_FETCH"

func fetchURLEnv(name string) string { return "CPNTRAIN_" + strings.ToUpper(name) + "_URL" }

// datasetFetchers fetch each dataset into a data folder from a base URL
// ("": the pinned upstream).
var datasetFetchers = map[string]struct {
	dir   string
	fetch func(ctx context.Context, baseURL, dest string, log io.Writer) error
}{
	"nasbench201": {nasbench201.DirName, nasbench201.Fetch},
	"topologies":  {topology.DirName, topology.Fetch},
	"tpch":        {tpch.DirName, tpch.Fetch},
}

// fetchingMarker marks a dataset folder whose automatic download has not
// finished: the next run resumes it (intact files are kept).
const fetchingMarker = ".cpntrain-fetching"

// ensureData downloads each named dataset into the data folder on first
// use — when its folder does not exist, or an earlier download did not
// finish — with progress on stderr and every file checked against its
// pinned SHA-256, so that a first run works on a machine where nothing was
// prepared. With CPNTRAIN_NO_FETCH=1 nothing is downloaded and the
// command's own error says how to fetch.
func ensureData(c *cli.Context, names ...string) error {
	g := globalsFrom(c)
	for _, name := range names {
		f := datasetFetchers[name]
		dir := filepath.Join(g.DataDir, f.dir)
		marker := filepath.Join(dir, fetchingMarker)
		_, errDir := os.Stat(dir)
		_, errMarker := os.Stat(marker)
		if (errDir == nil && errMarker != nil) || os.Getenv(noFetchEnv) == "1" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		base := os.Getenv(fetchURLEnv(name))
		from := "its pinned upstream revision"
		if base != "" {
			from = base
		}
		fmt.Fprintf(c.App.ErrWriter, "%s: first use of %s: downloading it into %s from %s (SHA-256 checked; %s=1 turns this off)\n",
			appName, name, dir, from, noFetchEnv)
		var log io.Writer = c.App.ErrWriter
		if g.Quiet {
			log = io.Discard
		}
		if err := f.fetch(c.Context, base, g.DataDir, log); err != nil {
			return fmt.Errorf("downloading %s on first use failed (the next run resumes it; or fetch it by hand with 'cpntrain --data-dir %s data fetch %s', or point --data-dir / CPNTRAIN_DATA at a copy): %w",
				name, g.DataDir, name, err)
		}
		if err := os.Remove(marker); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
	}
	return nil
}
