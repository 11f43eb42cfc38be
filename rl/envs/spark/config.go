package spark

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cpntrain/cpntrain/datasets/tpch"
)

// Config is a cluster and its job stream. Times are in milliseconds, as
// decima-sim's.
type Config struct {
	// Executors is the cluster's size (decima-sim's exec_cap; the issue's
	// default 50).
	Executors int
	// MovingDelay is the time an executor takes to join another job
	// (2,000 ms); WarmupDelay is added to a fresh executor's first-wave
	// duration when the data has no fresh duration (1,000 ms).
	MovingDelay, WarmupDelay float64
	// DataPoints are the executor counts the durations were measured with
	// (5, 10, 20, 40, 50, 60, 80, 100): a job's executor count is
	// interpolated between its two neighbours.
	DataPoints []int
	// InitJobs arrive at time 0; StreamJobs then arrive with exponential
	// gaps of mean MeanGap (decima-sim truncates each gap to whole ms).
	InitJobs, StreamJobs int
	MeanGap              float64
	// MaxTime ends an episode at the first decision at or after it (0: no
	// limit: the episode ends when every job is done).
	MaxTime float64
	// Sizes are the input sizes jobs are drawn from (all of tpch.Sizes by
	// default) and Queries the number of queries (1…Queries).
	Sizes   []string
	Queries int
	// RewardScale divides the reward (decima-sim: 100,000).
	RewardScale float64
	// MaxJobs sizes the action space (MaxJobs × MaxStages stage slots):
	// stages of jobs beyond it are not offered (their executors wait).
	MaxJobs int
}

// Batch is the batch mode: 20 jobs at t = 0 on 50 executors.
func Batch() Config {
	return Config{Executors: 50, MovingDelay: 2000, WarmupDelay: 1000, DataPoints: []int{5, 10, 20, 40, 50, 60, 80, 100},
		InitJobs: 20, Sizes: slices.Clone(tpch.Sizes), Queries: tpch.Queries, RewardScale: 100000, MaxJobs: 200}
}

// Continuous is the streaming mode: Poisson arrivals with a mean
// gap of 25 s on 50 executors (about 85 % load), 10 jobs at t = 0 as in
// decima-sim, 100 more.
func Continuous() Config {
	c := Batch()
	c.InitJobs, c.StreamJobs, c.MeanGap = 10, 100, 25000
	return c
}

// Validate reports what makes c unusable, naming the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Executors < 1 || c.Executors > 10000 {
		bad("spark: Executors %d outside [1, 10000]", c.Executors)
	}
	for name, v := range map[string]float64{"MovingDelay": c.MovingDelay, "WarmupDelay": c.WarmupDelay, "MeanGap": c.MeanGap, "MaxTime": c.MaxTime} {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad("spark: %s %v must be finite and ≥ 0", name, v)
		}
	}
	if len(c.DataPoints) == 0 || !slices.IsSorted(c.DataPoints) || c.DataPoints[0] < 1 || len(slices.Compact(slices.Clone(c.DataPoints))) != len(c.DataPoints) {
		bad("spark: DataPoints %v must be increasing and ≥ 1", c.DataPoints)
	}
	if c.InitJobs < 0 || c.StreamJobs < 0 || c.InitJobs+c.StreamJobs < 1 || c.InitJobs+c.StreamJobs > 100000 {
		bad("spark: InitJobs %d and StreamJobs %d: want at least one job and at most 100,000", c.InitJobs, c.StreamJobs)
	}
	if c.StreamJobs > 0 && !(c.MeanGap > 0) {
		bad("spark: MeanGap %v must be positive with StreamJobs", c.MeanGap)
	}
	if len(c.Sizes) == 0 {
		bad("spark: no Sizes")
	}
	for _, s := range c.Sizes {
		if !slices.Contains(tpch.Sizes, s) {
			bad("spark: size %q is not one of %v", s, tpch.Sizes)
		}
	}
	if c.Queries < 1 || c.Queries > tpch.Queries {
		bad("spark: Queries %d outside [1, %d]", c.Queries, tpch.Queries)
	}
	if !(c.RewardScale > 0) || math.IsInf(c.RewardScale, 0) {
		bad("spark: RewardScale %v must be positive", c.RewardScale)
	}
	if c.MaxJobs < 1 || c.MaxJobs > 100000 {
		bad("spark: MaxJobs %d outside [1, 100000]", c.MaxJobs)
	}
	return errors.Join(errs...)
}
