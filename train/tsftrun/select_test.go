package tsftrun

// Known-value tests of the selection (Select and its parts) and of the
// partition rule, on hand-built numbers, networks and correlations.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn"
)

// grid is the default blend grid.
var grid = []float32{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0}

// TestPickChoiceOneStandardError: y = 0, the reference's cross-validated
// predictions are 0.1 everywhere (squared errors 0.01), candidate 1's
// squared errors are 0.008, 0.008, 0.008, 0.014. Paired differences d =
// 0.002, 0.002, 0.002, −0.004: mean 0.0005, sample std
// √((3·0.0015² + 0.0045²)/3) = 0.003, standard error 0.003/√4 = 0.0015.
// With se = 1 the gain (0.0005) is within one standard error: the
// reference stays. With se = 0 candidate 1 wins (MSE 0.0095). With
// se = 0.3 the bar is 0.00045 < 0.0005: candidate 1 wins.
func TestPickChoiceOneStandardError(t *testing.T) {
	y := []float32{0, 0, 0, 0}
	ref := []float32{0.1, 0.1, 0.1, 0.1}
	c1 := []float32{float32(math.Sqrt(0.008)), float32(-math.Sqrt(0.008)), float32(math.Sqrt(0.008)), float32(math.Sqrt(0.014))}
	add := []float32{5, 5, 5, 5} // a terrible layer-wise model: no blend helps
	oof := [][][]float32{{ref, c1}}
	for _, tc := range []struct {
		se    float64
		wantC int
		mse   float64
	}{{1, 0, 0.01}, {0, 1, 0.0095}, {0.3, 1, 0.0095}} {
		c, w, mse, refMSE := pickChoice(oof, [][]float32{add}, y, grid, tc.se, false)
		if c != tc.wantC || w != 1 || !near(mse, tc.mse, 1e-7) || !near(refMSE, 0.01, 1e-7) {
			t.Errorf("se %v: candidate %d W %v MSE %v (reference %v), want candidate %d W 1 MSE %v (0.01)", tc.se, c, w, mse, refMSE, tc.wantC, tc.mse)
		}
	}
}

// TestPickChoiceBlend: the reference predicts y + 0.2, the layer-wise
// model y − 0.2 on every cell, so W = 0.5 is the one exact weight (MSE 0);
// the paired gains are all 0.04 (std 0), far beyond any standard error.
// Without blending only the reference is available.
func TestPickChoiceBlend(t *testing.T) {
	y := []float32{0.3, 0.5, 0.1}
	ref := []float32{0.5, 0.7, 0.3}
	add := []float32{0.1, 0.3, -0.1}
	c, w, mse, _ := pickChoice([][][]float32{{ref}}, [][]float32{add}, y, grid, 1, false)
	if c != 0 || w != 0.5 || !near(mse, 0, 1e-12) {
		t.Fatalf("blend: candidate %d W %v MSE %v, want 0, 0.5, 0", c, w, mse)
	}
	c, w, mse, _ = pickChoice([][][]float32{{ref}}, [][]float32{add}, y, []float32{1}, 1, false)
	if c != 0 || w != 1 || !near(mse, 0.04, 1e-7) {
		t.Fatalf("no blend: candidate %d W %v MSE %v, want 0, 1, 0.04", c, w, mse)
	}
	// A tie keeps the earlier candidate: candidate 1 equals the reference.
	c, _, _, _ = pickChoice([][][]float32{{ref, slices.Clone(ref)}}, [][]float32{add}, y, []float32{1}, 0, false)
	if c != 0 {
		t.Fatalf("tie went to candidate %d", c)
	}
}

// TestPickChoiceRankGuard: y = 1, 2, 3, 4. The reference predicts 1.5,
// 1.6, 3.5, 3.6 (perfect order, τ = 1; MSE (0.25+0.16+0.25+0.16)/4 =
// 0.205); candidate 1 predicts 1, 2, 3.3, 3.2 (MSE (0.09+0.64)/4 = 0.1825,
// but cells 3 and 4 swapped: τ = (5−1)/6). Without the guard candidate 1
// wins (se 0); with it the reference stays. A constant reference (τ
// undefined) puts no constraint.
func TestPickChoiceRankGuard(t *testing.T) {
	y := []float32{1, 2, 3, 4}
	ref := []float32{1.5, 1.6, 3.5, 3.6}
	c1 := []float32{1, 2, 3.3, 3.2}
	add := [][]float32{{100, 100, 100, 100}}
	if c, _, mse, _ := pickChoice([][][]float32{{ref, c1}}, add, y, grid, 0, false); c != 1 || !near(mse, 0.1825, 1e-6) {
		t.Fatalf("no guard: candidate %d MSE %v, want 1 and 0.1825", c, mse)
	}
	if c, w, mse, _ := pickChoice([][][]float32{{ref, c1}}, add, y, grid, 0, true); c != 0 || w != 1 || !near(mse, 0.205, 1e-6) {
		t.Fatalf("guard: candidate %d W %v MSE %v, want the reference (0.205)", c, w, mse)
	}
	flat := []float32{2.5, 2.5, 2.5, 2.5}
	if c, _, _, _ := pickChoice([][][]float32{{flat, c1}}, add, y, grid, 0, true); c != 1 {
		t.Fatalf("constant reference: candidate %d, want 1", c)
	}
}

// TestPickChoiceAveragesRepeats: two cross-validations; a cell's squared
// error is the mean over them. y = 0; the reference predicts 0.1 in the
// first and 0.3 in the second: (0.01 + 0.09)/2 = 0.05 per cell. The
// candidate predicts 0.2 in both (0.04): better on average, though worse
// than the reference's first repeat.
func TestPickChoiceAveragesRepeats(t *testing.T) {
	y := []float32{0, 0}
	oof := [][][]float32{{{0.1, 0.1}, {0.2, 0.2}}, {{0.3, 0.3}, {0.2, 0.2}}}
	add := [][]float32{{9, 9}, {9, 9}}
	c, _, mse, refMSE := pickChoice(oof, add, y, []float32{1}, 0, false)
	if c != 1 || !near(mse, 0.04, 1e-7) || !near(refMSE, 0.05, 1e-7) {
		t.Fatalf("candidate %d MSE %v reference %v, want 1, 0.04, 0.05", c, mse, refMSE)
	}
}

// TestAffineFitKnownValues: exact lines are recovered; a negative slope
// or a constant predictor gives the mean.
func TestAffineFitKnownValues(t *testing.T) {
	p := []float32{1, 2, 3, 4}
	a, b := affineFit(p, []float32{2.5, 4.5, 6.5, 8.5}) // 2p + 0.5
	if !near(a, 2, 1e-6) || !near(b, 0.5, 1e-6) {
		t.Fatalf("2p + 0.5: a %v b %v", a, b)
	}
	a, b = affineFit(p, []float32{4, 3, 2, 1})
	if a != 0 || !near(b, 2.5, 1e-9) {
		t.Fatalf("negative slope: a %v b %v, want 0 and the mean 2.5", a, b)
	}
	a, b = affineFit([]float32{3, 3, 3}, []float32{1, 2, 6})
	if a != 0 || !near(b, 3, 1e-9) {
		t.Fatalf("constant predictor: a %v b %v, want 0 and 3", a, b)
	}
}

// TestCorrectionApplyKnownValues: A·p + B + Σ Beta[op] over the cell's
// six edges; the identity leaves p alone.
func TestCorrectionApplyKnownValues(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{3, 3, 0, 1, 2, 4}, {0, 0, 0, 0, 0, 0}})
	p := []float32{0.5, 0.2}
	c := Correction{A: 2, B: 0.1, Beta: [tsft.NumOps]float32{0.01, 0.02, 0.03, 0.04, 0.05}}
	c.apply(f, []int{0, 1}, p)
	// Cell 0: 2·0.5 + 0.1 + (0.04+0.04+0.01+0.02+0.03+0.05) = 1.29;
	// cell 1: 2·0.2 + 0.1 + 6·0.01 = 0.56.
	if !near(float64(p[0]), 1.29, 1e-6) || !near(float64(p[1]), 0.56, 1e-6) {
		t.Fatalf("corrected %v, want [1.29 0.56]", p)
	}
	q := []float32{0.5, 0.2}
	identity.apply(f, []int{0, 1}, q)
	if q[0] != 0.5 || q[1] != 0.2 {
		t.Fatalf("identity changed %v", q)
	}
}

// TestFitCorrectionRecoversExactRelation: y = 0.5·p + 0.1 + 0.02·#conv3
// exactly; leave-one-out picks the least penalty, whose shrinkage on these
// well-spread columns stays below 1e-3 in every prediction.
func TestFitCorrectionRecoversExactRelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cells := randomCells(40, rng)
	f := cellsFeatures(t, cells)
	idx := seq(0, 40)
	p := make([]float32, 40)
	y := make([]float32, 40)
	for i, c := range cells {
		p[i] = rng.Float32()
		y[i] = 0.5*p[i] + 0.1
		for _, op := range c {
			if op == 3 {
				y[i] += 0.02
			}
		}
	}
	c := fitCorrection(f, idx, y, p)
	got := slices.Clone(p)
	c.apply(f, idx, got)
	for i := range got {
		if !near(float64(got[i]), float64(y[i]), 1e-3) {
			t.Fatalf("cell %d: corrected %v, want %v (correction %+v)", i, got[i], y[i], c)
		}
	}
	// Fewer than 3 cells: the affine fallback.
	if c := fitCorrection(f, idx[:2], y[:2], p[:2]); c.Beta != ([tsft.NumOps]float32{}) {
		t.Fatalf("2 cells gave op coefficients %+v", c)
	}
}

// TestSelectKeepsAnAffinelyRightBase: the base network is handNet and the
// device's latency 2·handNet + 0.1 exactly. The calibrated base model then
// has zero cross-validated error; nothing can beat it by a standard error,
// so it is chosen and predicts the device exactly, with the base model's
// ranking.
func TestSelectKeepsAnAffinelyRightBase(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cells := randomCells(60, rng)
	f := cellsFeatures(t, cells)
	base := handNet()
	emb := []float32{0.4, 0, 0, 0}
	y := make([]float32, len(cells))
	for i, c := range cells {
		y[i] = float32(2*handNetValue(c, 0.4) + 0.1)
	}
	lab := seq(0, 20)
	cfg := SelectConfig{Folds: 5, Repeats: 1, SE: 1, Steps: []int{2, 5}, Blend: true, DeadRule: true}
	ad := AdaptConfig{FineTuneLR: 0.01}
	sel, _, err := Select(base, f, emb, lab, y[:20], ad, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Choice != ChoiceBase || sel.W != 1 || sel.Dead != 0 || sel.String() != ChoiceBase {
		t.Fatalf("chose %q (W %v, dead %v)", sel.String(), sel.W, sel.Dead)
	}
	q := seq(20, 60)
	got := sel.Predict(f, q, nil)
	for i, j := range q {
		if !near(float64(got[i]), float64(y[j]), 1e-4) {
			t.Fatalf("cell %d: %v, want %v", j, got[i], y[j])
		}
	}
	if sel.Net != base {
		t.Fatal("the calibrated base model is not the base network")
	}
}

// TestSelectFindsAnAdditiveDevice: a constant base model and an additive
// device (latency 0.1 + Σ cost[op]): the calibrated base predicts the mean
// and is far off; the layer-wise model (or the layer-wise correction) is
// exact, so the selection leaves the base model and predicts the query
// cells to 1e-3.
func TestSelectFindsAnAdditiveDevice(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cells := randomCells(80, rng)
	f := cellsFeatures(t, cells)
	cost := [tsft.NumOps]float32{0, 0.01, 0.03, 0.08, 0.02}
	y := make([]float32, len(cells))
	for i, c := range cells {
		y[i] = 0.1
		for _, op := range c {
			y[i] += cost[op]
		}
	}
	base := constModel(0.5)
	emb := []float32{0, 0, 0, 0}
	cfg := SelectConfig{Folds: 5, Repeats: 1, SE: 1, Steps: []int{1}, Blend: true}
	sel, _, err := Select(base, f, emb, seq(0, 30), y[:30], AdaptConfig{FineTuneLR: 1e-3}, cfg, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Choice == ChoiceBase && sel.W == 1 {
		t.Fatalf("kept the constant base model (CV MSE %v vs %v)", sel.CVMSE, sel.BaseCVMSE)
	}
	if !(sel.CVMSE < sel.BaseCVMSE/100) {
		t.Fatalf("CV MSE %v, base %v", sel.CVMSE, sel.BaseCVMSE)
	}
	q := seq(30, 80)
	got := sel.Predict(f, q, nil)
	for i, j := range q {
		if !near(float64(got[i]), float64(y[j]), 1e-3) {
			t.Fatalf("cell %d: %v, want %v (chose %s)", j, got[i], y[j], sel.String())
		}
	}
}

// TestSelectRejectsBadInput: bad settings and measurements are errors.
func TestSelectRejectsBadInput(t *testing.T) {
	f := cellsFeatures(t, randomCells(10, rand.New(rand.NewPCG(1, 1))))
	base := constModel(0.5)
	emb := []float32{0, 0, 0, 0}
	good := DefaultSelectConfig()
	for name, tc := range map[string]struct {
		cfg SelectConfig
		lab []int
		y   []float32
		emb []float32
	}{
		"one fold":        {SelectConfig{Repeats: 1, Folds: 1, SE: 1, Steps: []int{1}}, seq(0, 5), make([]float32, 5), emb},
		"negative SE":     {SelectConfig{Repeats: 1, Folds: 2, SE: -1, Steps: []int{1}}, seq(0, 5), make([]float32, 5), emb},
		"NaN SE":          {SelectConfig{Repeats: 1, Folds: 2, SE: math.NaN(), Steps: []int{1}}, seq(0, 5), make([]float32, 5), emb},
		"no steps":        {SelectConfig{Repeats: 1, Folds: 2, SE: 1}, seq(0, 5), make([]float32, 5), emb},
		"unsorted steps":  {SelectConfig{Repeats: 1, Folds: 2, SE: 1, Steps: []int{5, 2}}, seq(0, 5), make([]float32, 5), emb},
		"zero steps":      {SelectConfig{Repeats: 1, Folds: 2, SE: 1, Steps: []int{0, 2}}, seq(0, 5), make([]float32, 5), emb},
		"no repeats":      {SelectConfig{Folds: 2, SE: 1, Steps: []int{1}}, seq(0, 5), make([]float32, 5), emb},
		"one cell":        {good, seq(0, 1), make([]float32, 1), emb},
		"short labels":    {good, seq(0, 5), make([]float32, 4), emb},
		"NaN label":       {good, seq(0, 3), []float32{0, float32(math.NaN()), 0}, emb},
		"wrong embedding": {good, seq(0, 3), make([]float32, 3), []float32{0}},
	} {
		if _, _, err := Select(base, f, tc.emb, tc.lab, tc.y, AdaptConfig{FineTuneLR: 1e-3}, tc.cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestDeadOffsetRule: measured cells 0 (dead: every edge none) and 1, 2, 3
// (live). Live residuals 0.01, −0.01, 0.01 (RMSE 0.01); the dead cell's
// residual −0.3 exceeds 2·0.01, so the offset is −0.3. A dead residual of
// 0.015 stays within 0.02: no offset. No dead cell measured: no offset.
// The blend weight enters: with W = 0.5 the prediction is the mean of the
// two cross-validated predictions.
func TestDeadOffsetRule(t *testing.T) {
	cells := []tsft.Cell{{0, 0, 0, 0, 0, 0}, {3, 3, 3, 3, 3, 3}, {1, 1, 1, 1, 1, 1}, {2, 0, 0, 2, 0, 0}}
	if nasbench201.Arch(cells[0]).Connected() || !nasbench201.Arch(cells[3]).Connected() {
		t.Fatal("fixture: cell 0 must be dead, cell 3 live")
	}
	f := cellsFeatures(t, cells)
	lab := []int{0, 1, 2, 3}
	y := []float32{0.1, 0.51, 0.49, 0.51}
	oof := []float32{0.4, 0.5, 0.5, 0.5}
	if d := deadOffset(f, lab, y, oof, make([]float32, 4), 1); !near(float64(d), -0.3, 1e-6) {
		t.Fatalf("offset %v, want −0.3", d)
	}
	y[0] = 0.415
	if d := deadOffset(f, lab, y, oof, make([]float32, 4), 1); d != 0 {
		t.Fatalf("residual within twice the live RMSE gave offset %v", d)
	}
	if d := deadOffset(f, lab[1:], y[1:], oof[1:], make([]float32, 3), 1); d != 0 {
		t.Fatalf("no dead cell measured: offset %v", d)
	}
	// W = 0.5 with the other prediction 0.3 at the dead cell: prediction
	// 0.35, residual 0.1 − 0.35 = −0.25; live predictions (0.5+0.5)/2.
	y[0] = 0.1
	if d := deadOffset(f, lab, y, oof, []float32{0.3, 0.5, 0.5, 0.5}, 0.5); !near(float64(d), -0.25, 1e-6) {
		t.Fatalf("blended offset %v, want −0.25", d)
	}
	// Predict applies the offset to dead cells only.
	a := &Adapted{Net: constModel(0.5), W: 1, Emb: []float32{0, 0, 0, 0}, Dead: -0.3}
	got := a.Predict(f, []int{0, 1}, nil)
	if !near(float64(got[0]), 0.2, 1e-6) || !near(float64(got[1]), 0.5, 1e-6) {
		t.Fatalf("Predict with a dead offset: %v, want [0.2 0.5]", got)
	}
}

// TestLayerWiseFallsBackToTheMean: "no model" from FitAdditive (fewer than
// 3 cells) becomes the mean of the measurements, applied everywhere.
func TestLayerWiseFallsBackToTheMean(t *testing.T) {
	f := cellsFeatures(t, randomCells(5, rand.New(rand.NewPCG(3, 3))))
	add := layerWise(f, []int{0, 1}, []float32{0.2, 0.4})
	got := applyLayerWise(add, f, []int{2, 3, 4})
	for _, v := range got {
		if !near(float64(v), 0.3, 1e-7) {
			t.Fatalf("fallback predictions %v, want 0.3", got)
		}
	}
}

// handCorrelations builds Correlations from a function of the names.
func handCorrelations(names []string, rho func(a, b string) float64) *Correlations {
	c := &Correlations{Devices: names, rho: make([][]float64, len(names))}
	for i, a := range names {
		c.rho[i] = make([]float64, len(names))
		for j, b := range names {
			if i == j {
				c.rho[i][j] = 1
			} else {
				c.rho[i][j] = rho(a, b)
			}
		}
	}
	return c
}

func TestFamilyKnownValues(t *testing.T) {
	for d, want := range map[string]string{
		"titan_rtx_256": "titan_rtx", "titan_rtx_1": "titan_rtx", "titanx_32": "titanx", "1080ti_1": "1080ti",
		"essential_ph_1": "essential_ph_1", "gold_6226": "gold_6226", "pixel2": "pixel2", "silver_4210r": "silver_4210r", "fpga": "fpga",
	} {
		if got := Family(d); got != want {
			t.Errorf("Family(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestTrainForRule: test devices gpu_1 and b; gpu_32 is gpu_1's family,
// c is b's near-twin at exactly TwinRho, d at just below it: training is
// d and e.
func TestTrainForRule(t *testing.T) {
	names := []string{"b", "c", "d", "e", "gpu_1", "gpu_32"}
	c := handCorrelations(names, func(a, b string) float64 {
		pair := a + b
		switch pair {
		case "bc", "cb":
			return TwinRho
		case "bd", "db":
			return TwinRho - 1e-9
		}
		return 0.5
	})
	if got := c.TrainFor([]string{"gpu_1", "b"}, names); !slices.Equal(got, []string{"d", "e"}) {
		t.Fatalf("TrainFor = %v, want [d e]", got)
	}
	p := c.Custom([]string{"e"})
	if p.Name != "custom" || !slices.Equal(p.Test, []string{"e"}) || !slices.Equal(p.Train, []string{"b", "c", "d", "gpu_1", "gpu_32"}) {
		t.Fatalf("Custom(e) = %+v", p)
	}
}

// TestGenerateSplitsClusters: two clusters, {p, q, r} and {x, y, z},
// correlated 0.95 inside; across, ρ(i, j) = (w_i + w_j)/2 with w = p 0.10,
// q 0.15, r 0.30, x 0.05, y 0.12, z 0.25. The least-correlated bisection
// is the clusters (cut Σ = 9·avg ≈ 1.455 against ≥ 2.2 for any other), so
// Kernighan–Lin must end there from any start; trimming the test cluster
// to 2 drops its member most correlated with the other cluster (r or z,
// the largest w), and training is the whole other cluster.
func TestGenerateSplitsClusters(t *testing.T) {
	names := []string{"p", "q", "r", "x", "y", "z"}
	w := map[string]float64{"p": 0.10, "q": 0.15, "r": 0.30, "x": 0.05, "y": 0.12, "z": 0.25}
	cl := map[string]int{"p": 0, "q": 0, "r": 0, "x": 1, "y": 1, "z": 1}
	c := handCorrelations(names, func(a, b string) float64 {
		if cl[a] == cl[b] {
			return 0.95
		}
		return (w[a] + w[b]) / 2
	})
	sides := map[string]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		p := c.Generate(names, 2, seed)
		sides[p.Test[0]] = true
		switch {
		case slices.Equal(p.Test, []string{"p", "q"}):
			if !slices.Equal(p.Train, []string{"x", "y", "z"}) {
				t.Fatalf("seed %d: train %v", seed, p.Train)
			}
		case slices.Equal(p.Test, []string{"x", "y"}):
			if !slices.Equal(p.Train, []string{"p", "q", "r"}) {
				t.Fatalf("seed %d: train %v", seed, p.Train)
			}
		default:
			t.Fatalf("seed %d: test %v, want [p q] or [x y]", seed, p.Test)
		}
		if again := c.Generate(names, 2, seed); !slices.Equal(again.Test, p.Test) || !slices.Equal(again.Train, p.Train) {
			t.Fatalf("seed %d not deterministic", seed)
		}
	}
	if len(sides) != 2 {
		t.Logf("8 seeds tested one cluster only: %v", sides)
	}
}

// TestPartitionsOnHELPData: the documented partitions on the real data:
// help is HELP's split, nasflat-nd NASFLAT's lists, and in every other
// partition no test device's family or near-twin (ρ ≥ 0.99, recomputed
// here) trains, and titanx_32 is never tested. Distinct partitions run
// out with an error.
func TestPartitionsOnHELPData(t *testing.T) {
	env := realEnv(t)
	c := env.NewCorrelations()
	ps, err := c.Partitions(NumFixedPartitions + 2)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Name != "help" || !slices.Equal(ps[0].Train, DefaultSplit().Train) || !slices.Equal(ps[0].Test, DefaultSplit().Test) {
		t.Fatalf("first partition %+v", ps[0])
	}
	if ps[1].Name != "nasflat-nd" || len(ps[1].Train) != 9 || !slices.Equal(ps[1].Test, DefaultSplit().Test) {
		t.Fatalf("second partition %+v", ps[1])
	}
	names := map[string]bool{}
	for _, p := range ps {
		if names[p.Name] {
			t.Fatalf("partition %s twice", p.Name)
		}
		names[p.Name] = true
		if len(p.Train) < 3 || len(p.Test) == 0 || slices.Contains(p.Test, "titanx_32") {
			t.Fatalf("%s: %d training devices, test %v", p.Name, len(p.Train), p.Test)
		}
		if p.Name == "help" || p.Name == "nasflat-nd" {
			continue
		}
		for _, tr := range p.Train {
			for _, te := range p.Test {
				if tr == te || Family(tr) == Family(te) {
					t.Fatalf("%s: %s trains with %s tested", p.Name, tr, te)
				}
				if r := spearmanOf(env.Raw[tr], env.Raw[te]); r >= TwinRho {
					t.Fatalf("%s: near-twin %s (ρ %.4f with %s) trains", p.Name, tr, r, te)
				}
			}
		}
	}
	// 2080ti_256 is a near-twin of titan_rtx_256 (ρ ≥ 0.99).
	if r := c.Rho("2080ti_256", "titan_rtx_256"); r < TwinRho {
		t.Fatalf("ρ(2080ti_256, titan_rtx_256) = %v", r)
	}
	if _, err := c.Partitions(100); err == nil {
		t.Fatal("100 distinct partitions claimed")
	}
	if _, err := c.Partitions(0); err == nil {
		t.Fatal("0 partitions accepted")
	}
}

// realEnv loads HELP's data (every device) or skips without CPNTRAIN_DATA.
func realEnv(t testing.TB) *Env {
	t.Helper()
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA not set")
	}
	env, err := LoadEnv(root)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// spearmanOf is Spearman's ρ written apart from train/metrics: Pearson
// correlation of average ranks.
func spearmanOf(a, b []float32) float64 {
	rank := func(x []float32) []float64 {
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return x[idx[i]] < x[idx[j]] })
		r := make([]float64, len(x))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j)/2 + 1
			}
			i = j + 1
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i] / float64(len(ra))
		mb += rb[i] / float64(len(rb))
	}
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

// TestQuantFloorKnownValue: a device measured in whole milliseconds,
// latency 3 + (i mod 40) ms: over the pool min 3, max 42, so one
// millisecond is q = 0.9/39 normalised and the floor q²/12 =
// 0.81/(1521·12) = 4.43787e-5. "lin" (hundredths of a ms) has none.
func TestQuantFloorKnownValue(t *testing.T) {
	d := synthData()
	lat := make([]float32, len(d.Archs))
	for i := range lat {
		lat[i] = float32(3 + i%40)
	}
	d.Latency["int"] = lat
	env, err := NewEnv(d)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := env.QuantFloor("int")
	if !ok || !near(f, 0.81/(1521*12), 1e-12) {
		t.Fatalf("floor %v (%v), want 4.43787e-5", f, ok)
	}
	if _, ok := env.QuantFloor("lin"); ok {
		t.Fatal("lin reported as quantised")
	}
	if _, ok := env.QuantFloor("nosuch"); ok {
		t.Fatal("unknown device reported as quantised")
	}
}

// TestGenerateEndsAtALocalOptimum: on random correlation matrices (8
// devices, halves of 4, no trimming), no swap of a test and a training
// device lowers the correlation between the halves, Σ ρ over the cut,
// recomputed here from the matrix.
func TestGenerateEndsAtALocalOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	names := []string{"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"}
	for trial := 0; trial < 20; trial++ {
		m := map[string]float64{}
		for i, a := range names {
			for _, b := range names[i+1:] {
				v := 0.98 * rng.Float64()
				m[a+b], m[b+a] = v, v
			}
		}
		c := handCorrelations(names, func(a, b string) float64 { return m[a+b] })
		p := c.Generate(names, 4, uint64(trial))
		if len(p.Test) != 4 || len(p.Train) != 4 {
			t.Fatalf("trial %d: halves %v / %v", trial, p.Test, p.Train)
		}
		cut := func(test, train []string) float64 {
			var s float64
			for _, a := range test {
				for _, b := range train {
					s += m[a+b]
				}
			}
			return s
		}
		base := cut(p.Test, p.Train)
		for i := range p.Test {
			for j := range p.Train {
				te, tr := slices.Clone(p.Test), slices.Clone(p.Train)
				te[i], tr[j] = tr[j], te[i]
				if s := cut(te, tr); s < base-1e-9 {
					t.Fatalf("trial %d: swapping %s and %s lowers the cut from %v to %v", trial, p.Test[i], p.Train[j], base, s)
				}
			}
		}
	}
}

// TestFitComponentsCandidates: the candidates in order — calibrated base,
// one fine-tuned snapshot per step count (sharing one run: the 2-step
// snapshot equals a separate 2-step fine-tune), the layer-wise
// correction, and with Pseudo the pseudo-labelled model.
func TestFitComponentsCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cells := randomCells(30, rng)
	f := cellsFeatures(t, cells)
	base := handNet()
	emb := []float32{0.3, 0, 0, 0}
	y := make([]float32, 20)
	for i := range y {
		y[i] = rng.Float32()
	}
	ad := AdaptConfig{FineTuneLR: 0.01, Pseudo: 5, PseudoSteps: 2, PseudoLR: 0.01, PseudoBatch: 4, LabelWeight: 2}
	cfg := SelectConfig{Folds: 2, Repeats: 1, Steps: []int{1, 2}}
	tp := nn.NewTape()
	comps, preds := fitComponents(tp, base, f, emb, seq(0, 20), y, seq(20, 30), ad, cfg, rand.New(rand.NewPCG(1, 1)))
	var names []string
	for _, c := range comps {
		names = append(names, fmt.Sprintf("%s/%d", c.choice, c.steps))
	}
	want := []string{ChoiceBase + "/0", ChoiceFineTuned + "/1", ChoiceFineTuned + "/2", ChoiceCorrected + "/0"}
	if !slices.Equal(names, want) || len(preds) != 4 {
		t.Fatalf("candidates %v, want %v", names, want)
	}
	ad2 := ad
	ad2.FineTuneSteps = 2
	sep := fineTune(tp, base, f, emb, seq(0, 20), y, ad2)
	got := Predict(sep, f, seq(20, 30), emb, nil)
	for i := range got {
		if got[i] != preds[2][i] {
			t.Fatalf("2-step snapshot %v differs from a separate 2-step fine-tune %v", preds[2], got)
		}
	}
	cfg.Pseudo = true
	comps, _ = fitComponents(tp, base, f, emb, seq(0, 20), y, seq(20, 30), ad, cfg, rand.New(rand.NewPCG(1, 1)))
	if len(comps) != 5 || comps[4].choice != ChoicePseudo || comps[4].steps != 2 {
		t.Fatalf("with Pseudo: %d candidates, last %q", len(comps), comps[len(comps)-1].choice)
	}
	// oofChoice names each index as fitComponents orders them (Select's
	// refit finds the winner by that name).
	for i, comp := range comps {
		if n := oofChoice(cfg, i); n.choice != comp.choice || n.steps != comp.steps {
			t.Fatalf("oofChoice(%d) = %s/%d, fitComponents has %s/%d", i, n.choice, n.steps, comp.choice, comp.steps)
		}
	}
	if _, _, err := Select(base, f, emb, seq(0, 20), y, ad, SelectConfig{Folds: 2, Repeats: 1, SE: 1, Steps: []int{1}, Pseudo: true}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
}
