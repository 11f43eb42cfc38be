package tsftrun

// Known-value tests of the protocol (normalisation, task draws, scoring),
// of Bench's bookkeeping and of the report, on a small synthetic
// NAS-Bench-201-like data set.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/models/baselines"
	"github.com/cpntrain/cpntrain/models/tsft"
)

// synthRefs are the reference cells of synthData: nine in the training
// pool (899 its last cell) and one (950) among the query cells.
var synthRefs = []int{3, 50, 120, 260, 333, 480, 512, 700, 899, 950}

// synthData returns 1000 distinct cells (cell i has the base-5 digits of i
// as its edge operations) and two devices:
//
//	"lin": latency 2 + 0.01·i ms, so over the pool (i < 900) lo = 2,
//	       hi = 10.99 and the normalised latency is 0.05 + 0.9·i/899;
//	"add": 1 + Σ_edges cost[op] ms (an additive device).
func synthData() *nasbench201.Data {
	d := &nasbench201.Data{Latency: map[string][]float32{}, RefIndices: slices.Clone(synthRefs)}
	cost := [5]float32{0.1, 0.2, 0.9, 3, 0.5}
	lin, add := make([]float32, 1000), make([]float32, 1000)
	for i := 0; i < 1000; i++ {
		var a nasbench201.Arch
		c := i
		for e := range a {
			a[e] = uint8(c % 5)
			c /= 5
		}
		d.Archs = append(d.Archs, a)
		lin[i] = 2 + 0.01*float32(i)
		add[i] = 1
		for _, op := range a {
			add[i] += cost[op]
		}
	}
	d.Latency["lin"], d.Latency["add"] = lin, add
	return d
}

func synthEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv(synthData())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestNewEnvNormalisesOverThePool: normalised latency of "lin" is
// 0.05 + 0.9·i/899 (cell 0 → 0.05, cell 899 → 0.95, cell 950 → 1.00106,
// outside the pool's range), the embedding is that of the reference cells.
func TestNewEnvNormalisesOverThePool(t *testing.T) {
	env := synthEnv(t)
	d, err := env.Device("lin")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 450, 899, 900, 950, 999} {
		if want := 0.05 + 0.9*float64(i)/899; !near(float64(d.Y[i]), want, 1e-5) {
			t.Errorf("cell %d: normalised %.6f, want %.6f", i, d.Y[i], want)
		}
	}
	if !near(float64(d.Y[950]), 1.00106, 1e-5) {
		t.Errorf("cell 950: %v, want 1.00106", d.Y[950])
	}
	if len(d.Emb) != len(synthRefs) {
		t.Fatalf("embedding of %d values", len(d.Emb))
	}
	for k, r := range synthRefs {
		if d.Emb[k] != d.Y[r] {
			t.Errorf("embedding %d = %v, want the reference cell %d's %v", k, d.Emb[k], r, d.Y[r])
		}
	}
	if env.Raw["lin"][7] != 2.07 {
		t.Errorf("raw latency %v, want 2.07", env.Raw["lin"][7])
	}
	if len(env.Features.Cells) != 1000 || env.Features.Cells[7] != (tsft.Cell{2, 1, 0, 0, 0, 0}) {
		t.Errorf("features of cell 7: %v", env.Features.Cells[7]) // 7 = 2 + 1·5
	}
	if _, err := env.Device("nosuch"); err == nil || !strings.Contains(err.Error(), "add, lin") {
		t.Errorf("unknown device: %v (want the sorted known names)", err)
	}
	devs, err := env.TrainDevices(Split{Train: []string{"add", "lin"}})
	if err != nil || len(devs) != 2 || devs[0].Name != "add" || devs[1].Name != "lin" {
		t.Errorf("TrainDevices: %v %v", devs, err)
	}
	if _, err := env.TrainDevices(Split{Train: []string{"lin", "nosuch"}}); err == nil {
		t.Error("TrainDevices accepted an unknown device")
	}

	// A device constant over the pool cannot be normalised, even if it
	// varies outside it.
	bad := synthData()
	flat := make([]float32, 1000)
	for i := range flat {
		flat[i] = 3
	}
	flat[950] = 4
	bad.Latency["flat"] = flat
	if _, err := NewEnv(bad); err == nil {
		t.Error("a device constant over the training pool was accepted")
	}
}

// TestNewTaskKnownSplit: the labelled cells are the 10 reference cells then
// shots − 10 distinct other pool cells; the query cells are the unmeasured
// cells ≥ 900 (900…999 without the reference 950: 99 cells, the new
// labelled cells being all < 900); unlabelled is every unmeasured cell.
func TestNewTaskKnownSplit(t *testing.T) {
	env := synthEnv(t)
	d := env.Devices["lin"]
	for _, shots := range []int{10, 25, 900} {
		task, err := env.NewTask("lin", shots, rand.New(rand.NewPCG(1, uint64(shots))))
		if err != nil {
			t.Fatalf("%d shots: %v", shots, err)
		}
		if len(task.Labelled) != shots || !slices.Equal(task.Labelled[:10], synthRefs) {
			t.Fatalf("%d shots: %d labelled, first %v", shots, len(task.Labelled), task.Labelled[:10])
		}
		seen := map[int]bool{}
		for k, i := range task.Labelled {
			if seen[i] {
				t.Fatalf("%d shots: cell %d labelled twice", shots, i)
			}
			seen[i] = true
			if k >= 10 && i >= TrainPool {
				t.Fatalf("%d shots: labelled cell %d outside the training pool", shots, i)
			}
			if task.Y[k] != d.Y[i] {
				t.Fatalf("%d shots: label %d is %v, want %v", shots, k, task.Y[k], d.Y[i])
			}
		}
		if len(task.Y) != shots || len(task.Unlabelled) != 1000-shots {
			t.Fatalf("%d shots: %d labels, %d unlabelled, want %d and %d", shots, len(task.Y), len(task.Unlabelled), shots, 1000-shots)
		}
		for _, i := range task.Unlabelled {
			if seen[i] {
				t.Fatalf("%d shots: labelled cell %d also unlabelled", shots, i)
			}
		}
		want := slices.DeleteFunc(seq(900, 1000), func(i int) bool { return i == 950 })
		if !slices.Equal(task.Query, want) {
			t.Fatalf("%d shots: query %d cells from %d, want 900…999 without 950", shots, len(task.Query), task.Query[0])
		}
		// Score: predictions shifted by 0.1 have MSE 0.01 and ρ 1;
		// reversed ones ρ −1.
		pred := make([]float32, len(task.Query))
		rev := make([]float32, len(task.Query))
		for k, q := range task.Query {
			pred[k] = d.Y[q] + 0.1
			rev[k] = -d.Y[q]
		}
		if mse, rho := task.Score(pred); !near(mse, 0.01, 1e-6) || !near(rho, 1, 1e-12) {
			t.Fatalf("shifted predictions: MSE %v ρ %v, want 0.01 and 1", mse, rho)
		}
		if _, rho := task.Score(rev); !near(rho, -1, 1e-12) {
			t.Fatalf("reversed predictions: ρ %v, want −1", rho)
		}
	}
	// From DeadShotMin pool draws on, one drawn cell is dead; with fewer the
	// draw is the plain shuffle. On synthData 7.7 % of the pool is dead
	// (counted here), so 15 random draws from several seeds miss dead cells
	// sometimes, while every 20-draw contains one.
	dead := func(i int) bool { return !env.Data.Archs[i].Connected() }
	nDead := 0
	for i := 0; i < TrainPool; i++ {
		if dead(i) {
			nDead++
		}
	}
	if nDead == 0 {
		t.Fatal("synthData has no dead pool cell")
	}
	missed := 0
	for seed := uint64(0); seed < 20; seed++ {
		for _, shots := range []int{10 + DeadShotMin - 1, 10 + DeadShotMin} {
			task, _ := env.NewTask("lin", shots, rand.New(rand.NewPCG(seed, 3)))
			has := slices.ContainsFunc(task.Labelled[10:], dead)
			if shots-10 >= DeadShotMin && !has {
				t.Fatalf("seed %d, %d shots: no dead cell among %v", seed, shots, task.Labelled[10:])
			}
			if shots-10 < DeadShotMin && !has {
				missed++
			}
		}
	}
	if missed == 0 {
		t.Fatalf("%d-cell draws always held a dead cell: the rule applies below DeadShotMin", DeadShotMin-1)
	}
	// 900 shots: the 9 pool references and all 890 other pool cells but
	// one (the reference 950 takes one sample of the budget): 899 pool cells.
	task, _ := env.NewTask("lin", 900, rand.New(rand.NewPCG(1, 1)))
	inPool := 0
	for _, i := range task.Labelled {
		if i < TrainPool {
			inPool++
		}
	}
	if inPool != TrainPool-1 {
		t.Fatalf("900 shots label %d pool cells, want 899", inPool)
	}
	for _, shots := range []int{9, 901} {
		if _, err := env.NewTask("lin", shots, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%d shots accepted (range 10…900)", shots)
		}
	}
	if _, err := env.NewTask("nosuch", 20, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("unknown device accepted")
	}
}

// TestHashNameKnownValues: hashName is FNV-1a over the bytes with offset
// 1469598103934665603 and prime 1099511628211 (mod 2⁶⁴); values computed
// independently (Python).
func TestHashNameKnownValues(t *testing.T) {
	for s, want := range map[string]uint64{"": 1469598103934665603, "a": 4953267810257967366, "fpga": 2701175520522946397, "lin": 5903138640743991222} {
		if got := hashName(s); got != want {
			t.Errorf("hashName(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestDefaultSplit(t *testing.T) {
	s := DefaultSplit()
	if len(s.Train) != 18 || len(s.Valid) != 1 || len(s.Test) != 6 {
		t.Fatalf("split sizes %d/%d/%d, want 18/1/6", len(s.Train), len(s.Valid), len(s.Test))
	}
	for _, d := range s.Train {
		if strings.HasPrefix(d, "titan_rtx") || d == "titanx_32" || slices.Contains(s.Test, d) {
			t.Errorf("training device %s", d)
		}
	}
}

// benchSetup returns a tiny bench on synthData whose base model predicts
// the constant 0.5 (constModel widened to the 10-value embedding).
func benchSetup(t *testing.T) (*Env, BenchConfig, func(BaseSpec) (*tsft.Model, error), *[]uint64) {
	env := synthEnv(t)
	brp := baselines.DefaultBRPConfig()
	brp.Layers, brp.Hidden, brp.Epochs, brp.BatchSize, brp.Dropout = 1, 4, 1, 8, 0
	cfg := BenchConfig{
		Partitions: []Partition{{Name: "p", Train: []string{"add"}, Test: []string{"lin", "add"}}},
		Shots:      []int{10, 12},
		Seeds:      2,
		Seed:       40,
		Base:       BaseSpec{Model: tsft.Config{Embed: 10, Hidden: []int{4}}},
		// Stage 2 is 300× longer than stage 1, so the reported time
		// (stage 1 + stage 2) is dominated by stage 2.
		Adapt:      AdaptConfig{FineTuneSteps: 1, FineTuneLR: 0.01, Pseudo: 20, PseudoSteps: 300, PseudoLR: 0.01, PseudoBatch: 8, LabelWeight: 2, BlendFolds: 2},
		Select:     SelectConfig{Folds: 3, Repeats: 1, SE: 1, Steps: []int{1, 2}, Blend: true, DeadRule: true},
		BRP:        brp,
		BRPSamples: 30,
	}
	var specs []uint64
	getBase := func(s BaseSpec) (*tsft.Model, error) {
		if !slices.Equal(s.Devices, []string{"add"}) {
			return nil, fmt.Errorf("base model asked for devices %v, want the partition's [add]", s.Devices)
		}
		specs = append(specs, s.Seed)
		m := tsft.New(s.Model, rand.New(rand.NewPCG(s.Seed, 0)))
		for _, l := range m.Head.Layers {
			clear(l.W.V.Data)
			clear(l.B.V.Data)
		}
		m.Head.Layers[len(m.Head.Layers)-1].B.V.Data[0] = 0.5
		return m, nil
	}
	return env, cfg, getBase, &specs
}

// TestBenchBookkeeping runs a tiny bench (2 seeds × 2 devices × 2 shot
// counts, BRP-NAS on 30 samples) and checks every row against an
// independent recomputation from the protocol's documented parts: the task
// of (seed, device, shots) is drawn with PCG(seed, shots·7919 +
// hashName(device)); the selection uses PCG(seed, 4); stage 1 alone uses PCG(seed, 1), TSFT and the paper's
// TSFT PCG(seed, 2); the baselines are fitted on the labelled cells with
// PCG(seed, 3); BRP-NAS trains on the first BRPSamples pool cells with
// PCG(seed, 0xb2b + hashName(device)). The base model predicts 0.5
// everywhere, so its MSE is mean((0.5 − y)²) over the query cells.
func TestBenchBookkeeping(t *testing.T) {
	env, cfg, getBase, specs := benchSetup(t)
	var log bytes.Buffer
	rs, err := Bench(context.Background(), env, cfg, getBase, &log)
	if err != nil {
		t.Fatal(err)
	}
	// One base model per seed: Seed, Seed+1.
	if !slices.Equal(*specs, []uint64{40, 41}) {
		t.Fatalf("base models asked for seeds %v, want [40 41]", *specs)
	}
	// Per seed and device: 2 shot counts × 7 methods, then BRP-NAS.
	if len(rs) != 2*2*(2*7+1) {
		t.Fatalf("%d result rows, want 60", len(rs))
	}
	samples := func(idx []int) []baselines.Sample {
		out := make([]baselines.Sample, len(idx))
		for i, j := range idx {
			a := env.Data.Archs[j]
			adj, ops := a.Encode()
			fl, pa := a.Cost()
			out[i] = baselines.Sample{Adj: adj, Ops: ops, FLOPs: fl, Params: pa}
		}
		return out
	}
	k := 0
	next := func() Result { r := rs[k]; k++; return r }
	for s := 0; s < 2; s++ {
		seed := uint64(40 + s)
		base, _ := getBase(BaseSpec{Model: cfg.Base.Model, Seed: seed, Devices: []string{"add"}})
		for _, dev := range cfg.Partitions[0].Test {
			d := env.Devices[dev]
			for _, shots := range cfg.Shots {
				task, err := env.NewTask(dev, shots, rand.New(rand.NewPCG(seed, uint64(shots)*7919+hashName(dev))))
				if err != nil {
					t.Fatal(err)
				}
				var baseMSE float64
				for _, q := range task.Query {
					baseMSE += (0.5 - float64(d.Y[q])) * (0.5 - float64(d.Y[q])) / float64(len(task.Query))
				}
				check := func(method string, wantMSE, wantRho float64) Result {
					t.Helper()
					r := next()
					if r.Partition != "p" || r.Device != dev || r.Method != method || r.Shots != shots || r.Seed != s {
						t.Fatalf("row %d: %s/%s/%d/seed %d, want %s/%s/%d/seed %d", k-1, r.Device, r.Method, r.Shots, r.Seed, dev, method, shots, s)
					}
					if !near(r.MSE, wantMSE, 1e-9) || !(r.Rho == wantRho || math.IsNaN(r.Rho) && math.IsNaN(wantRho)) {
						t.Fatalf("row %d (%s, %s, %d shots, seed %d): MSE %v ρ %v, want %v %v", k-1, method, dev, shots, s, r.MSE, r.Rho, wantMSE, wantRho)
					}
					if r.Seconds < 0 {
						t.Fatalf("row %d: negative time %v", k-1, r.Seconds)
					}
					return r
				}
				check(MethodBase, baseMSE, math.NaN())
				sel, _, err := Select(base, env.Features, d.Emb, task.Labelled, task.Y, cfg.Adapt, cfg.Select, rand.New(rand.NewPCG(seed, 4)))
				if err != nil {
					t.Fatal(err)
				}
				ms, rsel := task.Score(sel.Predict(env.Features, task.Query, nil))
				if r := check(MethodSelect, ms, rsel); r.Choice != sel.String() || r.Choice == "" {
					t.Fatalf("selection row chose %q, want %q", r.Choice, sel.String())
				}
				adapt := func(c AdaptConfig, stream uint64) (float64, float64) {
					a, _, err := Adapt(base, env.Features, d.Emb, task.Labelled, task.Y, task.Unlabelled, c, rand.New(rand.NewPCG(seed, stream)))
					if err != nil {
						t.Fatal(err)
					}
					return task.Score(a.Predict(env.Features, task.Query, nil))
				}
				st1 := cfg.Adapt
				st1.Pseudo = 0
				m1, r1 := adapt(st1, 1)
				check(MethodStage1, m1, r1)
				m2, r2 := adapt(cfg.Adapt, 2)
				ts := check(MethodTSFT, m2, r2)
				pure := cfg.Adapt
				pure.BlendFolds = 0
				m3, r3 := adapt(pure, 2)
				tp := check(MethodTSFTPure, m3, r3)
				// Stage 2 (300 steps) is part of the reported time.
				if !(ts.Seconds > 0) || !(tp.Seconds > 0) {
					t.Fatalf("adaptation times %v %v, want > 0", ts.Seconds, tp.Seconds)
				}
				for _, p := range []baselines.Predictor{baselines.NewFLOPS(), baselines.NewLayerWise()} {
					if err := p.Fit(samples(task.Labelled), task.Y, rand.New(rand.NewPCG(seed, 3))); err != nil {
						t.Fatal(err)
					}
					name := map[string]string{"flops": MethodFLOPS, "layer-wise": MethodLayerWis}[p.Name()]
					mse, rho := task.Score(p.Predict(samples(task.Query), nil))
					check(name, mse, rho)
				}
				line := fmt.Sprintf("p seed %d %-14s %3d shots: base ρ NaN; chosen %s: MSE %.5f ρ %.4f (", s, dev, shots, sel.String(), ms, rsel)
				if !strings.Contains(log.String(), line) {
					t.Fatalf("log lacks the selection line %q:\n%s", line, log.String())
				}
				_ = ts
			}
			rng := rand.New(rand.NewPCG(seed, 0xb2b+hashName(dev)))
			task, _ := env.NewTask(dev, 10, rng)
			lab := seq(0, 30)
			y := make([]float32, len(lab))
			for i, j := range lab {
				y[i] = d.Y[j]
			}
			p := baselines.NewBRPNAS(cfg.BRP)
			if err := p.Fit(samples(lab), y, rng); err != nil {
				t.Fatal(err)
			}
			r := next()
			mse, rho := task.Score(p.Predict(samples(task.Query), nil))
			if r.Method != MethodBRPNAS || r.Device != dev || r.Shots != 30 || r.Seed != s || r.MSE != mse || r.Rho != rho {
				t.Fatalf("BRP-NAS row %+v, want MSE %v ρ %v on 30 samples", r, mse, rho)
			}
		}
	}
	if n := strings.Count(log.String(), "BRP-NAS on 30 samples"); n != 4 {
		t.Fatalf("%d BRP-NAS log lines, want 4", n)
	}

	// BRPSamples 0 skips BRP-NAS: one seed, one device, one shot count
	// give exactly the 7 rows of the other methods.
	one := []Partition{{Name: "p", Train: []string{"add"}, Test: []string{"lin"}}}
	c0 := cfg
	c0.Seeds, c0.Shots, c0.Partitions, c0.BRPSamples = 1, []int{10}, one, 0
	rs, err = Bench(context.Background(), env, c0, getBase, nil)
	if err != nil || len(rs) != 7 || rs[6].Method != MethodLayerWis {
		t.Fatalf("without BRP-NAS: %v, %d rows", err, len(rs))
	}

	// BRP-NAS's sample count is capped by the training pool.
	cfg.Seeds, cfg.Shots, cfg.Partitions, cfg.BRPSamples = 1, nil, one, 5000
	rs, err = Bench(context.Background(), env, cfg, getBase, nil)
	if err != nil || len(rs) != 1 || rs[0].Shots != TrainPool {
		t.Fatalf("BRP-NAS on 5000 samples: %v, rows %+v", err, rs)
	}
}

func TestBenchStops(t *testing.T) {
	env, cfg, getBase, _ := benchSetup(t)
	boom := errors.New("boom")
	if _, err := Bench(context.Background(), env, cfg, func(BaseSpec) (*tsft.Model, error) { return nil, boom }, nil); !errors.Is(err, boom) {
		t.Fatalf("base model error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bench(ctx, env, cfg, getBase, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	cfg.Partitions = []Partition{{Name: "p", Train: []string{"add"}, Test: []string{"nosuch"}}}
	if _, err := Bench(context.Background(), env, cfg, getBase, nil); err == nil {
		t.Fatal("unknown device accepted")
	}
	cfg.Partitions, cfg.Shots = []Partition{{Name: "p", Train: []string{"add"}, Test: []string{"lin"}}}, []int{5}
	if _, err := Bench(context.Background(), env, cfg, getBase, nil); err == nil {
		t.Fatal("5 shots (fewer than the 10 references) accepted")
	}
}

// benchRows are hand-made results: two seeds, two devices.
func benchRows() []Result {
	return []Result{
		{Device: "fpga", Method: MethodTSFT, Shots: 50, Seed: 0, MSE: 0.001, Rho: 0.90, Seconds: 0.2},
		{Device: "pixel2", Method: MethodTSFT, Shots: 50, Seed: 0, MSE: 0.003, Rho: 0.80, Seconds: 0.4},
		{Device: "fpga", Method: MethodTSFT, Shots: 50, Seed: 1, MSE: 0.002, Rho: 0.94, Seconds: 0.3},
		{Device: "pixel2", Method: MethodTSFT, Shots: 50, Seed: 1, MSE: 0.006, Rho: 0.70, Seconds: 0.6},
		{Device: "fpga", Method: MethodFLOPS, Shots: 50, Seed: 0, MSE: 0.01, Rho: 0.5, Seconds: 0.001},
		{Device: "fpga", Method: MethodTSFT, Shots: 10, Seed: 0, MSE: 0.02, Rho: 0.6, Seconds: 0.1},
	}
}

// TestSummariseKnownValues: per (device, method, shots), in first-seen
// order, mean and sample std over seeds. fpga/TSFT/50: MSE 0.001, 0.002 →
// mean 0.0015, std √((0.0005² + 0.0005²)/1) = 0.000707107; ρ 0.90, 0.94 →
// 0.92 ± 0.0282843; seconds (0.2 + 0.3)/2 = 0.25.
func TestSummariseKnownValues(t *testing.T) {
	s := Summarise(benchRows())
	if len(s) != 4 {
		t.Fatalf("%d groups, want 4", len(s))
	}
	g := s[0]
	if g.Device != "fpga" || g.Method != MethodTSFT || g.Shots != 50 || g.N != 2 {
		t.Fatalf("first group %+v", g)
	}
	if !near(g.MSE, 0.0015, 1e-12) || !near(g.MSEStd, 0.000707107, 1e-9) || !near(g.Rho, 0.92, 1e-12) || !near(g.RhoStd, 0.0282843, 1e-7) || !near(g.Seconds, 0.25, 1e-12) {
		t.Fatalf("fpga/TSFT/50: %+v", g)
	}
	if s[1].Device != "pixel2" || !near(s[1].MSE, 0.0045, 1e-12) || s[2].Method != MethodFLOPS || s[2].N != 1 || s[2].MSEStd != 0 || s[3].Shots != 10 {
		t.Fatalf("groups %+v", s)
	}
}

// TestMeanOverKnownValues: per seed the mean over the listed devices, then
// mean and sample std over seeds. MSE, TSFT, 50 shots, {fpga, pixel2}:
// seed 0 (0.001 + 0.003)/2 = 0.002, seed 1 (0.002 + 0.006)/2 = 0.004 →
// 0.003 ± √(2·0.001²) = 0.00141421. ρ: seed 0 0.85, seed 1 0.82 → 0.835 ±
// 0.0212132. A seed missing a device is left out.
func TestMeanOverKnownValues(t *testing.T) {
	rs := benchRows()
	devs := []string{"fpga", "pixel2"}
	if m, s, n := MeanOver(rs, MethodTSFT, 50, devs, false); !near(m, 0.003, 1e-12) || !near(s, 0.00141421, 1e-8) || n != 2 {
		t.Fatalf("MSE: %v ± %v over %d seeds, want 0.003 ± 0.00141421 over 2", m, s, n)
	}
	if m, s, n := MeanOver(rs, MethodTSFT, 50, devs, true); !near(m, 0.835, 1e-12) || !near(s, 0.0212132, 1e-7) || n != 2 {
		t.Fatalf("ρ: %v ± %v over %d seeds, want 0.835 ± 0.0212132 over 2", m, s, n)
	}
	// Seed 1 lacks pixel2: only seed 0 counts, (0.001 + 0.003)/2.
	if m, s, n := MeanOver(rs[:3], MethodTSFT, 50, devs, false); !near(m, 0.002, 1e-12) || s != 0 || n != 1 {
		t.Fatalf("incomplete seed: %v ± %v over %d", m, s, n)
	}
	// One device: the mean of its seeds.
	if m, _, n := MeanOver(rs, MethodTSFT, 50, []string{"fpga"}, false); !near(m, 0.0015, 1e-12) || n != 2 {
		t.Fatalf("fpga alone: %v over %d", m, n)
	}
	if m, s, n := MeanOver(rs, MethodBRPNAS, 50, devs, false); !math.IsNaN(m) || !math.IsNaN(s) || n != 0 {
		t.Fatalf("no rows: %v %v %d", m, s, n)
	}
}

func TestWriteCSVKnownOutput(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, benchRows()[:2]); err != nil {
		t.Fatal(err)
	}
	want := "partition,device,method,samples,seed,mse,spearman,seconds,choice\n" +
		",fpga,TSFT + layer-wise blend,50,0,0.001,0.9,0.2,\n" +
		",pixel2,TSFT + layer-wise blend,50,0,0.003,0.8,0.4,\n"
	if b.String() != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestWriteMarkdownKnownRows: the per-device rows are Summarise's values;
// HELP's bar rows MeanOver's for the bar's devices of the help partition
// (all five MSE devices and all six ρ devices, so one device alone gives
// "–"); the partition rows MeanOver's over the partition's devices and
// WorstDrop's worst device; a quantised device carries its floor.
func TestWriteMarkdownKnownRows(t *testing.T) {
	var rs []Result
	for s := 0; s < 2; s++ {
		for i, d := range RhoDevices {
			rs = append(rs, Result{Partition: "help", Device: d, Method: MethodTSFT, Shots: 50, Seed: s, MSE: 0.001 * float64(i+1+s), Rho: 0.9, Seconds: 0.5})
			rs = append(rs, Result{Partition: "help", Device: d, Method: MethodTSFT, Shots: 10, Seed: s, MSE: 0.1, Rho: 0.95 + 0.01*float64(s), Seconds: 0.5})
			rs = append(rs, Result{Partition: "help", Device: d, Method: MethodBase, Shots: 10, Seed: s, MSE: 0.2, Rho: 0.94, Seconds: 0})
			rs = append(rs, Result{Partition: "help", Device: d, Method: MethodSelect, Shots: 10, Seed: s, MSE: 0.1, Rho: 0.94 + 0.001*float64(i), Seconds: 0.1, Choice: "c" + fmt.Sprint(s)})
		}
		rs = append(rs, Result{Partition: "x", Device: "fpga", Method: MethodSelect, Shots: 10, Seed: s, MSE: 0.3, Rho: 0.5, Seconds: 0.1, Choice: "c"})
		rs = append(rs, Result{Partition: "x", Device: "fpga", Method: MethodBase, Shots: 10, Seed: s, MSE: 0.3, Rho: 0.6 + 0.1*float64(s), Seconds: 0})
	}
	rs = append(rs, Result{Partition: "help", Device: "fpga", Method: MethodBRPNAS, Shots: 900, Seed: 0, MSE: 0.005, Rho: 0.8, Seconds: 3})
	parts := []Partition{{Name: "help", Rule: "r1", Train: []string{"a", "b"}, Test: RhoDevices}, {Name: "x", Rule: "r2", Train: []string{"a"}, Test: []string{"fpga"}}}
	var b bytes.Buffer
	cfg := BenchConfig{Partitions: parts, Shots: []int{10, 50}, Seeds: 2, Select: DefaultSelectConfig(), BRP: baselines.BRPConfig{Layers: 4, Hidden: 600, BatchSize: 1, Epochs: 250}, BRPSamples: 5000}
	WriteMarkdown(&b, rs, cfg, map[string]float64{"pixel2": 0.00003})
	out := b.String()
	for _, want := range []string{
		"2 seeds;",
		"| help | r1 | a, b (2) | titan_rtx_256, gold_6226, fpga, raspi4, eyeriss, pixel2 |",
		"| x | r2 | a (1) | fpga |",
		// fpga is RhoDevices[2]: MSE 0.003 and 0.004 → 0.0035 ± 0.000707.
		"| fpga | TSFT + layer-wise blend | 50 | 0.00350 ± 0.00071 | 0.9000 ± 0.0000 | 0.500 |  |",
		"| pixel2 (whole ms: MSE floor 0.00003) | TSFT + layer-wise blend | 50 |",
		// The selection's choices per seed.
		"| fpga | TSFT, chosen by CV (default) | 10 | 0.10000 ± 0.00000 | 0.9420 ± 0.0000 | 0.100 | c0 ×1; c1 ×1 |",
		// MSE bar: the first five devices, seed 0 mean (1+…+5)/5·0.001 =
		// 0.003, seed 1 (2+…+6)/5·0.001 = 0.004 → 0.0035 ± 0.00071;
		// ρ at 10 shots: 0.95 and 0.96 → 0.9550 ± 0.0071.
		"| TSFT + layer-wise blend | 0.00350 ± 0.00071 (2 seeds) | 0.9550 ± 0.0071 (2 seeds) |",
		"| FLOPS | – (0 seeds) | – (0 seeds) |",
		// BRP-NAS: 5000 samples capped at 900; one device of five: no mean.
		"| BRP-NAS (5000 samples, 4×600 GCN, batch 1, 250 epochs; paper 0.00512 / ρ 0.789) | – (0 seeds) | – (0 seeds) |",
		// Partition rows: base ρ@10 0.94; selection (0.940+…+0.945)/6 =
		// 0.9425; worst device titan_rtx_256 (Δ 0) — the first at the least
		// Δ; partition x: base 0.6, 0.7 → 0.65 ± 0.0707, selection 0.5,
		// Δ 0.5 − 0.65 = −0.15.
		"| help | 0.9400 ± 0.0000 | 0.9425 ± 0.0000 | 0.9550 ± 0.0071 | – |",
		"+0.0000 (help/titan_rtx_256, 10 shots) |",
		"| x | 0.6500 ± 0.0707 | 0.5000 ± 0.0000 | – | – |",
		"-0.1500 (x/fpga, 10 shots) |",
		// All partitions: per seed the mean over the 7 (partition, device)
		// pairs; worst is x's.
		"| **all 2 partitions** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	cfg.BRPSamples = 0
	WriteMarkdown(&b, rs, cfg, nil)
	if strings.Contains(b.String(), "BRP-NAS (") {
		t.Error("BRP-NAS row written without BRP-NAS samples")
	}
	// Without a help partition there is no HELP bar table.
	b.Reset()
	WriteMarkdown(&b, OfPartition(rs, "x"), BenchConfig{Partitions: parts[1:], Shots: []int{10}, Seeds: 2}, nil)
	if strings.Contains(b.String(), "HELP's split against its bar") || strings.Contains(b.String(), "all 1 partitions") {
		t.Errorf("single non-HELP partition:\n%s", b.String())
	}
}

// TestWorstDropKnownValues: per (partition, device, shots) the seed-mean of
// method ρ − base ρ; the most negative wins.
func TestWorstDropKnownValues(t *testing.T) {
	rs := []Result{
		{Partition: "a", Device: "d1", Method: MethodBase, Shots: 10, Seed: 0, Rho: 0.9},
		{Partition: "a", Device: "d1", Method: MethodSelect, Shots: 10, Seed: 0, Rho: 0.92},
		{Partition: "a", Device: "d1", Method: MethodBase, Shots: 10, Seed: 1, Rho: 0.9},
		{Partition: "a", Device: "d1", Method: MethodSelect, Shots: 10, Seed: 1, Rho: 0.86}, // mean Δ (0.02 − 0.04)/2 = −0.01
		{Partition: "b", Device: "d1", Method: MethodBase, Shots: 50, Seed: 0, Rho: 0.8},
		{Partition: "b", Device: "d1", Method: MethodSelect, Shots: 50, Seed: 0, Rho: 0.795}, // −0.005
		{Partition: "b", Device: "d2", Method: MethodTSFT, Shots: 50, Seed: 0, Rho: 0.1},
	}
	d, where := WorstDrop(rs, MethodSelect)
	if !near(d, -0.01, 1e-12) || where != "a/d1, 10 shots" {
		t.Fatalf("worst drop %v at %q, want −0.01 at a/d1, 10 shots", d, where)
	}
	if d, _ := WorstDrop(rs, MethodFLOPS); !math.IsNaN(d) {
		t.Fatalf("no FLOPS rows: %v", d)
	}
	if got := OfPartition(rs, "b"); len(got) != 3 || got[0].Device != "d1" || got[2].Device != "d2" {
		t.Fatalf("OfPartition b: %+v", got)
	}
}

// TestMeanOverPartitions: the same device in two partitions counts twice;
// devices nil takes every (partition, device) pair; a seed lacking one
// pair is left out.
func TestMeanOverPartitions(t *testing.T) {
	rs := []Result{
		{Partition: "a", Device: "d", Method: MethodSelect, Shots: 10, Seed: 0, Rho: 0.9},
		{Partition: "b", Device: "d", Method: MethodSelect, Shots: 10, Seed: 0, Rho: 0.7},
		{Partition: "b", Device: "e", Method: MethodSelect, Shots: 10, Seed: 0, Rho: 0.5},
		{Partition: "a", Device: "d", Method: MethodSelect, Shots: 10, Seed: 1, Rho: 1.0},
	}
	// Seed 0: (0.9 + 0.7 + 0.5)/3 = 0.7; seed 1 lacks two pairs.
	if m, s, n := MeanOver(rs, MethodSelect, 10, nil, true); !near(m, 0.7, 1e-12) || s != 0 || n != 1 {
		t.Fatalf("all pairs: %v ± %v over %d, want 0.7 over 1 seed", m, s, n)
	}
	// Only d: seed 0 (0.9 + 0.7)/2 = 0.8, seed 1 still lacks b/d.
	if m, _, n := MeanOver(rs, MethodSelect, 10, []string{"d"}, true); !near(m, 0.8, 1e-12) || n != 1 {
		t.Fatalf("device d: %v over %d, want 0.8 over 1", m, n)
	}
	if m, _, n := MeanOver(rs, MethodSelect, 10, []string{"d", "zz"}, true); !math.IsNaN(m) || n != 0 {
		t.Fatalf("a device never benchmarked: %v over %d", m, n)
	}
}

// TestPlotMSE writes a PNG when a method has a positive mean MSE, and
// nothing when every mean is 0 (no point on a log scale).
func TestPlotMSE(t *testing.T) {
	dir := t.TempDir()
	devs := []string{"fpga"}
	p := filepath.Join(dir, "a.png")
	rs := []Result{
		{Device: "fpga", Method: MethodTSFT, Shots: 10, MSE: 0.002},
		{Device: "fpga", Method: MethodTSFT, Shots: 50, MSE: 0.001},
		{Device: "fpga", Method: MethodLayerWis, Shots: 10, MSE: 0.003},
	}
	if err := PlotMSE(p, rs, []int{50, 10}, devs); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(p)
	if err != nil {
		t.Fatalf("plot not written: %v", err)
	}
	defer fh.Close()
	// 7 × 4.5 inches at vgimg's default 96 dpi: 672 × 432 pixels.
	if cfg, err := png.DecodeConfig(fh); err != nil || cfg.Width != 672 || cfg.Height != 432 {
		t.Fatalf("plot %dx%d (%v), want 672x432", cfg.Width, cfg.Height, err)
	}
	q := filepath.Join(dir, "b.png")
	zero := []Result{{Device: "fpga", Method: MethodTSFT, Shots: 10, MSE: 0}}
	if err := PlotMSE(q, zero, []int{10}, devs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(q); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a plot without positive MSE was written: %v", err)
	}
}

// TestPlotMSETickLabelsArePlainDecimals: the log-scale MSE axis labels its
// decades in plain shortest notation (strconv 'g' with precision −1). Mean
// MSEs 0.5 and 200 give a y range whose labelled decades are 1, 10 and 100
// (LogTicks labels 10^⌊…⌋ up to 10^⌈log10 200⌉ = 1000, dropping those off
// the axis), written "1", "10", "100"; a fixed one-digit precision would
// write "1e+01" and "1e+02". Written as SVG, whose <text> elements hold
// the labels.
func TestPlotMSETickLabelsArePlainDecimals(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mse.svg")
	rs := []Result{
		{Device: "fpga", Method: MethodTSFT, Shots: 10, MSE: 200},
		{Device: "fpga", Method: MethodTSFT, Shots: 50, MSE: 0.5},
	}
	if err := PlotMSE(p, rs, []int{10, 50}, []string{"fpga"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	for _, s := range strings.Split(string(b), "</text>") {
		if i := strings.LastIndexByte(s, '>'); i >= 0 && strings.Contains(s, "<text") {
			labels[s[i+1:]] = true
		}
	}
	for _, want := range []string{"1", "10", "100"} {
		if !labels[want] {
			t.Errorf("no tick label %q; labels %v", want, labels)
		}
	}
	for l := range labels {
		if strings.Contains(l, "e+") || strings.Contains(l, "e-") {
			t.Errorf("tick label %q in exponent notation", l)
		}
	}
}
