package cpn

// Obs is what the controller sees when a task arrives: the task, its K
// candidate compute nodes and the P candidate paths from the access point
// to each of them, in physical units. Path j of candidate i is
// Paths[i·P + j]. Models turn it into features (models/rlms.Encode); the
// wf baseline decides from it alone (WaterFillingFromObs).
//
// An Obs is an immutable snapshot: the environment never changes one it
// has returned.
type Obs struct {
	K, P int
	// Task is the task to place (its Arrival, AP, Arch, Images, Bytes).
	Task Task
	// Nodes has K entries; a candidate that does not exist (fewer
	// compute nodes than K) is the zero Candidate with NodeMask false.
	Nodes []Candidate
	// Paths has K·P entries. A candidate with fewer than P loop-free
	// paths repeats an earlier path in the remaining rows (PathMask
	// false there): the row copies that path's measurements, its shares
	// are 0, and a ratio given to it is added to the path it repeats.
	Paths []Path
	// NodeMask[i] is false when candidate i does not exist; PathMask[i·P+j]
	// is false when path row j of candidate i repeats an earlier one or its
	// candidate does not exist.
	NodeMask []bool
	PathMask []bool
	// Overlap[(i·P+j)·P+k] is true when the distinct paths j ≠ k of
	// candidate i share a link (nil: unknown, as no overlap).
	Overlap []bool `json:",omitempty"`
}

// Candidate is one candidate compute node as the controller sees it: the
// predicted compute latency, the node's backlog, and the controller's
// estimates of the transfer from its probes (see Path).
type Candidate struct {
	// ComputeMs is the predicted compute latency of the task on the node.
	ComputeMs float64
	// WaitMs is how long the task would wait for the node (its backlog).
	WaitMs float64
	// Hops is the hop count from the task's access point to the node.
	Hops int
	// Class is the node's device class.
	Class Class
	// WaterFillMs is the transfer time of the water-filling split with
	// each path at its own bottleneck (paths taken as independent: a
	// lower bound when they share links).
	WaterFillMs float64
	// SharedWaterFillMs is the transfer time of the water-filling split
	// with every path at its shared bottleneck (each link's available
	// bandwidth divided among the candidate's paths that use it).
	SharedWaterFillMs float64
	// SinglePathMs is the transfer time on the fastest single path.
	SinglePathMs float64
	// EstimateMs is the controller's estimated response latency
	// ComputeMs + max(WaitMs, T), with T the better of SharedWaterFillMs
	// and SinglePathMs (both achievable); the wf baseline picks the
	// smallest.
	EstimateMs float64
}

// Path is one candidate path as the controller measures it.
type Path struct {
	// ProbeMs is the mean one-way delay of the path's probes.
	ProbeMs float64
	// PropMs is the propagation delay.
	PropMs float64
	// BottleneckBps is the bandwidth a new flow gets on the path's
	// tightest link (bit/s).
	BottleneckBps float64
	// Hops is the number of links.
	Hops int
	// Util is the utilisation of the busiest link, in [0, 1).
	Util float64
	// AloneMs is the estimated time to send all the task's data on this
	// path alone: ProbeMs + bits / BottleneckBps.
	AloneMs float64
	// SharedLinks is the share of the path's links that another of the
	// candidate's paths also uses.
	SharedLinks float64
	// SharedBottleneckBps is the path's bandwidth when all of the
	// candidate's paths carry data (each link's available bandwidth
	// divided among the candidate's paths that use it).
	SharedBottleneckBps float64

	// Shares among the candidate's distinct paths (0 on repeated rows).

	// BandwidthShare is b_j / Σ b of the bottleneck bandwidths.
	BandwidthShare float64
	// SpeedShare is (1/T_j) / Σ 1/T of the inverse AloneMs times.
	SpeedShare float64
	// WaterFill is the share of the water-filling split (every path
	// finishes at the same time given its probed delay and bottleneck
	// bandwidth; exact when the paths share no link).
	WaterFill float32
	// SharedWaterFill is the water-filling share with the shared
	// bottlenecks.
	SharedWaterFill float32
	// Split is the controller's split: SharedWaterFill, or all on the
	// fastest single path, whichever it estimates faster (the wf
	// baseline's split).
	Split float32
}

// ActionMask implements rl.Masked: the candidates that exist.
func (o Obs) ActionMask() []bool { return o.NodeMask }
