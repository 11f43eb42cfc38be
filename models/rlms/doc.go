// Package rlms is the RLMS-CPN policy: joint compute-node selection and
// multipath splitting for a task arriving in a computing power network,
// over observations of type cpn.Obs.
//
// # Overview
//
// An observation holds the task, K candidate compute nodes and P path rows
// per candidate. It is one bipartite graph with a compute vertex per
// candidate, input [node features ‖ task features], and a path vertex per
// path row, input [path features ‖ task features]; path j of candidate i
// is linked to compute vertex i. An Encoder embeds every vertex to Dim
// columns:
//
//   - "syncgnn" (the paper's): Linear embeddings, then one synchronous
//     message-passing round of mpnn.SyncGNN (tanh message on
//     [h_i ‖ h_j], sum aggregation, tanh update on [h ‖ m]);
//   - "mlp" (the ablation "RLMS without SyncGNN"): a per-vertex MLP per
//     vertex type, of the same width, with no message passing, so a
//     compute vertex never sees its paths.
//
// Two actors act on the embeddings of one shared actor encoder:
//
//	NodeActor:  logit_i = Head_node(h_i),  i ~ Categorical(softmax over allowed i)
//	PathActor:  l_j = Head_path([h_(i,j) ‖ h_i])   for the chosen candidate i, then
//	            Split "logistic-normal": x = softmax(l + σε), one learned σ
//	            (deterministic split softmax(l)), or
//	            Split "dirichlet": x ~ Dirichlet(softplus(l) + PathAlphaFloor)
//	            (deterministic split: the mode)
//
// and the joint policy is π(i|s)·π(x|s, i) (agent.ConditionalActor).
// With Config.Subsets (the training default) a SubsetActor acts between
// them: S ~ Categorical over the non-empty subsets of the chosen
// candidate's paths, logit_S = Head_S([mean_(j∈S) h_(i,j) ‖ h_i ‖ |S|/P]),
// and the split is over S only: π(i|s)·π(S|s, i)·π(x|s, i, S).
// With Config.Prior (the training default) the logits also get a learned
// multiple of the controller's own estimates from the observation,
//
//	logit_i += β · log(est_i / min_k est_k)        (β starts at −PriorNodeScale)
//	l_j     += w · log(waterfill_j + PriorEps)     (w starts at 1)
//
// so that the untrained policy decides as cpn's "wf" baseline and training
// learns corrections (a residual policy).
// The Critic has its own encoder of the same kind:
//
//	V(s) = Head_V([mean_i h_i ‖ mean_(i,j) h_(i,j) ‖ task])
//
// with the means over existing candidates and their real paths; with
// Config.Staged it also has V(s, i) = Head_after([h_i ‖ mean_j h_(i,j) ‖
// task]), the path actor's baseline (StagedCritic). The heads
// are Dim → Hidden → Hidden → 1 tanh MLPs, initialised as CleanRL's PPO
// (orthogonal, gain √2; 0.01 on the actors' outputs, 1 on the value's).
// Model.Agent wires the model into rl/agent's contract for the trainers
// (models implement the contract and import no trainer); Model.Decision is
// the allocation-free deterministic decision for serving. Observations
// become features through Encode.
//
// # Shapes
//
// A batch of R observations is one disjoint graph, no padding:
//
//	compute vertices   R·K × ComputeIn    row r·K+i: candidate i of observation r
//	path vertices      R·K·P × PathIn     row (r·K+i)·P+j: path j of that candidate
//	embeddings hc, hp  R·K × Dim, R·K·P × Dim
//	node logits        R × K
//	Dirichlet α        R × P              (paths of the chosen candidates)
//	log-probabilities, entropies, values  R × 1
//
// # Invariants
//
//   - Masks: NodeMask is respected by the node actor — a masked candidate
//     is never sampled nor chosen by Mode or Decision, and takes no part in
//     the critic's mean. The split is over all P rows without masking: the
//     environment repeats a path when fewer exist, marks the repeat in
//     PathMask and adds the ratio given to it to the original. A masked
//     path row still receives its candidate's message (the path actor
//     needs its embedding) but sends none, so a repeated path is not
//     counted twice in the candidate's aggregate, nor in the critic's mean.
//   - Parameters are visited once: NodeActor.Params visits the shared actor
//     encoder, PathActor.Params does not. Trained through
//     agent.Agent.ActorModules, both actors' gradients accumulate in
//     the shared encoder and one optimizer steps it.
//   - Each actor runs the shared encoder itself (a conditional actor
//     cannot know whether its node actor ran on the same observations on
//     the same tape); only Decision encodes once for both.
//   - Equivariance: with the syncgnn encoder, permuting the candidates
//     (node rows with their blocks of P path rows and masks) permutes the
//     node logits, and leaves the value and the split of a given candidate
//     unchanged.
//   - Buffers: on inference tapes Act, Mode, Value and Decision reuse
//     scratch buffers (no allocation in steady state apart from fresh
//     split values, which callers may keep); on recording tapes every call
//     allocates, because tape ops reference the index and edge slices until
//     Backward. Misuse (observations of another K or P, a chosen candidate
//     out of range, actions of the wrong length) panics with an "rlms:"
//     message.
//   - Determinism: New draws every parameter from its rng; the same seed
//     gives bit-identical parameters and, with the same sampling rng, the
//     same actions.
//
// # Checkpoints
//
// Model.Save writes a checkpoints file of ModelKind Kind ("rlms") with the
// Config as ModelConfig; Load rebuilds the model from that config.
//
// # References
//
// The RLMS-CPN paper of this project (SyncGNN encoder, node and path
// agents, the "RLMS without SyncGNN" ablation). S. Huang et al., "The 37
// Implementation Details of Proximal Policy Optimization", ICLR blog track
// 2022 (CleanRL's orthogonal initialisation).
package rlms
