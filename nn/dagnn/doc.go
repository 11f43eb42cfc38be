// Package dagnn is the graph neural network of Decima over job DAGs:
// messages flow from children to parents, level by level from the leaves,
// so that a node's embedding summarises everything that depends on it.
//
// # Overview
//
// An edge {parent, child} says that child depends on parent (a stage that
// can start only when its parent stage finished). With x_v = prep(raw_v)
// (an MLP, or the raw features with NoPrep), the layer computes
//
//	e_v = x_v                                   v has no children (a leaf)
//	e_v = g( Σ_{u ∈ children(v)} f(e_u) ) + x_v   otherwise
//
// with f and g MLPs. The recursion runs in reverse topological order: the
// nodes of level 1 (whose children are all leaves) first, then level 2, …,
// where a node's level is the length of a longest path from it down to a
// leaf. This is the message passing of Mao et al. (Decima), including its
// implementation detail that nodes without children keep e_v = x_v (the
// reference code masks g's bias out for them).
//
// With Config.Attention the sum over children becomes a weighted sum with
// weights normalised over each node's children (nn.Tape.SegmentSoftmax):
//
//	a_vu = softmax_{u ∈ children(v)} LeakyReLU_0.2( wᵀ [x_v ‖ f(e_u)] )
//	e_v  = g( Σ_u a_vu f(e_u) ) + x_v
//
// so a node can focus on, say, its child with the longest remaining work
// (the weights sum to 1: the number of children is no longer visible).
//
// The schedule (topological order, levels, the edges of each level) depends
// on the graph only. NewPlan computes it once for a batch of DAGs (one
// graph, node ids offset per DAG) and reports a cycle by naming it; a Plan
// is immutable and reused by every pass, and Cache keeps the plans of
// recently seen graphs, as Decima's agent caches its message-passing
// matrices while the set of job DAGs is unchanged.
//
// Summary holds Decima's two summaries: a job-level one, y_j = Σ_{v ∈ j}
// MLP(e_v) over the nodes of each job, and a global one, z = Σ_j MLP(y_j)
// over the jobs (per environment in a batch). Decima feeds them the node
// features concatenated with the layer's embeddings.
//
// # Shapes
//
//	raw features  N×In           rows are the nodes of the plan
//	embeddings    N×Dim
//	Summary:      N×In → jobs J×JobOut → global 1×GlobalOut (or G×GlobalOut)
//
// # Invariants
//
//   - Plan.Order is a topological order (every parent before its children)
//     and Plan.Level(v) = 0 for leaves, 1 + max over children otherwise; a
//     fuzz test checks both on random edge lists, and that NewPlan never
//     panics.
//   - A node's embedding depends only on its own features and those of its
//     descendants.
//   - Forward on an inference tape allocates nothing in steady state for an
//     unchanged plan; a Cache lookup that hits allocates nothing.
//   - Data-dependent failures (cycles, ids out of range, repeated edges) are
//     errors from NewPlan; misuse of a layer (features that do not match the
//     plan or the config, malformed job ids) panics with a "dagnn:" message.
//
// # References
//
// H. Mao, M. Schwarzkopf, S. B. Venkatakrishnan, Z. Meng and M. Alizadeh,
// "Learning Scheduling Algorithms for Data Processing Clusters", SIGCOMM
// 2019 (Decima; reference code github.com/hongzimao/decima-sim, gcn.py and
// gsn.py). P. Veličković et al., "Graph Attention Networks", ICLR 2018 (the
// LeakyReLU-scored softmax over neighbours of the attention variant).
package dagnn
