// Package fetch downloads the files of a pinned data set over HTTP and
// verifies them against embedded SHA-256 checksums.
//
// # Atomicity
//
// Each file is written atomically: it is downloaded to <target>.part next
// to its destination, checked (size and SHA-256), synced and renamed into
// place, so a destination path holds either nothing, its previous
// contents, or the verified file — never a partial or corrupt download.
// Files already present with the expected checksum are not downloaded
// again.
//
// # Timeouts
//
// No download can hang. The client built by NewClient (the default) bounds
// connecting (Options.DialTimeout, 30 s), the TLS handshake
// (TLSHandshakeTimeout, 30 s) and the wait for the response headers
// (ResponseHeaderTimeout, 60 s). Whatever the client, a watchdog cancels a
// request when its response brings no byte for Options.IdleTimeout (60 s;
// the error names the URL and says "stalled"), and one file, retries
// included, may take at most Options.FileTimeout (30 min).
//
// # Retries and resumption
//
// A transient failure — a stall, a connection reset or closed early, a
// body that ends short, an error before the response, HTTP 5xx, 408 or
// 429 — is retried up to Options.Retries times (3), after
// Options.Backoff (0.5 s), doubled each time. A retry that has part of the
// file asks for the rest with "Range: bytes=N-" and appends the answer if
// the server replies 206 with the matching Content-Range
// ("bytes N-<size-1>/<size>"); a 200 restarts the file from byte 0, and a
// 206 for other bytes (or a 416) discards the partial file and retries from
// byte 0. The SHA-256 of the whole file stays the judge: a mismatch on a
// file assembled from several responses discards it and retries from byte
// 0 (the splice may be at fault); a mismatch on a file received in one
// response is final. Other failures (HTTP 4xx, a size other than the
// expected one, a local file-system error) are not retried.
//
// # Temporary files
//
// The temporary file of target is <target>.part. Download never leaves
// one behind for a file it attempted: a failure, a timeout or ctx being
// done removes it (it is kept only between the attempts of one call, for
// resumption). A <target>.part found when Download starts can therefore
// only come from a process that was killed mid-download; it is resumed
// from (its bytes are hashed and the rest requested with Range) and removed
// if it is longer than the file, or if the target is already present and
// intact. Temporary files of the older naming, .<name>.part-<digits> (and
// <name>.part-<digits>), of the files being fetched are removed when
// Download starts. Two processes must not fetch into the same folder at
// once: they would share the .part files.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultDialTimeout           = 30 * time.Second
	DefaultTLSHandshakeTimeout   = 30 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultIdleTimeout           = 60 * time.Second
	DefaultFileTimeout           = 30 * time.Minute
	DefaultRetries               = 3
	DefaultBackoff               = 500 * time.Millisecond
)

// partSuffix ends the name of the temporary file of a target.
const partSuffix = ".part"

// Options tunes Download. A zero field takes its default; a negative
// duration disables the corresponding timeout (or, for Backoff, the wait).
type Options struct {
	// Client sends the requests; nil means a client made by NewClient
	// with these options (its idle connections are closed on return).
	Client *http.Client
	// Log receives one line per file, and one per retry; nil for none.
	Log io.Writer

	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout bound
	// connecting, the TLS handshake and the wait for the response headers
	// after sending a request. They configure the client NewClient makes
	// and are ignored when Client is set.
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration

	// IdleTimeout is how long a request may go without receiving a byte
	// (the response headers count as progress) before it is cancelled as
	// stalled — a transient failure, so retried.
	IdleTimeout time.Duration
	// FileTimeout bounds the download of one file, all its attempts and
	// waits included; when it expires the download fails without retry.
	FileTimeout time.Duration

	// Retries is the number of further attempts after a transient
	// failure; negative means none.
	Retries int
	// Backoff is the wait before the first retry, doubled before each of
	// the next ones.
	Backoff time.Duration
}

// withDefaults returns o with the zero fields set to the defaults.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, DefaultDialTimeout)
	def(&o.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	def(&o.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.FileTimeout, DefaultFileTimeout)
	def(&o.Backoff, DefaultBackoff)
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// positive returns d, or 0 (no limit, for net/http) if d is negative.
func positive(d time.Duration) time.Duration {
	return max(d, 0)
}

// NewClient returns an HTTP client whose transport (a clone of
// http.DefaultTransport: proxies from the environment, HTTP/2, keep-alive)
// bounds connecting, the TLS handshake and the wait for response headers
// by o's DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout (zero
// for the defaults, negative for none). It sets no overall
// http.Client.Timeout: Download bounds bodies with its idle watchdog and
// per-file timeout instead.
func NewClient(o Options) *http.Client {
	o = o.withDefaults()
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	d := &net.Dialer{Timeout: positive(o.DialTimeout), KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = positive(o.TLSHandshakeTimeout)
	t.ResponseHeaderTimeout = positive(o.ResponseHeaderTimeout)
	return &http.Client{Transport: t}
}

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

// Files is Download with the default Options but for client (nil: a
// client from NewClient, with connection timeouts) and log.
func Files(ctx context.Context, client *http.Client, baseURL, dir string, files []File, log io.Writer) error {
	return Download(ctx, baseURL, dir, files, Options{Client: client, Log: log})
}

// Download downloads each of files from baseURL into dir, skipping those
// already present with the expected SHA-256, and writes one line per file
// (and per retry) to opt.Log. File f comes from baseURL + "/" + f.Remote,
// resolved as a relative URL reference. The first failure stops the
// download and is returned, naming the file and the URL: an HTTP status
// other than 200 or 206, a connection closed early or a size that differs
// from f.Size (named truncated), a response stalled for opt.IdleTimeout
// (named stalled), a file not complete within opt.FileTimeout (timed out,
// wrapping context.DeadlineExceeded), a SHA-256 mismatch (the error gives
// the expected and the actual sum), or ctx being done (wrapping its
// cause) — transient failures after the retries described in the package
// documentation. A failed file leaves nothing behind.
func Download(ctx context.Context, baseURL, dir string, files []File, opt Options) error {
	opt = opt.withDefaults()
	client := opt.Client
	if client == nil {
		client = NewClient(opt)
		defer client.CloseIdleConnections()
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fetch: %w", context.Cause(ctx))
	}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("fetch: file name %q is not a local path", f.Name)
		}
	}
	removeOldTemps(dir, files, opt.Log)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fetch: %w", context.Cause(ctx))
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		switch sum, err := hashFile(target); {
		case err == nil && sum == f.SHA256:
			fmt.Fprintf(opt.Log, "%s: present, SHA-256 ok, skipped\n", target)
			if err := os.Remove(target + partSuffix); err == nil {
				fmt.Fprintf(opt.Log, "%s: removed a leftover %s\n", target, partSuffix)
			}
			continue
		case err == nil:
			fmt.Fprintf(opt.Log, "%s: present but SHA-256 %s differs from %s, downloading again\n", target, sum, f.SHA256)
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
		if err := downloadFile(ctx, client, u, target, f, opt); err != nil {
			return err
		}
		fmt.Fprintf(opt.Log, "%s: downloaded %d bytes from %s, SHA-256 ok\n", target, f.Size, u)
	}
	return nil
}

// removeOldTemps removes the temporary files of the older naming,
// .<base>.part-<digits> (os.CreateTemp's) or <base>.part-<digits>, of the
// targets of files. Failures are logged, not returned: such a file is
// harmless.
func removeOldTemps(dir string, files []File, log io.Writer) {
	bases := map[string]map[string]bool{} // folder → target base names
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		d := filepath.Dir(target)
		if bases[d] == nil {
			bases[d] = map[string]bool{}
		}
		bases[d][filepath.Base(target)] = true
	}
	for d, names := range bases {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue // no folder yet, or unreadable: the download will say
		}
		for _, e := range entries {
			name := strings.TrimPrefix(e.Name(), ".")
			i := strings.LastIndex(name, partSuffix+"-")
			if i < 0 || e.IsDir() || !names[name[:i]] || !allDigits(name[i+len(partSuffix)+1:]) {
				continue
			}
			path := filepath.Join(d, e.Name())
			if err := os.Remove(path); err != nil {
				fmt.Fprintf(log, "%s: stale temporary file not removed: %v\n", path, err)
			} else {
				fmt.Fprintf(log, "%s: stale temporary file removed\n", path)
			}
		}
	}
}

// allDigits reports whether s is a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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

// part is the temporary file of a download: its first n bytes, hashed
// into h, are the file's.
type part struct {
	f *os.File
	h hash.Hash
	n int64
	// spliced is set when the bytes come from more than one response (or
	// from an earlier run).
	spliced bool
	// werr is the first error writing to f.
	werr error
}

// Write appends b to the file and the hash.
func (p *part) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.h.Write(b[:n])
	p.n += int64(n)
	if err != nil && p.werr == nil {
		p.werr = err
	}
	return n, err
}

// reset empties the file.
func (p *part) reset() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	p.h.Reset()
	p.n, p.spliced = 0, false
	return nil
}

// errStalled is the cause of a request the watchdog cancelled.
var errStalled = errors.New("stalled")

// downloadFile fetches u into target atomically after checking size and
// hash, retrying transient failures.
func downloadFile(ctx context.Context, client *http.Client, u, target string, f File, opt Options) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("fetch: %s: GET %s: %w", f.Name, u, err)
		}
	}()
	if opt.FileTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opt.FileTimeout,
			fmt.Errorf("timed out: not complete after %v: %w", opt.FileTimeout, context.DeadlineExceeded))
		defer cancel()
	}

	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := target + partSuffix
	fh, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = fh.Close() // the first error is the one to report
			_ = os.Remove(name)
		}
	}()
	p := &part{f: fh, h: sha256.New()}
	// A leftover of a killed process: resume from it (hashing it leaves
	// the file offset at its end, where the rest is appended), unless it
	// is too long.
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > f.Size {
		fmt.Fprintf(opt.Log, "%s: discarding %s of %d bytes, more than %d\n", target, partSuffix, fi.Size(), f.Size)
		if err := p.reset(); err != nil {
			return err
		}
	} else if p.n, err = io.Copy(p.h, fh); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if p.n > 0 {
		fmt.Fprintf(opt.Log, "%s: resuming the %d bytes of %s\n", target, p.n, name)
		p.spliced = true
	}

	wait := opt.Backoff
	for attempt := 1; ; attempt++ {
		var err error
		retry := false
		if p.n < f.Size || p.n == 0 {
			retry, err = get(ctx, client, u, p, f, opt, target)
		}
		if err == nil {
			if got := hex.EncodeToString(p.h.Sum(nil)); got != f.SHA256 {
				err = fmt.Errorf("SHA-256 mismatch: expected %s, got %s", f.SHA256, got)
				if retry = p.spliced; retry {
					err = fmt.Errorf("%w (download resumed: its parts may not match)", err)
					if rerr := p.reset(); rerr != nil {
						return rerr
					}
				}
			}
		}
		if err == nil {
			break
		}
		if !retry || attempt > opt.Retries {
			if attempt > 1 {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		fmt.Fprintf(opt.Log, "%s: attempt %d of %d failed: %v; retrying in %v\n", target, attempt, opt.Retries+1, err, positive(wait))
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return context.Cause(ctx)
			case <-t.C:
			}
			wait *= 2
		} else if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}

	if err := fh.Chmod(0o644); err != nil {
		return err
	}
	if err := fh.Sync(); err != nil {
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, target); err != nil {
		return err // the deferred cleanup removes name
	}
	done = true
	return syncDir(dir)
}

// get makes one request for the bytes of f from p.n on and appends them to
// p; on failure, retry tells whether the failure is transient. ctx is the
// file's context; the request has its own, which the idle watchdog
// cancels.
func get(ctx context.Context, client *http.Client, u string, p *part, f File, opt Options, target string) (retry bool, err error) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := opt.IdleTimeout
	var dog *time.Timer
	if idle > 0 {
		dog = time.AfterFunc(idle, func() { cancel(errStalled) })
		defer dog.Stop()
	}
	// failed classifies an error of the request or of reading its body.
	failed := func(err error) (bool, error) {
		switch {
		case ctx.Err() != nil: // ctx done, or the file's time is up: final
			return false, context.Cause(ctx)
		case errors.Is(context.Cause(rctx), errStalled):
			return true, fmt.Errorf("stalled: nothing received for %v, after %d of %d bytes", idle, p.n, f.Size)
		case p.werr != nil:
			return false, p.werr
		case errors.Is(err, io.ErrUnexpectedEOF):
			return true, fmt.Errorf("truncated: connection closed after %d of %d bytes", p.n, f.Size)
		}
		return true, fmt.Errorf("after %d of %d bytes: %w", p.n, f.Size, err)
	}

	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	from := p.n
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close() // read side; nothing to lose
	body := io.Reader(resp.Body)
	if dog != nil {
		dog.Reset(idle)
		body = &watchdog{r: body, t: dog, idle: idle}
	}

	switch resp.StatusCode {
	case http.StatusOK:
		if from > 0 {
			fmt.Fprintf(opt.Log, "%s: the server ignored the range request, downloading again from byte 0\n", target)
			if err := p.reset(); err != nil {
				return false, err
			}
		}
		if resp.ContentLength >= 0 && resp.ContentLength != f.Size {
			return false, fmt.Errorf("server announces %d bytes, want %d", resp.ContentLength, f.Size)
		}
	case http.StatusPartialContent:
		cr := resp.Header.Get("Content-Range")
		first, last, total, ok := parseContentRange(cr)
		if !ok || first != from || last != f.Size-1 || total >= 0 && total != f.Size ||
			resp.ContentLength >= 0 && resp.ContentLength != f.Size-from {
			if err := p.reset(); err != nil {
				return false, err
			}
			return true, fmt.Errorf("HTTP 206 with Content-Range %q (length %d) for bytes=%d- of %d bytes (partial file discarded)", cr, resp.ContentLength, from, f.Size)
		}
		p.spliced = p.spliced || from > 0
	case http.StatusRequestedRangeNotSatisfiable:
		if err := p.reset(); err != nil {
			return false, err
		}
		return true, fmt.Errorf("HTTP %s for bytes=%d- (partial file discarded)", resp.Status, from)
	default:
		c := resp.StatusCode
		return c >= 500 || c == http.StatusRequestTimeout || c == http.StatusTooManyRequests,
			fmt.Errorf("HTTP %s", resp.Status)
	}

	if _, err := io.Copy(p, io.LimitReader(body, f.Size-p.n+1)); err != nil {
		return failed(err)
	}
	switch {
	case p.n < f.Size:
		return true, fmt.Errorf("truncated: got %d of %d bytes", p.n, f.Size)
	case p.n > f.Size:
		return false, fmt.Errorf("more than the expected %d bytes", f.Size)
	}
	return false, nil
}

// parseContentRange parses "bytes first-last/total" (total may be "*",
// returned as -1).
func parseContentRange(s string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, size, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total = -1
	if size != "*" {
		total, err3 = strconv.ParseInt(size, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first {
		return 0, 0, 0, false
	}
	return first, last, total, true
}

// watchdog is a response body that pushes back the idle timer t by idle
// each time a read brings bytes.
type watchdog struct {
	r    io.Reader
	t    *time.Timer
	idle time.Duration
}

func (w *watchdog) Read(b []byte) (int, error) {
	n, err := w.r.Read(b)
	if n > 0 {
		w.t.Reset(w.idle)
	}
	return n, err
}

// syncDir makes a rename in dir durable; it does nothing on Windows, which
// cannot open directories for syncing.
func syncDir(dir string) (err error) {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s after rename: %w", dir, err)
	}
	return nil
}
