package tsftrun

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// Protocol constants (HELP's, as the issue and the TSFT paper use them).
const (
	// TrainPool is the number of architectures (indices 0…899) from which
	// labelled samples of a new device are drawn and over which each
	// device's latency is min-max normalised.
	TrainPool = 900
	// Low and High bound the normalised latency of the training pool.
	Low, High = 0.05, 0.95
)

// Split names the devices of an experiment.
type Split struct {
	Train, Valid, Test []string
}

// DefaultSplit returns our split: HELP's six unseen test devices; the
// titan_rtx family kept out of training (titan_rtx_1 and titan_rtx_32 are
// the same GPU as the test device titan_rtx_256 at other batch sizes and
// would leak it); titanx_32 held out as the validation device used to choose
// hyper-parameters; the other 18 devices for pretraining.
func DefaultSplit() Split {
	test := []string{"titan_rtx_256", "gold_6226", "fpga", "raspi4", "eyeriss", "pixel2"}
	valid := []string{"titanx_32"}
	var train []string
	for _, d := range nasbench201.Devices() {
		if strings.HasPrefix(d, "titan_rtx") || slices.Contains(valid, d) || slices.Contains(test, d) {
			continue
		}
		train = append(train, d)
	}
	return Split{Train: train, Valid: valid, Test: test}
}

// Env is the loaded data of an experiment: features of every cell and the
// normalised latencies and embeddings of every loaded device.
type Env struct {
	Data     *nasbench201.Data
	Features *tsft.Features
	Devices  map[string]Device
	// Raw holds the unnormalised latencies (ms) by device.
	Raw map[string][]float32
}

// NewEnv prepares the data: per device, latencies min-max normalised over
// the training pool to [Low, High], and the device embedding (the normalised
// latencies of the reference architectures).
func NewEnv(d *nasbench201.Data) (*Env, error) {
	cells := make([]tsft.Cell, len(d.Archs))
	for i, a := range d.Archs {
		cells[i] = tsft.Cell(a)
	}
	f, err := tsft.NewFeatures(cells)
	if err != nil {
		return nil, err
	}
	if err := f.SetPrior(d.RefIndices); err != nil {
		return nil, err
	}
	e := &Env{Data: d, Features: f, Devices: map[string]Device{}, Raw: map[string][]float32{}}
	for name, lat := range d.Latency {
		lo, hi := nasbench201.MinMax(lat, nasbench201.Pool(0, TrainPool))
		if !(hi > lo) {
			return nil, fmt.Errorf("tsft: device %s has constant latency over the training pool", name)
		}
		y := nasbench201.Normalize(lat, lo, hi, High-Low)
		emb := make([]float32, len(d.RefIndices))
		for i, r := range d.RefIndices {
			emb[i] = y[r]
		}
		e.Devices[name] = Device{Name: name, Y: y, Emb: emb}
		e.Raw[name] = lat
	}
	return e, nil
}

// QuantFloor returns, for a device whose latencies are all whole
// milliseconds (the phones), the MSE of normalised latency that the
// rounding alone costs a perfect predictor: q²/12 for a rounding step of
// q = (High−Low)/(max−min over the training pool) in normalised units,
// the variance of a uniform rounding error. ok is false for other devices.
func (e *Env) QuantFloor(device string) (floor float64, ok bool) {
	lat, found := e.Raw[device]
	if !found {
		return 0, false
	}
	for _, v := range lat {
		if v != float32(math.Round(float64(v))) {
			return 0, false
		}
	}
	lo, hi := nasbench201.MinMax(lat, nasbench201.Pool(0, TrainPool))
	q := (High - Low) / float64(hi-lo)
	return q * q / 12, true
}

// Device returns a loaded device or an error listing the loaded ones.
func (e *Env) Device(name string) (Device, error) {
	d, ok := e.Devices[name]
	if !ok {
		var names []string
		for n := range e.Devices {
			names = append(names, n)
		}
		slices.Sort(names)
		return Device{}, fmt.Errorf("tsft: unknown device %q (known: %s)", name, strings.Join(names, ", "))
	}
	return d, nil
}

// Task is one adaptation problem: the measured (labelled) cells of a device
// and the rest.
type Task struct {
	Device     Device
	Labelled   []int     // the reference architectures, then shots−10 pool cells
	Y          []float32 // their normalised latencies
	Query      []int     // indices ≥ TrainPool not measured: where metrics are taken
	Unlabelled []int     // every cell not measured (pseudo-label candidates)
}

// DeadShotMin is the number of pool cells in a budget from which one of
// them is a dead cell (no path from input to output): 21 of the 900 pool
// cells are dead (and none of the 10 reference cells), so a random draw of
// 10 would measure one only about one time in five.
const DeadShotMin = 10

// NewTask draws the labelled samples of a shots-sample budget: the
// reference architectures count toward it (they are measured to build the
// embedding), and shots − len(refs) further cells come from the training
// pool, at random except that when they are at least DeadShotMin, one of
// them is a dead cell. shots must be at least the number of reference
// architectures.
func (e *Env) NewTask(device string, shots int, rng *rand.Rand) (Task, error) {
	d, err := e.Device(device)
	if err != nil {
		return Task{}, err
	}
	refs := e.Data.RefIndices
	if shots < len(refs) || shots > TrainPool {
		return Task{}, fmt.Errorf("tsft: %d shots: the budget must cover the %d reference architectures and stay within the %d-cell training pool", shots, len(refs), TrainPool)
	}
	measured := make(map[int]bool, shots)
	lab := append([]int(nil), refs...)
	for _, r := range refs {
		measured[r] = true
	}
	var pool []int
	for i := 0; i < TrainPool; i++ {
		if !measured[i] {
			pool = append(pool, i)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	draw := pool[:shots-len(refs)]
	if len(draw) >= DeadShotMin {
		// Measure one dead cell (the first in the shuffled pool): whether
		// the device's runtime drops dead computation is a property of the
		// device that only a measurement shows (see Select's DeadRule).
		if k := slices.IndexFunc(pool, func(i int) bool { return !e.Data.Archs[i].Connected() }); k >= len(draw) {
			draw[len(draw)-1], pool[k] = pool[k], draw[len(draw)-1]
		}
	}
	for _, i := range draw {
		lab = append(lab, i)
		measured[i] = true
	}
	t := Task{Device: d, Labelled: lab}
	for _, i := range lab {
		t.Y = append(t.Y, d.Y[i])
	}
	for i := range d.Y {
		if measured[i] {
			continue
		}
		t.Unlabelled = append(t.Unlabelled, i)
		if i >= TrainPool {
			t.Query = append(t.Query, i)
		}
	}
	return t, nil
}

// Score returns the MSE (normalised latency) and Spearman ρ of pred (one
// value per t.Query cell).
func (t Task) Score(pred []float32) (mse, rho float64) {
	y := make([]float32, len(t.Query))
	for i, q := range t.Query {
		y[i] = t.Device.Y[q]
	}
	return metrics.MSE(pred, y), metrics.Spearman(pred, y)
}

// TrainDevices returns the prepared training devices of s.
func (e *Env) TrainDevices(s Split) ([]Device, error) {
	var out []Device
	for _, n := range s.Train {
		d, err := e.Device(n)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
