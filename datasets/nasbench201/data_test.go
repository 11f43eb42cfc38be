package nasbench201

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// TestLoadKnownValues checks values read once with Python 3 (zipfile +
// pickle, no torch):
//
//	z = zipfile.ZipFile("latency/pixel2.pt"); l = pickle.loads(z.read("archive/data.pkl"))
//
// giving pixel2 [9, 17, 16, …, 7] (ints) and 1080ti_1
// [10.75437068939209, 12.900347709655762, 11.682157516479492, …,
// 12.480239868164062]; str_arch2idx.pt maps the strings below to 0, 1,
// 1462 and 1651; hardware_embedding_index.pt is the list below.
func TestLoadKnownValues(t *testing.T) {
	t.Parallel()
	d, err := Load(dataDir(t), "pixel2", "1080ti_1")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Devices(); !slices.Equal(got, []string{"1080ti_1", "pixel2"}) {
		t.Fatalf("Devices() = %v", got)
	}
	for _, tc := range []struct {
		dev  string
		i    int
		want float32
	}{
		{"pixel2", 0, 9}, {"pixel2", 1, 17}, {"pixel2", 2, 16}, {"pixel2", NumArchs - 1, 7},
		{"1080ti_1", 0, float32(10.75437068939209)},
		{"1080ti_1", 1, float32(12.900347709655762)},
		{"1080ti_1", 2, float32(11.682157516479492)},
		{"1080ti_1", NumArchs - 1, float32(12.480239868164062)},
	} {
		if got := d.Latency[tc.dev][tc.i]; got != tc.want {
			t.Errorf("Latency[%s][%d] = %v, want %v", tc.dev, tc.i, got, tc.want)
		}
	}
	if want := []int{11982, 431, 55, 9, 14451, 8636, 9881, 13479, 6196, 1462}; !slices.Equal(d.RefIndices, want) {
		t.Errorf("RefIndices = %v, want %v", d.RefIndices, want)
	}
	for _, tc := range []struct {
		s string
		i int
	}{
		{"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", 0},
		{exampleArch, 1},
		{"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 1462},
		{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 1651},
	} {
		if got := d.Archs[tc.i].String(); got != tc.s {
			t.Errorf("Archs[%d] = %s, want %s", tc.i, got, tc.s)
		}
		if got, err := d.IndexOfString(tc.s); err != nil || got != tc.i {
			t.Errorf("IndexOfString(%s) = %d, %v; want %d", tc.s, got, err, tc.i)
		}
	}
}

func TestLoadAll(t *testing.T) {
	dir := dataDir(t)
	start := time.Now()
	d, err := Load(dir)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// Speed is measured by BenchmarkLoad, not asserted here: a timed test
	// fails under load (it did under -race with the other core busy).
	t.Logf("Load of all %d devices: %v", len(d.Latency), elapsed)
	if !slices.Equal(d.Devices(), Devices()) || len(Devices()) != 27 {
		t.Fatalf("devices %v", d.Devices())
	}
	for dev, lat := range d.Latency {
		lo, hi := MinMax(lat, nil)
		if len(lat) != NumArchs || !(lo > 0) || math.IsInf(float64(hi), 0) {
			t.Errorf("%s: %d latencies in [%v, %v]", dev, len(lat), lo, hi)
		}
	}
	for i, a := range d.Archs {
		if j, ok := d.IndexOf(a); !ok || j != i {
			t.Fatalf("IndexOf(Archs[%d]) = %d, %v", i, j, ok)
		}
	}
	// A Data not made by Load falls back to a scan.
	bare := &Data{Archs: d.Archs}
	if j, ok := bare.IndexOf(d.Archs[77]); !ok || j != 77 {
		t.Errorf("bare IndexOf = %d, %v", j, ok)
	}
}

// TestPhonesAreIntegers documents the data: the phones other than pixel3
// report whole milliseconds.
func TestPhonesAreIntegers(t *testing.T) {
	d := loadAll(t)
	for _, dev := range []string{"essential_ph_1", "pixel2", "samsung_a50", "samsung_s7"} {
		for i, x := range d.Latency[dev] {
			if x != float32(math.Round(float64(x))) {
				t.Fatalf("%s[%d] = %v is not whole", dev, i, x)
			}
		}
	}
}

// TestAgainstGopickle cross-checks the decoder with gopickle (an
// independent implementation) on every file of the real data.
func TestAgainstGopickle(t *testing.T) {
	d := loadAll(t)
	for _, dev := range Devices() {
		v, err := pytorch.Load(filepath.Join(d.Dir, filepath.FromSlash(latencyFile(dev))))
		if err != nil {
			t.Fatal(err)
		}
		l := v.(*types.List)
		if l.Len() != NumArchs {
			t.Fatalf("%s: gopickle reads %d values", dev, l.Len())
		}
		for i := range NumArchs {
			var x float64
			switch y := l.Get(i).(type) {
			case int:
				x = float64(y)
			case float64:
				x = y
			default:
				t.Fatalf("%s[%d]: gopickle gives %T", dev, i, y)
			}
			if float32(x) != d.Latency[dev][i] {
				t.Fatalf("%s[%d]: gopickle %v, ours %v", dev, i, x, d.Latency[dev][i])
			}
		}
	}
	v, err := pytorch.Load(filepath.Join(d.Dir, refIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range *v.(*types.List) {
		if x.(int) != d.RefIndices[i] {
			t.Fatalf("ref %d: gopickle %v, ours %v", i, x, d.RefIndices[i])
		}
	}
	if testing.Short() {
		t.Skip("-short: skipping gopickle on str_arch2idx.pt (3 s)")
	}
	v, err = pytorch.Load(filepath.Join(d.Dir, archIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	dict := v.(*types.Dict)
	if dict.Len() != NumArchs {
		t.Fatalf("gopickle reads %d architectures", dict.Len())
	}
	for _, e := range *dict {
		if got := d.Archs[e.Value.(int)].String(); got != e.Key.(string) {
			t.Fatalf("index %d: gopickle %s, ours %s", e.Value, e.Key, got)
		}
	}
}

// TestDataNotes checks the notes on the data in the package documentation.
func TestDataNotes(t *testing.T) {
	d := loadAll(t)
	// Disconnected cells measured faster than every connected one.
	for dev, want := range map[string]int{"pixel3": 283, "raspi4": 289, "pixel2": 0, "titan_rtx_256": 0} {
		lat := d.Latency[dev]
		minConn := float32(math.Inf(1))
		for i, a := range d.Archs {
			if a.Connected() {
				minConn = min(minConn, lat[i])
			}
		}
		n := 0
		for i, a := range d.Archs {
			if !a.Connected() && lat[i] < minConn {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: %d disconnected cells below the fastest connected one (%v ms), want %d", dev, n, minConn, want)
		}
	}
	// eyeriss and fpga depend only on the counts of conv and pool edges.
	for _, dev := range []string{"eyeriss", "fpga"} {
		byCounts := map[[NumOps]int]float32{}
		for i, a := range d.Archs {
			var c [NumOps]int
			for _, op := range a {
				c[op]++
			}
			c[OpNone], c[OpSkip] = 0, 0
			if x, ok := byCounts[c]; ok && x != d.Latency[dev][i] {
				t.Fatalf("%s: cells with counts %v have latencies %v and %v", dev, c, x, d.Latency[dev][i])
			}
			byCounts[c] = d.Latency[dev][i]
		}
		if len(byCounts) != 84 {
			t.Errorf("%s: %d count groups", dev, len(byCounts))
		}
	}
}

func TestLoadSynthetic(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	archs := allArchs()
	for i, a := range d.Archs {
		if a != archs[(i*7)%NumArchs] {
			t.Fatalf("Archs[%d] = %v", i, a)
		}
	}
	for k, dev := range Devices() {
		for _, i := range []int{0, 1, 5000, NumArchs - 1} {
			if got, want := d.Latency[dev][i], float32(synthLatency(k, i)); got != want {
				t.Fatalf("%s[%d] = %v, want %v", dev, i, got, want)
			}
		}
	}
	if !slices.Equal(d.RefIndices, synthRefs) || d.Dir != dir {
		t.Fatalf("RefIndices %v, Dir %q", d.RefIndices, d.Dir)
	}
	d, err = Load(dir, "fpga", "fpga")
	if err != nil || !slices.Equal(d.Devices(), []string{"fpga"}) {
		t.Fatalf("Load of fpga twice: %v, %v", d.Devices(), err)
	}
}

func TestLoadUnknownDevice(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir(), "pixel2", "pixel9")
	if err == nil || !strings.Contains(err.Error(), `unknown device "pixel9"`) || !strings.Contains(err.Error(), "1080ti_1, 1080ti_256") || !strings.Contains(err.Error(), "titanxp_32") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nowhere")
	_, err := Load(dir, "pixel2")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(msg, filepath.Join(dir, archIndexFile)) ||
		!strings.Contains(msg, "cpntrain data fetch nasbench201") || !strings.Contains(msg, "CPNTRAIN_DATA") {
		t.Fatalf("err = %v", err)
	}
	// Only a latency file missing: the error names it.
	dir = writeSynthetic(t)
	missing := filepath.Join(dir, "latency", "raspi4.pt")
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, "pixel2", "raspi4"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v", err)
	}
}

// TestLoadMalformed replaces one file of a synthetic folder by a broken one
// and checks that the error names the file and the problem.
func TestLoadMalformed(t *testing.T) {
	t.Parallel()
	floats := func(n int, f func(i int) any) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = f(i)
		}
		return l
	}
	good := func(i int) any { return 1.0 + float64(i) }
	archs := allArchs()
	keys := make([]string, NumArchs)
	vals := make([]int, NumArchs)
	for i := range keys {
		keys[i], vals[i] = archs[i].String(), i
	}
	dupIdx := slices.Clone(vals)
	dupIdx[5] = 4
	dupKey := slices.Clone(keys)
	dupKey[5] = keys[4]
	badKey := slices.Clone(keys)
	badKey[3] = "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"
	for _, tc := range []struct {
		name, rel string
		data      []byte // nil: pickle wrapped into a zip
		pkl       []byte
		want      string
	}{
		{"short", "latency/pixel2.pt", nil, pickleList(floats(NumArchs-1, good)), "holds 15624 latencies, want 15625"},
		{"long", "latency/pixel2.pt", nil, pickleList(floats(NumArchs+1, good)), "holds 15626 latencies, want 15625"},
		{"NaN", "latency/pixel2.pt", nil, pickleList(floats(NumArchs, func(i int) any {
			if i == 42 {
				return math.NaN()
			}
			return good(i)
		})), "latency 42 is NaN"},
		{"negative", "latency/pixel2.pt", nil, pickleList(floats(NumArchs, func(i int) any {
			if i == 7 {
				return -1.5
			}
			return good(i)
		})), "latency 7 is -1.5"},
		{"infinite", "latency/pixel2.pt", nil, pickleList(floats(NumArchs, func(i int) any {
			if i == 8 {
				return 1e300 // overflows float32
			}
			return good(i)
		})), "latency 8 is 1e+300"},
		{"string", "latency/pixel2.pt", nil, pickleList(floats(NumArchs, func(i int) any {
			if i == 9 {
				return "x"
			}
			return good(i)
		})), "latency 9 is a str"},
		{"dict", "latency/pixel2.pt", nil, pickleDict(keys, vals), "holds a dict, want a list"},
		{"not zip", "latency/pixel2.pt", []byte("hello, world"), nil, "not a PyTorch zip archive"},
		{"legacy", "latency/pixel2.pt", pickleList(floats(3, good)), nil, "legacy (non-zip) torch.save format"},
		{"truncated zip", "latency/pixel2.pt", torchZip(t, pickleList(floats(NumArchs, good)))[:5000], nil, "not a PyTorch zip archive"},
		{"truncated pickle", "latency/pixel2.pt", nil, pickleList(floats(NumArchs, good))[:5000], "truncated"},
		{"dup index", archIndexFile, nil, pickleDict(keys, dupIdx), "index 4 is given to two architectures"},
		{"dup arch", archIndexFile, nil, pickleDict(dupKey, vals), "appears twice"},
		{"bad arch", archIndexFile, nil, pickleDict(badKey, vals), `unknown operation "conv"`},
		{"few archs", archIndexFile, nil, pickleDict(keys[:100], vals[:100]), "holds 100 architectures, want 15625"},
		{"refs range", refIndexFile, nil, pickleList([]any{1, 2, 3, 4, 5, 6, 7, 8, 9, 20000}), "element 9 is 20000"},
		{"refs count", refIndexFile, nil, pickleList([]any{1, 2, 3}), "holds 3 indices, want 10"},
		{"refs dup", refIndexFile, nil, pickleList([]any{1, 2, 3, 4, 5, 6, 7, 8, 9, 1}), "index 1 appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeSynthetic(t)
			data := tc.data
			if data == nil {
				data = torchZip(t, tc.pkl)
			}
			path := filepath.Join(dir, filepath.FromSlash(tc.rel))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir, "pixel2")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "nasbench201: "+path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant the path %s and %q", err, path, tc.want)
			}
		})
	}
}

// BenchmarkLoad reads and decodes all 27 devices' latency files
// (go test -run='^$' -bench=Load ./datasets/nasbench201).
func BenchmarkLoad(b *testing.B) {
	dir := dataDir(b)
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
