package cpn

import (
	"reflect"
	"testing"
)

// TestWaterFillingFromObs: the allowed candidate of smallest estimate
// (a smaller one that is masked out does not count; the first on ties)
// with its paths' controller split.
func TestWaterFillingFromObs(t *testing.T) {
	o := Obs{K: 4, P: 2,
		Nodes:    []Candidate{{EstimateMs: 9}, {EstimateMs: 7}, {EstimateMs: 1}, {EstimateMs: 7}},
		Paths:    []Path{{Split: 1}, {}, {Split: 0.25}, {Split: 0.75}, {Split: 0.5}, {Split: 0.5}, {}, {Split: 1}},
		NodeMask: []bool{true, true, false, true}, PathMask: make([]bool, 8)}
	a, err := WaterFillingFromObs(o)
	if err != nil || a.Index != 1 || !reflect.DeepEqual(a.Values, []float32{0.25, 0.75}) {
		t.Errorf("wf %+v (%v), want candidate 1 with [0.25 0.75]", a, err)
	}
	if _, err := WaterFillingFromObs(Obs{K: 2, P: 1, Nodes: make([]Candidate, 2), Paths: make([]Path, 2), NodeMask: []bool{false, false}}); err == nil {
		t.Error("no candidate: no error")
	}
}

// TestECMPFromObs: the equal split read from the observation's path mask
// gives 1/n to each of a candidate's n distinct paths of the simulator's
// path set (orig[j] == j) and 0 to repeated rows, on 3 streams.
func TestECMPFromObs(t *testing.T) {
	e := NewEnv(testNetwork(t, nil))
	for seed := uint64(1); seed <= 3; seed++ {
		if _, err := e.Reset(seed); err != nil {
			t.Fatal(err)
		}
		for task := 0; task < 20; task++ {
			for i := range e.cands {
				orig := e.psets[i].orig
				n := 0
				for j, o := range orig {
					if o == j {
						n++
					}
				}
				want := make([]float32, e.Net.Cfg.P)
				for j, o := range orig {
					if o == j {
						want[j] = 1 / float32(n)
					}
				}
				if got := ECMPFromObs(e.Obs(), i); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d, task %d, candidate %d: %v, want %v", seed, task, i, got, want)
				}
			}
			a, _ := WaterFillingFromObs(e.Obs())
			if _, err := e.Step(a); err != nil {
				t.Fatal(err)
			}
		}
	}
}
