package topology

import (
	"math"
	"slices"
	"strings"
	"testing"
)

const tinyCFRRL = "Node_num: 3\tEdge_num: 4\n" +
	"Link_index\tSource\tDestination\tOSPF\tCapacity(kbps)\n" +
	"0\t0\t1\t100\t1000\n" +
	"2\t1\t2\t200\t2000\n" +
	"1\t1\t0\t100\t1000\n" +
	"3\t2\t1\t200\t2000\n"

func TestReadCFRRLTiny(t *testing.T) {
	g, err := ReadCFRRL(strings.NewReader(tinyCFRRL), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{From: 0, To: 1, Weight: 100, Capacity: 1e6, Delay: 100 * AbileneDelayPerWeight},
		{From: 1, To: 0, Weight: 100, Capacity: 1e6, Delay: 100 * AbileneDelayPerWeight},
		{From: 1, To: 2, Weight: 200, Capacity: 2e6, Delay: 200 * AbileneDelayPerWeight},
		{From: 2, To: 1, Weight: 200, Capacity: 2e6, Delay: 200 * AbileneDelayPerWeight},
	}
	if g.N != 3 || !slices.Equal(g.Links, want) {
		t.Errorf("N = %d, links = %+v", g.N, g.Links)
	}
	if g.Name != "tiny" || g.Info.Source != "cfr-rl" || g.Nodes[2].Label != "2" {
		t.Errorf("name %q, info %+v, nodes %+v", g.Name, g.Info, g.Nodes)
	}
	if !slices.Equal(g.Out(1), []int{1, 2}) || !slices.Equal(g.In(1), []int{0, 3}) {
		t.Errorf("Out(1) = %v, In(1) = %v", g.Out(1), g.In(1))
	}
}

func TestReadCFRRLRelativeUnitsAndCRLF(t *testing.T) {
	in := "Node_num: 2\tEdge_num: 2\r\nLink_index\tSource\tDestination\tWeights\tBandwidth\r\n" +
		"0\t0\t1\t4\t250\r\n\r\n1 1 0  0 500\r\n"
	g, err := ReadCFRRL(strings.NewReader(in), "rf")
	if err != nil {
		t.Fatal(err)
	}
	l0, l1 := g.Links[0], g.Links[1]
	if l0.Capacity != 250*RocketfuelUnit || l0.Delay != 4*RocketfuelDelayPerWeight || l1.Capacity != 10e9 || l1.Delay != MinDelay {
		t.Errorf("links %+v", g.Links)
	}
}

func TestReadCFRRLErrors(t *testing.T) {
	const hdr = "Node_num: 2\tEdge_num: 2\nidx src dst w cap\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "topology: f: empty file"},
		{"bad header", "Nodes: 2 Edges: 2\n", `topology: f:1: header "Nodes: 2 Edges: 2" is not`},
		{"bad node count", "Node_num: x\tEdge_num: 2\n", `topology: f:1: Node_num "x" is not an integer in [1, 100000]`},
		{"zero nodes", "Node_num: 0\tEdge_num: 2\n", "topology: f:1: Node_num"},
		{"huge node count", "Node_num: 100000000\tEdge_num: 2\n", "topology: f:1: Node_num"},
		{"huge edge count", "Node_num: 2\tEdge_num: 99999999999\n", "topology: f:1: Edge_num"},
		{"no column header", "Node_num: 2\tEdge_num: 2\n", "topology: f: no column header line"},
		{"capacity not a number", hdr + "0 0 1 1 abc\n", `topology: f:3: capacity "abc" is not a number`},
		{"NaN capacity", hdr + "0 0 1 1 NaN\n", `topology: f:3: capacity "NaN" is not finite and positive`},
		{"zero capacity", hdr + "0 0 1 1 0\n", `topology: f:3: capacity "0" is not finite and positive`},
		{"infinite capacity", hdr + "0 0 1 1 +Inf\n", `topology: f:3: capacity "+Inf" is not finite and positive`},
		{"huge capacity", hdr + "0 0 1 1 1e307\n", `topology: f:3: capacity "1e307" is too large`},
		{"negative weight", hdr + "0 0 1 -1 5\n", `topology: f:3: weight "-1" is not finite and non-negative`},
		{"weight not a number", hdr + "0 0 1 w 5\n", `topology: f:3: weight "w" is not a number`},
		{"too few fields", hdr + "0 0 1 1\n", "topology: f:3: 4 fields, want 5"},
		{"index not an integer", hdr + "0.5 0 1 1 1\n", `topology: f:3: link index "0.5" is not an integer`},
		{"index out of range", hdr + "2 0 1 1 1\n", "topology: f:3: link index 2 out of range [0, 2)"},
		{"source out of range", hdr + "0 2 1 1 1\n", "topology: f:3: source 2 out of range [0, 2)"},
		{"destination out of range", hdr + "0 0 -1 1 1\n", "topology: f:3: destination -1 out of range [0, 2)"},
		{"self loop", hdr + "0 1 1 1 1\n", "topology: f:3: link 0 is a self loop at node 1"},
		{"too many links", hdr + "0 0 1 1 1\n1 1 0 1 1\n\n1 1 0 1 1\n", "topology: f:6: more links than Edge_num 2"},
		{"too few links", hdr + "0 0 1 1 1\n", "topology: f: 1 links, but the header says Edge_num: 2"},
		{"repeated index", hdr + "0 0 1 1 1\n0 1 0 1 1\n", "topology: f:4: link index 0 repeated (first on line 3)"},
		{"parallel links", hdr + "0 0 1 1 1\n1 0 1 1 1\n", "topology: f:4: second link from 0 to 1 (the first is on line 3)"},
		{"node without link", "Node_num: 3\tEdge_num: 2\nh\n0 0 1 1 1\n1 1 0 1 1\n", "topology: f: node 2 has no link"},
		{"too many nodes for the links", "Node_num: 5\tEdge_num: 2\nh\n0 0 1 1 1\n1 1 0 1 1\n", "topology: f: Node_num 5 but only 2 links"},
		{"not strongly connected", "Node_num: 3\tEdge_num: 2\nh\n0 0 1 1 1\n1 1 2 1 1\n", "topology: f: not strongly connected"},
		{"long line", hdr + strings.Repeat("1", maxLine+1), "topology: f:3: line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ReadCFRRL(strings.NewReader(tc.in), "f")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, %v\nwant error starting %q", g, err, tc.want)
			}
		})
	}
}

func TestCFRRLRealFiles(t *testing.T) {
	for _, tc := range []struct {
		name           string
		nodes, links   int
		minCap, maxCap float64
		medDelayMs     float64
	}{
		{"abilene", 12, 30, 2.48e9, 9.92e9, 4.06},
		{"ebone", 23, 76, 620e6, 10e9, 2},
		{"sprintlink", 44, 166, 640e6, 10e9, 3.5},
		{"tiscali", 49, 172, 500e6, 10e9, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := load(t, tc.name)
			if g.N != tc.nodes || len(g.Links) != tc.links || g.Info.FileEdges != tc.links {
				t.Fatalf("%d nodes, %d links; want %d, %d", g.N, len(g.Links), tc.nodes, tc.links)
			}
			if !g.StronglyConnected() {
				t.Error("not strongly connected")
			}
			caps := make([]float64, len(g.Links))
			delays := make([]float64, len(g.Links))
			for i, l := range g.Links {
				caps[i], delays[i] = l.Capacity, l.Delay
				// Every link has its reverse with the same weight and capacity.
				r := g.Find(l.To, l.From)
				if r < 0 || g.Links[r].Weight != l.Weight || g.Links[r].Capacity != l.Capacity {
					t.Errorf("link %d %+v: reverse %d", i, l, r)
				}
			}
			if slices.Min(caps) != tc.minCap || slices.Max(caps) != tc.maxCap {
				t.Errorf("capacities %v..%v, want %v..%v", slices.Min(caps), slices.Max(caps), tc.minCap, tc.maxCap)
			}
			if med := median(delays) * 1e3; math.Abs(med-tc.medDelayMs) > 0.01 {
				t.Errorf("median delay %.3f ms, want %.3f", med, tc.medDelayMs)
			}
		})
	}
}

// TestAbileneWeightsTrackDistance checks the basis of AbileneDelayPerWeight
// and of the router order: the OSPF weight of each Abilene link is close
// to the great-circle distance between the cities of its routers.
func TestAbileneWeightsTrackDistance(t *testing.T) {
	g := load(t, "abilene")
	city := map[string][2]float64{
		"ATLA": {33.749, -84.388}, "CHIN": {41.878, -87.630}, "DNVR": {39.739, -104.990},
		"HSTN": {29.760, -95.370}, "IPLS": {39.768, -86.158}, "KSCY": {39.100, -94.579},
		"LOSA": {34.052, -118.244}, "NYCM": {40.713, -74.006}, "SNVA": {37.369, -122.036},
		"STTL": {47.606, -122.332}, "WASH": {38.907, -77.037},
	}
	var ratios []float64
	for _, l := range g.Links {
		if l.From > l.To {
			continue
		}
		a, b := city[g.Nodes[l.From].Label[:4]], city[g.Nodes[l.To].Label[:4]]
		km := greatCircle(a[0], a[1], b[0], b[1]) / 1e3
		if km < 1 {
			if l.Weight != 1 {
				t.Errorf("%s–%s: same city, weight %v", g.Nodes[l.From].Label, g.Nodes[l.To].Label, l.Weight)
			}
			continue
		}
		ratios = append(ratios, l.Weight/km)
		if r := l.Weight / km; r < 0.6 || r > 1.3 {
			t.Errorf("%s–%s: weight %v for %.0f km", g.Nodes[l.From].Label, g.Nodes[l.To].Label, l.Weight, km)
		}
	}
	if len(ratios) != 14 {
		t.Fatalf("%d inter-city links", len(ratios))
	}
	med := median(ratios)
	t.Logf("weight/km: median %.3f, range %.2f–%.2f", med, slices.Min(ratios), slices.Max(ratios))
	if math.Abs(med-0.86) > 0.005 {
		t.Errorf("median weight/km %.3f, documented 0.86", med)
	}
	// The delay per weight is that of 1/0.86 km of fibre.
	if got := 1 / 0.86 * 1e3 / FibreSpeed; math.Abs(got-AbileneDelayPerWeight) > 0.02e-6 {
		t.Errorf("AbileneDelayPerWeight %v, 1/0.86 km of fibre is %v", AbileneDelayPerWeight, got)
	}
}
