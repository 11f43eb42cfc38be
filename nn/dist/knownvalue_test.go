package dist_test

// Known values of every distribution at non-trivial parameters, worked out
// by hand (the arithmetic is in the comments) or from a textbook formula
// written independently of the code under test. The uniform Dirichlet
// (α = 1) and N(0, 1) of the older tests hide the normaliser and the scale
// terms, which vanish there; every case below has them non-zero.

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
)

// eulerGamma is the Euler–Mascheroni constant γ.
const eulerGamma = 0.57721566490153286

// psiInt is the digamma function at a positive integer n from the textbook
// identity ψ(n) = H_{n−1} − γ (H the harmonic numbers).
func psiInt(n int) float64 {
	var h float64
	for k := 1; k < n; k++ {
		h += 1 / float64(k)
	}
	return h - eulerGamma
}

// off reports whether got is not within tol of want (NaN is always off).
func off(got, want, tol float64) bool { return !(math.Abs(got-want) <= tol) }

func near(t *testing.T, what string, got float32, want, tol float64) {
	t.Helper()
	if off(float64(got), want, tol) {
		t.Errorf("%s = %.7g, want %.7g (±%g)", what, got, want, tol)
	}
}

// TestDirichletKnownValues: Beta(2,5) as a 2-component Dirichlet, and the
// 3-component Dirichlet(2,3,4) and Dirichlet(½,½,1) in one batch (so the
// per-row sums are checked too).
func TestDirichletKnownValues(t *testing.T) {
	tp := nn.NewInference()

	// Beta(2,5): B(2,5) = Γ(2)Γ(5)/Γ(7) = 1·24/720 = 1/30, so
	// p(0.3) = 30·0.3¹·0.7⁴ = 30·0.3·0.2401 = 2.1609, log = 0.7705248.
	// Entropy (textbook): ln B − (a−1)ψ(a) − (b−1)ψ(b) + (a+b−2)ψ(a+b)
	//   = −ln 30 − ψ(2) − 4ψ(5) + 5ψ(7),
	// ψ(2) = 1 − γ = 0.4227843, ψ(5) = 25/12 − γ = 1.5061177,
	// ψ(7) = 49/20 − γ = 1.8727843:
	//   = −3.4011974 − 0.4227843 − 6.0244707 + 9.3639217 = −0.4845307.
	beta := dist.NewDirichlet(tp, tp.Const(1, 2, []float32{2, 5}))
	wantLP := math.Log(30 * 0.3 * math.Pow(0.7, 4))
	near(t, "log Beta(2,5) density at 0.3", beta.LogProb(tp.Const(1, 2, []float32{0.3, 0.7})).Item(), wantLP, 2e-6)
	near(t, "log Beta(2,5) density at 0.3 (hand value)", beta.LogProb(tp.Const(1, 2, []float32{0.3, 0.7})).Item(), 0.7705248, 2e-6)
	wantH := -math.Log(30) - psiInt(2) - 4*psiInt(5) + 5*psiInt(7)
	near(t, "entropy of Beta(2,5)", beta.Entropy().Item(), wantH, 2e-6)
	near(t, "entropy of Beta(2,5) (hand value)", beta.Entropy().Item(), -0.4845307, 2e-6)
	if m := beta.Mean().Data; off(float64(m[0]), 2.0/7, 1e-7) || off(float64(m[1]), 5.0/7, 1e-7) {
		t.Errorf("mean of Beta(2,5) = %v, want (2/7, 5/7)", m)
	}

	// Row 0: Dirichlet(2,3,4) at x = (0.2, 0.3, 0.5).
	//   normaliser Γ(9)/(Γ(2)Γ(3)Γ(4)) = 40320/(1·2·6) = 3360,
	//   p = 3360·0.2¹·0.3²·0.5³ = 3360·0.2·0.09·0.125 = 7.56, log = 2.0228712.
	//   entropy = ln B + (α₀−k)ψ(α₀) − Σ(α_j−1)ψ(α_j)
	//           = −ln 3360 + 6ψ(9) − (ψ(2) + 2ψ(3) + 3ψ(4))
	//           = −8.1196962 + 6·2.1406415 − (0.4227843 + 2·0.9227843 + 3·1.2561177)
	//           = −8.1196962 + 12.8438489 − 6.0367060 = −1.3125534.
	// Row 1: Dirichlet(½,½,1) at the same x.
	//   normaliser Γ(2)/(Γ(½)²Γ(1)) = 1/π,
	//   p = (1/π)·0.2^(−½)·0.3^(−½)·0.5⁰ = 1/(π√0.06), log = −ln π − ½ ln 0.06
	//     = −1.1447299 + 1.4067054 = 0.2619755.
	//   entropy = ln π + (2−3)ψ(2) − 2·(−½)ψ(½), with ψ(½) = −γ − 2 ln 2
	//           = ln π − ψ(2) + ψ(½) = 1.1447299 − 0.4227843 + (−0.5772157 − 1.3862944) = −1.2415645.
	d := dist.NewDirichlet(tp, tp.Const(2, 3, []float32{2, 3, 4, 0.5, 0.5, 1}))
	lp := d.LogProb(tp.Const(2, 3, []float32{0.2, 0.3, 0.5, 0.2, 0.3, 0.5}))
	near(t, "log Dirichlet(2,3,4) density", lp.Data[0], math.Log(7.56), 4e-6)
	near(t, "log Dirichlet(2,3,4) density (hand value)", lp.Data[0], 2.0228712, 4e-6)
	near(t, "log Dirichlet(½,½,1) density", lp.Data[1], -math.Log(math.Pi)-0.5*math.Log(0.06), 4e-6)
	near(t, "log Dirichlet(½,½,1) density (hand value)", lp.Data[1], 0.2619755, 4e-6)
	h := d.Entropy()
	wantH3 := -math.Log(3360) + 6*psiInt(9) - (psiInt(2) + 2*psiInt(3) + 3*psiInt(4))
	near(t, "entropy of Dirichlet(2,3,4)", h.Data[0], wantH3, 4e-6)
	near(t, "entropy of Dirichlet(2,3,4) (hand value)", h.Data[0], -1.3125534, 4e-6)
	psiHalf := -eulerGamma - 2*math.Ln2
	near(t, "entropy of Dirichlet(½,½,1)", h.Data[1], math.Log(math.Pi)-psiInt(2)+psiHalf, 4e-6)
	near(t, "entropy of Dirichlet(½,½,1) (hand value)", h.Data[1], -1.2415645, 4e-6)
	// Means α/α₀: (2/9, 3/9, 4/9) and (¼, ¼, ½).
	for j, want := range []float64{2.0 / 9, 3.0 / 9, 4.0 / 9, 0.25, 0.25, 0.5} {
		if got := d.Mean().Data[j]; off(float64(got), want, 1e-7) {
			t.Errorf("Dirichlet mean[%d] = %v, want %v", j, got, want)
		}
	}
	// A sampled exact zero is clamped to 1e-12 and stays finite:
	// log p = ln 3360 + 1·ln 1e-12 + 2 ln 0.4 + 3 ln 0.6
	//       = 8.1196962 − 27.6310211 − 1.8325815 − 1.5324769 = −22.8763833.
	z := d.LogProb(tp.Const(2, 3, []float32{0, 0.4, 0.6, 0.2, 0.3, 0.5}))
	near(t, "log Dirichlet(2,3,4) density at a zero component", z.Data[0], math.Log(3360)+math.Log(1e-12)+2*math.Log(0.4)+3*math.Log(0.6), 2e-5)
}

// TestDirichletSampleRowsAndUnderflow: each row of a batch is sampled from
// its own α (sample means α/α₀ per row; the wrong row's α would put the
// means at the other row's values, 0.1 to 0.6 away), and a row whose Gamma
// variates all underflow falls back to its mean.
func TestDirichletSampleRowsAndUnderflow(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	tp := nn.NewInference()
	d := dist.NewDirichlet(tp, tp.Const(2, 3, []float32{6, 3, 1, 1, 1, 8}))
	want := []float64{0.6, 0.3, 0.1, 0.1, 0.1, 0.8}
	mean := make([]float64, 6)
	const n = 4000
	for i := 0; i < n; i++ {
		for j, v := range d.Sample(rng).Data {
			mean[j] += float64(v) / n
		}
	}
	for j := range mean {
		// Per-component std of a Dirichlet(6,3,1) or (1,1,8) component is
		// at most 0.15, so the std of a 4000-sample mean is below 0.0025.
		if off(mean[j], want[j], 0.012) {
			t.Fatalf("per-row sample means %v, want %v", mean, want)
		}
	}
	// α = 1e-30: Gamma(1e-30) = Gamma(1+1e-30)·u^(1e30) underflows to 0
	// for every u < 1 − 1e-28, i.e. always; the split is then the mean
	// α/α₀ = (1/3, 2/3). Row 0 is ordinary and must stay a proper sample.
	tiny := dist.NewDirichlet(tp, tp.Const(2, 2, []float32{1, 1, 1e-30, 2e-30}))
	atMean := 0
	for i := 0; i < 20; i++ {
		s := tiny.Sample(rng).Data
		if off(float64(s[2]), 1.0/3, 1e-6) || off(float64(s[3]), 2.0/3, 1e-6) {
			t.Fatalf("all-underflow row sampled %v, want the mean (1/3, 2/3)", s[2:])
		}
		if !(s[0] >= 0 && s[1] >= 0) || off(float64(s[0]+s[1]), 1, 1e-6) {
			t.Fatalf("ordinary row sampled %v, not on the simplex", s[:2])
		}
		if s[0] == 0.5 {
			atMean++
		}
	}
	// Row 0 is Beta(1,1), uniform: hitting its mean 0.5 exactly has
	// probability about 2⁻²⁴ per draw; 20 times means the mean was copied.
	if atMean == 20 {
		t.Fatalf("the ordinary row was replaced by its mean")
	}
}

// ksDistance returns the Kolmogorov–Smirnov distance between the sample xs
// (sorted in place) and the CDF F.
func ksDistance(xs []float64, F func(float64) float64) float64 {
	sort.Float64s(xs)
	n := float64(len(xs))
	var d float64
	for i, x := range xs {
		f := F(x)
		d = math.Max(d, math.Max(math.Abs(float64(i+1)/n-f), math.Abs(f-float64(i)/n)))
	}
	return d
}

// TestGammaDistribution compares Gamma draws with closed-form CDFs:
// shape 3 (Erlang: F(x) = 1 − e^{−x}(1 + x + x²/2)), shape 1 (exponential:
// 1 − e^{−x}, the boundary of the shape < 1 boost) and shape ½ (χ²₁/2:
// F(x) = erf(√x), through the boost), and with the moments: mean k and
// variance k. With n = 50000 draws the KS distance of a correct sampler
// exceeds 1.95/√n = 0.0087 with probability 0.001; the bar is 0.0095. The
// standard error of the sample variance is √((μ₄ − k²)/n) with
// μ₄ = 3k² + 6k, i.e. √((2k² + 6k)/n) (0.0126 for k = 1); the bar is 4 of
// them. A sampler with the wrong shape (3 → 3⅓, ½ → 1½) is off by more than
// 0.05 in KS distance; one that accepts every Marsaglia–Tsang proposal
// (a broken squeeze or log test) has variance 1.14 at k = 1, 11 standard
// errors away.
func TestGammaDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		shape float64
		cdf   func(float64) float64
	}{
		{3, func(x float64) float64 { return 1 - math.Exp(-x)*(1+x+x*x/2) }},
		{1, func(x float64) float64 { return 1 - math.Exp(-x) }},
		{0.5, func(x float64) float64 { return math.Erf(math.Sqrt(x)) }},
	}
	const n = 50000
	for _, c := range cases {
		xs := make([]float64, n)
		var mean, m2 float64
		for i := range xs {
			xs[i] = dist.Gamma(rng, c.shape)
			mean += xs[i] / n
			m2 += xs[i] * xs[i] / n
		}
		if d := ksDistance(xs, c.cdf); !(d <= 0.0095) {
			t.Errorf("Gamma(%v): KS distance %.4f to the closed-form CDF, want ≤ 0.0095", c.shape, d)
		}
		k := c.shape
		// Mean = k, standard error √(k/n) ≤ 0.008.
		if off(mean, k, 0.03) {
			t.Errorf("Gamma(%v): sample mean %.4f, want %v", k, mean, k)
		}
		if v, se := m2-mean*mean, math.Sqrt((2*k*k+6*k)/n); off(v, k, 4*se) {
			t.Errorf("Gamma(%v): sample variance %.4f, want %v ± %.4f", k, v, k, 4*se)
		}
	}
	for _, bad := range []float64{0, -1, math.NaN()} {
		if g := dist.Gamma(rng, bad); !math.IsNaN(g) {
			t.Errorf("Gamma(%v) = %v, want NaN", bad, g)
		}
	}
}

// TestGaussianKnownValues: two rows, two dimensions, non-zero means and
// log-stds, per-row and shared log-std.
func TestGaussianKnownValues(t *testing.T) {
	tp := nn.NewInference()
	ln2 := math.Ln2
	log2Pi := math.Log(2 * math.Pi) // 1.8378771, = 2·½ log 2π for d = 2
	// Per-row σ: row 0 μ = (1, −2), σ = (2, 1), x = (2, −1): z = (0.5, 1),
	//   log p = −½(0.25 + 1) − (ln 2 + 0) − log 2π = −0.625 − 0.6931472 − 1.8378771 = −3.1560243,
	//   H = ln 2 + 0 + 2·½ log 2πe = 0.6931472 + 2.8378771 = 3.5310243.
	// Row 1 μ = (0, 0), σ = (1, ½), x = (−1, 0.5): z = (−1, 1),
	//   log p = −½·2 − (0 − ln 2) − log 2π = −1 + 0.6931472 − 1.8378771 = −2.1447299,
	//   H = −ln 2 + 2.8378771 = 2.1447299.
	mean := tp.Const(2, 2, []float32{1, -2, 0, 0})
	x := tp.Const(2, 2, []float32{2, -1, -1, 0.5})
	g := dist.NewGaussian(tp, mean, tp.Const(2, 2, []float32{float32(ln2), 0, 0, float32(-ln2)}))
	lp, h := g.LogProb(x), g.Entropy()
	near(t, "Gaussian row 0 log p", lp.Data[0], -0.625-ln2-log2Pi, 2e-6)
	near(t, "Gaussian row 0 log p (hand value)", lp.Data[0], -3.1560243, 2e-6)
	near(t, "Gaussian row 1 log p", lp.Data[1], -1+ln2-log2Pi, 2e-6)
	near(t, "Gaussian row 0 entropy", h.Data[0], 3.5310243, 2e-6)
	near(t, "Gaussian row 1 entropy", h.Data[1], 2.1447299, 2e-6)
	// Shared σ = (2, 1) for both rows: row 1 z = (−0.5, 0.5),
	//   log p = −½·0.5 − ln 2 − log 2π = −0.25 − 0.6931472 − 1.8378771 = −2.7810243;
	//   both entropies 3.5310243.
	gs := dist.NewGaussian(tp, mean, tp.Const(1, 2, []float32{float32(ln2), 0}))
	lp, h = gs.LogProb(x), gs.Entropy()
	near(t, "shared-σ row 0 log p", lp.Data[0], -3.1560243, 2e-6)
	near(t, "shared-σ row 1 log p", lp.Data[1], -2.7810243, 2e-6)
	if h.Rows != 2 {
		t.Fatalf("shared-σ entropy has %d rows, want 2", h.Rows)
	}
	near(t, "shared-σ row 0 entropy", h.Data[0], 3.5310243, 2e-6)
	near(t, "shared-σ row 1 entropy", h.Data[1], 3.5310243, 2e-6)
}

// TestGaussianSampleScales: every entry of a per-row σ is used at its own
// place (σ from 0.1 to 3 across a 2×2 log-std, so a wrong index is off by
// a factor ≥ 2); 3000 draws estimate each σ to about 1.3 %, the bar is 10 %.
func TestGaussianSampleScales(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	tp := nn.NewInference()
	mu := []float64{1, -1, 5, 0}
	sigma := []float64{0.1, 1, 3, 0.5}
	ls := make([]float32, 4)
	for i, s := range sigma {
		ls[i] = float32(math.Log(s))
	}
	g := dist.NewGaussian(tp, tp.Const(2, 2, []float32{1, -1, 5, 0}), tp.Const(2, 2, ls))
	var s1, s2 [4]float64
	const n = 3000
	for i := 0; i < n; i++ {
		for j, v := range g.Sample(rng).Data {
			s1[j] += float64(v) / n
			s2[j] += float64(v) * float64(v) / n
		}
	}
	for j := range mu {
		sd := math.Sqrt(s2[j] - s1[j]*s1[j])
		if off(s1[j], mu[j], 4*sigma[j]/math.Sqrt(n)+1e-6) || off(sd, sigma[j], 0.1*sigma[j]) {
			t.Errorf("entry %d: sample mean %.4f std %.4f, want %v and %v", j, s1[j], sd, mu[j], sigma[j])
		}
	}
}

// TestCategoricalKnownValues: two rows with different masks.
// Row 0: logits (0, ln 2, 5, ln 5), entry 2 masked: p = (1, 2, ·, 5)/8.
//
//	log p(3) = ln 5/8 = −0.4700036, log p(0) = ln 1/8 = −2.0794415,
//	H = ⅛ ln 8 + ¼ ln 4 + ⅝ ln 8/5 = 0.2599302 + 0.3465736 + 0.2937523 = 0.9002561.
//
// Row 1: logits (3, 1, 1, 2), entries 0 and 3 masked: p = (·, ½, ½, ·),
//
//	log p(1) = −ln 2, H = ln 2 (the masked logits 3 and 2 must not count).
func TestCategoricalKnownValues(t *testing.T) {
	tp := nn.NewInference()
	logits := tp.Const(2, 4, []float32{0, float32(math.Log(2)), 5, float32(math.Log(5)), 3, 1, 1, 2})
	mask := []bool{true, true, false, true, false, true, true, false}
	c := dist.NewCategorical(tp, logits, mask)
	lp := c.LogProb([]int{3, 1})
	near(t, "row 0 log p(3)", lp.Data[0], math.Log(5.0/8), 1e-6)
	near(t, "row 1 log p(1)", lp.Data[1], -math.Ln2, 1e-6)
	lp = c.LogProb([]int{0, 2})
	near(t, "row 0 log p(0)", lp.Data[0], -2.0794415, 1e-6)
	near(t, "row 1 log p(2)", lp.Data[1], -math.Ln2, 1e-6)
	h := c.Entropy()
	near(t, "row 0 entropy", h.Data[0], math.Log(8)/8+math.Log(4)/4+5*math.Log(8.0/5)/8, 1e-6)
	near(t, "row 0 entropy (hand value)", h.Data[0], 0.9002561, 1e-6)
	near(t, "row 1 entropy", h.Data[1], math.Ln2, 1e-6)
	all := c.LogProbs()
	for k, ok := range mask {
		if !ok && !math.IsInf(float64(all.Data[k]), -1) {
			t.Errorf("LogProbs[%d] = %v for a masked entry, want −Inf", k, all.Data[k])
		}
	}
	// Mode per row: row 0 entry 3 (5 masked), row 1 entry 1 — a tie with
	// entry 2, broken towards the first index as numpy/torch argmax do.
	if m := c.Mode(nil); m[0] != 3 || m[1] != 1 {
		t.Errorf("modes %v, want [3 1]", m)
	}
	// Without a mask: logits (1, 4, 4, 2) → mode 1 (first of the tie).
	nm := dist.NewCategorical(tp, tp.Const(1, 4, []float32{1, 4, 4, 2}), nil)
	if m := nm.Mode(nil); m[0] != 1 {
		t.Errorf("unmasked mode %v, want [1]", m)
	}
}

// TestCategoricalSampleRows: each row is sampled from its own distribution
// under its own mask (row 1's mask is not row 0's); frequencies within 0.02
// of the hand-computed probabilities of TestCategoricalKnownValues (std of
// a frequency over 6000 draws ≤ 0.0065).
func TestCategoricalSampleRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	tp := nn.NewInference()
	logits := tp.Const(2, 4, []float32{0, float32(math.Log(2)), 5, float32(math.Log(5)), 3, 1, 1, 2})
	mask := []bool{true, true, false, true, false, true, true, false}
	c := dist.NewCategorical(tp, logits, mask)
	var counts [2][4]float64
	const n = 6000
	buf := make([]int, 2)
	for i := 0; i < n; i++ {
		buf = c.Sample(rng, buf)
		counts[0][buf[0]] += 1.0 / n
		counts[1][buf[1]] += 1.0 / n
	}
	want := [2][4]float64{{1.0 / 8, 2.0 / 8, 0, 5.0 / 8}, {0, 0.5, 0.5, 0}}
	for r := range want {
		for j := range want[r] {
			if off(counts[r][j], want[r][j], 0.02) {
				t.Fatalf("row %d frequencies %v, want %v", r, counts[r], want[r])
			}
		}
	}
}

// TestLogisticNormalKnownValues: k = 3 against the bivariate Gaussian of
// the log-ratios written with its explicit 2×2 covariance σ²[[2,1],[1,2]]
// (det 3σ⁴, inverse [[2,−1],[−1,2]]/(3σ²)), not the closed form the code
// uses.
func TestLogisticNormalKnownValues(t *testing.T) {
	tp := nn.NewInference()
	// Logits l = (0.2, −0.3, 0.1): mean log-ratios m = (0.1, −0.4).
	// x = (0.5, 0.25, 0.25): d = (ln 2, 0), e = d − m = (0.5931472, 0.4).
	// σ = ½ (σ² = ¼):
	//   quad = (2e₁² − 2e₁e₂ + 2e₂²)/(3σ²) = (0.7036472 − 0.4745178 + 0.32)/0.75 = 0.7321725,
	//   log p = −½ quad − ½ ln((2π)²·3σ⁴) = −0.3660862 − ½ ln(7.4022033) = −0.3660862 − 1.0008884 = −1.3669746.
	// Entropy = ½ ln((2πe)²·det) = ½ ln((2πe)²·3/16) = 1.0008884 + 1 = 2.0008884.
	sigma := 0.5
	d := dist.NewLogisticNormal(tp, tp.Const(1, 3, []float32{0.2, -0.3, 0.1}), tp.Const(1, 1, []float32{float32(math.Log(sigma))}))
	e1, e2 := math.Ln2-0.1, 0.4
	s2 := sigma * sigma
	quad := (2*e1*e1 - 2*e1*e2 + 2*e2*e2) / (3 * s2)
	logDet := math.Log(3 * s2 * s2)
	want := -0.5*quad - 0.5*(2*math.Log(2*math.Pi)+logDet)
	got := d.LogProb(tp.Const(1, 3, []float32{0.5, 0.25, 0.25})).Item()
	near(t, "k=3 logistic-normal log-density", got, want, 3e-6)
	near(t, "k=3 logistic-normal log-density (hand value)", got, -1.3669746, 3e-6)
	wantH := 0.5 * (2*math.Log(2*math.Pi*math.E) + logDet)
	near(t, "k=3 logistic-normal entropy", d.Entropy().Item(), wantH, 3e-6)
	near(t, "k=3 logistic-normal entropy (hand value)", d.Entropy().Item(), 2.0008884, 3e-6)

	// Two rows: the entropy is the same for every row (σ is shared), and
	// each row's log-density uses its own logits: row 1 with logits
	// (0, 0, 0) and x = (⅓, ⅓, ⅓) has e = 0, log p = −1.0008884.
	d2 := dist.NewLogisticNormal(tp, tp.Const(2, 3, []float32{0.2, -0.3, 0.1, 0, 0, 0}), tp.Const(1, 1, []float32{float32(math.Log(sigma))}))
	lp := d2.LogProb(tp.Const(2, 3, []float32{0.5, 0.25, 0.25, 1.0 / 3, 1.0 / 3, 1.0 / 3}))
	near(t, "row 0 log-density", lp.Data[0], want, 3e-6)
	near(t, "row 1 log-density", lp.Data[1], -0.5*(2*math.Log(2*math.Pi)+logDet), 3e-6)
	h := d2.Entropy()
	if h.Rows != 2 {
		t.Fatalf("entropy has %d rows, want 2", h.Rows)
	}
	near(t, "row 0 entropy", h.Data[0], wantH, 3e-6)
	near(t, "row 1 entropy", h.Data[1], wantH, 3e-6)

	// Mode = softmax(l) per row. Row 0: logits (1000, 1000.5, 1001), exact
	// in float32; exp(1000) overflows float64 unless the max is subtracted.
	// softmax = (1, e^½, e)/(1 + 1.6487213 + 2.7182818) = (1, 1.6487213, 2.7182818)/5.3670031
	//         = (0.1863237, 0.3071959, 0.5064804).
	// Row 1: (0, 0, ln 2) → (¼, ¼, ½).
	md := dist.NewLogisticNormal(tp, tp.Const(2, 3, []float32{1000, 1000.5, 1001, 0, 0, float32(math.Ln2)}), tp.Const(1, 1, []float32{0}))
	for j, want := range []float64{0.1863237, 0.3071959, 0.5064804, 0.25, 0.25, 0.5} {
		if got := md.Mode().Data[j]; off(float64(got), want, 2e-7) {
			t.Fatalf("mode %v, want (0.1863237, 0.3071959, 0.5064804, 1/4, 1/4, 1/2)", md.Mode().Data)
		}
	}
}

// TestLogisticNormalSampleFormula: Sample draws softmax(l + σε) with ε the
// standard normals of the rng taken in row-major order; the test redraws
// them from an identically seeded rng and applies the formula itself.
func TestLogisticNormalSampleFormula(t *testing.T) {
	tp := nn.NewInference()
	l := []float64{0.2, -0.3, 0.1, 1, 0, -1}
	lf := make([]float32, len(l))
	for i, v := range l {
		lf[i] = float32(v)
	}
	sigma := 0.7
	d := dist.NewLogisticNormal(tp, tp.Const(2, 3, lf), tp.Const(1, 1, []float32{float32(math.Log(sigma))}))
	s := d.Sample(rand.New(rand.NewPCG(51, 52))).Data
	ref := rand.New(rand.NewPCG(51, 52))
	for r := 0; r < 2; r++ {
		var z [3]float64
		var sum float64
		for j := range z {
			z[j] = math.Exp(float64(float32(l[3*r+j])) + float64(float32(sigma))*ref.NormFloat64())
			sum += z[j]
		}
		for j := range z {
			if want := z[j] / sum; off(float64(s[3*r+j]), want, 1e-6) {
				t.Fatalf("sample row %d = %v, want softmax(l + σε) = %v", r, s[3*r:3*r+3], []float64{z[0] / sum, z[1] / sum, z[2] / sum})
			}
		}
	}
}

// seqSource is a rand.Source returning the given words in turn, so that
// rng.Float64() yields chosen values: Float64 is (w mod 2⁵³)/2⁵³.
type seqSource struct {
	w []uint64
	i int
}

func (s *seqSource) Uint64() uint64 { v := s.w[s.i%len(s.w)]; s.i++; return v }

// uniforms returns a *rand.Rand whose successive Float64 values are us
// (each a multiple of 2⁻⁵³).
func uniforms(us ...float64) *rand.Rand {
	w := make([]uint64, len(us))
	for i, u := range us {
		w[i] = uint64(u * (1 << 53))
	}
	return rand.New(&seqSource{w: w})
}

// TestCategoricalInverseCDF: Sample is inverse-CDF sampling over the
// allowed entries in index order: with p = (1/8, 2/8, ·, 5/8) the
// cumulative sums are 0.125, 0.375, 1, so u = 0.1 → 0, 0.2 → 1, 0.4 → 3,
// 0.9 → 3. With u = 1 − 2⁻⁵³ (the largest Float64) the draw is the last
// allowed entry, whether the float32 probabilities sum to at least u or
// rounding leaves u above the total (then the documented fallback takes
// the last allowed entry, never a masked one).
func TestCategoricalInverseCDF(t *testing.T) {
	tp := nn.NewInference()
	logits := tp.Const(1, 4, []float32{0, float32(math.Log(2)), 5, float32(math.Log(5))})
	c := dist.NewCategorical(tp, logits, []bool{true, true, false, true})
	rng := uniforms(0.1, 0.2, 0.4, 0.9, 0)
	for i, want := range []int{0, 1, 3, 3, 0} {
		if got := c.Sample(rng, nil)[0]; got != want {
			t.Errorf("draw %d: action %d, want %d", i, got, want)
		}
	}
	// Rows whose last allowed entry is not the last column, with equal or
	// near-equal allowed logits (their float32 log-probabilities rarely
	// sum to exactly 1), all drawn with u = 1 − 2⁻⁵³.
	lg := []float32{0.3, 9, 0.3, 9, 1, 1, 1, 7, 0, 0.1, 8, 8, 2, 2, 2, 2, 2, 9}
	mask := []bool{
		true, false, true, false, false, false,
		true, true, true, false, false, false,
		true, true, true, true, true, false,
	}
	mc := dist.NewCategorical(tp, tp.Const(3, 6, lg), mask)
	top := rand.New(&seqSource{w: []uint64{1<<53 - 1}})
	for k := 0; k < 3; k++ {
		if got := mc.Sample(top, nil); got[0] != 2 || got[1] != 2 || got[2] != 4 {
			t.Fatalf("draws with u = 1−2⁻⁵³: %v, want the last allowed entries [2 2 4]", got)
		}
	}
}

// TestCategoricalModeEdgeCases: the mode at index 0 and a tie between
// indices 0 and 1 (the first wins, as numpy/torch argmax), a single-column
// distribution, and dst reused when it has room (as documented: allocated
// only when nil or short).
func TestCategoricalModeEdgeCases(t *testing.T) {
	tp := nn.NewInference()
	c := dist.NewCategorical(tp, tp.Const(3, 3, []float32{4, 4, 1, 5, 1, 2, 0, 3, 3}), nil)
	dst := make([]int, 3)
	got := c.Mode(dst)
	if got[0] != 0 || got[1] != 0 || got[2] != 1 {
		t.Errorf("modes %v, want [0 0 1]", got)
	}
	if &got[0] != &dst[0] {
		t.Errorf("Mode allocated although dst had room for 3")
	}
	s := c.Sample(rand.New(rand.NewPCG(1, 1)), dst)
	if &s[0] != &dst[0] {
		t.Errorf("Sample allocated although dst had room for 3")
	}
	// Short dst: a new slice of the right length.
	if s := c.Sample(rand.New(rand.NewPCG(1, 1)), make([]int, 2)); len(s) != 3 {
		t.Errorf("Sample into a short dst returned %d actions, want 3", len(s))
	}
	// Two rows under their own masks: row 1 allows (1, 2) only, and its
	// mode 2 is masked in row 0, so reading row 0's mask would give 1.
	mm := dist.NewCategorical(tp, tp.Const(2, 4, []float32{0, 1, 9, 2, 3, 1, 2, 5}), []bool{true, true, false, true, false, true, true, false})
	if m := mm.Mode(nil); m[0] != 3 || m[1] != 2 {
		t.Errorf("masked modes %v, want [3 2]", m)
	}
	one := dist.NewCategorical(tp, tp.Const(2, 1, []float32{0.5, -3}), nil)
	if m := one.Mode(nil); m[0] != 0 || m[1] != 0 {
		t.Errorf("single-column modes %v, want [0 0]", m)
	}
	if a := one.Sample(rand.New(rand.NewPCG(1, 1)), nil); a[0] != 0 || a[1] != 0 {
		t.Errorf("single-column draws %v, want [0 0]", a)
	}
}

// TestGaussianSharedStdSamples: a 1×2 shared log-std serves every row
// (σ = (0.2, 2)); 3000 draws of a 3-row batch estimate each σ to about
// 1.3 %, the bar is 10 %.
func TestGaussianSharedStdSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	tp := nn.NewInference()
	sigma := []float64{0.2, 2}
	g := dist.NewGaussian(tp, tp.Const(3, 2, []float32{0, 1, 2, 3, 4, 5}), tp.Const(1, 2, []float32{float32(math.Log(0.2)), float32(math.Log(2))}))
	var s1, s2 [6]float64
	const n = 3000
	for i := 0; i < n; i++ {
		for j, v := range g.Sample(rng).Data {
			s1[j] += float64(v) / n
			s2[j] += float64(v) * float64(v) / n
		}
	}
	for j := range s1 {
		sd, want := math.Sqrt(s2[j]-s1[j]*s1[j]), sigma[j%2]
		if off(s1[j], float64(j), 4*want/math.Sqrt(n)) || off(sd, want, 0.1*want) {
			t.Errorf("entry %d: sample mean %.4f std %.4f, want %d and %v", j, s1[j], sd, j, want)
		}
	}
}

// TestGaussianSampleFormula: Sample draws x = μ + σ·ε with ε the standard
// normals of the rng in row-major order; the test redraws them from an
// identically seeded rng and applies the formula itself.
func TestGaussianSampleFormula(t *testing.T) {
	tp := nn.NewInference()
	mu := []float32{1, -2, 0.5, 3}
	ls := []float32{0, float32(math.Log(0.5)), float32(math.Log(2)), float32(math.Log(0.1))}
	x := dist.NewGaussian(tp, tp.Const(2, 2, mu), tp.Const(2, 2, ls)).Sample(rand.New(rand.NewPCG(81, 82))).Data
	ref := rand.New(rand.NewPCG(81, 82))
	for j := range mu {
		want := float64(mu[j]) + math.Exp(float64(ls[j]))*ref.NormFloat64()
		if off(float64(x[j]), want, 1e-6) {
			t.Fatalf("sample %v: entry %d is %v, want μ + σε = %v", x, j, x[j], want)
		}
	}
}
