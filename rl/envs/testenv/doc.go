// Package testenv holds tiny environments whose optimal return is known, for
// proving that the training algorithms of package rl learn: a contextual
// bandit, a chain MDP that needs credit assignment over many steps, a
// split-ratio environment whose optimum is water-filling, and CartPole with
// the classic dynamics of Barto, Sutton and Anderson (1983) as the field's
// standard smoke test.
package testenv
