package cpn

// Feature widths of an observation.
const (
	// TaskFeatures: log10 of the data size in MB, log2 of the number of
	// inferences (images) of the task.
	TaskFeatures = 2
	// NodeFeatures per candidate compute node: log1p of the predicted
	// compute latency in ms, log1p of the current waiting time in ms, hop
	// count from the access point / 10, the device class one-hot (CPU,
	// GPU, other), log1p of the predicted finish time (waiting plus
	// compute) in ms; then the controller's estimates from its probes
	// (see PathFeatures): log1p of the water-filling transfer time in ms
	// (independent paths: a lower bound), log1p of the estimated response
	// latency compute + max(waiting, T) in ms with T the controller's
	// transfer estimate (the better of the shared-bottleneck water-filling
	// and the fastest single path, both achievable), the log of that
	// estimate over the smallest among the candidates (0 for the
	// best-looking candidate), log1p of the shared-bottleneck
	// water-filling time and of the fastest single path's time, in ms.
	NodeFeatures = 12
	// PathFeatures per candidate path: log1p of the mean probed one-way
	// delay in ms, propagation delay in ms / 10, log1p of the bottleneck
	// available bandwidth in Gbit/s, hop count / 10, the bottleneck
	// utilisation in [0, 1], and log1p of the estimated time in ms to send
	// all the task's data on this path alone (probed delay + bytes /
	// bottleneck bandwidth), and two shares among the candidate's distinct
	// paths: of the bottleneck bandwidth (b_j/Σb) and of the inverse
	// estimated transfer time ((1/T_j)/Σ 1/T) — 0 on repeated rows; the
	// water-filling share: the split that makes every path finish at
	// the same time T given its probed delay and bottleneck bandwidth
	// (exact when the paths share no link); and the share of the path's
	// links that another of the candidate's paths also uses; log1p of the
	// shared bottleneck in Gbit/s — the path's bandwidth when all of the
	// candidate's paths carry data (each link's available bandwidth
	// divided among the candidate's paths that use it) — and the
	// water-filling share with those bandwidths; and the controller's
	// split: that one, or all on the fastest single path, whichever the
	// controller estimates faster (the wf baseline's split).
	PathFeatures = 13
)

// Column indices of the controller's estimates in the feature rows.
const (
	// NodeEstRatio is the node column log(est_i / min_k est_k) of the
	// estimated response latencies.
	NodeEstRatio = 9
	// PathWaterFill is the path column of the water-filling share.
	PathWaterFill = 8
	// PathSplit is the path column of the controller's split.
	PathSplit = 12
)

// Obs is what the controller sees when a task arrives: the task, its K
// candidate compute nodes and the P candidate paths from the access point
// to each of them. Path j of candidate i is row i·P + j of Paths.
//
// An Obs is an immutable snapshot: the environment never changes one it
// has returned.
type Obs struct {
	K, P int
	// Task holds TaskFeatures values.
	Task []float32
	// Nodes is K × NodeFeatures, row-major.
	Nodes []float32
	// Paths is K·P × PathFeatures, row-major.
	Paths []float32
	// NodeMask[i] is false when candidate i does not exist (fewer compute
	// nodes than K; their rows hold zeros); PathMask[i·P+j] is false when
	// candidate i has fewer than j+1 loop-free paths: the row then repeats
	// an earlier path, and a ratio given to it is added to that path.
	NodeMask []bool
	PathMask []bool
	// Overlap[(i·P+j)·P+k] is true when the distinct paths j ≠ k of
	// candidate i share a link (nil: unknown, as no overlap).
	Overlap []bool `json:",omitempty"`
}

// Features implements rl.Vector: the task, node and path features
// concatenated (for MLP encoders such as the ablation and the DQN
// baseline).
func (o Obs) Features() []float32 {
	f := make([]float32, 0, len(o.Task)+len(o.Nodes)+len(o.Paths))
	f = append(f, o.Task...)
	f = append(f, o.Nodes...)
	return append(f, o.Paths...)
}

// ActionMask implements rl.Masked: the candidates that exist.
func (o Obs) ActionMask() []bool { return o.NodeMask }
