package tpch

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/cpntrain/cpntrain/datasets/internal/fetch"
)

// Revision is the commit of github.com/hongzimao/decima-sim the TPC-H
// files are pinned to.
const Revision = "c010dd74ff4b7566bd0ac989c90a32cfbc630d84"

// DefaultBaseURL is the root Fetch downloads from: GitHub's raw file
// server, under which each file is at <owner>/<repository>/<commit>/<path>.
const DefaultBaseURL = "https://raw.githubusercontent.com"

const remote = "hongzimao/decima-sim/" + Revision + "/spark_env/tpch/"

// Fetch downloads the 462 TPC-H files (7 sizes × 22 queries × 3 files)
// from baseURL (DefaultBaseURL if empty) into dest/tpch, so that
// Load(dest, size, q) reads them; a file comes from
// baseURL/hongzimao/decima-sim/<Revision>/spark_env/tpch/<size>/<file>.
// Every file is checked against its size and SHA-256 and written
// atomically; files already present with the right SHA-256 are skipped
// (the datasets/internal/fetch rules: timeouts, retries with resume, one
// log line per file, no partial file left on failure).
func Fetch(ctx context.Context, baseURL, dest string, log io.Writer) error {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if err := fetch.Download(ctx, baseURL, filepath.Join(dest, DirName), files, fetch.Options{Log: log}); err != nil {
		return fmt.Errorf("tpch: %w", err)
	}
	return nil
}
