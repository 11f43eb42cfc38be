// Package tsft runs the training stages of the TSFT latency predictor
// (models/tsft): pretraining on many devices, then adaptation to a new
// device by fine-tuning on a few measured samples and retraining on
// pseudo-labels.
package tsftrun

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// Device is one device's normalised latencies.
type Device struct {
	Name string
	// Y holds the normalised latency of every cell (NaN where unknown).
	Y []float32
	// Emb is the device embedding (normalised latencies of the reference
	// architectures).
	Emb []float32
}

// PretrainConfig tunes pretraining.
type PretrainConfig struct {
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"lr"`
	// MinLR is the end of the cosine learning-rate decay.
	MinLR float64 `json:"min_lr"`

	// CheckpointPath, when set, makes pretraining resumable: after every
	// epoch the model, the optimizer and the epoch are saved there
	// atomically (and when ctx ends, the last finished epoch is what the
	// file holds), and Pretrain starts by resuming from the file if it
	// exists, ending with the parameters of an uninterrupted run.
	// BeforeCheckpoint is called before each save. Neither is part of the
	// settings (nor of the cache name).
	CheckpointPath   string       `json:"-"`
	BeforeCheckpoint func() error `json:"-"`
}

// PretrainCheckpointKind is the model kind of pretraining checkpoints.
const PretrainCheckpointKind = "tsft-pretrain-run"

// DefaultPretrainConfig returns the settings of `cpntrain tsft pretrain`.
func DefaultPretrainConfig() PretrainConfig {
	return PretrainConfig{Epochs: 8, BatchSize: 512, LR: 2e-3, MinLR: 1e-4}
}

// Progress receives the pretraining progress: epoch (1-based) and the mean
// training loss of that epoch.
type Progress func(epoch, epochs int, loss float64)

// Pretrain trains m on every known (device, cell) pair of devices:
// min Σ_devices Σ_cells (f(X, V_h) − Y)². It is deterministic for a given
// rng and GOMAXPROCS-independent.
func Pretrain(ctx context.Context, m *tsft.Model, f *tsft.Features, devices []Device, cfg PretrainConfig, rng *rand.Rand, progress Progress) error {
	if cfg.Epochs <= 0 || cfg.BatchSize <= 0 || !(cfg.LR > 0) {
		return fmt.Errorf("tsft: pretrain needs positive epochs, batch size and learning rate, got %+v", cfg)
	}
	type pair struct{ d, c int32 }
	var pairs []pair
	for di, d := range devices {
		if len(d.Y) != len(f.Cells) || len(d.Emb) != m.Config.Embed {
			return fmt.Errorf("tsft: device %s has %d latencies and a %d-wide embedding, want %d and %d", d.Name, len(d.Y), len(d.Emb), len(f.Cells), m.Config.Embed)
		}
		for ci, y := range d.Y {
			if !math.IsNaN(float64(y)) {
				pairs = append(pairs, pair{int32(di), int32(ci)})
			}
		}
	}
	if len(pairs) == 0 {
		return fmt.Errorf("tsft: no training data")
	}
	params := nn.Collect(m)
	opt := optim.NewAdam(params, optim.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	perEpoch := int64((len(pairs) + cfg.BatchSize - 1) / cfg.BatchSize)
	steps := int64(cfg.Epochs) * perEpoch
	sched := optim.Cosine{Base: cfg.LR, Min: cfg.MinLR, Total: steps}
	tp := nn.NewTape()
	var b batchBuf
	idx := make([]int, 0, cfg.BatchSize)
	var step int64
	shuffle := func() { rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] }) }
	// --- Resume: the epochs done come from the checkpoint; the pair order
	// and the generator are rebuilt by replaying those epochs' shuffles
	// (the only use of rng here), so they match an uninterrupted run's.
	first := 1
	if cfg.CheckpointPath != "" {
		meta, err := checkpoints.Load(cfg.CheckpointPath, m, opt, checkpoints.ExpectKind(PretrainCheckpointKind))
		switch {
		case err == nil:
			done := int(meta.Step)
			if done < 0 || done > cfg.Epochs {
				return fmt.Errorf("tsft: %s holds epoch %d of a %d-epoch pretraining", cfg.CheckpointPath, done, cfg.Epochs)
			}
			for range done {
				shuffle()
			}
			first, step = done+1, int64(done)*perEpoch
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	checkpoint := func(epoch int) error {
		if cfg.CheckpointPath == "" {
			return nil
		}
		if cfg.BeforeCheckpoint != nil {
			if err := cfg.BeforeCheckpoint(); err != nil {
				return err
			}
		}
		return checkpoints.Save(cfg.CheckpointPath, m, opt, checkpoints.Meta{ModelKind: PretrainCheckpointKind, ModelConfig: m.ConfigJSON(), Step: int64(epoch)})
	}
	for ep := first; ep <= cfg.Epochs; ep++ {
		shuffle()
		var sum float64
		var n int
		for s := 0; s < len(pairs); s += cfg.BatchSize {
			if err := ctx.Err(); err != nil {
				return err
			}
			e := min(s+cfg.BatchSize, len(pairs))
			idx = idx[:0]
			b.y = b.y[:0]
			b.emb = b.emb[:0]
			for _, p := range pairs[s:e] {
				idx = append(idx, int(p.c))
				b.y = append(b.y, devices[p.d].Y[p.c])
				b.emb = append(b.emb, devices[p.d].Emb...)
			}
			opt.SetLR(sched.LR(step))
			loss := b.step(tp, m, f, idx, nil)
			opt.Step()
			step++
			sum += loss * float64(len(idx))
			n += len(idx)
		}
		if progress != nil {
			progress(ep, cfg.Epochs, sum/float64(n))
		}
		if err := checkpoint(ep); err != nil {
			return err
		}
	}
	return nil
}

// batchBuf holds the reusable inputs of a training batch.
type batchBuf struct {
	feat tsft.Batch
	y    []float32
	emb  []float32 // per-row embeddings (len(idx)×E) or one shared row
}

// step runs forward + backward of the weighted MSE on the cells idx and
// returns the loss. Gradients accumulate into m's parameters.
func (b *batchBuf) step(tp *nn.Tape, m *tsft.Model, f *tsft.Features, idx []int, w []float32) float64 {
	tp.Reset()
	b.feat.Fill(f, idx, m.GNN != nil)
	n := len(idx)
	embRows := len(b.emb) / m.Config.Embed
	pred := m.Forward(tp, b.feat.Edge(tp), b.feat.Graphs(), tp.Const(embRows, m.Config.Embed, b.emb), b.feat.Ref(tp))
	diff := tp.Sub(pred, tp.Const(n, 1, b.y))
	sq := tp.Square(diff)
	var loss *nn.Tensor
	if w != nil {
		loss = tp.Mean(tp.Mul(sq, tp.Const(n, 1, w)))
	} else {
		loss = tp.Mean(sq)
	}
	tp.Backward(loss)
	return float64(loss.Item())
}

// Predict writes f(cells idx, emb) into dst (allocated when short) on an
// inference tape, in batches.
func Predict(m *tsft.Model, f *tsft.Features, idx []int, emb []float32, dst []float32) []float32 {
	if cap(dst) < len(idx) {
		dst = make([]float32, len(idx))
	}
	dst = dst[:len(idx)]
	tp := nn.NewInference()
	var fb tsft.Batch
	embT := func() *nn.Tensor { return tp.Const(1, len(emb), emb) }
	const bs = 1024
	for s := 0; s < len(idx); s += bs {
		e := min(s+bs, len(idx))
		tp.Reset()
		fb.Fill(f, idx[s:e], m.GNN != nil)
		out := m.Forward(tp, fb.Edge(tp), fb.Graphs(), embT(), fb.Ref(tp))
		copy(dst[s:e], out.Data)
	}
	return dst
}

// AdaptConfig tunes the two adaptation stages.
type AdaptConfig struct {
	// FineTuneSteps and FineTuneLR: stage 1, full-batch Adam on the
	// labelled samples.
	FineTuneSteps int     `json:"finetune_steps"`
	FineTuneLR    float64 `json:"finetune_lr"`
	// Pseudo is the number of unmeasured cells pseudo-labelled by the
	// fine-tuned model for stage 2 (0 skips stage 2).
	Pseudo int `json:"pseudo"`
	// PseudoSteps, PseudoLR and PseudoBatch: stage 2, minibatch Adam from
	// the pretrained weights on labelled + pseudo-labelled cells.
	PseudoSteps int     `json:"pseudo_steps"`
	PseudoLR    float64 `json:"pseudo_lr"`
	PseudoBatch int     `json:"pseudo_batch"`
	// LabelWeight is the loss weight of a measured sample relative to a
	// pseudo-labelled one in stage 2.
	LabelWeight float32 `json:"label_weight"`
	// BlendFolds > 1 blends the network with the additive (layer-wise)
	// model, the weight chosen by BlendFolds-fold cross-validation on the
	// labelled cells; 0 or 1 keeps the network alone (the paper's TSFT).
	BlendFolds int `json:"blend_folds"`
}

// DefaultAdaptConfig returns the settings of `cpntrain tsft`.
func DefaultAdaptConfig() AdaptConfig {
	return AdaptConfig{FineTuneSteps: 100, FineTuneLR: 5e-4, Pseudo: 1000, PseudoSteps: 100, PseudoLR: 5e-4, PseudoBatch: 256, LabelWeight: 4, BlendFolds: 5}
}

// Timing reports the wall time of each adaptation stage.
type Timing struct {
	FineTune, Pseudo time.Duration
}

// Adapted is a model adapted to one device:
//
//	W·(A·network(x) + B + Σ_op Beta[op]·count(op in x)) + (1−W)·additive(x) + Dead·[x is dead]
//
// where the additive (layer-wise) model Add (models/tsft.Additive) is a
// ridge regression of the measured latencies on the operation counts, the
// correction Corr (A, B, Beta; nil: none) is set when Select chose a
// calibrated or corrected base model, W is chosen by cross-validation on
// the measured cells (W = 1 when blending is off), and Dead is Select's
// dead-cell offset (0: none).
type Adapted struct {
	Net  *tsft.Model
	Corr *Correction
	Add  tsft.Additive
	W    float32
	Emb  []float32
	Dead float32
}

// Predict returns the adapted predictions for the cells idx. With an
// additive model of "no model" (Lambda = +Inf, which predicts 0) the blend
// is W·network: the cross-validation that chose W scored it so.
func (a *Adapted) Predict(f *tsft.Features, idx []int, dst []float32) []float32 {
	p := Predict(a.Net, f, idx, a.Emb, dst)
	if a.Corr != nil {
		a.Corr.apply(f, idx, p)
	}
	if a.W != 1 {
		add := applyLayerWise(a.Add, f, idx)
		for i := range p {
			p[i] = a.W*p[i] + (1-a.W)*add[i]
		}
	}
	if a.Dead != 0 {
		for i, j := range idx {
			if !nasbench201.Arch(f.Cells[j]).Connected() {
				p[i] += a.Dead
			}
		}
	}
	return p
}

// fineTune returns a copy of base fine-tuned full-batch on (idx, y).
func fineTune(tp *nn.Tape, base *tsft.Model, f *tsft.Features, emb []float32, idx []int, y []float32, cfg AdaptConfig) *tsft.Model {
	ft := base.Clone()
	b := batchBuf{y: append([]float32(nil), y...), emb: append([]float32(nil), emb...)}
	opt := optim.NewAdam(nn.Collect(ft), optim.AdamConfig{LR: cfg.FineTuneLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	for s := 0; s < cfg.FineTuneSteps; s++ {
		b.step(tp, ft, f, idx, nil)
		opt.Step()
	}
	return ft
}

// blendWeight chooses W ∈ {0, 0.1, …, 1} minimising the K-fold
// cross-validated MSE of W·fine-tuned network + (1−W)·additive model on the
// labelled cells.
func blendWeight(tp *nn.Tape, base *tsft.Model, f *tsft.Features, emb []float32, idx []int, y []float32, cfg AdaptConfig, rng *rand.Rand) float32 {
	k := cfg.BlendFolds
	perm := rng.Perm(len(idx))
	netP := make([]float32, len(idx))
	addP := make([]float32, len(idx))
	for fold := 0; fold < k; fold++ {
		var tr, te []int
		var ytr []float32
		for r, p := range perm {
			if r%k == fold {
				te = append(te, p)
			} else {
				tr = append(tr, idx[p])
				ytr = append(ytr, y[p])
			}
		}
		teIdx := make([]int, len(te))
		for i, p := range te {
			teIdx[i] = idx[p]
		}
		net := fineTune(tp, base, f, emb, tr, ytr, cfg)
		np := Predict(net, f, teIdx, emb, nil)
		ap := tsft.FitAdditive(f, tr, ytr).Apply(f, teIdx, make([]float32, len(teIdx)))
		for i, p := range te {
			netP[p], addP[p] = np[i], ap[i]
		}
	}
	best, bestErr := float32(1), math.Inf(1)
	for s := 10; s >= 0; s-- {
		w := float32(s) / 10
		var e float64
		for i := range y {
			d := float64(w*netP[i] + (1-w)*addP[i] - y[i])
			e += d * d
		}
		if e < bestErr-1e-12 {
			best, bestErr = w, e
		}
	}
	return best
}

// Adapt returns base adapted to a new device with embedding emb. Stage 1
// fine-tunes a copy of base on the labelled cells (normalised latencies y);
// stage 2 pseudo-labels Pseudo cells drawn from unlabelled with the
// fine-tuned network and trains a fresh copy of base on labelled +
// pseudo-labelled cells. With BlendFolds > 1 the prediction is
// W·network + (1−W)·tsft.Additive, both fitted on the labelled cells and W
// chosen by cross-validation on them (see Adapted). base is not modified.
func Adapt(base *tsft.Model, f *tsft.Features, emb []float32, labelled []int, y []float32, unlabelled []int, cfg AdaptConfig, rng *rand.Rand) (*Adapted, Timing, error) {
	var tm Timing
	if len(labelled) == 0 || len(labelled) != len(y) {
		return nil, tm, fmt.Errorf("tsft: adapt needs labelled samples, got %d cells and %d latencies", len(labelled), len(y))
	}
	if len(emb) != base.Config.Embed {
		return nil, tm, fmt.Errorf("tsft: device embedding has %d values, the model expects %d", len(emb), base.Config.Embed)
	}
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, tm, fmt.Errorf("tsft: labelled latency %d is %v", i, v)
		}
	}
	start := time.Now()
	tp := nn.NewTape()
	ft := fineTune(tp, base, f, emb, labelled, y, cfg)
	add := tsft.FitAdditive(f, labelled, y)
	w := float32(1)
	if cfg.BlendFolds > 1 && len(labelled) >= cfg.BlendFolds {
		w = blendWeight(tp, base, f, emb, labelled, y, cfg, rng)
	}
	stage1 := &Adapted{Net: ft, Add: add, W: w, Emb: append([]float32(nil), emb...)}
	tm.FineTune = time.Since(start)
	if cfg.Pseudo <= 0 || len(unlabelled) == 0 {
		return stage1, tm, nil
	}
	start = time.Now()
	st := pseudoStage(tp, base, ft, f, emb, labelled, y, unlabelled, cfg, rng)
	out := &Adapted{Net: st, Add: add, W: w, Emb: stage1.Emb}
	tm.Pseudo = time.Since(start)
	return out, tm, nil
}
