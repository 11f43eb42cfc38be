package tsftrun

import (
	"math"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
)

// TestReadMeasurements on a 4-cell data set whose reference cells are 0
// and 1: the references come first whatever the file's order, the range
// is that of all measurements (2 to 10 ms), and the task's embedding is
// the references' normalised latencies: 4 ms ↦ 0.05 + 0.9·2/8 = 0.275,
// 10 ms ↦ 0.95.
func TestReadMeasurements(t *testing.T) {
	archs := make([]nasbench201.Arch, 5)
	for i := range archs {
		archs[i] = nasbench201.Arch{uint8(i % 5), 1, 2, 3, 4, 1}
	}
	d := &nasbench201.Data{Archs: archs, RefIndices: []int{0, 1}}
	csv := "# mine\narch,latency\n" + archs[3].String() + ",2\n" + archs[1].String() + ", 10\n\n" + archs[0].String() + ",4\n"
	m, err := ReadMeasurements(strings.NewReader(csv), "mine.csv", d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cells) != 3 || m.Cells[0] != 0 || m.Cells[1] != 1 || m.Cells[2] != 3 || m.Ms[0] != 4 || m.Ms[1] != 10 || m.Ms[2] != 2 {
		t.Fatalf("cells %v ms %v, want (0 1 3) (4 10 2)", m.Cells, m.Ms)
	}
	if mm := m.MsMap(); mm.Lo != 2 || mm.Hi != 10 {
		t.Fatalf("range %+v, want 2..10", mm)
	}
	task := m.task(2, len(archs))
	for i, w := range []float64{0.275, 0.95} {
		if math.Abs(float64(task.Device.Emb[i])-w) > 1e-6 {
			t.Fatalf("embedding %v, want (0.275, 0.95)", task.Device.Emb)
		}
	}
	if len(task.Unlabelled) != 2 || task.Unlabelled[0] != 2 || task.Unlabelled[1] != 4 || len(task.Query) != 0 || len(task.Y) != 3 {
		t.Fatalf("task %+v", task)
	}
	for body, want := range map[string]string{
		archs[0].String() + ",4\n":                              "missing:\n  " + archs[1].String(),
		archs[0].String() + ",4\n" + archs[1].String() + ",4\n": "every latency is 4 ms",
		archs[0].String() + ",4\n" + archs[0].String() + ",5\n": "line 2: architecture",
		archs[0].String() + ",NaN\n":                            "line 1: latency NaN ms must be positive",
		archs[0].String() + ",1e300\n":                          "line 1: latency 1e+300 ms",
		archs[0].String() + ",4\n" + "arch,latency\n":           `line 2: latency "latency" is not a number`,
		nasbench201.Arch{4, 4, 4, 4, 4, 4}.String() + ",1\n":    "line 1: nasbench201: architecture",
	} {
		if _, err := ReadMeasurements(strings.NewReader(body), "m.csv", d); err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "m.csv") {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
