package topology

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"

	"github.com/cpntrain/cpntrain/datasets/internal/fetch"
)

// Fetch downloads the topology files — the four CFR-RL topologies,
// AbileneTM and LICENSE.CFR-RL from CFR-RL at CFRRLRevision, and the
// three Topology Zoo GML files at ZooRevision — from baseURL
// (DefaultBaseURL if empty) into dest/topologies/cfr-rl and
// dest/topologies/topologyzoo, so that Load(dest, name) and
// LoadAbileneTM(dest) read them. A file comes from
// baseURL/<owner>/<repository>/<commit>/<path>, the layout of
// raw.githubusercontent.com, which a mirror must reproduce.
//
// Every file is checked against its embedded size and SHA-256 and written
// atomically (temporary file, sync, rename) only if it matches; files
// already present with the right SHA-256 are skipped, others are
// downloaded again. One line per file goes to log (nil for none). The
// first failure is returned and leaves no partial file: an HTTP status
// other than 200 (the error names the URL), a truncated download, a
// SHA-256 mismatch (the error names the file and gives the expected and
// actual sums), or ctx being done.
func Fetch(ctx context.Context, baseURL, dest string, log io.Writer) error {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if err := fetch.Files(ctx, http.DefaultClient, baseURL, filepath.Join(dest, DirName), files, log); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	return nil
}
