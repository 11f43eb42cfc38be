package nn_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// TestDropoutKnownMask: inverted dropout keeps element i when the i-th draw
// u_i of the generator satisfies u_i ≥ p and scales it by 1/(1−p); the
// expected mask is re-derived here from the same generator stream.
func TestDropoutKnownMask(t *testing.T) {
	const p = 0.25 // kept values scaled by 1/(1−¼) = 4/3
	tp := nn.NewTape()
	in := make([]float32, 20)
	for i := range in {
		in[i] = float32(i + 1)
	}
	x := tp.Leaf(4, 5, in)
	y := tp.Dropout(x, p, rand.New(rand.NewPCG(5, 6)))
	ref := rand.New(rand.NewPCG(5, 6))
	kept := 0
	for i, v := range in {
		want := float32(0)
		if ref.Float64() >= p {
			want = v * 4 / 3
			kept++
		}
		if !(math.Abs(float64(y.Data[i]-want)) <= 1e-5) {
			t.Fatalf("Dropout element %d = %v, want %v", i, y.Data[i], want)
		}
	}
	if kept == 0 || kept == len(in) {
		t.Fatalf("degenerate mask (%d of %d kept): choose another seed", kept, len(in))
	}
	// p = 0 on a recording tape: the input itself.
	if tp.Dropout(x, 0, rand.New(rand.NewPCG(1, 1))) != x {
		t.Fatal("Dropout(p=0) must return its input")
	}
	mustPanicNN(t, "Dropout p=1", func() { tp.Dropout(x, 1, rand.New(rand.NewPCG(1, 1))) })
	mustPanicNN(t, "Dropout p<0", func() { tp.Dropout(x, -0.1, rand.New(rand.NewPCG(1, 1))) })
}

type testModule struct {
	visit func(visit func(string, *nn.Param))
}

func (m testModule) Params(visit func(string, *nn.Param)) { m.visit(visit) }

func TestParamHelpers(t *testing.T) {
	w, b := nn.NewParam(2, 3), nn.NewParam(1, 3)
	if len(w.V.Data) != 6 || len(w.V.Grad) != 6 || !w.V.RequiresGrad() {
		t.Fatal("NewParam must be a 2×3 leaf with a gradient buffer")
	}
	layer := testModule{func(v func(string, *nn.Param)) { v("w", w); v("b", b) }}
	other := nn.NewParam(4, 1)
	ms := nn.Modules{{"enc", layer}, {"", testModule{func(v func(string, *nn.Param)) { v("head", other) }}}}
	got := nn.Collect(ms)
	var paths []string
	for _, np := range got {
		paths = append(paths, np.Path)
	}
	if !reflect.DeepEqual(paths, []string{"enc/w", "enc/b", "head"}) || got[0].Param != w || got[2].Param != other {
		t.Fatalf("Collect paths %v", paths)
	}
	if !reflect.DeepEqual(nn.ParamPaths(ms), []string{"enc/b", "enc/w", "head"}) {
		t.Fatalf("ParamPaths %v", nn.ParamPaths(ms))
	}
	if m := nn.ParamMap(ms); len(m) != 3 || m["enc/b"] != b {
		t.Fatalf("ParamMap %v", m)
	}
	// 2·3 + 1·3 + 4·1 = 13 scalars.
	if n := nn.NumParams(ms); n != 13 {
		t.Fatalf("NumParams = %d, want 13", n)
	}
	w.V.Grad[4], other.V.Grad[3] = 1, 2
	nn.ZeroGrads(ms)
	if w.V.Grad[4] != 0 || other.V.Grad[3] != 0 {
		t.Fatal("ZeroGrads left a gradient")
	}
	if err := nn.CheckPaths(ms); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "/a", "a/", "a//b"} {
		m := testModule{func(v func(string, *nn.Param)) { v("ok", w); v(bad, b) }}
		if nn.CheckPaths(m) == nil {
			t.Fatalf("CheckPaths accepted %q", bad)
		}
	}
	mustPanicNN(t, "nil parameter", func() {
		nn.Collect(testModule{func(v func(string, *nn.Param)) { v("x", nil) }})
	})
	mustPanicNN(t, "duplicate path", func() {
		nn.Collect(testModule{func(v func(string, *nn.Param)) { v("x", w); v("x", b) }})
	})
	mustPanicNN(t, "shared parameter", func() {
		nn.Collect(testModule{func(v func(string, *nn.Param)) { v("x", w); v("y", w) }})
	})
}

// TestInitSchemes re-derives each scheme's values from the same generator
// stream with the textbook bound: Xavier a = gain·√(6/(fan_in+fan_out)),
// Kaiming a = 1/√fan_in, U(−a, a) = (2u − 1)·a; Normal = z·std.
func TestInitSchemes(t *testing.T) {
	check := func(name string, init nn.Init, r, c int, want func(rng *rand.Rand) float64) {
		t.Helper()
		p := nn.NewParam(r, c)
		init(p, rand.New(rand.NewPCG(7, 8)))
		ref := rand.New(rand.NewPCG(7, 8))
		for i, v := range p.V.Data {
			if w := want(ref); !(math.Abs(float64(v)-w) <= 1e-6*math.Max(1, math.Abs(w))) {
				t.Fatalf("%s element %d = %v, want %v", name, i, v, w)
			}
		}
	}
	// 3×5, gain 2: a = 2·√(6/8) = √3.
	check("XavierUniform", nn.XavierUniform(2), 3, 5, func(rng *rand.Rand) float64 { return (2*rng.Float64() - 1) * math.Sqrt(3) })
	// fan_in 4: a = ½; fan_in 0 is treated as 1: a = 1.
	check("KaimingUniform(4)", nn.KaimingUniform(4), 2, 3, func(rng *rand.Rand) float64 { return (2*rng.Float64() - 1) * 0.5 })
	check("KaimingUniform(0)", nn.KaimingUniform(0), 2, 3, func(rng *rand.Rand) float64 { return 2*rng.Float64() - 1 })
	check("Normal(2)", nn.Normal(2), 2, 3, func(rng *rand.Rand) float64 { return rng.NormFloat64() * 2 })
	check("Constant", nn.Constant(1.5), 2, 3, func(*rand.Rand) float64 { return 1.5 })
}
