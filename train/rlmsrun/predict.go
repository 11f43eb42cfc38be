package rlmsrun

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
	"github.com/cpntrain/cpntrain/train/metrics"
	"github.com/cpntrain/cpntrain/train/tsftrun"
)

// PredictorConfig says how the controller's compute latencies are
// predicted: the paper's pipeline, where TSFT predicts what the scheduler
// sees (seed 000: "TSFT predicts the compute latency").
type PredictorConfig struct {
	// Shots is the number of measured architectures per device (the 10
	// reference architectures included); 0 gives the controller the
	// measured latencies (a perfect predictor).
	Shots int `json:"shots"`
	// Seed draws the measured cells and seeds pretraining and selection.
	Seed uint64 `json:"seed"`
	// Model and Pretrain are the base models' settings; Select the
	// adaptation's.
	Model    tsft.Config                            `json:"model"`
	Pretrain tsftrun.PretrainConfig                 `json:"pretrain"`
	Select   tsftrun.SelectConfig                   `json:"select"`
	Adapt    tsftrun.AdaptConfig                    `json:"adapt"`
	CacheDir string                                 `json:"-"`
	Progress func(family string, epoch, epochs int) `json:"-"`
}

// DefaultPredictorConfig returns the settings of the rlms commands with
// shots measured architectures per device.
func DefaultPredictorConfig(shots int, seed uint64, cacheDir string) PredictorConfig {
	return PredictorConfig{Shots: shots, Seed: seed, Model: tsft.DefaultConfig(), Pretrain: tsftrun.DefaultPretrainConfig(),
		Select: tsftrun.DefaultSelectConfig(), Adapt: tsftrun.DefaultAdaptConfig(), CacheDir: cacheDir}
}

// DevicePrediction is how well one device's latencies are predicted.
type DevicePrediction struct {
	Device string
	// TrainDevices is the number of devices its base model was
	// pretrained on (none of its family or near-twins).
	TrainDevices int
	// Choice is the adapted predictor the selection chose.
	Choice string
	// Rho is Spearman's ρ and RelMAE the mean absolute error relative to
	// the mean latency (Σ|pred − y| / Σ y) of the predicted latency (ms)
	// over every unmeasured architecture. (A percentage error per cell is
	// dominated by the dead cells raspi4 runs in 0.01 ms.)
	Rho, RelMAE float64
	Seconds     float64
}

// TSFTLatencies predicts the latency of every architecture on every device
// the simulator uses (cpn.LatencyDevices) as a new device would be: for each
// device family (a GPU at every batch size is one), a base model pretrained
// on the other devices that the partition rule allows (no family member,
// no near-twin: tsftrun.Correlations.TrainFor), then, per device, the
// adaptation chosen by cross-validation on cfg.Shots measured
// architectures (tsftrun.Select). The normalised predictions are mapped to
// milliseconds by the least-squares line through the measured cells (what
// a user knows), floored at a tenth of the smallest measurement. Base
// models are cached in cfg.CacheDir.
func TSFTLatencies(ctx context.Context, dataDir string, cfg PredictorConfig, log io.Writer) (*cpn.Latencies, []DevicePrediction, error) {
	if cfg.Shots < nasbench201.NumRefs || cfg.Shots > tsftrun.TrainPool {
		return nil, nil, fmt.Errorf("rlms: %d measured architectures per device: need %d (the reference architectures) to %d", cfg.Shots, nasbench201.NumRefs, tsftrun.TrainPool)
	}
	if log == nil {
		log = io.Discard
	}
	env, err := tsftrun.LoadEnv(dataDir)
	if err != nil {
		return nil, nil, err
	}
	corr := env.NewCorrelations()
	var families []string
	byFamily := map[string][]string{}
	for _, d := range cpn.LatencyDevices() {
		f := tsftrun.Family(d)
		if byFamily[f] == nil {
			families = append(families, f)
		}
		byFamily[f] = append(byFamily[f], d)
	}
	all := make([]int, len(env.Features.Cells))
	for i := range all {
		all[i] = i
	}
	byDevice := map[string][]float32{}
	var rep []DevicePrediction
	for _, fam := range families {
		part := corr.Custom(byFamily[fam])
		spec := tsftrun.BaseSpec{Model: cfg.Model, Pretrain: cfg.Pretrain, Devices: part.Train, Seed: cfg.Seed}
		var prog tsftrun.Progress
		if cfg.Progress != nil {
			prog = func(ep, n int, _ float64) { cfg.Progress(fam, ep, n) }
		}
		base, _, loaded, err := tsftrun.Base(ctx, env, spec, tsftrun.BaseOptions{CacheDir: cfg.CacheDir, Progress: prog})
		if err != nil {
			return nil, nil, fmt.Errorf("rlms: base model for %s: %w", fam, err)
		}
		if !loaded {
			fmt.Fprintf(log, "TSFT base model for %s pretrained on %d devices\n", fam, len(part.Train))
		}
		for _, d := range byFamily[fam] {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			t0 := time.Now()
			rng := rand.New(rand.NewPCG(cfg.Seed, tsftrun.HashName(d)))
			task, err := env.NewTask(d, cfg.Shots, rng)
			if err != nil {
				return nil, nil, err
			}
			sel, _, err := tsftrun.Select(base, env.Features, task.Device.Emb, task.Labelled, task.Y, cfg.Adapt, cfg.Select, rng)
			if err != nil {
				return nil, nil, fmt.Errorf("rlms: adapting to %s: %w", d, err)
			}
			raw := env.Raw[d]
			p := sel.Predict(env.Features, all, nil)
			ms := toMs(p, raw, task.Labelled)
			byDevice[d] = ms
			measured := make([]bool, len(all))
			for _, i := range task.Labelled {
				measured[i] = true
			}
			var pq, yq []float32
			var ae, sy float64
			for i := range all {
				if measured[i] {
					continue
				}
				pq, yq = append(pq, ms[i]), append(yq, raw[i])
				ae += math.Abs(float64(ms[i] - raw[i]))
				sy += float64(raw[i])
			}
			rep = append(rep, DevicePrediction{Device: d, TrainDevices: len(part.Train), Choice: sel.String(),
				Rho: metrics.Spearman(pq, yq), RelMAE: ae / sy, Seconds: time.Since(t0).Seconds()})
		}
	}
	lat, err := cpn.NewLatencies(byDevice)
	return lat, rep, err
}

// toMs maps normalised predictions p to milliseconds by the least-squares
// line of the measured latencies raw[i], i in measured, on p[i], flooring
// the result at a tenth of the smallest measurement (a latency must stay
// positive).
func toMs(p, raw []float32, measured []int) []float32 {
	var mp, my float64
	for _, i := range measured {
		mp += float64(p[i])
		my += float64(raw[i])
	}
	n := float64(len(measured))
	mp, my = mp/n, my/n
	var sxy, sxx float64
	floor := math.Inf(1)
	for _, i := range measured {
		sxy += (float64(p[i]) - mp) * (float64(raw[i]) - my)
		sxx += (float64(p[i]) - mp) * (float64(p[i]) - mp)
		floor = math.Min(floor, float64(raw[i])/10)
	}
	a, b := 0.0, my
	if sxx > 0 {
		a = sxy / sxx
		b = my - a*mp
	}
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Max(a*float64(v)+b, floor))
	}
	return out
}

// WritePredictions prints the per-device prediction quality.
func WritePredictions(w io.Writer, shots int, rep []DevicePrediction) {
	fmt.Fprintf(w, "Compute latencies the controller sees: TSFT adapted from %d measured architectures per device (base model without the device's family)\n\n", shots)
	fmt.Fprintf(w, "| device | training devices | chosen predictor | Spearman ρ | mean abs. error / mean latency | s |\n|---|---|---|---|---|---|\n")
	for _, r := range rep {
		fmt.Fprintf(w, "| %s | %d | %s | %.4f | %.1f %% | %.2f |\n", r.Device, r.TrainDevices, r.Choice, r.Rho, 100*r.RelMAE, r.Seconds)
	}
}
