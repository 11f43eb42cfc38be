package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Resources are amounts of the resources a node has and a strategy needs,
// in the units of the paper's Table 3.
type Resources struct {
	// CPU cores and memory (MB).
	CPU float64 `json:"cpu"`
	Mem float64 `json:"mem_mb"`
	// Accelerator units (GPUs or NPUs) and their memory (MB).
	Accel    float64 `json:"accel"`
	AccelMem float64 `json:"accel_mem_mb"`
	// Network: bandwidth share (Table 3's N_rk) and buffer (N_rm, MB).
	Net    float64 `json:"net"`
	NetMem float64 `json:"net_mem_mb"`
	// Disk (MB).
	Disk float64 `json:"disk_mb"`
}

// NumResources is the number of resource kinds.
const NumResources = 7

// Vec returns r as a vector in field order.
func (r Resources) Vec() [NumResources]float64 {
	return [NumResources]float64{r.CPU, r.Mem, r.Accel, r.AccelMem, r.Net, r.NetMem, r.Disk}
}

func fromVec(v [NumResources]float64) Resources {
	return Resources{v[0], v[1], v[2], v[3], v[4], v[5], v[6]}
}

// ResourceNames name the resources in Vec order.
var ResourceNames = [NumResources]string{"cpu", "mem_mb", "accel", "accel_mem_mb", "net", "net_mem_mb", "disk_mb"}

// Cluster is a group of identical nodes.
type Cluster struct {
	// Name identifies the cluster in strategies ("cloud", "edge", "end").
	Name string `json:"name"`
	// Nodes is the number of nodes; Node the capacity of each.
	Nodes int       `json:"nodes"`
	Node  Resources `json:"node"`
	// Processors are the execution units a strategy may name besides
	// "cpu" (e.g. "gpu", "npu"); they share the node's accelerator units.
	Processors []string `json:"processors"`
}

// Strategy is one way to run a task type: on a cluster's processor, with
// its demands and its run time (s).
type Strategy struct {
	Cluster   string    `json:"cluster"`
	Processor string    `json:"processor"`
	Demand    Resources `json:"demand"`
	Runtime   float64   `json:"runtime_s"`
}

// TaskType is a kind of task and its strategies.
type TaskType struct {
	Name       string     `json:"name"`
	Strategies []Strategy `json:"strategies"`
}

// Queue describes how tasks arrive: Tasks tasks at times uniform in
// [0, Horizon) s, each of a type drawn uniformly (the paper: 100 tasks in
// 1,000 s for the stable queue, 2,000 for the burst queue).
type Queue struct {
	Tasks   int     `json:"tasks"`
	Horizon float64 `json:"horizon_s"`
}

// Weights are the reward's α (completion time), β (waiting time) and σ
// (utilisation), summing to 1 (equation 12).
type Weights struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	Sigma float64 `json:"sigma"`
}

// Config is a system: clusters, task types, the queue and the reward.
type Config struct {
	Clusters  []Cluster  `json:"clusters"`
	TaskTypes []TaskType `json:"task_types"`
	Queue     Queue      `json:"queue"`
	Weights   Weights    `json:"weights"`
	// MaxStrategies bounds the strategies of a task type on one cluster
	// (the action space has Nodes × MaxStrategies + 1 actions); 0 means
	// the largest the task types need.
	MaxStrategies int `json:"max_strategies,omitempty"`
	// MaxQueue is the number of waiting tasks the observation lists
	// (oldest first; the count of all is a global feature); 0 means 64.
	MaxQueue int `json:"max_queue,omitempty"`
	// Reward is the reward: RewardPaper ("" too) or RewardJCT.
	Reward string `json:"reward,omitempty"`
	// RewardScale multiplies RewardJCT's rewards; 0 means 1/(100 s ×
	// the queue's tasks), so that a queue's return is minus its average
	// completion time in units of 100 s.
	RewardScale float64 `json:"reward_scale,omitempty"`
	// WaitCost is what a wait costs under RewardJCT, in task-seconds (as
	// if one task stayed one more second in the system); 0 means 1. A wait
	// moves no clock, so without it waiting would be free and a policy
	// could pass over tasks at will (the paper's −1 per wait plays the
	// same part in equation 13).
	WaitCost float64 `json:"wait_cost,omitempty"`
	// MaxWaits bounds an episode's waits (the wait action): once spent,
	// waiting is not allowed, so every episode ends within Tasks +
	// MaxWaits decisions; 0 means 10 × the queue's tasks.
	MaxWaits int `json:"max_waits,omitempty"`
}

// Rewards.
const (
	// RewardPaper is equations 13–17: −1 for waiting, R(t) for a
	// placement.
	RewardPaper = "paper"
	// RewardJCT is −(tasks in the system) × (time elapsed) between
	// decisions (Decima's reward, Mao et al. 2019): an episode's return
	// is −Σ completion times (× RewardScale), so maximising it minimises
	// the average completion time, the paper's headline metric.
	RewardJCT = "jct"
)

// Stable and Burst are the paper's two queues (section 5.1).
var (
	Stable = Queue{Tasks: 100, Horizon: 1000}
	Burst  = Queue{Tasks: 2000, Horizon: 1000}
)

// Limits on configurations (a typo must not allocate the machine away).
const (
	MaxNodes = 4096
	MaxTasks = 1_000_000
)

// PaperConfig is the paper's testbed (section 5.1) and task table (Table
// 3) with the stable queue; docs/dsppo.md lists every reading of the
// table this needs.
//
//   - Cloud: 15 servers of 8 cores (Xeon E5-2620 v4), 64 GB, 4 A100
//     (16 GB each), 10 TB SSD. Edge: 10 of 2 cores (A55), 8 GB, 2 Jetson
//     Xavier NX (8 GB), 1 TB. End: 8 of 4 cores (Cortex-A57), 16 GB, 2
//     Jetson Nano (4 GB), 500 GB. (GB and TB as 1024 MB and 1024² MB.)
//   - Network capacity is not in the paper: 10 bandwidth units and 16 GB
//     of buffers on a cloud server, 5 and 4 GB at the edge, 2.5 and 4 GB
//     at the end (Table 3's network demands reach 3.41 units and 2.5 GB).
//   - Table 3's "N" columns are the NPU's demand in the one row where the
//     G columns are empty and the processor is the NPU (AI-intensive on
//     the edge NPU), the network's elsewhere (they appear in CPU rows of
//     the cloud, which has no NPU).
//   - A CPU strategy uses no accelerator: the AI-intensive edge CPU row's
//     G_rm of 1,898 MB with G_rk 0 is dropped (a column shift).
//   - The Xavier NX serves the edge's "npu" and "gpu" strategies (one pool
//     of 2 units per node).
//   - Three edge strategies need more cores than an edge node's 2 (I/O on
//     the NPU: 2.05, on the GPU: 3.56; network on the CPU: 2.67) and can
//     never run; they are kept as the paper lists them (always masked).
//   - The end-device row of the network-intensive type repeats the I/O
//     type's (as printed).
func PaperConfig() Config {
	gb := 1024.0
	return Config{
		Clusters: []Cluster{
			{Name: "cloud", Nodes: 15, Node: Resources{CPU: 8, Mem: 64 * gb, Accel: 4, AccelMem: 4 * 16 * gb, Net: 10, NetMem: 16 * gb, Disk: 10 * gb * gb}, Processors: []string{"gpu"}},
			{Name: "edge", Nodes: 10, Node: Resources{CPU: 2, Mem: 8 * gb, Accel: 2, AccelMem: 2 * 8 * gb, Net: 5, NetMem: 4 * gb, Disk: gb * gb}, Processors: []string{"npu", "gpu"}},
			{Name: "end", Nodes: 8, Node: Resources{CPU: 4, Mem: 16 * gb, Accel: 2, AccelMem: 2 * 4 * gb, Net: 2.5, NetMem: 4 * gb, Disk: 500 * gb}, Processors: []string{"gpu"}},
		},
		TaskTypes: []TaskType{
			{Name: "ai", Strategies: []Strategy{
				st("cloud", "cpu", 0.53, 1664, 0, 0, 0, 0, 25, 65),
				st("cloud", "gpu", 0.21, 1021, 0.43, 1898, 0, 0, 8, 12),
				st("edge", "cpu", 1.21, 768, 0, 0, 0, 0, 28, 1021),
				st("edge", "npu", 0.45, 1024, 0.48, 1024, 0, 0, 10, 101),
				st("end", "cpu", 1.11, 888, 0, 0, 0, 0, 34, 892),
			}},
			{Name: "memory", Strategies: []Strategy{
				st("cloud", "cpu", 0.12, 2212, 0, 0, 0, 0, 23, 11),
				st("edge", "cpu", 0.18, 2021, 0, 0, 0, 0, 18, 42),
				st("end", "cpu", 0.81, 1989, 0, 0, 0, 0, 19, 28),
			}},
			{Name: "io", Strategies: []Strategy{
				st("cloud", "cpu", 2.61, 1232, 0, 0, 1.34, 124, 99, 234),
				st("cloud", "gpu", 1.58, 893, 0.98, 937, 0.67, 79, 83, 125),
				st("edge", "cpu", 1.23, 467, 0, 0, 2.31, 576, 132, 89),
				st("edge", "npu", 2.05, 1032, 1.14, 683, 1.87, 114, 257, 134),
				st("edge", "gpu", 3.56, 779, 1.74, 1145, 0.95, 436, 65, 76),
				st("end", "cpu", 0.65, 2410, 0, 0, 1.46, 1968, 86, 198),
			}},
			{Name: "network", Strategies: []Strategy{
				st("cloud", "cpu", 1.68, 345, 0, 0, 3.41, 1158, 23, 101),
				st("edge", "cpu", 2.67, 1156, 0, 0, 2.65, 2512, 78, 231),
				st("edge", "gpu", 1.99, 886, 1.54, 876, 2.21, 1028, 144, 122),
				st("end", "cpu", 0.65, 2410, 0, 0, 1.46, 1968, 86, 198),
			}},
			{Name: "storage", Strategies: []Strategy{
				st("cloud", "cpu", 0.09, 221, 0, 0, 0, 0, 2098, 18),
				st("edge", "cpu", 0.23, 80, 0, 0, 0, 0, 1989, 125),
				st("end", "cpu", 0.98, 101, 0, 0, 0, 0, 2012, 56),
			}},
		},
		Queue:   Stable,
		Weights: Weights{Alpha: 0.5, Beta: 0.2, Sigma: 0.3},
	}
}

func st(cluster, proc string, cpu, mem, acc, accMem, net, netMem, disk, runtime float64) Strategy {
	return Strategy{Cluster: cluster, Processor: proc, Runtime: runtime,
		Demand: Resources{CPU: cpu, Mem: mem, Accel: acc, AccelMem: accMem, Net: net, NetMem: netMem, Disk: disk}}
}

// Nodes is the number of nodes of all clusters.
func (c Config) Nodes() int {
	n := 0
	for _, cl := range c.Clusters {
		n += cl.Nodes
	}
	return n
}

// strategiesPerCluster is the largest number of strategies a task type
// has on one cluster.
func (c Config) strategiesPerCluster() int {
	m := 0
	for _, tt := range c.TaskTypes {
		count := map[string]int{}
		for _, s := range tt.Strategies {
			count[s.Cluster]++
			m = max(m, count[s.Cluster])
		}
	}
	return m
}

// Slots is the number of strategy slots per node in the action space.
func (c Config) Slots() int {
	if c.MaxStrategies > 0 {
		return c.MaxStrategies
	}
	return c.strategiesPerCluster()
}

// QueueView is the number of waiting tasks an observation lists.
func (c Config) QueueView() int {
	if c.MaxQueue > 0 {
		return c.MaxQueue
	}
	return 64
}

// Validate reports what makes c unusable, naming the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Clusters) == 0 {
		bad("clusters: none")
	}
	names := map[string]Cluster{}
	nodes := 0
	for i, cl := range c.Clusters {
		switch {
		case cl.Name == "":
			bad("clusters[%d].name: empty", i)
		case names[cl.Name].Name != "":
			bad("clusters[%d].name: %q repeats", i, cl.Name)
		}
		if cl.Nodes < 0 || cl.Nodes > MaxNodes {
			bad("clusters[%d] (%s).nodes: %d outside [0, %d]", i, cl.Name, cl.Nodes, MaxNodes)
		}
		nodes += max(0, cl.Nodes)
		for k, v := range cl.Node.Vec() {
			if !(v >= 0) || math.IsInf(v, 0) {
				bad("clusters[%d] (%s).node.%s: %v is not a finite non-negative amount", i, cl.Name, ResourceNames[k], v)
			}
		}
		for _, p := range cl.Processors {
			if p == "" || p == "cpu" {
				bad("clusters[%d] (%s).processors: %q (cpu is implicit)", i, cl.Name, p)
			}
		}
		names[cl.Name] = cl
	}
	if nodes == 0 && len(c.Clusters) > 0 {
		bad("clusters: no nodes")
	}
	if nodes > MaxNodes {
		bad("clusters: %d nodes in all, more than %d", nodes, MaxNodes)
	}
	if len(c.TaskTypes) == 0 {
		bad("task_types: none")
	}
	for i, tt := range c.TaskTypes {
		if tt.Name == "" {
			bad("task_types[%d].name: empty", i)
		}
		runnable := false
		for j, s := range tt.Strategies {
			where := fmt.Sprintf("task_types[%d] (%s).strategies[%d]", i, tt.Name, j)
			cl, ok := names[s.Cluster]
			if !ok {
				bad("%s.cluster: %q is not a cluster", where, s.Cluster)
				continue
			}
			if s.Processor != "cpu" && !contains(cl.Processors, s.Processor) {
				bad("%s.processor: %q is not a processor of cluster %s (cpu or one of %v)", where, s.Processor, cl.Name, cl.Processors)
			}
			for k, v := range s.Demand.Vec() {
				if !(v >= 0) || math.IsInf(v, 0) {
					bad("%s.demand.%s: %v is not a finite non-negative amount", where, ResourceNames[k], v)
				}
			}
			if !(s.Runtime > 0) || math.IsInf(s.Runtime, 0) {
				bad("%s.runtime_s: %v must be positive and finite", where, s.Runtime)
			}
			if cl.Nodes > 0 && fits(s.Demand.Vec(), cl.Node.Vec()) {
				runnable = true
			}
		}
		if !runnable && len(errs) == 0 {
			bad("task_types[%d] (%s): no strategy fits an empty node of its cluster: its tasks could never run", i, tt.Name)
		}
	}
	if c.Queue.Tasks < 1 || c.Queue.Tasks > MaxTasks {
		bad("queue.tasks: %d outside [1, %d]", c.Queue.Tasks, MaxTasks)
	}
	if !(c.Queue.Horizon >= 0) || math.IsInf(c.Queue.Horizon, 0) {
		bad("queue.horizon_s: %v must be finite and non-negative", c.Queue.Horizon)
	}
	w := c.Weights
	if !(w.Alpha >= 0 && w.Beta >= 0 && w.Sigma >= 0) || math.Abs(w.Alpha+w.Beta+w.Sigma-1) > 1e-9 {
		bad("weights: alpha %v + beta %v + sigma %v must be non-negative and sum to 1", w.Alpha, w.Beta, w.Sigma)
	}
	if c.MaxStrategies < 0 || c.MaxStrategies > 64 {
		bad("max_strategies: %d outside [0, 64]", c.MaxStrategies)
	} else if c.MaxStrategies > 0 && c.MaxStrategies < c.strategiesPerCluster() {
		bad("max_strategies: %d, but a task type has %d strategies on one cluster", c.MaxStrategies, c.strategiesPerCluster())
	}
	if c.Reward != "" && c.Reward != RewardPaper && c.Reward != RewardJCT {
		bad("reward: %q (want %q or %q)", c.Reward, RewardPaper, RewardJCT)
	}
	if !(c.RewardScale >= 0) || math.IsInf(c.RewardScale, 0) {
		bad("reward_scale: %v must be finite and non-negative", c.RewardScale)
	}
	if !(c.WaitCost >= 0) || math.IsInf(c.WaitCost, 0) {
		bad("wait_cost: %v must be finite and non-negative", c.WaitCost)
	}
	if c.MaxWaits < 0 || c.MaxWaits > 100*MaxTasks {
		bad("max_waits: %d outside [0, %d]", c.MaxWaits, 100*MaxTasks)
	}
	if c.MaxQueue < 0 || c.MaxQueue > 100000 {
		bad("max_queue: %d outside [0, 100000]", c.MaxQueue)
	}
	return errors.Join(errs...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// fits reports whether demand d fits in free resources f (with a relative
// slack of 1e-9 for sums of released amounts).
func fits(d, f [NumResources]float64) bool {
	for k := range d {
		if d[k] > f[k]+1e-9*math.Max(1, math.Abs(f[k])) {
			return false
		}
	}
	return true
}

// LoadConfig reads a cluster file: JSON, or YAML when the name ends in
// .yaml or .yml (the same fields). Unknown fields are errors; the result
// is validated.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		if b, err = yamlToJSON(b); err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes a JSON configuration (unknown fields are errors)
// and validates it. An omitted queue is the paper's stable queue, omitted
// weights the paper's ordering (α 0.5, β 0.2, σ 0.3: PaperConfig's).
func ParseConfig(b []byte) (Config, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Config{}, errors.New("cluster config: the file is empty")
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("cluster config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("cluster config: data after the configuration")
	}
	if c.Queue == (Queue{}) {
		c.Queue = Stable
	}
	if c.Weights == (Weights{}) {
		c.Weights = PaperConfig().Weights
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("cluster config: %w", err)
	}
	return c, nil
}
