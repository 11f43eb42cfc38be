package rlms

import (
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/envs/cpn"
)

// Agent wires m for the rl trainers (rl/agent's contract): its critic
// (staged when Config.StagedCritic built the after-node heads), the node
// actor, the subset actor when the model has one, and the path actor
// conditioned on the chosen node (and subset), combined into one
// DiscreteSimplex action by Combine.
func (m *Model) Agent() agent.Agent[cpn.Obs] {
	actors := []agent.Actor[cpn.Obs]{m.Node, m.Path}
	if m.Subset != nil {
		actors = []agent.Actor[cpn.Obs]{m.Node, m.Subset, m.Path}
	}
	var critic agent.Critic[cpn.Obs] = m.Critic
	if m.Critic.After != nil {
		critic = StagedCritic{Critic: m.Critic}
	}
	return agent.Agent[cpn.Obs]{Critic: critic, Actors: actors, Combine: Combine}
}

var (
	_ agent.Actor[cpn.Obs]            = (*NodeActor)(nil)
	_ agent.ConditionalActor[cpn.Obs] = (*PathActor)(nil)
	_ agent.Critic[cpn.Obs]           = (*Critic)(nil)
	_ agent.StagedCritic[cpn.Obs]     = StagedCritic{}
)
