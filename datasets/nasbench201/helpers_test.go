package nasbench201

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// dataDir returns the real data folder $CPNTRAIN_DATA/nasbench201, or
// skips the test when CPNTRAIN_DATA is unset.
func dataDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA is not set: skipping this test on the real NAS-Bench-201 data " +
			"(set CPNTRAIN_DATA to the reference datasets folder, e.g. ../shared/datasets, or run `cpntrain data fetch nasbench201`)")
	}
	return filepath.Join(root, DirName)
}

var (
	allOnce sync.Once
	allData *Data
	allErr  error
)

// loadAll loads the real data of all devices once per test binary.
func loadAll(t testing.TB) *Data {
	t.Helper()
	dir := dataDir(t)
	allOnce.Do(func() { allData, allErr = Load(dir) })
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allData
}

// allArchs returns every Arch, in base-5 order of Arch.code.
func allArchs() []Arch {
	archs := make([]Arch, NumArchs)
	for c := range archs {
		x := c
		for k := 0; k < NumEdges; k++ {
			archs[c][k] = uint8(x % NumOps)
			x /= NumOps
		}
	}
	return archs
}

// pickler writes protocol-2 pickles the way Python's pickle module does
// for lists and dicts of ints, floats and strings.
type pickler struct {
	bytes.Buffer
	memo uint32
}

func newPickler() *pickler {
	p := &pickler{}
	p.Write([]byte{0x80, 2})
	return p
}

func (p *pickler) put() {
	if p.memo < 256 {
		p.Write([]byte{'q', byte(p.memo)})
	} else {
		p.WriteByte('r')
		_ = binary.Write(p, binary.LittleEndian, p.memo)
	}
	p.memo++
}

func (p *pickler) value(v any) {
	switch x := v.(type) {
	case int:
		switch {
		case x >= 0 && x < 256:
			p.Write([]byte{'K', byte(x)})
		case x >= 0 && x < 65536:
			p.WriteByte('M')
			_ = binary.Write(p, binary.LittleEndian, uint16(x))
		default:
			p.WriteByte('J')
			_ = binary.Write(p, binary.LittleEndian, int32(x))
		}
	case float64:
		p.WriteByte('G')
		_ = binary.Write(p, binary.BigEndian, math.Float64bits(x))
	case string:
		p.WriteByte('X')
		_ = binary.Write(p, binary.LittleEndian, uint32(len(x)))
		p.WriteString(x)
		p.put()
	default:
		panic("pickler: unsupported value")
	}
}

// list pickles items (ints, float64s, strings) as a list, in batches of
// 1000 like Python.
func pickleList(items []any) []byte {
	p := newPickler()
	p.WriteByte(']')
	p.put()
	for len(items) > 0 {
		n := min(len(items), 1000)
		p.WriteByte('(')
		for _, it := range items[:n] {
			p.value(it)
		}
		p.WriteByte('e')
		items = items[n:]
	}
	p.WriteByte('.')
	return p.Bytes()
}

// pickleDict pickles a dict of string keys and int values.
func pickleDict(keys []string, vals []int) []byte {
	p := newPickler()
	p.WriteByte('}')
	p.put()
	for i := 0; i < len(keys); i += 1000 {
		p.WriteByte('(')
		for j := i; j < min(i+1000, len(keys)); j++ {
			p.value(keys[j])
			p.value(vals[j])
		}
		p.WriteByte('u')
	}
	p.WriteByte('.')
	return p.Bytes()
}

// torchZip wraps a pickle into a torch.save-style zip archive.
func torchZip(t testing.TB, pkl []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, rec := range []struct {
		name string
		data []byte
	}{{"archive/data.pkl", pkl}, {"archive/version", []byte("3\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: rec.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(rec.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// synthLatency is the latency of synthetic architecture i on a device.
func synthLatency(dev, i int) float64 { return float64(dev+1) + float64(i)/1000 }

// synthRefs are the reference indices of the synthetic data.
var synthRefs = []int{11982, 431, 55, 9, 14451, 8636, 9881, 13479, 6196, 1462}

// writeSynthetic writes a complete synthetic data folder into a new
// temporary directory and returns it: architecture index i is the Arch of
// code (i*7) mod NumArchs (7 is coprime with 5), latency synthLatency.
func writeSynthetic(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	archs := allArchs()
	keys := make([]string, NumArchs)
	vals := make([]int, NumArchs)
	for i := range keys {
		keys[i] = archs[(i*7)%NumArchs].String()
		vals[i] = i
	}
	write := func(rel string, pkl []byte) {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, torchZip(t, pkl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(archIndexFile, pickleDict(keys, vals))
	refs := make([]any, len(synthRefs))
	for i, r := range synthRefs {
		refs[i] = r
	}
	write(refIndexFile, pickleList(refs))
	for d, dev := range Devices() {
		lat := make([]any, NumArchs)
		for i := range lat {
			lat[i] = synthLatency(d, i)
		}
		write(latencyFile(dev), pickleList(lat))
	}
	return dir
}
