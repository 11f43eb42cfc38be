package cpn

import (
	"reflect"
	"testing"
)

// TestWaterFillingFromObsMatchesTheController: on three task streams the
// wf decision read from the observation's features is the controller's own
// (WaterFilling, from its float64 estimates) at every task.
func TestWaterFillingFromObsMatchesTheController(t *testing.T) {
	net := testNetwork(t, nil)
	e := NewEnv(net)
	for seed := uint64(1); seed <= 3; seed++ {
		if _, err := e.Reset(seed); err != nil {
			t.Fatal(err)
		}
		for task := 0; ; task++ {
			want, err1 := e.WaterFilling()
			got, err2 := WaterFillingFromObs(e.Obs())
			if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, task %d: from the observation %v (%v), the controller %v (%v)", seed, task, got, err2, want, err1)
			}
			s, err := e.Step(want)
			if err != nil {
				t.Fatal(err)
			}
			if s.Done() {
				break
			}
		}
	}
	if _, err := WaterFillingFromObs(Obs{K: 2, P: 1, NodeMask: []bool{false, false}}); err == nil {
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
