package agent

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/dist"
	"github.com/cpntrain/cpntrain/rl"
)

// fixed is an actor over int observations whose logits are logits[obs]
// (no parameters); shift > 0 makes it conditional: its logits are rotated
// by the previous actor's action.
type fixed struct {
	logits [][]float32
	cond   bool
}

func (f *fixed) Params(func(string, *nn.Param)) {}

func (f *fixed) dist(t *nn.Tape, obs []int, prev [][]rl.Action) *dist.Categorical {
	n := len(f.logits[0])
	x := make([]float32, 0, len(obs)*n)
	for i, o := range obs {
		row := f.logits[o]
		for j := range row {
			k := j
			if f.cond {
				k = (j + prev[0][i].Index) % n
			}
			x = append(x, row[k])
		}
	}
	return dist.NewCategorical(t, t.Const(len(obs), n, x), nil)
}

func acts(idx []int) []rl.Action {
	a := make([]rl.Action, len(idx))
	for i, j := range idx {
		a[i] = rl.Action{Index: j}
	}
	return a
}

func (f *fixed) Act(t *nn.Tape, obs []int, rng *rand.Rand) []rl.Action {
	return acts(f.dist(t, obs, nil).Sample(rng, nil))
}
func (f *fixed) Mode(t *nn.Tape, obs []int) []rl.Action { return acts(f.dist(t, obs, nil).Mode(nil)) }
func (f *fixed) Evaluate(t *nn.Tape, obs []int, a []rl.Action) (*nn.Tensor, *nn.Tensor) {
	return f.EvaluateGiven(t, obs, nil, a)
}
func (f *fixed) ActGiven(t *nn.Tape, obs []int, prev [][]rl.Action, rng *rand.Rand) []rl.Action {
	return acts(f.dist(t, obs, prev).Sample(rng, nil))
}
func (f *fixed) ModeGiven(t *nn.Tape, obs []int, prev [][]rl.Action) []rl.Action {
	return acts(f.dist(t, obs, prev).Mode(nil))
}
func (f *fixed) EvaluateGiven(t *nn.Tape, obs []int, prev [][]rl.Action, a []rl.Action) (*nn.Tensor, *nn.Tensor) {
	c := f.dist(t, obs, prev)
	idx := make([]int, len(a))
	for i, x := range a {
		idx[i] = x.Index
	}
	return c.LogProb(idx), c.Entropy()
}

// plainActor hides fixed's conditional methods.
type plainActor struct{ f *fixed }

func (p plainActor) Params(v func(string, *nn.Param))                  { p.f.Params(v) }
func (p plainActor) Act(t *nn.Tape, o []int, r *rand.Rand) []rl.Action { return p.f.Act(t, o, r) }
func (p plainActor) Mode(t *nn.Tape, o []int) []rl.Action              { return p.f.Mode(t, o) }
func (p plainActor) Evaluate(t *nn.Tape, o []int, a []rl.Action) (*nn.Tensor, *nn.Tensor) {
	return p.f.Evaluate(t, o, a)
}

// TestJointPolicyKnownValues: actor 0 has logits [0, ln 3] (π = ¼, ¾),
// actor 1 given a_0 has logits [ln 2, 0, 0] rotated by a_0, so given a_0 = 1
// they are [0, 0, ln 2] (π = ¼, ¼, ½). The joint log-probability of (1, 2)
// is ln ¾ + ln ½, the mode is (1, 2), the summed entropy
// H(¼, ¾) + H(¼, ¼, ½), SampleLogProb's log-probabilities match Evaluate's,
// and Combine builds the environment action.
func TestJointPolicyKnownValues(t *testing.T) {
	a0 := plainActor{&fixed{logits: [][]float32{{0, float32(math.Log(3))}}}}
	a1 := &fixed{logits: [][]float32{{float32(math.Log(2)), 0, 0}}, cond: true}
	ag := Agent[int]{Actors: []Actor[int]{a0, a1}, Combine: func(p []rl.Action) rl.Action {
		return rl.Action{Index: p[0].Index*10 + p[1].Index}
	}}
	tp := nn.NewInference()
	lp, ent := ag.Evaluate(tp, []int{0}, [][]rl.Action{{{Index: 1}}, {{Index: 2}}})
	h := func(p ...float64) float64 {
		var s float64
		for _, x := range p {
			s -= x * math.Log(x)
		}
		return s
	}
	if want := math.Log(0.75) + math.Log(0.5); math.Abs(float64(lp.Data[0])-want) > 1e-6 {
		t.Errorf("joint log-prob %v, want %v", lp.Data[0], want)
	}
	if want := h(0.25, 0.75) + h(0.25, 0.25, 0.5); math.Abs(float64(ent.Data[0])-want) > 1e-6 {
		t.Errorf("summed entropy %v, want %v", ent.Data[0], want)
	}
	a, err := Greedy(ag).Decide(0)
	if err != nil || a.Index != 12 {
		t.Errorf("greedy action %v (%v), want Combine(1, 2) = 12", a, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		obs := []int{0, 0, 0}
		got := [][]rl.Action{make([]rl.Action, 3), make([]rl.Action, 3)}
		logp := make([]float32, 3)
		ag.SampleLogProb(nn.NewInference(), obs, rng, got, logp)
		want, _ := ag.Evaluate(nn.NewInference(), obs, got)
		for i := range obs {
			if math.Abs(float64(logp[i]-want.Data[i])) > 1e-6 {
				t.Fatalf("SampleLogProb %v, Evaluate of the same actions %v", logp[i], want.Data[i])
			}
		}
	}
	// Sample gives the conditional actor the earlier actor's actions: with
	// logits [ln 10⁶, 0, 0] rotated by a_0, a_1 = (3 − a_0) mod 3 except
	// with probability ~2·10⁻⁶.
	sharp := &fixed{logits: [][]float32{{float32(math.Log(1e6)), 0, 0}}, cond: true}
	sg := Agent[int]{Actors: []Actor[int]{a0, sharp}}
	for trial := 0; trial < 50; trial++ {
		got := [][]rl.Action{make([]rl.Action, 4), make([]rl.Action, 4)}
		sg.Sample(nn.NewInference(), []int{0, 0, 0, 0}, rng, got)
		for i := range got[0] {
			if got[1][i].Index != (3-got[0][i].Index)%3 {
				t.Fatalf("a_0 = %d, a_1 = %d: the conditional actor did not see a_0", got[0][i].Index, got[1][i].Index)
			}
		}
	}
	if err := (Agent[int]{}).Check("x", false); err == nil {
		t.Error("an agent without actors passed Check")
	}
	if err := (Agent[int]{Actors: []Actor[int]{a0}}).Check("x", true); err == nil {
		t.Error("an agent without a critic passed Check when one is needed")
	}
	if err := (Agent[int]{Actors: []Actor[int]{a0, a1}}).Check("x", false); err != nil {
		t.Errorf("two actors, no critic needed: %v", err)
	}
	if err := (Agent[int]{Actors: []Actor[int]{a0, nil}}).Check("x", false); err == nil || !strings.Contains(err.Error(), "actor 1 is nil") {
		t.Errorf("a nil actor: %v", err)
	}
}

// TestArgmaxAllowed: masked entries never win, ties go to the first, and
// nothing allowed gives −1.
func TestArgmaxAllowed(t *testing.T) {
	for _, c := range []struct {
		v    []float32
		mask []bool
		want int
	}{
		{[]float32{1, 3, 3}, nil, 1},
		{[]float32{5, 1, 9, 2}, []bool{true, true, false, true}, 0},
		{[]float32{1, 2}, []bool{false, false}, -1},
		{[]float32{-4, -2}, []bool{true, true}, 1},
	} {
		if got := ArgmaxAllowed(c.v, c.mask); got != c.want {
			t.Errorf("ArgmaxAllowed(%v, %v) = %d, want %d", c.v, c.mask, got, c.want)
		}
	}
}
