package topology

import (
	"math"
	"strings"
	"testing"
)

// tinyGML has: a parallel edge (0–1 twice, one with a speed), a self loop,
// a node without coordinates (3), a separate component (7–8), a comment,
// skipped keys holding nested lists, HTML entities and a number label.
const tinyGML = `Creator "test"
# a comment [ with brackets ]
graph [
  directed 0
  Custom [ a 1 b [ c "x" ] ]
  node [ id 0 label "A&amp;B" Latitude 0 Longitude 0 ]
  node [ id 1 label "B" Latitude 0 Longitude 1 graphics [ x 1.5 y -2e3 ] ]
  node [ id 2 label "C"
         Latitude 1.0 Longitude 1 ]
  node [ id 3 label "no coordinates" Latitude 5 ]
  node [ id 7 label 42 ]
  node [ id 8 label "H" hyperedge 1 ]
  edge [ source 0 target 1 ]
  edge [ source 1 target 0 LinkSpeedRaw 1e9 LinkLabel "1G" ]
  edge [ source 2 target 1 ]
  edge [ source 2 target 2 ]
  edge [ source 3 target 0 ]
  edge [ source 7 target 8 ]
]
graph [ node [ id 100 ] ]
`

func TestReadGMLTiny(t *testing.T) {
	g, err := ReadGML(strings.NewReader(tinyGML), "tiny.gml")
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 4 || len(g.Links) != 6 {
		t.Fatalf("%d nodes, %d links: %+v", g.N, len(g.Links), g.Links)
	}
	wantInfo := Info{Source: "topologyzoo", FileNodes: 6, FileEdges: 6, DroppedNodes: 2, MergedEdges: 1, SelfLoops: 1, NoCoords: 1, FallbackDelays: 1, DefaultCapacities: 2}
	if g.Info != wantInfo {
		t.Errorf("info %+v\nwant %+v", g.Info, wantInfo)
	}
	if n := g.Nodes[0]; n.Label != "A&B" || !n.Geo || n.ID != 0 {
		t.Errorf("node 0 %+v", n)
	}
	if n := g.Nodes[3]; n.Label != "no coordinates" || n.Geo || n.ID != 3 {
		t.Errorf("node 3 %+v", n)
	}
	// 1° of longitude at the equator and 1° of latitude.
	deg := EarthRadius * math.Pi / 180 / FibreSpeed
	for i, w := range []struct {
		from, to int
		capacity float64
		delay    float64
	}{
		{0, 1, 1e9, deg},
		{1, 0, 1e9, deg},
		{0, 3, DefaultCapacity, deg}, // the median of the two known delays
		{3, 0, DefaultCapacity, deg},
		{1, 2, DefaultCapacity, deg},
		{2, 1, DefaultCapacity, deg},
	} {
		l := g.Links[i]
		if l.From != w.from || l.To != w.to || l.Capacity != w.capacity || math.Abs(l.Delay-w.delay) > 1e-12 || l.Weight != 1 {
			t.Errorf("link %d: %+v, want %d→%d capacity %v delay %v", i, l, w.from, w.to, w.capacity, w.delay)
		}
	}
}

func TestReadGMLKeepsFirstOfEqualComponents(t *testing.T) {
	in := `graph [ node [ id 5 ] node [ id 6 ] node [ id 1 ] node [ id 2 ]
	edge [ source 1 target 2 ] edge [ source 5 target 6 ] ]`
	g, err := ReadGML(strings.NewReader(in), "eq")
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 2 || g.Nodes[0].ID != 5 || g.Nodes[1].ID != 6 || g.Info.DroppedNodes != 2 {
		t.Errorf("nodes %+v, info %+v", g.Nodes, g.Info)
	}
	if g.Links[0].Delay != DefaultDelay {
		t.Errorf("delay %v, want DefaultDelay", g.Links[0].Delay)
	}
	one, err := ReadGML(strings.NewReader("\ufeffgraph [ node [ id 1 ] ]"), "one")
	if err != nil || one.N != 1 || len(one.Links) != 0 {
		t.Errorf("single node: %v, %v", one, err)
	}
}

func TestReadGMLErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "topology: f: no graph [ … ] in the file"},
		{"no graph", `Creator "x"`, "topology: f: no graph"},
		{"graph not a list", `graph 1`, "topology: f: no graph"},
		{"no nodes", "graph [ ]", "topology: f: the graph has no nodes"},
		{"unclosed list", "graph [\n node [ id 1 ]\n", "topology: f:1: [ not closed"},
		{"unclosed string", "graph [\n node [ label \"x ]\n]\n", "topology: f:2: string not closed"},
		{"stray close", "]", "topology: f:1: ] where a key was expected"},
		{"value without key", "graph [ 5 ]", "topology: f:1: number where a key was expected"},
		{"key without value", "graph [ node ]", "topology: f:1: key node has no value (found ])"},
		{"bad number", "graph [ x 1-2 ]", `topology: f:1: "1-2" is not a number`},
		{"huge number", "graph [ x 1e999 ]", `topology: f:1: number "1e999" out of range`},
		{"bad character", "graph [ x @ ]", "topology: f:1: unexpected character '@'"},
		{"node without id", "graph [\nnode [ label \"a\" ]\n]", "topology: f:2: node without id"},
		{"id not a number", "graph [ node [ id \"a\" ] ]", "topology: f:1: id is a string, not a number"},
		{"id not an integer", "graph [ node [ id 1.5 ] ]", "topology: f:1: id 1.5 is not an integer"},
		{"two ids", "graph [ node [ id 1 id 2 ] ]", "topology: f:1: node has a second id"},
		{"repeated id", "graph [\nnode [ id 1 ]\nnode [ id 1 ]\n]", "topology: f:3: node id 1 repeated (first on line 2)"},
		{"label a list", "graph [ node [ id 1 label [ ] ] ]", "topology: f:1: label is a [, not a string"},
		{"latitude out of range", "graph [ node [ id 1 Latitude 91 ] ]", "topology: f:1: Latitude 91 out of [-90, 90]"},
		{"longitude out of range", "graph [ node [ id 1 Longitude -181 ] ]", "topology: f:1: Longitude -181 out of [-180, 180]"},
		{"edge without target", "graph [ node [ id 1 ]\n edge [ source 1 ] ]", "topology: f:2: edge without source or target"},
		{"unknown source", "graph [ node [ id 1 ]\n edge [ source 2 target 1 ] ]", "topology: f:2: edge source 2 is not a node id"},
		{"unknown target", "graph [ node [ id 1 ]\n edge [ source 1 target 3 ] ]", "topology: f:2: edge target 3 is not a node id"},
		{"two sources", "graph [ edge [ source 1 source 2 ] ]", "topology: f:1: edge has a second source"},
		{"zero speed", "graph [ edge [ LinkSpeedRaw 0 ] ]", "topology: f:1: LinkSpeedRaw 0 is not positive"},
		{"deep nesting", "graph [ x " + strings.Repeat("[ x ", 100), "topology: f:1: lists nested more than 64 deep"},
		{"long string", "graph [ x \"" + strings.Repeat("a", maxGMLToken+1) + "\" ]", "topology: f:1: string longer than"},
		{"long key", "graph [ " + strings.Repeat("a", maxGMLToken+1) + " 1 ]", "topology: f:1: token longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ReadGML(strings.NewReader(tc.in), "f")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, %v\nwant error starting %q", g, err, tc.want)
			}
		})
	}
}

func TestReadGMLNodeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("graph [\n")
	for range MaxNodes + 1 {
		b.WriteString("node [ ]\n")
	}
	b.WriteString("]\n")
	_, err := ReadGML(strings.NewReader(b.String()), "f")
	if err == nil || !strings.Contains(err.Error(), "topology: f:100002: more than 100000 nodes") {
		t.Errorf("err = %v", err)
	}
}

func TestZooRealFiles(t *testing.T) {
	for _, tc := range []struct {
		name                               string
		nodes, edges, links                int
		merged, noCoords, fallback, hypers int
	}{
		{"uscarrier", 158, 189, 378, 0, 6, 18, 6},
		{"kdl", 754, 899, 1790, 4, 28, 76, 28},
		{"internet2", 20, 26, 52, 0, 20, 26, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := load(t, tc.name)
			hypers := 0
			for _, n := range g.Nodes {
				if n.Hyperedge {
					hypers++
				}
			}
			in := g.Info
			if g.N != tc.nodes || in.FileNodes != tc.nodes || in.FileEdges != tc.edges || len(g.Links) != tc.links ||
				in.DroppedNodes != 0 || in.MergedEdges != tc.merged || in.SelfLoops != 0 || in.NoCoords != tc.noCoords ||
				in.FallbackDelays != tc.fallback || in.DefaultCapacities != tc.links/2 || hypers != tc.hypers {
				t.Errorf("%d nodes, %d links, %d hyperedge nodes, info %+v", g.N, len(g.Links), hypers, in)
			}
			if !g.StronglyConnected() {
				t.Error("not strongly connected")
			}
			for i, l := range g.Links {
				if l.Capacity != DefaultCapacity || l.Delay < MinDelay || l.Delay > 0.02 {
					t.Errorf("link %d: %+v", i, l)
				}
			}
		})
	}
	g := load(t, "uscarrier")
	if n := g.Nodes[0]; n.Label != "Orangeburg" || n.Lat != 33.49182 || n.Lon != -80.85565 {
		t.Errorf("UsCarrier node 0: %+v", n)
	}
}
