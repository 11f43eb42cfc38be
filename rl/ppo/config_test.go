package ppo

import (
	"math"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
)

// TestConfigSizes checks the derived sizes by hand: 4 envs × 128 steps =
// 512 per batch, 512/4 = 128 per minibatch, ⌊1000/512⌋ = 1 iteration; an
// empty batch gives 0 iterations (no division by zero) and 0 minibatches
// counts as 1.
func TestConfigSizes(t *testing.T) {
	c := DefaultConfig()
	c.TotalTimesteps = 1000
	if c.BatchSize() != 512 || c.MinibatchSize() != 128 || c.Iterations() != 1 {
		t.Errorf("batch %d minibatch %d iterations %d, want 512, 128, 1", c.BatchSize(), c.MinibatchSize(), c.Iterations())
	}
	c.NumMinibatches = 0
	if c.MinibatchSize() != 512 {
		t.Errorf("minibatch size with 0 minibatches %d, want 512", c.MinibatchSize())
	}
	c.NumEnvs = 0
	if c.Iterations() != 0 {
		t.Errorf("iterations of an empty batch %d, want 0", c.Iterations())
	}
}

// TestValidateBoundaries checks each rule of Validate on both sides of its
// edge, starting from CleanRL's defaults with one iteration (batch 512).
func TestValidateBoundaries(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"NumEnvs 1", func(c *Config) { c.NumEnvs = 1 }, true},
		{"NumEnvs 0", func(c *Config) { c.NumEnvs = 0 }, false},
		{"NumSteps 1", func(c *Config) { c.NumSteps = 1; c.TotalTimesteps = 4 }, true},
		{"NumSteps 0", func(c *Config) { c.NumSteps = 0 }, false},
		{"NumMinibatches 512", func(c *Config) { c.NumMinibatches = 512 }, true},
		{"NumMinibatches 1", func(c *Config) { c.NumMinibatches = 1 }, true},
		{"NumMinibatches 0", func(c *Config) { c.NumMinibatches = 0 }, false},
		{"NumMinibatches 3 (no divisor)", func(c *Config) { c.NumMinibatches = 3 }, false},
		{"Shards = minibatch size", func(c *Config) { c.Shards = 128 }, true},
		{"Shards > minibatch size", func(c *Config) { c.Shards = 129 }, false},
		{"Shards 0", func(c *Config) { c.Shards = 0 }, false},
		{"UpdateEpochs 1", func(c *Config) { c.UpdateEpochs = 1 }, true},
		{"UpdateEpochs 0", func(c *Config) { c.UpdateEpochs = 0 }, false},
		{"TotalTimesteps one batch short", func(c *Config) { c.TotalTimesteps = 511 }, false},
		{"LearningRate 0", func(c *Config) { c.LearningRate = 0 }, false},
		{"LearningRate NaN", func(c *Config) { c.LearningRate = math.NaN() }, false},
		{"Gamma 0", func(c *Config) { c.Gamma = 0 }, true},
		{"Gamma 1", func(c *Config) { c.Gamma = 1 }, true},
		{"Gamma < 0", func(c *Config) { c.Gamma = -1e-9 }, false},
		{"Gamma > 1", func(c *Config) { c.Gamma = 1 + 1e-9 }, false},
		{"GAELambda 0", func(c *Config) { c.GAELambda = 0 }, true},
		{"GAELambda 1", func(c *Config) { c.GAELambda = 1 }, true},
		{"GAELambda < 0", func(c *Config) { c.GAELambda = -1e-9 }, false},
		{"GAELambda > 1", func(c *Config) { c.GAELambda = 1 + 1e-9 }, false},
		{"ClipCoef 0", func(c *Config) { c.ClipCoef = 0 }, false},
		{"zero coefficients", func(c *Config) { c.EntCoef, c.VFCoef, c.MaxGradNorm, c.TargetKL, c.AdamEps = 0, 0, 0, 0, 0 }, true},
		{"EntCoef < 0", func(c *Config) { c.EntCoef = -1e-9 }, false},
		{"VFCoef < 0", func(c *Config) { c.VFCoef = -1e-9 }, false},
		{"MaxGradNorm < 0", func(c *Config) { c.MaxGradNorm = -1e-9 }, false},
		{"TargetKL < 0", func(c *Config) { c.TargetKL = -1e-9 }, false},
		{"AdamEps < 0", func(c *Config) { c.AdamEps = -1e-9 }, false},
	} {
		cfg := DefaultConfig()
		cfg.TotalTimesteps = 512
		c.set(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestMeanLastReturns: returns 1, 2, 3, 4: the last 2 average 3.5, the
// last 4 (or more than there are) 2.5; no episodes give NaN.
func TestMeanLastReturns(t *testing.T) {
	r := Result{EpisodicReturns: []float64{1, 2, 3, 4}}
	for n, want := range map[int]float64{1: 4, 2: 3.5, 4: 2.5, 10: 2.5} {
		if got := r.MeanLastReturns(n); got != want {
			t.Errorf("MeanLastReturns(%d) = %v, want %v", n, got, want)
		}
	}
	if got := (Result{}).MeanLastReturns(3); !math.IsNaN(got) {
		t.Errorf("MeanLastReturns of no episodes = %v, want NaN", got)
	}
}

// TestExplainedVariance: values 1, 2, 3, 4 and returns 2, 4, 6, 8: the
// returns have mean 5 and Σ(dev²) = 9+1+1+9 = 20; the residuals 1, 2, 3, 4
// have mean 2.5 and Σ(dev²) = 2.25+0.25+0.25+2.25 = 5; so 1 − 5/20 = 0.75.
// Perfect values give 1, constant returns NaN.
func TestExplainedVariance(t *testing.T) {
	if got := explainedVariance([]float64{1, 2, 3, 4}, []float64{2, 4, 6, 8}); got != 0.75 {
		t.Errorf("explained variance %v, want 0.75", got)
	}
	// Residuals −1, 1, −1, 1 (mean 0, Σ dev² 4) against returns 0, 2, 2, 4
	// (mean 2, Σ dev² 8): 1 − 4/8 = 0.5.
	if got := explainedVariance([]float64{1, 1, 3, 3}, []float64{0, 2, 2, 4}); got != 0.5 {
		t.Errorf("explained variance %v, want 0.5", got)
	}
	if got := explainedVariance([]float64{1, 2}, []float64{1, 2}); got != 1 {
		t.Errorf("explained variance of exact values %v, want 1", got)
	}
	if got := explainedVariance([]float64{1, 2}, []float64{3, 3}); !math.IsNaN(got) {
		t.Errorf("explained variance of constant returns %v, want NaN", got)
	}
}

// TestClipBox: Box actions with bounds are clipped into a reused buffer
// (the policy keeps the unclipped action); other spaces and unbounded
// boxes pass the action through.
func TestClipBox(t *testing.T) {
	box := rl.Space{Kind: rl.Box, N: 3, Low: []float32{-1, 0, -2}, High: []float32{1, 2, 2}}
	a := rl.Action{Values: []float32{-3, 5, 0.5}}
	buf := rl.Action{Values: make([]float32, 3)}
	p := &buf.Values[0]
	got := clipBox(box, a, &buf)
	want := []float32{-1, 2, 0.5}
	for i := range want {
		if got.Values[i] != want[i] {
			t.Fatalf("clipped %v, want %v", got.Values, want)
		}
	}
	if &buf.Values[0] != p || &got.Values[0] != p {
		t.Error("a buffer of the right size was not reused")
	}
	if a.Values[0] != -3 || a.Values[1] != 5 {
		t.Errorf("the original action changed to %v", a.Values)
	}
	lowOnly := rl.Space{Kind: rl.Box, N: 3, Low: []float32{0, 0, 0}}
	if got := clipBox(lowOnly, a, &rl.Action{}); got.Values[0] != 0 || got.Values[1] != 5 || got.Values[2] != 0.5 {
		t.Errorf("low-only clip %v, want [0 5 0.5]", got.Values)
	}
	highOnly := rl.Space{Kind: rl.Box, N: 3, High: []float32{0, 0, 0}}
	if got := clipBox(highOnly, a, &rl.Action{}); got.Values[0] != -3 || got.Values[1] != 0 || got.Values[2] != 0 {
		t.Errorf("high-only clip %v, want [-3 0 0]", got.Values)
	}
	for _, s := range []rl.Space{{Kind: rl.Box, N: 3}, {Kind: rl.Simplex, N: 3, Low: []float32{0, 0, 0}}} {
		var b rl.Action
		if got := clipBox(s, a, &b); &got.Values[0] != &a.Values[0] || b.Values != nil {
			t.Errorf("%v space without clipping: got %v, buffer %v", s.Kind, got.Values, b.Values)
		}
	}
}

// TestStatSums: the logged losses are the means over the update's
// minibatches: for (pg, v, ent, kl, oldKL, clipFrac) = (1, 2, 3, 4, −5,
// 0.5) and (−3, 4, 5, 6, 7, 0.25) the means are (−1, 3, 4, 5, 1, 0.375);
// with no minibatch (every step skipped) they are 0, not NaN.
func TestStatSums(t *testing.T) {
	var s statSums
	m := map[string]float64{}
	s.put(m)
	for k, v := range m {
		if v != 0 {
			t.Errorf("%s = %v without minibatches, want 0", k, v)
		}
	}
	s.add(stats{pg: 1, v: 2, ent: 3, kl: 4, oldKL: -5, clipFrac: 0.5})
	s.add(stats{pg: -3, v: 4, ent: 5, kl: 6, oldKL: 7, clipFrac: 0.25})
	s.put(m)
	for k, want := range map[string]float64{"losses/policy_loss": -1, "losses/value_loss": 3, "losses/entropy": 4,
		"losses/approx_kl": 5, "losses/old_approx_kl": 1, "losses/clipfrac": 0.375} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if len(m) != 6 {
		t.Errorf("%d metrics, want 6", len(m))
	}
}
