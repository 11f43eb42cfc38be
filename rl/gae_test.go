package rl

import (
	"math"
	"testing"
)

// TestGAEHandComputed checks GAE against a computation done by hand:
// γ = 0.9, λ = 0.8, rewards 1, 0, 2, values 0.5, 0.4, 0.3, the episode ends
// after step 1 (dones[2] = true: s_2 starts a new episode), bootstrap 0.2.
//
//	δ2 = 2 + 0.9·0.2 − 0.3 = 1.88;        A2 = 1.88
//	δ1 = 0 + 0 − 0.4 = −0.4;              A1 = −0.4 (episode boundary cuts A2)
//	δ0 = 1 + 0.9·0.4 − 0.5 = 0.86;        A0 = 0.86 + 0.72·(−0.4) = 0.572
func TestGAEHandComputed(t *testing.T) {
	adv := make([]float64, 3)
	ret := make([]float64, 3)
	GAE([]float64{1, 0, 2}, []float64{0.5, 0.4, 0.3}, []bool{false, false, true}, 0.2, false, 0.9, 0.8, adv, ret)
	want := []float64{0.572, -0.4, 1.88}
	for i := range want {
		if math.Abs(adv[i]-want[i]) > 1e-12 {
			t.Fatalf("advantages %v, want %v", adv, want)
		}
		if math.Abs(ret[i]-(want[i]+[]float64{0.5, 0.4, 0.3}[i])) > 1e-12 {
			t.Fatalf("returns %v", ret)
		}
	}
}

// With λ = 1 and no episode boundary, A_t + V_t is the discounted return
// bootstrapped from nextValue (Monte-Carlo); with λ = 0 it is one-step TD.
func TestGAELimits(t *testing.T) {
	r := []float64{1, 2, 3}
	v := []float64{0.1, 0.2, 0.3}
	adv := make([]float64, 3)
	ret := make([]float64, 3)
	GAE(r, v, []bool{false, false, false}, 5, false, 0.5, 1, adv, ret)
	mc := 1 + 0.5*2 + 0.25*3 + 0.125*5
	if math.Abs(ret[0]-mc) > 1e-12 {
		t.Fatalf("λ=1 return %v, want %v", ret[0], mc)
	}
	GAE(r, v, []bool{false, false, false}, 5, true, 0.5, 0, adv, ret)
	if math.Abs(adv[2]-(3-0.3)) > 1e-12 || math.Abs(adv[0]-(1+0.5*0.2-0.1)) > 1e-12 {
		t.Fatalf("λ=0 advantages %v", adv)
	}
}

func TestCheckAction(t *testing.T) {
	d := Space{Kind: Discrete, N: 3}
	if CheckAction(d, Action{Index: 3}, nil) == nil || CheckAction(d, Action{Index: 1}, []bool{true, false, true}) == nil {
		t.Fatal("invalid discrete action accepted")
	}
	if err := CheckAction(d, Action{Index: 2}, []bool{true, false, true}); err != nil {
		t.Fatal(err)
	}
	s := Space{Kind: Simplex, N: 2}
	if CheckAction(s, Action{Values: []float32{0.7, 0.7}}, nil) == nil || CheckAction(s, Action{Values: []float32{1.2, -0.2}}, nil) == nil {
		t.Fatal("invalid split accepted")
	}
	if err := CheckAction(s, Action{Values: []float32{0.25, 0.75}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestNormalizeAdvantages(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	NormalizeAdvantages(x)
	// mean 2.5, unbiased std sqrt(5/3)
	sd := math.Sqrt(5.0 / 3)
	for i, v := range []float64{-1.5, -0.5, 0.5, 1.5} {
		if want := v / (sd + 1e-8); math.Abs(float64(x[i])-want) > 1e-6 {
			t.Errorf("x[%d] = %v, want %v", i, x[i], want)
		}
	}
	one := []float32{7}
	NormalizeAdvantages(one)
	if one[0] != 7 {
		t.Errorf("a single value changed to %v", one[0])
	}
}
