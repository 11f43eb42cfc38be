package topology

import (
	"context"
	"fmt"
	"io"
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
// downloaded again. One line per file (and per retry) goes to log (nil
// for none). Connecting, the TLS handshake and the wait for response
// headers are bounded (30, 30 and 60 s); a transient failure (a dropped
// connection, no byte for 60 s, HTTP 5xx) is retried three times,
// resuming with an HTTP Range request where the server supports it. The
// first failure is returned and leaves no partial file (nor its temporary
// <file>.part): an HTTP error status (the error names the URL), a
// truncated download, a stalled one, one not complete after 30 min, a
// SHA-256 mismatch (the error names the file and gives the expected and
// actual sums), or ctx being done.
func Fetch(ctx context.Context, baseURL, dest string, log io.Writer) error {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if err := fetch.Download(ctx, baseURL, filepath.Join(dest, DirName), files, fetch.Options{Log: log}); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	return nil
}
