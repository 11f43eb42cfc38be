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

// TestGAETerminatedAndTruncated checks GAE on a 6-step rollout with both
// kinds of episode boundary, following the convention of the callers (PPO,
// actor-critic): a truncated step's reward carries γ·V(final observation)
// and the next step is flagged done, exactly like a terminated step.
// γ = 0.5, λ = 0.5 (γλ = 0.25).
//
//	t  raw r  V    dones[t]  note
//	0   1    0.5   false
//	1   2    1     false     terminates: s_2 starts a new episode
//	2   0    2     true
//	3   1    1     false     truncated, V(final obs) = 4: r = 1 + 0.5·4 = 3
//	4   3    1     true      s_4 starts a new episode
//	5   0    2     false     segment ends mid-episode: nextValue 6, nextDone false
//
// Backwards:
//
//	δ5 = 0 + 0.5·6 − 2 = 1;      A5 = 1;                   R5 = 3
//	δ4 = 3 + 0.5·2 − 1 = 3;      A4 = 3 + 0.25·1 = 3.25;   R4 = 4.25
//	δ3 = 3 + 0 − 1 = 2;          A3 = 2 (cut by dones[4]); R3 = 3
//	δ2 = 0 + 0.5·1 − 2 = −1.5;   A2 = −1.5 + 0.25·2 = −1;  R2 = 1
//	δ1 = 2 + 0 − 1 = 1;          A1 = 1 (cut by dones[2]); R1 = 2
//	δ0 = 1 + 0.5·1 − 0.5 = 1;    A0 = 1 + 0.25·1 = 1.25;   R0 = 1.75
//
// Without the bootstrap (r3 = 1) A3 would be 0; without the cut after the
// truncation (dones[4] false) δ3 = 3 + 0.5·1 − 1 = 2.5 and A3 = 2.5 +
// 0.25·3.25 = 3.3125.
func TestGAETerminatedAndTruncated(t *testing.T) {
	const gamma, lambda = 0.5, 0.5
	rewards := []float64{1, 2, 0, 1 + gamma*4, 3, 0}
	values := []float64{0.5, 1, 2, 1, 1, 2}
	dones := []bool{false, false, true, false, true, false}
	adv := make([]float64, 6)
	ret := make([]float64, 6)
	GAE(rewards, values, dones, 6, false, gamma, lambda, adv, ret)
	wantAdv := []float64{1.25, 1, -1, 2, 3.25, 1}
	wantRet := []float64{1.75, 2, 1, 3, 4.25, 3}
	for i := range wantAdv {
		if adv[i] != wantAdv[i] || ret[i] != wantRet[i] {
			t.Fatalf("advantages %v returns %v, want %v and %v", adv, ret, wantAdv, wantRet)
		}
	}
	// The same segment ending on a termination (nextDone): the last step
	// no longer bootstraps from nextValue: δ5 = 0 − 2 = −2, A5 = −2,
	// A4 = 3 + 0.25·(−2) = 2.5, and steps before the boundary at 4 are unchanged.
	GAE(rewards, values, dones, 6, true, gamma, lambda, adv, ret)
	wantAdv = []float64{1.25, 1, -1, 2, 2.5, -2}
	for i := range wantAdv {
		if adv[i] != wantAdv[i] || ret[i] != wantAdv[i]+values[i] {
			t.Fatalf("with nextDone: advantages %v returns %v, want advantages %v", adv, ret, wantAdv)
		}
	}
}
