package optim

import (
	"github.com/cpntrain/cpntrain/nn"
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		s    Schedule
		step int64
		want float64
	}{
		{"constant", Constant{Base: 3e-4}, 0, 3e-4},
		{"constant late", Constant{Base: 3e-4}, 1 << 40, 3e-4},

		{"step 0", StepDecay{Base: 0.1, Gamma: 0.5, Every: 10}, 0, 0.1},
		{"step 9", StepDecay{Base: 0.1, Gamma: 0.5, Every: 10}, 9, 0.1},
		{"step 10", StepDecay{Base: 0.1, Gamma: 0.5, Every: 10}, 10, 0.05},
		{"step 35", StepDecay{Base: 0.1, Gamma: 0.5, Every: 10}, 35, 0.0125},
		{"step negative", StepDecay{Base: 0.1, Gamma: 0.5, Every: 10}, -20, 0.1},
		{"step disabled", StepDecay{Base: 0.1, Gamma: 0.5}, 100, 0.1},

		// Warm-up of 4 steps: Base·1/4, 2/4, 3/4, 4/4, then cosine over
		// the 10 remaining steps.
		{"cosine warm 0", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 0, 0.25},
		{"cosine warm 2", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 2, 0.75},
		{"cosine warm 3", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 3, 1},
		{"cosine peak", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 4, 1},
		{"cosine half", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 9, 0.55},
		{"cosine quarter", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 11, 0.1 + 0.9*(1+math.Cos(0.7*math.Pi))/2},
		{"cosine end", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 14, 0.1},
		{"cosine after", Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}, 1000, 0.1},
		{"cosine no warm-up", Cosine{Base: 2, Total: 100}, 0, 2},
		{"cosine no warm-up half", Cosine{Base: 2, Total: 100}, 50, 1},
		{"cosine no warm-up 25", Cosine{Base: 2, Total: 100}, 25, 1 + math.Sqrt(0.5)},
		{"cosine total<=warmup", Cosine{Base: 1, Min: 0.2, Warmup: 10, Total: 5}, 10, 0.2},
		{"cosine negative", Cosine{Base: 1, Warmup: 4, Total: 8}, -3, 0.25},

		// CleanRL: lr·(1 - (iteration-1)/num_iterations), iterations from 1.
		{"linear 0", Linear{Base: 2.5e-4, Total: 100}, 0, 2.5e-4},
		{"linear 1", Linear{Base: 2.5e-4, Total: 100}, 1, 2.5e-4 * 0.99},
		{"linear 50", Linear{Base: 2.5e-4, Total: 100}, 50, 1.25e-4},
		{"linear 99", Linear{Base: 2.5e-4, Total: 100}, 99, 2.5e-6},
		{"linear 100", Linear{Base: 2.5e-4, Total: 100}, 100, 0},
		{"linear end", Linear{Base: 1, End: 0.2, Total: 4}, 2, 0.6},
		{"linear past", Linear{Base: 1, End: 0.2, Total: 4}, 9, 0.2},
		{"linear no total", Linear{Base: 1, End: 0.2}, 0, 0.2},
	}
	for _, tc := range cases {
		if got := tc.s.LR(tc.step); math.Abs(got-tc.want) > 1e-12*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%s: LR(%d) = %.15g, want %.15g", tc.name, tc.step, got, tc.want)
		}
	}
}

func TestApplySchedule(t *testing.T) {
	t.Parallel()
	params := nn.Collect(newTestModel(1))
	opt := NewSGD(params, SGDConfig{LR: 1})
	s := StepDecay{Base: 0.1, Gamma: 0.1, Every: 2}
	for i, want := range []float64{0.1, 0.1, 0.01, 0.01, 0.001} {
		ApplySchedule(opt, s)
		if math.Abs(opt.LR()-want) > 1e-15 {
			t.Errorf("before step %d: LR %v, want %v", i, opt.LR(), want)
		}
		opt.Step()
	}
}
