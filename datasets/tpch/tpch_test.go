package tpch

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
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

// dataRoot returns $CPNTRAIN_DATA or skips the test.
func dataRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA is not set: skipping this test on the real TPC-H files (set it to the reference datasets folder, or fetch them with 'cpntrain data fetch tpch')")
	}
	return root
}

// TestLoadMatchesNumPy: values read with NumPy by
// scripts/reference/tpch_reference.py (decima-sim's load_job quantities:
// the first executor count of the first-wave dict, the task count, the
// mean of all durations, the cleaned first waves' lengths and sums).
func TestLoadMatchesNumPy(t *testing.T) {
	root := dataRoot(t)
	type stage struct {
		i, firstKey, tasks int
		rough              float64
		clean              [3][3]int // (executors, durations, sum) for the three smallest counts
	}
	for _, c := range []struct {
		size   string
		q      int
		stages int
		edges  [][2]int // the first six, row-major
		nEdges int
		check  []stage
	}{
		{"2g", 1, 4, [][2]int{{0, 1}, {1, 2}, {2, 3}}, 3, []stage{
			{0, 2, 12, 4244.8375634518, [3][3]int{{2, 0, 0}, {5, 0, 0}, {10, 0, 0}}},
			{3, 2, 5, 230.3333333333, [3][3]int{{2, 2, 380}, {5, 5, 961}, {10, 5, 982}}}}},
		{"100g", 9, 14, [][2]int{{0, 5}, {1, 5}, {2, 4}, {3, 4}, {4, 6}, {5, 6}}, 13, []stage{
			{0, 2, 2, 153.3448275862, [3][3]int{{2, 0, 0}, {5, 0, 0}, {10, 0, 0}}},
			{13, 2, 176, 81.8453282828, [3][3]int{{2, 2, 364}, {5, 5, 881}, {10, 10, 1674}}}}},
		{"50g", 22, 8, [][2]int{{0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 4}, {4, 5}}, 8, []stage{
			{0, 2, 10, 3759.2994011976, [3][3]int{{2, 0, 0}, {5, 0, 0}, {10, 0, 0}}},
			{7, 2, 8, 157.0972222222, [3][3]int{{2, 2, 327}, {5, 5, 903}, {10, 8, 1169}}}}},
	} {
		j, err := Load(root, c.size, c.q)
		if err != nil {
			t.Fatal(err)
		}
		var edges [][2]int
		for i, ch := range j.Children {
			for _, k := range ch {
				edges = append(edges, [2]int{i, k})
			}
		}
		if len(j.Stages) != c.stages || len(edges) != c.nEdges || !slices.Equal(edges[:len(c.edges)], c.edges) {
			t.Fatalf("%s: %d stages, edges %v", j.Name, len(j.Stages), edges)
		}
		for _, want := range c.check {
			s := j.Stages[want.i]
			if s.FirstKey != want.firstKey || s.Tasks != want.tasks || math.Abs(s.MeanMs-want.rough) > 1e-9 {
				t.Errorf("%s stage %d: first key %d, %d tasks, mean %.10f; want %d, %d, %.10f", j.Name, want.i, s.FirstKey, s.Tasks, s.MeanMs, want.firstKey, want.tasks, want.rough)
			}
			for k, cl := range want.clean {
				l := s.FirstWaveClean.Of(cl[0])
				sum := 0.0
				for _, x := range l {
					sum += x
				}
				if s.FirstWaveClean.Executors[k] != cl[0] || len(l) != cl[1] || sum != float64(cl[2]) {
					t.Errorf("%s stage %d: clean first wave at %d executors: %d durations summing to %v, want %d, %d", j.Name, want.i, cl[0], len(l), sum, cl[1], cl[2])
				}
			}
		}
		// Parents mirror children.
		for i, ps := range j.Parents {
			for _, p := range ps {
				if !slices.Contains(j.Children[p], i) {
					t.Errorf("%s: %d is a parent of %d but not the reverse", j.Name, p, i)
				}
			}
		}
	}
	// The first wave of 2g query 1, stage 0, at 2 executors, as NumPy
	// prints it (docs/ECOSYSTEM.md).
	j, _ := Load(root, "2g", 1)
	if got := j.Stages[0].FirstWave.Of(2); !slices.Equal(got, []float64{4371, 4368}) {
		t.Errorf("first wave at 2 executors %v, want [4371 4368]", got)
	}
}

// TestLoadAll: all 154 jobs load; none has more than 20 stages.
func TestLoadAll(t *testing.T) {
	jobs, err := LoadAll(dataRoot(t), nil)
	if err != nil || len(jobs) != len(Sizes)*Queries {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if len(j.Stages) > 20 {
			t.Errorf("%s has %d stages", j.Name, len(j.Stages))
		}
	}
}

// TestCleanByHand: first waves {2: [5 5 7], 5: [3], 10: [4]} and fresh
// durations {2: [5], 5: [3]}: one 5 is removed at 2 executors ([5 7]); 5
// executors lose their only duration and take 2's list; 10 keep [4].
func TestCleanByHand(t *testing.T) {
	first := Waves{Executors: []int{2, 5, 10}, Ms: [][]float64{{5, 5, 7}, {3}, {4}}}
	fresh := Waves{Executors: []int{2, 5}, Ms: [][]float64{{5}, {3}}}
	got := clean(first, fresh)
	want := [][]float64{{5, 7}, {5, 7}, {4}}
	for i := range want {
		if !slices.Equal(got.Ms[i], want[i]) {
			t.Fatalf("clean = %v, want %v", got.Ms, want)
		}
	}
}

// npyBytes builds a version-1.0 .npy file: header dict then data.
func npyBytes(descr string, shape []int, data []byte) []byte {
	sh := make([]string, len(shape))
	for i, v := range shape {
		sh[i] = strconv.Itoa(v)
	}
	shapeStr := "(" + strings.Join(sh, ", ")
	if len(shape) == 1 {
		shapeStr += ","
	}
	shapeStr += ")"
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeStr)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func float64s(v ...float64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

// TestParseAdjacency: a hand-built chain, and the errors.
func TestParseAdjacency(t *testing.T) {
	adj, n, err := ParseAdjacency(npyBytes("<f8", []int{2, 2}, float64s(0, 1, 0, 0)))
	if err != nil || n != 2 || !slices.Equal(adj, []bool{false, true, false, false}) {
		t.Fatalf("%v %d %v", adj, n, err)
	}
	for name, b := range map[string][]byte{
		"not square": npyBytes("<f8", []int{2, 3}, float64s(0, 0, 0, 0, 0, 0)),
		"a 2":        npyBytes("<f8", []int{1, 1}, float64s(2)),
		"a NaN":      npyBytes("<f8", []int{1, 1}, float64s(math.NaN())),
		"truncated":  npyBytes("<f8", []int{2, 2}, float64s(0, 1)),
		"not npy":    []byte("hello"),
		"empty":      nil,
	} {
		if _, _, err := ParseAdjacency(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestLoadErrors: a size or query out of range, a missing folder, and a
// cycle, each named.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		size string
		q    int
		want string
	}{{"3g", 1, `size "3g"`}, {"2g", 23, "query 23"}, {"2g", 1, "cpntrain data fetch"}} {
		if _, err := Load(dir, c.size, c.q); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s, %d): %v, want %q", c.size, c.q, err, c.want)
		}
	}
	root := dataRoot(t)
	d := filepath.Join(dir, DirName, "2g")
	os.MkdirAll(d, 0o755)
	dur, err := os.ReadFile(filepath.Join(root, DirName, "2g", "task_duration_1.npy")) // 4 stages
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "task_duration_1.npy"), dur, 0o644)
	cyc := make([]float64, 16)
	cyc[0*4+1], cyc[1*4+2], cyc[2*4+0] = 1, 1, 1
	os.WriteFile(filepath.Join(d, "adj_mat_1.npy"), npyBytes("<f8", []int{4, 4}, float64s(cyc...)), 0o644)
	if _, err := Load(dir, "2g", 1); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cyclic graph: %v", err)
	}
	os.WriteFile(filepath.Join(d, "adj_mat_1.npy"), npyBytes("<f8", []int{3, 3}, float64s(make([]float64, 9)...)), 0o644)
	if _, err := Load(dir, "2g", 1); err == nil || !strings.Contains(err.Error(), "4 stages") {
		t.Errorf("3 × 3 adjacency for 4 stages: %v", err)
	}
}

// FuzzParseDurations: no input panics; what parses is consistent.
func FuzzParseDurations(f *testing.F) {
	if root := os.Getenv("CPNTRAIN_DATA"); root != "" {
		for _, p := range []string{"2g/task_duration_1.npy", "5g/task_duration_2.npy"} {
			if b, err := os.ReadFile(filepath.Join(root, DirName, p)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add(npyBytes("<f8", []int{1, 1}, float64s(1)))
	f.Add([]byte("\x93NUMPY\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		stages, err := ParseDurations(b)
		if err != nil {
			return
		}
		for i, s := range stages {
			if s.Tasks < 1 || len(s.FirstWave.Executors) == 0 || !(s.MeanMs >= 0) {
				t.Fatalf("stage %d: %+v", i, s)
			}
		}
	})
}

// FuzzParseAdjacency: no input panics; what parses is n × n.
func FuzzParseAdjacency(f *testing.F) {
	f.Add(npyBytes("<f8", []int{2, 2}, float64s(0, 1, 0, 0)))
	f.Add(npyBytes("<i8", []int{1, 1}, float64s(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		adj, n, err := ParseAdjacency(b)
		if err == nil && len(adj) != n*n {
			t.Fatalf("%d entries for n = %d", len(adj), n)
		}
	})
}

// TestFetchThenLoad: Fetch from a local server laid out like
// raw.githubusercontent.com gets every file, which then loads; a second
// fetch downloads nothing; a server with one altered file fails naming
// it.
func TestFetchThenLoad(t *testing.T) {
	root := dataRoot(t)
	var hits atomic.Int64
	var alter atomic.Value
	alter.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		rel, ok := strings.CutPrefix(r.URL.Path, "/"+remote)
		if !ok || !filepath.IsLocal(filepath.FromSlash(rel)) {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(root, DirName, filepath.FromSlash(rel)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if rel == alter.Load().(string) {
			b = slices.Clone(b)
			b[len(b)-1] ^= 1
		}
		w.Write(b)
	}))
	defer srv.Close()
	dest := t.TempDir()
	if err := Fetch(context.Background(), srv.URL, dest, nil); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != int64(len(files)) {
		t.Errorf("%d requests for %d files", hits.Load(), len(files))
	}
	if j, err := Load(dest, "100g", 9); err != nil || len(j.Stages) != 14 {
		t.Fatalf("load after fetch: %v", err)
	}
	hits.Store(0)
	if err := Fetch(context.Background(), srv.URL, dest, nil); err != nil || hits.Load() != 0 {
		t.Errorf("second fetch: %d requests, %v", hits.Load(), err)
	}
	alter.Store("5g/adj_mat_3.npy")
	if err := Fetch(context.Background(), srv.URL, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "adj_mat_3.npy") {
		t.Errorf("altered file: %v", err)
	}
}
