package tsftrun

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/tsft"
	"github.com/cpntrain/cpntrain/train/metrics"
)

// synthetic builds cells with an additive latency (per-op costs that depend
// on a device parameter) plus an interaction term.
func synthetic(n int, rng *rand.Rand) (*tsft.Features, func(dev float32) []float32) {
	cells := make([]tsft.Cell, n)
	for i := range cells {
		for e := range cells[i] {
			cells[i][e] = uint8(rng.IntN(tsft.NumOps))
		}
	}
	f, _ := tsft.NewFeatures(cells)
	return f, func(dev float32) []float32 {
		y := make([]float32, n)
		for i, c := range cells {
			v := float32(0.1)
			for e, op := range c {
				v += 0.02 * float32(op) * (1 + dev*float32(e%3))
			}
			if c[0] == 3 && c[5] == 3 {
				v += 0.1 * dev
			}
			y[i] = v
		}
		return y
	}
}

func embOf(y []float32) []float32 { return []float32{y[0], y[1], y[2], y[3]} }

func TestPretrainAndAdaptOnSyntheticDevices(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f, lat := synthetic(2000, rng)
	var devs []Device
	for _, d := range []float32{0, 0.5, 1, 1.5, 2} {
		y := lat(d)
		devs = append(devs, Device{Name: "d", Y: y, Emb: embOf(y)})
	}
	m := tsft.New(tsft.Config{Embed: 4, Hidden: []int{64, 64}}, rng)
	var losses []float64
	err := Pretrain(context.Background(), m, f, devs, PretrainConfig{Epochs: 4, BatchSize: 128, LR: 3e-3, MinLR: 1e-4}, rng,
		func(_, _ int, loss float64) { losses = append(losses, loss) })
	if err != nil {
		t.Fatal(err)
	}
	if losses[len(losses)-1] >= losses[0] {
		t.Fatalf("pretraining loss did not fall: %v", losses)
	}
	y := lat(3) // a new device outside the training range: the base model extrapolates
	emb := embOf(y)
	lab := []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200}
	ly := make([]float32, len(lab))
	for i, j := range lab {
		ly[i] = y[j]
	}
	var unl, q []int
	for i := 1000; i < 2000; i++ {
		unl = append(unl, i)
		q = append(q, i)
	}
	qy := make([]float32, len(q))
	for i, j := range q {
		qy[i] = y[j]
	}
	baseMSE := metrics.MSE(Predict(m, f, q, emb, nil), qy)
	cfg := DefaultAdaptConfig()
	cfg.Pseudo = 200
	a, _, err := Adapt(m, f, emb, lab, ly, unl, cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	mse := metrics.MSE(a.Predict(f, q, nil), qy)
	t.Logf("synthetic new device: base MSE %.2e, adapted %.2e (blend weight %.1f)", baseMSE, mse, a.W)
	if !(mse < baseMSE) {
		t.Fatalf("adaptation did not help: %.3g ≥ %.3g", mse, baseMSE)
	}
	// Same seed → same adapted model.
	b, _, _ := Adapt(m, f, emb, lab, ly, unl, cfg, rand.New(rand.NewPCG(3, 3)))
	p1, p2 := a.Predict(f, q[:10], nil), b.Predict(f, q[:10], nil)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatal("adaptation is not deterministic for a fixed seed")
		}
	}
}

func TestAdaptRejectsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	f, _ := synthetic(20, rng)
	m := tsft.New(tsft.Config{Embed: 4, Hidden: []int{8}}, rng)
	if _, _, err := Adapt(m, f, []float32{1, 2, 3}, []int{1}, []float32{0.5}, nil, DefaultAdaptConfig(), rng); err == nil {
		t.Fatal("wrong embedding width accepted")
	}
	if _, _, err := Adapt(m, f, []float32{1, 2, 3, 4}, []int{1}, []float32{float32(math.NaN())}, nil, DefaultAdaptConfig(), rng); err == nil {
		t.Fatal("NaN latency accepted")
	}
}

// TestRealDataSmoke pretrains briefly on two real devices and adapts to
// fpga; it checks the protocol end to end, not the accuracy bar (that is
// `cpntrain bench latency`).
func TestRealDataSmoke(t *testing.T) {
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA not set")
	}
	d, err := nasbench201.Load(filepath.Join(root, nasbench201.DirName), "1080ti_1", "gold_6240", "fpga")
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewEnv(d)
	if err != nil {
		t.Fatal(err)
	}
	spec := BaseSpec{Model: tsft.DefaultConfig(), Pretrain: PretrainConfig{Epochs: 1, BatchSize: 512, LR: 2e-3, MinLR: 1e-4}, Devices: []string{"1080ti_1", "gold_6240"}, Seed: 1}
	dir := t.TempDir()
	m, path, loaded, err := LoadOrPretrain(context.Background(), env, spec, dir, nil)
	if err != nil || loaded {
		t.Fatalf("pretrain: %v (loaded %v)", err, loaded)
	}
	if _, _, loaded, err := LoadOrPretrain(context.Background(), env, spec, dir, nil); err != nil || !loaded {
		t.Fatalf("second call did not load the cache %s: %v", path, err)
	}
	task, err := env.NewTask("fpga", 50, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Labelled) != 50 || len(task.Query) != nasbench201.NumArchs-TrainPool-countAbove(task.Labelled, TrainPool) {
		t.Fatalf("task has %d labelled and %d query cells", len(task.Labelled), len(task.Query))
	}
	baseMSE, _ := task.Score(Predict(m, env.Features, task.Query, task.Device.Emb, nil))
	a, _, err := Adapt(m, env.Features, task.Device.Emb, task.Labelled, task.Y, task.Unlabelled, DefaultAdaptConfig(), rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	mse, rho := task.Score(a.Predict(env.Features, task.Query, nil))
	t.Logf("fpga, 50 shots, 1-epoch base on 2 devices: base MSE %.5f → adapted %.5f, ρ %.4f", baseMSE, mse, rho)
	if !(mse < baseMSE) || rho < 0.9 {
		t.Fatalf("adaptation on fpga: MSE %.5f (base %.5f), ρ %.4f", mse, baseMSE, rho)
	}
	if _, err := env.NewTask("fpga", 5, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("a budget smaller than the reference set was accepted")
	}
	if _, err := env.NewTask("nosuch", 50, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("unknown device accepted")
	}
}

func countAbove(idx []int, lo int) int {
	n := 0
	for _, i := range idx {
		if i >= lo {
			n++
		}
	}
	return n
}
