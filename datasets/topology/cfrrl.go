package topology

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Mappings of the CFR-RL files to physical units; see the package
// documentation.
const (
	// KbpsUnit is the capacity unit of files whose capacity column says
	// kbps (Abilene): 1 kbit/s.
	KbpsUnit = 1e3
	// RocketfuelUnit is the capacity, in bits per second, of one relative
	// bandwidth unit of the CFR-RL Rocketfuel files (Ebone, Sprintlink,
	// Tiscali), whose bandwidth is ⌊1000/weight⌋: 20 Mbit/s, so that their
	// largest class (500) is 10 Gbit/s like Abilene's backbone.
	RocketfuelUnit = 20e6
	// AbileneDelayPerWeight is the propagation delay per unit of OSPF
	// weight in kbps-style (Abilene) files, in seconds: the weights are
	// about 0.86 × the great-circle distance in km between the routers'
	// cities (median over the 14 inter-city links, range 0.61–1.28), so
	// one unit is 1/0.86 ≈ 1.16 km of fibre at 2×10⁸ m/s.
	AbileneDelayPerWeight = 5.8e-6
	// RocketfuelDelayPerWeight is the propagation delay per unit of OSPF
	// weight in the Rocketfuel files, in seconds: 0.5 ms, so that the
	// typical link (weight 4) has 2 ms and the range is 1–19.5 ms.
	RocketfuelDelayPerWeight = 0.5e-3
)

// maxLine bounds the length of a line of a text file.
const maxLine = 1 << 20

// ReadCFRRL reads a topology in the text format of the CFR-RL repository:
// a header line "Node_num: N<TAB>Edge_num: E", a column header line, then
// one directed link per line: index, source, destination, OSPF weight,
// capacity, separated by white space. Blank lines are ignored and CRLF
// line ends accepted. Link indices must be 0..E-1, each once; links are
// stored at their index.
//
// If the column header mentions kbps, capacities are in kbit/s and delays
// are weight × AbileneDelayPerWeight; otherwise capacities are relative
// units × RocketfuelUnit and delays weight × RocketfuelDelayPerWeight
// (both at least MinDelay). Nodes are labelled by their index.
//
// The file must have exactly E links; node indices in [0, N); no self
// loop, no two links with the same source and destination; finite
// weights ≥ 0 and capacities > 0; every node on some link and the graph
// strongly connected. Errors name the file (name) and the line.
func ReadCFRRL(r io.Reader, name string) (*Graph, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	line := 0
	errf := func(format string, args ...any) error {
		return fmt.Errorf("topology: %s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	scanErr := func() error {
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return fmt.Errorf("topology: %s:%d: line longer than %d bytes", name, line+1, maxLine)
			}
			return fmt.Errorf("topology: %s: %w", name, err)
		}
		return nil
	}

	// Header.
	if !sc.Scan() {
		if err := scanErr(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("topology: %s: empty file", name)
	}
	line++
	hdr := strings.FieldsFunc(sc.Text(), func(r rune) bool { return r == ':' || unicode.IsSpace(r) })
	if len(hdr) != 4 || hdr[0] != "Node_num" || hdr[2] != "Edge_num" {
		return nil, errf("header %.80q is not \"Node_num: N<TAB>Edge_num: E\"", sc.Text())
	}
	n, err := strconv.Atoi(hdr[1])
	if err != nil || n < 1 || n > MaxNodes {
		return nil, errf("Node_num %.20q is not an integer in [1, %d]", hdr[1], MaxNodes)
	}
	e, err := strconv.Atoi(hdr[3])
	if err != nil || e < 0 || e > MaxLinks {
		return nil, errf("Edge_num %.20q is not an integer in [0, %d]", hdr[3], MaxLinks)
	}
	if !sc.Scan() {
		if err := scanErr(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("topology: %s: no column header line", name)
	}
	line++
	kbps := strings.Contains(strings.ToLower(sc.Text()), "kbps")
	capUnit, delayPerWeight := RocketfuelUnit, RocketfuelDelayPerWeight
	if kbps {
		capUnit, delayPerWeight = KbpsUnit, AbileneDelayPerWeight
	}

	type rec struct {
		idx, line int
		l         Link
	}
	var recs []rec
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(recs) == e {
			return nil, errf("more links than Edge_num %d", e)
		}
		if len(f) != 5 {
			return nil, errf("%d fields, want 5 (index source destination weight capacity)", len(f))
		}
		var ints [3]int
		for i, what := range [3]string{"link index", "source", "destination"} {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				return nil, errf("%s %.20q is not an integer", what, f[i])
			}
			ints[i] = v
		}
		idx, s, d := ints[0], ints[1], ints[2]
		if idx < 0 || idx >= e {
			return nil, errf("link index %d out of range [0, %d)", idx, e)
		}
		if s < 0 || s >= n {
			return nil, errf("source %d out of range [0, %d)", s, n)
		}
		if d < 0 || d >= n {
			return nil, errf("destination %d out of range [0, %d)", d, n)
		}
		if s == d {
			return nil, errf("link %d is a self loop at node %d", idx, s)
		}
		w, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, errf("weight %.20q is not a number", f[3])
		}
		if !(w >= 0) || math.IsInf(w, 1) {
			return nil, errf("weight %.20q is not finite and non-negative", f[3])
		}
		c, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			return nil, errf("capacity %.20q is not a number", f[4])
		}
		if !(c > 0) || math.IsInf(c, 1) {
			return nil, errf("capacity %.20q is not finite and positive", f[4])
		}
		if math.IsInf(c*capUnit, 1) {
			return nil, errf("capacity %.20q is too large", f[4])
		}
		recs = append(recs, rec{idx: idx, line: line, l: Link{
			From: s, To: d, Weight: w,
			Capacity: c * capUnit,
			Delay:    max(w*delayPerWeight, MinDelay),
		}})
	}
	if err := scanErr(); err != nil {
		return nil, err
	}
	if len(recs) != e {
		return nil, fmt.Errorf("topology: %s: %d links, but the header says Edge_num: %d", name, len(recs), e)
	}
	if n > 2*e && n > 1 {
		return nil, fmt.Errorf("topology: %s: Node_num %d but only %d links: some nodes have no link", name, n, e)
	}

	links := make([]Link, e)
	at := make([]int, e) // line of the link at each index, 0 if none yet
	pairs := make(map[[2]int]int, e)
	for _, r := range recs {
		line = r.line
		if at[r.idx] != 0 {
			return nil, errf("link index %d repeated (first on line %d)", r.idx, at[r.idx])
		}
		at[r.idx] = r.line
		key := [2]int{r.l.From, r.l.To}
		if prev, ok := pairs[key]; ok {
			return nil, errf("second link from %d to %d (the first is on line %d)", r.l.From, r.l.To, prev)
		}
		pairs[key] = r.line
		links[r.idx] = r.l
	}
	nodes := make([]Node, n)
	used := make([]bool, n)
	for _, l := range links {
		used[l.From], used[l.To] = true, true
	}
	for i := range nodes {
		if !used[i] && n > 1 {
			return nil, fmt.Errorf("topology: %s: node %d has no link", name, i)
		}
		nodes[i] = Node{Label: strconv.Itoa(i), ID: int64(i)}
	}
	g, err := New(name, nodes, links)
	if err != nil {
		return nil, err
	}
	if v := g.unreachable(); v >= 0 {
		return nil, fmt.Errorf("topology: %s: not strongly connected: node %d and node 0 cannot both reach each other", name, v)
	}
	g.Info = Info{Source: "cfr-rl", FileNodes: n, FileEdges: e}
	return g, nil
}
