package tsftrun

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/baselines"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// Methods compared by Bench, in table order.
const (
	MethodSelect   = "TSFT, chosen by CV (default)"
	MethodTSFT     = "TSFT + layer-wise blend"
	MethodTSFTPure = "TSFT (paper)"
	MethodStage1   = "TSFT stage 1 only"
	MethodBase     = "base model alone"
	MethodBRPNAS   = "BRP-NAS"
	MethodFLOPS    = "FLOPS"
	MethodLayerWis = "layer-wise"
)

// BenchConfig describes `cpntrain bench latency`.
type BenchConfig struct {
	// Partitions are the device splits: for each, a base model per seed
	// pretrained on its Train devices, adapted to each of its Test devices.
	Partitions []Partition
	Shots      []int
	Seeds      int
	Seed       uint64
	Base       BaseSpec // Seed and Devices are replaced per bench seed and partition
	Adapt      AdaptConfig
	Select     SelectConfig
	// BRP configures the BRP-NAS baseline, trained on BRPSamples cells of
	// the target device's training pool (900 in its paper); BRPSamples 0
	// skips it.
	BRP        baselines.BRPConfig
	BRPSamples int
}

// Result is one (partition, device, method, shots, seed) measurement.
type Result struct {
	Partition string
	Device    string
	Method    string
	Shots     int
	Seed      int
	MSE       float64
	Rho       float64
	Seconds   float64 // adaptation / fitting time for this device
	// Choice is what the selection chose (MethodSelect rows only).
	Choice string
}

// Bench runs the comparison: for each seed a base model is pretrained (or
// taken from cache via getBase), then every device and shot count is
// adapted with TSFT and fitted with the baselines on the same measured
// cells, and scored on the same query set.
func Bench(ctx context.Context, env *Env, cfg BenchConfig, getBase func(spec BaseSpec) (*tsft.Model, error), log io.Writer) ([]Result, error) {
	if log == nil {
		log = io.Discard
	}
	samples := make([]baselines.Sample, len(env.Data.Archs))
	for i, a := range env.Data.Archs {
		adj, ops := a.Encode()
		fl, pa := a.Cost()
		samples[i] = baselines.Sample{Adj: adj, Ops: ops, FLOPs: fl, Params: pa}
	}
	pick := func(idx []int) []baselines.Sample {
		out := make([]baselines.Sample, len(idx))
		for i, j := range idx {
			out[i] = samples[j]
		}
		return out
	}
	var res []Result
	for _, part := range cfg.Partitions {
		for s := 0; s < cfg.Seeds; s++ {
			rs, err := benchPartition(ctx, env, cfg, part, s, getBase, pick, log)
			res = append(res, rs...)
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// benchPartition runs one seed of one partition.
func benchPartition(ctx context.Context, env *Env, cfg BenchConfig, part Partition, s int, getBase func(spec BaseSpec) (*tsft.Model, error), pick func([]int) []baselines.Sample, log io.Writer) ([]Result, error) {
	var res []Result
	seed := cfg.Seed + uint64(s)
	spec := cfg.Base
	spec.Seed = seed
	spec.Devices = part.Train
	base, err := getBase(spec)
	if err != nil {
		return nil, err
	}
	for _, dev := range part.Test {
		for _, shots := range cfg.Shots {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			rng := rand.New(rand.NewPCG(seed, uint64(shots)*7919+hashName(dev)))
			task, err := env.NewTask(dev, shots, rng)
			if err != nil {
				return nil, err
			}
			add := func(method string, pred []float32, sec float64) *Result {
				mse, rho := task.Score(pred)
				res = append(res, Result{Partition: part.Name, Device: dev, Method: method, Shots: shots, Seed: s, MSE: mse, Rho: rho, Seconds: sec})
				return &res[len(res)-1]
			}
			add(MethodBase, Predict(base, env.Features, task.Query, task.Device.Emb, nil), 0)
			sel, dt, err := Select(base, env.Features, task.Device.Emb, task.Labelled, task.Y, cfg.Adapt, cfg.Select, rand.New(rand.NewPCG(seed, 4)))
			if err != nil {
				return nil, err
			}
			add(MethodSelect, sel.Predict(env.Features, task.Query, nil), dt.Seconds()).Choice = sel.String()
			st1 := cfg.Adapt
			st1.Pseudo = 0
			m1, tm1, err := Adapt(base, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, st1, rand.New(rand.NewPCG(seed, 1)))
			if err != nil {
				return nil, err
			}
			add(MethodStage1, m1.Predict(env.Features, task.Query, nil), tm1.FineTune.Seconds())
			m2, tm2, err := Adapt(base, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, cfg.Adapt, rand.New(rand.NewPCG(seed, 2)))
			if err != nil {
				return nil, err
			}
			add(MethodTSFT, m2.Predict(env.Features, task.Query, nil), (tm2.FineTune + tm2.Pseudo).Seconds())
			pure := cfg.Adapt
			pure.BlendFolds = 0
			m3, tm3, err := Adapt(base, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, pure, rand.New(rand.NewPCG(seed, 2)))
			if err != nil {
				return nil, err
			}
			add(MethodTSFTPure, m3.Predict(env.Features, task.Query, nil), (tm3.FineTune + tm3.Pseudo).Seconds())
			for _, p := range []baselines.Predictor{baselines.NewFLOPS(), baselines.NewLayerWise()} {
				t0 := time.Now()
				if err := p.Fit(pick(task.Labelled), task.Y, rand.New(rand.NewPCG(seed, 3))); err != nil {
					return nil, fmt.Errorf("%s on %s: %w", p.Name(), dev, err)
				}
				name := MethodFLOPS
				if p.Name() == "layer-wise" {
					name = MethodLayerWis
				}
				sec := time.Since(t0).Seconds()
				add(name, p.Predict(pick(task.Query), nil), sec)
			}
			bs := res[len(res)-1-6] // base, then the selection
			ts := res[len(res)-6]
			fmt.Fprintf(log, "%s seed %d %-14s %3d shots: base ρ %.4f; chosen %s: MSE %.5f ρ %.4f (%.2f s)\n", part.Name, s, dev, shots, bs.Rho, ts.Choice, ts.MSE, ts.Rho, ts.Seconds)
		}
		if cfg.BRPSamples > 0 {
			rng := rand.New(rand.NewPCG(seed, 0xb2b+hashName(dev)))
			task, err := env.NewTask(dev, nasbench201.NumRefs, rng)
			if err != nil {
				return nil, err
			}
			lab := nasbench201.Pool(0, min(cfg.BRPSamples, TrainPool))
			y := make([]float32, len(lab))
			for i, j := range lab {
				y[i] = task.Device.Y[j]
			}
			// Score on the same query cells as TSFT (cells ≥ 900 not
			// among the reference architectures).
			p := baselines.NewBRPNAS(cfg.BRP)
			t0 := time.Now()
			if err := p.Fit(pick(lab), y, rng); err != nil {
				return nil, fmt.Errorf("BRP-NAS on %s: %w", dev, err)
			}
			sec := time.Since(t0).Seconds()
			mse, rho := task.Score(p.Predict(pick(task.Query), nil))
			res = append(res, Result{Partition: part.Name, Device: dev, Method: MethodBRPNAS, Shots: len(lab), Seed: s, MSE: mse, Rho: rho, Seconds: sec})
			fmt.Fprintf(log, "%s seed %d %-14s BRP-NAS on %d samples: MSE %.5f ρ %.4f (%.1f s)\n", part.Name, s, dev, len(lab), mse, rho, sec)
		}
	}
	return res, nil
}

// HashName is the seed stream of a device name in the protocol's draws:
// FNV-1a with offset 1469598103934665603 (one digit short of FNV's, kept
// so that every recorded run stays reproducible).
func HashName(s string) uint64 { return hashName(s) }

func hashName(s string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Summary is a mean ± std over seeds of one (partition, device, method, shots).
type Summary struct {
	Partition, Device, Method string
	Shots                     int
	MSE, MSEStd, Rho, RhoStd  float64
	Seconds                   float64
	N                         int
}

// Summarise groups results by device, method and shots.
func Summarise(rs []Result) []Summary {
	type key struct {
		p, d, m string
		s       int
	}
	groups := map[key][]Result{}
	var order []key
	for _, r := range rs {
		k := key{r.Partition, r.Device, r.Method, r.Shots}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []Summary
	for _, k := range order {
		g := groups[k]
		var mse, rho, sec []float64
		for _, r := range g {
			mse = append(mse, r.MSE)
			rho = append(rho, r.Rho)
			sec = append(sec, r.Seconds)
		}
		s := Summary{Partition: k.p, Device: k.d, Method: k.m, Shots: k.s, N: len(g)}
		s.MSE, s.MSEStd = metrics.MeanStd(mse)
		s.Rho, s.RhoStd = metrics.MeanStd(rho)
		s.Seconds, _ = metrics.MeanStd(sec)
		out = append(out, s)
	}
	return out
}

// MeanOver returns, for one method and shot count, the mean over devices of
// the per-device means (and the std over seeds of the device-mean), as the
// bars are stated. devices nil means every device of rs. Rows of several
// partitions count as separate devices; a seed counts only if it has every
// (partition, device) pair that any seed has.
func MeanOver(rs []Result, method string, shots int, devices []string, rho bool) (mean, std float64, n int) {
	type pd struct{ p, d string }
	bySeed := map[int]map[pd]float64{}
	pairs := map[pd]bool{}
	for _, r := range rs {
		if r.Method != method || r.Shots != shots || (devices != nil && !slices.Contains(devices, r.Device)) {
			continue
		}
		v := r.MSE
		if rho {
			v = r.Rho
		}
		if bySeed[r.Seed] == nil {
			bySeed[r.Seed] = map[pd]float64{}
		}
		bySeed[r.Seed][pd{r.Partition, r.Device}] = v
		pairs[pd{r.Partition, r.Device}] = true
	}
	if devices != nil {
		// Every named device must be present (in some partition).
		for _, d := range devices {
			found := false
			for k := range pairs {
				found = found || k.d == d
			}
			if !found {
				return math.NaN(), math.NaN(), 0
			}
		}
	}
	seeds := make([]int, 0, len(bySeed))
	for s := range bySeed {
		seeds = append(seeds, s)
	}
	slices.Sort(seeds)
	var perSeed []float64
	for _, s := range seeds {
		vs := bySeed[s]
		if len(vs) != len(pairs) {
			continue
		}
		keys := make([]pd, 0, len(vs))
		for k := range vs {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b pd) int { return strings.Compare(a.p+"\x00"+a.d, b.p+"\x00"+b.d) })
		var sum float64
		for _, k := range keys {
			sum += vs[k]
		}
		perSeed = append(perSeed, sum/float64(len(vs)))
	}
	if len(perSeed) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean, std = metrics.MeanStd(perSeed)
	return mean, std, len(perSeed)
}

// OfPartition returns the rows of one partition.
func OfPartition(rs []Result, name string) []Result {
	var out []Result
	for _, r := range rs {
		if r.Partition == name {
			out = append(out, r)
		}
	}
	return out
}

// WorstDrop returns, over the (partition, device, shots) of rs, the most
// negative seed-mean of method's ρ minus the base model's ρ, with where it
// happened.
func WorstDrop(rs []Result, method string) (drop float64, where string) {
	type key struct {
		p, d string
		s    int
	}
	sum := map[key][2]float64{}
	var order []key
	for _, r := range rs {
		if r.Method != method && r.Method != MethodBase {
			continue
		}
		k := key{r.Partition, r.Device, r.Shots}
		v, ok := sum[k]
		if !ok {
			order = append(order, k)
		}
		if r.Method == method {
			v[0] += r.Rho
		} else {
			v[0] -= r.Rho
		}
		if r.Method == method {
			v[1]++
		}
		sum[k] = v
	}
	drop = math.Inf(1)
	for _, k := range order {
		v := sum[k]
		if v[1] == 0 {
			continue
		}
		if d := v[0] / v[1]; d < drop {
			drop, where = d, fmt.Sprintf("%s/%s, %d shots", k.p, k.d, k.s)
		}
	}
	if math.IsInf(drop, 1) {
		return math.NaN(), ""
	}
	return drop, where
}
