package topology

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
)

// GML limits: the longest token (string, key or number) and the deepest
// nesting of lists.
const (
	maxGMLToken = 1 << 16
	maxGMLDepth = 64
)

// ReadGML reads an Internet Topology Zoo graph in GML: `graph [ node [ id
// label Latitude Longitude … ] edge [ source target … ] … ]`, keys
// followed by numbers, "strings" or [ lists ]; '#' starts a comment that
// runs to the end of the line. Only the first graph is read, and of it
// only the keys below; others are skipped whatever they hold. name is
// used in errors ("topology: name:line: …") and as the graph's name.
//
// Nodes need an integer id, unique; label (HTML entities decoded),
// Latitude and Longitude (degrees) and hyperedge are optional. Edges need
// a source and a target that are node ids; LinkSpeedRaw (bit/s) is
// optional. Zoo edges are undirected: edges between the same two nodes
// are merged (the merged link gets the largest LinkSpeedRaw of the group),
// self loops are dropped, and each remaining edge becomes two directed
// links, ordered by their endpoints' indices. Only the largest connected
// component is kept (ties: the one with the first node in file order);
// nodes keep their file order. Info counts what was dropped or merged.
//
// Capacities are LinkSpeedRaw, or DefaultCapacity. Delays are the
// great-circle distance between the endpoints at FibreSpeed (at least
// MinDelay); links with an endpoint lacking coordinates get the median
// delay of the links that have them, or DefaultDelay if none has. Weights
// are 1.
//
// At most MaxNodes nodes and MaxLinks edges are accepted; strings and
// numbers are limited to 64 KiB and lists nest at most 64 deep.
func ReadGML(r io.Reader, name string) (*Graph, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3) // a UTF-8 byte order mark
	}
	p := &gmlParser{lx: gmlLexer{r: br, name: name, line: 1}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return buildZoo(name, p.nodes, p.edges)
}

type gmlKind uint8

const (
	gmlEOF gmlKind = iota
	gmlKey
	gmlNum
	gmlStr
	gmlOpen
	gmlClose
)

func (k gmlKind) String() string {
	return [...]string{"end of file", "key", "number", "string", "[", "]"}[k]
}

type gmlToken struct {
	kind gmlKind
	text string  // key or string
	num  float64 // number
	line int
}

type gmlLexer struct {
	r    *bufio.Reader
	name string
	line int
	buf  []byte
}

func (lx *gmlLexer) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("topology: %s:%d: %s", lx.name, line, fmt.Sprintf(format, args...))
}

func (lx *gmlLexer) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("topology: %s:%d: %w", lx.name, lx.line, err)
}

func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isKeyByte(c byte) bool { return isKeyStart(c) || c >= '0' && c <= '9' }

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}

// next returns the next token.
func (lx *gmlLexer) next() (gmlToken, error) {
	// Skip white space and comments.
	var c byte
	for {
		b, err := lx.r.ReadByte()
		if err != nil {
			if err := lx.readErr(err); err != nil {
				return gmlToken{}, err
			}
			return gmlToken{kind: gmlEOF, line: lx.line}, nil
		}
		switch b {
		case '\n':
			lx.line++
			continue
		case ' ', '\t', '\r', '\f', '\v':
			continue
		case '#':
			for {
				b, err := lx.r.ReadByte()
				if err != nil {
					if err := lx.readErr(err); err != nil {
						return gmlToken{}, err
					}
					return gmlToken{kind: gmlEOF, line: lx.line}, nil
				}
				if b == '\n' {
					lx.line++
					break
				}
			}
			continue
		}
		c = b
		break
	}
	line := lx.line
	switch {
	case c == '[':
		return gmlToken{kind: gmlOpen, line: line}, nil
	case c == ']':
		return gmlToken{kind: gmlClose, line: line}, nil
	case c == '"':
		lx.buf = lx.buf[:0]
		for {
			b, err := lx.r.ReadByte()
			if err != nil {
				if err := lx.readErr(err); err != nil {
					return gmlToken{}, err
				}
				return gmlToken{}, lx.errorf(line, "string not closed")
			}
			if b == '"' {
				break
			}
			if b == '\n' {
				lx.line++
			}
			if len(lx.buf) == maxGMLToken {
				return gmlToken{}, lx.errorf(line, "string longer than %d bytes", maxGMLToken)
			}
			lx.buf = append(lx.buf, b)
		}
		return gmlToken{kind: gmlStr, text: string(lx.buf), line: line}, nil
	case isKeyStart(c), isNumByte(c):
		key := isKeyStart(c)
		lx.buf = append(lx.buf[:0], c)
		for {
			b, err := lx.r.ReadByte()
			if err != nil {
				if err := lx.readErr(err); err != nil {
					return gmlToken{}, err
				}
				break
			}
			if key && !isKeyByte(b) || !key && !isNumByte(b) {
				_ = lx.r.UnreadByte() // cannot fail after ReadByte
				break
			}
			if len(lx.buf) == maxGMLToken {
				return gmlToken{}, lx.errorf(line, "token longer than %d bytes", maxGMLToken)
			}
			lx.buf = append(lx.buf, b)
		}
		if key {
			return gmlToken{kind: gmlKey, text: string(lx.buf), line: line}, nil
		}
		v, err := strconv.ParseFloat(string(lx.buf), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return gmlToken{}, lx.errorf(line, "%.40q is not a number", lx.buf)
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return gmlToken{}, lx.errorf(line, "number %.40q out of range", lx.buf)
		}
		return gmlToken{kind: gmlNum, num: v, line: line}, nil
	default:
		return gmlToken{}, lx.errorf(line, "unexpected character %q", c)
	}
}

type gmlNode struct {
	id             int64
	hasID          bool
	label          string
	lat, lon       float64
	hasLat, hasLon bool
	hyperedge      bool
	line           int
}

type gmlEdge struct {
	src, tgt       int64
	hasSrc, hasTgt bool
	speed          float64
	hasSpeed       bool
	line           int
}

type gmlParser struct {
	lx    gmlLexer
	nodes []gmlNode
	edges []gmlEdge
}

// parse reads the whole file, keeping the nodes and edges of the first
// top-level graph.
func (p *gmlParser) parse() error {
	found := false
	for {
		k, err := p.lx.next()
		if err != nil {
			return err
		}
		if k.kind == gmlEOF {
			break
		}
		if k.kind != gmlKey {
			return p.lx.errorf(k.line, "%s where a key was expected", k.kind)
		}
		v, err := p.lx.next()
		if err != nil {
			return err
		}
		if k.text == "graph" && v.kind == gmlOpen && !found {
			found = true
			if err := p.list(v.line, 1, p.graphPair); err != nil {
				return err
			}
			continue
		}
		if err := p.skip(k, v, 0); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("topology: %s: no graph [ … ] in the file", p.lx.name)
	}
	return nil
}

// list reads the key-value pairs of a list whose '[' is on line open, up
// to its ']', passing each to pair.
func (p *gmlParser) list(open, depth int, pair func(k, v gmlToken, depth int) error) error {
	if depth > maxGMLDepth {
		return p.lx.errorf(open, "lists nested more than %d deep", maxGMLDepth)
	}
	for {
		k, err := p.lx.next()
		if err != nil {
			return err
		}
		switch k.kind {
		case gmlClose:
			return nil
		case gmlEOF:
			return p.lx.errorf(open, "[ not closed")
		case gmlKey:
		default:
			return p.lx.errorf(k.line, "%s where a key was expected", k.kind)
		}
		v, err := p.lx.next()
		if err != nil {
			return err
		}
		if err := pair(k, v, depth); err != nil {
			return err
		}
	}
}

// skip checks and drops the value v of key k.
func (p *gmlParser) skip(k, v gmlToken, depth int) error {
	switch v.kind {
	case gmlNum, gmlStr:
		return nil
	case gmlOpen:
		return p.list(v.line, depth+1, p.skip)
	default:
		return p.lx.errorf(v.line, "key %.40s has no value (found %s)", k.text, v.kind)
	}
}

func (p *gmlParser) graphPair(k, v gmlToken, depth int) error {
	switch {
	case k.text == "node" && v.kind == gmlOpen:
		if len(p.nodes) == MaxNodes {
			return p.lx.errorf(k.line, "more than %d nodes", MaxNodes)
		}
		p.nodes = append(p.nodes, gmlNode{line: k.line})
		return p.list(v.line, depth+1, p.nodePair)
	case k.text == "edge" && v.kind == gmlOpen:
		if len(p.edges) == MaxLinks {
			return p.lx.errorf(k.line, "more than %d edges", MaxLinks)
		}
		p.edges = append(p.edges, gmlEdge{line: k.line})
		return p.list(v.line, depth+1, p.edgePair)
	}
	return p.skip(k, v, depth)
}

// number returns v's value, or an error naming the key if v is not a
// number.
func (p *gmlParser) number(k, v gmlToken) (float64, error) {
	if v.kind != gmlNum {
		return 0, p.lx.errorf(v.line, "%s is a %s, not a number", k.text, v.kind)
	}
	return v.num, nil
}

// integer returns v's value as an integer.
func (p *gmlParser) integer(k, v gmlToken) (int64, error) {
	x, err := p.number(k, v)
	if err != nil {
		return 0, err
	}
	if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return 0, p.lx.errorf(v.line, "%s %v is not an integer", k.text, x)
	}
	return int64(x), nil
}

func (p *gmlParser) nodePair(k, v gmlToken, depth int) error {
	nd := &p.nodes[len(p.nodes)-1]
	var err error
	switch k.text {
	case "id":
		if nd.hasID {
			return p.lx.errorf(k.line, "node has a second id")
		}
		nd.id, err = p.integer(k, v)
		nd.hasID = true
	case "label":
		switch v.kind {
		case gmlStr:
			nd.label = html.UnescapeString(v.text)
		case gmlNum:
			nd.label = strconv.FormatFloat(v.num, 'g', -1, 64)
		default:
			return p.lx.errorf(v.line, "label is a %s, not a string", v.kind)
		}
	case "Latitude":
		nd.lat, err = p.number(k, v)
		if err == nil && !(nd.lat >= -90 && nd.lat <= 90) {
			err = p.lx.errorf(v.line, "Latitude %v out of [-90, 90]", nd.lat)
		}
		nd.hasLat = true
	case "Longitude":
		nd.lon, err = p.number(k, v)
		if err == nil && !(nd.lon >= -180 && nd.lon <= 180) {
			err = p.lx.errorf(v.line, "Longitude %v out of [-180, 180]", nd.lon)
		}
		nd.hasLon = true
	case "hyperedge":
		var x float64
		x, err = p.number(k, v)
		nd.hyperedge = x != 0
	default:
		return p.skip(k, v, depth)
	}
	return err
}

func (p *gmlParser) edgePair(k, v gmlToken, depth int) error {
	ed := &p.edges[len(p.edges)-1]
	var err error
	switch k.text {
	case "source":
		if ed.hasSrc {
			return p.lx.errorf(k.line, "edge has a second source")
		}
		ed.src, err = p.integer(k, v)
		ed.hasSrc = true
	case "target":
		if ed.hasTgt {
			return p.lx.errorf(k.line, "edge has a second target")
		}
		ed.tgt, err = p.integer(k, v)
		ed.hasTgt = true
	case "LinkSpeedRaw":
		ed.speed, err = p.number(k, v)
		if err == nil && !(ed.speed > 0) {
			err = p.lx.errorf(v.line, "LinkSpeedRaw %v is not positive", ed.speed)
		}
		ed.hasSpeed = true
	default:
		return p.skip(k, v, depth)
	}
	return err
}

// buildZoo turns the parsed nodes and edges into a graph; see ReadGML.
func buildZoo(name string, nodes []gmlNode, edges []gmlEdge) (*Graph, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("topology: %s: the graph has no nodes", name)
	}
	index := make(map[int64]int, len(nodes))
	for i, nd := range nodes {
		if !nd.hasID {
			return nil, fmt.Errorf("topology: %s:%d: node without id", name, nd.line)
		}
		if j, dup := index[nd.id]; dup {
			return nil, fmt.Errorf("topology: %s:%d: node id %d repeated (first on line %d)", name, nd.line, nd.id, nodes[j].line)
		}
		index[nd.id] = i
	}

	type group struct {
		a, b     int // a < b
		speed    float64
		hasSpeed bool
	}
	var groups []group
	byPair := make(map[[2]int]int)
	info := Info{Source: "topologyzoo", FileNodes: len(nodes), FileEdges: len(edges)}
	for _, ed := range edges {
		if !ed.hasSrc || !ed.hasTgt {
			return nil, fmt.Errorf("topology: %s:%d: edge without source or target", name, ed.line)
		}
		a, ok := index[ed.src]
		if !ok {
			return nil, fmt.Errorf("topology: %s:%d: edge source %d is not a node id", name, ed.line, ed.src)
		}
		b, ok := index[ed.tgt]
		if !ok {
			return nil, fmt.Errorf("topology: %s:%d: edge target %d is not a node id", name, ed.line, ed.tgt)
		}
		if a == b {
			info.SelfLoops++
			continue
		}
		if a > b {
			a, b = b, a
		}
		gi, ok := byPair[[2]int{a, b}]
		if !ok {
			gi = len(groups)
			byPair[[2]int{a, b}] = gi
			groups = append(groups, group{a: a, b: b})
		} else {
			info.MergedEdges++
		}
		if g := &groups[gi]; ed.hasSpeed && (!g.hasSpeed || ed.speed > g.speed) {
			g.speed, g.hasSpeed = ed.speed, true
		}
	}

	// Largest connected component (union-find).
	parent := make([]int, len(nodes))
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, g := range groups {
		if ra, rb := find(g.a), find(g.b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	size := make([]int, len(nodes))
	best := -1
	for i := range nodes {
		r := find(i)
		size[r]++
		if best < 0 || size[r] > size[best] || size[r] == size[best] && r < best {
			best = r
		}
	}
	newIndex := make([]int, len(nodes))
	var kept []Node
	for i, nd := range nodes {
		if find(i) != best {
			newIndex[i] = -1
			info.DroppedNodes++
			continue
		}
		newIndex[i] = len(kept)
		n := Node{Label: nd.label, ID: nd.id, Hyperedge: nd.hyperedge}
		if nd.hasLat && nd.hasLon {
			n.Lat, n.Lon, n.Geo = nd.lat, nd.lon, true
		} else {
			info.NoCoords++
		}
		kept = append(kept, n)
	}

	type undirected struct {
		a, b            int
		capacity, delay float64
	}
	var und []undirected
	var known []float64
	for _, g := range groups {
		a, b := newIndex[g.a], newIndex[g.b]
		if a < 0 {
			continue
		}
		if a > b {
			a, b = b, a
		}
		u := undirected{a: a, b: b, capacity: g.speed, delay: math.NaN()}
		if !g.hasSpeed {
			u.capacity = DefaultCapacity
			info.DefaultCapacities++
		}
		if na, nb := kept[a], kept[b]; na.Geo && nb.Geo {
			u.delay = fibreDelay(greatCircle(na.Lat, na.Lon, nb.Lat, nb.Lon))
			known = append(known, u.delay)
		}
		und = append(und, u)
	}
	fallback := DefaultDelay
	if len(known) > 0 {
		fallback = median(known)
	}
	slices.SortFunc(und, func(x, y undirected) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	links := make([]Link, 0, 2*len(und))
	for _, u := range und {
		if math.IsNaN(u.delay) {
			u.delay = fallback
			info.FallbackDelays++
		}
		links = append(links,
			Link{From: u.a, To: u.b, Capacity: u.capacity, Delay: u.delay, Weight: 1},
			Link{From: u.b, To: u.a, Capacity: u.capacity, Delay: u.delay, Weight: 1})
	}
	g, err := New(name, kept, links)
	if err != nil {
		return nil, err
	}
	g.Info = info
	return g, nil
}

// median returns the median of xs (the mean of the two middle values for
// an even count); it sorts xs.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
