// Package nntest holds test helpers for the nn engine and for layers built on
// it: a finite-difference gradient check and parameter-wiring checks.
package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// Options tunes GradCheck. The zero value uses the defaults.
type Options struct {
	Eps  float64 // finite-difference step (default 5e-3)
	ATol float64 // absolute tolerance (default 2e-3)
	RTol float64 // relative tolerance (default 2e-2)
	Seed uint64  // seed of the random output weights (default 1)
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = 5e-3
	}
	if o.ATol == 0 {
		o.ATol = 2e-3
	}
	if o.RTol == 0 {
		o.RTol = 2e-2
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// GradCheck compares the gradients Backward computes for f with central
// finite differences. f receives a tape and leaf copies of inputs (which
// need gradients) and returns any tensor; the check reduces it to the scalar
// Σ w∘out with fixed random weights w so every output element matters.
// Gradients are checked for every input element and for every parameter of
// m (m may be nil). Failures are reported through tb with the element.
func GradCheck(tb testing.TB, f func(tp *nn.Tape, xs []*nn.Tensor) *nn.Tensor, inputs []*nn.Tensor, m nn.Module, opt Options) {
	tb.Helper()
	opt = opt.withDefaults()
	var params []nn.NamedParam
	if m != nil {
		params = nn.Collect(m)
	}
	var w []float32
	eval := func(tp *nn.Tape) float64 {
		xs := make([]*nn.Tensor, len(inputs))
		for i, in := range inputs {
			xs[i] = tp.Leaf(in.Rows, in.Cols, in.Data)
		}
		out := f(tp, xs)
		if w == nil {
			rng := rand.New(rand.NewPCG(opt.Seed, 7))
			w = make([]float32, out.Len())
			for i := range w {
				w[i] = float32(rng.Float64()*2 - 1)
			}
		}
		var s float64
		for i, v := range out.Data {
			s += float64(w[i]) * float64(v)
		}
		return s
	}
	// Analytic gradients.
	tp := nn.NewTape()
	xs := make([]*nn.Tensor, len(inputs))
	for i, in := range inputs {
		xs[i] = tp.Leaf(in.Rows, in.Cols, in.Data)
	}
	for _, p := range params {
		p.Param.V.ZeroGrad()
	}
	out := f(tp, xs)
	if w == nil {
		rng := rand.New(rand.NewPCG(opt.Seed, 7))
		w = make([]float32, out.Len())
		for i := range w {
			w[i] = float32(rng.Float64()*2 - 1)
		}
	}
	loss := tp.Sum(tp.Mul(out, tp.Const(out.Rows, out.Cols, w)))
	tp.Backward(loss)
	check := func(name string, data []float32, grad []float32) {
		for k := range data {
			var a float64
			if grad != nil {
				a = float64(grad[k])
			}
			orig := data[k]
			data[k] = orig + float32(opt.Eps)
			up := eval(nn.NewTape())
			data[k] = orig - float32(opt.Eps)
			down := eval(nn.NewTape())
			data[k] = orig
			num := (up - down) / (2 * opt.Eps)
			if math.IsNaN(a) || math.Abs(a-num) > opt.ATol+opt.RTol*math.Abs(num) {
				tb.Errorf("gradient of %s[%d]: backward %.6g, finite difference %.6g", name, k, a, num)
			}
		}
	}
	for i, x := range xs {
		check(fmt.Sprintf("input%d", i), inputs[i].Data, x.Grad)
	}
	for _, p := range params {
		g := append([]float32(nil), p.Param.V.Grad...)
		check(p.Path, p.Param.V.Data, g)
	}
}

// RandTensor returns an r×c tensor with entries uniform in [lo, hi).
func RandTensor(rng *rand.Rand, r, c int, lo, hi float64) *nn.Tensor {
	x := nn.New(r, c)
	for i := range x.Data {
		x.Data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return x
}

// RandAway returns an r×c tensor with entries uniform in ±[gap, 1): away
// from 0, so kinks of ReLU, Abs and Max are not crossed by finite differences.
func RandAway(rng *rand.Rand, r, c int, gap float64) *nn.Tensor {
	x := nn.New(r, c)
	for i := range x.Data {
		v := gap + (1-gap)*rng.Float64()
		if rng.IntN(2) == 0 {
			v = -v
		}
		x.Data[i] = float32(v)
	}
	return x
}

// CheckParamFields asserts that every exported *nn.Param field of the struct
// behind m (recursively through exported struct, pointer and slice fields)
// is visited by m.Params, so no parameter is silently left out of training
// and checkpoints.
func CheckParamFields(tb testing.TB, m nn.Module) {
	tb.Helper()
	visited := map[*nn.Param]bool{}
	m.Params(func(_ string, p *nn.Param) { visited[p] = true })
	var walk func(v reflect.Value, path string)
	paramType := reflect.TypeOf(&nn.Param{})
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if v.Type() == paramType {
				if !visited[v.Interface().(*nn.Param)] {
					tb.Errorf("parameter field %s is not visited by Params", path)
				}
				return
			}
			walk(v.Elem(), path)
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if !f.IsExported() {
					if f.Type == paramType {
						tb.Errorf("unexported parameter field %s.%s", path, f.Name)
					}
					continue
				}
				walk(v.Field(i), path+"."+f.Name)
			}
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(reflect.ValueOf(m), reflect.TypeOf(m).String())
}
