package topology

import (
	"os"
	"path/filepath"
	"testing"
)

// kdlTargets are the destinations of the Kdl path benchmarks from node 0:
// the farthest node in hops and four others spread over the indices.
func kdlTargets(g *Graph) []int {
	hops := g.HopDistances(0)
	far := 0
	for v, h := range hops {
		if h > hops[far] {
			far = v
		}
	}
	return []int{far, 100, 300, 500, 700}
}

// BenchmarkKShortestKdl measures one k=3 query (delay cost) from node 0
// of Kdl (754 nodes, 1,790 links) to each of five targets; ns/op is per
// query. The PathFinder is made once, as a simulator would.
func BenchmarkKShortestKdl(b *testing.B) {
	g := load(b, "kdl")
	targets := kdlTargets(g)
	pf := g.PathFinder(DelayCost)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pf.KShortest(0, targets[i%len(targets)], 3)
	}
}

// BenchmarkKShortestPathsKdl is BenchmarkKShortestKdl through
// Graph.KShortestPaths, which makes a PathFinder per call.
func BenchmarkKShortestPathsKdl(b *testing.B) {
	g := load(b, "kdl")
	targets := kdlTargets(g)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g.KShortestPaths(0, targets[i%len(targets)], 3, DelayCost)
	}
}

// BenchmarkKShortestKdlHops is BenchmarkKShortestKdl with hop cost, which
// has many ties.
func BenchmarkKShortestKdlHops(b *testing.B) {
	g := load(b, "kdl")
	targets := kdlTargets(g)
	pf := g.PathFinder(HopCost)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pf.KShortest(0, targets[i%len(targets)], 3)
	}
}

func BenchmarkReadGMLKdl(b *testing.B) {
	path := filepath.Join(dataRoot(b), DirName, "topologyzoo", "Kdl.gml")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadGML(bytesReader(data), "Kdl.gml"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadAbileneTM(b *testing.B) {
	root := dataRoot(b)
	for b.Loop() {
		if _, err := LoadAbileneTM(root); err != nil {
			b.Fatal(err)
		}
	}
}
