package nasbench201

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// helpServer serves the real data from $CPNTRAIN_DATA laid out like the
// HELP repository: <base>/<file> for the data folder, <base>/../../LICENSE
// for LICENSE.HELP. alter, if not nil, may take over a request for a file
// (given relative to the data folder) by returning true.
func helpServer(t *testing.T, alter func(w http.ResponseWriter, rel string, body []byte) bool) (base string, hits *atomic.Int64) {
	t.Helper()
	dir := dataDir(t)
	hits = new(atomic.Int64)
	const prefix = "/HayeonLee/HELP/" + Revision + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		rel, ok := strings.CutPrefix(r.URL.Path, prefix+"data/"+DirName+"/")
		if r.URL.Path == prefix+"LICENSE" {
			rel, ok = "LICENSE.HELP", true
		}
		if !ok || !filepath.IsLocal(filepath.FromSlash(rel)) {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if alter != nil && alter(w, rel, body) {
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + prefix + "data/" + DirName, hits
}

func TestFetchThenLoad(t *testing.T) {
	want := loadAll(t)
	base, hits := helpServer(t, nil)
	dest := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), base, dest, &log); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "SHA-256 ok\n"); n != 30 || hits.Load() != 30 {
		t.Errorf("%d files, %d requests; log:\n%s", n, hits.Load(), log.String())
	}
	got, err := Load(filepath.Join(dest, DirName))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Archs, want.Archs) || !slices.Equal(got.RefIndices, want.RefIndices) {
		t.Error("fetched architectures differ")
	}
	for dev, lat := range want.Latency {
		if !slices.Equal(got.Latency[dev], lat) {
			t.Errorf("%s: fetched latencies differ", dev)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dest, DirName, "LICENSE.HELP")); err != nil || !bytes.HasPrefix(b, []byte("MIT License")) {
		t.Errorf("LICENSE.HELP: %.20q, %v", b, err)
	}

	// A second fetch downloads nothing.
	log.Reset()
	if err := Fetch(context.Background(), base, dest, &log); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 30 || strings.Count(log.String(), "skipped") != 30 {
		t.Errorf("second fetch: %d requests; log:\n%s", hits.Load()-30, log.String())
	}
}

func TestFetchCorrupted(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(dataDir(t), "latency", "pixel2.pt"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 0x01 // one bit of one byte
	sum := sha256.Sum256(bad)
	gotSum := hex.EncodeToString(sum[:])
	base, _ := helpServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != "latency/pixel2.pt" {
			return false
		}
		_, _ = w.Write(bad)
		return true
	})
	dest := t.TempDir()
	err = Fetch(context.Background(), base, dest, nil)
	if err == nil {
		t.Fatal("no error")
	}
	t.Log(err)
	for _, w := range []string{"nasbench201: ", "latency/pixel2.pt", "SHA-256 mismatch", "expected " + wantSum(t, "latency/pixel2.pt"), "got " + gotSum} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant %q", err, w)
		}
	}
	noPartialFiles(t, dest, "latency/pixel2.pt")
}

func TestFetchTruncated(t *testing.T) {
	base, _ := helpServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != archIndexFile {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:len(body)/3])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the server closes the connection early
	})
	dest := t.TempDir()
	err := Fetch(context.Background(), base, dest, nil)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), archIndexFile) || !strings.Contains(err.Error(), "truncated: connection closed after") {
		t.Fatalf("err = %v", err)
	}
	noPartialFiles(t, dest, archIndexFile)
}

func TestFetchNotFound(t *testing.T) {
	base, _ := helpServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != "latency/raspi4.pt" {
			return false
		}
		w.WriteHeader(http.StatusNotFound)
		return true
	})
	err := Fetch(context.Background(), base, t.TempDir(), nil)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), base+"/latency/raspi4.pt") || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("err = %v", err)
	}
}

func TestFetchCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// No server: nothing may be requested.
	err := Fetch(ctx, "http://127.0.0.1:1/none", t.TempDir(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestFilesTable checks the embedded table against SHA256SUMS and the files
// of the reference data.
func TestFilesTable(t *testing.T) {
	dir := dataDir(t)
	f, err := os.Open(filepath.Join(dir, "..", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, path, ok := strings.Cut(sc.Text(), "  ")
		if rel, in := strings.CutPrefix(path, "./"+DirName+"/"); ok && in {
			sums[rel] = sum
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(files) || len(files) != 30 {
		t.Fatalf("SHA256SUMS lists %d files, the table %d", len(sums), len(files))
	}
	for _, fl := range files {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(fl.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if sums[fl.Name] != fl.SHA256 || fi.Size() != fl.Size {
			t.Errorf("%s: table %s %d, SHA256SUMS %s, file %d bytes", fl.Name, fl.SHA256, fl.Size, sums[fl.Name], fi.Size())
		}
	}
	for _, dev := range Devices() {
		wantSum(t, latencyFile(dev))
	}
	if !strings.Contains(DefaultBaseURL, Revision) {
		t.Error("DefaultBaseURL does not pin Revision")
	}
}

// wantSum returns the table's SHA-256 of a file.
func wantSum(t *testing.T, rel string) string {
	t.Helper()
	for _, f := range files {
		if f.Name == rel {
			return f.SHA256
		}
	}
	t.Fatalf("%s not in the table", rel)
	return ""
}

// noPartialFiles fails if rel exists under dest/nasbench201 or a temporary
// file is left there.
func noPartialFiles(t *testing.T, dest, rel string) {
	t.Helper()
	dir := filepath.Join(dest, DirName)
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after a failed download (%v)", rel, err)
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".part-") || strings.HasSuffix(d.Name(), ".part")) {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}
