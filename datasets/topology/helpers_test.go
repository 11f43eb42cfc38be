package topology

import (
	"bytes"
	"os"
	"sync"
	"testing"
)

// dataRoot returns the reference data sets root $CPNTRAIN_DATA, or skips
// the test when it is unset.
func dataRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA is not set: skipping this test on the real topology files " +
			"(set CPNTRAIN_DATA to the reference datasets folder, e.g. ../shared/datasets, or fetch them with topology.Fetch)")
	}
	return root
}

var (
	loadMu    sync.Mutex
	loadCache = map[string]*Graph{}
)

// load loads a real topology once per test binary.
func load(t testing.TB, name string) *Graph {
	t.Helper()
	root := dataRoot(t)
	loadMu.Lock()
	defer loadMu.Unlock()
	if g, ok := loadCache[name]; ok {
		return g
	}
	g, err := Load(root, name)
	if err != nil {
		t.Fatal(err)
	}
	loadCache[name] = g
	return g
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
