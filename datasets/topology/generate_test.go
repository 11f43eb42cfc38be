package topology

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestWaxman(t *testing.T) {
	for _, tc := range []struct {
		n           int
		alpha, beta float64
	}{
		{1, 0.5, 0.5}, {2, 0.01, 0.01}, {30, 0.15, 0.2}, {100, 0.4, 0.1}, {200, 0.02, 0.05},
	} {
		g := Waxman(tc.n, tc.alpha, tc.beta, rand.New(rand.NewPCG(1, uint64(tc.n))))
		if g.N != tc.n || !g.StronglyConnected() || g.Info.Source != "waxman" {
			t.Fatalf("n=%d: N=%d, connected %v", tc.n, g.N, g.StronglyConnected())
		}
		for i, l := range g.Links {
			a, b := g.Nodes[l.From], g.Nodes[l.To]
			km := math.Hypot(a.X-b.X, a.Y-b.Y)
			if l.Capacity != DefaultCapacity || l.Weight != 1 || math.Abs(l.Delay-max(km*1e3/FibreSpeed, MinDelay)) > 1e-15 {
				t.Errorf("n=%d link %d: %+v for %.1f km", tc.n, i, l, km)
			}
			if r := g.Links[i^1]; r.From != l.To || r.To != l.From {
				t.Errorf("n=%d: link %d has no reverse next to it", tc.n, i)
			}
		}
		for _, nd := range g.Nodes {
			if !nd.Planar || nd.Geo || nd.X < 0 || nd.X > WaxmanSide || nd.Y < 0 || nd.Y > WaxmanSide {
				t.Errorf("n=%d: node %+v", tc.n, nd)
			}
		}
		t.Logf("Waxman(%d, %v, %v): %d links", tc.n, tc.alpha, tc.beta, len(g.Links))
	}
	// Deterministic for a seed; different across seeds.
	a := Waxman(50, 0.2, 0.2, rand.New(rand.NewPCG(3, 4)))
	b := Waxman(50, 0.2, 0.2, rand.New(rand.NewPCG(3, 4)))
	c := Waxman(50, 0.2, 0.2, rand.New(rand.NewPCG(3, 5)))
	if !slices.Equal(a.Links, b.Links) || !slices.Equal(a.Nodes, b.Nodes) || slices.Equal(a.Links, c.Links) {
		t.Error("Waxman is not a function of its seed")
	}
	// Density grows with alpha.
	sparse := Waxman(100, 0.05, 0.2, rand.New(rand.NewPCG(9, 9)))
	dense := Waxman(100, 0.5, 0.2, rand.New(rand.NewPCG(9, 9)))
	if len(dense.Links) <= 2*len(sparse.Links) {
		t.Errorf("alpha 0.5: %d links, alpha 0.05: %d", len(dense.Links), len(sparse.Links))
	}
}

func TestWaxmanPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, f := range []func(){
		func() { Waxman(0, 0.5, 0.5, rng) },
		func() { Waxman(5, 0, 0.5, rng) },
		func() { Waxman(5, 1.5, 0.5, rng) },
		func() { Waxman(5, 0.5, 0, rng) },
		func() { Waxman(5, 0.5, math.NaN(), rng) },
		func() { Waxman(5, 0.5, 0.5, nil) },
		func() { Gravity(Waxman(3, 0.5, 0.5, rng), -1, nil) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "topology: ") {
					t.Errorf("recovered %q", r)
				}
			}()
			f()
		}()
	}
}

func TestGravity(t *testing.T) {
	g := load(t, "abilene")
	for _, rng := range []*rand.Rand{nil, rand.New(rand.NewPCG(5, 6))} {
		tm := Gravity(g, 3e9, rng)
		total := 0.0
		for i, row := range tm {
			if row[i] != 0 {
				t.Errorf("diagonal %d = %v", i, row[i])
			}
			for j, v := range row {
				total += v
				// The model is symmetric: T[i][j] = T[j][i] = c·m_i·m_j.
				if i != j && math.Abs(v-tm[j][i]) > 1e-6*v {
					t.Errorf("T[%d][%d] = %v, T[%d][%d] = %v", i, j, v, j, i, tm[j][i])
				}
			}
		}
		if math.Abs(total-3e9) > 1 {
			t.Errorf("total %v", total)
		}
	}
	// Capacity masses: ATLAng (node 1, four links) sends more than ATLAM5
	// (node 0, one link).
	tm := Gravity(g, 1, nil)
	if !(tm[0][2] > 0) || tm[1][2] <= tm[0][2] {
		t.Errorf("tm[0][2] = %v, tm[1][2] = %v", tm[0][2], tm[1][2])
	}
	one := Gravity(Waxman(1, 0.5, 0.5, rand.New(rand.NewPCG(1, 1))), 5, nil)
	if len(one) != 1 || one[0][0] != 0 {
		t.Errorf("single node: %v", one)
	}
}
