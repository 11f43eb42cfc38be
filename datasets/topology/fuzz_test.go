package topology

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// addRealSeeds adds the first maxBytes of each file (under topologies/)
// as seeds when CPNTRAIN_DATA is set.
func addRealSeeds(f *testing.F, maxBytes int, rels ...string) {
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		return
	}
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(root, DirName, filepath.FromSlash(rel)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), maxBytes)])
	}
}

// checkGraph checks the invariants of a graph a reader returned, and runs
// a path query on it.
func checkGraph(t *testing.T, g *Graph) {
	t.Helper()
	if g.N != len(g.Nodes) || g.N < 1 || g.N > MaxNodes || len(g.Links) > 2*MaxLinks {
		t.Fatalf("N = %d, %d nodes, %d links", g.N, len(g.Nodes), len(g.Links))
	}
	for i, l := range g.Links {
		if l.From < 0 || l.From >= g.N || l.To < 0 || l.To >= g.N || l.From == l.To ||
			!(l.Capacity > 0) || math.IsInf(l.Capacity, 1) || !(l.Delay >= MinDelay) || math.IsInf(l.Delay, 1) ||
			!(l.Weight >= 0) || math.IsInf(l.Weight, 1) {
			t.Fatalf("link %d: %+v", i, l)
		}
	}
	if !g.StronglyConnected() {
		t.Fatal("not strongly connected")
	}
	if g.N > 1 {
		paths := g.KShortestPaths(0, g.N-1, 3, DelayCost)
		if len(paths) == 0 {
			t.Fatal("no path from 0 to N-1")
		}
		if h := g.HopDistances(0)[g.N-1]; h < 1 {
			t.Fatalf("hop distance %d", h)
		}
	}
}

func FuzzCFRRL(f *testing.F) {
	f.Add([]byte(tinyCFRRL))
	f.Add([]byte("Node_num: 2\tEdge_num: 2\r\nh\r\n0 0 1 4 250\r\n1 1 0 4 250\r\n"))
	f.Add([]byte("Node_num: 1\tEdge_num: 0\nh\n"))
	f.Add([]byte("Node_num: 3\tEdge_num: 2\nh\n0 0 1 1 1\n1 1 2 1 1\n"))
	f.Add([]byte("Node_num: 99999\tEdge_num: 999999\nh\n0 0 1 1e308 1e308\n"))
	f.Add([]byte("Node_num: 2\tEdge_num: 2\nh\n0 0 1 NaN 1\n1 1 0 1 -Inf\n"))
	addRealSeeds(f, 1<<16, "cfr-rl/Abilene", "cfr-rl/Ebone", "cfr-rl/Sprintlink", "cfr-rl/Tiscali")
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadCFRRL(bytes.NewReader(data), "fuzz")
		if err != nil {
			if g != nil {
				t.Fatal("graph and error")
			}
			return
		}
		checkGraph(t, g)
		if len(g.Links) != g.Info.FileEdges || g.N != g.Info.FileNodes {
			t.Fatalf("info %+v for %d nodes, %d links", g.Info, g.N, len(g.Links))
		}
	})
}

func FuzzGML(f *testing.F) {
	f.Add([]byte(tinyGML))
	f.Add([]byte("graph [ node [ id 1 ] ]"))
	f.Add([]byte("graph [ node [ id 1 Latitude 0 Longitude 0 ] node [ id 2 Latitude 0 Longitude 0 ] edge [ source 1 target 2 ] ]"))
	f.Add([]byte("graph [ node [ id 1 label \"a&#38;b\" ] node [ id 2 hyperedge 1 ] edge [ source 2 target 1 LinkSpeedRaw 1e10 ] edge [ source 1 target 2 ] ]"))
	f.Add([]byte("# c\ngraph [ x [ y [ z \"]\" ] ] node [ id -5 ] node [ id 9007199254740992 ] edge [ source -5 target 9007199254740992 ] ]"))
	f.Add([]byte("graph [ node [ id 1 Latitude 90 Longitude 180 ] node [ id 2 Latitude -90 Longitude -180 ] edge [ source 1 target 2 ] ]"))
	addRealSeeds(f, 1<<16, "topologyzoo/Internet2.gml", "topologyzoo/UsCarrier.gml")
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadGML(bytes.NewReader(data), "fuzz.gml")
		if err != nil {
			if g != nil {
				t.Fatal("graph and error")
			}
			return
		}
		checkGraph(t, g)
		in := g.Info
		if len(g.Links)%2 != 0 || g.N+in.DroppedNodes != in.FileNodes ||
			len(g.Links)/2+in.MergedEdges+in.SelfLoops > in.FileEdges || in.NoCoords > g.N {
			t.Fatalf("info %+v for %d nodes, %d links", in, g.N, len(g.Links))
		}
		for i := 0; i < len(g.Links); i += 2 {
			a, b := g.Links[i], g.Links[i+1]
			if a.From != b.To || a.To != b.From || a.Capacity != b.Capacity || a.Delay != b.Delay || a.From >= a.To {
				t.Fatalf("links %d, %d: %+v %+v", i, i+1, a, b)
			}
		}
	})
}

func FuzzTM(f *testing.F) {
	f.Add([]byte("1 2 3 4\n5 6 7 8\n"))
	f.Add([]byte("0\n1e308\n\n"))
	f.Add([]byte("1 2 3\n"))
	f.Add([]byte("1 2 3 4\n1 2 3 NaN\n"))
	f.Add([]byte("1.0e+00 2 3 4\r\n\n5 6 7 8\n"))
	if root := os.Getenv("CPNTRAIN_DATA"); root != "" {
		// The first two matrices of AbileneTM.
		fh, err := os.Open(filepath.Join(root, DirName, "cfr-rl", "AbileneTM"))
		if err != nil {
			f.Fatal(err)
		}
		br := bufio.NewReader(fh)
		l1, _ := br.ReadBytes('\n')
		l2, _ := br.ReadBytes('\n')
		fh.Close()
		f.Add(append(l1, l2...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tm, err := ReadTM(bytes.NewReader(data), "fuzz")
		if err != nil {
			if tm != nil {
				t.Fatal("matrices and error")
			}
			return
		}
		if tm.N < 1 || tm.N > maxTMNodes || tm.Len() < 1 {
			t.Fatalf("N = %d, %d matrices", tm.N, tm.Len())
		}
		for _, m := range tm.M {
			if len(m) != tm.N*tm.N {
				t.Fatalf("%d values for N = %d", len(m), tm.N)
			}
			for _, v := range m {
				if !(v >= 0) || math.IsInf(v, 1) {
					t.Fatalf("value %v", v)
				}
			}
		}
		d := tm.Demands(tm.Len() - 1)
		for i := range d {
			if d[i][i] != 0 {
				t.Fatal("diagonal not zero")
			}
		}
	})
}
