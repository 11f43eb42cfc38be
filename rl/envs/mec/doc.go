// Package mec models computation offloading in a mobile-edge network
// (patent 004, "算力任务执行方法"): D smart mobile devices (SMDs), each with
// one task, reach one edge server through N access points; every task runs
// locally or is offloaded. The patent's equations were images and are not
// in its text; they are rebuilt here from the standard models it names,
// each written out below with its source.
//
// # The cost model (cost.go)
//
// Task n = (input i_n bits, c_n CPU cycles, deadline τ_n s), on a device
// with CPU f ≤ f_max, switched capacitance κ, transmit power p ≤ p_max,
// battery P_remain of P_total and latency preference ω_t ∈ [0, 1].
//
//   - Weights: the battery ratio r_p = P_remain / P_total scales the
//     latency weight, λ_t = ω_t·r_p, and λ_e = 1 − λ_t (the patent: the
//     smaller r_p, the more the device saves energy).
//   - Local: time c/f, energy γ·c with γ = κ·f²; cost λ_t·c/f + λ_e·κ·f²·c
//     is convex in f with its stationary point f' = (λ_t/(2·λ_e·κ))^(1/3)
//     (the patent: "derivative zero"); f is f' clipped to [c/τ, min(f_max,
//     √(P_remain/(κ·c)))], the frequencies meeting the deadline and the
//     battery.
//   - Offload through AP j with m_j devices offloading there and M in all:
//     bandwidth B = ω/m_j, rate r = B·log2(1 + p·g/(B·σ)) (Shannon, noise
//     σ·B), time i/r + i/c_AP + c·M/f_EC (uplink, AP→edge link, the edge
//     CPU shared equally), energy p·i/r (the result's download is
//     neglected, as the patent says); p minimises the cost subject to the
//     deadline and the battery: the quasi-convex (λ_t + λ_e·p)/r(p) has
//     its stationary point in closed form through Lambert's W
//     (closedform.go), clipped to the deadline's and the battery's bounds
//     (Offload keeps a golden-section search and a bisection as the
//     reference the closed forms are tested against).
//   - A decision that breaks the deadline or the battery costs
//     Config.Penalty more (the patent's constraints C1–C2 as a penalty, so
//     that every vector has a cost).
//
// # Where it departs from the patent
//
//   - The patent optimises "the CPU frequency" of local execution and the
//     offloading decisions; it does not say how the transmit power is
//     chosen. Here each offloaded task also gets its cost-minimising power.
//   - Sharing: the patent says the transmission rate falls as more tasks
//     are offloaded ("随着卸载至边缘服务器的任务数目的增加，数据的传输速率将下降")
//     without the rule; equal shares of the AP's bandwidth and of the edge
//     CPU are the common choice and are used here.
//   - Parameters the patent leaves open come from the MEC literature
//     (Config's fields name each source).
//
// # The optimum (optimum.go)
//
// A task's cost depends only on its decision, the offloaders at its AP
// and the offloaders in all, so every vector's cost is a sum of entries of
// a per-set table (one power search per task and sharing; the total
// changes only the deadline's bound on the power). Optimal is exact at any
// D in polynomial time: for fixed counts per AP the cost separates by AP
// and each AP offloads its tasks of smallest offload − local difference;
// a dynamic program over the APs picks the counts for each total. Tests
// check it against Exhaustive (all 2^D vectors, in parallel, D ≤ 24) and
// a second, independent enumeration through Evaluate. CoordinateDescent
// (the method of DROO's data sets) and Greedy (the patent's ordering with
// the exact cost model) are baselines.
package mec
