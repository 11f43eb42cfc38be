// Package gcn is the graph convolution of Kipf and Welling over a batched
// edge list, and a multi-layer GCN with a per-graph mean readout: the
// encoder of the BRP-NAS latency/accuracy predictor on NAS-Bench-201 cells.
//
// # Overview
//
// One layer computes
//
//	H' = Â · H · W + b,     Â = D̃^−1/2 (A + I) D̃^−1/2,     D̃_ii = 1 + Σ_j A_ij
//
// (Layer; no activation). Row-wise, with d̃_i = 1 + (number of edges into i):
//
//	h_i' = Σ_{j ∈ N⁻(i) ∪ {i}} (d̃_i d̃_j)^−1/2 · h_j W + b
//
// which is PyTorch Geometric's GCNConv with gcn_norm. The normalisation
// depends on the graph only, so NewGraph computes it once per batch of
// graphs; every layer and every pass reuses it.
//
// Direction selects which edges carry information:
//
//   - Undirected (the default, Kipf and Welling): every listed edge u–v
//     counts in both directions, A is symmetric. List each undirected edge
//     once.
//   - Forward: information flows along the edges only (j → i uses the edge
//     j→i), A is the directed adjacency and d̃ counts in-edges.
//   - Both: forward and backward propagation with separate weights,
//     H' = ½ (Â_→ H W_→ + Â_← H W_←) + b, where Â_← is the normalised Aᵀ + I
//     (in-degrees of the reversed graph). This is the option for directed
//     cells (NAS-Bench-201 cells are DAGs) where the direction of the data
//     flow matters: one set of weights reads a node's predecessors, the
//     other its successors. It is the "average of two GCN layers, one with A
//     and one with Aᵀ" of Wen et al.'s neural predictor.
//
// BRP-NAS's reference implementation propagates along the edges only
// (Forward: it multiplies H by Aᵀ + I built from the cell's adjacency) and
// reads out a global node that every node feeds; Both gives a predictor the
// backward direction as well with its own weights.
//
// Model stacks layers: x_{l+1} = act(LN(GCN_l(x_l))) with an optional
// LayerNorm, as BRP-NAS's predictor does (ReLU(LayerNorm(Â H W + b)) in its
// reference implementation, 4 layers of 600 units there), and Readout
// averages each graph's node embeddings. (For BRP-NAS's global-node readout,
// add a node per graph with an edge from every node of the graph, and Gather
// its rows.)
//
// A batch of graphs is one disjoint graph: node ids of graph g are offset by
// the number of nodes of the graphs before it, and nodeGraph gives each
// node's graph for the readout.
//
// # Shapes
//
//	x          N×In
//	src, dst   E ids in [0, N)   edge j→i has src j and dst i
//	nodeGraph  N ids in [0, G)
//	Layer      N×In → N×Out
//	Model      N×In → N×Out (Out = last of Config.Hidden); Readout → G×Out
//
// # Invariants
//
//   - A Graph is immutable and safe for concurrent use; its normalisation
//     tensors are constants (no gradient).
//   - Forward on an inference tape allocates nothing in steady state.
//   - NewGraph returns an error on data it cannot use (ids out of range,
//     self-loops, which Â already adds); layers panic with a "gcn:" message
//     on programmer errors (input widths, a graph of another size).
//
// # References
//
// T. N. Kipf and M. Welling, "Semi-Supervised Classification with Graph
// Convolutional Networks", ICLR 2017. Ł. Dudziak, T. Chau, M. S. Abdelfattah,
// R. Lee, H. Kim and N. D. Lane, "BRP-NAS: Prediction-based NAS using GCNs",
// NeurIPS 2020 (reference code: github.com/SamsungLabs/eagle). W. Wen,
// H. Liu, Y. Chen, H. Li, G. Bender and P.-J. Kindermans, "Neural Predictor
// for Neural Architecture Search", ECCV 2020 (A and Aᵀ propagation). M. Fey
// and J. E. Lenssen, PyTorch Geometric's GCNConv (normalisation of directed
// edge lists).
package gcn
