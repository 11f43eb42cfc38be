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
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testSet is a small data set served under /v1/data/, its licence one level
// up.
type testSet struct {
	files   []File
	content map[string][]byte // by URL path
}

func newTestSet() *testSet {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 100_000)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	s := &testSet{content: map[string][]byte{}}
	add := func(name, remote, urlPath string, b []byte) {
		sum := sha256.Sum256(b)
		s.files = append(s.files, File{Name: name, Remote: remote, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		s.content[urlPath] = b
	}
	add("LICENSE.X", "../LICENSE", "/v1/LICENSE", []byte("MIT\n"))
	add("a.txt", "", "/v1/data/a.txt", []byte("hello\n"))
	add("sub/b.bin", "", "/v1/data/sub/b.bin", big)
	return s
}

// serve starts a server for s; handle, if not nil, may take over a request
// (returning true).
func (s *testSet) serve(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte) bool) (base string, hits *atomic.Int64) {
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, ok := s.content[r.URL.Path]
		if handle != nil && handle(w, r, body) {
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/data", hits
}

// noLeftovers fails if dir holds a temporary download (<name>.part, or
// .<name>.part-<digits> of the older naming).
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".part") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

func TestFilesDownloadsAndSkips(t *testing.T) {
	t.Parallel()
	s := newTestSet()
	base, hits := s.serve(t, nil)
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Files(context.Background(), nil, base, dir, s.files, &log); err != nil {
		t.Fatal(err)
	}
	for _, f := range s.files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: wrong contents", f.Name)
		}
		fi, _ := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", f.Name, fi.Mode())
		}
	}
	if n := strings.Count(log.String(), "SHA-256 ok\n"); n != 3 || !strings.Contains(log.String(), "/v1/LICENSE") {
		t.Errorf("log:\n%s", log.String())
	}
	noLeftovers(t, dir)

	// Again: nothing is downloaded.
	before := hits.Load()
	log.Reset()
	if err := Files(context.Background(), nil, base+"/", dir, s.files, &log); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before || strings.Count(log.String(), "skipped") != 3 {
		t.Errorf("second run: %d requests, log:\n%s", hits.Load()-before, log.String())
	}
}

func TestFilesReplacesBadLocalFile(t *testing.T) {
	t.Parallel()
	s := newTestSet()
	base, _ := s.serve(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := Files(context.Background(), nil, base, dir, s.files, &log); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "hello\n" || !strings.Contains(log.String(), "downloading again") {
		t.Errorf("contents %q, log:\n%s", b, log.String())
	}
}

func TestFilesFailures(t *testing.T) {
	t.Parallel()
	s := newTestSet()
	bigSum := s.files[2].SHA256
	for _, tc := range []struct {
		name     string
		handle   func(w http.ResponseWriter, r *http.Request, body []byte) bool
		want     []string
		attempts int64 // requests for the failing file, whose URL path ends in suffix
		suffix   string
	}{
		{"flipped byte", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "b.bin") {
				return false
			}
			bad := bytes.Clone(body)
			bad[500] ^= 1
			sum := sha256.Sum256(bad)
			w.Header().Set("X-Sum", hex.EncodeToString(sum[:]))
			_, _ = w.Write(bad)
			return true
		}, []string{"sub/b.bin", "SHA-256 mismatch: expected " + bigSum + ", got "}, 1, "b.bin"},
		{"connection closed early", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "b.bin") {
				return false
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body[:40_000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // closes the connection mid-body
		}, []string{"sub/b.bin", "truncated: connection closed after 40000 of 100000 bytes (gave up after 4 attempts)"}, 4, "b.bin"},
		{"short content length", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "b.bin") {
				return false
			}
			w.Header().Set("Content-Length", "40000")
			_, _ = w.Write(body[:40_000])
			return true
		}, []string{"sub/b.bin", "server announces 40000 bytes, want 100000"}, 1, "b.bin"},
		{"chunked and short", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "b.bin") {
				return false
			}
			_, _ = w.Write(body[:10_000]) // no Content-Length: chunked
			w.(http.Flusher).Flush()
			_, _ = w.Write(body[10_000:20_000])
			return true
		}, []string{"sub/b.bin", "truncated: got 20000 of 100000 bytes (gave up after 4 attempts)"}, 4, "b.bin"},
		{"too long", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "a.txt") {
				return false
			}
			_, _ = w.Write([]byte("hello\n")) // flushed, so chunked: no Content-Length
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("and more\n"))
			return true
		}, []string{"a.txt", "more than the expected 6 bytes"}, 1, "a.txt"},
		{"not found", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "LICENSE") {
				return false
			}
			http.NotFound(w, r)
			return true
		}, []string{"LICENSE.X", "/v1/LICENSE: HTTP 404 Not Found"}, 1, "LICENSE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var took atomic.Int64 // requests for the failing file
			base, _ := s.serve(t, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				if strings.HasSuffix(r.URL.Path, tc.suffix) {
					took.Add(1) // before answering: the client may be done at once
				}
				return tc.handle(w, r, body)
			})
			dir := t.TempDir()
			err := Download(context.Background(), base, dir, s.files, Options{Backoff: time.Millisecond})
			if err == nil {
				t.Fatal("no error")
			}
			if took.Load() != tc.attempts {
				t.Errorf("%d requests for the failing file, want %d (err = %v)", took.Load(), tc.attempts, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "sub", "b.bin")); tc.name != "not found" && tc.name != "too long" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("b.bin exists after a failed download (%v)", err)
			}
			noLeftovers(t, dir)
		})
	}
}

func TestFilesCanceled(t *testing.T) {
	t.Parallel()
	s := newTestSet()
	base, hits := s.serve(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Files(ctx, nil, base, t.TempDir(), s.files, nil)
	if !errors.Is(err, context.Canceled) || hits.Load() != 0 {
		t.Fatalf("err = %v, %d requests", err, hits.Load())
	}

	// Canceled in the middle of a body.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	base, _ = s.serve(t, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !strings.HasSuffix(r.URL.Path, "b.bin") {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:30_000])
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
		return true
	})
	dir := t.TempDir()
	start := time.Now()
	err = Files(ctx, nil, base, dir, s.files, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "sub/b.bin") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second { // the idle timeout is 60 s
		t.Errorf("cancellation took %v", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "b.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file: %v", err)
	}
	noLeftovers(t, dir)
}

func TestFilesRejectsNonLocalNames(t *testing.T) {
	t.Parallel()
	err := Files(context.Background(), nil, "http://127.0.0.1:1/", t.TempDir(), []File{{Name: "../x", Size: 1}}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a local path") {
		t.Fatalf("err = %v", err)
	}
}
