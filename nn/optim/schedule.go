package optim

import "math"

// Schedule gives the learning rate to use for an update. The step counts
// updates from 0 (the first update); what counts as an update is the
// caller's choice: optimizer steps (see ApplySchedule), or, as in CleanRL,
// PPO iterations. Negative steps are treated as 0. Schedules are values
// without state and are safe for concurrent use.
type Schedule interface {
	LR(step int64) float64
}

// ApplySchedule sets opt's learning rate to s.LR(opt.StepCount()), the rate
// for the optimizer's next step. Call it before each Step.
func ApplySchedule(opt Optimizer, s Schedule) {
	opt.SetLR(s.LR(opt.StepCount()))
}

// Constant is a fixed learning rate.
type Constant struct {
	// Base is the learning rate.
	Base float64
}

// LR implements Schedule.
func (c Constant) LR(int64) float64 { return c.Base }

// StepDecay multiplies the learning rate by Gamma every Every steps, as
// torch.optim.lr_scheduler.StepLR: LR(step) = Base·Gamma^⌊step/Every⌋.
type StepDecay struct {
	// Base is the initial learning rate.
	Base float64
	// Gamma is the decay factor, typically in (0, 1).
	Gamma float64
	// Every is the number of steps between decays; values below 1 disable
	// the decay.
	Every int64
}

// LR implements Schedule.
func (s StepDecay) LR(step int64) float64 {
	if s.Every < 1 || step <= 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Gamma, float64(step/s.Every))
}

// Cosine is a cosine decay from Base to Min over Total steps, after an
// optional linear warm-up:
//
//	step < Warmup:           LR = Base·(step+1)/Warmup
//	Warmup <= step < Total:  LR = Min + (Base-Min)·(1+cos(π·(step-Warmup)/(Total-Warmup)))/2
//	step >= Total:           LR = Min
//
// The warm-up starts at Base/Warmup rather than 0 so that no update is
// wasted, and reaches Base at step Warmup-1. Without warm-up this is
// torch.optim.lr_scheduler.CosineAnnealingLR with T_max = Total and
// eta_min = Min, up to step Total.
type Cosine struct {
	// Base is the peak learning rate.
	Base float64
	// Min is the final learning rate.
	Min float64
	// Warmup is the number of warm-up steps (0 for none).
	Warmup int64
	// Total is the step from which the rate is Min. If Total <= Warmup,
	// the rate is Min as soon as the warm-up ends.
	Total int64
}

// LR implements Schedule.
func (c Cosine) LR(step int64) float64 {
	step = max(step, 0)
	if step < c.Warmup {
		return c.Base * float64(step+1) / float64(c.Warmup)
	}
	span := c.Total - c.Warmup
	if step >= c.Total || span <= 0 {
		return c.Min
	}
	frac := float64(step-c.Warmup) / float64(span)
	return c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*frac))/2
}

// Linear decays the learning rate linearly from Base at step 0 to End at
// step Total and keeps End afterwards:
//
//	LR(step) = End + (Base-End)·(1 - step/Total)
//
// With End = 0 and the step counting PPO iterations from 0 this is CleanRL's
// anneal_lr (frac = 1 - (iteration-1)/num_iterations, iterations counted
// from 1). If Total < 1 the rate is End.
type Linear struct {
	// Base is the initial learning rate.
	Base float64
	// End is the final learning rate.
	End float64
	// Total is the number of steps of the decay.
	Total int64
}

// LR implements Schedule.
func (l Linear) LR(step int64) float64 {
	step = max(step, 0)
	if l.Total < 1 || step >= l.Total {
		return l.End
	}
	frac := 1 - float64(step)/float64(l.Total)
	return l.End + (l.Base-l.End)*frac
}
