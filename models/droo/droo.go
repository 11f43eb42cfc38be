// Package droo is the DROO learner (Huang, Bi and Zhang, "Deep
// reinforcement learning for online computation offloading in wireless
// powered mobile-edge computing networks", IEEE TMC 2020), the published
// learned anchor of the offloading bench: a DNN maps a task set to relaxed
// offloading decisions in (0, 1)^D, an order-preserving quantiser turns
// them into K binary candidates, and the exact per-vector cost (each
// task's optimal frequency or power, rl/envs/mec) keeps the cheapest. The
// pairs (set, best candidate) train the DNN by cross-entropy from a
// replay memory (train/mecrun.TrainDROO).
//
// As in DROO the network has a fixed number of devices D (its input is
// the D tasks' features side by side) and two hidden layers of 120 and
// 80 ReLU units.
package droo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// Features per task: input in Mbit/10, cycles in Gcycles, deadline in s,
// channel gain log10(g)/10, battery ratio, latency preference (DROO's
// input is the channel gains; here the tasks differ in more than their
// channel, so every task parameter is given).
const Features = 6

// Model is DROO's DNN for sets of D devices.
type Model struct {
	D   int
	Net *mlp.Model
}

// New returns a network for D devices initialised from rng.
func New(d int, rng *rand.Rand) (*Model, error) {
	if d < 1 || d > mec.MaxDevices {
		return nil, fmt.Errorf("droo: %d devices outside [1, %d]", d, mec.MaxDevices)
	}
	return &Model{D: d, Net: mlp.New(mlp.Config{Sizes: []int{d * Features, 120, 80, d}, Act: nn.ReLU}, rng)}, nil
}

// Params implements nn.Module.
func (m *Model) Params(visit func(string, *nn.Param)) { m.Net.Params(visit) }

// Encode writes the sets' features (R × D·Features).
func (m *Model) Encode(sets []*mec.Set, dst []float32) {
	for r, s := range sets {
		if len(s.Tasks) != m.D {
			panic(fmt.Sprintf("droo: set %d has %d devices, the network %d", r, len(s.Tasks), m.D))
		}
		for n, t := range s.Tasks {
			row := dst[(r*m.D+n)*Features : (r*m.D+n+1)*Features]
			row[0] = float32(t.Input / 1e7)
			row[1] = float32(t.Cycles / 1e9)
			row[2] = float32(t.Deadline)
			row[3] = float32(math.Log10(t.Gain) / 10)
			row[4] = float32(t.Battery / s.Cfg.BatteryTotal)
			row[5] = float32(t.Pref)
		}
	}
}

// Logits returns the R × D logits of offloading each task.
func (m *Model) Logits(t *nn.Tape, sets []*mec.Set) *nn.Tensor {
	x := t.Zeros(len(sets), m.D*Features)
	m.Encode(sets, x.Data)
	return m.Net.Forward(t, x)
}

// Quantize is DROO's order-preserving quantiser: from relaxed decisions x
// in (0, 1)^D, K ≤ D+1 binary candidates. The first thresholds at ½; the
// k-th (k ≥ 2) thresholds at the entry x_j that is the (k−1)-th closest
// to ½: x̂_i = 1 if x_i > x_j, or x_i = x_j ≤ ½ (so entry j flips from the
// first candidate's choice). Candidates are distinct when the x are.
func Quantize(x []float64, k int) [][]bool {
	d := len(x)
	k = max(1, min(k, d+1))
	out := make([][]bool, 0, k)
	first := make([]bool, d)
	for i, v := range x {
		first[i] = v > 0.5
	}
	out = append(out, first)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		da, db := math.Abs(x[a]-0.5), math.Abs(x[b]-0.5)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	for c := 1; c < k; c++ {
		j := order[c-1]
		v := make([]bool, d)
		for i, xi := range x {
			if x[j] <= 0.5 {
				v[i] = xi >= x[j]
			} else {
				v[i] = xi > x[j]
			}
		}
		out = append(out, v)
	}
	return out
}

// Decide returns the cheapest of the K candidates for s, and its index
// among them.
func (m *Model) Decide(inf *nn.Tape, s *mec.Set, k int) (mec.Solution, int) {
	inf.Reset()
	z := m.Logits(inf, []*mec.Set{s}).Data
	x := make([]float64, m.D)
	for i, v := range z {
		x[i] = 1 / (1 + math.Exp(-float64(v)))
	}
	best, bi := mec.Solution{Cost: math.Inf(1)}, -1
	for i, v := range Quantize(x, k) {
		if c := s.Cost(v); c < best.Cost {
			best, bi = mec.Solution{Offload: v, Cost: c}, i
		}
	}
	return best, bi
}

// Kind is the model kind of saved DROO networks.
const Kind = "droo"

// savedConfig is what a checkpoint records.
type savedConfig struct {
	Devices, K, Features int
}

// Save writes the network and its number of candidates k to path.
func (m *Model) Save(path string, k int, step int64) error {
	b, err := json.Marshal(savedConfig{m.D, k, Features})
	if err != nil {
		return err
	}
	return checkpoints.Save(path, m, nil, checkpoints.Meta{ModelKind: Kind, ModelConfig: b, Step: step})
}

// Load reads a network written by Save and its number of candidates.
func Load(path string) (*Model, int, checkpoints.Meta, error) {
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return nil, 0, checkpoints.Meta{}, err
	}
	if !info.Checkpoint || info.Meta.ModelKind != Kind {
		return nil, 0, checkpoints.Meta{}, fmt.Errorf("droo: %s is not a DROO network (kind %q)", path, info.Meta.ModelKind)
	}
	var sc savedConfig
	dec := json.NewDecoder(bytes.NewReader(info.Meta.ModelConfig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, 0, checkpoints.Meta{}, fmt.Errorf("droo: %s: config: %w", path, err)
	}
	if sc.Features != Features {
		return nil, 0, checkpoints.Meta{}, fmt.Errorf("droo: %s was trained on %d features per task, this version has %d: retrain it", path, sc.Features, Features)
	}
	m, err := New(sc.Devices, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, 0, checkpoints.Meta{}, fmt.Errorf("droo: %s: %w", path, err)
	}
	if sc.K < 1 || sc.K > sc.Devices+1 {
		return nil, 0, checkpoints.Meta{}, fmt.Errorf("droo: %s: K = %d outside [1, %d]", path, sc.K, sc.Devices+1)
	}
	meta, err := checkpoints.Load(path, m, nil, checkpoints.ExpectKind(Kind))
	if err != nil {
		return nil, 0, checkpoints.Meta{}, err
	}
	return m, sc.K, meta, nil
}
