package rlms

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// benchSizes are Abilene-like (5 candidates) and a larger network (7), 3
// paths each.
var benchSizes = []struct{ k, p int }{{5, 3}, {7, 3}}

// BenchmarkDecision measures one serving decision (batch 1, default
// widths).
func BenchmarkDecision(b *testing.B) {
	for _, enc := range encoders {
		for _, s := range benchSizes {
			b.Run(fmt.Sprintf("%s/K=%d/P=%d", enc, s.k, s.p), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Encoder, cfg.K, cfg.P = enc, s.k, s.p
				m := New(cfg, rand.New(rand.NewPCG(1, 2)))
				o := randObs(rand.New(rand.NewPCG(3, 4)), s.k, s.p, 0.2)
				m.Decision(o)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					m.Decision(o)
				}
			})
		}
	}
}

// BenchmarkTrainStep measures one actor-critic gradient step on a batch
// of 64 observations: the critic's value, both actors' log-probabilities
// and entropies, Backward, and the two Adam steps (as rl/actorcritic).
func BenchmarkTrainStep(b *testing.B) {
	const batchSize = 64
	for _, enc := range encoders {
		for _, s := range benchSizes {
			b.Run(fmt.Sprintf("%s/K=%d/P=%d", enc, s.k, s.p), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Encoder, cfg.K, cfg.P = enc, s.k, s.p
				m := New(cfg, rand.New(rand.NewPCG(1, 2)))
				rng := rand.New(rand.NewPCG(3, 4))
				obs := randBatch(rng, batchSize, s.k, s.p, 0.2)
				inf := nn.NewInference()
				nodes := append([]rl.Action(nil), m.Node.Act(inf, obs, rng)...)
				prev := [][]rl.Action{nodes}
				splits := append([]rl.Action(nil), m.Path.ActGiven(inf, obs, prev, rng)...)
				targets := make([]float32, batchSize)
				adv := make([]float32, batchSize)
				for i := range targets {
					targets[i] = float32(rng.NormFloat64())
					adv[i] = float32(rng.NormFloat64())
				}
				agent := agentOf(m)
				criticParams := nn.Collect(nn.Modules{{Name: "critic", M: agent.Critic}})
				actorParams := nn.Collect(agent.ActorModules())
				optC := optim.NewAdam(criticParams, optim.DefaultAdamConfig())
				optA := optim.NewAdam(actorParams, optim.DefaultAdamConfig())
				tape := nn.NewTape()
				step := func() {
					tape.Reset()
					v := m.Critic.Value(tape, obs)
					loss := tape.Scale(tape.Mean(tape.Square(tape.Sub(v, tape.Const(batchSize, 1, targets)))), 0.5)
					a := tape.Const(batchSize, 1, adv)
					nlp, nent := m.Node.Evaluate(tape, obs, nodes)
					plp, pent := m.Path.EvaluateGiven(tape, obs, prev, splits)
					for _, lp := range []*nn.Tensor{nlp, plp} {
						loss = tape.Sub(loss, tape.Mean(tape.Mul(a, lp)))
					}
					loss = tape.Sub(loss, tape.Scale(tape.Add(tape.Mean(nent), tape.Mean(pent)), 0.01))
					tape.Backward(loss)
					optim.ClipGradNorm(criticParams, 0.5)
					optim.ClipGradNorm(actorParams, 0.5)
					optC.Step()
					optA.Step()
				}
				step() // warm the tape's arena up
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					step()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/sample")
			})
		}
	}
}

// BenchmarkDecisionReal: Decision on 64 real Abilene observations (wf steps).
func BenchmarkDecisionReal(b *testing.B) {
	e, o := abileneEnv(b)
	var obs []cpn.Obs
	for range 64 {
		obs = append(obs, o)
		a, _ := e.WaterFilling()
		s, _ := e.Step(a)
		o = s.Obs
	}
	m := New(DefaultConfig(), rand.New(rand.NewPCG(1, 2)))
	b.ResetTimer()
	for i := range b.N {
		m.Decision(obs[i%64])
	}
}

// BenchmarkObserveDecideStep: the controller's loop on Abilene: the
// environment builds the observation, the model decides, the task runs.
func BenchmarkObserveDecideStep(b *testing.B) {
	e, o := abileneEnv(b)
	m := New(DefaultConfig(), rand.New(rand.NewPCG(1, 2)))
	seed := uint64(1)
	b.ResetTimer()
	for range b.N {
		node, split := m.Decision(o)
		s, err := e.Step(rl.Action{Index: node, Values: split})
		if err != nil {
			b.Fatal(err)
		}
		o = s.Obs
		if s.Done() {
			seed++
			o, _ = e.Reset(seed)
		}
	}
}

// abileneEnv is the default Abilene simulator reset to seed 1 (skipped
// without CPNTRAIN_DATA).
func abileneEnv(b *testing.B) (*cpn.Env, cpn.Obs) {
	cfg := cpn.DefaultConfig()
	cfg.DataDir = os.Getenv("CPNTRAIN_DATA")
	net, err := cpn.NewNetwork(cfg)
	if err != nil {
		b.Skip(err)
	}
	e := cpn.NewEnv(net)
	o, err := e.Reset(1)
	if err != nil {
		b.Fatal(err)
	}
	return e, o
}
