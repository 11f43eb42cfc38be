package cpn

import (
	"fmt"
	"math"
	"strings"
)

// Mix names a task mix (the RLMS-CPN paper's section 4.7).
type Mix string

// Task mixes.
const (
	// Mixed draws IO-heavy and compute-heavy tasks with probability ½ each.
	Mixed Mix = "mixed"
	// IOHeavy tasks send 100 KB, 1 MB or 10 MB (uniformly) for one
	// inference.
	IOHeavy Mix = "io"
	// ComputeHeavy tasks run 64–2048 inferences (log-uniform) on 32×32×3
	// CIFAR images (3,072 bytes each, sent with the task).
	ComputeHeavy Mix = "compute"
)

// Mixes lists the task mixes.
var Mixes = []Mix{Mixed, IOHeavy, ComputeHeavy}

// Config describes a computing-power network simulation. DefaultConfig
// gives the paper's Abilene setting.
type Config struct {
	// Topology is a name of topology.Names (abilene, ebone, sprintlink,
	// tiscali, uscarrier, kdl, internet2) read from DataDir, or "waxman"
	// for a generated topology of WaxmanNodes nodes (no data needed).
	Topology    string
	WaxmanNodes int
	// TopologyFile, when set, is a topology file of the user's (Topology
	// Zoo GML, or CFR-RL's text format) used instead of Topology.
	TopologyFile string `json:",omitempty"`
	// DataDir is the data sets root (CPNTRAIN_DATA): the topology files,
	// the Abilene traffic matrices and the NAS-Bench-201 latencies.
	DataDir string
	// AccessPoints is the number of access points; 0 picks 2 on graphs of
	// at most 12 nodes (the paper's Abilene: 2 access points, 5 CPUs, 5
	// GPUs) and one node in six otherwise.
	AccessPoints int
	// OtherFraction is the fraction of compute nodes with an "other"
	// device (FPGA, Eyeriss ASIC, Raspberry Pi 4) on graphs of more than
	// 12 nodes; the rest is split evenly between CPUs and GPUs.
	OtherFraction float64
	// PlacementSeed fixes which node is an access point and which device
	// each compute node has (the network, as opposed to the episode).
	PlacementSeed uint64
	// K is the number of candidate compute nodes per task and P the number
	// of candidate paths to each (k shortest by propagation delay).
	K, P int
	// Mix is the task mix.
	Mix Mix
	// ArrivalRate is the Poisson arrival rate of tasks per second (over
	// all access points), Tasks the number of tasks per episode.
	ArrivalRate float64
	Tasks       int
	// Load scales the background traffic: the mean, over traffic-matrix
	// intervals, of the most utilised link's utilisation.
	Load float64
	// Probes is the number of back-to-back probes per path, ProbeBytes
	// their size.
	Probes     int
	ProbeBytes float64
	// QueueBurst is the service unit, in bytes, of each link's M/M/1
	// queueing delay (burst/capacity · u/(1−u) at utilisation u).
	QueueBurst float64
	// MinShare is the smallest fraction of a link's capacity a new flow
	// gets, however loaded the link.
	MinShare float64
	// MinSplit is the smallest share of a task's data worth a flowlet: a
	// path given a smaller ratio carries nothing, and the other paths'
	// ratios are scaled up to sum to 1. Without it a stochastic split
	// (whose samples are never exactly 0) would always use every path and
	// pay the slowest one's delay. It must be below 1/P.
	MinSplit float64
	// RewardScale is the latency, in ms, of one unit of negative reward.
	RewardScale float64
	// Tenants is the share of every compute node's time taken by other
	// tenants' jobs the controller does not see (0: none, the paper's
	// dedicated nodes). Their jobs alternate with idle gaps on each node,
	// both exponential, busy periods of mean TenantJobMs; neither side
	// preempts the other (see Env).
	Tenants     float64 `json:",omitempty"`
	TenantJobMs float64 `json:",omitempty"`
	// ProbeNoise makes probes samples: each probe sees every link's cross
	// traffic at bg·max(0, 1 + ProbeNoise·z), z standard normal (the
	// variation within a traffic-matrix interval), and the observation's
	// delays, utilisations and available bandwidths are the means over the
	// probes (0: the probes see the interval's exact state).
	ProbeNoise float64 `json:",omitempty"`
	// TrafficDrift interpolates the background linearly between
	// consecutive traffic-matrix intervals (matrix i holds at the start of
	// interval i and turns into matrix i+1 over its 5 minutes) instead of
	// holding each matrix for its whole interval.
	TrafficDrift bool `json:",omitempty"`
	// BurstShare > 0 adds bursts of cross traffic on top of the matrices:
	// time is cut into slots of BurstMs, and in each slot every link
	// independently carries BurstSize·capacity more with probability
	// BurstShare (on/off bursts, runs of geometric length). A slot's state
	// is a hash of the episode seed, the link and the slot, so the future
	// is fixed (the lookahead oracle meets the same bursts).
	BurstShare float64 `json:",omitempty"`
	BurstSize  float64 `json:",omitempty"`
	BurstMs    float64 `json:",omitempty"`
	// ProbeAgeMs is the age of the controller's measurements: the probes
	// saw the background ProbeAgeMs before the decision (a controller that
	// probes periodically), while the transfer meets it when it starts.
	// The controller's own flows are known to it and seen as they are now.
	ProbeAgeMs float64 `json:",omitempty"`
}

// DefaultConfig returns the Abilene setting: 2 access points, 5 CPUs and
// 5 GPUs, K = 5 candidates, P = 3 paths, mixed tasks at 50 per second,
// 100 tasks per episode, background load 0.5.
func DefaultConfig() Config {
	return Config{
		Topology:      "abilene",
		WaxmanNodes:   30,
		OtherFraction: 0.2,
		PlacementSeed: 1,
		K:             5,
		P:             3,
		Mix:           Mixed,
		ArrivalRate:   50,
		Tasks:         100,
		Load:          0.5,
		Probes:        3,
		ProbeBytes:    64,
		QueueBurst:    64 << 10,
		MinShare:      0.02,
		MinSplit:      0.02,
		RewardScale:   100,
	}
}

// Bounds of the task stream: the simulated clock of a whole training run
// (MaxTasks per episode at MinArrivalRate, over millions of episodes) stays
// far from the range where the traffic-matrix interval index overflows.
const (
	MinArrivalRate = 1e-3 // tasks per second: one every ~17 minutes
	MaxArrivalRate = 1e6
	MaxTasks       = 1_000_000
	// MaxTenants bounds Config.Tenants: a node always busy with other
	// tenants would never serve a task.
	MaxTenants = 0.95
)

// Validate reports settings out of range.
func (c Config) Validate() error {
	switch {
	case c.Topology == "" && c.TopologyFile == "":
		return fmt.Errorf("cpn: no topology")
	case strings.EqualFold(c.Topology, "waxman") && c.WaxmanNodes < 4:
		return fmt.Errorf("cpn: WaxmanNodes %d < 4", c.WaxmanNodes)
	case c.AccessPoints < 0:
		return fmt.Errorf("cpn: AccessPoints %d < 0", c.AccessPoints)
	case !(c.OtherFraction >= 0 && c.OtherFraction <= 1):
		return fmt.Errorf("cpn: OtherFraction %v outside [0,1]", c.OtherFraction)
	case c.K < 1 || c.K > 64:
		return fmt.Errorf("cpn: K %d outside [1,64]", c.K)
	case c.P < 1 || c.P > 16:
		return fmt.Errorf("cpn: P %d outside [1,16]", c.P)
	case c.Mix != Mixed && c.Mix != IOHeavy && c.Mix != ComputeHeavy:
		return fmt.Errorf("cpn: unknown task mix %q (want mixed, io or compute)", c.Mix)
	case !(c.ArrivalRate >= MinArrivalRate && c.ArrivalRate <= MaxArrivalRate):
		return fmt.Errorf("cpn: ArrivalRate %v outside [%g, %g] tasks per second", c.ArrivalRate, MinArrivalRate, MaxArrivalRate)
	case c.Tasks < 1 || c.Tasks > MaxTasks:
		return fmt.Errorf("cpn: Tasks %d outside [1, %d]", c.Tasks, MaxTasks)
	case !(c.Load >= 0 && c.Load < 1):
		return fmt.Errorf("cpn: Load %v outside [0,1)", c.Load)
	case c.Probes < 1:
		return fmt.Errorf("cpn: Probes %d < 1", c.Probes)
	case !(c.ProbeBytes > 0) || !(c.QueueBurst >= 0) || math.IsInf(c.ProbeBytes+c.QueueBurst, 0):
		return fmt.Errorf("cpn: ProbeBytes %v and QueueBurst %v must be positive", c.ProbeBytes, c.QueueBurst)
	case !(c.MinShare > 0 && c.MinShare <= 1):
		return fmt.Errorf("cpn: MinShare %v outside (0,1]", c.MinShare)
	case !(c.MinSplit >= 0 && c.MinSplit < 1/float64(c.P)):
		return fmt.Errorf("cpn: MinSplit %v outside [0, 1/P = %v)", c.MinSplit, 1/float64(c.P))
	case !(c.RewardScale > 0) || math.IsInf(c.RewardScale, 0):
		return fmt.Errorf("cpn: RewardScale %v must be positive", c.RewardScale)
	case !(c.Tenants >= 0 && c.Tenants <= MaxTenants):
		return fmt.Errorf("cpn: Tenants %v outside [0, %g]", c.Tenants, MaxTenants)
	case !(c.ProbeNoise >= 0 && c.ProbeNoise <= 10):
		return fmt.Errorf("cpn: ProbeNoise %v outside [0, 10]", c.ProbeNoise)
	case !(c.BurstShare >= 0 && c.BurstShare <= 1):
		return fmt.Errorf("cpn: BurstShare %v outside [0, 1]", c.BurstShare)
	case c.BurstShare > 0 && !(c.BurstSize > 0 && c.BurstSize <= 10):
		return fmt.Errorf("cpn: BurstSize %v outside (0, 10] (a multiple of each link's capacity)", c.BurstSize)
	case c.BurstShare > 0 && !(c.BurstMs >= 0.001 && c.BurstMs <= 1e6):
		return fmt.Errorf("cpn: BurstMs %v outside [0.001, 1e6] ms", c.BurstMs)
	case !(c.ProbeAgeMs >= 0 && c.ProbeAgeMs <= 1e6):
		return fmt.Errorf("cpn: ProbeAgeMs %v outside [0, 1e6] ms", c.ProbeAgeMs)
	case c.Tenants > 0 && !(c.TenantJobMs > 0 && c.TenantJobMs <= 1e6):
		return fmt.Errorf("cpn: TenantJobMs %v outside (0, 1e6] ms", c.TenantJobMs)
	}
	return nil
}
