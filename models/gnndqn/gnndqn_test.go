package gnndqn

import (
	"reflect"
	"testing"

	"github.com/cpntrain/cpntrain/models/rlms"
)

// TestFeaturesKnown: K = 2 candidates, P = 2 paths; the observation is the
// task features, then per candidate its node features followed by, per path
// feature f, the mean and the max of f over the candidate's P paths.
func TestFeaturesKnown(t *testing.T) {
	const K, P, NF, PF = 2, 2, rlms.NodeFeatures, rlms.PathFeatures
	o := rlms.Features{Task: []float32{0.5, -1}, Nodes: make([]float32, K*NF), Paths: make([]float32, K*P*PF)}
	mask := []bool{true, false}
	for i := range o.Nodes {
		o.Nodes[i] = float32(i) // node i's feature f is i·NF + f
	}
	for r := 0; r < K*P; r++ {
		for f := 0; f < PF; f++ {
			// path row r = i·P + j: feature f is f − 2·r (rows of one candidate differ by 2)
			o.Paths[r*PF+f] = float32(f - 2*r)
		}
	}
	got := aggregate(o, K, P, mask)
	want := []float32{0.5, -1}
	for i := 0; i < K; i++ {
		for f := 0; f < NF; f++ {
			want = append(want, float32(i*NF+f))
		}
		for f := 0; f < PF; f++ {
			a, b := float32(f-2*(i*P)), float32(f-2*(i*P+1)) // paths j = 0, 1: a > b
			want = append(want, (a+b)/2, a)
		}
	}
	if !reflect.DeepEqual(got.X, want) {
		t.Fatalf("features\n got %v\nwant %v", got.X, want)
	}
	if len(want) != 2+K*(NF+2*PF) || !reflect.DeepEqual(got.Mask, mask) || !reflect.DeepEqual(got.ActionMask(), []bool{true, false}) {
		t.Errorf("%d features, mask %v", len(want), got.Mask)
	}
}
