package tsftrun

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/internal/ridge"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// Correction is a linear correction of the network's output n(x) on a
// device: A·n(x) + B + Σ_op Beta[op]·count(op in x). The identity is
// A = 1, the rest 0.
type Correction struct {
	A, B float32
	Beta [tsft.NumOps]float32
}

// identity is the correction that leaves the network alone.
var identity = Correction{A: 1}

// apply corrects the network predictions p of the cells idx in place.
func (c Correction) apply(f *tsft.Features, idx []int, p []float32) {
	if c == identity {
		return
	}
	for i, j := range idx {
		v := c.A*p[i] + c.B
		for _, op := range f.Cells[j] {
			v += c.Beta[op]
		}
		p[i] = v
	}
}

// Candidates of the selection, in the order of preference on a tie.
const (
	// ChoiceBase is the base model with an affine calibration
	// a·f(x) + b (a ≥ 0) fitted on the measured cells: the ranking of the
	// base model, on the device's scale. It is the reference the others
	// must beat.
	ChoiceBase = "base model, calibrated"
	// ChoiceFineTuned is the base model fine-tuned on the measured cells
	// (stage 1 of TSFT); the number of steps is part of the choice.
	ChoiceFineTuned = "fine-tuned"
	// ChoiceCorrected is the base model with a layer-wise correction: the
	// ridge regression of the measured latencies on the base prediction
	// and the operation counts (λ by exact leave-one-out).
	ChoiceCorrected = "base model + layer-wise correction"
	// ChoicePseudo is stage 2 of TSFT: a copy of the base model trained on
	// the measured cells and on cells pseudo-labelled by the fine-tuned
	// model (only when SelectConfig.Pseudo).
	ChoicePseudo = "pseudo-labelled"
	// ChoiceLayerWise is the layer-wise (additive) model alone.
	ChoiceLayerWise = "layer-wise"
)

// SelectConfig tunes Select.
type SelectConfig struct {
	// Folds is the number of cross-validation folds (capped at the number
	// of measured cells; 0: leave-one-out), Repeats the number of
	// cross-validations with different fold assignments whose squared
	// errors are averaged.
	Folds   int `json:"folds"`
	Repeats int `json:"repeats"`
	// SE is the one-standard-error rule: a candidate replaces the
	// calibrated base model only if its cross-validated squared error is
	// lower by more than SE standard errors of the paired difference
	// (0: the lowest error wins).
	SE float64 `json:"se"`
	// Steps are the fine-tuning step counts tried (one run per fold,
	// snapshots at each count); the largest is the run's length.
	Steps []int `json:"steps"`
	// Pseudo adds TSFT's stage 2 (AdaptConfig's pseudo-label settings) as
	// a candidate: one extra stage-2 run per fold and at the end.
	Pseudo bool `json:"pseudo"`
	// Blend tries W·candidate + (1−W)·layer-wise for W in Weights
	// (nil: 1, 0.9, …, 0; 1 is always tried first).
	Blend   bool      `json:"blend"`
	Weights []float32 `json:"weights,omitempty"`
	// DeadRule applies the dead-cell correction (see Selected.Dead).
	DeadRule bool `json:"dead_rule"`
	// RankGuard excludes candidates whose cross-validated predictions rank
	// the measured cells worse (Kendall's τ) than the calibrated base
	// model's do.
	RankGuard bool `json:"rank_guard"`
}

// DefaultSelectConfig returns the settings of `cpntrain tsft`.
func DefaultSelectConfig() SelectConfig {
	return SelectConfig{Folds: 5, Repeats: 1, SE: 1, Steps: []int{20, 50, 100}, Blend: true, DeadRule: true, RankGuard: true}
}

// Validate reports settings Select cannot run.
func (c SelectConfig) Validate() error {
	if c.Folds < 2 && c.Folds != 0 {
		return fmt.Errorf("tsft: selection needs at least 2 folds (0: leave-one-out), got %d", c.Folds)
	}
	if c.Repeats < 1 {
		return fmt.Errorf("tsft: selection needs at least 1 cross-validation, got %d repeats", c.Repeats)
	}
	if !(c.SE >= 0) || math.IsInf(c.SE, 0) {
		return fmt.Errorf("tsft: the standard-error rule needs a finite SE ≥ 0, got %v", c.SE)
	}
	if len(c.Steps) == 0 || !slices.IsSorted(c.Steps) || c.Steps[0] <= 0 {
		return fmt.Errorf("tsft: fine-tune step counts must be positive and increasing, got %v", c.Steps)
	}
	return nil
}

// Selected is the predictor Select chose, with what it chose.
type Selected struct {
	Adapted
	// Choice names the candidate (one of the Choice constants), Steps its
	// fine-tuning steps (0 unless fine-tuned or pseudo-labelled).
	Choice string
	Steps  int
	// CVMSE is the chosen predictor's cross-validated MSE on the measured
	// cells, BaseCVMSE the calibrated base model's.
	CVMSE, BaseCVMSE float64
}

// String describes the choice, e.g. "fine-tuned (50 steps) 0.7 + layer-wise 0.3".
func (s *Selected) String() string {
	name := s.Choice
	if s.Steps > 0 {
		name = fmt.Sprintf("%s (%d steps)", name, s.Steps)
	}
	switch {
	case s.W == 0:
		name = ChoiceLayerWise
	case s.W < 1:
		name = fmt.Sprintf("%.1f·%s + %.1f·layer-wise", s.W, name, 1-s.W)
	}
	if s.Dead != 0 {
		name += fmt.Sprintf(", dead cells %+.3f", s.Dead)
	}
	return name
}

// component is one candidate fitted on a subset of the measured cells.
type component struct {
	choice string
	steps  int
	net    *tsft.Model
	corr   *Correction // nil: the network alone
}

// fitComponents fits every candidate on the cells idx (latencies y) and
// returns them with their predictions at the cells eval. Fine-tuned
// snapshots share one run.
func fitComponents(tp *nn.Tape, base *tsft.Model, f *tsft.Features, emb []float32, idx []int, y []float32, eval []int, adapt AdaptConfig, cfg SelectConfig, rng *rand.Rand) ([]component, [][]float32) {
	var comps []component
	var preds [][]float32
	// The calibrated base model.
	bl := Predict(base, f, idx, emb, nil)
	be := Predict(base, f, eval, emb, nil)
	a, b := affineFit(bl, y)
	cal := Correction{A: float32(a), B: float32(b)}
	p := slices.Clone(be)
	cal.apply(f, eval, p)
	comps, preds = append(comps, component{choice: ChoiceBase, net: base, corr: &cal}), append(preds, p)
	// Fine-tuned snapshots.
	ft := base.Clone()
	bb := batchBuf{y: slices.Clone(y), emb: slices.Clone(emb)}
	opt := optim.NewAdam(nn.Collect(ft), optim.AdamConfig{LR: adapt.FineTuneLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	done := 0
	for _, s := range cfg.Steps {
		for ; done < s; done++ {
			bb.step(tp, ft, f, idx, nil)
			opt.Step()
		}
		comps = append(comps, component{choice: ChoiceFineTuned, steps: s, net: ft.Clone()})
		preds = append(preds, Predict(ft, f, eval, emb, nil))
	}
	// The layer-wise correction of the base model.
	corr := fitCorrection(f, idx, y, bl)
	p = slices.Clone(be)
	corr.apply(f, eval, p)
	comps, preds = append(comps, component{choice: ChoiceCorrected, net: base, corr: &corr}), append(preds, p)
	if cfg.Pseudo && adapt.Pseudo > 0 {
		st := pseudoStage(tp, base, comps[len(cfg.Steps)].net, f, emb, idx, y, unmeasured(f, idx), adapt, rng)
		comps = append(comps, component{choice: ChoicePseudo, steps: cfg.Steps[len(cfg.Steps)-1], net: st})
		preds = append(preds, Predict(st, f, eval, emb, nil))
	}
	return comps, preds
}

// oofChoice names candidate c of fitComponents under cfg (the order:
// calibrated base, one fine-tuned model per step count, layer-wise
// correction, pseudo-labelled).
func oofChoice(cfg SelectConfig, c int) component {
	switch {
	case c == 0:
		return component{choice: ChoiceBase}
	case c <= len(cfg.Steps):
		return component{choice: ChoiceFineTuned, steps: cfg.Steps[c-1]}
	case c == len(cfg.Steps)+1:
		return component{choice: ChoiceCorrected}
	}
	return component{choice: ChoicePseudo, steps: cfg.Steps[len(cfg.Steps)-1]}
}

// unmeasured returns every cell of f not in idx (the pseudo-label pool).
func unmeasured(f *tsft.Features, idx []int) []int {
	in := make([]bool, len(f.Cells))
	for _, i := range idx {
		in[i] = true
	}
	var out []int
	for i := range f.Cells {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}

// meanModel is the Lambda of layerWise's fallback: the ridge limit λ → ∞,
// whose coefficients are 0 and whose intercept is the mean — unlike
// FitAdditive's "no model" (Lambda = +Inf), which predicts 0.
const meanModel = math.MaxFloat64

// layerWise fits the additive model; when it declines ("no model") the
// layer-wise prediction is the mean measured latency (Lambda meanModel).
func layerWise(f *tsft.Features, idx []int, y []float32) tsft.Additive {
	add := tsft.FitAdditive(f, idx, y)
	if math.IsInf(add.Lambda, 1) {
		var m float64
		for _, v := range y {
			m += float64(v)
		}
		add = tsft.Additive{B: float32(m / float64(len(y))), Lambda: meanModel}
	}
	return add
}

// applyLayerWise returns the additive model's predictions for the cells
// idx (0 for "no model").
func applyLayerWise(add tsft.Additive, f *tsft.Features, idx []int) []float32 {
	return add.Apply(f, idx, make([]float32, len(idx)))
}

// affineFit returns the least-squares a·p + b ≈ y with a ≥ 0 (a = 0, b the
// mean of y when the slope would be negative or p is constant).
func affineFit(p, y []float32) (a, b float64) {
	n := float64(len(p))
	var mp, my float64
	for i := range p {
		mp += float64(p[i])
		my += float64(y[i])
	}
	mp, my = mp/n, my/n
	var sxy, sxx float64
	for i := range p {
		dx := float64(p[i]) - mp
		sxy += dx * (float64(y[i]) - my)
		sxx += dx * dx
	}
	if !(sxx > 0) || !(sxy > 0) {
		return 0, my
	}
	a = sxy / sxx
	return a, my - a*mp
}

// correctionGrid is the ridge strengths fitCorrection chooses from.
var correctionGrid = []float64{1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100}

// fitCorrection fits A·p + B + Σ Beta·counts ≈ y by ridge regression on
// the centred columns [p, counts] with λ by exact leave-one-out; it falls
// back to the affine calibration when the regression cannot be solved.
func fitCorrection(f *tsft.Features, idx []int, y, p []float32) Correction {
	const q = 1 + tsft.NumOps
	x := make([]float64, 0, len(idx)*q)
	yy := make([]float64, len(y))
	for i, j := range idx {
		x = append(x, float64(p[i]))
		var cnt [tsft.NumOps]float64
		for _, op := range f.Cells[j] {
			cnt[op]++
		}
		x = append(x, cnt[:]...)
		yy[i] = float64(y[i])
	}
	a, b := affineFit(p, y)
	fallback := Correction{A: float32(a), B: float32(b)}
	if len(idx) < 3 {
		return fallback
	}
	pr, err := ridge.New(x, q, yy, ridge.Centre)
	if err != nil {
		return fallback
	}
	lam, _, err := pr.SelectLOO(correctionGrid)
	if err != nil {
		return fallback
	}
	b0, beta, err := pr.Fit(lam)
	if err != nil {
		return fallback
	}
	c := Correction{A: float32(beta[0]), B: float32(b0)}
	for k := range c.Beta {
		c.Beta[k] = float32(beta[1+k])
	}
	return c
}

// pseudoStage is TSFT's stage 2: a fresh copy of base trained on the
// measured cells (weight LabelWeight) and on cells of pool pseudo-labelled
// by ft.
func pseudoStage(tp *nn.Tape, base, ft *tsft.Model, f *tsft.Features, emb []float32, labelled []int, y []float32, pool []int, cfg AdaptConfig, rng *rand.Rand) *tsft.Model {
	np := min(cfg.Pseudo, len(pool))
	perm := rng.Perm(len(pool))[:np]
	pidx := make([]int, np)
	for i, p := range perm {
		pidx[i] = pool[p]
	}
	py := Predict(ft, f, pidx, emb, nil)
	all := append(slices.Clone(labelled), pidx...)
	ally := append(slices.Clone(y), py...)
	allw := make([]float32, len(all))
	for i := range allw {
		allw[i] = 1
		if i < len(labelled) {
			allw[i] = cfg.LabelWeight
		}
	}
	st := base.Clone()
	opt := optim.NewAdam(nn.Collect(st), optim.AdamConfig{LR: cfg.PseudoLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	bs := min(cfg.PseudoBatch, len(all))
	bi := make([]int, bs)
	b2 := batchBuf{emb: slices.Clone(emb)}
	wb := make([]float32, bs)
	for s := 0; s < cfg.PseudoSteps; s++ {
		b2.y = b2.y[:0]
		for k := 0; k < bs; k++ {
			j := rng.IntN(len(all))
			bi[k] = all[j]
			b2.y = append(b2.y, ally[j])
			wb[k] = allw[j]
		}
		b2.step(tp, st, f, bi, wb)
		opt.Step()
	}
	return st
}

// Select adapts base to a device by choosing, by cross-validation on the
// measured cells only, among the calibrated base model, the model
// fine-tuned for each of cfg.Steps, the base model with a layer-wise
// correction, (with cfg.Pseudo) TSFT's pseudo-labelled model, and (with
// cfg.Blend) each of them blended with the layer-wise model. Every
// candidate is fitted on the training folds and scored on the held-out
// fold; the lowest mean squared error wins, but with the
// one-standard-error rule (cfg.SE) a candidate replaces the calibrated base
// model only if it is better by more than SE standard errors of the paired
// per-cell difference. The winner is refitted on all measured cells.
// Whatever is chosen, the ranking falls back to the base model's when no
// adaptation is measurably better.
//
// With cfg.DeadRule, cells with no path from input to output (dead cells,
// see nasbench201.Arch.Connected) get an offset when measured dead cells
// show one: the mean cross-validated residual of the measured dead cells,
// applied to every dead cell, if it exceeds twice the cross-validated
// root-mean-square error of the measured live cells (a runtime that drops
// the dead computation, as on pixel3 and raspi4, measures them far below
// any prediction from operation counts).
func Select(base *tsft.Model, f *tsft.Features, emb []float32, labelled []int, y []float32, adapt AdaptConfig, cfg SelectConfig, rng *rand.Rand) (*Selected, time.Duration, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, 0, err
	}
	if len(labelled) < 2 || len(labelled) != len(y) {
		return nil, 0, fmt.Errorf("tsft: selection needs at least 2 measured cells with one latency each, got %d cells and %d latencies", len(labelled), len(y))
	}
	if len(emb) != base.Config.Embed {
		return nil, 0, fmt.Errorf("tsft: device embedding has %d values, the model expects %d", len(emb), base.Config.Embed)
	}
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, 0, fmt.Errorf("tsft: measured latency %d is %v", i, v)
		}
	}
	tp := nn.NewTape()
	n := len(labelled)
	k := min(cfg.Folds, n)
	if k == 0 {
		k = n
	}
	oof := make([][][]float32, cfg.Repeats) // per repeat, component, measured cell
	oofAdd := make([][]float32, cfg.Repeats)
	for rep := range oof {
		perm := rng.Perm(n)
		oofAdd[rep] = make([]float32, n)
		for fold := 0; fold < k; fold++ {
			var tr, te, pos []int
			var ytr []float32
			for r, p := range perm {
				if r%k == fold {
					te, pos = append(te, labelled[p]), append(pos, p)
				} else {
					tr, ytr = append(tr, labelled[p]), append(ytr, y[p])
				}
			}
			cs, preds := fitComponents(tp, base, f, emb, tr, ytr, te, adapt, cfg, rng)
			if oof[rep] == nil {
				oof[rep] = make([][]float32, len(cs))
				for c := range oof[rep] {
					oof[rep][c] = make([]float32, n)
				}
			}
			for c := range cs {
				for i, p := range pos {
					oof[rep][c][p] = preds[c][i]
				}
			}
			ad := applyLayerWise(layerWise(f, tr, ytr), f, te)
			for i, p := range pos {
				oofAdd[rep][p] = ad[i]
			}
		}
	}
	weights := []float32{1}
	if cfg.Blend {
		weights = cfg.Weights
		if weights == nil {
			weights = []float32{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0}
		}
	}
	c, w, bestMSE, baseMSE := pickChoice(oof, oofAdd, y, weights, cfg.SE, cfg.RankGuard)
	// Refit the winner on every measured cell: the fine-tune run only as
	// far as the winner needs it, stage 2 only if it won.
	won := oofChoice(cfg, c)
	rc := cfg
	rc.Pseudo = won.choice == ChoicePseudo
	if won.choice == ChoiceFineTuned {
		rc.Steps = cfg.Steps[:slices.Index(cfg.Steps, won.steps)+1]
	} else if !rc.Pseudo {
		rc.Steps = nil
	}
	all, _ := fitComponents(tp, base, f, emb, labelled, y, nil, adapt, rc, rng)
	win := all[slices.IndexFunc(all, func(x component) bool { return x.choice == won.choice && x.steps == won.steps })]
	sel := &Selected{
		Adapted: Adapted{Net: win.net, Corr: win.corr, W: w, Emb: slices.Clone(emb)},
		Choice:  win.choice, Steps: win.steps, CVMSE: bestMSE, BaseCVMSE: baseMSE,
	}
	if w < 1 {
		sel.Add = layerWise(f, labelled, y)
	} else {
		sel.Add = tsft.Additive{Lambda: math.Inf(1)}
	}
	if cfg.DeadRule {
		sel.Dead = deadOffset(f, labelled, y, oof[0][c], oofAdd[0], w)
	}
	return sel, time.Since(start), nil
}

// pickChoice returns the candidate c and blend weight w (W·oof[c] +
// (1−W)·oofAdd, W ∈ weights) whose
// cross-validated predictions have the least mean squared error against y
// (ties: the earlier candidate, then the larger W), subject to the
// one-standard-error rule against the reference (candidate 0, W = 1): the
// winner must beat it by more than se standard errors of the paired
// per-cell difference of squared errors, or the reference is kept. oof and
// oofAdd hold one cross-validation per repeat (oof[r][c][i]); a cell's
// squared error is its mean over the repeats. It also returns the chosen
// and the reference MSE. With rankGuard, a candidate whose Kendall τ
// between its cross-validated predictions and y (mean over repeats) is
// below the reference's is not considered (unless the reference's τ is
// undefined, as for a constant prediction).
func pickChoice(oof [][][]float32, oofAdd [][]float32, y []float32, weights []float32, se float64, rankGuard bool) (c int, w float32, mse, refMSE float64) {
	n := len(y)
	tau := func(c int, w float32) float64 {
		var t float64
		p := make([]float32, n)
		for r := range oof {
			for i := range p {
				p[i] = w*oof[r][c][i] + (1-w)*oofAdd[r][i]
			}
			t += metrics.Kendall(p, y) / float64(len(oof))
		}
		return t
	}
	refTau := math.NaN()
	if rankGuard {
		refTau = tau(0, 1)
	}
	errs := func(c int, w float32) []float64 {
		e := make([]float64, n)
		for r := range oof {
			for i := range e {
				d := float64(w*oof[r][c][i] + (1-w)*oofAdd[r][i] - y[i])
				e[i] += d * d / float64(len(oof))
			}
		}
		return e
	}
	mean := func(e []float64) float64 {
		var s float64
		for _, v := range e {
			s += v
		}
		return s / float64(len(e))
	}
	refErr := errs(0, 1)
	refMSE = mean(refErr)
	c, w, mse = 0, 1, refMSE
	for k := range oof[0] {
		for _, v := range weights {
			if !math.IsNaN(refTau) && !(tau(k, v) >= refTau-1e-12) {
				continue
			}
			if e := mean(errs(k, v)); e < mse-1e-12 {
				c, w, mse = k, v, e
			}
		}
	}
	if (c != 0 || w != 1) && se > 0 {
		be := errs(c, w)
		d := make([]float64, n)
		for i := range d {
			d[i] = refErr[i] - be[i]
		}
		m, s := metrics.MeanStd(d)
		if m <= se*s/math.Sqrt(float64(n)) {
			return 0, 1, refMSE, refMSE
		}
	}
	return c, w, mse, refMSE
}

// deadOffset returns the dead-cell offset of Select (0 when no dead cell
// was measured or the residual is within twice the live cells' RMSE).
func deadOffset(f *tsft.Features, labelled []int, y, oof, oofAdd []float32, w float32) float32 {
	var dead, live []float64
	for i, c := range labelled {
		r := float64(y[i] - (w*oof[i] + (1-w)*oofAdd[i]))
		if nasbench201.Arch(f.Cells[c]).Connected() {
			live = append(live, r*r)
		} else {
			dead = append(dead, r)
		}
	}
	if len(dead) == 0 || len(live) == 0 {
		return 0
	}
	md, _ := metrics.MeanStd(dead)
	ml, _ := metrics.MeanStd(live)
	if math.Abs(md) <= 2*math.Sqrt(ml) {
		return 0
	}
	return float32(md)
}
