package decimarun

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/datasets/tpch"
	"github.com/cpntrain/cpntrain/models/decima"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// WarmStart is the supervised start of training: the actor first learns
// to imitate a weighted fair scheduler's decisions (maximum likelihood
// over Streams training streams, Epochs passes in minibatches of 256),
// then REINFORCE improves on it. Decima starts from random parameters
// and trains for tens of thousands of updates; with the minutes this
// machine gives a run, starting from the best heuristic is what lets the
// policy gradient refine instead of rediscover (docs/decima.md).
type WarmStart struct {
	WF              WF
	Streams, Epochs int
}

// imitate fits actor to ws.WF's decisions on training streams (seeds
// TuneSeed0 on: never a held-out stream); decisions where the heuristic
// leaves the executors idle (the void action, which the actor cannot
// take) are skipped. It returns the final mean log-likelihood.
func imitate(ctx context.Context, actor *decima.Actor, env spark.Config, lib []*tpch.Job, ws WarmStart, seed uint64) (float64, error) {
	e, err := spark.NewEnv(env, lib)
	if err != nil {
		return 0, err
	}
	var obs []spark.Obs
	var acts []rl.Action
	for i := range ws.Streams {
		o, err := e.Reset(TuneSeed0 + uint64(i))
		if err != nil {
			return 0, err
		}
		p := spark.WeightedFair(ws.WF.Alpha, ws.WF.Cap)
		for !o.Done {
			a, err := p.Decide(o)
			if err != nil {
				return 0, err
			}
			if a.Index != o.Void().Index {
				obs, acts = append(obs, o), append(acts, a)
			}
			s, err := e.Step(a)
			if err != nil {
				return 0, fmt.Errorf("decima: warm start: %w", err)
			}
			o = s.Obs
		}
	}
	if len(obs) == 0 {
		return 0, fmt.Errorf("decima: warm start: the heuristic made no decision to imitate")
	}
	cfg := optim.DefaultAdamConfig()
	cfg.LR = 3e-3
	opt := optim.NewAdam(nn.Collect(actor), cfg)
	rng := rand.New(rand.NewPCG(seed, 0x1a1))
	tape := nn.NewTape()
	const mb = 256
	idx := make([]int, len(obs))
	for i := range idx {
		idx[i] = i
	}
	var ll float64
	for range ws.Epochs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		var sum float64
		for lo := 0; lo < len(idx); lo += mb {
			hi := min(len(idx), lo+mb)
			bo, ba := make([]spark.Obs, 0, hi-lo), make([]rl.Action, 0, hi-lo)
			for _, k := range idx[lo:hi] {
				bo, ba = append(bo, obs[k]), append(ba, acts[k])
			}
			tape.Reset()
			lp, _ := actor.Evaluate(tape, bo, ba)
			loss := tape.Neg(tape.Mean(lp))
			sum -= float64(loss.Item()) * float64(hi-lo)
			tape.Backward(loss)
			opt.Step()
		}
		ll = sum / float64(len(idx))
	}
	return ll, nil
}
