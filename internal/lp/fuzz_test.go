package lp

import (
	"errors"
	"math"
	"testing"
)

// specials are the values decoded from bytes ≥ 238; the rest decode to
// small integers in [-8, 8].
var specials = [...]float64{
	0.1, -0.3, 1.0 / 3, 1e-7, -1e-7, 1e6, -1e6, 1e-300, 1e300, -1e300,
	math.NaN(), math.Inf(1), math.Inf(-1), 2.5, -0.75, 1e-12, 5e8, 0,
}

// decodeProblem turns fuzz bytes into a small LP. intOnly reports whether
// every value is a small integer (so the vertex-enumeration oracle applies).
func decodeProblem(data []byte) (c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64, intOnly bool) {
	pos := 0
	next := func() byte {
		if pos >= len(data) {
			return 0
		}
		v := data[pos]
		pos++
		return v
	}
	intOnly = true
	val := func() float64 {
		v := next()
		if v < 238 {
			return float64(int(v%17) - 8)
		}
		intOnly = false
		return specials[v-238]
	}
	vec := func(k int) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = val()
		}
		return v
	}
	n := int(next() % 5) // 0..4 variables
	m1 := int(next() % 7)
	m2 := int(next() % 4)
	flags := next()
	c = vec(n)
	for i := 0; i < m1; i++ {
		A = append(A, vec(n))
	}
	b = vec(m1)
	for i := 0; i < m2; i++ {
		Aeq = append(Aeq, vec(n))
	}
	beq = vec(m2)
	// Occasionally produce malformed shapes.
	switch flags % 16 {
	case 1:
		if m1 > 0 {
			A[0] = A[0][:len(A[0])/2]
		}
	case 2:
		if m2 > 0 {
			beq = beq[:m2-1]
		}
	case 3:
		b = append(b, 1)
	case 4:
		if m2 > 0 {
			Aeq[m2-1] = nil
		}
	case 5: // redundant equality: copy of the first, scaled
		if m2 > 1 {
			for j := range Aeq[1] {
				Aeq[1][j] = -2 * Aeq[0][j]
			}
			beq[1] = -2 * beq[0]
		}
	}
	return c, A, b, Aeq, beq, intOnly
}

func FuzzSolve(f *testing.F) {
	f.Add([]byte{2, 3, 0, 0, 5, 3, 9, 8, 8, 10, 11, 9, 12, 20, 26})
	f.Add([]byte{2, 2, 1, 0, 1, 1, 7, 7, 7, 5, 4, 4, 9, 9, 10})
	f.Add([]byte{3, 3, 2, 5, 8, 8, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{4, 6, 3, 0, 248, 249, 250, 251, 252, 253, 254, 255, 240, 241})
	f.Add([]byte{1, 1, 1, 1, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 2, 1, 0, 3, 5, 8})
	f.Add([]byte{4, 4, 2, 0, 7, 9, 7, 10, 9, 6, 8, 8, 8, 8, 9, 9, 10, 10, 7, 7, 8, 9, 8, 8, 9, 8, 8, 8, 9, 9, 9, 9, 12, 13})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, A, b, Aeq, beq, intOnly := decodeProblem(data)
		x, obj, err := Solve(c, A, b, Aeq, beq)
		if err != nil {
			known := false
			for _, e := range []error{ErrInfeasible, ErrUnbounded, ErrShape, ErrNonFinite, ErrNumerical} {
				if errors.Is(err, e) {
					known = true
				}
			}
			if !known {
				t.Fatalf("unknown error %v", err)
			}
			if intOnly && errors.Is(err, ErrNumerical) {
				t.Fatalf("numerical failure on small integer data: %v\nc=%v A=%v b=%v Aeq=%v beq=%v", err, c, A, b, Aeq, beq)
			}
		} else {
			if len(x) != len(c) {
				t.Fatalf("len(x) = %d, want %d", len(x), len(c))
			}
			for _, v := range x {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("bad x %v", x)
				}
			}
			if v := violation(A, b, Aeq, beq, x); v > 1e-6 {
				t.Fatalf("x=%v violates constraints by %g\nc=%v A=%v b=%v Aeq=%v beq=%v", x, v, c, A, b, Aeq, beq)
			}
			if d := dot(c, x); obj != d && !near(obj, d, 1e-12) {
				t.Fatalf("obj %v != c·x %v", obj, d)
			}
		}
		// Shape errors are the solver's job to detect; the oracle needs
		// well-formed, small-integer data.
		if intOnly && !errors.Is(err, ErrShape) {
			checkAgainstBrute(t, c, A, b, Aeq, beq)
		}
	})
}

func FuzzMinMaxOnSimplex(f *testing.F) {
	f.Add([]byte{3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{2, 1, 8, 8, 8})
	f.Add([]byte{4, 20, 250, 251, 252, 253, 254, 255, 246, 247})
	f.Fuzz(func(t *testing.T, data []byte) {
		pos := 0
		next := func() byte {
			if pos >= len(data) {
				return 0
			}
			v := data[pos]
			pos++
			return v
		}
		plain := true
		val := func() float64 {
			v := next()
			if v < 238 {
				return float64(int(v%17)-8) / 4
			}
			plain = false
			return specials[v-238]
		}
		k := int(next() % 6)
		m := int(next() % 31)
		a := make([]float64, m)
		B := make([][]float64, m)
		for i := range B {
			a[i] = val()
			B[i] = make([]float64, k)
			for j := range B[i] {
				B[i][j] = val()
			}
		}
		x, v, err := MinMaxOnSimplexK(k, a, B)
		if err != nil {
			if plain && k > 0 {
				t.Fatalf("error on well-scaled data: %v\na=%v B=%v", err, a, B)
			}
			return
		}
		if len(x) != k {
			t.Fatalf("len(x) = %d, want %d", len(x), k)
		}
		sum := 0.0
		for _, xj := range x {
			if !(xj >= 0) || math.IsInf(xj, 0) {
				t.Fatalf("bad x %v", x)
			}
			sum += xj
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("x sums to %v", sum)
		}
		if m == 0 {
			return
		}
		if got := evalMax(a, B, x); got != v {
			t.Fatalf("value %v, max at x %v", v, got)
		}
		// No vertex of the simplex and not the uniform split may be better.
		scale := 1 + math.Abs(v) + maxAbs(a)
		for _, row := range B {
			scale += maxAbs(row)
		}
		cand := make([]float64, k)
		for j := -1; j < k; j++ {
			for q := range cand {
				switch {
				case j < 0:
					cand[q] = 1 / float64(k)
				case q == j:
					cand[q] = 1
				default:
					cand[q] = 0
				}
			}
			if w := evalMax(a, B, cand); w < v-1e-9*scale {
				t.Fatalf("x=%v value %v, but %v gives %v", x, v, cand, w)
			}
		}
	})
}
