package actorcritic

import (
	"math/rand/v2"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/agent"
	"github.com/cpntrain/cpntrain/rl/policy"
)

// Short names for the contracts of rl/agent and the MLP halves of
// rl/policy, so that the tests read as the trainer sees them.
type (
	Agent[O any]              = agent.Agent[O]
	Actor[O any]              = agent.Actor[O]
	Critic[O any]             = agent.Critic[O]
	StagedCritic[O any]       = agent.StagedCritic[O]
	ConditionalActor[O any]   = agent.ConditionalActor[O]
	PolicyActor[O rl.Vector]  = policy.Actor[O]
	PolicyCritic[O rl.Vector] = policy.Critic[O]
)

func PolicyAgent[O rl.Vector](p *policy.ActorCritic[O]) Agent[O] { return policy.Agent(p) }

// Evaluate returns the returns of episodes episodes of ag on env (seeds
// seed, seed+1, …) through rl.Evaluate: mode actions with rng nil,
// sampled ones otherwise.
func Evaluate[O any](ag Agent[O], env rl.Env[O], episodes int, seed uint64, rng *rand.Rand) ([]float64, error) {
	p := agent.Greedy(ag)
	if rng != nil {
		p = agent.Sampled(ag, rng)
	}
	ev, err := rl.Evaluate(env, p, episodes, seed)
	return ev.Returns, err
}
