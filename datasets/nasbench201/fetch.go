package nasbench201

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/cpntrain/cpntrain/datasets/internal/fetch"
)

// Fetch downloads the data folder — the 27 latency files,
// str_arch2idx.pt, hardware_embedding_index.pt and LICENSE.HELP — from
// baseURL (DefaultBaseURL if empty: HELP's repository at Revision) into
// dest/nasbench201, so that Load(filepath.Join(dest, DirName)) reads it.
// LICENSE.HELP comes from baseURL + "/../../LICENSE", the repository's
// licence.
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
	dir := filepath.Join(dest, DirName)
	if err := fetch.Download(ctx, baseURL, dir, files, fetch.Options{Log: log}); err != nil {
		return fmt.Errorf("nasbench201: %w", err)
	}
	return nil
}
