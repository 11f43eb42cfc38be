package rlms

import (
	"fmt"
	"math"

	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// The feature encoding of an observation: what the networks see of each
// task, candidate and path. Times and bandwidths span orders of magnitude,
// so they enter as log1p of a value in a chosen unit; counts are divided
// by a scale; shares enter as they are.
const (
	// TaskFeatures per task: log10 of its data in DataUnit, log2 of its
	// number of inferences.
	TaskFeatures = 2
	// NodeFeatures per candidate compute node, columns Node*.
	NodeFeatures = 12
	// PathFeatures per candidate path, columns Path*.
	PathFeatures = 13

	// DataUnit is the unit of the task's data size (bytes): MB.
	DataUnit = 1e6
	// BandwidthUnit is the unit of bandwidths (bit/s): Gbit/s.
	BandwidthUnit = 1e9
	// HopScale divides hop counts.
	HopScale = 10
	// PropScaleMs divides propagation delays in ms.
	PropScaleMs = 10
)

// Columns of a candidate's feature row. Times are in ms.
const (
	NodeCompute    = 0  // log1p(ComputeMs)
	NodeWait       = 1  // log1p(WaitMs)
	NodeHops       = 2  // Hops / HopScale
	NodeClass      = 3  // the device class one-hot: CPU, GPU, other (columns 3, 4, 5)
	NodeFinish     = 6  // log1p(ComputeMs + WaitMs)
	NodeWaterFill  = 7  // log1p(WaterFillMs)
	NodeEstimate   = 8  // log1p(EstimateMs)
	NodeEstRatio   = 9  // log(EstimateMs / the smallest EstimateMs among the candidates)
	NodeSharedWF   = 10 // log1p(SharedWaterFillMs)
	NodeSinglePath = 11 // log1p(SinglePathMs)
)

// Columns of a path's feature row. Times are in ms.
const (
	PathProbe            = iota // log1p(ProbeMs)
	PathProp                    // PropMs / PropScaleMs
	PathBottleneck              // log1p(BottleneckBps / BandwidthUnit)
	PathHops                    // Hops / HopScale
	PathUtil                    // Util
	PathAlone                   // log1p(AloneMs)
	PathBandwidthShare          // BandwidthShare
	PathSpeedShare              // SpeedShare
	PathWaterFill               // WaterFill
	PathSharedLinks             // SharedLinks
	PathSharedBottleneck        // log1p(SharedBottleneckBps / BandwidthUnit)
	PathSharedWaterFill         // SharedWaterFill
	PathSplit                   // Split
)

// numClasses is the width of the class one-hot.
const numClasses = NodeFinish - NodeClass

// Features is an observation encoded: row-major feature rows.
type Features struct {
	Task  []float32 // TaskFeatures
	Nodes []float32 // K × NodeFeatures; zeros for a candidate that does not exist
	Paths []float32 // K·P × PathFeatures
}

// Encode returns the feature rows of o (which must have K candidates and
// K·P paths). The model encodes its batches the same way.
func Encode(o cpn.Obs) Features {
	f := Features{Task: make([]float32, TaskFeatures), Nodes: make([]float32, o.K*NodeFeatures), Paths: make([]float32, o.K*o.P*PathFeatures)}
	encodeTask(o.Task, f.Task)
	minEst := minEstimate(o)
	for i := range o.K {
		if o.NodeMask == nil || o.NodeMask[i] {
			encodeNode(&o.Nodes[i], minEst, f.Nodes[i*NodeFeatures:(i+1)*NodeFeatures])
		}
	}
	for q := range o.Paths {
		encodePath(&o.Paths[q], f.Paths[q*PathFeatures:(q+1)*PathFeatures])
	}
	return f
}

func encodeTask(t cpn.Task, dst []float32) {
	dst[0] = float32(math.Log10(t.Bytes / DataUnit))
	dst[1] = float32(math.Log2(float64(t.Images)))
}

// minEstimate is the smallest EstimateMs among o's candidates.
func minEstimate(o cpn.Obs) float64 {
	m := math.Inf(1)
	for i := range o.K {
		if o.NodeMask == nil || o.NodeMask[i] {
			m = math.Min(m, o.Nodes[i].EstimateMs)
		}
	}
	return m
}

// encodeNode writes candidate c's row. Equal inputs give equal features,
// so where two inputs are equal (no backlog: finish = compute; paths that
// share no link: shared water-filling = water-filling) the logarithm is
// computed once; the result is the same bits.
func encodeNode(c *cpn.Candidate, minEst float64, dst []float32) {
	dst[NodeCompute] = float32(math.Log1p(c.ComputeMs))
	if c.WaitMs == 0 {
		dst[NodeWait], dst[NodeFinish] = 0, dst[NodeCompute]
	} else {
		dst[NodeWait] = float32(math.Log1p(c.WaitMs))
		dst[NodeFinish] = float32(math.Log1p(c.ComputeMs + c.WaitMs))
	}
	dst[NodeHops] = float32(c.Hops) / HopScale
	for k := range numClasses {
		dst[NodeClass+k] = 0
	}
	dst[NodeClass+int(c.Class)] = 1
	dst[NodeWaterFill] = float32(math.Log1p(c.WaterFillMs))
	dst[NodeEstimate] = float32(math.Log1p(c.EstimateMs))
	dst[NodeEstRatio] = float32(math.Log(c.EstimateMs / minEst))
	if c.SharedWaterFillMs == c.WaterFillMs {
		dst[NodeSharedWF] = dst[NodeWaterFill]
	} else {
		dst[NodeSharedWF] = float32(math.Log1p(c.SharedWaterFillMs))
	}
	dst[NodeSinglePath] = float32(math.Log1p(c.SinglePathMs))
}

func encodePath(p *cpn.Path, dst []float32) {
	dst[PathProbe] = float32(math.Log1p(p.ProbeMs))
	dst[PathProp] = float32(p.PropMs / PropScaleMs)
	dst[PathBottleneck] = float32(math.Log1p(p.BottleneckBps / BandwidthUnit))
	if p.SharedBottleneckBps == p.BottleneckBps { // the same input: the same feature
		dst[PathSharedBottleneck] = dst[PathBottleneck]
	} else {
		dst[PathSharedBottleneck] = float32(math.Log1p(p.SharedBottleneckBps / BandwidthUnit))
	}
	dst[PathHops] = float32(p.Hops) / HopScale
	dst[PathUtil] = float32(p.Util)
	dst[PathAlone] = float32(math.Log1p(p.AloneMs))
	dst[PathSharedLinks] = float32(p.SharedLinks)
	encodeShares(p, dst)
}

// encodeShares writes the share columns of path p's row.
func encodeShares(p *cpn.Path, dst []float32) {
	dst[PathBandwidthShare] = float32(p.BandwidthShare)
	dst[PathSpeedShare] = float32(p.SpeedShare)
	dst[PathWaterFill] = p.WaterFill
	dst[PathSharedWaterFill] = p.SharedWaterFill
	dst[PathSplit] = p.Split
}

// checkObs panics with an "rlms:" message unless o has k candidates and p
// path rows per candidate, masks of the matching lengths and known device
// classes.
func checkObs(i int, o cpn.Obs, k, p int) {
	switch {
	case o.K != k || o.P != p:
		panic(fmt.Sprintf("rlms: observation %d has K=%d, P=%d; the model wants K=%d, P=%d", i, o.K, o.P, k, p))
	case len(o.Nodes) != k:
		panic(fmt.Sprintf("rlms: observation %d has %d candidates, want %d", i, len(o.Nodes), k))
	case len(o.Paths) != k*p:
		panic(fmt.Sprintf("rlms: observation %d has %d paths, want %d×%d", i, len(o.Paths), k, p))
	case o.NodeMask != nil && len(o.NodeMask) != k:
		panic(fmt.Sprintf("rlms: observation %d has a node mask of %d entries, want %d", i, len(o.NodeMask), k))
	case o.PathMask != nil && len(o.PathMask) != k*p:
		panic(fmt.Sprintf("rlms: observation %d has a path mask of %d entries, want %d", i, len(o.PathMask), k*p))
	}
	for c := range o.Nodes {
		if cl := o.Nodes[c].Class; cl < 0 || int(cl) >= numClasses {
			panic(fmt.Sprintf("rlms: observation %d: candidate %d has device class %d, want 0 … %d", i, c, cl, numClasses-1))
		}
	}
}
