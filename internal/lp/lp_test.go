package lp

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// violation returns the largest violation of A x ≤ b, Aeq x = beq, x ≥ 0,
// each relative to 1 + |rhs| + Σ|a_j x_j| (independent re-implementation of
// the solver's own check).
func violation(A [][]float64, b []float64, Aeq [][]float64, beq []float64, x []float64) float64 {
	worst := 0.0
	for _, v := range x {
		worst = math.Max(worst, -v)
	}
	check := func(row []float64, rhs float64, eq bool) {
		s, mag := 0.0, 1+math.Abs(rhs)
		for j := range row {
			s += row[j] * x[j]
			mag += math.Abs(row[j] * x[j])
		}
		d := s - rhs
		if eq {
			d = math.Abs(d)
		}
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = math.Max(worst, d/mag)
	}
	for i := range A {
		check(A[i], b[i], false)
	}
	for i := range Aeq {
		check(Aeq[i], beq[i], true)
	}
	return worst
}

func dot(c, x []float64) float64 {
	s := 0.0
	for i := range c {
		s += c[i] * x[i]
	}
	return s
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*(1+math.Max(math.Abs(a), math.Abs(b)))
}

type lpCase struct {
	name    string
	c       []float64
	A       [][]float64
	b       []float64
	Aeq     [][]float64
	beq     []float64
	wantObj float64
	wantX   []float64 // nil: do not check (non-unique optimum)
	wantErr error
}

func TestSolveKnown(t *testing.T) {
	// Klee–Minty cube, n = 6: max Σ 2^(n-j) x_j, Σ_{j<i} 2^(i-j+1) x_j + x_i ≤ 5^i.
	const km = 6
	kmC := make([]float64, km)
	kmA := make([][]float64, km)
	kmB := make([]float64, km)
	for i := 0; i < km; i++ {
		kmC[i] = -math.Pow(2, float64(km-1-i))
		kmA[i] = make([]float64, km)
		for j := 0; j < i; j++ {
			kmA[i][j] = math.Pow(2, float64(i-j+1))
		}
		kmA[i][i] = 1
		kmB[i] = math.Pow(5, float64(i+1))
	}
	kmX := make([]float64, km)
	kmX[km-1] = math.Pow(5, km)

	cases := []lpCase{
		{
			// Wyndor Glass (Hillier & Lieberman): max 3x+5y.
			name:    "wyndor",
			c:       []float64{-3, -5},
			A:       [][]float64{{1, 0}, {0, 2}, {3, 2}},
			b:       []float64{4, 12, 18},
			wantObj: -36, wantX: []float64{2, 6},
		},
		{
			// Covering problem with ≥ rows (negative b): min 2x+3y, x+y ≥ 4, x+3y ≥ 6.
			name:    "diet-negative-b",
			c:       []float64{2, 3},
			A:       [][]float64{{-1, -1}, {-1, -3}},
			b:       []float64{-4, -6},
			wantObj: 9, wantX: []float64{3, 1},
		},
		{
			name:    "mixed-signs",
			c:       []float64{1, 1},
			A:       [][]float64{{-1, -1}, {1, 0}, {0, 1}},
			b:       []float64{-2, 3, 0.5},
			wantObj: 2,
		},
		{
			name:    "equality",
			c:       []float64{1, 2, 3},
			Aeq:     [][]float64{{1, 1, 1}, {1, -1, 0}},
			beq:     []float64{1, 0.2},
			wantObj: 1.4, wantX: []float64{0.6, 0.4, 0},
		},
		{
			name:    "redundant-equalities",
			c:       []float64{1, -1},
			Aeq:     [][]float64{{1, 1}, {2, 2}, {-1, -1}, {3, 3}},
			beq:     []float64{1, 2, -1, 3},
			wantObj: -1, wantX: []float64{0, 1},
		},
		{
			name:    "redundant-equalities-combination",
			c:       []float64{1, 1, 1},
			Aeq:     [][]float64{{1, 1, 0}, {0, 1, 1}, {1, 2, 1}},
			beq:     []float64{1, 1, 2},
			wantObj: 1, wantX: []float64{0, 1, 0},
		},
		{
			name:    "equality-and-inequality",
			c:       []float64{-1, -2, 0},
			A:       [][]float64{{1, 1, 0}, {0, 1, 0}},
			b:       []float64{4, 3},
			Aeq:     [][]float64{{1, 0, -1}},
			beq:     []float64{-1},
			wantObj: -7, wantX: []float64{1, 3, 2},
		},
		{
			// Beale (1955) cycling example; optimum -1/20 at x = (1/25, 0, 1, 0).
			name: "beale",
			c:    []float64{-0.75, 150, -0.02, 6},
			A: [][]float64{
				{0.25, -60, -0.04, 9},
				{0.5, -90, -0.02, 3},
				{0, 0, 1, 0},
			},
			b:       []float64{0, 0, 1},
			wantObj: -0.05, wantX: []float64{0.04, 0, 1, 0},
		},
		{
			// Chvátal's cycling example (Linear Programming, 1983); max is 1 at (1,0,1,0).
			name: "chvatal",
			c:    []float64{-10, 57, 9, 24},
			A: [][]float64{
				{0.5, -5.5, -2.5, 9},
				{0.5, -1.5, -0.5, 1},
				{1, 0, 0, 0},
			},
			b:       []float64{0, 0, 1},
			wantObj: -1, wantX: []float64{1, 0, 1, 0},
		},
		{
			name: "klee-minty-6",
			c:    kmC, A: kmA, b: kmB,
			wantObj: -math.Pow(5, km), wantX: kmX,
		},
		{
			// Highly degenerate: many constraints through the optimal vertex.
			name:    "degenerate-vertex",
			c:       []float64{-1, -1},
			A:       [][]float64{{1, 0}, {0, 1}, {1, 1}, {2, 1}, {1, 2}, {3, 3}},
			b:       []float64{1, 1, 2, 3, 3, 6},
			wantObj: -2, wantX: []float64{1, 1},
		},
		{
			name:    "zero-objective",
			c:       []float64{0, 0},
			A:       [][]float64{{-1, -1}},
			b:       []float64{-1},
			wantObj: 0,
		},
		{
			name:    "no-constraints",
			c:       []float64{1, 2},
			wantObj: 0, wantX: []float64{0, 0},
		},
		{
			name:    "no-variables",
			c:       nil,
			A:       [][]float64{{}},
			b:       []float64{1},
			Aeq:     [][]float64{{}},
			beq:     []float64{0},
			wantObj: 0, wantX: []float64{},
		},
		{
			name:    "zero-row-ok",
			c:       []float64{1},
			A:       [][]float64{{0}, {-1}},
			b:       []float64{0, -2},
			wantObj: 2, wantX: []float64{2},
		},
		{
			name:    "large-scale-data",
			c:       []float64{-3e6, -5e6},
			A:       [][]float64{{1e-3, 0}, {0, 2e9}, {3e4, 2e4}},
			b:       []float64{4e-3, 12e9, 18e4},
			wantObj: -36e6, wantX: []float64{2, 6},
		},
		{
			name:    "infeasible-bounds",
			c:       []float64{1},
			A:       [][]float64{{1}, {-1}},
			b:       []float64{1, -2},
			wantErr: ErrInfeasible,
		},
		{
			name:    "infeasible-negative-rhs",
			c:       []float64{1, 1},
			A:       [][]float64{{1, 1}},
			b:       []float64{-1},
			wantErr: ErrInfeasible,
		},
		{
			name:    "infeasible-equalities",
			c:       []float64{1, 1},
			Aeq:     [][]float64{{1, 1}, {1, 1}},
			beq:     []float64{1, 2},
			wantErr: ErrInfeasible,
		},
		{
			name:    "infeasible-zero-row",
			c:       []float64{1},
			A:       [][]float64{{0}},
			b:       []float64{-1},
			wantErr: ErrInfeasible,
		},
		{
			name:    "infeasible-zero-eq-row",
			c:       []float64{1},
			Aeq:     [][]float64{{0}},
			beq:     []float64{1},
			wantErr: ErrInfeasible,
		},
		{
			name:    "unbounded",
			c:       []float64{-1, 0},
			A:       [][]float64{{1, -1}},
			b:       []float64{1},
			wantErr: ErrUnbounded,
		},
		{
			name:    "unbounded-no-constraints",
			c:       []float64{0, -1},
			wantErr: ErrUnbounded,
		},
		{
			name:    "unbounded-after-phase-one",
			c:       []float64{-1, -1},
			A:       [][]float64{{-1, -1}},
			b:       []float64{-3},
			Aeq:     [][]float64{{1, -1}},
			beq:     []float64{1},
			wantErr: ErrUnbounded,
		},
		{
			name:    "shape-b",
			c:       []float64{1},
			A:       [][]float64{{1}},
			b:       nil,
			wantErr: ErrShape,
		},
		{
			name:    "shape-row",
			c:       []float64{1, 2},
			A:       [][]float64{{1, 2}, {1}},
			b:       []float64{1, 1},
			wantErr: ErrShape,
		},
		{
			name:    "shape-nil-row",
			c:       []float64{1},
			Aeq:     [][]float64{nil},
			beq:     []float64{1},
			wantErr: ErrShape,
		},
		{
			name:    "shape-beq",
			c:       []float64{1},
			Aeq:     [][]float64{{1}},
			beq:     []float64{1, 2},
			wantErr: ErrShape,
		},
		{
			name:    "nan-c",
			c:       []float64{math.NaN()},
			wantErr: ErrNonFinite,
		},
		{
			name:    "inf-A",
			c:       []float64{1},
			A:       [][]float64{{math.Inf(1)}},
			b:       []float64{1},
			wantErr: ErrNonFinite,
		},
		{
			name:    "inf-beq",
			c:       []float64{1},
			Aeq:     [][]float64{{1}},
			beq:     []float64{math.Inf(-1)},
			wantErr: ErrNonFinite,
		},
		{
			name:    "nan-b",
			c:       []float64{1},
			A:       [][]float64{{1}},
			b:       []float64{math.NaN()},
			wantErr: ErrNonFinite,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, obj, err := Solve(tc.c, tc.A, tc.b, tc.Aeq, tc.beq)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v (x=%v obj=%v)", err, tc.wantErr, x, obj)
				}
				if err.Error() == tc.wantErr.Error() && tc.wantErr != ErrUnbounded && tc.wantErr != ErrInfeasible {
					t.Errorf("error %q carries no context", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(x) != len(tc.c) {
				t.Fatalf("len(x) = %d, want %d", len(x), len(tc.c))
			}
			if !near(obj, tc.wantObj, 1e-9) {
				t.Errorf("obj = %.15g, want %.15g (x=%v)", obj, tc.wantObj, x)
			}
			if !near(obj, dot(tc.c, x), 1e-12) {
				t.Errorf("obj %v != c·x %v", obj, dot(tc.c, x))
			}
			if tc.wantX != nil {
				for j := range x {
					if !near(x[j], tc.wantX[j], 1e-9) {
						t.Errorf("x = %v, want %v", x, tc.wantX)
						break
					}
				}
			}
			if v := violation(tc.A, tc.b, tc.Aeq, tc.beq, x); v > 1e-9 {
				t.Errorf("x = %v violates constraints by %g", x, v)
			}
		})
	}
}

func TestSolveDoesNotModifyInputs(t *testing.T) {
	c := []float64{1, -2, 3}
	A := [][]float64{{1, 2, 3}, {-1, 0, 2}}
	b := []float64{4, -1}
	Aeq := [][]float64{{1, 1, 1}}
	beq := []float64{-2}
	Aeq[0][0] = -1
	cc, bc, beqc := slices.Clone(c), slices.Clone(b), slices.Clone(beq)
	Ac := [][]float64{slices.Clone(A[0]), slices.Clone(A[1])}
	Aeqc := [][]float64{slices.Clone(Aeq[0])}
	_, _, _ = Solve(c, A, b, Aeq, beq)
	if !slices.Equal(c, cc) || !slices.Equal(b, bc) || !slices.Equal(beq, beqc) ||
		!slices.Equal(A[0], Ac[0]) || !slices.Equal(A[1], Ac[1]) || !slices.Equal(Aeq[0], Aeqc[0]) {
		t.Fatal("Solve modified its inputs")
	}
}

// bruteLP solves min c·x s.t. A x ≤ b, Aeq x = beq, x ≥ 0 (and x ≤ box if
// box > 0) by enumerating all vertices. It reports whether any feasible
// vertex exists and the best objective value among them.
func bruteLP(c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64, box float64) (feasible bool, best float64, bestX []float64) {
	n := len(c)
	type con struct {
		a   []float64
		rhs float64
		eq  bool
	}
	var cons []con
	for i := range A {
		cons = append(cons, con{A[i], b[i], false})
	}
	for i := range Aeq {
		cons = append(cons, con{Aeq[i], beq[i], true})
	}
	for j := 0; j < n; j++ {
		e := make([]float64, n)
		e[j] = -1
		cons = append(cons, con{e, 0, false})
		if box > 0 {
			f := make([]float64, n)
			f[j] = 1
			cons = append(cons, con{f, box, false})
		}
	}
	isFeasible := func(x []float64) bool {
		// Elimination error scales with the largest |x_j|, not with the
		// entries of x a row happens to touch.
		xmax := 0.0
		for _, v := range x {
			xmax = math.Max(xmax, math.Abs(v))
		}
		for _, k := range cons {
			s, mag := 0.0, 1+math.Abs(k.rhs)
			for j := range x {
				s += k.a[j] * x[j]
				mag += math.Abs(k.a[j]) * xmax
			}
			d := s - k.rhs
			if k.eq {
				d = math.Abs(d)
			}
			if d > 1e-9*mag {
				return false
			}
		}
		return true
	}
	best = math.Inf(1)
	if n == 0 {
		return isFeasible(nil), 0, nil
	}
	idx := make([]int, n)
	var rec func(pos, start int)
	M := make([][]float64, n)
	for i := range M {
		M[i] = make([]float64, n+1)
	}
	rec = func(pos, start int) {
		if pos == n {
			for r, k := range idx {
				copy(M[r], cons[k].a)
				M[r][n] = cons[k].rhs
			}
			x, ok := gaussSolve(M, n)
			if !ok || !isFeasible(x) {
				return
			}
			feasible = true
			if v := dot(c, x); v < best {
				best, bestX = v, x
			}
			return
		}
		for k := start; k < len(cons); k++ {
			idx[pos] = k
			rec(pos+1, k+1)
		}
	}
	rec(0, 0)
	return feasible, best, bestX
}

// gaussSolve solves the n×n system in augmented matrix M (destroyed).
func gaussSolve(M [][]float64, n int) ([]float64, bool) {
	for col := 0; col < n; col++ {
		p, pv := -1, 1e-9
		for r := col; r < n; r++ {
			if a := math.Abs(M[r][col]); a > pv {
				p, pv = r, a
			}
		}
		if p < 0 {
			return nil, false
		}
		M[col], M[p] = M[p], M[col]
		for r := 0; r < n; r++ {
			if r == col || M[r][col] == 0 {
				continue
			}
			f := M[r][col] / M[col][col]
			for j := col; j <= n; j++ {
				M[r][j] -= f * M[col][j]
			}
		}
	}
	x := make([]float64, n)
	for i := 0; i < n; i++ {
		x[i] = M[i][n] / M[i][i]
	}
	return x, true
}

// checkAgainstBrute compares Solve with vertex enumeration on a problem
// whose data are small integers (so vertices are within |x| ≤ 1e5 and
// box 1e7 vs 2e7 distinguishes unbounded problems).
func checkAgainstBrute(t *testing.T, c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64) {
	t.Helper()
	x, obj, err := Solve(c, A, b, Aeq, beq)
	feas, best, bx := bruteLP(c, A, b, Aeq, beq, 0)
	switch {
	case err == nil:
		if v := violation(A, b, Aeq, beq, x); v > 1e-9 {
			t.Fatalf("infeasible x=%v (violation %g)\nc=%v A=%v b=%v Aeq=%v beq=%v", x, v, c, A, b, Aeq, beq)
		}
		if !feas {
			t.Fatalf("solver found x=%v obj=%v but brute force found no feasible vertex\nc=%v A=%v b=%v Aeq=%v beq=%v", x, obj, c, A, b, Aeq, beq)
		}
		if !near(obj, best, 1e-7) {
			t.Fatalf("obj=%.12g x=%v, brute best=%.12g at %v\nc=%v A=%v b=%v Aeq=%v beq=%v", obj, x, best, bx, c, A, b, Aeq, beq)
		}
	case errors.Is(err, ErrInfeasible):
		if feas {
			t.Fatalf("solver says infeasible, brute force found vertex %v\nc=%v A=%v b=%v Aeq=%v beq=%v", bx, c, A, b, Aeq, beq)
		}
	case errors.Is(err, ErrUnbounded):
		f1, v1, _ := bruteLP(c, A, b, Aeq, beq, 1e7)
		_, v2, _ := bruteLP(c, A, b, Aeq, beq, 2e7)
		if !f1 || !(v2 < v1-1) {
			t.Fatalf("solver says unbounded; brute with box: feasible=%v %v -> %v\nc=%v A=%v b=%v Aeq=%v beq=%v", f1, v1, v2, c, A, b, Aeq, beq)
		}
	default:
		t.Fatalf("unexpected error %v\nc=%v A=%v b=%v Aeq=%v beq=%v", err, c, A, b, Aeq, beq)
	}
}

func randInts(r *rand.Rand, k, lo, hi int) []float64 {
	v := make([]float64, k)
	for i := range v {
		v[i] = float64(lo + r.IntN(hi-lo+1))
	}
	return v
}

func TestSolveVersusVertexEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	for it := 0; it < 4000; it++ {
		n := 1 + r.IntN(3)
		m1 := r.IntN(6)
		m2 := r.IntN(3)
		lo, hi := -3, 3
		if it%3 == 0 {
			lo, hi = -1, 1 // many ties and degeneracies
		}
		c := randInts(r, n, lo, hi)
		A := make([][]float64, m1)
		b := randInts(r, m1, 2*lo, 2*hi)
		for i := range A {
			A[i] = randInts(r, n, lo, hi)
		}
		Aeq := make([][]float64, m2)
		beq := randInts(r, m2, lo, hi)
		for i := range Aeq {
			Aeq[i] = randInts(r, n, lo, hi)
			if i > 0 && r.IntN(2) == 0 { // redundant copy
				f := float64(1 + r.IntN(3))
				if r.IntN(2) == 0 {
					f = -f
				}
				for j := range Aeq[i] {
					Aeq[i][j] = f * Aeq[0][j]
				}
				beq[i] = f * beq[0]
			}
		}
		_, _, err := Solve(c, A, b, Aeq, beq)
		switch {
		case err == nil:
			counts["optimal"]++
		case errors.Is(err, ErrInfeasible):
			counts["infeasible"]++
		case errors.Is(err, ErrUnbounded):
			counts["unbounded"]++
		}
		checkAgainstBrute(t, c, A, b, Aeq, beq)
	}
	t.Logf("outcomes: %v", counts)
	for _, k := range []string{"optimal", "infeasible", "unbounded"} {
		if counts[k] < 100 {
			t.Errorf("too few %s instances (%d): generator not exercising all paths", k, counts[k])
		}
	}
}

// TestSolveFeasibleProperty: random real-valued problems built to be
// feasible (around a known point x0) and bounded (box rows). The returned x
// must be feasible and no worse than x0.
func TestSolveFeasibleProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 3000; it++ {
		n := 1 + r.IntN(10)
		m1 := r.IntN(40)
		m2 := r.IntN(min(n, 4) + 1)
		x0 := make([]float64, n)
		for j := range x0 {
			if r.IntN(3) > 0 {
				x0[j] = r.Float64() * 5
			}
		}
		c := make([]float64, n)
		for j := range c {
			c[j] = r.NormFloat64()
		}
		var A [][]float64
		var b []float64
		for i := 0; i < m1; i++ {
			row := make([]float64, n)
			for j := range row {
				row[j] = r.NormFloat64()
			}
			slack := 0.0
			if r.IntN(3) > 0 {
				slack = r.Float64()
			}
			A = append(A, row)
			b = append(b, dot(row, x0)+slack)
		}
		for j := 0; j < n; j++ { // box x_j ≤ 10
			row := make([]float64, n)
			row[j] = 1
			A = append(A, row)
			b = append(b, 10)
		}
		Aeq := make([][]float64, m2)
		beq := make([]float64, m2)
		for i := range Aeq {
			Aeq[i] = make([]float64, n)
			for j := range Aeq[i] {
				Aeq[i][j] = r.NormFloat64()
			}
			beq[i] = dot(Aeq[i], x0)
		}
		x, obj, err := Solve(c, A, b, Aeq, beq)
		if err != nil {
			t.Fatalf("it %d: feasible bounded problem gave error %v", it, err)
		}
		if v := violation(A, b, Aeq, beq, x); v > 1e-9 {
			t.Fatalf("it %d: x violates constraints by %g", it, v)
		}
		if obj > dot(c, x0)+1e-9*(1+math.Abs(obj)) {
			t.Fatalf("it %d: obj %v worse than known feasible point %v", it, obj, dot(c, x0))
		}
	}
}

// gridMinMax evaluates max_i(a_i + B_i x) at every point of the simplex grid
// with step 1/N and returns the smallest value.
func gridMinMax(a []float64, B [][]float64, k, N int) float64 {
	best := math.Inf(1)
	x := make([]float64, k)
	var rec func(j, left int)
	rec = func(j, left int) {
		if j == k-1 {
			x[j] = float64(left) / float64(N)
			best = math.Min(best, evalMax(a, B, x))
			return
		}
		for q := 0; q <= left; q++ {
			x[j] = float64(q) / float64(N)
			rec(j+1, left-q)
		}
	}
	rec(0, N)
	return best
}

func TestMinMaxOnSimplexGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	gridN := map[int]int{2: 1000, 3: 100, 4: 40}
	worstRatio := 0.0
	for it := 0; it < 240; it++ {
		k := 2 + it%3
		m := 1 + r.IntN(30)
		a := make([]float64, m)
		B := make([][]float64, m)
		maxB, maxRange := 0.0, 0.0
		for i := range B {
			a[i] = r.Float64()*2 - 1
			B[i] = make([]float64, k)
			lo, hi := math.Inf(1), math.Inf(-1)
			for j := range B[i] {
				v := r.Float64()*2 - 1
				if it%5 == 0 {
					v = float64(r.IntN(3)) // ties and degeneracy
				}
				B[i][j] = v
				maxB = math.Max(maxB, math.Abs(v))
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			maxRange = math.Max(maxRange, hi-lo)
		}
		x, val, err := MinMaxOnSimplex(a, B)
		if err != nil {
			t.Fatalf("it %d: %v", it, err)
		}
		sum := 0.0
		for _, v := range x {
			if v < 0 {
				t.Fatalf("it %d: negative x %v", it, x)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("it %d: x sums to %v", it, sum)
		}
		if got := evalMax(a, B, x); got != val {
			t.Fatalf("it %d: value %v but max at x is %v", it, val, got)
		}
		N := gridN[k]
		h := 1 / float64(N)
		g := gridMinMax(a, B, k, N)
		if val > g+1e-9 {
			t.Fatalf("it %d (k=%d m=%d): LP value %.12g above grid value %.12g", it, k, m, val, g)
		}
		// Rounding a point of the simplex to the grid moves it by at most
		// 2(1-1/k)h in L1 norm; each row changes by at most half its range
		// times that distance.
		if bound := h * (1 - 1/float64(k)) * maxRange; val < g-bound-1e-12 {
			t.Fatalf("it %d: LP value %.12g below grid %.12g - %g", it, val, g, bound)
		}
		if maxB > 0 {
			worstRatio = math.Max(worstRatio, (g-val)/(h*maxB))
		}
	}
	t.Logf("max (grid - LP)/(h·max|B|) = %.3f", worstRatio)
}

// TestMinMaxOnSimplexWideScales: utilisation-like data whose rows span six
// decades (capacities from 1e-3 to 1e3). The result is compared with (1)
// Solve on the textbook epigraph form with t = t⁺ − t⁻ and (2) vertex
// enumeration of that form.
func TestMinMaxOnSimplexWideScales(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for it := 0; it < 100; it++ {
		k := 2 + it%2
		m := 1 + r.IntN(10)
		a := make([]float64, m)
		B := make([][]float64, m)
		for i := range B {
			capacity := math.Pow(10, -3+6*r.Float64())
			a[i] = r.Float64() * 0.5
			if it%4 == 0 {
				a[i] *= capacity // offsets on the same wild scale
			}
			B[i] = make([]float64, k)
			for j := range B[i] {
				if r.IntN(3) > 0 {
					B[i][j] = r.Float64() / capacity
				}
			}
		}
		x, val, err := MinMaxOnSimplex(a, B)
		if err != nil {
			t.Fatalf("it %d: %v", it, err)
		}
		// Epigraph: variables x_1..x_k, t⁺, t⁻ ≥ 0.
		n := k + 2
		c := make([]float64, n)
		c[k], c[k+1] = 1, -1
		A := make([][]float64, m)
		b := make([]float64, m)
		for i := range B {
			A[i] = make([]float64, n)
			copy(A[i], B[i])
			A[i][k], A[i][k+1] = -1, 1
			b[i] = -a[i]
		}
		eq := make([]float64, n)
		for j := 0; j < k; j++ {
			eq[j] = 1
		}
		Aeq, beq := [][]float64{eq}, []float64{1}
		xe, obj, err := Solve(c, A, b, Aeq, beq)
		if err != nil {
			t.Fatalf("it %d: epigraph Solve: %v", it, err)
		}
		if v := violation(A, b, Aeq, beq, xe); v > 1e-9 {
			t.Fatalf("it %d: epigraph solution infeasible by %g", it, v)
		}
		feas, best, _ := bruteLP(c, A, b, Aeq, beq, 0)
		if !feas {
			t.Fatalf("it %d: brute force found no vertex", it)
		}
		scale := 1e-9 * (1 + math.Abs(best))
		if math.Abs(val-best) > scale || math.Abs(obj-best) > scale {
			t.Fatalf("it %d (k=%d m=%d): MinMaxOnSimplex %.15g (x=%v), epigraph Solve %.15g, vertex enumeration %.15g",
				it, k, m, val, x, obj, best)
		}
	}
}

func TestMinMaxOnSimplexKnown(t *testing.T) {
	x, v, err := MinMaxOnSimplex([]float64{0, 0}, [][]float64{{1, 0}, {0, 1}})
	if err != nil || !near(x[0], 0.5, 1e-12) || !near(v, 0.5, 1e-12) {
		t.Errorf("symmetric: x=%v v=%v err=%v", x, v, err)
	}
	x, v, err = MinMaxOnSimplex([]float64{0.2, 0}, [][]float64{{1, 0}, {0, 1}})
	if err != nil || !near(x[0], 0.4, 1e-12) || !near(v, 0.6, 1e-12) {
		t.Errorf("offset: x=%v v=%v err=%v", x, v, err)
	}
	// Dominated path: all weight on path 0.
	x, v, err = MinMaxOnSimplex([]float64{3}, [][]float64{{1, 2, 5}})
	if err != nil || x[0] != 1 || !near(v, 4, 1e-12) {
		t.Errorf("dominated: x=%v v=%v err=%v", x, v, err)
	}
	// Negative optimum (t must be free).
	x, v, err = MinMaxOnSimplex([]float64{-10, -10}, [][]float64{{1, -1}, {-1, 1}})
	if err != nil || !near(v, -10, 1e-12) || !near(x[0], 0.5, 1e-12) {
		t.Errorf("negative: x=%v v=%v err=%v", x, v, err)
	}
	// Three paths sharing a bottleneck link plus private links.
	a := []float64{0.1, 0.3, 0.2, 0.5}
	B := [][]float64{{1, 1, 1}, {2, 0, 0}, {0, 2, 0}, {0, 0, 2}}
	x, v, err = MinMaxOnSimplex(a, B)
	// Shared row gives 1.1 regardless of x; private rows can all be ≤ 1.1.
	if err != nil || !near(v, 1.1, 1e-12) {
		t.Errorf("bottleneck: x=%v v=%v err=%v", x, v, err)
	}
	// Single path.
	x, v, err = MinMaxOnSimplex([]float64{1, 2}, [][]float64{{3}, {0.5}})
	if err != nil || len(x) != 1 || x[0] != 1 || v != 4 {
		t.Errorf("k=1: x=%v v=%v err=%v", x, v, err)
	}
	// All rows identical and constant.
	x, v, err = MinMaxOnSimplex([]float64{1, 1, 1}, [][]float64{{2, 2}, {2, 2}, {2, 2}})
	if err != nil || !near(v, 3, 1e-12) || !near(x[0]+x[1], 1, 1e-12) {
		t.Errorf("constant: x=%v v=%v err=%v", x, v, err)
	}
}

func TestMinMaxOnSimplexEdgeCases(t *testing.T) {
	x, v, err := MinMaxOnSimplexK(4, nil, nil)
	if err != nil || v != 0 || len(x) != 4 || x[0] != 0.25 || x[3] != 0.25 {
		t.Errorf("no rows: x=%v v=%v err=%v", x, v, err)
	}
	if _, _, err := MinMaxOnSimplex(nil, nil); !errors.Is(err, ErrShape) {
		t.Errorf("no rows without k: err=%v, want ErrShape", err)
	}
	if _, _, err := MinMaxOnSimplexK(0, nil, nil); !errors.Is(err, ErrShape) {
		t.Errorf("k=0: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{1, 2}, [][]float64{{1, 2}}); !errors.Is(err, ErrShape) {
		t.Errorf("len mismatch: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{1, 2}, [][]float64{{1, 2}, {1}}); !errors.Is(err, ErrShape) {
		t.Errorf("ragged: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{1}, [][]float64{{}}); !errors.Is(err, ErrShape) {
		t.Errorf("empty row: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{math.NaN()}, [][]float64{{1, 2}}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN a: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{0}, [][]float64{{1, math.Inf(1)}}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Inf B: err=%v", err)
	}
	if _, _, err := MinMaxOnSimplex([]float64{1e308}, [][]float64{{1e308, -1e308}}); err == nil {
		t.Errorf("overflowing data accepted")
	}
	// Large but representable data.
	x, v, err = MinMaxOnSimplex([]float64{1e12, 0}, [][]float64{{1e12, 0}, {0, 3e12}})
	if err != nil || !near(v, 1.5e12, 1e-9) {
		t.Errorf("large: x=%v v=%v err=%v", x, v, err)
	}
}

func BenchmarkMinMaxOnSimplex(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	const k, m = 3, 20
	a := make([]float64, m)
	B := make([][]float64, m)
	for i := range B {
		a[i] = r.Float64()
		B[i] = make([]float64, k)
		for j := range B[i] {
			if r.IntN(2) == 0 {
				B[i][j] = r.Float64()
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := MinMaxOnSimplex(a, B); err != nil {
			b.Fatal(err)
		}
	}
}
