package topology

import (
	"os"
	"testing"
)

func TestXTime(t *testing.T) {
	noShortcut = os.Getenv("NOSC") != ""
	g := load(t, "kdl")
	targets := kdlTargets(g)
	pf := g.PathFinder(DelayCost)
	for i := range 20000 {
		pf.KShortest(0, targets[i%len(targets)], 3)
	}
}
