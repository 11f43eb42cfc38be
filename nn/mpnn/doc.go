// Package mpnn is generic message passing over a batch of graphs given as
// edge arrays, in the style of PyTorch Geometric's MessagePassing, and
// SyncGNN (the RLMS-CPN encoder of compute nodes and paths) as one
// configuration of it.
//
// # Overview
//
// One round of message passing over directed edges j → i (src j, dst i) is
//
//	m_ji = M(h_i, h_j, e_ji)            one message per edge
//	m_i  = AGG_{j : j→i} m_ji           aggregation at the destination
//	h_i' = U(h_i, m_i)                  update
//
// Model.Propagate runs exactly this pipeline: gather h[dst] and h[src],
// Message, Aggregate by dst, Update. The three steps are small interfaces
// (Message, Aggregator, Update) so other layers can plug in their own; New
// builds the defaults from a Config:
//
//	M(h_i, h_j, e) = MLP_M([h_i ‖ h_j ‖ e])          (MLPMessage)
//	AGG            = sum | mean | max | DeepSets       (SumAgg, MeanAgg, MaxAgg, DeepSetsAgg)
//	U(h, m)        = MLP_U([h ‖ m])  or  h + MLP_U([h ‖ m])  (MLPUpdate, Residual)
//
// where the DeepSets aggregation applies a local MLP φ to every message and
// then sums (PyG's DeepSetsAggregation without a global network: the update
// plays that role). A node without incoming edges aggregates to a zero
// vector under every aggregation.
//
// A batch of graphs is one disjoint graph: node ids of graph g are offset by
// the number of nodes of the graphs before it; no padding. An undirected
// edge is two directed edges.
//
// # SyncGNN
//
// The RLMS-CPN paper encodes a scheduling decision as a bipartite graph with
// one vertex per candidate compute node and one per candidate path; a path
// vertex is linked to the compute vertex it reaches. Compute-node features
// (width ComputeIn) and path features (width PathIn) are first embedded by
// two Linear layers to a common width Dim, then one synchronous round
//
//	m_i = Σ_{j∈N(i)} M(h_i, h_j),   h_i' = U(h_i, m_i)
//
// updates every vertex at once (Rounds > 1 repeats it with fresh
// parameters). BipartiteEdges builds the edge arrays (both directions) from
// "path p reaches compute node c"; vertices are numbered compute nodes
// first (0 … C−1), then paths (C … C+P−1).
//
// # Shapes
//
//	h          N×In            node states
//	src, dst   E ids in [0, N) edge j→i has src j and dst i
//	edgeFeat   E×EdgeIn        or nil when EdgeIn == 0
//	messages   E×Msg
//	aggregated N×Msg
//	output     N×Out
//
//	SyncGNN:   compute C×ComputeIn, paths P×PathIn → C×Dim, P×Dim
//
// # Invariants
//
//   - Propagate on an inference tape allocates nothing in steady state when
//     the shapes are unchanged. The edge arrays are used as given, not
//     copied: they must not change until Backward has run.
//   - The result for a node depends only on its in-neighbourhood; relabelling
//     nodes or reordering edges permutes the result accordingly.
//   - Misuse (edge arrays of different lengths, ids out of range, edge
//     features that do not match the config) panics with a message prefixed
//     "mpnn:"; BipartiteEdges returns an error on data it cannot use.
//
// # References
//
// J. Gilmer, S. S. Schoenholz, P. F. Riley, O. Vinyals and G. E. Dahl,
// "Neural Message Passing for Quantum Chemistry", ICML 2017 (the M/U
// framework). M. Fey and J. E. Lenssen, "Fast Graph Representation Learning
// with PyTorch Geometric", ICLR workshop 2019 (propagate, pluggable
// aggregations). M. Zaheer et al., "Deep Sets", NeurIPS 2017 (the DeepSets
// aggregation). The RLMS-CPN paper of this project (SyncGNN: compute-node and
// path vertices, one synchronous round).
package mpnn
