package tsftrun

// Known-value tests of the training stages. The networks here are built by
// hand so that their output is a known function of the cell:
//
//   - constModel: every weight zero, only the output bias b set. The hidden
//     ReLUs output ReLU(0) = 0, so the prediction is b for every cell and
//     the only non-zero gradient is ∂L/∂b (∂L/∂W_out = hᵀ·∂L/∂out = 0 and
//     ∂L/∂h = ∂L/∂out·W_outᵀ = 0). Adam leaves a parameter with a zero
//     gradient unchanged (m = v = 0 → update 0/(0+ε) = 0), so training such
//     a model is a scalar Adam run on b, re-derived in float64 below.
//   - handNet: one hidden layer whose units compute an AND of two edges
//     (a non-additive interaction), an op count and an embedding value.

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// constModel returns a model (embedding width 4) predicting b everywhere.
func constModel(b float32) *tsft.Model {
	m := tsft.New(tsft.Config{Embed: 4, Hidden: []int{8, 8}}, rand.New(rand.NewPCG(9, 9)))
	for _, p := range nn.Collect(m) {
		clear(p.Param.V.Data)
	}
	last := m.Head.Layers[len(m.Head.Layers)-1]
	last.B.V.Data[0] = b
	return m
}

// handNet returns a model (embedding width 4, one hidden layer of 3 units)
// computing
//
//	net(c, emb) = 0.05 + 0.1·[c[0] = 3 ∧ c[5] = 3] + 0.02·#{e: c[e] = 2} + 0.5·max(emb[0], 0)
//
// Input layout: one-hot edge op e·5+op (30 columns), then the embedding.
// W is In×Out (x·W + b).
func handNet() *tsft.Model {
	m := tsft.New(tsft.Config{Embed: 4, Hidden: []int{3}}, rand.New(rand.NewPCG(9, 9)))
	for _, p := range nn.Collect(m) {
		clear(p.Param.V.Data)
	}
	l0, l1 := m.Head.Layers[0], m.Head.Layers[1]
	const out = 3
	w := l0.W.V.Data
	// unit 0: ReLU(x[edge 0 = op 3] + x[edge 5 = op 3] − 1) ∈ {0, 1}: both edges conv3.
	w[(0*tsft.NumOps+3)*out+0] = 1
	w[(5*tsft.NumOps+3)*out+0] = 1
	l0.B.V.Data[0] = -1
	// unit 1: ReLU(Σ_e x[edge e = op 2]) = the number of op-2 edges.
	for e := 0; e < tsft.NumEdges; e++ {
		w[(e*tsft.NumOps+2)*out+1] = 1
	}
	// unit 2: ReLU(emb[0]).
	w[(tsft.EdgeFeatures+0)*out+2] = 1
	copy(l1.W.V.Data, []float32{0.1, 0.02, 0.5})
	l1.B.V.Data[0] = 0.05
	return m
}

// handNetValue is handNet's function written out independently.
func handNetValue(c tsft.Cell, emb0 float64) float64 {
	v := 0.05 + 0.5*math.Max(emb0, 0)
	if c[0] == 3 && c[5] == 3 {
		v += 0.1
	}
	for _, op := range c {
		if op == 2 {
			v += 0.02
		}
	}
	return v
}

// adamScalar runs Adam (β1 0.9, β2 0.999, ε 1e-8, bias-corrected, as in
// Kingma & Ba) on one scalar b with gradient grad(b) and learning rates lr(t).
func adamScalar(b float64, steps int, lr func(t int) float64, grad func(b float64) float64) (float64, []float64) {
	var m, v float64
	traj := []float64{b}
	for t := 1; t <= steps; t++ {
		g := grad(b)
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		mh := m / (1 - math.Pow(0.9, float64(t)))
		vh := v / (1 - math.Pow(0.999, float64(t)))
		b -= lr(t-1) * mh / (math.Sqrt(vh) + 1e-8)
		traj = append(traj, b)
	}
	return b, traj
}

func cellsFeatures(t *testing.T, cells []tsft.Cell) *tsft.Features {
	t.Helper()
	f, err := tsft.NewFeatures(cells)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func randomCells(n int, rng *rand.Rand) []tsft.Cell {
	cells := make([]tsft.Cell, n)
	for i := range cells {
		for e := range cells[i] {
			cells[i][e] = uint8(rng.IntN(tsft.NumOps))
		}
	}
	return cells
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestPredictHandBuiltNetwork checks Predict against handNet's formula on
// 2100 cells: more than two inference batches of 1024, so every batch
// boundary (1024, 2048) and the short last batch are crossed. A frozen or
// constant predictor is off by ≥ 0.02 on most cells (the op-2 count varies).
func TestPredictHandBuiltNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	cells := randomCells(2100, rng)
	cells[2047] = tsft.Cell{3, 0, 0, 0, 0, 3}
	cells[2048] = tsft.Cell{2, 2, 2, 2, 2, 2}
	f := cellsFeatures(t, cells)
	m := handNet()
	emb := []float32{0.2, -1, 7, 3} // only emb[0] is read: +0.5·0.2 = +0.1
	idx := seq(0, len(cells))
	// A destination with enough capacity (exactly len(idx)) is reused.
	dst := make([]float32, 5, len(idx))
	got := Predict(m, f, idx, emb, dst)
	if len(got) != len(idx) || &got[0] != &dst[0] {
		t.Fatalf("Predict returned %d values (reused dst: %v)", len(got), &got[0] == &dst[0])
	}
	for i, c := range cells {
		if want := handNetValue(c, 0.2); !near(float64(got[i]), want, 1e-6) {
			t.Fatalf("cell %d %v: predicted %.7f, want %.7f", i, c, got[i], want)
		}
	}
	// cell 2047: 0.05 + 0.1 (both conv3) + 0 + 0.1 = 0.25; cell 2048: 0.05 + 6·0.02 + 0.1 = 0.27.
	if !near(float64(got[2047]), 0.25, 1e-6) || !near(float64(got[2048]), 0.27, 1e-6) {
		t.Fatalf("cells 2047, 2048: %v %v, want 0.25 0.27", got[2047], got[2048])
	}
	// A permuted subset predicts the same per cell (no batch mixing).
	sub := []int{2048, 3, 2047, 1024, 1023}
	ps := Predict(m, f, sub, emb, nil)
	for i, j := range sub {
		if ps[i] != got[j] {
			t.Fatalf("subset position %d (cell %d): %v, full pass %v", i, j, ps[i], got[j])
		}
	}
	if p := Predict(m, f, nil, emb, nil); len(p) != 0 {
		t.Fatalf("no cells: %d predictions", len(p))
	}
}

// TestAdaptedPredictBlendKnownValue: the adapted prediction is
// W·network + (1−W)·additive. Components on two cells (emb[0] = 0.2):
//
//	cell {3,0,0,0,0,3}: net = 0.05 + 0.1 + 0 + 0.1 = 0.25; add = 0.1 + 2·0.03 = 0.16
//	cell {2,2,4,4,4,1}: net = 0.05 + 2·0.02 + 0.1 = 0.19; add = 0.1 + 2·0.02 + 3·0.04 + 0.01 = 0.27
//
// W = 0.3: 0.3·0.25 + 0.7·0.16 = 0.075 + 0.112 = 0.187 and
// 0.3·0.19 + 0.7·0.27 = 0.057 + 0.189 = 0.246. The inverted blend
// (0.7·net + 0.3·add) gives 0.223 and 0.214, either component alone
// 0.25/0.16 and 0.19/0.27: all ≥ 0.027 away.
func TestAdaptedPredictBlendKnownValue(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{3, 0, 0, 0, 0, 3}, {2, 2, 4, 4, 4, 1}})
	add := tsft.Additive{B: 0.1, Beta: [tsft.NumOps]float32{0, 0.01, 0.02, 0.03, 0.04}, Lambda: 1}
	emb := []float32{0.2, 0, 0, 0}
	for _, c := range []struct {
		name string
		w    float32
		add  tsft.Additive
		want [2]float64
	}{
		{"W=0.3", 0.3, add, [2]float64{0.187, 0.246}},
		{"W=0.8", 0.8, add, [2]float64{0.8*0.25 + 0.2*0.16, 0.8*0.19 + 0.2*0.27}}, // 0.232, 0.206
		{"W=0 (additive alone)", 0, add, [2]float64{0.16, 0.27}},
		{"W=1 (network alone)", 1, add, [2]float64{0.25, 0.19}},
		// "no model" predicts 0 (B is ignored): W·network, as the CV scored it.
		{"no additive model", 0.3, tsft.Additive{B: 5, Lambda: math.Inf(1)}, [2]float64{0.3 * 0.25, 0.3 * 0.19}},
	} {
		a := &Adapted{Net: handNet(), Add: c.add, W: c.w, Emb: emb}
		got := a.Predict(f, []int{0, 1}, nil)
		for i := range got {
			if !near(float64(got[i]), c.want[i], 1e-6) {
				t.Errorf("%s: cell %d predicts %.6f, want %.6f", c.name, i, got[i], c.want[i])
			}
		}
	}
}

// TestBlendWeightKnownValues checks the cross-validated choice of W.
func TestBlendWeightKnownValues(t *testing.T) {
	tp := nn.NewTape()
	emb := []float32{0.2, 0, 0, 0}
	cfg := AdaptConfig{FineTuneSteps: 0, FineTuneLR: 1e-3, BlendFolds: 2}

	// Interior optimum. Two labelled cells, 2 folds: each fold fits the
	// additive model on one sample, which is "no model" (predicts 0), and
	// the network (not fine-tuned: 0 steps) predicts 0.5. The CV error
	// e(W) = (0.5W − 0.1)² + (0.5W − 0.2)² is minimal at 0.5W = 0.15,
	// W = 0.3: e(0.3) = 0.005, e(0.2) = e(0.4) = 0.01.
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}})
	if w := blendWeight(tp, constModel(0.5), f, emb, []int{0, 1}, []float32{0.1, 0.2}, cfg, rand.New(rand.NewPCG(1, 1))); !near(float64(w), 0.3, 1e-6) {
		t.Fatalf("interior optimum: W = %v, want 0.3", w)
	}

	rng := rand.New(rand.NewPCG(31, 3))
	cells := randomCells(40, rng)
	for i := 0; i < 40; i += 4 {
		cells[i][0], cells[i][5] = 3, 3 // make the interaction frequent
	}
	f = cellsFeatures(t, cells)
	idx := seq(0, 40)
	cfg.BlendFolds = 5

	// The network is exact (y = handNet's value, with its interaction
	// term that no additive model represents): CV error 0 at W = 1, so
	// W = 1.
	y := make([]float32, len(idx))
	for i, c := range cells {
		y[i] = float32(handNetValue(c, 0.2))
	}
	if w := blendWeight(tp, handNet(), f, emb, idx, y, cfg, rand.New(rand.NewPCG(1, 1))); w != 1 {
		t.Fatalf("exact network: W = %v, want 1", w)
	}

	// The target is exactly additive and the network a constant 0.5 far
	// from it: the additive CV predictions are nearly exact, so W = 0
	// (W = 0.1 already adds 0.1·(0.5 − y) ≈ 0.01–0.04 per cell).
	cost := [tsft.NumOps]float64{0.004, 0.011, 0.037, 0.121, 0.023}
	for i, c := range cells {
		v := 0.05
		for _, op := range c {
			v += cost[op]
		}
		y[i] = float32(v)
	}
	if w := blendWeight(tp, constModel(0.5), f, emb, idx, y, cfg, rand.New(rand.NewPCG(1, 1))); w != 0 {
		t.Fatalf("additive target: W = %v, want 0", w)
	}
}

// TestFineTuneKnownAdamRun (stage 1): fine-tuning a constant model on
// labels with mean 0.3 is full-batch Adam on b with ∂/∂b mean((b − y)²) =
// 2(b − ȳ), from b0 = 0.5, 3 steps at lr 0.05. The first Adam step moves by
// lr exactly (m̂/√v̂ = sign g): 0.45. Re-derived in float64 by adamScalar. A
// frozen model stays at 0.5.
func TestFineTuneKnownAdamRun(t *testing.T) {
	f := cellsFeatures(t, randomCells(10, rand.New(rand.NewPCG(2, 2))))
	base := constModel(0.5)
	lab := []int{1, 4, 6, 8}
	y := []float32{0.1, 0.2, 0.3, 0.6} // mean 0.3
	want, traj := adamScalar(0.5, 3, func(int) float64 { return 0.05 }, func(b float64) float64 { return 2 * (b - 0.3) })
	if !near(traj[1], 0.45, 1e-8) { // ε shifts it by 0.05·1e-8/0.4
		t.Fatalf("reference Adam: first step %v, want 0.45", traj[1])
	}
	cfg := AdaptConfig{FineTuneSteps: 3, FineTuneLR: 0.05}
	a, tm, err := Adapt(base, f, []float32{0, 0, 0, 0}, lab, y, seq(0, 10), cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if a.W != 1 || tm.Pseudo != 0 {
		t.Fatalf("no blend and no stage 2 asked: W %v, stage-2 time %v", a.W, tm.Pseudo)
	}
	for i, p := range a.Predict(f, seq(0, 10), nil) {
		if !near(float64(p), want, 1e-6) {
			t.Fatalf("cell %d: fine-tuned prediction %.7f, want %.7f (Adam trajectory %v)", i, p, want, traj)
		}
	}
	if p := Predict(base, f, []int{0}, []float32{0, 0, 0, 0}, nil)[0]; p != 0.5 {
		t.Fatalf("Adapt modified the base model: it predicts %v", p)
	}
}

// TestStage2TrainsOnFineTunedPseudoLabels checks stage 2 with constant
// models, where every quantity is known:
//
//	base b0 = 0.5; 4 labelled cells with y = 0.1; stage 1: one Adam step
//	at lr 0.3 moves by lr exactly: ft = 0.5 − 0.3 = 0.2, so the fine-tuned
//	network's pseudo-labels are 0.2 (the base model's would be 0.5).
//
// Case "one step": LabelWeight 0, so stage 2's loss only sees the
// pseudo-labelled cells: ∂/∂b = mean(2·w·(0.5 − 0.2)) > 0 and one Adam step
// at lr 0.25 from a fresh copy of the base gives 0.5 − 0.25 = 0.25.
// Wrong variants give other values: stage 2 skipped → 0.2 (ft);
// pseudo-labels from the base → zero gradient, 0.5; stage 2 continuing from
// ft instead of the base → pseudo-labels equal its own output, 0.2.
//
// Case "converged": many small steps on batches of 256 drawn from the
// labelled and pseudo-labelled cells converge to the minimiser of the
// expected weighted MSE, the weighted mean of the targets. LabelWeight
// 0.25, 4 labelled at 0.1 and 1 pseudo-label at 0.2:
// (4·0.25·0.1 + 1·0.2)/(4·0.25 + 1) = 0.3/2 = 0.15. Measured samples
// weighted like pseudo-labels → (0.4 + 0.2)/5 = 0.12; the pseudo-label
// weighted as a measurement → (0.1 + 0.05)/1.25 = 0.12; base pseudo-labels
// → (0.1 + 0.5)/2 = 0.3; no stage 2 → 0.2.
func TestStage2TrainsOnFineTunedPseudoLabels(t *testing.T) {
	f := cellsFeatures(t, randomCells(12, rand.New(rand.NewPCG(4, 4))))
	emb := []float32{0, 0, 0, 0}
	lab := []int{0, 1, 2, 3}
	y := []float32{0.1, 0.1, 0.1, 0.1}
	base := constModel(0.5)
	cfg := AdaptConfig{FineTuneSteps: 1, FineTuneLR: 0.3, Pseudo: 3, PseudoSteps: 1, PseudoLR: 0.25, PseudoBatch: 256, LabelWeight: 0}
	// Stage 1 alone (Pseudo 0) is the fine-tuned model: 0.2.
	st1 := cfg
	st1.Pseudo = 0
	a1, _, err := Adapt(base, f, emb, lab, y, seq(4, 12), st1, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p := a1.Predict(f, []int{5}, nil)[0]; !near(float64(p), 0.2, 1e-6) {
		t.Fatalf("stage 1: %v, want 0.2", p)
	}
	a, tm, err := Adapt(base, f, emb, lab, y, seq(4, 12), cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p := a.Predict(f, []int{5}, nil)[0]; !near(float64(p), 0.25, 1e-6) {
		t.Fatalf("one stage-2 step: %v, want 0.25 (0.2: stage 2 skipped or continued from ft; 0.5: base pseudo-labels)", p)
	}
	if tm.Pseudo <= 0 {
		t.Fatalf("stage 2 time %v", tm.Pseudo)
	}
	// Stage 2 with 0 steps is the pretrained model itself.
	zero := cfg
	zero.PseudoSteps = 0
	a0, _, _ := Adapt(base, f, emb, lab, y, seq(4, 12), zero, rand.New(rand.NewPCG(1, 1)))
	if p := a0.Predict(f, []int{5}, nil)[0]; p != 0.5 {
		t.Fatalf("stage 2 with 0 steps: %v, want the base's 0.5", p)
	}

	conv := cfg
	conv.Pseudo, conv.PseudoSteps, conv.PseudoLR, conv.LabelWeight = 1, 600, 0.004, 0.25
	a, _, err = Adapt(base, f, emb, lab, y, seq(4, 12), conv, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	p := a.Predict(f, []int{5}, nil)[0]
	t.Logf("converged stage 2: %.4f (weighted mean 0.15)", p)
	if !near(float64(p), 0.15, 0.01) {
		t.Fatalf("converged stage 2: %v, want the weighted mean 0.15", p)
	}
}

// TestPretrainKnownAdamRun pretrains a constant model on two devices whose
// known latencies are all 0.3 (NaN cells are unknown and skipped). Every
// batch has gradient 2(b − 0.3) whatever the shuffle, so b follows
// adamScalar with the cosine rate lr(t) = 0.01 + 0.09·(1 + cos(πt/T))/2
// over T = epochs × ⌈pairs/batch⌉ steps, and each epoch reports the
// pair-weighted mean of its batch losses (b_t − 0.3)².
//
//	7 pairs, batches of 3: 3 steps per epoch (3 + 3 + 1 pairs), T = 6,
//	  epoch loss (3(b_0−.3)² + 3(b_1−.3)² + (b_2−.3)²)/7;
//	6 pairs, batches of 3: 2 steps per epoch, T = 4.
//
// A frozen model would report (0.5−0.3)² = 0.04 every epoch.
func TestPretrainKnownAdamRun(t *testing.T) {
	f := cellsFeatures(t, randomCells(5, rand.New(rand.NewPCG(6, 6))))
	nan := float32(math.NaN())
	for _, c := range []struct {
		name    string
		b       []float32 // device b's latencies (device a has 4 known)
		batches []int     // pairs per batch in an epoch
	}{
		{"7 pairs", []float32{0.3, 0.3, nan, nan, 0.3}, []int{3, 3, 1}},
		{"6 pairs", []float32{nan, 0.3, nan, nan, 0.3}, []int{3, 3}},
	} {
		devs := []Device{
			{Name: "a", Y: []float32{0.3, nan, 0.3, 0.3, 0.3}, Emb: []float32{0.3, 0.3, 0.3, 0.3}},
			{Name: "b", Y: c.b, Emb: []float32{0.1, 0.2, 0.3, 0.4}},
		}
		const epochs = 2
		total := epochs * len(c.batches)
		lr := func(t int) float64 { return 0.01 + 0.09*(1+math.Cos(math.Pi*float64(t)/float64(total)))/2 }
		want, b := adamScalar(0.5, total, lr, func(b float64) float64 { return 2 * (b - 0.3) })
		var wantLoss []float64
		for ep := 0; ep < epochs; ep++ {
			var sum, n float64
			for k, size := range c.batches {
				x := b[ep*len(c.batches)+k] - 0.3
				sum += float64(size) * x * x
				n += float64(size)
			}
			wantLoss = append(wantLoss, sum/n)
		}
		m := constModel(0.5)
		var eps []int
		var losses []float64
		err := Pretrain(context.Background(), m, f, devs, PretrainConfig{Epochs: epochs, BatchSize: 3, LR: 0.1, MinLR: 0.01}, rand.New(rand.NewPCG(1, 1)),
			func(ep, n int, loss float64) {
				if n != epochs {
					t.Errorf("%s: progress reports %d epochs, want 2", c.name, n)
				}
				eps = append(eps, ep)
				losses = append(losses, loss)
			})
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 2 || eps[0] != 1 || eps[1] != 2 {
			t.Fatalf("%s: progress epochs %v, want [1 2]", c.name, eps)
		}
		for i := range losses {
			if !near(losses[i], wantLoss[i], 1e-6) {
				t.Fatalf("%s: epoch losses %v, want %v", c.name, losses, wantLoss)
			}
		}
		if p := Predict(m, f, []int{0}, devs[0].Emb, nil)[0]; !near(float64(p), want, 1e-6) {
			t.Fatalf("%s: pretrained constant %.7f, want %.7f (trajectory %v)", c.name, p, want, b)
		}
	}
}

func TestPretrainRejectsBadInput(t *testing.T) {
	f := cellsFeatures(t, randomCells(3, rand.New(rand.NewPCG(6, 6))))
	good := PretrainConfig{Epochs: 1, BatchSize: 2, LR: 1e-3}
	dev := Device{Name: "a", Y: []float32{0.1, 0.2, 0.3}, Emb: []float32{0, 0, 0, 0}}
	nan := float32(math.NaN())
	for _, c := range []struct {
		name string
		cfg  PretrainConfig
		devs []Device
	}{
		{"zero epochs", PretrainConfig{Epochs: 0, BatchSize: 2, LR: 1e-3}, []Device{dev}},
		{"zero batch", PretrainConfig{Epochs: 1, BatchSize: 0, LR: 1e-3}, []Device{dev}},
		{"zero lr", PretrainConfig{Epochs: 1, BatchSize: 2, LR: 0}, []Device{dev}},
		{"NaN lr", PretrainConfig{Epochs: 1, BatchSize: 2, LR: math.NaN()}, []Device{dev}},
		{"short latencies", good, []Device{{Name: "s", Y: []float32{0.1, 0.2}, Emb: dev.Emb}}},
		{"wrong embedding", good, []Device{{Name: "e", Y: dev.Y, Emb: []float32{0, 0, 0}}}},
		{"no known latency", good, []Device{{Name: "n", Y: []float32{nan, nan, nan}, Emb: dev.Emb}}},
	} {
		if err := Pretrain(context.Background(), constModel(0.5), f, c.devs, c.cfg, rand.New(rand.NewPCG(1, 1)), nil); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	// Smallest valid settings pass (one epoch, batch of one).
	if err := Pretrain(context.Background(), constModel(0.5), f, []Device{dev}, PretrainConfig{Epochs: 1, BatchSize: 1, LR: 1e-3}, rand.New(rand.NewPCG(1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Pretrain(ctx, constModel(0.5), f, []Device{dev}, good, rand.New(rand.NewPCG(1, 1)), nil); err == nil {
		t.Fatal("a cancelled context did not stop pretraining")
	}
}

func TestAdaptRejectsMismatchedLabels(t *testing.T) {
	f := cellsFeatures(t, randomCells(4, rand.New(rand.NewPCG(6, 6))))
	emb := []float32{0, 0, 0, 0}
	for _, c := range []struct {
		name string
		lab  []int
		y    []float32
	}{
		{"no samples", nil, nil},
		{"fewer latencies", []int{0, 1}, []float32{0.1}},
		{"+Inf latency", []int{0, 1}, []float32{0.1, float32(math.Inf(1))}},
		{"-Inf latency", []int{0, 1}, []float32{float32(math.Inf(-1)), 0.1}},
	} {
		if _, _, err := Adapt(constModel(0.5), f, emb, c.lab, c.y, nil, DefaultAdaptConfig(), rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// interactionLatency is a synthetic device family: per-operation costs that
// scale with the device parameter dev (additive in the op counts) plus a
// non-additive interaction, +0.2·dev when edges 0 and 5 are both conv3
// (op 3; 1 cell in 25).
func interactionLatency(cells []tsft.Cell, dev float32) []float32 {
	base := [tsft.NumOps]float32{0.004, 0.011, 0.037, 0.121, 0.023}
	scale := [tsft.NumOps]float32{0, 0.5, 1, -0.3, 2}
	y := make([]float32, len(cells))
	for i, c := range cells {
		v := float32(0.05)
		for _, op := range c {
			v += base[op] * (1 + dev*scale[op])
		}
		if c[0] == 3 && c[5] == 3 {
			v += 0.2 * dev
		}
		y[i] = v
	}
	return y
}

// TestBlendBeatsAdditiveOnInteractionDevice pretrains on devices 0, 0.5,
// 1, 1.5, 2 of interactionLatency and adapts (50 labelled cells, 5-fold
// blend, 200 pseudo-labels) to device 0.8, scored on 600 other cells.
//
// The additive model cannot represent the interaction: predicting it by its
// mean leaves k²·p(1−p) = 0.16²·0.04·0.96 = 9.8e-4 (k = 0.2·0.8, p = 1/25),
// so additive-only MSE is ≈ 1e-3 (measured 1.22e-3, with its 50-sample fit
// error). The network learns the interaction from pretraining (alone:
// 2.1e-4) and the cross-validated blend is W = 0.8 (measured blend
// 1.5e-4). The bar, blend ≤ 0.5 × additive-only, is far from what the
// additive model or an inverted blend (0.2·net + 0.8·additive) reaches; a
// constant predictor (the labelled mean) scores 9e-3.
func TestBlendBeatsAdditiveOnInteractionDevice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	cells := randomCells(1200, rng)
	f := cellsFeatures(t, cells)
	var devs []Device
	for _, d := range []float32{0, 0.5, 1, 1.5, 2} {
		y := interactionLatency(cells, d)
		devs = append(devs, Device{Name: "d", Y: y, Emb: embOf(y)})
	}
	m := tsft.New(tsft.Config{Embed: 4, Hidden: []int{32, 32}}, rng)
	if err := Pretrain(context.Background(), m, f, devs, PretrainConfig{Epochs: 6, BatchSize: 64, LR: 3e-3, MinLR: 1e-4}, rng, nil); err != nil {
		t.Fatal(err)
	}
	y := interactionLatency(cells, 0.8)
	lab, q := seq(10, 60), seq(600, 1200)
	ly, qy := make([]float32, len(lab)), make([]float32, len(q))
	for i, j := range lab {
		ly[i] = y[j]
	}
	for i, j := range q {
		qy[i] = y[j]
	}
	cfg := DefaultAdaptConfig()
	cfg.Pseudo = 200
	a, _, err := Adapt(m, f, embOf(y), lab, ly, seq(60, 1200), cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	blend := metrics.MSE(a.Predict(f, q, nil), qy)
	net := metrics.MSE(Predict(a.Net, f, q, a.Emb, nil), qy)
	add := metrics.MSE(tsft.FitAdditive(f, lab, ly).Apply(f, q, make([]float32, len(q))), qy)
	t.Logf("device 0.8: W %.1f, MSE blend %.2e, network alone %.2e, additive alone %.2e", a.W, blend, net, add)
	if add < 9e-4 {
		t.Fatalf("additive-only MSE %.2e below the interaction's unexplained variance 9.8e-4: the target lost its interaction", add)
	}
	if !(a.W > 0 && a.W < 1) {
		t.Fatalf("blend weight %v: want a real blend (0 < W < 1)", a.W)
	}
	if !(blend <= 0.5*add) || !(blend <= net) {
		t.Fatalf("blend MSE %.2e: want ≤ 0.5 × additive-only %.2e and ≤ network alone %.2e", blend, add, net)
	}
}

// TestBlendWeightTiesKeepTheNetwork: when every W has the same CV error
// (network and additive model both predict 0: a constant-0 network and "no
// model" from one-sample folds), W stays at 1, the first candidate.
// Through Adapt: 2 labelled cells with 2 folds do blend (len ≥ folds);
// 1 fold never blends (W = 1).
func TestBlendWeightTiesKeepTheNetwork(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}})
	emb := []float32{0, 0, 0, 0}
	cfg := AdaptConfig{FineTuneSteps: 0, FineTuneLR: 1e-3, BlendFolds: 2}
	if w := blendWeight(nn.NewTape(), constModel(0), f, emb, []int{0, 1}, []float32{0.1, 0.2}, cfg, rand.New(rand.NewPCG(1, 1))); w != 1 {
		t.Fatalf("tied CV errors: W = %v, want 1", w)
	}
	// Same data as the interior case of TestBlendWeightKnownValues (W = 0.3).
	a, _, err := Adapt(constModel(0.5), f, emb, []int{0, 1}, []float32{0.1, 0.2}, nil, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil || !near(float64(a.W), 0.3, 1e-6) {
		t.Fatalf("Adapt with 2 samples and 2 folds: W = %v (%v), want 0.3", a.W, err)
	}
	cfg.BlendFolds = 1
	if a, _, _ := Adapt(constModel(0.5), f, emb, []int{0, 1}, []float32{0.1, 0.2}, nil, cfg, rand.New(rand.NewPCG(1, 1))); a.W != 1 {
		t.Fatalf("1 fold: W = %v, want 1 (no blend)", a.W)
	}
	cfg.BlendFolds = 3
	if a, _, _ := Adapt(constModel(0.5), f, emb, []int{0, 1}, []float32{0.1, 0.2}, nil, cfg, rand.New(rand.NewPCG(1, 1))); a.W != 1 {
		t.Fatalf("3 folds on 2 samples: W = %v, want 1 (no blend)", a.W)
	}
}

// TestBlendWeightUsesHeldOutFolds: 3 labelled cells, 3 folds, so each cell
// is predicted by models fitted on the other two. The additive model of
// two samples is "no model" (predicts 0); the network is a constant 0.5
// fine-tuned by one Adam step at lr 0.25, which moves it by 0.25 towards
// the mean of its two training labels (or not at all when that mean is
// 0.5):
//
//	held out 0.125: trained on {0.25, 0.875}, mean 0.5625 → 0.75
//	held out 0.25:  trained on {0.125, 0.875}, mean 0.5   → 0.5
//	held out 0.875: trained on {0.125, 0.25}, mean 0.1875 → 0.25
//
// W* = Σ n·y / Σ n² = (0.09375 + 0.125 + 0.21875)/(0.5625 + 0.25 + 0.0625)
// = 0.4375/0.875 = 0.5. Predicting a cell with a model that saw it gives
// other values.
func TestBlendWeightUsesHeldOutFolds(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}, {4, 3, 2, 1, 0, 0}})
	cfg := AdaptConfig{FineTuneSteps: 1, FineTuneLR: 0.25, BlendFolds: 3}
	for seed := uint64(1); seed <= 3; seed++ {
		w := blendWeight(nn.NewTape(), constModel(0.5), f, []float32{0, 0, 0, 0}, []int{0, 1, 2}, []float32{0.125, 0.25, 0.875}, cfg, rand.New(rand.NewPCG(seed, 1)))
		if !near(float64(w), 0.5, 1e-6) {
			t.Fatalf("fold seed %d: W = %v, want 0.5", seed, w)
		}
	}
}

// TestPretrainKnownAdamRunWithGNN: the same scalar Adam run as
// TestPretrainKnownAdamRun (7 pairs at 0.3, batches of 3, 2 epochs) on a
// model with the graph encoder, every weight zero but the output bias: the
// head ignores the GNN's output (zero weights), so b follows adamScalar.
func TestPretrainKnownAdamRunWithGNN(t *testing.T) {
	f := cellsFeatures(t, randomCells(5, rand.New(rand.NewPCG(6, 6))))
	nan := float32(math.NaN())
	m := tsft.New(tsft.Config{Embed: 4, GNNDim: 3, GNNLayers: 1, Hidden: []int{4}}, rand.New(rand.NewPCG(9, 9)))
	for _, p := range nn.Collect(m) {
		clear(p.Param.V.Data)
	}
	m.Head.Layers[1].B.V.Data[0] = 0.5
	emb := []float32{0, 0, 0, 0}
	if p := Predict(m, f, []int{0, 1}, emb, nil); p[0] != 0.5 || p[1] != 0.5 {
		t.Fatalf("GNN model predicts %v, want 0.5", p)
	}
	devs := []Device{
		{Name: "a", Y: []float32{0.3, nan, 0.3, 0.3, 0.3}, Emb: emb},
		{Name: "b", Y: []float32{0.3, 0.3, nan, nan, 0.3}, Emb: emb},
	}
	lr := func(t int) float64 { return 0.01 + 0.09*(1+math.Cos(math.Pi*float64(t)/6))/2 }
	want, _ := adamScalar(0.5, 6, lr, func(b float64) float64 { return 2 * (b - 0.3) })
	if err := Pretrain(context.Background(), m, f, devs, PretrainConfig{Epochs: 2, BatchSize: 3, LR: 0.1, MinLR: 0.01}, rand.New(rand.NewPCG(1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	if p := Predict(m, f, []int{3}, emb, nil)[0]; !near(float64(p), want, 1e-6) {
		t.Fatalf("pretrained GNN model %.7f, want %.7f", p, want)
	}
}

// TestBlendWeightTiesAtLargeScale: the tie rule (every W with the same CV
// error keeps W = 1) does not depend on the scale of the targets. With
// targets 100 and 200 (latencies in ms, say) and, as in
// TestBlendWeightTiesKeepTheNetwork, a constant-0 network and "no model"
// from one-sample folds, every W has e(W) = 100² + 200² = 50000 exactly.
// 1e-12 is below half an ulp of 50000 (2⁻³⁸ ≈ 3.6e-12), so a rule that
// accepted e ≤ best − 1e-12 would walk down to W = 0 on the tie.
func TestBlendWeightTiesAtLargeScale(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}})
	cfg := AdaptConfig{FineTuneSteps: 0, FineTuneLR: 1e-3, BlendFolds: 2}
	if w := blendWeight(nn.NewTape(), constModel(0), f, []float32{0, 0, 0, 0}, []int{0, 1}, []float32{100, 200}, cfg, rand.New(rand.NewPCG(1, 1))); w != 1 {
		t.Fatalf("tied CV errors of 50000: W = %v, want 1", w)
	}
}

// TestBlendWeightNoFoldsKeepsTheNetwork: BlendFolds 0 means no blending
// (AdaptConfig: "0 or 1 keeps the network alone"). blendWeight with 0
// folds fits nothing: both CV prediction vectors stay 0, every W ties at
// e = 0.1² + 0.2² and W = 1. (Adapt never calls it with fewer than 2
// folds; this pins that the fold loop runs exactly BlendFolds times and
// never takes r mod 0.)
func TestBlendWeightNoFoldsKeepsTheNetwork(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}})
	cfg := AdaptConfig{FineTuneSteps: 0, FineTuneLR: 1e-3, BlendFolds: 0}
	var w float32
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("blendWeight with 0 folds panicked: %v", r)
			}
		}()
		w = blendWeight(nn.NewTape(), constModel(0.5), f, []float32{0, 0, 0, 0}, []int{0, 1}, []float32{0.1, 0.2}, cfg, rand.New(rand.NewPCG(1, 1)))
	}()
	if w != 1 {
		t.Fatalf("0 folds: W = %v, want 1", w)
	}
}

// TestPredictNoCellsRunsNoInference: Predict of no cells returns no
// predictions without a forward pass, so it does not evaluate the model at
// all: not even with an embedding of the wrong width (2 values for a model
// expecting 4), on which a forward pass fails ("input 0×32 does not match
// weight 34×3").
func TestPredictNoCellsRunsNoInference(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}})
	var got []float32
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Predict of no cells ran the model: %v", r)
			}
		}()
		got = Predict(handNet(), f, []int{}, []float32{1, 2}, nil)
	}()
	if len(got) != 0 {
		t.Fatalf("no cells: %d predictions", len(got))
	}
}

// TestBlendAppliesWhatWasScored: with 2 labelled cells and 2 folds the
// additive model is "no model" everywhere (FitAdditive needs 3 cells),
// the cross-validation scores W·network + (1−W)·0 and picks W = 0.3
// (TestBlendWeightKnownValues' interior case), and the adapted model must
// predict what was scored: 0.3 × the network's 0.5 = 0.15 on every cell
// (it predicted the network's 0.5 while reporting W = 0.3).
func TestBlendAppliesWhatWasScored(t *testing.T) {
	f := cellsFeatures(t, []tsft.Cell{{0, 1, 2, 3, 4, 0}, {1, 1, 1, 1, 1, 1}})
	cfg := AdaptConfig{FineTuneSteps: 0, FineTuneLR: 1e-3, BlendFolds: 2}
	a, _, err := Adapt(constModel(0.5), f, []float32{0, 0, 0, 0}, []int{0, 1}, []float32{0.1, 0.2}, nil, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(a.Add.Lambda, 1) || !near(float64(a.W), 0.3, 1e-6) {
		t.Fatalf("λ %v, W %v; want no model and 0.3", a.Add.Lambda, a.W)
	}
	for i, p := range a.Predict(f, []int{0, 1}, nil) {
		if !near(float64(p), 0.15, 1e-6) {
			t.Errorf("cell %d: %v, want 0.3·0.5 = 0.15", i, p)
		}
	}
}

// TestPretrainResume: pretraining cancelled during epoch 3 (of 4) and
// resumed from its checkpoint (epoch 2) into a model initialised from
// another seed ends with exactly the parameters of an uninterrupted run;
// BeforeCheckpoint runs before each epoch's save; a checkpoint of more
// epochs than the run has is refused.
func TestPretrainResume(t *testing.T) {
	build := func(seed uint64) (*tsft.Model, *tsft.Features, []Device, *rand.Rand) {
		rng := rand.New(rand.NewPCG(1, 7))
		cells := randomCells(300, rng)
		f := cellsFeatures(t, cells)
		var devs []Device
		for _, d := range []float32{0, 1, 2} {
			y := interactionLatency(cells, d)
			devs = append(devs, Device{Name: "d", Y: y, Emb: embOf(y)})
		}
		rng = rand.New(rand.NewPCG(seed, 9))
		return tsft.New(tsft.Config{Embed: 4, Hidden: []int{8}}, rng), f, devs, rng
	}
	params := func(m *tsft.Model) []float32 {
		var ps []float32
		for _, p := range nn.Collect(m) {
			ps = append(ps, p.Param.V.Data...)
		}
		return ps
	}
	cfg := PretrainConfig{Epochs: 4, BatchSize: 64, LR: 3e-3, MinLR: 1e-4}
	ref, f, devs, rng := build(1)
	if err := Pretrain(context.Background(), ref, f, devs, cfg, rng, nil); err != nil {
		t.Fatal(err)
	}
	cfg.CheckpointPath = filepath.Join(t.TempDir(), "pretrain.safetensors")
	saves := 0
	cfg.BeforeCheckpoint = func() error { saves++; return nil }
	ctx, cancel := context.WithCancel(context.Background())
	m, f, devs, rng := build(1)
	err := Pretrain(ctx, m, f, devs, cfg, rng, func(ep, _ int, _ float64) {
		if ep == 2 {
			cancel() // seen during epoch 3
		}
	})
	if !errors.Is(err, context.Canceled) || saves != 2 {
		t.Fatalf("cancelled pretraining: %v after %d saves; want context.Canceled after 2", err, saves)
	}
	// A fresh process: the model is initialised as the run's (seed 1) or
	// not (seed 5) — the checkpoint restores it either way; the generator
	// restarts from the run's seed.
	m2, f, devs, _ := build(5)
	_, _, _, rng = build(1)
	if err := Pretrain(context.Background(), m2, f, devs, cfg, rng, nil); err != nil {
		t.Fatal(err)
	}
	a, b := params(ref), params(m2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d after resume %v, uninterrupted %v", i, b[i], a[i])
		}
	}
	short := cfg
	short.Epochs = 3
	m3, f, devs, rng := build(1)
	if err := Pretrain(context.Background(), m3, f, devs, short, rng, nil); err == nil || !strings.Contains(err.Error(), "holds epoch 4 of a 3-epoch pretraining") {
		t.Errorf("a checkpoint of 4 epochs for a 3-epoch run: %v", err)
	}
}
