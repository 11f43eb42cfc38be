package baselines

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestFLOPSRecoversLine(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	xs, _ := allCells()
	const a, b = 4e-9, 0.07 // y = a·FLOPs + b
	train, test := split(rng, len(xs), 30, 2000)
	y := make([]float32, len(train))
	for i, k := range train {
		y[i] = float32(a*xs[k].FLOPs + b)
	}
	f := NewFLOPS()
	if err := f.Fit(pick(xs, train), y, nil); err != nil {
		t.Fatal(err)
	}
	gb, ga, gc := f.(*FLOPS).Coef()
	if math.Abs(ga-a) > 1e-6*a || math.Abs(gb-b) > 1e-6 || gc != 0 {
		t.Errorf("coefficients b=%g a=%g c=%g, want b=%g a=%g c=0", gb, ga, gc, b, a)
	}
	pred := f.Predict(pick(xs, test), nil)
	for i, k := range test {
		if want := a*xs[k].FLOPs + b; math.Abs(float64(pred[i])-want) > 1e-6 {
			t.Fatalf("cell %d: predicted %g, want %g", k, pred[i], want)
		}
	}
}

func TestFLOPSParamsRecoversPlane(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	const a, c, b = 2e-9, 3e-7, 0.1
	xs := make([]Sample, 50)
	y := make([]float32, len(xs))
	for i := range xs {
		xs[i].FLOPs = 20e6 + 100e6*rng.Float64()
		xs[i].Params = 0.1e6 + 1e6*rng.Float64()
		y[i] = float32(a*xs[i].FLOPs + c*xs[i].Params + b)
	}
	f := NewFLOPSParams()
	if f.Name() != "flops+params" {
		t.Errorf("name %q", f.Name())
	}
	if err := f.Fit(xs, y, nil); err != nil {
		t.Fatal(err)
	}
	pred := f.Predict(xs, nil)
	if e := MSE(pred, y); e > 1e-10 {
		t.Errorf("training MSE %g of an exact plane", e)
	}
	gb, ga, gc := f.(*FLOPS).Coef()
	if math.Abs(ga-a) > 1e-4*a || math.Abs(gc-c) > 1e-4*c || math.Abs(gb-b) > 1e-4 {
		t.Errorf("coefficients b=%g a=%g c=%g, want %g %g %g", gb, ga, gc, b, a, c)
	}
}

func TestFLOPSDegenerate(t *testing.T) {
	t.Parallel()
	xs := []Sample{{FLOPs: 5}, {FLOPs: 5}, {FLOPs: 5}}
	y := []float32{0.1, 0.2, 0.6}
	for _, f := range []Predictor{NewFLOPS(), NewFLOPSParams()} {
		if err := f.Fit(xs, y, nil); err != nil {
			t.Fatal(err)
		}
		got := f.Predict([]Sample{{FLOPs: 7, Params: 3}}, nil)[0]
		if math.Abs(float64(got)-0.3) > 1e-6 {
			t.Errorf("%s: equal FLOPs predict %g, want the mean 0.3", f.Name(), got)
		}
	}
	// One sample: the constant predictor.
	f := NewFLOPS()
	if err := f.Fit(xs[:1], y[:1], nil); err != nil {
		t.Fatal(err)
	}
	if got := f.Predict(xs[:1], nil)[0]; got != 0.1 {
		t.Errorf("one sample predicts %g, want 0.1", got)
	}
}

// opCost is the synthetic per-op latency of the layer-wise tests.
var opCost = [tNumOps]float64{tNone: 0.004, tSkip: 0.011, tConv1: 0.037, tConv3: 0.121, tPool: 0.023}

func TestLayerWiseRecoversTable(t *testing.T) {
	t.Parallel()
	const base = 0.05
	xs, ops := allCells()
	truth := make([]float64, len(xs))
	for k, o := range ops {
		truth[k] = base
		for _, op := range o {
			truth[k] += opCost[op]
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{10, 100, 900} {
		train, _ := split(rng, len(xs), n, 0)
		y := make([]float32, n)
		for i, k := range train {
			y[i] = float32(truth[k])
		}
		l := NewLayerWise()
		if err := l.Fit(pick(xs, train), y, nil); err != nil {
			t.Fatal(err)
		}
		pred := l.Predict(xs, nil)
		var worst float64
		for k := range xs {
			worst = math.Max(worst, math.Abs(float64(pred[k])-truth[k]))
		}
		if worst > 1e-4 {
			t.Errorf("n=%d: worst error %g on the 15625 cells, want ≤ 1e-4", n, worst)
		}
		b, cost := l.(*LayerWise).Table()
		if want := base + 6*opCost[tNone]; math.Abs(b-want) > 1e-4 {
			t.Errorf("n=%d: intercept %g, want %g", n, b, want)
		}
		for op := tSkip; op < tNumOps; op++ {
			if want := opCost[op] - opCost[tNone]; math.Abs(cost[OpNone+op]-want) > 1e-4 {
				t.Errorf("n=%d: cost of op %d = %g, want %g", n, op, cost[OpNone+op], want)
			}
		}
	}
}

func TestLayerWiseFewSamples(t *testing.T) {
	t.Parallel()
	// Two samples cannot separate four op types: the ridge keeps the table
	// finite and the fit still interpolates the samples.
	xs := []Sample{cell([6]int{tConv3, tConv3, tSkip, tNone, tPool, tConv1}), cell([6]int{tNone, tNone, tNone, tNone, tNone, tSkip})}
	y := []float32{0.8, 0.1}
	l := NewLayerWise()
	if err := l.Fit(xs, y, nil); err != nil {
		t.Fatal(err)
	}
	pred := l.Predict(xs, make([]float32, 0, 8))
	for i := range y {
		if math.Abs(float64(pred[i]-y[i])) > 1e-3 {
			t.Errorf("sample %d: %g, want %g", i, pred[i], y[i])
		}
	}
	for _, v := range l.Predict([]Sample{cell([6]int{tConv3, tConv3, tConv3, tConv3, tConv3, tConv3})}, nil) {
		if !finite(float64(v)) {
			t.Errorf("prediction %v", v)
		}
	}
}

// tinyBRP is a configuration small enough for unit tests.
func tinyBRP() BRPConfig {
	c := DefaultBRPConfig()
	c.Layers, c.Hidden = 3, 32
	c.LR, c.Epochs, c.BatchSize = 3e-3, 40, 16
	c.Dropout = 0
	return c
}

func TestBRPNASLearnsStructure(t *testing.T) {
	t.Parallel()
	xs, ops := allCells()
	raw := make([]float64, len(xs))
	for k, o := range ops {
		raw[k] = structural(o)
	}
	ys := normalise(raw)
	rng := rand.New(rand.NewPCG(7, 8))
	train, test := split(rng, len(xs), 300, 2000)
	p := NewBRPNAS(tinyBRP())
	start := time.Now()
	if err := p.Fit(pick(xs, train), pick(ys, train), rng); err != nil {
		t.Fatal(err)
	}
	fitTime := time.Since(start)
	pred := p.Predict(pick(xs, test), nil)
	rho, mse := Spearman(pred, pick(ys, test)), MSE(pred, pick(ys, test))
	t.Logf("brp-nas tiny: 300 train, %d epochs in %v: held-out Spearman %.4f, MSE %.5f", p.(*BRPNAS).EpochsRun(), fitTime, rho, mse)
	// The layer-wise sum cannot see the structure: measured on the same
	// 300 training and 2000 held-out cells it reaches Spearman 0.8787,
	// MSE 0.00501 (BRP-NAS: 0.9920, 0.00046). A constant predictor has
	// Spearman 0 and MSE = the variance of the target. The bar, ρ ≥ 0.97
	// and MSE ≤ half the layer-wise MSE, is one the layer-wise model does
	// not reach (checked below, so the bar stays above it).
	l := NewLayerWise()
	if err := l.Fit(pick(xs, train), pick(ys, train), nil); err != nil {
		t.Fatal(err)
	}
	lp := l.Predict(pick(xs, test), nil)
	lrho, lmse := Spearman(lp, pick(ys, test)), MSE(lp, pick(ys, test))
	t.Logf("layer-wise on the same target: Spearman %.4f, MSE %.5f", lrho, lmse)
	const bar = 0.97
	if lrho >= bar {
		t.Fatalf("layer-wise reaches Spearman %.4f ≥ the bar %.2f: the target no longer needs the structure", lrho, bar)
	}
	if rho < bar {
		t.Errorf("held-out Spearman %.4f, want ≥ %.2f (layer-wise %.4f)", rho, bar, lrho)
	}
	if mse > 0.5*lmse {
		t.Errorf("held-out MSE %.5f, want ≤ half the layer-wise %.5f", mse, lmse)
	}
}

func TestBRPNASVariants(t *testing.T) {
	t.Parallel()
	xs, ops := allCells()
	raw := make([]float64, len(xs))
	for k, o := range ops {
		raw[k] = structural(o)
	}
	ys := normalise(raw)
	for _, v := range []struct {
		name string
		edit func(*BRPConfig)
	}{
		{"kipf-norm", func(c *BRPConfig) { c.KipfNorm = true }},
		{"no-prune", func(c *BRPConfig) { c.Prune = false }},
		{"l1+validation+dropout", func(c *BRPConfig) { c.Loss, c.ValFraction, c.Dropout, c.Epochs = LossL1, 0.1, 0.002, 60 }},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			cfg := tinyBRP()
			v.edit(&cfg)
			rng := rand.New(rand.NewPCG(9, 10))
			train, test := split(rng, len(xs), 300, 1000)
			p := NewBRPNAS(cfg)
			if err := p.Fit(pick(xs, train), pick(ys, train), rng); err != nil {
				t.Fatal(err)
			}
			pred := p.Predict(pick(xs, test), nil)
			rho := Spearman(pred, pick(ys, test))
			t.Logf("%s: %d epochs, held-out Spearman %.4f, MSE %.5f", v.name, p.(*BRPNAS).EpochsRun(), rho, MSE(pred, pick(ys, test)))
			if rho < 0.8 {
				t.Errorf("held-out Spearman %.4f, want ≥ 0.8", rho)
			}
		})
	}
}

func TestBRPNASDeterministic(t *testing.T) {
	t.Parallel()
	xs, ops := allCells()
	raw := make([]float64, len(xs))
	for k, o := range ops {
		raw[k] = structural(o)
	}
	ys := normalise(raw)
	cfg := tinyBRP()
	cfg.Epochs, cfg.Dropout, cfg.ValFraction = 5, 0.1, 0.2
	fit := func(seed uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := NewBRPNAS(cfg)
		if err := p.Fit(xs[:100], ys[:100], rng); err != nil {
			t.Fatal(err)
		}
		return p.Predict(xs[100:400], nil)
	}
	a, b, c := fit(1), fit(1), fit(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed: prediction %d differs: %v vs %v", i, a[i], b[i])
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave identical predictions")
	}
}

func TestBRPNASRefitKeepsModelOnError(t *testing.T) {
	t.Parallel()
	xs, _ := allCells()
	y := make([]float32, 20)
	for i := range y {
		y[i] = 0.5
	}
	cfg := tinyBRP()
	cfg.Epochs = 2
	p := NewBRPNAS(cfg)
	rng := rand.New(rand.NewPCG(1, 1))
	if err := p.Fit(xs[:20], y, rng); err != nil {
		t.Fatal(err)
	}
	before := p.Predict(xs[:5], nil)
	y[3] = float32(math.NaN())
	if err := p.Fit(xs[:20], y, rng); err == nil {
		t.Fatal("NaN target accepted")
	}
	after := p.Predict(xs[:5], nil)
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("a failed Fit changed the model")
		}
	}
	var n int
	p.(*BRPNAS).Params(func(string, *nn.Param) { n++ })
	if n != 3*4+2 {
		t.Errorf("%d parameters visited, want %d", n, 3*4+2)
	}
	nntest.CheckParamFields(t, p.(*BRPNAS).model)
	if err := nn.CheckPaths(p.(*BRPNAS)); err != nil {
		t.Error(err)
	}
	nn.Collect(p.(*BRPNAS)) // panics on duplicate paths
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	xs, _ := allCells()
	good := xs[:4]
	y := []float32{0.1, 0.2, 0.3, 0.4}
	nanOps := append([]Sample(nil), good...)
	nanOps[2].Ops[3][OpConv3x3] = float32(math.NaN())
	infAdj := append([]Sample(nil), good...)
	infAdj[1].Adj[0][1] = float32(math.Inf(1))
	nanFLOPs := append([]Sample(nil), good...)
	nanFLOPs[0].FLOPs = math.NaN()
	infParams := append([]Sample(nil), good...)
	infParams[0].Params = math.Inf(-1)
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	rng := rand.New(rand.NewPCG(1, 2))

	cfg := tinyBRP()
	cfg.Epochs = 1
	all := []func() Predictor{NewFLOPS, NewFLOPSParams, NewLayerWise, func() Predictor { return NewBRPNAS(cfg) }}
	type tc struct {
		name string
		xs   []Sample
		y    []float32
		rng  *rand.Rand
		only map[string]bool // predictors that must reject it (nil: all)
	}
	cases := []tc{
		{"empty", nil, nil, rng, nil},
		{"mismatch", good, y[:3], rng, nil},
		{"nan target", good, []float32{0.1, nan, 0.3, 0.4}, rng, nil},
		{"inf target", good, []float32{0.1, 0.2, inf, 0.4}, rng, nil},
		{"nan flops", nanFLOPs, y, rng, map[string]bool{"flops": true, "flops+params": true}},
		{"inf params", infParams, y, rng, map[string]bool{"flops+params": true}},
		{"nan ops", nanOps, y, rng, map[string]bool{"layer-wise": true, "brp-nas": true}},
		{"inf adj", infAdj, y, rng, map[string]bool{"layer-wise": true, "brp-nas": true}},
		{"nil rng", good, y, nil, map[string]bool{"brp-nas": true}},
	}
	for _, mk := range all {
		for _, c := range cases {
			p := mk()
			err := p.Fit(c.xs, c.y, c.rng)
			if c.only == nil || c.only[p.Name()] {
				if err == nil {
					t.Errorf("%s: %s accepted", p.Name(), c.name)
				} else if !strings.HasPrefix(err.Error(), "baselines: "+p.Name()+":") {
					t.Errorf("%s: %s: error %q lacks the package prefix", p.Name(), c.name, err)
				}
			} else if err != nil {
				t.Errorf("%s: %s rejected: %v", p.Name(), c.name, err)
			}
		}
		// Predict before Fit panics.
		func() {
			p := mk()
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Predict before Fit did not panic", p.Name())
				}
			}()
			p.Predict(good, nil)
		}()
	}
	// Too few samples for a validation split.
	vc := cfg
	vc.ValFraction = 0.5
	if err := NewBRPNAS(vc).Fit(good[:1], y[:1], rng); err == nil {
		t.Error("validation split of one sample accepted")
	}
}

func TestBRPConfigValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultBRPConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*BRPConfig){
		func(c *BRPConfig) { c.Layers = 0 },
		func(c *BRPConfig) { c.Hidden = -1 },
		func(c *BRPConfig) { c.Dropout = 1 },
		func(c *BRPConfig) { c.LR = 0 },
		func(c *BRPConfig) { c.LR = math.NaN() },
		func(c *BRPConfig) { c.WeightDecay = -1 },
		func(c *BRPConfig) { c.Epochs = 0 },
		func(c *BRPConfig) { c.BatchSize = 0 },
		func(c *BRPConfig) { c.Loss = "huber" },
		func(c *BRPConfig) { c.ValFraction = 1 },
	} {
		c := DefaultBRPConfig()
		edit(&c)
		if c.Validate() == nil {
			t.Errorf("invalid config accepted: %+v", c)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewBRPNAS accepted an invalid config")
		}
	}()
	NewBRPNAS(BRPConfig{})
}

func TestPredictReusesDst(t *testing.T) {
	t.Parallel()
	xs, _ := allCells()
	y := []float32{0.1, 0.5, 0.9}
	l := NewLayerWise()
	if err := l.Fit(xs[:3], y, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 10)
	out := l.Predict(xs[:3], buf)
	if len(out) != 3 || &out[0] != &buf[0] {
		t.Error("Predict did not reuse a large enough dst")
	}
	if out := l.Predict(xs[:3], buf[:1:1]); len(out) != 3 {
		t.Error("Predict did not grow a short dst")
	}
}

// TestFitStandardisedPenalty pins the baselines' penalty, lambda·n on the
// standardised columns: x = (0, 1, 2), y = (1, 2, 4), lambda = 1. The
// column's population standard deviation is √(2/3), so the penalty 1·3 on
// the standardised coefficient is 3·(2/3) = 2 in the units of x, and
// β = Σx̃ỹ/(Σx̃² + 2) = 3/(2 + 2) = 3/4, b = ȳ − β·x̄ = 7/3 − 3/4 = 19/12.
// (Without the factor n: β = 3/(2 + 2/3) = 9/8; unstandardised:
// β = 3/(2 + 3) = 3/5.)
func TestFitStandardisedPenalty(t *testing.T) {
	b, beta, err := fitStandardised([]float64{0, 1, 2}, 1, []float64{1, 2, 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(beta[0]-0.75) > 1e-12 || math.Abs(b-19.0/12) > 1e-12 {
		t.Errorf("b %v β %v, want 19/12 3/4", b, beta[0])
	}
}
