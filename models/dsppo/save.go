package dsppo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cluster"
)

// Kind is the model kind of saved DS-PPO agents.
const Kind = "dsppo"

// savedConfig is what a checkpoint records: the model's config and the
// feature widths it was trained on.
type savedConfig struct {
	Config
	NodeDim, OptionDim int
}

// modules names an agent's parts in a checkpoint.
func modules(actor *Actor, critic *Critic) nn.Modules {
	return nn.Modules{{Name: "actor", M: actor}, {Name: "critic", M: critic}}
}

// Save writes the agent made by NewAgent (actor and critic) to path.
func Save(path string, ag agent.Agent[cluster.Obs], step int64) error {
	if len(ag.Actors) != 1 {
		return fmt.Errorf("dsppo: Save: an agent with %d actors is not a DS-PPO agent", len(ag.Actors))
	}
	actor, ok1 := ag.Actors[0].(*Actor)
	critic, ok2 := ag.Critic.(*Critic)
	if !ok1 || !ok2 {
		return fmt.Errorf("dsppo: Save: not a DS-PPO agent")
	}
	b, err := json.Marshal(savedConfig{actor.Enc.Config, NodeDim, OptionDim})
	if err != nil {
		return err
	}
	return checkpoints.Save(path, modules(actor, critic), nil, checkpoints.Meta{ModelKind: Kind, ModelConfig: b, Step: step})
}

// Load reads an agent written by Save.
func Load(path string) (agent.Agent[cluster.Obs], checkpoints.Meta, error) {
	var zero agent.Agent[cluster.Obs]
	info, err := checkpoints.Inspect(path)
	if err != nil {
		return zero, checkpoints.Meta{}, err
	}
	if !info.Checkpoint || info.Meta.ModelKind != Kind {
		return zero, checkpoints.Meta{}, fmt.Errorf("dsppo: %s is not a DS-PPO model (kind %q)", path, info.Meta.ModelKind)
	}
	var sc savedConfig
	dec := json.NewDecoder(bytes.NewReader(info.Meta.ModelConfig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return zero, checkpoints.Meta{}, fmt.Errorf("dsppo: %s: config: %w", path, err)
	}
	if sc.NodeDim != NodeDim || sc.OptionDim != OptionDim {
		return zero, checkpoints.Meta{}, fmt.Errorf("dsppo: %s was trained on %d node and %d placement features, this version has %d and %d: retrain it", path, sc.NodeDim, sc.OptionDim, NodeDim, OptionDim)
	}
	if err := sc.Config.Validate(); err != nil {
		return zero, checkpoints.Meta{}, fmt.Errorf("dsppo: %s: %w", path, err)
	}
	rng := rand.New(rand.NewPCG(0, 0))
	actor, critic := NewActor(sc.Config, rng), NewCritic(sc.Config, rng)
	meta, err := checkpoints.Load(path, modules(actor, critic), nil, checkpoints.ExpectKind(Kind))
	if err != nil {
		return zero, checkpoints.Meta{}, err
	}
	return agent.Agent[cluster.Obs]{Critic: critic, Actors: []agent.Actor[cluster.Obs]{actor}}, meta, nil
}
