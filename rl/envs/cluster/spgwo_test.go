package cluster

import (
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// TestFitSVMOneStep: Pegasos' first step by hand. λ = 0.5, one sample
// x = (1, 2) of class 0, two classes: t = 1, η = 1/(λt) = 2; both margins
// are 0 < 1, so W[c] = (1 − ηλ)·0 + η·y·(x, 1): W[0] = (2, 4, 2),
// W[1] = (−2, −4, −2).
func TestFitSVMOneStep(t *testing.T) {
	m, err := FitSVM([][]float64{{1, 2}}, []int{0}, 2, 0.5, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{2, 4, 2}, {-2, -4, -2}}
	for c := range want {
		for j := range want[c] {
			if !near(m.W[c][j], want[c][j]) {
				t.Fatalf("W = %v, want %v", m.W, want)
			}
		}
	}
	for _, bad := range []struct {
		xs [][]float64
		ys []int
	}{{nil, nil}, {[][]float64{{1}}, []int{2}}, {[][]float64{{1}, {1, 2}}, []int{0, 1}}} {
		if _, err := FitSVM(bad.xs, bad.ys, 2, 0.5, 1, 1); err == nil {
			t.Errorf("FitSVM(%v, %v) accepted", bad.xs, bad.ys)
		}
	}
}

// TestFitSVMTwoSteps: two samples, x1 = (1, 0) of class 0 and x2 = (0, 1)
// of class 1, λ = 0.5, one epoch, in either order. With x1 first: t = 1,
// η = 2: W[0] = (2, 0, 2), W[1] = (−2, 0, −2); t = 2, η = 1, shrink
// 1 − ηλ = ½; x2's margins are −2 for both: W[0] = ½(2, 0, 2) − (0, 1, 1)
// = (1, −1, 0), W[1] = ½(−2, 0, −2) + (0, 1, 1) = (−1, 1, 0). With x2
// first the same (by symmetry).
func TestFitSVMTwoSteps(t *testing.T) {
	for seed := range uint64(4) {
		m, err := FitSVM([][]float64{{1, 0}, {0, 1}}, []int{0, 1}, 2, 0.5, 1, seed)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]float64{{1, -1, 0}, {-1, 1, 0}}
		for c := range want {
			for j := range want[c] {
				if !near(m.W[c][j], want[c][j]) {
					t.Fatalf("seed %d: W = %v, want %v", seed, m.W, want)
				}
			}
		}
	}
}

// TestFitSVMSeparates: three classes around (1, 0), (0, 1) and (−1, −1),
// each separable from the other two by a line: all learned.
func TestFitSVMSeparates(t *testing.T) {
	var xs [][]float64
	var ys []int
	for i := range 30 {
		c := i % 3
		jitter := float64(i%5) * 0.05
		xs = append(xs, [][]float64{{1 + jitter, -jitter}, {jitter, 1 - jitter}, {-1 - jitter, -1 + jitter}}[c])
		ys = append(ys, c)
	}
	m, err := FitSVM(xs, ys, 3, 1e-3, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		best := 0
		for c := 1; c < 3; c++ {
			if m.score(c, x) > m.score(best, x) {
				best = c
			}
		}
		if best != ys[i] {
			t.Fatalf("sample %d %v: class %d, want %d (W %v)", i, x, best, ys[i], m.W)
		}
	}
}

// TestSVMFeaturesByHand: twoWays after its first task took x's 2 cores:
// type one-hot (1), x's free shares (0 cores; memory, accelerators and
// network have no capacity: 0), y's (1, 0, 0, 0), the wait 0 and one
// waiting task (0.01).
func TestSVMFeaturesByHand(t *testing.T) {
	e, _ := NewEnv(twoWays())
	o, _ := e.ResetQueue([]int{0, 0}, []float64{0, 0})
	s := step(t, e, 0)
	want := []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.01}
	got := SVMFeatures(s.Obs)
	if len(got) != len(want) {
		t.Fatalf("features %v, want %v", got, want)
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Fatalf("features %v, want %v", got, want)
		}
	}
	_ = o
}

// TestSPGWOFollowsTheSVM: on twoWays (node 0 = cluster x, 10 s; nodes 1, 2
// = y: 30 s with 1 core in slot 0, 20 s with 4 cores in slot 1), an SVM
// that prefers y makes S-P-GWO place on y with its faster strategy
// (action 3) although x is free; one that prefers x places on x (0);
// with x busy the SVM's choice falls to y, the only allowed cluster.
func TestSPGWOFollowsTheSVM(t *testing.T) {
	d := len(SVMFeatures(Obs{Cfg: &Config{Clusters: make([]Cluster, 2), TaskTypes: make([]TaskType, 1)}, Task: -1}))
	pref := func(c int) *SVM {
		m := &SVM{W: [][]float64{make([]float64, d+1), make([]float64, d+1)}}
		m.W[c][d], m.W[1-c][d] = 10, -10
		return m
	}
	e, _ := NewEnv(twoWays())
	o, _ := e.ResetQueue([]int{0}, []float64{0})
	for c, want := range []int{0, 3} {
		if a, err := SPGWO(DefaultSwarm(), pref(c)).Decide(o); err != nil || a.Index != want {
			t.Errorf("SVM prefers cluster %d: action %d (%v), want %d", c, a.Index, err, want)
		}
	}
	e, _ = NewEnv(twoWays())
	o, _ = e.ResetQueue([]int{0, 0}, []float64{0, 0})
	s := step(t, e, 0)
	if c := pref(0).Predict(s.Obs); c != 1 {
		t.Errorf("x busy: the SVM predicts cluster %d, want 1 (the only allowed)", c)
	}
	if a, _ := SPGWO(DefaultSwarm(), pref(0)).Decide(s.Obs); a.Index != 3 {
		t.Errorf("x busy: action %d, want 3", a.Index)
	}
}

// TestTrainSVMLearnsTheTeacher: a teacher that always places on cluster y
// labels every decision y; the SVM then predicts y where x is allowed too.
func TestTrainSVMLearnsTheTeacher(t *testing.T) {
	cfg := twoWays()
	cfg.Queue = Queue{Tasks: 20, Horizon: 200}
	onY := func() rl.Policy[Obs] {
		return rl.PolicyFunc[Obs](func(o Obs) (rl.Action, error) {
			slots := len(o.Mask) / len(o.Nodes)
			for a, ok := range o.Mask[:o.WaitAction()] {
				if ok && o.Nodes[a/slots].Cluster == 1 {
					return rl.Action{Index: a}, nil
				}
			}
			return rl.Action{Index: o.WaitAction()}, nil
		})
	}
	m, err := TrainSVM(cfg, onY, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := NewEnv(cfg)
	o, _ := e.ResetQueue([]int{0}, []float64{0})
	if c := m.Predict(o); c != 1 {
		t.Errorf("predicts %d, want 1 (W %v)", c, m.W)
	}
}
