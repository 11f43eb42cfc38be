// Package mecdqn is the Q-network of the offloading DQN (patent 004): two
// ReLU convolution layers over the devices and two fully connected layers,
// giving every pending task's two strategies (local, offload) a Q-value.
// Deciding by the largest allowed Q-value is the patent's greedy ordering:
// score every pending task's strategy, execute the best, update, repeat.
//
// The convolutions run along the device axis (kernel 3, zero padding);
// every row also carries the set's global state (the shares of tasks
// decided, offloaded in all and offloaded through the row's AP) and the
// cost model's view of its two strategies (Features), so a task's values
// see the sharing its decision would join. The fully connected layers act
// per device, so one network serves any number of devices. rl/dqn trains
// it through rl/agent's QFunction contract.
//
// Departure from the patent: its convolutions see neighbouring devices,
// but device order carries no meaning (a kernel of 3, twice, sees 5 of
// the D devices), while the right decision depends on all of them (how
// many will share the channel in the end). So the first fully connected
// layer also gets the mean and the maximum of the second convolution's
// output over the set (DeepSets pooling), and the rows carry cost-model
// features the patent's state does not name (they are functions of its
// state: the tasks, the devices' CPU and power, the decisions so far).
package mecdqn

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// Features per device row: the decision one-hot (undecided, local,
// offloaded); the task's input in Mbit/10, cycles in Gcycles, deadline in
// s, channel gain in dB/100 (log10 g / 10), battery ratio, latency
// preference, and the weights λ_t, λ_e; the shares of the set's tasks
// decided, offloaded, and offloaded through the row's AP; then five costs
// from the set's cost model (what the greedy ordering scores), each as
// slog(x) = sign(x)·ln(1 + |x|) (a broken constraint's penalty of 100
// becomes 4.6, a cost of 1 0.69):
//
//	the local cost L;
//	the offload cost O if the task joined the current offloaders (the
//	  others stay: counts without the task itself, plus one);
//	the join's externality: how much it raises the current offloaders'
//	  costs (their shared channel and edge get one more user);
//	the marginal O + externality − L (the partial-cost change of
//	  offloading rather than running locally: greedy's score);
//	O − L if half the undecided other tasks offloaded too (a fuller
//	  channel and edge: what the decision may cost later);
//
// and, for the shares q = ¼, ½, ¾, 1 of the set offloading (⌈q·D⌉ in
// all, ⌈q·|AP|⌉ through the task's AP), O − L at that sharing (slog) and
// the task's rank by it among the set's tasks (0 the most worth
// offloading, divided by D): which tasks would be worth offloading if
// that many did, for the network to weigh against how many should.
const Features = 3 + 8 + 3 + 5 + 2*len(gridShares)

// gridShares are the shares of offloading tasks of the last features.
var gridShares = [...]float64{0.25, 0.5, 0.75, 1}

// Config sizes the network.
type Config struct {
	// Channels of the two convolutions; Hidden of the first fully
	// connected layer.
	Channels, Hidden int
}

// DefaultConfig: 32 channels, 32 hidden units.
func DefaultConfig() Config { return Config{Channels: 32, Hidden: 32} }

// Model is the Q-network.
type Model struct {
	Config       Config
	Conv1, Conv2 *linear.Model // kernel 3 over the devices: 3·in → out
	FC1, FC2     *linear.Model // per device: 3·Channels (own, set mean, set max) → Hidden → 2
}

var _ agent.QFunction[mec.Obs] = (*Model)(nil)

// New returns a network initialised from rng.
func New(cfg Config, rng *rand.Rand) *Model {
	return &Model{Config: cfg,
		Conv1: linear.New(linear.Config{In: 3 * Features, Out: cfg.Channels}, rng),
		Conv2: linear.New(linear.Config{In: 3 * cfg.Channels, Out: cfg.Channels}, rng),
		FC1:   linear.New(linear.Config{In: 3 * cfg.Channels, Out: cfg.Hidden}, rng),
		FC2:   linear.New(linear.Config{In: cfg.Hidden, Out: 2}, rng),
	}
}

// Builder is the model as an agent.QBuilder for rl/dqn.
func Builder(cfg Config) agent.QBuilder[mec.Obs] {
	return func(first mec.Obs, space rl.Space, rng *rand.Rand) (agent.QFunction[mec.Obs], error) {
		if cfg.Channels < 1 || cfg.Hidden < 1 || cfg.Channels > 4096 || cfg.Hidden > 4096 {
			return nil, fmt.Errorf("mecdqn: widths must be between 1 and 4096, got %+v", cfg)
		}
		if space.Kind != rl.Discrete || space.N != 2*len(first.Decision) {
			return nil, fmt.Errorf("mecdqn: want 2 actions per device, got %v with N=%d for %d devices", space.Kind, space.N, len(first.Decision))
		}
		return New(cfg, rng), nil
	}
}

// Params implements nn.Module.
func (m *Model) Params(visit func(string, *nn.Param)) {
	nn.Modules{{Name: "conv1", M: m.Conv1}, {Name: "conv2", M: m.Conv2}, {Name: "fc1", M: m.FC1}, {Name: "fc2", M: m.FC2}}.Params(visit)
}

// Encode writes obs's device rows (R·D × Features, observation r's device
// n in row r·D + n). All observations must have D devices.
func Encode(obs []mec.Obs, d int, dst []float32) {
	for r, o := range obs {
		if len(o.Decision) != d || len(o.Set.Tasks) != d {
			panic(fmt.Sprintf("mecdqn: observation %d has %d devices, want %d", r, len(o.Decision), d))
		}
		out := dst[r*d*Features : (r+1)*d*Features]
		if m, ok := o.Memo.Get(memoKey).([]float32); ok {
			copy(out, m)
			continue
		}
		perAP, apSize := make([]int, o.Set.Cfg.APs), make([]int, o.Set.Cfg.APs)
		for _, t := range o.Set.Tasks {
			apSize[t.AP]++
		}
		var decided, off int
		for n, dec := range o.Decision {
			if dec != mec.Undecided {
				decided++
			}
			if dec == mec.Offloaded {
				off++
				perAP[o.Set.Tasks[n].AP]++
			}
		}
		for n, t := range o.Set.Tasks {
			row := dst[(r*d+n)*Features : (r*d+n+1)*Features]
			clear(row[:3])
			row[int(o.Decision[n])+1] = 1
			lt, le := o.Set.Weights(n)
			row[3] = float32(t.Input / 1e7)
			row[4] = float32(t.Cycles / 1e9)
			row[5] = float32(t.Deadline)
			row[6] = float32(math.Log10(t.Gain) / 10)
			row[7] = float32(t.Battery / o.Set.Cfg.BatteryTotal)
			row[8] = float32(t.Pref)
			row[9], row[10] = float32(lt), float32(le)
			row[11] = float32(decided) / float32(d)
			row[12] = float32(off) / float32(d)
			row[13] = float32(perAP[t.AP]) / float32(d)
			costFeatures(o, n, perAP, off, apSize, row[14:19])
		}
		gridFeatures(o, apSize, out)
		o.Memo.Put(memoKey, append([]float32(nil), out...))
	}
}

// memoKey names this encoding in mec.Obs.Memo.
var memoKey = fmt.Sprintf("mecdqn/%d", Features)

// gridKey names the grid columns in mec.Set.Memo.
var gridKey = fmt.Sprintf("mecdqn/grid/%d", len(gridShares))

// gridFeatures writes the grid columns (from 19) of one observation's
// rows. They depend on the set alone: computed once per set, kept in its
// memo.
func gridFeatures(o mec.Obs, apSize []int, rows []float32) {
	const w = 2 * len(gridShares)
	s := o.Set
	d := len(s.Tasks)
	grid, _ := s.Memo().Get(gridKey).([]float32)
	if grid == nil {
		grid = make([]float32, d*w)
		gridColumns(s, apSize, grid)
		s.Memo().Put(gridKey, grid)
	}
	for n := range d {
		copy(rows[n*Features+19:n*Features+19+w], grid[n*w:(n+1)*w])
	}
}

// gridColumns computes the grid columns of set s, w per task.
func gridColumns(s *mec.Set, apSize []int, grid []float32) {
	const w = 2 * len(gridShares)
	d := len(s.Tasks)
	diff := make([]float64, d)
	order := make([]int, d)
	for g, q := range gridShares {
		total := max(1, int(math.Ceil(q*float64(d))))
		for n, t := range s.Tasks {
			m := max(1, int(math.Ceil(q*float64(apSize[t.AP]))))
			diff[n] = s.OffloadCost(n, m, max(m, total)) - s.LocalCost(n)
			order[n] = n
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(diff[a], diff[b]) })
		for rank, n := range order {
			grid[n*w+2*g] = slog(diff[n])
			grid[n*w+2*g+1] = float32(rank) / float32(d)
		}
	}
}

// costFeatures writes task n's five cost features (see Features).
func costFeatures(o mec.Obs, n int, perAP []int, off int, apSize []int, dst []float32) {
	s := o.Set
	ap := s.Tasks[n].AP
	self := 0
	if o.Decision[n] == mec.Offloaded {
		self = 1
	}
	j, m := perAP[ap]-self, off-self // the offloaders without n
	local := s.LocalCost(n)
	join := s.OffloadCost(n, j+1, m+1)
	var ext float64
	for k, dec := range o.Decision {
		if k == n || dec != mec.Offloaded {
			continue
		}
		a := s.Tasks[k].AP
		cnt := perAP[a]
		if a == ap {
			cnt -= self
		}
		after := cnt
		if a == ap {
			after++
		}
		ext += s.OffloadCost(k, after, m+1) - s.OffloadCost(k, cnt, m)
	}
	undecided := 0
	for _, dec := range o.Decision {
		if dec == mec.Undecided {
			undecided++
		}
	}
	if o.Decision[n] == mec.Undecided {
		undecided--
	}
	more := undecided / 2
	later := s.OffloadCost(n, min(j+1+more, apSize[ap]), m+1+more)
	dst[0] = slog(local)
	dst[1] = slog(join)
	dst[2] = slog(ext)
	dst[3] = slog(join + ext - local)
	dst[4] = slog(later - local)
}

// slog is sign(x)·ln(1 + |x|).
func slog(x float64) float32 {
	if x < 0 {
		return -float32(math.Log1p(-x))
	}
	return float32(math.Log1p(x))
}

// conv applies a kernel-3 convolution along each observation's device
// axis (zero padding at both ends): row i sees rows i−1, i, i+1.
func conv(t *nn.Tape, l *linear.Model, x *nn.Tensor, r, d int) *nn.Tensor {
	pad := t.ConcatRows(x, t.Zeros(1, x.Cols)) // row r·d: zeros
	zero := r * d
	left, right := make([]int, r*d), make([]int, r*d)
	for i := range left {
		n := i % d
		left[i], right[i] = i-1, i+1
		if n == 0 {
			left[i] = zero
		}
		if n == d-1 {
			right[i] = zero
		}
	}
	return t.ReLU(l.Forward(t, t.ConcatCols(t.Gather(pad, left), x, t.Gather(pad, right))))
}

// QValues implements agent.QFunction: the R × 2D values, column 2n + o for
// deciding task n with o (0 local, 1 offload), as the environment numbers
// its actions.
func (m *Model) QValues(t *nn.Tape, obs []mec.Obs) *nn.Tensor {
	r := len(obs)
	if r == 0 {
		panic("mecdqn: no observations")
	}
	d := len(obs[0].Decision)
	x := t.Zeros(r*d, Features)
	Encode(obs, d, x.Data)
	return m.FromFeatures(t, x, r, d)
}

// FromFeatures is QValues on encoded device rows x (R·D × Features, as
// Encode writes them): the R × 2D values.
func (m *Model) FromFeatures(t *nn.Tape, x *nn.Tensor, r, d int) *nn.Tensor {
	h := conv(t, m.Conv2, conv(t, m.Conv1, x, r, d), r, d)
	// Every row also sees the mean and the maximum of its set's rows.
	seg := make([]int, r*d)
	for i := range seg {
		seg[i] = i / d
	}
	mean := t.Scale(t.SegmentSum(h, seg, r), 1/float32(d))
	mx := t.SegmentMax(h, seg, r)
	h = t.ConcatCols(h, t.Gather(mean, seg), t.Gather(mx, seg))
	q := m.FC2.Forward(t, t.ReLU(m.FC1.Forward(t, h))) // R·D × 2
	return t.Reshape(q, r, 2*d)
}

// Kind is the model kind of saved Q-networks.
const Kind = "mecdqn"

// savedConfig is what a checkpoint records: the widths and the features
// the network was trained on.
type savedConfig struct {
	Config
	Features int
}

// Save writes the network to path (a cpntrain checkpoint).
func (m *Model) Save(path string, step int64) error {
	b, err := json.Marshal(savedConfig{m.Config, Features})
	if err != nil {
		return err
	}
	return checkpoints.Save(path, m, nil, checkpoints.Meta{ModelKind: Kind, ModelConfig: b, Step: step})
}

// Load reads a network written by Save.
func Load(path string) (*Model, checkpoints.Meta, error) {
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return nil, checkpoints.Meta{}, err
	}
	if !info.Checkpoint || info.Meta.ModelKind != Kind {
		return nil, checkpoints.Meta{}, fmt.Errorf("mecdqn: %s is not an offloading Q-network (kind %q)", path, info.Meta.ModelKind)
	}
	var sc savedConfig
	dec := json.NewDecoder(bytes.NewReader(info.Meta.ModelConfig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, checkpoints.Meta{}, fmt.Errorf("mecdqn: %s: config: %w", path, err)
	}
	if sc.Features != Features {
		return nil, checkpoints.Meta{}, fmt.Errorf("mecdqn: %s was trained on %d features per device, this version has %d: retrain it", path, sc.Features, Features)
	}
	if sc.Channels < 1 || sc.Hidden < 1 || sc.Channels > 4096 || sc.Hidden > 4096 {
		return nil, checkpoints.Meta{}, fmt.Errorf("mecdqn: %s: widths %+v outside [1, 4096]", path, sc.Config)
	}
	m := New(sc.Config, rand.New(rand.NewPCG(0, 0)))
	meta, err := checkpoints.Load(path, m, nil, checkpoints.ExpectKind(Kind))
	if err != nil {
		return nil, checkpoints.Meta{}, err
	}
	return m, meta, nil
}
