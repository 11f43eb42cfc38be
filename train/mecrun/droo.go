package mecrun

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/models/droo"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl/envs/mec"
)

// DROOConfig is one DROO training run (Huang et al. 2020's settings as
// defaults: DefaultDROOConfig).
type DROOConfig struct {
	Env mec.Config
	// Steps is the number of training task sets (DROO's time frames).
	Steps int
	// Memory is the replay memory's size; Batch the training batch;
	// Interval the task sets between training batches; LR Adam's rate.
	Memory, Batch, Interval int
	LR                      float64
	// Delta is the window of DROO's adaptive K: every Delta sets, K = 1 +
	// the largest index of the best candidate over the last Delta sets
	// (at most D). K starts at D.
	Delta int
	Seed  uint64
}

// DefaultDROOConfig returns DROO's published settings (memory 1,024,
// batch 128, a batch every 10 frames, Adam 0.01, Δ = 32) for sets of d
// devices, trained on 100,000 task sets (at D = 10: 1.077 of the
// optimum's cost on validation sets, 41 s; 20,000 sets gave 1.088 on the
// test sets).
func DefaultDROOConfig(d int) DROOConfig {
	return DROOConfig{Env: mec.DefaultConfig(d), Steps: 100000, Memory: 1024, Batch: 128, Interval: 10, LR: 0.01, Delta: 32}
}

// DROOResult is a trained DROO and its final number of candidates.
type DROOResult struct {
	Model *droo.Model
	K     int
}

// TrainDROO trains DROO's DNN on task sets drawn from seeded random seeds
// (64-bit: the held-out seeds TestSeed0 … are never met in practice).
// logger gets the loss and the current K after every training batch.
func TrainDROO(ctx context.Context, cfg DROOConfig, logger func(step int, m map[string]float64)) (DROOResult, error) {
	if err := cfg.Env.Validate(); err != nil {
		return DROOResult{}, err
	}
	if cfg.Steps < 1 || cfg.Memory < 1 || cfg.Batch < 1 || cfg.Interval < 1 || cfg.Delta < 1 || !(cfg.LR > 0) {
		return DROOResult{}, fmt.Errorf("mecrun: DROO settings must be positive: %+v", cfg)
	}
	d := cfg.Env.Devices
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xd7001))
	m, err := droo.New(d, rng)
	if err != nil {
		return DROOResult{}, err
	}
	params := nn.Collect(m)
	ac := optim.DefaultAdamConfig()
	ac.LR = cfg.LR
	opt := optim.NewAdam(params, ac)
	inMem := make([][]float32, 0, cfg.Memory)  // features of the stored sets
	outMem := make([][]float32, 0, cfg.Memory) // their best candidates
	next := 0
	k := d
	var window []int
	inf, tape := nn.NewInference(), nn.NewTape()
	x := make([]float32, d*droo.Features)
	for step := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return DROOResult{m, k}, err
		}
		s, err := mec.NewSet(cfg.Env, rng.Uint64())
		if err != nil {
			return DROOResult{}, err
		}
		best, bi := m.Decide(inf, s, k)
		m.Encode([]*mec.Set{s}, x)
		y := make([]float32, d)
		for i, o := range best.Offload {
			if o {
				y[i] = 1
			}
		}
		if len(inMem) < cfg.Memory {
			inMem, outMem = append(inMem, append([]float32(nil), x...)), append(outMem, y)
		} else {
			inMem[next], outMem[next] = append(inMem[next][:0], x...), y
			next = (next + 1) % cfg.Memory
		}
		window = append(window, bi)
		if (step+1)%cfg.Delta == 0 {
			hi := 0
			for _, b := range window {
				hi = max(hi, b)
			}
			k, window = min(hi+2, d), window[:0] // index hi is the (hi+1)-th candidate
		}
		if (step+1)%cfg.Interval != 0 || len(inMem) < cfg.Batch {
			continue
		}
		xb, yb := make([]float32, 0, cfg.Batch*d*droo.Features), make([]float32, 0, cfg.Batch*d)
		for range cfg.Batch {
			i := rng.IntN(len(inMem))
			xb, yb = append(xb, inMem[i]...), append(yb, outMem[i]...)
		}
		tape.Reset()
		z := m.Net.Forward(tape, tape.Const(cfg.Batch, d*droo.Features, xb))
		// Binary cross-entropy with logits: softplus(z) − y·z.
		loss := tape.Mean(tape.Sub(tape.Softplus(z), tape.Mul(tape.Const(cfg.Batch, d, yb), z)))
		nn.ZeroGrads(m)
		tape.Backward(loss)
		opt.Step()
		if logger != nil {
			logger(step+1, map[string]float64{"losses/bce": float64(loss.Item()), "droo/k": float64(k)})
		}
	}
	return DROOResult{m, k}, nil
}

// DROOMethod decides with a trained DROO (K candidates).
func DROOMethod(r DROOResult) Method {
	inf := nn.NewInference()
	return Method{"droo", func(s *mec.Set, _ uint64) (mec.Solution, error) {
		sol, _ := r.Model.Decide(inf, s, r.K)
		return sol, nil
	}}
}
