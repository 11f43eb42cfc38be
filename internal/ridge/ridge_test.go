package ridge

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func mustNew(t *testing.T, x []float64, p int, y []float64, sc Scaling) *Problem {
	t.Helper()
	pr, err := New(x, p, y, sc)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// The hand problem: x = (0, 1, 2), y = (1, 2, 4). Centred: x̃ = (−1, 0, 1),
// ȳ = 7/3, Σx̃² = 2, Σx̃ỹ = 3, so β(λ) = 3/(2+λ), b = 7/3 − β, and the hat
// diagonal is h_ii = 1/3 + x̃_i²/(2+λ).
//
// λ = 0: β = 3/2, b = 5/6; fits 5/6, 7/3, 23/6; residuals 1/6, −1/3, 1/6;
// h = 5/6, 1/3, 5/6; LOO residuals (1/6)/(1/6) = 1, (−1/3)/(2/3) = −1/2,
// (1/6)/(1/6) = 1. By refitting: without x=0 the line through (1,2), (2,4)
// is 2x, predicting 0 (residual 1); without x=1 the line through (0,1),
// (2,4) is 1 + 1.5x, predicting 2.5 (−1/2); without x=2 the line through
// (0,1), (1,2) is 1 + x, predicting 3 (1).
//
// λ = 1: β = 1, b = 4/3; fits 4/3, 7/3, 10/3; residuals −1/3, −1/3, 2/3;
// h = 2/3, 1/3, 2/3; LOO residuals −1, −1/2, 2. By refitting without x=0:
// x̃ = (−½, ½), ỹ = (−1, 1), β = 1/(½+1) = 2/3, b = 3 − (2/3)·1.5 = 2,
// predicting 2 at x = 0 (residual −1).
var (
	handX = []float64{0, 1, 2}
	handY = []float64{1, 2, 4}
)

func TestHandProblemCentre(t *testing.T) {
	pr := mustNew(t, handX, 1, handY, Centre)
	for _, c := range []struct {
		lambda  float64
		b, beta float64
		loo     [3]float64
	}{
		{0, 5.0 / 6, 1.5, [3]float64{1, -0.5, 1}},
		{1, 4.0 / 3, 1, [3]float64{-1, -0.5, 2}},
	} {
		b, beta, err := pr.Fit(c.lambda)
		if err != nil {
			t.Fatal(err)
		}
		if !near(b, c.b, 1e-12) || !near(beta[0], c.beta, 1e-12) {
			t.Errorf("λ %v: b %v β %v, want %v %v", c.lambda, b, beta[0], c.b, c.beta)
		}
		loo, err := pr.LOO(c.lambda)
		if err != nil {
			t.Fatal(err)
		}
		for i := range loo {
			if !near(loo[i], c.loo[i], 1e-12) {
				t.Errorf("λ %v: LOO residuals %v, want %v", c.lambda, loo, c.loo)
				break
			}
		}
		mse, _ := pr.LOOMSE(c.lambda)
		want := (c.loo[0]*c.loo[0] + c.loo[1]*c.loo[1] + c.loo[2]*c.loo[2]) / 3
		if !near(mse, want, 1e-12) {
			t.Errorf("λ %v: LOO MSE %v, want %v", c.lambda, mse, want)
		}
	}
	// "No model": b = 0, β = 0, LOO residuals the targets, LOO MSE
	// (1 + 4 + 16)/3 = 7.
	b, beta, _ := pr.Fit(math.Inf(1))
	loo, _ := pr.LOO(math.Inf(1))
	mse, _ := pr.LOOMSE(math.Inf(1))
	if b != 0 || beta[0] != 0 || loo[0] != 1 || loo[1] != 2 || loo[2] != 4 || mse != 7 {
		t.Errorf("no model: b %v β %v LOO %v MSE %v, want 0 0 [1 2 4] 7", b, beta, loo, mse)
	}
}

// TestHandProblemStandardise: the hand problem on the standardised column.
// Its population standard deviation is √(2/3), so z = x̃/√(2/3), Σz² = 3
// and Σzỹ = 3/√(2/3); with λ = 3 (the baselines' 1·n), γ = Σzỹ/(3+3) and
// β = γ/√(2/3) = 3/((2/3)·6) = 3/4, b = 7/3 − 3/4 = 19/12: the same as
// Centre with λ·sd² = 2, β = 3/(2+2).
func TestHandProblemStandardise(t *testing.T) {
	pr := mustNew(t, handX, 1, handY, Standardise)
	b, beta, err := pr.Fit(3)
	if err != nil {
		t.Fatal(err)
	}
	if !near(b, 19.0/12, 1e-12) || !near(beta[0], 0.75, 1e-12) {
		t.Errorf("b %v β %v, want 19/12 3/4", b, beta[0])
	}
	// Unpenalised, the scaling does not matter: β = 3/2, b = 5/6.
	b, beta, _ = pr.Fit(0)
	if !near(b, 5.0/6, 1e-12) || !near(beta[0], 1.5, 1e-12) {
		t.Errorf("λ 0: b %v β %v, want 5/6 3/2", b, beta[0])
	}
}

// TestConstantColumn: a column equal to 0.1 everywhere has zero variance:
// β = 0 for it, whatever λ, and the rest is the hand problem (x = 0, 1, 2
// as the other column, λ = 1: β = 1, b = 4/3). In float64 the mean of
// three 0.1 is 0.10000000000000002, so the centred column is not exactly
// zero but ≈ −1.4e-17 everywhere: it must be recognised as constant (for
// Standardise, dividing by its ≈ 1.4e-17 standard deviation would make a
// spurious column of −1).
func TestConstantColumn(t *testing.T) {
	x := []float64{0.1, 0, 0.1, 1, 0.1, 2}
	for _, sc := range []Scaling{Centre, Standardise} {
		pr := mustNew(t, x, 2, handY, sc)
		lam := 1.0
		if sc == Standardise {
			lam = 1.5 // λ·sd² = 1.5·(2/3) = 1 in the units of x
		}
		b, beta, err := pr.Fit(lam)
		if err != nil {
			t.Fatal(err)
		}
		if beta[0] != 0 || !near(beta[1], 1, 1e-12) || !near(b, 4.0/3, 1e-12) || pr.Rank() != 1 {
			t.Errorf("scaling %d: b %v β %v rank %d, want 4/3 [0 1] 1", sc, b, beta, pr.Rank())
		}
	}
}

// TestCollinearMinimumNorm: two columns, the second 0.3× the first
// (x₁ = 1, 2, 3, 4; x₂ = 0.3, 0.6, 0.9, 1.2, which 0.3·x₁ does not round
// to exactly), y = 1 + 2x₁. Least squares (λ = 0) has a line of
// solutions β₁ + 0.3β₂ = 2; the minimum-norm one is
// (β₁, β₂) = 2·(1, 0.3)/1.09, b = 1. Dividing by the rounding-level
// second singular value instead of dropping it gives a wildly different β.
func TestCollinearMinimumNorm(t *testing.T) {
	x := []float64{1, 0.3, 2, 0.6, 3, 0.9, 4, 1.2}
	y := []float64{3, 5, 7, 9}
	pr := mustNew(t, x, 2, y, Centre)
	b, beta, err := pr.Fit(0)
	if err != nil {
		t.Fatal(err)
	}
	if !near(beta[0], 2/1.09, 1e-9) || !near(beta[1], 0.6/1.09, 1e-9) || !near(b, 1, 1e-9) {
		t.Errorf("b %v β %v, want 1 [%v %v]", b, beta, 2/1.09, 0.6/1.09)
	}
	if pr.Rank() != 1 {
		t.Errorf("rank %d, want 1", pr.Rank())
	}
}

// TestOneSample: one sample fits the constant (b = y, β = 0) and has no
// leave-one-out prediction (residual +Inf), except "no model" (residual y).
func TestOneSample(t *testing.T) {
	pr := mustNew(t, []float64{3, 4}, 2, []float64{0.5}, Standardise)
	b, beta, err := pr.Fit(1e-6)
	if err != nil || b != 0.5 || beta[0] != 0 || beta[1] != 0 {
		t.Fatalf("b %v β %v err %v, want 0.5 [0 0]", b, beta, err)
	}
	if loo, _ := pr.LOO(1e-3); !math.IsInf(loo[0], 1) {
		t.Errorf("LOO residual %v, want +Inf", loo[0])
	}
	if loo, _ := pr.LOO(math.Inf(1)); loo[0] != 0.5 {
		t.Errorf("no model LOO residual %v, want 0.5", loo[0])
	}
}

// refit is an independent reference: ridge with an unpenalised intercept as
// the augmented normal equations (AᵀA + diag(0, λ, …, λ))θ = Aᵀy,
// A = [1 X], solved by Gaussian elimination with partial pivoting. It
// needs λ > 0 or a full-rank A.
func refit(x [][]float64, y []float64, lambda float64) (b float64, beta []float64) {
	p := len(x[0])
	m := p + 1
	a := make([][]float64, m)
	for r := range a {
		a[r] = make([]float64, m+1)
	}
	for i := range x {
		row := append([]float64{1}, x[i]...)
		for r := 0; r < m; r++ {
			for c := 0; c < m; c++ {
				a[r][c] += row[r] * row[c]
			}
			a[r][m] += row[r] * y[i]
		}
	}
	for r := 1; r < m; r++ {
		a[r][r] += lambda
	}
	for c := 0; c < m; c++ {
		piv := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		for r := c + 1; r < m; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k <= m; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	theta := make([]float64, m)
	for r := m - 1; r >= 0; r-- {
		s := a[r][m]
		for k := r + 1; k < m; k++ {
			s -= a[r][k] * theta[k]
		}
		theta[r] = s / a[r][r]
	}
	return theta[0], theta[1:]
}

// TestFitAndLOOMatchBruteForce compares Fit with refit on all samples and
// LOO with refit without each sample (predicting it), for Centre, over
// penalties from 1e-3 to 100, on random problems with more samples than
// columns, fewer (n = 4, p = 5: LOO still defined for λ > 0), integer
// counts whose columns sum to a constant (collinear after centring, as
// the op counts of TSFT's additive model) and λ = 0 on a full-rank one.
func TestFitAndLOOMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	type problem struct {
		name    string
		n, p    int
		counts  bool
		lambdas []float64
	}
	for _, c := range []problem{
		{"n 12, p 3", 12, 3, false, []float64{0, 1e-3, 0.1, 1, 100}},
		{"n 4, p 5", 4, 5, false, []float64{1e-3, 0.1, 1, 100}},
		{"op counts n 10", 10, 5, true, []float64{1e-3, 1e-2, 1, 100}},
	} {
		x := make([][]float64, c.n)
		flat := make([]float64, 0, c.n*c.p)
		y := make([]float64, c.n)
		for i := range x {
			x[i] = make([]float64, c.p)
			if c.counts {
				for e := 0; e < 6; e++ {
					x[i][rng.IntN(c.p)]++
				}
			} else {
				for j := range x[i] {
					x[i][j] = rng.NormFloat64()
				}
			}
			flat = append(flat, x[i]...)
			y[i] = 0.3 + 0.1*rng.NormFloat64()
			for j := range x[i] {
				y[i] += 0.05 * float64(j+1) * x[i][j]
			}
		}
		pr := mustNew(t, flat, c.p, y, Centre)
		for _, lam := range c.lambdas {
			b, beta, err := pr.Fit(lam)
			if err != nil {
				t.Fatal(err)
			}
			// Compare predictions (the coefficients of collinear columns
			// are not identifiable at λ = 0, their predictions are).
			rb, rbeta := refit(x, y, lam)
			for i := range x {
				got, want := b, rb
				for j := range x[i] {
					got += beta[j] * x[i][j]
					want += rbeta[j] * x[i][j]
				}
				if !near(got, want, 1e-9) {
					t.Fatalf("%s λ %v: fit of sample %d %v, reference %v", c.name, lam, i, got, want)
				}
			}
			loo, err := pr.LOO(lam)
			if err != nil {
				t.Fatal(err)
			}
			for i := range x {
				xs := append(append([][]float64(nil), x[:i]...), x[i+1:]...)
				ys := append(append([]float64(nil), y[:i]...), y[i+1:]...)
				rb, rbeta := refit(xs, ys, lam)
				pred := rb
				for j := range rbeta {
					pred += rbeta[j] * x[i][j]
				}
				if want := y[i] - pred; !near(loo[i], want, 1e-9*math.Max(1, math.Abs(want))) {
					t.Fatalf("%s λ %v: LOO residual %d %v, refit without it %v", c.name, lam, i, loo[i], want)
				}
			}
		}
	}
}

// TestSelectLOO: on the hand problem the LOO MSEs are λ = 0: (1 + ¼ + 1)/3
// = 0.75, λ = 1: (1 + ¼ + 4)/3 = 1.75, no model: 7, so 0 wins whatever the
// order. Ties keep the earlier entry: with y = 0 every candidate (no model
// included) has LOO error 0.
func TestSelectLOO(t *testing.T) {
	pr := mustNew(t, handX, 1, handY, Centre)
	for _, grid := range [][]float64{{math.Inf(1), 1, 0}, {0, 1, math.Inf(1)}, {1, 0}} {
		lam, mse, err := pr.SelectLOO(grid)
		if err != nil || lam != 0 || !near(mse, 0.75, 1e-12) {
			t.Errorf("grid %v: λ %v MSE %v err %v, want 0 0.75", grid, lam, mse, err)
		}
	}
	if lam, mse, _ := pr.SelectLOO([]float64{1, math.Inf(1)}); lam != 1 || !near(mse, 1.75, 1e-12) {
		t.Errorf("grid {1, +Inf}: λ %v MSE %v, want 1 1.75", lam, mse)
	}
	zero := mustNew(t, handX, 1, []float64{0, 0, 0}, Centre)
	for _, grid := range [][]float64{{math.Inf(1), 1e-3, 1}, {1e-3, math.Inf(1)}, {1, 1e-3}} {
		if lam, mse, _ := zero.SelectLOO(grid); lam != grid[0] || mse != 0 {
			t.Errorf("tie on grid %v: λ %v MSE %v, want the first, %v", grid, lam, mse, grid[0])
		}
	}
}

// TestJacobiSVDKnownMatrix: Z = [[1 1] [0 1] [1 0]] has ZᵀZ = [[2 1] [1 2]]
// with eigenvalues 3 and 1, so singular values √3 and 1, right singular
// vectors (1, 1)/√2 and (1, −1)/√2 up to sign; ZV = US.
func TestJacobiSVDKnownMatrix(t *testing.T) {
	z := [][]float64{{1, 0, 1}, {1, 1, 0}} // columns
	orig := [][]float64{append([]float64(nil), z[0]...), append([]float64(nil), z[1]...)}
	s, v := jacobiSVD(z)
	if s[0] < s[1] {
		s[0], s[1], v[0], v[1], z[0], z[1] = s[1], s[0], v[1], v[0], z[1], z[0]
	}
	if !near(s[0], math.Sqrt(3), 1e-14) || !near(s[1], 1, 1e-14) {
		t.Fatalf("singular values %v, want [√3 1]", s)
	}
	r := 1 / math.Sqrt2
	if !near(math.Abs(v[0][0]), r, 1e-14) || !near(v[0][0], v[0][1], 1e-14) ||
		!near(math.Abs(v[1][0]), r, 1e-14) || !near(v[1][0], -v[1][1], 1e-14) {
		t.Fatalf("right singular vectors %v, want ±(1,1)/√2 and ±(1,−1)/√2", v)
	}
	// z now holds U·S: column k = Σ_a orig[a]·v[k][a].
	for k := range z {
		for i := range z[k] {
			want := orig[0][i]*v[k][0] + orig[1][i]*v[k][1]
			if !near(z[k][i], want, 1e-14) {
				t.Fatalf("(ZV)[%d][%d] = %v, want %v", i, k, z[k][i], want)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := New([]float64{1, 2}, 1, []float64{1}, Centre); err == nil || !strings.Contains(err.Error(), "shapes") {
		t.Errorf("2 values for 1 sample × 1 column: %v", err)
	}
	if _, err := New(nil, 1, nil, Centre); err == nil {
		t.Error("no samples accepted")
	}
	if _, err := New([]float64{1, math.NaN()}, 1, []float64{1, 2}, Centre); err == nil {
		t.Error("NaN in x accepted")
	}
	if _, err := New([]float64{1, 2}, 1, []float64{1, math.Inf(-1)}, Centre); err == nil {
		t.Error("-Inf in y accepted")
	}
	if _, err := New(handX, 1, handY, Scaling(7)); err == nil {
		t.Error("unknown scaling accepted")
	}
	pr := mustNew(t, handX, 1, handY, Centre)
	for _, l := range []float64{-1, math.NaN(), math.Inf(-1)} {
		if _, _, err := pr.Fit(l); err == nil {
			t.Errorf("Fit(%v) accepted", l)
		}
		if _, err := pr.LOO(l); err == nil {
			t.Errorf("LOO(%v) accepted", l)
		}
		if _, _, err := pr.SelectLOO([]float64{1, l}); err == nil {
			t.Errorf("SelectLOO with %v accepted", l)
		}
	}
	if _, _, err := pr.SelectLOO(nil); err == nil {
		t.Error("empty grid accepted")
	}
	// Overflow: x of 1e200 squares to +Inf.
	if _, err := New([]float64{0, 1e200, -1e200}, 1, []float64{0, 1, 2}, Centre); err == nil {
		t.Error("a column whose variance overflows accepted")
	}
	// A finite design whose coefficient overflows: β = Σx̃ỹ/Σx̃² with
	// x̃ = ±1e-160 (Σx̃² = 2e-320, subnormal) and ỹ = ±1e300.
	tiny := mustNew(t, []float64{-1e-160, 1e-160}, 1, []float64{-1e300, 1e300}, Centre)
	if _, _, err := tiny.Fit(0); err == nil {
		t.Error("a non-finite coefficient returned without an error")
	}
}
