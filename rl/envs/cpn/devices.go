package cpn

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
)

// Class is a compute device class.
type Class int

// Device classes.
const (
	CPU Class = iota
	GPU
	Other
	numClasses
)

// NumClasses is the number of device classes.
const NumClasses = int(numClasses)

func (c Class) String() string {
	switch c {
	case CPU:
		return "cpu"
	case GPU:
		return "gpu"
	case Other:
		return "other"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Device models by class, named as the HELP latency files. GPUs have
// measurements at batch sizes 1, 32 and 256 (files <model>_1, _32, _256);
// the others one latency per inference.
var (
	cpuModels   = []string{"gold_6226", "gold_6240", "silver_4114", "silver_4210r"}
	gpuModels   = []string{"1080ti", "2080ti", "titan_rtx", "titanx", "titanxp"}
	otherModels = []string{"fpga", "eyeriss", "raspi4"}
	gpuBatches  = []int{1, 32, 256}
)

// LatencyDevices lists the HELP devices (latency files) the simulator
// reads: the CPUs, every GPU at batch sizes 1, 32 and 256, and the others.
func LatencyDevices() []string { return latencyDevices() }

// latencyDevices lists the HELP devices the simulator reads.
func latencyDevices() []string {
	var d []string
	d = append(d, cpuModels...)
	for _, g := range gpuModels {
		for _, b := range gpuBatches {
			d = append(d, fmt.Sprintf("%s_%d", g, b))
		}
	}
	return append(d, otherModels...)
}

// Latencies holds the measured NAS-Bench-201 latencies (ms) the simulator
// uses, by device model: one table for CPUs and others, one per batch size
// for GPUs.
type Latencies struct {
	per map[string][][]float32 // model → tables (GPU: batch 1, 32, 256)
}

// LoadLatencies reads the measured latencies from the NAS-Bench-201 folder
// dir (<data root>/nasbench201).
func LoadLatencies(dir string) (*Latencies, error) {
	d, err := nasbench201.Load(dir, latencyDevices()...)
	if err != nil {
		return nil, err
	}
	l := &Latencies{per: map[string][][]float32{}}
	for _, m := range cpuModels {
		l.per[m] = [][]float32{d.Latency[m]}
	}
	for _, m := range otherModels {
		l.per[m] = [][]float32{d.Latency[m]}
	}
	for _, g := range gpuModels {
		for _, b := range gpuBatches {
			l.per[g] = append(l.per[g], d.Latency[fmt.Sprintf("%s_%d", g, b)])
		}
	}
	return l, nil
}

// NewLatencies builds latency tables from one latency per architecture for
// each of LatencyDevices (by HELP device name, e.g. "titanx_32"), as
// LoadLatencies does from the files: the tables of predicted latencies a
// controller sees in place of the measured ones (Network.SetPredictions).
// A missing device, a table of the wrong length or a value that is not a
// finite positive number is an error.
func NewLatencies(byDevice map[string][]float32) (*Latencies, error) {
	for _, d := range latencyDevices() {
		t, ok := byDevice[d]
		if !ok {
			return nil, fmt.Errorf("cpn: no latencies for device %s", d)
		}
		if len(t) != NumArchs {
			return nil, fmt.Errorf("cpn: device %s has %d latencies, want %d", d, len(t), NumArchs)
		}
		for i, v := range t {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("cpn: device %s: latency of architecture %d is %v", d, i, v)
			}
		}
	}
	l := &Latencies{per: map[string][][]float32{}}
	for _, m := range cpuModels {
		l.per[m] = [][]float32{byDevice[m]}
	}
	for _, m := range otherModels {
		l.per[m] = [][]float32{byDevice[m]}
	}
	for _, g := range gpuModels {
		for _, b := range gpuBatches {
			l.per[g] = append(l.per[g], byDevice[fmt.Sprintf("%s_%d", g, b)])
		}
	}
	return l, nil
}

// NumArchs is the number of NAS-Bench-201 architectures.
const NumArchs = nasbench201.NumArchs

// compute returns the latency in ms of images inferences of architecture
// arch on model: for GPUs the fastest batching, min over b of
// ⌈images/b⌉ · latency at batch b; otherwise images · latency.
func (l *Latencies) compute(model string, arch, images int) float64 {
	return computeOn(l.per[model], arch, images)
}

// computeOn is compute on a model's tables (one, or one per GPU batch).
func computeOn(t [][]float32, arch, images int) float64 {
	if len(t) == 1 {
		return float64(images) * float64(t[0][arch])
	}
	best := math.Inf(1)
	for i, b := range gpuBatches {
		n := (images + b - 1) / b
		best = math.Min(best, float64(n)*float64(t[i][arch]))
	}
	return best
}
