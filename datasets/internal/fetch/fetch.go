// Package fetch downloads the files of a pinned data set over HTTP and
// verifies them against embedded SHA-256 checksums.
//
// Each file is written atomically: it is downloaded to a temporary file in
// the destination folder, checked (size and SHA-256), synced and renamed
// into place, so a destination path holds either nothing, its previous
// contents, or the verified file — never a partial or corrupt download.
// Files already present with the expected checksum are not downloaded
// again.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// File is one file of a data set.
type File struct {
	// Name is the file's path under the destination folder,
	// slash-separated, without "..".
	Name string
	// Remote is the file's path relative to the base URL (it may climb out
	// of it with "../"); empty means Name.
	Remote string
	// Size is the file's length in bytes.
	Size int64
	// SHA256 is the lower-case hexadecimal SHA-256 of the file.
	SHA256 string
}

// Files downloads each of files from baseURL into dir, skipping those
// already present with the expected SHA-256, and writes one line per file
// to log (which may be nil). File f comes from baseURL + "/" + f.Remote,
// resolved as a relative URL reference. The first failure stops the
// download and is returned: an HTTP status other than 200 (the error names
// the URL), a connection closed early or a size that differs from f.Size
// (named truncated), a SHA-256 mismatch (the error gives the expected and
// the actual sum), or ctx being done. A failed file leaves nothing behind.
func Files(ctx context.Context, client *http.Client, baseURL, dir string, files []File, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if client == nil {
		client = http.DefaultClient
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return fmt.Errorf("fetch: base URL %q: %w", baseURL, err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fetch: %w", context.Cause(ctx))
		}
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("fetch: file name %q is not a local path", f.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		switch sum, err := hashFile(target); {
		case err == nil && sum == f.SHA256:
			fmt.Fprintf(log, "%s: present, SHA-256 ok, skipped\n", target)
			continue
		case err == nil:
			fmt.Fprintf(log, "%s: present but SHA-256 %s differs from %s, downloading again\n", target, sum, f.SHA256)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("fetch: %w", err)
		}
		remote := f.Remote
		if remote == "" {
			remote = f.Name
		}
		ref, err := url.Parse(remote)
		if err != nil {
			return fmt.Errorf("fetch: %s: remote path %q: %w", f.Name, remote, err)
		}
		u := base.ResolveReference(ref).String()
		if err := download(ctx, client, u, target, f); err != nil {
			return err
		}
		fmt.Fprintf(log, "%s: downloaded %d bytes from %s, SHA-256 ok\n", target, f.Size, u)
	}
	return nil
}

// hashFile returns the hexadecimal SHA-256 of the file at path.
func hashFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close() // read-only
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download fetches u into target atomically after checking size and hash.
func download(ctx context.Context, client *http.Client, u, target string, f File) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("fetch: %s: %w", f.Name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch: %s: GET %s: %w", f.Name, u, err)
	}
	defer resp.Body.Close() // read side; nothing to lose
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch: %s: GET %s: HTTP %s", f.Name, u, resp.Status)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != f.Size {
		return fmt.Errorf("fetch: %s: GET %s: server announces %d bytes, want %d", f.Name, u, resp.ContentLength, f.Size)
	}

	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".part-*")
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close() // the first error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, f.Size+1))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("fetch: %s: GET %s: %w", f.Name, u, context.Cause(ctx))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("fetch: %s: GET %s: truncated: connection closed after %d of %d bytes", f.Name, u, n, f.Size)
		}
		return fmt.Errorf("fetch: %s: GET %s: after %d of %d bytes: %w", f.Name, u, n, f.Size, err)
	}
	if n < f.Size {
		return fmt.Errorf("fetch: %s: GET %s: truncated: got %d of %d bytes", f.Name, u, n, f.Size)
	}
	if n > f.Size {
		return fmt.Errorf("fetch: %s: GET %s: more than the expected %d bytes", f.Name, u, f.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("fetch: %s: GET %s: SHA-256 mismatch: expected %s, got %s", f.Name, u, f.SHA256, got)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		_ = os.Remove(tmp.Name())
		done = true
		return fmt.Errorf("fetch: %w", err)
	}
	done = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable; it does nothing on Windows, which
// cannot open directories for syncing.
func syncDir(dir string) (err error) {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("fetch: %w", cerr)
		}
	}()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fetch: syncing %s after rename: %w", dir, err)
	}
	return nil
}
