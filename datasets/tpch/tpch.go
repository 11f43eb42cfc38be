// Package tpch reads Decima's Spark TPC-H job DAGs (hongzimao/decima-sim,
// folder spark_env/tpch: 22 queries × 7 input sizes, measured on a Spark
// cluster) in their upstream NumPy formats, and fetches them from the
// pinned revision with their SHA-256 (Fetch).
//
// Per query and size, three files:
//
//   - adj_mat_<q>.npy: float64 (n, n), 1 where stage j consumes stage i;
//   - task_duration_<q>.npy: an object array holding a pickled dict, stage
//     index → {'first_wave', 'rest_wave', 'fresh_durations'}, each a dict
//     executor count → list of task durations (ms);
//   - stage_id_to_node_idx_map_<q>.npy: Spark stage id → stage index (not
//     read: the simulator needs neither).
//
// Load keeps the dicts' order (decima-sim counts a stage's tasks from the
// first executor count its first-wave dict lists) and derives what
// decima-sim's load_job derives (Job's doc).
package tpch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Sizes are the input sizes, smallest first; Queries the number of
// queries (numbered 1…22).
var Sizes = []string{"2g", "5g", "10g", "20g", "50g", "80g", "100g"}

const Queries = 22

// DirName is the data folder's name under the data root.
const DirName = "tpch"

// Waves are task durations (ms) per executor count: Executors sorted
// ascending, Ms[i] the durations measured with Executors[i].
type Waves struct {
	Executors []int
	Ms        [][]float64
}

// Of returns the durations measured with e executors (nil if none).
func (w Waves) Of(e int) []float64 {
	if i, ok := slices.BinarySearch(w.Executors, e); ok {
		return w.Ms[i]
	}
	return nil
}

// Stage is one stage (a node of the DAG) of a job.
type Stage struct {
	// Tasks is decima-sim's task count: the first-wave plus rest-wave
	// durations measured with the first executor count the upstream
	// first-wave dict lists (FirstKey).
	Tasks    int
	FirstKey int
	// FirstWave, RestWave and Fresh are the measured durations as stored
	// upstream; FirstWaveClean is decima-sim's pre_process_task_duration:
	// the first wave without the fresh durations (each removed once), an
	// executor count left empty taking the nearest smaller count's list.
	FirstWave, RestWave, Fresh, FirstWaveClean Waves
	// MeanMs is the mean of every measured duration (first wave before
	// cleaning, rest wave, fresh): decima-sim's rough_duration.
	MeanMs float64
}

// Job is one query at one size.
type Job struct {
	Name   string // e.g. "tpch-10g-3"
	Size   string
	Query  int
	Stages []Stage
	// Children[i] and Parents[i] list the stages that consume stage i and
	// that stage i consumes, ascending.
	Children, Parents [][]int
}

// Load reads query q (1…Queries) at size (one of Sizes) from
// root/tpch/<size>/.
func Load(root, size string, q int) (*Job, error) {
	if !slices.Contains(Sizes, size) {
		return nil, fmt.Errorf("tpch: size %q: want one of %v", size, Sizes)
	}
	if q < 1 || q > Queries {
		return nil, fmt.Errorf("tpch: query %d: want 1…%d", q, Queries)
	}
	dir := filepath.Join(root, DirName, size)
	adjPath := filepath.Join(dir, "adj_mat_"+strconv.Itoa(q)+".npy")
	b, err := os.ReadFile(adjPath)
	if err != nil {
		return nil, fmt.Errorf("tpch: %w (fetch the data with 'cpntrain data fetch' or set CPNTRAIN_DATA)", err)
	}
	adj, n, err := ParseAdjacency(b)
	if err != nil {
		return nil, fmt.Errorf("tpch: %s: %w", adjPath, err)
	}
	durPath := filepath.Join(dir, "task_duration_"+strconv.Itoa(q)+".npy")
	if b, err = os.ReadFile(durPath); err != nil {
		return nil, fmt.Errorf("tpch: %w", err)
	}
	stages, err := ParseDurations(b)
	if err != nil {
		return nil, fmt.Errorf("tpch: %s: %w", durPath, err)
	}
	if len(stages) != n {
		return nil, fmt.Errorf("tpch: %s has %d stages, %s %d", durPath, len(stages), adjPath, n)
	}
	j := &Job{Name: "tpch-" + size + "-" + strconv.Itoa(q), Size: size, Query: q, Stages: stages,
		Children: make([][]int, n), Parents: make([][]int, n)}
	for i := range n {
		for k := range n {
			if adj[i*n+k] {
				j.Children[i] = append(j.Children[i], k)
				j.Parents[k] = append(j.Parents[k], i)
			}
		}
	}
	if cyc := j.cycle(); cyc >= 0 {
		return nil, fmt.Errorf("tpch: %s: the stage graph has a cycle through stage %d", adjPath, cyc)
	}
	return j, nil
}

// cycle returns a stage on a cycle, or −1.
func (j *Job) cycle() int {
	state := make([]int8, len(j.Stages)) // 0 new, 1 on the stack, 2 done
	var visit func(int) int
	visit = func(u int) int {
		state[u] = 1
		for _, v := range j.Children[u] {
			switch state[v] {
			case 1:
				return v
			case 0:
				if c := visit(v); c >= 0 {
					return c
				}
			}
		}
		state[u] = 2
		return -1
	}
	for u := range j.Stages {
		if state[u] == 0 {
			if c := visit(u); c >= 0 {
				return c
			}
		}
	}
	return -1
}

// ParseAdjacency reads an adj_mat file: a square float64 array of 0s and
// 1s, returned row-major as booleans with its side.
func ParseAdjacency(b []byte) ([]bool, int, error) {
	f, err := parseNPY(b)
	if err != nil {
		return nil, 0, err
	}
	shape := f.shape
	if f.descr != "<f8" || len(shape) != 2 || shape[0] != shape[1] || shape[0] < 1 || shape[0] > MaxStages {
		return nil, 0, fmt.Errorf("adjacency %s of shape %v: want little-endian float64 (<f8) of shape (n, n), 1 ≤ n ≤ %d", f.descr, shape, MaxStages)
	}
	n := shape[0]
	if len(f.data) != 8*n*n {
		return nil, 0, fmt.Errorf("adjacency of shape %v holds %d bytes, want %d", shape, len(f.data), 8*n*n)
	}
	out := make([]bool, n*n)
	for i := range out {
		x := math.Float64frombits(binary.LittleEndian.Uint64(f.data[8*i:]))
		r, c := i/n, i%n
		if f.fortran {
			r, c = c, r
		}
		switch x {
		case 0:
		case 1:
			out[r*n+c] = true
		default:
			return nil, 0, fmt.Errorf("adjacency entry (%d, %d) is %v: want 0 or 1", r, c, x)
		}
	}
	return out, n, nil
}

// MaxStages bounds a job's stages (the largest TPC-H query has 20) and
// MaxExecutors an executor count, against malformed files.
const (
	MaxStages    = 1000
	MaxExecutors = 100000
)

// ParseDurations reads a task_duration file: the pickled dict of stages.
func ParseDurations(b []byte) (stages []Stage, err error) {
	f, err := parseNPY(b)
	if err != nil {
		return nil, err
	}
	if f.descr != "|O" || len(f.shape) > 1 || len(f.shape) == 1 && f.shape[0] != 1 {
		return nil, fmt.Errorf("%s array of shape %v: want an object array (|O) holding one dict", f.descr, f.shape)
	}
	v, err := unpickle(f.data)
	if err != nil {
		return nil, err
	}
	// NumPy pickles the array itself: _reconstruct(ndarray, …) with the
	// state (version, shape, dtype, fortran, [items]).
	var d *pyDict
	if o, ok := v.(*pyObject); ok && o.global == "numpy.core.multiarray._reconstruct" {
		if st, ok := o.state.(pyTuple); ok && len(st) == 5 {
			if l, ok := st[4].(*pyList); ok && len(l.items) == 1 {
				d, _ = l.items[0].(*pyDict)
			}
		}
	}
	if d == nil {
		return nil, errors.New("the object array does not hold one dict")
	}
	n := len(d.keys)
	if n < 1 || n > MaxStages {
		return nil, fmt.Errorf("%d stages: want 1…%d", n, MaxStages)
	}
	stages = make([]Stage, n)
	seen := make([]bool, n)
	for k, key := range d.keys {
		i, ok := toInt(key)
		if !ok || i < 0 || i >= n || seen[i] {
			return nil, fmt.Errorf("stage key %v: want each of 0…%d once", key, n-1)
		}
		seen[i] = true
		sd, ok := d.vals[k].(*pyDict)
		if !ok {
			return nil, fmt.Errorf("stage %d: %T, want a dict", i, d.vals[k])
		}
		s := &stages[i]
		var first []int
		for _, f := range []struct {
			key string
			dst *Waves
		}{{"first_wave", &s.FirstWave}, {"rest_wave", &s.RestWave}, {"fresh_durations", &s.Fresh}} {
			v, ok := sd.get(f.key)
			if !ok {
				return nil, fmt.Errorf("stage %d has no %q", i, f.key)
			}
			order, err := waves(v, f.dst)
			if err != nil {
				return nil, fmt.Errorf("stage %d, %s: %w", i, f.key, err)
			}
			if f.key == "first_wave" {
				first = order
			}
		}
		if len(first) == 0 {
			return nil, fmt.Errorf("stage %d: an empty first wave", i)
		}
		s.FirstKey = first[0]
		s.Tasks = len(s.FirstWave.Of(s.FirstKey)) + len(s.RestWave.Of(s.FirstKey))
		if s.Tasks < 1 {
			return nil, fmt.Errorf("stage %d has no task", i)
		}
		s.FirstWaveClean = clean(s.FirstWave, s.Fresh)
		var sum float64
		var cnt int
		for _, w := range []Waves{s.FirstWave, s.RestWave, s.Fresh} {
			for _, l := range w.Ms {
				for _, x := range l {
					sum += x
					cnt++
				}
			}
		}
		s.MeanMs = sum / float64(cnt)
	}
	return stages, nil
}

// waves reads a dict executor count → list of durations into w (sorted
// by count) and returns the counts in the dict's order.
func waves(v any, w *Waves) ([]int, error) {
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("%T, want a dict", v)
	}
	var order []int
	type kv struct {
		e  int
		ms []float64
	}
	var all []kv
	for j, key := range d.keys {
		k, ok := toInt(key)
		if !ok || k < 1 || k > MaxExecutors {
			return nil, fmt.Errorf("executor count %v: want 1…%d", key, MaxExecutors)
		}
		if slices.Contains(order, k) {
			return nil, fmt.Errorf("executor count %d twice", k)
		}
		l, ok := d.vals[j].(*pyList)
		if !ok {
			return nil, fmt.Errorf("executor count %d: %T, want a list", k, d.vals[j])
		}
		ms := make([]float64, len(l.items))
		for i, x := range l.items {
			f, ok := toFloat(x)
			if !ok || !(f >= 0) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("executor count %d, duration %d: %v is not a finite duration ≥ 0", k, i, x)
			}
			ms[i] = f
		}
		order = append(order, k)
		all = append(all, kv{k, ms})
	}
	slices.SortFunc(all, func(a, b kv) int { return a.e - b.e })
	for _, x := range all {
		w.Executors, w.Ms = append(w.Executors, x.e), append(w.Ms, x.ms)
	}
	return order, nil
}

// clean is decima-sim's pre_process_task_duration for one stage: from
// each executor count's first wave remove the fresh durations (each
// fresh duration removes one equal first-wave duration), then give an
// executor count left with no duration the list of the nearest smaller
// count (in ascending order; the smallest keeps its empty list).
func clean(first, fresh Waves) Waves {
	out := Waves{Executors: slices.Clone(first.Executors), Ms: make([][]float64, len(first.Ms))}
	var last []float64
	for i, e := range first.Executors {
		count := map[float64]int{}
		for _, d := range fresh.Of(e) {
			count[d]++
		}
		var kept []float64
		for _, d := range first.Ms[i] {
			if count[d] > 0 {
				count[d]--
				continue
			}
			kept = append(kept, d)
		}
		if len(kept) == 0 {
			kept = last
		}
		out.Ms[i], last = kept, kept
	}
	return out
}

func toInt(v any) (int, bool) {
	x, ok := v.(int64)
	return int(x), ok && x >= math.MinInt32 && x <= math.MaxInt32
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// LoadAll reads every query at every size in sizes (all of Sizes when
// empty), sizes outer, queries 1…22 inner.
func LoadAll(root string, sizes []string) ([]*Job, error) {
	if len(sizes) == 0 {
		sizes = Sizes
	}
	var out []*Job
	var errs []error
	for _, s := range sizes {
		for q := 1; q <= Queries; q++ {
			j, err := Load(root, s, q)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, j)
		}
	}
	return out, errors.Join(errs...)
}
