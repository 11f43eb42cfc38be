package rl

import "math"

// GAE computes generalised advantage estimates (Schulman et al. 2016) and
// returns for one environment's trajectory segment of T steps, as CleanRL's
// PPO does:
//
//	δ_t = r_t + γ V(s_{t+1}) (1 − done_{t+1}) − V(s_t)
//	A_t = δ_t + γ λ (1 − done_{t+1}) A_{t+1},   R_t = A_t + V(s_t)
//
// rewards[t], values[t] = V(s_t) and dones[t] describe step t, where
// dones[t] is true when s_t starts a new episode after a termination
// (CleanRL's convention: done flags of the *next* observation).
// nextValue and nextDone describe the observation after the segment.
// Truncation is handled by the caller by adding γ·V(final obs) to the
// reward of a truncated step. adv and ret must have length T.
func GAE(rewards, values []float64, dones []bool, nextValue float64, nextDone bool, gamma, lambda float64, adv, ret []float64) {
	T := len(rewards)
	var last float64
	for t := T - 1; t >= 0; t-- {
		nv, nd := nextValue, nextDone
		if t+1 < T {
			nv, nd = values[t+1], dones[t+1]
		}
		nonTerminal := 1.0
		if nd {
			nonTerminal = 0
		}
		delta := rewards[t] + gamma*nv*nonTerminal - values[t]
		last = delta + gamma*lambda*nonTerminal*last
		adv[t] = last
		ret[t] = last + values[t]
	}
}

// NormalizeAdvantages sets x to (x − mean)/(std + 1e-8) in place, with the
// unbiased standard deviation as torch's Tensor.std (CleanRL's norm_adv).
// Fewer than two values are left unchanged.
func NormalizeAdvantages(x []float32) {
	n := float64(len(x))
	if n < 2 {
		return
	}
	var m float64
	for _, v := range x {
		m += float64(v)
	}
	m /= n
	var ss float64
	for _, v := range x {
		d := float64(v) - m
		ss += d * d
	}
	sd := math.Sqrt(ss/(n-1)) + 1e-8
	for i, v := range x {
		x[i] = float32((float64(v) - m) / sd)
	}
}
