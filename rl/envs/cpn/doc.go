// Package cpn simulates a computing-power network for RLMS-CPN (paper 000):
// inference tasks arrive at access points of a real topology and the
// controller picks, per task, a compute node among K candidates and how the
// task's data is split over P paths to it. Env is an rl.Env[Obs] with a
// DiscreteSimplex action (candidate index, split ratios) and implements
// rl.Snapshotter for resumable training.
//
// # Semantics
//
// Event-driven and seeded: an episode is Config.Tasks tasks arriving by a
// Poisson process at the access points; Step schedules the current task,
// commits its effects and advances to the next arrival. Reset(seed) fixes
// the task stream, the probe noise and the start in the background
// traffic's day, so every policy evaluated with one seed meets the same
// tasks. An episode ends truncated (the network goes on).
//
//   - Compute: the measured NAS-Bench-201 latency of the task's cell on the
//     node's device (HELP's data) times the number of inferences; GPUs take
//     the best of batch 1, 32 and 256. A node runs one task at a time; a
//     task arriving at a busy node waits for it (its busy time).
//   - Background traffic: Abilene's real 5-minute traffic matrices routed on
//     OSPF shortest paths (elsewhere a gravity matrix modulated by the
//     Abilene daily series), scaled so the busiest link's mean utilisation
//     is Config.Load.
//   - Transfers: a flowlet of x_j·bytes on path j gets on each link the
//     residual capacity, at least a fair share of the non-background
//     capacity and at least MinShare of it, divided among the task's own
//     flows on the link; its time is propagation + queueing (M/M/1-like,
//     QueueBurst/capacity · u/(1−u)) + bytes/rate. Flows hold their rate
//     until they end, so a decision changes the next task's network. Ratios
//     under MinSplit carry nothing (flowlets).
//   - Response latency = the slowest used path's transfer + waiting at the
//     node + compute; reward = −latency / RewardScale. Step's Info holds
//     latency_ms, transfer_ms, wait_ms, compute_ms and node.
//   - The controller (the paper's steps 1–3): the device class predicted
//     fastest, its K nearest nodes by hops, the P shortest paths to each by
//     propagation delay (Yen), Probes probes per path; Obs holds what it
//     measures and its own estimates (water-filling splits and transfer
//     times, estimated response latency), in physical units: the models
//     scale them into features (models/rlms.Encode).
//
// Base1–Base4, wf and the oracle (baselines.go) are the comparison points
// of docs/rlms.md. Tests with hand-computed answers pin the formulas on
// hand-built networks (one link, two tasks on one node, shared links,
// queueing).
//
// # Where it departs from the paper's testbed
//
// The compute latency the controller sees is the measured one (a perfect
// predictor), probes are averaged over a few exponential-noise samples at
// the task's arrival, the background traffic does not change between the
// probe and the transfer within a 5-minute interval, nodes run no other
// tenants' jobs, queueing is a formula rather than packets, and TCP
// dynamics are not modelled (a flow gets its rate at once). docs/rlms.md
// lists each with its effect on the results.
package cpn
