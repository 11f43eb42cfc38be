// Package lp is a small, dense linear-programming solver for tiny problems
// (tens of constraints, about ten variables), such as the "split a flow over
// k paths to minimise the maximum link utilisation" problems solved by the
// network-routing baselines.
//
// The solver is a dense two-phase tableau simplex method. Bland's rule
// (smallest-index entering column, smallest-index leaving variable among
// ratio ties) is used in both phases, so degenerate problems cannot cycle.
// The constraint matrix is equilibrated (rows, then columns, then rows again,
// by exact powers of two) and the objective is scaled by its largest
// coefficient before solving, so the fixed tolerances below are relative to
// the data. Every solution returned is re-checked against the original,
// unscaled constraints (relative tolerance 1e-7), so a numerical failure
// surfaces as ErrNumerical rather than as a wrong answer.
//
// Tolerances: pivots and reduced costs use 1e-9 on the equilibrated data;
// a problem is declared infeasible when the phase-one residual exceeds 1e-9
// times the largest scaled right-hand side (at least 1), and unbounded when a
// column with negative reduced cost has no entry above 1e-9.
package lp

import (
	"errors"
	"fmt"
	"math"
)

// Errors returned by Solve and MinMaxOnSimplex. They are usually wrapped with
// context; test for them with errors.Is.
var (
	// ErrInfeasible reports that no x satisfies the constraints.
	ErrInfeasible = errors.New("lp: infeasible")
	// ErrUnbounded reports that the objective can be decreased without bound.
	ErrUnbounded = errors.New("lp: unbounded")
	// ErrShape reports inconsistent input dimensions.
	ErrShape = errors.New("lp: invalid input shape")
	// ErrNonFinite reports a NaN or ±Inf in the input.
	ErrNonFinite = errors.New("lp: non-finite input")
	// ErrNumerical reports a numerical failure: data too badly scaled, the
	// iteration limit was hit, or the computed point failed the final
	// feasibility check. It should not happen for reasonably scaled data.
	ErrNumerical = errors.New("lp: numerical failure")
)

const (
	// pivTol: column entries at or below this are not used as pivots
	// (after equilibration every coefficient is at most 1 in magnitude).
	pivTol = 1e-9
	// costTol: a reduced cost must be below -costTol for its column to
	// enter (the objective is scaled so that its largest coefficient is < 1).
	costTol = 1e-9
	// feasTol: phase-one residual (relative to the largest scaled
	// right-hand side, at least 1) above which the problem is infeasible.
	feasTol = 1e-9
	// checkTol: relative tolerance of the final feasibility check on the
	// original data, see maxViolation.
	checkTol = 1e-7
)

// Solve minimises c·x subject to A x ≤ b, Aeq x = beq, x ≥ 0.
//
// len(c) fixes the number of variables n; every row of A and Aeq must have
// length n, len(b) == len(A) and len(beq) == len(Aeq). A and Aeq may be nil.
// Negative right-hand sides, degenerate vertices and redundant (or
// duplicated) equality constraints are handled.
//
// It returns the optimal x (non-negative, length n) and c·x, or an error
// wrapping ErrInfeasible, ErrUnbounded, ErrShape, ErrNonFinite or
// ErrNumerical. Solve does not modify its arguments and never panics.
func Solve(c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64) (x []float64, obj float64, err error) {
	n := len(c)
	if err := validate(n, c, A, b, Aeq, beq); err != nil {
		return nil, 0, err
	}
	t, err := build(n, c, A, b, Aeq, beq)
	if err != nil {
		return nil, 0, err
	}
	if err := t.solve(); err != nil {
		return nil, 0, err
	}
	x = make([]float64, n)
	for r, j := range t.basis {
		if j < n {
			if v := t.at(r, t.ncols); v > 0 {
				x[j] = v * t.colScale[j]
			}
		}
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, fmt.Errorf("%w: non-finite solution", ErrNumerical)
		}
	}
	if v := maxViolation(A, b, Aeq, beq, x); v > checkTol {
		return nil, 0, fmt.Errorf("%w: solution violates constraints by %.3g (relative)", ErrNumerical, v)
	}
	for j, cj := range c {
		obj += cj * x[j]
	}
	return x, obj, nil
}

// validate checks shapes and finiteness of all inputs.
func validate(n int, c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64) error {
	if i := nonFinite(c); i >= 0 {
		return fmt.Errorf("%w: c[%d] = %v", ErrNonFinite, i, c[i])
	}
	if len(A) != len(b) {
		return fmt.Errorf("%w: len(A) = %d but len(b) = %d", ErrShape, len(A), len(b))
	}
	if len(Aeq) != len(beq) {
		return fmt.Errorf("%w: len(Aeq) = %d but len(beq) = %d", ErrShape, len(Aeq), len(beq))
	}
	for i, row := range A {
		if len(row) != n {
			return fmt.Errorf("%w: len(A[%d]) = %d, want len(c) = %d", ErrShape, i, len(row), n)
		}
		if j := nonFinite(row); j >= 0 {
			return fmt.Errorf("%w: A[%d][%d] = %v", ErrNonFinite, i, j, row[j])
		}
	}
	for i, row := range Aeq {
		if len(row) != n {
			return fmt.Errorf("%w: len(Aeq[%d]) = %d, want len(c) = %d", ErrShape, i, len(row), n)
		}
		if j := nonFinite(row); j >= 0 {
			return fmt.Errorf("%w: Aeq[%d][%d] = %v", ErrNonFinite, i, j, row[j])
		}
	}
	if i := nonFinite(b); i >= 0 {
		return fmt.Errorf("%w: b[%d] = %v", ErrNonFinite, i, b[i])
	}
	if i := nonFinite(beq); i >= 0 {
		return fmt.Errorf("%w: beq[%d] = %v", ErrNonFinite, i, beq[i])
	}
	return nil
}

// nonFinite returns the index of the first NaN or ±Inf in v, or -1.
func nonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if a := math.Abs(x); a > m {
			m = a
		}
	}
	return m
}

// maxViolation returns the largest constraint violation of x, each measured
// relative to 1 + |rhs| + Σ_j |a_j x_j| of its row (so it is scale-invariant
// for large data and absolute for tiny data), together with the largest
// negative entry of x.
func maxViolation(A [][]float64, b []float64, Aeq [][]float64, beq []float64, x []float64) float64 {
	worst := 0.0
	rowViol := func(row []float64, rhs float64, eq bool) float64 {
		lhs, mag := 0.0, 1+math.Abs(rhs)
		for j, a := range row {
			p := a * x[j]
			lhs += p
			mag += math.Abs(p)
		}
		d := lhs - rhs
		if eq {
			d = math.Abs(d)
		}
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		return d / mag
	}
	for i, row := range A {
		worst = math.Max(worst, rowViol(row, b[i], false))
	}
	for i, row := range Aeq {
		worst = math.Max(worst, rowViol(row, beq[i], true))
	}
	for _, v := range x {
		worst = math.Max(worst, -v)
	}
	return worst
}

// tableau is a dense simplex tableau. Row r (0 ≤ r < m) is stored at
// t[r*w : (r+1)*w]; its last entry (column ncols) is the right-hand side.
// Row m is the reduced-cost row, its last entry is −(objective value).
//
// Columns: [0, n) structural variables, [n, artStart) slack variables,
// [artStart, ncols) artificial variables.
type tableau struct {
	n, m, ncols, w int
	artStart       int
	t              []float64
	basis          []int     // basis[r] = column basic in row r
	cost           []float64 // phase-two cost per column (scaled c, zero elsewhere)
	colScale       []float64 // x_j = colScale[j] · (tableau variable j), j < n
	rhsMax         float64   // max(1, largest initial scaled |rhs|)
}

func (t *tableau) at(r, j int) float64 { return t.t[r*t.w+j] }
func (t *tableau) row(r int) []float64 { return t.t[r*t.w : (r+1)*t.w] }

// build converts the problem into an initial tableau with an obvious basis:
// a slack for each inequality row with non-negative right-hand side, an
// artificial for every other row. All-zero rows are checked and dropped.
//
// The matrix is equilibrated with power-of-two factors (exact in floating
// point): rows to a largest coefficient in [½, 1), then columns, then rows
// again. Column j of the tableau holds y_j = x_j / colScale[j]. The cost is
// scaled to a largest coefficient in [½, 1).
func build(n int, c []float64, A [][]float64, b []float64, Aeq [][]float64, beq []float64) (*tableau, error) {
	// kept[r] is the source of tableau row r: i < len(A) for A[i],
	// len(A)+i for Aeq[i]. All-zero rows are checked here and dropped.
	kept := make([]int, 0, 2*(len(A)+len(Aeq)))
	ns, na := 0, 0
	for i, row := range A {
		if maxAbs(row) == 0 {
			if b[i] < -feasTol {
				return nil, fmt.Errorf("%w: row %d of A is zero but b[%d] = %g < 0", ErrInfeasible, i, i, b[i])
			}
			continue
		}
		kept = append(kept, i)
		ns++
		if b[i] < 0 {
			na++
		}
	}
	for i, row := range Aeq {
		if maxAbs(row) == 0 {
			if math.Abs(beq[i]) > feasTol {
				return nil, fmt.Errorf("%w: row %d of Aeq is zero but beq[%d] = %g", ErrInfeasible, i, i, beq[i])
			}
			continue
		}
		kept = append(kept, len(A)+i)
		na++
	}
	source := func(r int) (row []float64, rhs float64, eq bool) {
		if k := kept[r]; k < len(A) {
			return A[k], b[k], false
		}
		k := kept[r] - len(A)
		return Aeq[k], beq[k], true
	}

	m := len(kept)
	ncols := n + ns + na
	w := ncols + 1
	// One allocation for all float scratch: tableau, cost, column scales,
	// row scales, column maxima.
	buf := make([]float64, (m+1)*w+ncols+n+m+n)
	t := &tableau{
		n: n, m: m, ncols: ncols, w: w,
		artStart: n + ns,
		basis:    kept[m : 2*m],
		rhsMax:   1,
	}
	t.t, buf = buf[:(m+1)*w], buf[(m+1)*w:]
	t.cost, buf = buf[:ncols:ncols], buf[ncols:]
	t.colScale, buf = buf[:n:n], buf[n:]
	rowScale, colMax := buf[:m:m], buf[m:]

	// Row pass 1 (scaled coefficients in [-1, 1]) and column maxima.
	for r := 0; r < m; r++ {
		src, _, _ := source(r)
		s := pow2Above(maxAbs(src))
		rowScale[r] = s
		tr := t.row(r)
		for j, v := range src {
			v /= s
			tr[j] = v
			if a := math.Abs(v); a > colMax[j] {
				colMax[j] = a
			}
		}
	}
	// Column pass: colScale[j] = 1 / pow2Above(colMax[j]), limited to
	// 2^±60 so that later products cannot overflow.
	for j, cm := range colMax {
		d := 1.0
		if cm > 0 {
			d = 1 / pow2Above(cm)
		}
		t.colScale[j] = min(max(d, 0x1p-60), 0x1p60)
	}
	// Row pass 2 and right-hand sides.
	for r := 0; r < m; r++ {
		_, rhs, _ := source(r)
		tr := t.row(r)
		rmax := 0.0
		for j := 0; j < n; j++ {
			v := tr[j] * t.colScale[j]
			tr[j] = v
			if a := math.Abs(v); a > rmax {
				rmax = a
			}
		}
		s2 := pow2Above(rmax)
		for j := 0; j < n; j++ {
			tr[j] /= s2
		}
		rhs = rhs / rowScale[r] / s2
		if math.IsInf(rhs, 0) {
			src, orig, _ := source(r)
			return nil, fmt.Errorf("%w: a constraint row is too badly scaled (max |coef| %g, rhs %g)", ErrNumerical, maxAbs(src), orig)
		}
		tr[ncols] = rhs
		t.rhsMax = max(t.rhsMax, math.Abs(rhs))
	}
	// Cost.
	if cs := maxAbs(c); cs > 0 {
		s := pow2Above(cs)
		cmax := 0.0
		for j, v := range c {
			v = v / s * t.colScale[j]
			t.cost[j] = v
			if a := math.Abs(v); a > cmax {
				cmax = a
			}
		}
		s = pow2Above(cmax)
		for j := range c {
			t.cost[j] /= s
		}
	}
	// Slacks, artificials and the initial basis.
	slack, art := n, n+ns
	for r := 0; r < m; r++ {
		_, rhs, eq := source(r)
		tr := t.row(r)
		if !eq {
			tr[slack] = 1
			t.basis[r] = slack
			slack++
			if !(rhs < 0) {
				continue
			}
		}
		if rhs < 0 {
			for j := range tr {
				tr[j] = -tr[j]
			}
		}
		tr[art] = 1
		t.basis[r] = art
		art++
	}
	return t, nil
}

// pow2Above returns the power of two 2^e with v/2^e in [½, 1), for v > 0.
func pow2Above(v float64) float64 {
	_, e := math.Frexp(v)
	return math.Ldexp(1, e)
}

// solve runs phase one (if there are artificial variables) and phase two.
// On success the tableau holds an optimal basis over the non-artificial
// columns.
func (t *tableau) solve() error {
	if t.artStart < t.ncols {
		phase1 := make([]float64, t.ncols)
		for j := t.artStart; j < t.ncols; j++ {
			phase1[j] = 1
		}
		if err := t.optimize(phase1); err != nil {
			if errors.Is(err, ErrUnbounded) { // impossible in exact arithmetic
				return fmt.Errorf("%w: phase one reported unbounded", ErrNumerical)
			}
			return err
		}
		if infeas := -t.at(t.m, t.ncols); infeas > feasTol*t.rhsMax {
			return fmt.Errorf("%w: phase one residual %.3g", ErrInfeasible, infeas)
		}
		t.dropArtificials()
	}
	if err := t.optimize(t.cost); err != nil {
		return err
	}
	return nil
}

// dropArtificials pivots every artificial variable still basic (at value ≈ 0)
// out of the basis, deletes the rows where that is impossible (they are
// redundant equality constraints), and removes the artificial columns.
func (t *tableau) dropArtificials() {
	keep := make([]bool, t.m)
	for r := 0; r < t.m; r++ {
		keep[r] = true
		if t.basis[r] < t.artStart {
			continue
		}
		best, bestAbs := -1, pivTol
		tr := t.row(r)
		for j := 0; j < t.artStart; j++ {
			if a := math.Abs(tr[j]); a > bestAbs {
				best, bestAbs = j, a
			}
		}
		if best < 0 {
			keep[r] = false // redundant row: no original column touches it
			continue
		}
		t.pivot(r, best)
	}
	// Compact: keep rows, drop artificial columns.
	nc := t.artStart
	nw := nc + 1
	m := 0
	for r := 0; r < t.m; r++ {
		if keep[r] {
			m++
		}
	}
	// In place: the destination of every entry is at or before its source.
	k := 0
	for r := 0; r <= t.m; r++ {
		if r < t.m && !keep[r] {
			continue
		}
		src := t.row(r)
		rhs := src[t.ncols]
		dst := t.t[k*nw : (k+1)*nw]
		copy(dst, src[:nc])
		dst[nc] = rhs
		if r < t.m {
			t.basis[k] = t.basis[r]
		}
		k++
	}
	t.m, t.ncols, t.w = m, nc, nw
	t.t, t.basis = t.t[:(m+1)*nw], t.basis[:m]
	t.cost = t.cost[:nc]
}

// optimize minimises cost·z over the current tableau with Bland's rule.
// Only columns below artStart may enter the basis (artificials that have
// left are never needed again).
func (t *tableau) optimize(cost []float64) error {
	m, w, rhs := t.m, t.w, t.ncols
	obj := t.row(m)
	for j := range obj {
		obj[j] = 0
	}
	copy(obj, cost[:t.ncols])
	for r := 0; r < m; r++ {
		if cb := cost[t.basis[r]]; cb != 0 {
			tr := t.row(r)
			for j, v := range tr {
				obj[j] -= cb * v
			}
		}
	}
	for r := 0; r < m; r++ {
		obj[t.basis[r]] = 0 // exact zeros for basic columns
	}
	enterLimit := min(t.artStart, t.ncols)
	maxIter := 1000 + 100*(m+t.ncols)
	for iter := 0; iter < maxIter; iter++ {
		enter := -1
		for j := 0; j < enterLimit; j++ {
			if obj[j] < -costTol {
				enter = j
				break
			}
		}
		if enter < 0 {
			return nil
		}
		leave, bestRatio := -1, 0.0
		for r := 0; r < m; r++ {
			a := t.t[r*w+enter]
			if !(a > pivTol) {
				continue
			}
			ratio := t.t[r*w+rhs] / a
			switch {
			case leave < 0:
				leave, bestRatio = r, ratio
			case ratio < bestRatio-1e-12*(1+math.Abs(bestRatio)):
				leave, bestRatio = r, ratio
			case ratio <= bestRatio+1e-12*(1+math.Abs(bestRatio)) && t.basis[r] < t.basis[leave]:
				leave, bestRatio = r, math.Min(ratio, bestRatio)
			}
		}
		if leave < 0 {
			return fmt.Errorf("%w: objective decreases without bound along tableau column %d", ErrUnbounded, enter)
		}
		t.pivot(leave, enter)
	}
	return fmt.Errorf("%w: iteration limit %d reached", ErrNumerical, maxIter)
}

// pivot makes column c basic in row r. Right-hand sides that become slightly
// negative through rounding are clamped to zero.
func (t *tableau) pivot(r, c int) {
	w, rhs := t.w, t.ncols
	pr := t.row(r)
	inv := 1 / pr[c]
	for j := range pr {
		pr[j] *= inv
	}
	pr[c] = 1
	for i := 0; i <= t.m; i++ {
		if i == r {
			continue
		}
		ti := t.t[i*w : (i+1)*w]
		f := ti[c]
		if f == 0 {
			continue
		}
		for j, v := range pr {
			ti[j] -= f * v
		}
		ti[c] = 0
		if i < t.m && ti[rhs] < 0 {
			ti[rhs] = 0
		}
	}
	if pr[rhs] < 0 {
		pr[rhs] = 0
	}
	t.basis[r] = c
}

// MinMaxOnSimplex minimises max_i (a[i] + Σ_j B[i][j]·x[j]) over the
// probability simplex {x ≥ 0, Σ_j x[j] = 1}. The number of variables is
// len(B[0]); every row of B must have that length and len(B) == len(a).
//
// It returns x (non-negative, summing to one) and the attained maximum,
// computed directly from a, B and the returned x.
//
// With len(a) == 0 the number of variables cannot be inferred, so
// MinMaxOnSimplex returns an error wrapping ErrShape; use MinMaxOnSimplexK,
// which returns the uniform split in that case.
func MinMaxOnSimplex(a []float64, B [][]float64) (x []float64, value float64, err error) {
	if len(a) == 0 || len(B) == 0 {
		return nil, 0, fmt.Errorf("%w: MinMaxOnSimplex needs at least one row to infer the number of variables (len(a) = %d, len(B) = %d); use MinMaxOnSimplexK", ErrShape, len(a), len(B))
	}
	return MinMaxOnSimplexK(len(B[0]), a, B)
}

// MinMaxOnSimplexK is MinMaxOnSimplex with the number of variables k given
// explicitly. With len(a) == 0 (no rows) it returns the uniform split
// x[j] = 1/k and value 0 (the convention for "no links, no utilisation").
//
// The LP is solved in the shifted form: with m_i = min_j B[i][j],
// B'_ij = B_ij − m_i ≥ 0, a'_i = a_i + m_i (equal on the simplex) and
// U = max_i (a_i + max_j B_ij) ≥ optimum, substitute t = U − s with s ≥ 0,
// which gives the rows B'_i·x + s ≤ U − a'_i with non-negative right-hand
// sides, plus Σ_j x_j = 1, minimising −s.
func MinMaxOnSimplexK(k int, a []float64, B [][]float64) (x []float64, value float64, err error) {
	if k < 1 {
		return nil, 0, fmt.Errorf("%w: MinMaxOnSimplexK needs k ≥ 1, got %d", ErrShape, k)
	}
	if len(B) != len(a) {
		return nil, 0, fmt.Errorf("%w: len(B) = %d but len(a) = %d", ErrShape, len(B), len(a))
	}
	if i := nonFinite(a); i >= 0 {
		return nil, 0, fmt.Errorf("%w: a[%d] = %v", ErrNonFinite, i, a[i])
	}
	for i, row := range B {
		if len(row) != k {
			return nil, 0, fmt.Errorf("%w: len(B[%d]) = %d, want %d", ErrShape, i, len(row), k)
		}
		if j := nonFinite(row); j >= 0 {
			return nil, 0, fmt.Errorf("%w: B[%d][%d] = %v", ErrNonFinite, i, j, row[j])
		}
	}
	x = make([]float64, k)
	if len(a) == 0 {
		for j := range x {
			x[j] = 1 / float64(k)
		}
		return x, 0, nil
	}
	if k == 1 {
		x[0] = 1
		return x, evalMax(a, B, x), nil
	}

	m := len(a)
	U := math.Inf(-1)
	shift := make([]float64, 2*m) // a'_i, then m_i
	mins := shift[m:]
	shift = shift[:m]
	for i, row := range B {
		lo, hi := row[0], row[0]
		for _, v := range row[1:] {
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
		mins[i] = lo
		shift[i] = a[i] + lo
		U = math.Max(U, a[i]+hi)
		if math.IsInf(shift[i], 0) || math.IsInf(hi-lo, 0) {
			return nil, 0, fmt.Errorf("%w: row %d overflows (values too large)", ErrNumerical, i)
		}
	}
	if math.IsInf(U, 0) {
		return nil, 0, fmt.Errorf("%w: values too large", ErrNumerical)
	}
	nv := k + 1
	buf := make([]float64, (m+1)*nv+m+nv)
	A := make([][]float64, m)
	for i, row := range B {
		Ai := buf[i*nv : (i+1)*nv : (i+1)*nv]
		lo := mins[i]
		for j, v := range row {
			Ai[j] = v - lo
		}
		Ai[k] = 1
		A[i] = Ai
	}
	eq := buf[m*nv : (m+1)*nv : (m+1)*nv]
	for j := 0; j < k; j++ {
		eq[j] = 1
	}
	b := buf[(m+1)*nv : (m+1)*nv+m]
	for i := range b {
		b[i] = U - shift[i]
		if b[i] < 0 { // only through rounding
			b[i] = 0
		}
		if math.IsInf(b[i], 0) {
			return nil, 0, fmt.Errorf("%w: row %d overflows (values too large)", ErrNumerical, i)
		}
	}
	c := buf[(m+1)*nv+m:]
	c[k] = -1
	sol, _, err := Solve(c, A, b, [][]float64{eq}, []float64{1})
	if err != nil {
		return nil, 0, fmt.Errorf("lp: MinMaxOnSimplex: %w", err)
	}
	sum := 0.0
	for j := 0; j < k; j++ {
		v := sol[j]
		if v < 0 {
			v = 0
		}
		x[j] = v
		sum += v
	}
	if !(sum > 0) {
		return nil, 0, fmt.Errorf("%w: MinMaxOnSimplex: solution sums to %g", ErrNumerical, sum)
	}
	for j := range x {
		x[j] /= sum
	}
	return x, evalMax(a, B, x), nil
}

// evalMax returns max_i (a[i] + B[i]·x).
func evalMax(a []float64, B [][]float64, x []float64) float64 {
	best := math.Inf(-1)
	for i, row := range B {
		v := a[i]
		for j, bij := range row {
			v += bij * x[j]
		}
		best = math.Max(best, v)
	}
	return best
}
