package baselines

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/gcn"
	"github.com/cpntrain/cpntrain/nn/layernorm"
	"github.com/cpntrain/cpntrain/nn/linear"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// Losses BRPConfig.Loss accepts.
const (
	LossMSE = "mse" // mean squared error (the metric of HELP and TSFT)
	LossL1  = "l1"  // mean absolute error (the reference implementation's)
)

// Schedule constants of the reference training loop (EAGLE
// predictors/__main__.py), used when BRPConfig.ValFraction > 0.
const (
	brpWarmEpochs = 20   // the schedule and early stopping start after this epoch
	brpLRPatience = 10   // ReduceLROnPlateau patience
	brpLRFactor   = 0.5  // ReduceLROnPlateau factor
	brpLRThresh   = 0.01 // ReduceLROnPlateau relative threshold
	brpESPatience = 35   // early-stopping patience
)

// predictChunk is the number of graphs per inference batch.
const predictChunk = 256

// BRPConfig holds the hyper-parameters of the BRP-NAS latency predictor.
// DefaultBRPConfig gives the published ones.
type BRPConfig struct {
	// Layers is the number of graph convolutions and Hidden their width.
	Layers, Hidden int
	// Dropout is the dropout probability after every convolution.
	Dropout float64
	// LR is the AdamW learning rate and WeightDecay its decoupled weight
	// decay.
	LR, WeightDecay float64
	// Epochs is the number of passes over the training samples and
	// BatchSize the number of cells per optimizer step (the last batch of
	// an epoch may be smaller).
	Epochs, BatchSize int
	// Loss is LossMSE or LossL1, averaged over the batch.
	Loss string
	// Prune removes none and skip nodes and dead branches from the graph
	// as the reference implementation does (see the package documentation).
	Prune bool
	// KipfNorm replaces the reference's sum aggregation (A + I)·H by Kipf
	// and Welling's normalised D̃^−1/2 (A + I) D̃^−1/2 · H (nn/gcn's
	// Forward direction on the same edges).
	KipfNorm bool
	// ValFraction, when positive, holds out that fraction of the training
	// samples (at least one) for validation and trains as the reference
	// does: the learning rate halves when the validation loss stalls,
	// training stops early, and the weights of the epoch with the lowest
	// validation loss are kept. With 0, all samples train for Epochs epochs
	// at a constant learning rate and the final weights are kept.
	ValFraction float64
}

// DefaultBRPConfig returns the hyper-parameters of BRP-NAS's NAS-Bench-201
// latency predictor, from the reference implementation's configuration
// (EAGLE configs/predictors/lat_gcn_nasbench201_desktop.yaml and
// predictors/gcn/gcn.py): 4 graph convolutions of 600 units, each followed
// by LayerNorm, ReLU and dropout 0.002; AdamW with learning rate 4e-4 and
// weight decay 5e-4; 250 epochs of batch size 1; pruned graphs with a
// global node and sum aggregation. Two choices differ from the reference:
// the loss is MSE (the reference minimises L1) and no validation samples are
// held out (the reference uses 100 extra validation models; set ValFraction
// to hold some out of the training set).
func DefaultBRPConfig() BRPConfig {
	return BRPConfig{
		Layers:      4,
		Hidden:      600,
		Dropout:     0.002,
		LR:          4e-4,
		WeightDecay: 5e-4,
		Epochs:      250,
		BatchSize:   1,
		Loss:        LossMSE,
		Prune:       true,
	}
}

// FastBRPConfig returns a reduced configuration for sweeps, which trains on
// 900 cells in about 5 s on a 2-core machine instead of the 7–11 minutes of
// DefaultBRPConfig: 4 layers of 64 units, AdamW with learning rate 1e-3,
// 100 epochs of batch size 16, the rest as DefaultBRPConfig. It is not a
// published configuration; on the package's synthetic 900-cell benchmark
// (TestBRPNASScale) it matches the published one (held-out ρ 0.996).
func FastBRPConfig() BRPConfig {
	c := DefaultBRPConfig()
	c.Hidden = 64
	c.LR = 1e-3
	c.Epochs = 100
	c.BatchSize = 16
	return c
}

// Validate returns an error for a configuration that cannot train.
func (c BRPConfig) Validate() error {
	switch {
	case c.Layers < 1 || c.Hidden < 1:
		return fmt.Errorf("baselines: brp-nas: need at least one layer of positive width, got %d×%d", c.Layers, c.Hidden)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("baselines: brp-nas: dropout %v outside [0,1)", c.Dropout)
	case !(c.LR > 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("baselines: brp-nas: invalid learning rate %v", c.LR)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 1):
		return fmt.Errorf("baselines: brp-nas: invalid weight decay %v", c.WeightDecay)
	case c.Epochs < 1 || c.BatchSize < 1:
		return fmt.Errorf("baselines: brp-nas: need positive epochs and batch size, got %d and %d", c.Epochs, c.BatchSize)
	case c.Loss != LossMSE && c.Loss != LossL1:
		return fmt.Errorf("baselines: brp-nas: unknown loss %q (want %q or %q)", c.Loss, LossMSE, LossL1)
	case !(c.ValFraction >= 0 && c.ValFraction < 1):
		return fmt.Errorf("baselines: brp-nas: validation fraction %v outside [0,1)", c.ValFraction)
	}
	return nil
}

// BRPNAS is the BRP-NAS latency predictor: a GCN over the cell graph with a
// global node, read out by a linear layer (see the package documentation).
type BRPNAS struct {
	cfg    BRPConfig
	model  *brpModel // nil before a successful Fit
	epochs int       // epochs run by the last successful Fit
}

var (
	_ Predictor = (*BRPNAS)(nil)
	_ nn.Module = (*BRPNAS)(nil)
)

// NewBRPNAS returns an untrained BRP-NAS predictor; the network is built
// (from Fit's rng) and trained by Fit. It panics if cfg is invalid (see
// BRPConfig.Validate).
func NewBRPNAS(cfg BRPConfig) Predictor {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	return &BRPNAS{cfg: cfg}
}

// Name implements Predictor: "brp-nas".
func (*BRPNAS) Name() string { return "brp-nas" }

// Config returns the hyper-parameters.
func (p *BRPNAS) Config() BRPConfig { return p.cfg }

// EpochsRun returns the number of epochs of the last successful Fit.
func (p *BRPNAS) EpochsRun() int { return p.epochs }

// Params calls visit for every parameter of the fitted network
// ("layer0/w", "layer0/b", "layer0/norm/gain", …, "head/w", "head/b"); it
// visits nothing before a successful Fit.
func (p *BRPNAS) Params(visit func(string, *nn.Param)) {
	if p.model != nil {
		p.model.Params(visit)
	}
}

// brpModel is the network: graph convolutions, each followed by LayerNorm,
// ReLU and dropout, and a linear head on the global node.
type brpModel struct {
	Layers []*gcn.Layer
	Norms  []*layernorm.Model
	Head   *linear.Model
	cfg    BRPConfig
}

// newBRPModel builds the network with the reference's initialisation:
// convolution weights and biases uniform in ±1/sqrt(Hidden) ("thomas"
// init), LayerNorm gain 1 and bias 0, and PyTorch's default Linear head.
func newBRPModel(cfg BRPConfig, rng *rand.Rand) *brpModel {
	m := &brpModel{cfg: cfg}
	in := brpFeatures
	for range cfg.Layers {
		l := gcn.NewLayer(gcn.LayerConfig{In: in, Out: cfg.Hidden, Direction: gcn.Forward}, rng)
		nn.KaimingUniform(cfg.Hidden)(l.W, rng)
		nn.KaimingUniform(cfg.Hidden)(l.B, rng)
		m.Layers = append(m.Layers, l)
		m.Norms = append(m.Norms, layernorm.New(layernorm.Config{Dim: cfg.Hidden}))
		in = cfg.Hidden
	}
	m.Head = linear.New(linear.Config{In: cfg.Hidden, Out: 1}, rng)
	return m
}

// Params implements nn.Module.
func (m *brpModel) Params(visit func(string, *nn.Param)) {
	for i, l := range m.Layers {
		v := nn.Prefix(fmt.Sprint("layer", i), visit)
		l.Params(v)
		m.Norms[i].Params(nn.Prefix("norm", v))
	}
	m.Head.Params(nn.Prefix("head", visit))
}

// brpBatch is a batch of encoded cells as one disjoint graph.
type brpBatch struct {
	n, graphs int
	x         []float32
	src, dst  []int // message edges, with self-loops unless KipfNorm
	global    []int // the row of each graph's global node
	nodeGraph []int
	g         *gcn.Graph // KipfNorm only
}

// build fills b with the cells enc[idx[0]], enc[idx[1]], ….
func (b *brpBatch) build(enc []brpGraph, idx []int, kipf bool) {
	b.graphs = len(idx)
	b.n = len(idx) * brpNodes
	b.x = b.x[:0]
	b.src, b.dst, b.global, b.nodeGraph = b.src[:0], b.dst[:0], b.global[:0], b.nodeGraph[:0]
	for gi, k := range idx {
		e := &enc[k]
		off := gi * brpNodes
		b.x = append(b.x, e.x[:]...)
		for j, s := range e.src {
			b.src = append(b.src, off+s)
			b.dst = append(b.dst, off+e.dst[j])
		}
		if !kipf {
			for v := 0; v < brpNodes; v++ {
				b.src = append(b.src, off+v)
				b.dst = append(b.dst, off+v)
			}
		}
		b.global = append(b.global, off+brpGlobal)
		for v := 0; v < brpNodes; v++ {
			b.nodeGraph = append(b.nodeGraph, gi)
		}
	}
	b.g = nil
	if kipf {
		g, err := gcn.NewGraph(b.n, b.src, b.dst, b.nodeGraph, b.graphs)
		if err != nil {
			panic("baselines: brp-nas: " + err.Error()) // encodeBRP makes valid graphs
		}
		b.g = g
	}
}

// forward returns the G×1 predictions for the batch. Dropout is active
// when the tape records.
func (m *brpModel) forward(t *nn.Tape, b *brpBatch, rng *rand.Rand) *nn.Tensor {
	h := t.Const(b.n, brpFeatures, b.x)
	for i, l := range m.Layers {
		if b.g != nil {
			h = l.Forward(t, h, b.g)
		} else {
			// (A + I)·h·W + b, propagating first so that the bias add
			// fuses into Linear (the widths are equal after layer 0, and
			// layer 0 is narrower before W).
			h = t.Linear(t.SegmentSum(t.Gather(h, b.src), b.dst, b.n), l.W.V, l.B.V)
		}
		h = t.ReLU(m.Norms[i].Forward(t, h))
		if t.Recording() && m.cfg.Dropout > 0 {
			h = t.Dropout(h, m.cfg.Dropout, rng)
		}
	}
	return m.Head.Forward(t, t.Gather(h, b.global))
}

// loss returns the configured loss of pred against target.
func (m *brpModel) loss(t *nn.Tape, pred, target *nn.Tensor) *nn.Tensor {
	if m.cfg.Loss == LossL1 {
		return t.Mean(t.Abs(t.Sub(pred, target)))
	}
	return t.MSE(pred, target)
}

// Fit implements Predictor. It builds a new network from rng, trains it,
// and replaces the previous one only on success. Besides the common input
// errors it returns an error when rng is nil, when ValFraction leaves no
// training or validation sample, and when the training loss becomes NaN or
// infinite.
func (p *BRPNAS) Fit(train []Sample, y []float32, rng *rand.Rand) error {
	name := p.Name()
	if err := checkXY(name, train, y); err != nil {
		return err
	}
	if err := checkGraphs(name, train); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("baselines: %s: nil rng", name)
	}
	cfg := p.cfg
	enc := make([]brpGraph, len(train))
	for i := range train {
		enc[i] = encodeBRP(&train[i], cfg.Prune)
	}
	trainIdx := make([]int, len(train))
	for i := range trainIdx {
		trainIdx[i] = i
	}
	var valIdx []int
	if cfg.ValFraction > 0 {
		nVal := max(1, int(math.Round(cfg.ValFraction*float64(len(train)))))
		if nVal >= len(train) {
			return fmt.Errorf("baselines: %s: %d samples leave none for training after %d validation samples", name, len(train), nVal)
		}
		rng.Shuffle(len(trainIdx), func(i, j int) { trainIdx[i], trainIdx[j] = trainIdx[j], trainIdx[i] })
		valIdx = trainIdx[len(train)-nVal:]
		trainIdx = trainIdx[:len(train)-nVal]
	}

	m := newBRPModel(cfg, rng)
	params := nn.Collect(m)
	opt := optim.NewAdamW(params, optim.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: cfg.WeightDecay})
	tape := nn.NewTape()
	var batch brpBatch
	target := make([]float32, 0, cfg.BatchSize)

	var sched plateau
	var stop earlyStop
	var best []*nn.Tensor
	bestLoss := math.Inf(1)
	epoch := 0
	for epoch < cfg.Epochs {
		rng.Shuffle(len(trainIdx), func(i, j int) { trainIdx[i], trainIdx[j] = trainIdx[j], trainIdx[i] })
		for start := 0; start < len(trainIdx); start += cfg.BatchSize {
			idx := trainIdx[start:min(start+cfg.BatchSize, len(trainIdx))]
			batch.build(enc, idx, cfg.KipfNorm)
			target = target[:0]
			for _, k := range idx {
				target = append(target, y[k])
			}
			tape.Reset()
			pred := m.forward(tape, &batch, rng)
			loss := m.loss(tape, pred, tape.Const(len(idx), 1, target))
			if v := float64(loss.Item()); !finite(v) {
				return fmt.Errorf("baselines: %s: training loss is %v at epoch %d", name, v, epoch)
			}
			tape.Backward(loss)
			opt.Step()
		}
		epoch++
		if valIdx == nil {
			continue
		}
		vl := m.evalLoss(enc, valIdx, y, &batch)
		if vl < bestLoss {
			bestLoss = vl
			best = snapshot(params, best)
		}
		if epoch > brpWarmEpochs+1 { // the reference steps after its epoch index 20
			if sched.step(vl) {
				opt.SetLR(opt.LR() * brpLRFactor)
			}
			if stop.step(vl) {
				break
			}
		}
	}
	if best != nil {
		for i, np := range params {
			copy(np.Param.V.Data, best[i].Data)
		}
	}
	p.model, p.epochs = m, epoch
	return nil
}

// evalLoss returns the mean per-sample loss of m on the samples idx.
func (m *brpModel) evalLoss(enc []brpGraph, idx []int, y []float32, b *brpBatch) float64 {
	t := nn.NewInference()
	var sum float64
	for start := 0; start < len(idx); start += predictChunk {
		chunk := idx[start:min(start+predictChunk, len(idx))]
		b.build(enc, chunk, m.cfg.KipfNorm)
		t.Reset()
		pred := m.forward(t, b, nil)
		for i, k := range chunk {
			d := float64(pred.Data[i]) - float64(y[k])
			if m.cfg.Loss == LossL1 {
				sum += math.Abs(d)
			} else {
				sum += d * d
			}
		}
	}
	return sum / float64(len(idx))
}

// snapshot copies the parameter values into dst (allocated when nil).
func snapshot(params []nn.NamedParam, dst []*nn.Tensor) []*nn.Tensor {
	if dst == nil {
		dst = make([]*nn.Tensor, len(params))
		for i, np := range params {
			dst[i] = np.Param.V.Clone()
		}
		return dst
	}
	for i, np := range params {
		copy(dst[i].Data, np.Param.V.Data)
	}
	return dst
}

// plateau is torch.optim.lr_scheduler.ReduceLROnPlateau in mode "min" with
// a relative threshold, as the reference configures it.
type plateau struct {
	best float64
	bad  int
	init bool
}

// step records a validation loss and reports whether to reduce the rate.
func (s *plateau) step(v float64) bool {
	if !s.init || v < s.best*(1-brpLRThresh) {
		s.best, s.bad, s.init = v, 0, true
		return false
	}
	s.bad++
	if s.bad > brpLRPatience {
		s.bad = 0
		return true
	}
	return false
}

// earlyStop is the reference's EarlyStopping(mode="min", patience=35).
type earlyStop struct {
	best float64
	bad  int
	init bool
}

// step records a validation loss and reports whether to stop.
func (s *earlyStop) step(v float64) bool {
	if !s.init {
		s.best, s.init = v, true
		return false
	}
	if math.IsNaN(v) {
		return true
	}
	if v < s.best {
		s.best, s.bad = v, 0
		return false
	}
	s.bad++
	return s.bad >= brpESPatience
}

// Predict implements Predictor. It does not modify the predictor, so
// concurrent Predict calls are safe.
func (p *BRPNAS) Predict(xs []Sample, dst []float32) []float32 {
	if p.model == nil {
		panic(errNotFitted(p.Name()))
	}
	dst = grow(dst, len(xs))
	t := nn.NewInference()
	var b brpBatch
	enc := make([]brpGraph, 0, min(len(xs), predictChunk))
	idx := make([]int, 0, predictChunk)
	for start := 0; start < len(xs); start += predictChunk {
		end := min(start+predictChunk, len(xs))
		enc, idx = enc[:0], idx[:0]
		for i := start; i < end; i++ {
			enc = append(enc, encodeBRP(&xs[i], p.cfg.Prune))
			idx = append(idx, i-start)
		}
		b.build(enc, idx, p.cfg.KipfNorm)
		t.Reset()
		pred := p.model.forward(t, &b, nil)
		copy(dst[start:end], pred.Data)
	}
	return dst
}
