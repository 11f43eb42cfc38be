package topology

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

// rawServer serves the real data from $CPNTRAIN_DATA laid out like
// raw.githubusercontent.com at the pinned revisions. alter, if not nil,
// may take over a request for a file (given by its name under
// topologies/) by returning true.
func rawServer(t *testing.T, alter func(w http.ResponseWriter, rel string, body []byte) bool) (base string, hits *atomic.Int64) {
	t.Helper()
	dir := filepath.Join(dataRoot(t), DirName)
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		path := strings.TrimPrefix(r.URL.Path, "/mirror/")
		var rel string
		if f, ok := strings.CutPrefix(path, cfrrlRemote+"data/"); ok {
			rel = "cfr-rl/" + f
		} else if path == cfrrlRemote+"LICENSE" {
			rel = "cfr-rl/LICENSE.CFR-RL"
		} else if f, ok := strings.CutPrefix(path, zooRemote+"gml/"); ok {
			rel = "topologyzoo/" + f
		}
		if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
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
	return srv.URL + "/mirror", hits
}

func TestFetchThenLoad(t *testing.T) {
	root := dataRoot(t)
	base, hits := rawServer(t, nil)
	dest := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), base, dest, &log); err != nil {
		t.Fatal(err)
	}
	n := len(files)
	if c := strings.Count(log.String(), "SHA-256 ok\n"); c != n || hits.Load() != int64(n) {
		t.Errorf("%d files, %d requests; log:\n%s", c, hits.Load(), log.String())
	}
	for _, name := range Names() {
		want, err := Load(root, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Load(dest, name)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != want.N || !slices.Equal(got.Links, want.Links) || !slices.Equal(got.Nodes, want.Nodes) {
			t.Errorf("%s: fetched topology differs", name)
		}
	}
	tm, err := LoadAbileneTM(dest)
	if err != nil || tm.Len() != 2016 {
		t.Fatalf("AbileneTM: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, DirName, "cfr-rl", "LICENSE.CFR-RL")); err != nil || !bytes.HasPrefix(b, []byte("MIT License")) {
		t.Errorf("LICENSE.CFR-RL: %.20q, %v", b, err)
	}

	// A second fetch downloads nothing.
	log.Reset()
	if err := Fetch(context.Background(), base, dest, &log); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != int64(n) || strings.Count(log.String(), "skipped") != n {
		t.Errorf("second fetch: %d requests; log:\n%s", hits.Load()-int64(n), log.String())
	}
}

func TestFetchCorrupted(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(dataRoot(t), DirName, "topologyzoo", "Kdl.gml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 0x01 // one bit of one byte
	sum := sha256.Sum256(bad)
	gotSum := hex.EncodeToString(sum[:])
	base, _ := rawServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != "topologyzoo/Kdl.gml" {
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
	for _, w := range []string{"topology: ", "topologyzoo/Kdl.gml", "SHA-256 mismatch", "expected " + wantSum(t, "topologyzoo/Kdl.gml"), "got " + gotSum} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant %q", err, w)
		}
	}
	noPartialFiles(t, dest, "topologyzoo/Kdl.gml")
}

func TestFetchTruncated(t *testing.T) {
	base, _ := rawServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != "cfr-rl/AbileneTM" {
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
	if err == nil || !strings.Contains(err.Error(), "cfr-rl/AbileneTM") || !strings.Contains(err.Error(), "truncated: connection closed after") {
		t.Fatalf("err = %v", err)
	}
	noPartialFiles(t, dest, "cfr-rl/AbileneTM")
	// The files before it are in place.
	if _, err := Load(dest, "abilene"); err != nil {
		t.Error(err)
	}
}

func TestFetchNotFound(t *testing.T) {
	base, _ := rawServer(t, func(w http.ResponseWriter, rel string, body []byte) bool {
		if rel != "cfr-rl/Tiscali" {
			return false
		}
		w.WriteHeader(http.StatusNotFound)
		return true
	})
	err := Fetch(context.Background(), base, t.TempDir(), nil)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), base+"/"+cfrrlRemote+"data/Tiscali") || !strings.Contains(err.Error(), "404 Not Found") {
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
// of the reference data, and the pinned URLs.
func TestFilesTable(t *testing.T) {
	root := dataRoot(t)
	f, err := os.Open(filepath.Join(root, "SHA256SUMS"))
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
	if len(sums) != len(files) || len(files) != 9 {
		t.Fatalf("SHA256SUMS lists %d files, the table %d", len(sums), len(files))
	}
	for _, fl := range files {
		fi, err := os.Stat(filepath.Join(root, DirName, filepath.FromSlash(fl.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if sums[fl.Name] != fl.SHA256 || fi.Size() != fl.Size {
			t.Errorf("%s: table %s %d, SHA256SUMS %s, file %d bytes", fl.Name, fl.SHA256, fl.Size, sums[fl.Name], fi.Size())
		}
		if !strings.Contains(fl.Remote, CFRRLRevision) && !strings.Contains(fl.Remote, ZooRevision) {
			t.Errorf("%s: remote %s is not pinned", fl.Name, fl.Remote)
		}
	}
	for _, d := range datasets {
		wantSum(t, d.path)
	}
	// The full upstream URLs are those of the pinned revisions.
	for name, url := range map[string]string{
		"cfr-rl/Abilene":      "https://raw.githubusercontent.com/jrayzhang6/CFR-RL/0ab3288a8571c8e196caa376496451621358f01a/data/Abilene",
		"topologyzoo/Kdl.gml": "https://raw.githubusercontent.com/mroughan/InternetTopologyZoo/a725bbc4763bf1d0eaea64089ba00c2fe9427fe3/gml/Kdl.gml",
	} {
		for _, fl := range files {
			if fl.Name == name && DefaultBaseURL+"/"+fl.Remote != url {
				t.Errorf("%s: URL %s, want %s", name, DefaultBaseURL+"/"+fl.Remote, url)
			}
		}
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

// noPartialFiles fails if rel exists under dest/topologies or a temporary
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
