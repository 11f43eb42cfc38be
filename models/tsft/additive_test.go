package tsft

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the additive (layer-wise) model of TSFT's blend. The ridge
// solver itself is tested in internal/ridge; here the features, the grid,
// "no model" and the choice of λ are checked against hand values and an
// independent float64 re-derivation (ridgeReference, brute-force LOO).

func cellsFeatures(t *testing.T, cells []Cell) *Features {
	t.Helper()
	f, err := NewFeatures(cells)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestAdditiveApplyKnownValue: Apply adds B + Σ Beta[op] to pred in place;
// "no model" (λ = +Inf) adds nothing.
func TestAdditiveApplyKnownValue(t *testing.T) {
	f := cellsFeatures(t, []Cell{{0, 0, 0, 0, 0, 0}, {4, 3, 2, 1, 0, 4}})
	c := Additive{B: 0.5, Beta: [NumOps]float32{0.01, 0.1, 0.2, 0.3, 0.4}, Lambda: 1}
	// cell 0: 0.5 + 6·0.01 = 0.56, plus the prior 1 → 1.56;
	// cell 1: 0.5 + 0.4 + 0.3 + 0.2 + 0.1 + 0.01 + 0.4 = 1.91, plus the prior 2 → 3.91.
	got := c.Apply(f, []int{0, 1}, []float32{1, 2})
	if !near(float64(got[0]), 1.56, 1e-6) || !near(float64(got[1]), 3.91, 1e-6) {
		t.Fatalf("Apply = %v, want [1.56 3.91]", got)
	}
	c.Lambda = math.Inf(1)
	if got := c.Apply(f, []int{0, 1}, []float32{1, 2}); got[0] != 1 || got[1] != 2 {
		t.Fatalf("no model changed the predictions: %v", got)
	}
}

// TestFitAdditiveExactTable fits noiseless additive latencies on 30 cells:
// the ridge (any λ of the grid is nearly exact here, and LOO prefers a
// model to "none" whose error is the mean square ≈ 0.1) recovers the
// prediction B + Σ Beta[op] on cells it never saw to 2e-3.
// Costs: 0.05 + {0.004, 0.011, 0.037, 0.121, 0.023}[op] per edge.
func TestFitAdditiveExactTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2))
	cells := randCells(230, rng)
	f := cellsFeatures(t, cells)
	cost := [NumOps]float64{0.004, 0.011, 0.037, 0.121, 0.023}
	truth := func(c Cell) float64 {
		v := 0.05
		for _, op := range c {
			v += cost[op]
		}
		return v
	}
	idx := seq(0, 30)
	y := make([]float32, len(idx))
	for i, j := range idx {
		y[i] = float32(truth(cells[j]))
	}
	c := FitAdditive(f, idx, y)
	if math.IsInf(c.Lambda, 1) {
		t.Fatal("no model chosen for an exactly additive target")
	}
	held := seq(30, 230)
	p := c.Apply(f, held, make([]float32, len(held)))
	for i, j := range held {
		if !near(float64(p[i]), truth(cells[j]), 2e-3) {
			t.Fatalf("held-out cell %v: %.5f, want %.5f (λ %v)", cells[j], p[i], truth(cells[j]), c.Lambda)
		}
	}
	// Fewer than three samples: no model.
	if c := FitAdditive(f, idx[:2], y[:2]); !math.IsInf(c.Lambda, 1) {
		t.Fatalf("two samples fitted λ %v", c.Lambda)
	}
}

// ridgeReference fits y ≈ b0 + xᵀβ by ridge with an unpenalised intercept
// (centre, then solve (X̃ᵀX̃ + λI)β = X̃ᵀỹ by Cholesky): an independent
// float64 re-derivation used to check FitAdditive.
func ridgeReference(x [][NumOps]float64, y []float64, lam float64) (float64, [NumOps]float64) {
	const p = NumOps
	n := float64(len(x))
	var mx [p]float64
	var my float64
	for i := range x {
		for k := range mx {
			mx[k] += x[i][k] / n
		}
		my += y[i] / n
	}
	var a [p][p]float64
	var r [p]float64
	for i := range x {
		for j := 0; j < p; j++ {
			r[j] += (x[i][j] - mx[j]) * (y[i] - my)
			for k := 0; k < p; k++ {
				a[j][k] += (x[i][j] - mx[j]) * (x[i][k] - mx[k])
			}
		}
	}
	for j := 0; j < p; j++ {
		a[j][j] += lam
	}
	// Cholesky a = L Lᵀ, then forward and back substitution.
	var l [p][p]float64
	for j := 0; j < p; j++ {
		s := a[j][j]
		for k := 0; k < j; k++ {
			s -= l[j][k] * l[j][k]
		}
		l[j][j] = math.Sqrt(s)
		for i := j + 1; i < p; i++ {
			s := a[i][j]
			for k := 0; k < j; k++ {
				s -= l[i][k] * l[j][k]
			}
			l[i][j] = s / l[j][j]
		}
	}
	var z, beta [p]float64
	for i := 0; i < p; i++ {
		s := r[i]
		for k := 0; k < i; k++ {
			s -= l[i][k] * z[k]
		}
		z[i] = s / l[i][i]
	}
	for i := p - 1; i >= 0; i-- {
		s := z[i]
		for k := i + 1; k < p; k++ {
			s -= l[k][i] * beta[k]
		}
		beta[i] = s / l[i][i]
	}
	b0 := my
	for k := range beta {
		b0 -= beta[k] * mx[k]
	}
	return b0, beta
}

// TestFitAdditiveMatchesBruteForceLOO checks the ridge strength chosen by
// FitAdditive's closed-form leave-one-out against brute force (refit
// without each sample, predict it), "no model" scoring the mean square of
// the targets, and the fitted table against ridgeReference at that λ.
func TestFitAdditiveMatchesBruteForceLOO(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 4))
	cells := randCells(60, rng)
	f := cellsFeatures(t, cells)
	cost := [NumOps]float64{0.004, 0.011, 0.037, 0.121, 0.023}
	counts := func(c Cell) (x [NumOps]float64) {
		for _, op := range c {
			x[op]++
		}
		return x
	}
	for _, tc := range []struct {
		name   string
		n      int
		offset float64
		noise  float64
	}{
		{"clean, 12 samples", 12, 0.05, 0.002},
		{"noisy, 12 samples", 12, 0.05, 0.05},
		{"very noisy, 8 samples", 8, 0.3, 0.3},
		{"noise around 0, 10 samples", 10, 0, 0.01}, // "no model" wins
		{"3 samples", 3, 0.5, 0.01},
	} {
		idx := seq(0, tc.n)
		x := make([][NumOps]float64, tc.n)
		y := make([]float64, tc.n)
		y32 := make([]float32, tc.n)
		for i := range idx {
			x[i] = counts(cells[i])
			v := tc.offset + tc.noise*rng.NormFloat64()
			if tc.offset > 0 {
				for _, op := range cells[i] {
					v += cost[op]
				}
			}
			y32[i] = float32(v)
			y[i] = float64(y32[i])
		}
		// Brute-force LOO error of each candidate.
		bestLam, bestErr := math.Inf(1), 0.0
		for _, v := range y {
			bestErr += v * v / float64(tc.n)
		}
		errs := map[float64]float64{math.Inf(1): bestErr}
		for _, lam := range []float64{1e-3, 1e-2, 1e-1, 1, 10, 100} {
			var e float64
			for i := range x {
				xs := append(append([][NumOps]float64(nil), x[:i]...), x[i+1:]...)
				ys := append(append([]float64(nil), y[:i]...), y[i+1:]...)
				b0, beta := ridgeReference(xs, ys, lam)
				pred := b0
				for k := range beta {
					pred += beta[k] * x[i][k]
				}
				e += (y[i] - pred) * (y[i] - pred) / float64(tc.n)
			}
			errs[lam] = e
			if e < bestErr {
				bestLam, bestErr = lam, e
			}
		}
		// The choice must be clear: the runner-up is ≥ 0.1 % worse.
		for lam, e := range errs {
			if lam != bestLam && e < bestErr*1.001 {
				t.Fatalf("%s: LOO errors too close to check the choice: %v", tc.name, errs)
			}
		}
		c := FitAdditive(f, idx, y32)
		if c.Lambda != bestLam {
			t.Fatalf("%s: chose λ %v, brute-force LOO prefers %v (errors %v)", tc.name, c.Lambda, bestLam, errs)
		}
		probe := seq(20, 60)
		got := c.Apply(f, probe, make([]float32, len(probe)))
		for i, j := range probe {
			want := 0.0
			if !math.IsInf(bestLam, 1) {
				b0, beta := ridgeReference(x, y, bestLam)
				want = b0
				xj := counts(cells[j])
				for k := range beta {
					want += beta[k] * xj[k]
				}
			}
			if !near(float64(got[i]), want, 1e-5) {
				t.Fatalf("%s (λ %v): cell %d predicts %.6f, reference %.6f", tc.name, bestLam, j, got[i], want)
			}
		}
		t.Logf("%s: λ %v, LOO errors %v", tc.name, bestLam, errs)
	}
}

// TestFitAdditiveConstantTargetKeepsSmallestRidge: a constant target 0.5
// on 4 cells has zero centred targets, so every λ fits β = 0 with LOO
// error 0 (< "no model"'s 0.25); the first (smallest) λ of the grid is
// kept, and the prediction is the constant. A target of 0 ties everything,
// "no model" included, and keeps "no model".
func TestFitAdditiveConstantTargetKeepsSmallestRidge(t *testing.T) {
	f := cellsFeatures(t, randCells(4, rand.New(rand.NewPCG(8, 8))))
	c := FitAdditive(f, []int{0, 1, 2, 3}, []float32{0.5, 0.5, 0.5, 0.5})
	if c.Lambda != 1e-3 {
		t.Fatalf("λ %v, want the grid's first 1e-3", c.Lambda)
	}
	for _, p := range c.Apply(f, []int{0, 1, 2, 3}, make([]float32, 4)) {
		if p != 0.5 {
			t.Fatalf("prediction %v, want 0.5", p)
		}
	}
	// Targets 0: "no model" ties with every λ (all leave-one-out errors
	// are 0) and, first in the order of preference, is kept.
	if c := FitAdditive(f, []int{0, 1, 2, 3}, make([]float32, 4)); !math.IsInf(c.Lambda, 1) {
		t.Fatalf("zero targets: λ %v, want +Inf (no model wins ties)", c.Lambda)
	}
}

// TestFitAdditiveRecoversAdditiveCosts: exact additive costs on 40 cells
// are fitted to MSE ≤ 1e-6; on pure noise the chosen model stays well below
// the noise level.
func TestFitAdditiveRecoversAdditiveCosts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	f := cellsFeatures(t, randCells(40, rng)) // the cells of train/tsftrun's synthetic(40, rng)
	cost := [NumOps]float32{0, 0.01, 0.03, 0.08, 0.02}
	idx := make([]int, 40)
	y := make([]float32, 40)
	for i := range idx {
		idx[i] = i
		y[i] = 0.05
		for _, op := range f.Cells[i] {
			y[i] += cost[op]
		}
	}
	c := FitAdditive(f, idx, y)
	p := c.Apply(f, idx, make([]float32, len(idx)))
	if mse := meanSquare(p, y); mse > 1e-6 {
		t.Fatalf("additive fit MSE %.3g (λ %v)", mse, c.Lambda)
	}
	// Pure noise around zero: whatever LOO picks must not fit the noise
	// (its predictions stay well below the noise level).
	for i := range y {
		y[i] = float32(rng.NormFloat64() * 1e-3)
	}
	c = FitAdditive(f, idx, y)
	p = c.Apply(f, idx, make([]float32, len(idx)))
	if ms := meanSquare(p, make([]float32, len(p))); ms > 0.5e-6 {
		t.Fatalf("noise fit (λ=%v) predicts mean square %.3g, above half the noise variance", c.Lambda, ms)
	}
}

// meanSquare returns the mean of (a_i − b_i)².
func meanSquare(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// TestAdditiveJSON: the checkpoint metadata form. A fitted model encodes
// exactly as the plain struct did before Additive had JSON methods (the
// literal below is what encoding/json wrote for it), so metadata written
// before and after decode alike; "no model" (λ = +Inf), which the plain
// struct could not encode at all, is written as the string "+Inf".
func TestAdditiveJSON(t *testing.T) {
	fit := Additive{B: 0.5, Beta: [NumOps]float32{0, 0.25, -1, 3e-5, 7}, Lambda: 0.01}
	const old = `{"B":0.5,"Beta":[0,0.25,-1,0.00003,7],"Lambda":0.01}`
	got, err := json.Marshal(map[string]any{"additive": fit})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"additive":` + old + `}`; string(got) != want {
		t.Fatalf("encoded %s, want %s", got, want)
	}
	var back Additive
	if err := json.Unmarshal([]byte(old), &back); err != nil || back != fit {
		t.Fatalf("decoded %+v (err %v), want %+v", back, err, fit)
	}
	none := Additive{B: 5, Lambda: math.Inf(1)}
	got, err = json.Marshal(none)
	if err != nil {
		t.Fatalf("no model: %v", err)
	}
	if want := `{"B":5,"Beta":[0,0,0,0,0],"Lambda":"+Inf"}`; string(got) != want {
		t.Fatalf("no model encoded %s, want %s", got, want)
	}
	if err := json.Unmarshal(got, &back); err != nil || back != none {
		t.Fatalf("no model decoded %+v (err %v), want %+v", back, err, none)
	}
	for _, bad := range []string{`{"B":1}`, `{"B":1,"Lambda":null}`, `{"Lambda":"inf"}`, `{"Lambda":[1]}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s decoded without an error: %+v", bad, back)
		}
	}
}
