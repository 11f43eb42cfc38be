package tsftrun

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
)

// MaxMeasurements bounds a measurements file (NAS-Bench-201 has 15,625
// cells).
const MaxMeasurements = nasbench201.NumArchs

// Measurements are a new device's measured latencies: the user's own
// device, not one of HELP's.
type Measurements struct {
	// Name names the device (the file's base name by default).
	Name string
	// Cells are NAS-Bench-201 cell indices, the NumRefs reference
	// architectures first; Ms their latencies in milliseconds.
	Cells []int
	Ms    []float32
}

// ReadMeasurements reads a CSV of "architecture string,latency in ms"
// lines (a header line whose second field is not a number, blank lines
// and lines starting with # are skipped) against the cells of d. Every
// reference architecture must be measured: they form the device's
// embedding. Errors name the file (name) and the line.
func ReadMeasurements(r io.Reader, name string, d *nasbench201.Data) (*Measurements, error) {
	m := &Measurements{Name: name}
	seen := map[int]int{}
	var cells []int
	var ms []float32
	started := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, ",")
		if len(f) != 2 {
			return nil, fmt.Errorf("%s, line %d: %d comma-separated fields, want 2 (architecture string, latency in ms)", name, line, len(f))
		}
		arch, lat := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		first := !started
		started = true
		v, err := strconv.ParseFloat(lat, 64)
		if err != nil {
			if _, aerr := nasbench201.ParseArch(arch); first && aerr != nil {
				continue // a header line
			}
			return nil, fmt.Errorf("%s, line %d: latency %q is not a number", name, line, lat)
		}
		if !(v > 0) || math.IsInf(v, 0) || v > 1e9 {
			return nil, fmt.Errorf("%s, line %d: latency %v ms must be positive and finite", name, line, v)
		}
		i, err := d.IndexOfString(arch)
		if err != nil {
			return nil, fmt.Errorf("%s, line %d: %w", name, line, err)
		}
		if prev, dup := seen[i]; dup {
			return nil, fmt.Errorf("%s, line %d: architecture %s measured again (first on line %d)", name, line, arch, prev)
		}
		if len(cells) == MaxMeasurements {
			return nil, fmt.Errorf("%s: more than %d measurements", name, MaxMeasurements)
		}
		seen[i] = line
		cells, ms = append(cells, i), append(ms, float32(v))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var missing []string
	for _, r := range d.RefIndices {
		k := slices.Index(cells, r)
		if k < 0 {
			missing = append(missing, d.Archs[r].String())
			continue
		}
		m.Cells, m.Ms = append(m.Cells, r), append(m.Ms, ms[k])
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: the %d reference architectures form the device's embedding and must all be measured; missing:\n  %s",
			name, len(d.RefIndices), strings.Join(missing, "\n  "))
	}
	for k, c := range cells {
		if !slices.Contains(d.RefIndices, c) {
			m.Cells, m.Ms = append(m.Cells, c), append(m.Ms, ms[k])
		}
	}
	if lo, hi := slices.Min(m.Ms), slices.Max(m.Ms); !(hi > lo) {
		return nil, fmt.Errorf("%s: every latency is %v ms: nothing to learn a ranking from", name, lo)
	}
	return m, nil
}

// MsMap returns the normalisation of the measurements: their own range
// (a new device has no training pool) mapped to [Low, High].
func (m *Measurements) MsMap() MsMap {
	return MsMap{Lo: slices.Min(m.Ms), Hi: slices.Max(m.Ms)}
}

// Normalised returns the measured latencies normalised by MsMap.
func (m *Measurements) Normalised() []float32 {
	mm := m.MsMap()
	return nasbench201.Normalize(m.Ms, mm.Lo, mm.Hi, High-Low)
}

// task is the adaptation problem of the measurements: every measured
// cell labelled (the references first), every other cell of the n
// unlabelled, no query cells (nothing is held out).
func (m *Measurements) task(refs, n int) Task {
	y := m.Normalised()
	t := Task{Device: Device{Name: m.Name, Emb: y[:refs]}, Labelled: m.Cells, Y: y}
	measured := make([]bool, n)
	for _, c := range m.Cells {
		measured[c] = true
	}
	for i := range n {
		if !measured[i] {
			t.Unlabelled = append(t.Unlabelled, i)
		}
	}
	return t
}
