package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// blobSize is the length of the file the tests of this file serve.
const blobSize = 100_000

// blob returns blobSize pseudo-random bytes and their File (blob.bin).
func blob() ([]byte, File) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, blobSize)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	sum := sha256.Sum256(b)
	return b, File{Name: "blob.bin", Size: blobSize, SHA256: hex.EncodeToString(sum[:])}
}

// server is a test server for blob.bin that records the Range header of
// each request ("" for none).
type server struct {
	base string
	mu   sync.Mutex
	rng  []string
}

// ranges returns the Range headers received so far.
func (s *server) ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rng)
}

// serveBlob starts a server whose handler for /d/blob.bin is handle,
// called with the request's number (1 for the first).
func serveBlob(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, call int)) *server {
	t.Helper()
	s := &server{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/d/blob.bin" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.rng = append(s.rng, r.Header.Get("Range"))
		call := len(s.rng)
		s.mu.Unlock()
		handle(w, r, call)
	}))
	t.Cleanup(srv.Close)
	s.base = srv.URL + "/d"
	return s
}

// serveRange answers r with body, honouring Range (206, Content-Range).
func serveRange(w http.ResponseWriter, r *http.Request, body []byte) {
	http.ServeContent(w, r, "blob.bin", time.Time{}, bytes.NewReader(body))
}

// serveWhole answers r with all of body and status 200, ignoring Range.
func serveWhole(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// dropAfter announces all of body, sends its first n bytes and closes the
// connection.
func dropAfter(w http.ResponseWriter, body []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body[:n])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// stallAfter announces all of body, sends its first n bytes and sends
// nothing more until the client goes away.
func stallAfter(w http.ResponseWriter, r *http.Request, body []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body[:n])
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// checkBlob fails unless dir/blob.bin holds want and no temporary file is
// left.
func checkBlob(t *testing.T, dir string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, "blob.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("blob.bin: %d bytes, differs from the %d served", len(got), len(want))
	}
	noLeftovers(t, dir)
}

// noBlob fails if dir/blob.bin or a temporary file exists.
func noBlob(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "blob.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("blob.bin exists after a failed download (%v)", err)
	}
	noLeftovers(t, dir)
}

// wantErr fails unless err contains each of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant %q", err, w)
		}
	}
}

// guard returns a context that ends the test's download if the code under
// test would otherwise hang.
func guard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Second, errors.New("test guard: the download hung"))
	t.Cleanup(cancel)
	return ctx
}

// (a) A server that sends half of the file and then nothing fails the
// download within about the idle timeout, naming the URL and "stalled",
// and leaves nothing.
func TestStalledDownloadFails(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { stallAfter(w, r, body, blobSize/2) })
	dir := t.TempDir()
	const idle = 200 * time.Millisecond
	start := time.Now()
	err := Download(guard(t), s.base, dir, []File{f}, Options{IdleTimeout: idle, Retries: -1})
	elapsed := time.Since(start)
	wantErr(t, err, "blob.bin: GET "+s.base+"/blob.bin: stalled: nothing received for 200ms, after 50000 of 100000 bytes")
	if elapsed < idle || elapsed > idle+3*time.Second {
		t.Errorf("failed after %v, idle timeout %v", elapsed, idle)
	}
	noBlob(t, dir)
}

// A client without any timeout of its own is still protected, even while
// waiting for the response headers.
func TestStalledHeadersFail(t *testing.T) {
	t.Parallel()
	_, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { <-r.Context().Done() })
	dir := t.TempDir()
	err := Download(guard(t), s.base, dir, []File{f}, Options{Client: &http.Client{}, IdleTimeout: 200 * time.Millisecond, Retries: -1})
	wantErr(t, err, s.base+"/blob.bin: stalled: nothing received for 200ms, after 0 of 100000 bytes")
	noBlob(t, dir)
}

// The client NewClient makes bounds the wait for the response headers.
func TestResponseHeaderTimeout(t *testing.T) {
	t.Parallel()
	_, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { <-r.Context().Done() })
	dir := t.TempDir()
	start := time.Now()
	err := Download(guard(t), s.base, dir, []File{f}, Options{ResponseHeaderTimeout: 200 * time.Millisecond, IdleTimeout: -1, Retries: -1})
	wantErr(t, err, s.base+"/blob.bin", "timeout awaiting response headers")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("failed after %v", d)
	}
	noBlob(t, dir)
}

func TestNewClientTimeouts(t *testing.T) {
	t.Parallel()
	tr, ok := NewClient(Options{}).Transport.(*http.Transport)
	if !ok {
		t.Fatal("not an *http.Transport")
	}
	if tr.TLSHandshakeTimeout != DefaultTLSHandshakeTimeout || tr.ResponseHeaderTimeout != DefaultResponseHeaderTimeout || tr.DialContext == nil || tr.Proxy == nil {
		t.Errorf("TLS handshake %v, response headers %v, dialer set %t, proxy set %t", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.DialContext != nil, tr.Proxy != nil)
	}
	tr = NewClient(Options{TLSHandshakeTimeout: time.Second, ResponseHeaderTimeout: -1}).Transport.(*http.Transport)
	if tr.TLSHandshakeTimeout != time.Second || tr.ResponseHeaderTimeout != 0 {
		t.Errorf("TLS handshake %v, response headers %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout)
	}
}

// A body that keeps coming, slower than the idle timeout in total but with
// no gap as long, is not stalled: each read pushes the watchdog back.
func TestSlowSteadyBodyIsNotStalled(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		const chunks = 10
		for i := range chunks {
			_, _ = w.Write(body[i*blobSize/chunks : (i+1)*blobSize/chunks])
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond) // 600 ms in all
		}
	})
	dir := t.TempDir()
	if err := Download(guard(t), s.base, dir, []File{f}, Options{IdleTimeout: 250 * time.Millisecond, Retries: -1}); err != nil {
		t.Fatal(err)
	}
	checkBlob(t, dir, body)
}

// A stall is transient: the retry resumes where it stopped.
func TestStallThenResume(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		if call == 1 {
			stallAfter(w, r, body, blobSize/2)
			return
		}
		serveRange(w, r, body)
	})
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Download(guard(t), s.base, dir, []File{f}, Options{IdleTimeout: 200 * time.Millisecond, Backoff: time.Millisecond, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if got := s.ranges(); !slices.Equal(got, []string{"", "bytes=50000-"}) {
		t.Errorf("Range headers %q", got)
	}
	if !strings.Contains(log.String(), "attempt 1 of 4 failed: stalled") {
		t.Errorf("log:\n%s", log.String())
	}
	checkBlob(t, dir, body)
}

// (b) A connection dropped after half of the file is resumed with a Range
// request, and the assembled file is right.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		if call == 1 {
			dropAfter(w, body, blobSize/2)
		}
		serveRange(w, r, body)
	})
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if got := s.ranges(); !slices.Equal(got, []string{"", "bytes=50000-"}) {
		t.Errorf("Range headers %q", got)
	}
	if !strings.Contains(log.String(), "attempt 1 of 4 failed: truncated: connection closed after 50000 of 100000 bytes") {
		t.Errorf("log:\n%s", log.String())
	}
	checkBlob(t, dir, body)
}

// (c) A server that ignores Range (200, the whole file) makes the retry
// start again from byte 0.
func TestRestartWhenRangeIgnored(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		if call == 1 {
			dropAfter(w, body, blobSize/2)
		}
		serveWhole(w, body)
	})
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if got := s.ranges(); !slices.Equal(got, []string{"", "bytes=50000-"}) {
		t.Errorf("Range headers %q", got)
	}
	if !strings.Contains(log.String(), "ignored the range request") {
		t.Errorf("log:\n%s", log.String())
	}
	checkBlob(t, dir, body)
}

// A 206 for other bytes than asked discards the partial file; the next
// attempt starts from byte 0.
func TestRestartOnWrongContentRange(t *testing.T) {
	t.Parallel()
	body, f := blob()
	for _, tc := range []struct {
		name          string
		contentRange  string
		contentLength int // -1: none (chunked)
		first, end    int // the bytes sent
	}{
		{"wrong start", "bytes 40000-99999/100000", -1, 40000, blobSize},
		{"wrong end", "bytes 50000-89999/100000", -1, 50000, 90000},
		{"wrong total", "bytes 50000-99999/120000", -1, 50000, blobSize},
		{"unknown total", "bytes 50000-99999/*", -1, 50000, blobSize}, // accepted
		{"malformed", "50000-99999/100000", -1, 50000, blobSize},
		{"length disagrees", "bytes 50000-99999/100000", 60000, 40000, blobSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
				switch call {
				case 1:
					dropAfter(w, body, blobSize/2)
				case 2:
					w.Header().Set("Content-Range", tc.contentRange)
					if tc.contentLength >= 0 {
						w.Header().Set("Content-Length", strconv.Itoa(tc.contentLength))
					}
					w.WriteHeader(http.StatusPartialContent)
					_, _ = w.Write(body[tc.first:tc.end])
				default:
					serveWhole(w, body)
				}
			})
			dir := t.TempDir()
			var log bytes.Buffer
			if err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond, Log: &log}); err != nil {
				t.Fatal(err)
			}
			want := []string{"", "bytes=50000-", ""}
			if tc.name == "unknown total" {
				want = want[:2]
			}
			if got := s.ranges(); !slices.Equal(got, want) {
				t.Errorf("Range headers %q, want %q\nlog:\n%s", got, want, log.String())
			}
			checkBlob(t, dir, body)
		})
	}
}

// The client NewClient makes bounds connecting (here so tightly that even
// loopback fails).
func TestDialTimeout(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { serveWhole(w, body) })
	dir := t.TempDir()
	err := Download(guard(t), s.base, dir, []File{f}, Options{DialTimeout: time.Nanosecond, Retries: -1})
	wantErr(t, err, s.base+"/blob.bin", "dial tcp", "timeout")
	noBlob(t, dir)
}

// HTTP 5xx is retried, 4xx is not.
func TestStatusRetries(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		if call <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serveRange(w, r, body)
	})
	dir := t.TempDir()
	if err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.ranges()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	checkBlob(t, dir, body)

	s = serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { http.Error(w, "gone", http.StatusGone) })
	dir = t.TempDir()
	err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond})
	wantErr(t, err, s.base+"/blob.bin: HTTP 410 Gone")
	if n := len(s.ranges()); n != 1 || strings.Contains(err.Error(), "attempts") {
		t.Errorf("%d requests, want 1 (err = %v)", n, err)
	}
	noBlob(t, dir)

	s = serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { http.Error(w, "busy", http.StatusBadGateway) })
	dir = t.TempDir()
	err = Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond, Retries: 2})
	wantErr(t, err, s.base+"/blob.bin: HTTP 502 Bad Gateway (gave up after 3 attempts)")
	if n := len(s.ranges()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	noBlob(t, dir)
}

// (d) Cancelling ctx in the middle of a body returns ctx's error at once
// (not after the idle timeout) and removes the partial file.
func TestCanceledMidBody(t *testing.T) {
	t.Parallel()
	body, f := blob()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:blobSize/2])
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond) // the client writes what it got
		cancel()
		<-r.Context().Done()
	})
	dir := t.TempDir()
	start := time.Now()
	err := Download(ctx, s.base, dir, []File{f}, Options{}) // idle timeout 60 s
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	wantErr(t, err, "blob.bin: GET "+s.base+"/blob.bin")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	if n := len(s.ranges()); n != 1 {
		t.Errorf("%d requests after cancellation", n)
	}
	noBlob(t, dir)
}

// Cancelling ctx during the wait before a retry returns at once.
func TestCanceledDuringBackoff(t *testing.T) {
	t.Parallel()
	_, f := blob()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		time.AfterFunc(100*time.Millisecond, cancel)
	})
	dir := t.TempDir()
	start := time.Now()
	err := Download(ctx, s.base, dir, []File{f}, Options{Backoff: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	noBlob(t, dir)
}

// The per-file timeout stops a download that trickles on, without retry.
func TestFileTimeout(t *testing.T) {
	t.Parallel()
	body, f := blob()
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for i := 0; i < blobSize && r.Context().Err() == nil; i += 100 {
			_, _ = w.Write(body[i : i+100])
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond) // 20 s in all
		}
	})
	dir := t.TempDir()
	start := time.Now()
	err := Download(guard(t), s.base, dir, []File{f}, Options{FileTimeout: 300 * time.Millisecond, IdleTimeout: time.Second, Backoff: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	wantErr(t, err, s.base+"/blob.bin: timed out: not complete after 300ms")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	if n := len(s.ranges()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noBlob(t, dir)
}

// (e) Temporary files of the older naming of the files being fetched are
// removed, also next to files that are skipped; others are kept.
func TestOldTempFilesRemoved(t *testing.T) {
	t.Parallel()
	s := newTestSet()
	base, _ := s.serve(t, nil)
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", []byte("hello\n")) // present and right: skipped
	stale := []string{"sub/.b.bin.part-1234", "sub/b.bin.part-99", ".a.txt.part-2718281828", "a.txt.part"}
	kept := []string{"sub/.b.bin.part-x1", "notes.part-1", "a.txt.partial", "sub/.c.bin.part-5"}
	for _, name := range append(slices.Clone(stale), kept...) {
		write(name, []byte("junk"))
	}
	var log bytes.Buffer
	if err := Download(context.Background(), base, dir, s.files, Options{Log: &log}); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed (%v)", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := strings.Count(log.String(), "stale temporary file removed"); n != 3 || !strings.Contains(log.String(), "removed a leftover .part") {
		t.Errorf("log:\n%s", log.String())
	}
}

// (f) A SHA-256 mismatch on a file received whole is final: the error names
// the file, nothing is retried, nothing is left.
func TestChecksumMismatchIsFinal(t *testing.T) {
	t.Parallel()
	body, f := blob()
	bad := bytes.Clone(body)
	bad[12345] ^= 0x80
	badSum := sha256.Sum256(bad)
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { serveRange(w, r, bad) })
	dir := t.TempDir()
	err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond})
	wantErr(t, err, "fetch: blob.bin: GET "+s.base+"/blob.bin: SHA-256 mismatch: expected "+f.SHA256+", got "+hex.EncodeToString(badSum[:]))
	if n := len(s.ranges()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noBlob(t, dir)
}

// A mismatch on a resumed file starts again from byte 0, the splice being
// suspect; a mismatch on every attempt fails with the mismatch.
func TestChecksumMismatchAfterResume(t *testing.T) {
	t.Parallel()
	body, f := blob()
	bad := bytes.Clone(body)
	bad[blobSize-1] ^= 0x01
	s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) {
		if call == 1 {
			dropAfter(w, body, blobSize/2)
		}
		serveRange(w, r, bad) // the tail differs: resumed or whole, wrong
	})
	dir := t.TempDir()
	err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond})
	wantErr(t, err, "blob.bin: GET "+s.base+"/blob.bin: SHA-256 mismatch: expected "+f.SHA256)
	if got := s.ranges(); !slices.Equal(got, []string{"", "bytes=50000-", ""}) {
		t.Errorf("Range headers %q", got)
	}
	noBlob(t, dir)
}

// A <target>.part left by a killed process is resumed from; if the result
// is wrong, the file is downloaded again whole; a .part longer than the
// file is discarded.
func TestLeftoverPartFile(t *testing.T) {
	t.Parallel()
	body, f := blob()
	wrong := bytes.Clone(body[:30000])
	wrong[0] ^= 0x01
	for _, tc := range []struct {
		name   string
		part   []byte
		ranges []string
	}{
		{"good prefix", body[:30000], []string{"bytes=30000-"}},
		{"bad prefix", wrong, []string{"bytes=30000-", ""}},
		{"complete", body, nil},
		{"complete but wrong", append(slices.Clone(wrong), body[30000:]...), []string{""}},
		{"too long", append(slices.Clone(body), 'x'), []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := serveBlob(t, func(w http.ResponseWriter, r *http.Request, call int) { serveRange(w, r, body) })
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "blob.bin.part"), tc.part, 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			if err := Download(guard(t), s.base, dir, []File{f}, Options{Backoff: time.Millisecond, Log: &log}); err != nil {
				t.Fatal(err)
			}
			if got := s.ranges(); !slices.Equal(got, tc.ranges) {
				t.Errorf("Range headers %q, want %q\nlog:\n%s", got, tc.ranges, log.String())
			}
			checkBlob(t, dir, body)
		})
	}
}
