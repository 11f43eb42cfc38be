package dist_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestCategoricalGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mask := []bool{true, true, false, true, false, true, true, true}
	nntest.GradCheck(t, func(tp *nn.Tape, x []*nn.Tensor) *nn.Tensor {
		c := dist.NewCategorical(tp, x[0], mask)
		return tp.ConcatCols(c.LogProb([]int{3, 1}), c.Entropy())
	}, []*nn.Tensor{nntest.RandTensor(rng, 2, 4, -1, 1)}, nil, nntest.Options{})
}

func TestCategoricalSamplingFrequenciesAndMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tp := nn.NewInference()
	logits := tp.Const(1, 4, []float32{0, float32(math.Log(2)), 5, float32(math.Log(5))})
	mask := []bool{true, true, false, true} // p = 1/8, 2/8, 0, 5/8
	c := dist.NewCategorical(tp, logits, mask)
	counts := make([]int, 4)
	const n = 80000
	var buf []int
	for i := 0; i < n; i++ {
		buf = c.Sample(rng, buf)
		counts[buf[0]]++
	}
	if counts[2] != 0 {
		t.Fatalf("masked action sampled %d times", counts[2])
	}
	for j, p := range []float64{1.0 / 8, 2.0 / 8, 0, 5.0 / 8} {
		if f := float64(counts[j]) / n; math.Abs(f-p) > 0.01 {
			t.Fatalf("action %d frequency %.4f, want %.4f", j, f, p)
		}
	}
	if m := c.Mode(nil); m[0] != 3 {
		t.Fatalf("mode %d, want 3 (the masked logit 5 must not win)", m[0])
	}
}

// FuzzCategoricalNeverSamplesMasked: for any logits and any mask with at
// least one allowed entry, sampling never returns a masked action.
func FuzzCategoricalNeverSamplesMasked(f *testing.F) {
	f.Add(uint64(1), uint8(0b1010), float32(3))
	f.Fuzz(func(t *testing.T, seed uint64, bits uint8, big float32) {
		if bits&0x0f == 0 || math.IsNaN(float64(big)) || math.IsInf(float64(big), 0) {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		mask := make([]bool, 4)
		logits := make([]float32, 4)
		for j := range mask {
			mask[j] = bits&(1<<j) != 0
			logits[j] = float32(rng.NormFloat64())
			if !mask[j] {
				logits[j] = big
			}
		}
		tp := nn.NewInference()
		c := dist.NewCategorical(tp, tp.Const(1, 4, logits), mask)
		for k := 0; k < 50; k++ {
			if a := c.Sample(rng, nil)[0]; !mask[a] {
				t.Fatalf("sampled masked action %d (mask %v, logits %v)", a, mask, logits)
			}
		}
	})
}

func TestGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := nntest.RandTensor(rng, 3, 2, -1, 1)
	for _, sharedStd := range []bool{false, true} {
		stdRows := 3
		if sharedStd {
			stdRows = 1
		}
		nntest.GradCheck(t, func(tp *nn.Tape, in []*nn.Tensor) *nn.Tensor {
			g := dist.NewGaussian(tp, in[0], in[1])
			return tp.ConcatCols(g.LogProb(x), g.Entropy())
		}, []*nn.Tensor{nntest.RandTensor(rng, 3, 2, -1, 1), nntest.RandTensor(rng, stdRows, 2, -1, 0.5)}, nil, nntest.Options{})
	}
	// Known values: N(0,1) in one dimension.
	tp := nn.NewInference()
	g := dist.NewGaussian(tp, tp.Zeros(1, 1), tp.Zeros(1, 1))
	if lp := g.LogProb(tp.Const(1, 1, []float32{1})).Item(); math.Abs(float64(lp)-(-0.5-0.5*math.Log(2*math.Pi))) > 1e-6 {
		t.Fatalf("log N(1;0,1) = %v", lp)
	}
	if h := g.Entropy().Item(); math.Abs(float64(h)-0.5*math.Log(2*math.Pi*math.E)) > 1e-6 {
		t.Fatalf("entropy of N(0,1) = %v", h)
	}
	// Sample moments.
	g = dist.NewGaussian(tp, tp.Const(1, 1, []float32{2}), tp.Const(1, 1, []float32{float32(math.Log(0.5))}))
	var s, s2 float64
	const n = 20000
	for i := 0; i < n; i++ {
		v := float64(g.Sample(rng).Data[0])
		s += v
		s2 += v * v
	}
	mean := s / n
	std := math.Sqrt(s2/n - mean*mean)
	if math.Abs(mean-2) > 0.02 || math.Abs(std-0.5) > 0.02 {
		t.Fatalf("sample mean %.3f std %.3f, want 2 and 0.5", mean, std)
	}
}

func TestDirichlet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := nn.FromSlice(2, 3, []float32{0.2, 0.3, 0.5, 0.6, 0.1, 0.3})
	nntest.GradCheck(t, func(tp *nn.Tape, in []*nn.Tensor) *nn.Tensor {
		d := dist.NewDirichlet(tp, in[0])
		return tp.ConcatCols(d.LogProb(x), d.Entropy())
	}, []*nn.Tensor{nntest.RandTensor(rng, 2, 3, 0.5, 3)}, nil, nntest.Options{})

	tp := nn.NewInference()
	// Dirichlet(1,1,1) is uniform on the 2-simplex: density 2, entropy −log 2.
	d := dist.NewDirichlet(tp, tp.Const(1, 3, []float32{1, 1, 1}))
	if lp := d.LogProb(tp.Const(1, 3, []float32{0.2, 0.3, 0.5})).Item(); math.Abs(float64(lp)-math.Log(2)) > 1e-5 {
		t.Fatalf("log density of the uniform Dirichlet = %v, want log 2", lp)
	}
	if h := d.Entropy().Item(); math.Abs(float64(h)+math.Log(2)) > 1e-5 {
		t.Fatalf("entropy of the uniform Dirichlet = %v, want −log 2", h)
	}
	// Dirichlet(2, 5) is Beta(2, 5): entropy 0.4824 − … compare with the
	// closed form of the Beta entropy.
	a, b := 2.0, 5.0
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	want := la + lb - lab - (a-1)*nn.Digamma(a) - (b-1)*nn.Digamma(b) + (a+b-2)*nn.Digamma(a+b)
	d = dist.NewDirichlet(tp, tp.Const(1, 2, []float32{2, 5}))
	if h := d.Entropy().Item(); math.Abs(float64(h)-want) > 1e-5 {
		t.Fatalf("entropy of Beta(2,5) = %v, want %v", h, want)
	}
	// Samples lie on the simplex and average to α/α₀.
	alpha := []float32{0.5, 2, 4.5}
	d = dist.NewDirichlet(tp, tp.Const(1, 3, alpha))
	mean := make([]float64, 3)
	const n = 20000
	for i := 0; i < n; i++ {
		s := d.Sample(rng)
		var sum float64
		for j, v := range s.Data {
			if v < 0 {
				t.Fatalf("negative split ratio %v", s.Data)
			}
			sum += float64(v)
			mean[j] += float64(v) / n
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("split ratios sum to %v", sum)
		}
	}
	for j, a := range alpha {
		if math.Abs(mean[j]-float64(a)/7) > 0.01 {
			t.Fatalf("sample mean %v, want α/α₀ = %v", mean, []float64{0.5 / 7, 2.0 / 7, 4.5 / 7})
		}
	}
}
