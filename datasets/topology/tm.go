package topology

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// AbileneTMUnit is the value, in bits per second, of one unit of the
// CFR-RL Abilene traffic matrices: 100 bytes per 5-minute interval
// (CFR-RL's env.py turns them into kbit/s as value × 100 × 8 / 300 /
// 1000).
const AbileneTMUnit = 100 * 8 / 300.0

// Limits of ReadTM: the longest line and the most nodes.
const (
	maxTMLine  = 16 << 20
	maxTMNodes = 1024
)

// TrafficMatrices is a series of traffic matrices over the same N nodes.
type TrafficMatrices struct {
	// Name is the file's name.
	Name string
	// N is the number of nodes.
	N int
	// M holds the matrices in file order, each row-major: M[t][i*N+j] is
	// the demand from node i to node j at step t, in the file's units.
	M [][]float64
	// Unit is the value of one file unit in bits per second.
	Unit float64
}

// Len returns the number of matrices.
func (tm *TrafficMatrices) Len() int { return len(tm.M) }

// Demands returns matrix t as N rows of N demands in bits per second,
// the diagonal (traffic of a node to itself) set to zero as CFR-RL does.
func (tm *TrafficMatrices) Demands(t int) [][]float64 {
	d := make([][]float64, tm.N)
	for i := range d {
		d[i] = make([]float64, tm.N)
		for j := range d[i] {
			if i != j {
				d[i][j] = tm.M[t][i*tm.N+j] * tm.Unit
			}
		}
	}
	return d
}

// ReadTM reads traffic matrices in the CFR-RL format: one matrix per
// line, N×N values (row-major, demand from i to j) separated by white
// space. N is taken from the first line, whose count of values must be a
// perfect square (N ≤ 1024); every line must have the same count. Values
// must be finite and non-negative. Blank lines are allowed only at the
// end. Unit is set to 1 (the units are the caller's to know). Errors name
// the file (name) and the line.
func ReadTM(r io.Reader, name string) (*TrafficMatrices, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTMLine)
	tm := &TrafficMatrices{Name: name, Unit: 1}
	line, blank := 0, 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			if blank == 0 {
				blank = line
			}
			continue
		}
		if blank != 0 {
			return nil, fmt.Errorf("topology: %s:%d: blank line inside the matrices", name, blank)
		}
		want := tm.N * tm.N
		if tm.N == 0 {
			want = 0
		}
		row := make([]float64, 0, max(want, 16))
		for k, i := 0, 0; ; k++ {
			for i < len(b) && isSpace(b[i]) {
				i++
			}
			if i == len(b) {
				break
			}
			start := i
			for i < len(b) && !isSpace(b[i]) {
				i++
			}
			tok := b[start:i]
			if want > 0 && len(row) == want {
				return nil, fmt.Errorf("topology: %s:%d: more than %d values (%d×%d)", name, line, want, tm.N, tm.N)
			}
			if want == 0 && len(row) == maxTMNodes*maxTMNodes {
				return nil, fmt.Errorf("topology: %s:%d: more than %d values (%d×%d)", name, line, len(row), maxTMNodes, maxTMNodes)
			}
			v, err := strconv.ParseFloat(string(tok), 64)
			if err != nil {
				return nil, fmt.Errorf("topology: %s:%d: value %d %.20q is not a number", name, line, k+1, tok)
			}
			if !(v >= 0) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("topology: %s:%d: value %d %.20q is not finite and non-negative", name, line, k+1, tok)
			}
			row = append(row, v)
		}
		if tm.N == 0 {
			n := int(math.Sqrt(float64(len(row))))
			for n*n < len(row) {
				n++
			}
			for n*n > len(row) {
				n--
			}
			if n*n != len(row) || n > maxTMNodes {
				return nil, fmt.Errorf("topology: %s:%d: %d values is not N×N for an N in [1, %d]", name, line, len(row), maxTMNodes)
			}
			tm.N = n
		} else if len(row) != want {
			return nil, fmt.Errorf("topology: %s:%d: %d values, want %d (%d×%d)", name, line, len(row), want, tm.N, tm.N)
		}
		tm.M = append(tm.M, row)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("topology: %s:%d: line longer than %d bytes", name, line+1, maxTMLine)
		}
		return nil, fmt.Errorf("topology: %s: %w", name, err)
	}
	if len(tm.M) == 0 {
		return nil, fmt.Errorf("topology: %s: no traffic matrix", name)
	}
	return tm, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}
