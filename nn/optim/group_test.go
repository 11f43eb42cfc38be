package optim_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

func groupFixture(seed uint64) (a, b *nn.Param, g optim.Group) {
	rng := rand.New(rand.NewPCG(seed, 1))
	a = nn.NewParam(2, 3)
	b = nn.NewParam(1, 4)
	for _, p := range []*nn.Param{a, b} {
		for i := range p.V.Data {
			p.V.Data[i] = float32(rng.NormFloat64())
		}
	}
	ca, cb := optim.DefaultAdamConfig(), optim.DefaultAdamConfig()
	ca.LR, cb.LR = 1e-2, 3e-3
	g = optim.Group{
		{Name: "actor", Opt: optim.NewAdam([]nn.NamedParam{{Path: "actor/w", Param: a}}, ca)},
		{Name: "critic", Opt: optim.NewAdam([]nn.NamedParam{{Path: "critic/w", Param: b}}, cb)},
	}
	return a, b, g
}

func stepGroup(a, b *nn.Param, g optim.Group, n int) {
	for s := 0; s < n; s++ {
		for _, p := range []*nn.Param{a, b} {
			for i := range p.V.Data {
				p.V.Grad[i] = p.V.Data[i] * float32(s+1)
			}
		}
		g.Step()
	}
}

// TestGroupStateRoundTrip: a group restored from State continues exactly
// like the original, with each member's own learning rate.
func TestGroupStateRoundTrip(t *testing.T) {
	a, b, g := groupFixture(1)
	stepGroup(a, b, g, 3)
	st := g.State()
	a2, b2, g2 := groupFixture(2)
	copy(a2.V.Data, a.V.Data)
	copy(b2.V.Data, b.V.Data)
	if err := g2.LoadState(st); err != nil {
		t.Fatal(err)
	}
	if g2[1].Opt.LR() != 3e-3 || g2.StepCount() != 3 {
		t.Fatalf("restored lr %v step %d", g2[1].Opt.LR(), g2.StepCount())
	}
	stepGroup(a, b, g, 2)
	stepGroup(a2, b2, g2, 2)
	for i := range a.V.Data {
		if a.V.Data[i] != a2.V.Data[i] {
			t.Fatalf("actor value %d: %v vs %v", i, a.V.Data[i], a2.V.Data[i])
		}
	}
	for i := range b.V.Data {
		if b.V.Data[i] != b2.V.Data[i] {
			t.Fatalf("critic value %d: %v vs %v", i, b.V.Data[i], b2.V.Data[i])
		}
	}
}

// TestGroupLoadStateAtomic: when one member rejects its part, the members
// loaded before it are put back.
func TestGroupLoadStateAtomic(t *testing.T) {
	a, b, g := groupFixture(1)
	stepGroup(a, b, g, 3)
	bad := g.State()
	bad.Buffers["critic/critic/w/exp_avg"] = nn.New(5, 5) // wrong shape
	_, _, fresh := groupFixture(1)
	before := fresh.State()
	err := fresh.LoadState(bad)
	if err == nil {
		t.Fatal("a wrong-shaped buffer was accepted")
	}
	if se, ok := err.(*optim.StateError); !ok || se.Buffer != "critic/critic/w/exp_avg" {
		t.Fatalf("error %v does not name the buffer", err)
	}
	after := fresh.State()
	if after.Step != before.Step || after.Hyper["actor/step"] != 0 {
		t.Fatalf("group changed on error: %v", after.Hyper)
	}
	for _, bad := range []optim.State{
		{Kind: "adam"},
		{Kind: "group", Hyper: map[string]float64{"nobody/lr": 1}},
		{Kind: "group", Hyper: map[string]float64{"actor/kind:adam": 1}},
	} {
		if err := fresh.LoadState(bad); err == nil {
			t.Errorf("state %+v accepted", bad)
		}
	}
}
