package decima

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/spark"
)

// Kind is the model kind of saved schedulers.
const Kind = "decima"

// savedConfig is what a checkpoint records besides the parameters.
type savedConfig struct {
	Config
	Features int
}

// Save writes the actor of an agent made by NewAgent to path.
func Save(path string, ag agent.Agent[spark.Obs], step int64) error {
	a, ok := actorOf(ag)
	if !ok {
		return fmt.Errorf("decima: Save: not a Decima agent")
	}
	b, err := json.Marshal(savedConfig{a.Config, Features})
	if err != nil {
		return err
	}
	return checkpoints.Save(path, nn.Modules{{Name: "actor", M: a}}, nil, checkpoints.Meta{ModelKind: Kind, ModelConfig: b, Step: step})
}

func actorOf(ag agent.Agent[spark.Obs]) (*Actor, bool) {
	if len(ag.Actors) != 1 {
		return nil, false
	}
	a, ok := ag.Actors[0].(*Actor)
	return a, ok
}

// Load reads an agent written by Save.
func Load(path string) (agent.Agent[spark.Obs], checkpoints.Meta, error) {
	var zero agent.Agent[spark.Obs]
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return zero, checkpoints.Meta{}, err
	}
	if !info.Checkpoint || info.Meta.ModelKind != Kind {
		return zero, checkpoints.Meta{}, fmt.Errorf("decima: %s is not a Decima scheduler (kind %q)", path, info.Meta.ModelKind)
	}
	var sc savedConfig
	dec := json.NewDecoder(bytes.NewReader(info.Meta.ModelConfig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return zero, checkpoints.Meta{}, fmt.Errorf("decima: %s: config: %w", path, err)
	}
	if sc.Features != Features {
		return zero, checkpoints.Meta{}, fmt.Errorf("decima: %s was trained on %d stage features, this version has %d: retrain it", path, sc.Features, Features)
	}
	if err := sc.Config.Validate(); err != nil {
		return zero, checkpoints.Meta{}, fmt.Errorf("decima: %s: %w", path, err)
	}
	a := New(sc.Config, rand.New(rand.NewPCG(0, 0)))
	meta, err := checkpoints.Load(path, nn.Modules{{Name: "actor", M: a}}, nil, checkpoints.ExpectKind(Kind))
	if err != nil {
		return zero, checkpoints.Meta{}, err
	}
	return agent.Agent[spark.Obs]{Actors: []agent.Actor[spark.Obs]{a}}, meta, nil
}
