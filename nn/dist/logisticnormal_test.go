package dist_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/nn/nntest"
)

func TestLogisticNormal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := nn.FromSlice(2, 3, []float32{0.2, 0.3, 0.5, 0.6, 0.1, 0.3})
	nntest.GradCheck(t, func(tp *nn.Tape, in []*nn.Tensor) *nn.Tensor {
		d := dist.NewLogisticNormal(tp, in[0], in[1])
		return tp.ConcatCols(d.LogProb(x), d.Entropy())
	}, []*nn.Tensor{nntest.RandTensor(rng, 2, 3, -1, 1), nn.FromSlice(1, 1, []float32{-0.3})}, nil, nntest.Options{})

	// k = 2: d = log(x1/x2) ~ N(l1 − l2, 2σ²).
	tp := nn.NewInference()
	l := []float32{0.7, -0.4}
	sigma := 0.8
	d := dist.NewLogisticNormal(tp, tp.Const(1, 2, l), tp.Const(1, 1, []float32{float32(math.Log(sigma))}))
	x1 := 0.3
	r := math.Log(x1 / (1 - x1))
	mu, v := float64(l[0]-l[1]), 2*sigma*sigma
	want := -0.5*(r-mu)*(r-mu)/v - 0.5*math.Log(2*math.Pi*v)
	if got := d.LogProb(tp.Const(1, 2, []float32{float32(x1), float32(1 - x1)})).Item(); math.Abs(float64(got)-want) > 1e-5 {
		t.Fatalf("k=2 log-density %v, want %v", got, want)
	}
	if got, want := float64(d.Entropy().Item()), 0.5*math.Log(2*math.Pi*math.E*v); math.Abs(got-want) > 1e-5 {
		t.Fatalf("k=2 entropy %v, want %v", got, want)
	}
	// Samples: on the simplex; their log-ratio has the right mean and
	// variance; the mode is softmax(l).
	big := make([]float32, 2*4000)
	for i := 0; i < 4000; i++ {
		copy(big[2*i:], l)
	}
	ds := dist.NewLogisticNormal(tp, tp.Const(4000, 2, big), tp.Const(1, 1, []float32{float32(math.Log(sigma))}))
	s := ds.Sample(rand.New(rand.NewPCG(1, 1)))
	var m, m2 float64
	for i := 0; i < 4000; i++ {
		a, b := float64(s.Data[2*i]), float64(s.Data[2*i+1])
		if a < 0 || b < 0 || math.Abs(a+b-1) > 1e-6 {
			t.Fatalf("sample %v %v is not on the simplex", a, b)
		}
		q := math.Log(a / b)
		m += q
		m2 += q * q
	}
	m /= 4000
	vv := m2/4000 - m*m
	if math.Abs(m-mu) > 0.06 || math.Abs(vv-v) > 0.1 {
		t.Fatalf("sampled log-ratio mean %.3f var %.3f, want %.3f and %.3f", m, vv, mu, v)
	}
	mode := d.Mode().Data
	e0, e1 := math.Exp(float64(l[0])), math.Exp(float64(l[1]))
	if math.Abs(float64(mode[0])-e0/(e0+e1)) > 1e-6 {
		t.Fatalf("mode %v, want softmax", mode)
	}
}
