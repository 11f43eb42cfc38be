// Package tsft is the TSFT latency predictor of the RLMS-CPN paper: it
// predicts the latency of a NAS-Bench-201 cell on a hardware device from the
// cell's architecture and a device embedding, is pretrained on many devices,
// and adapts to a new device in two stages.
//
// # Model
//
//	f(X, V_h; θ) = MLP([ GNN(A, O) ‖ onehot(edge ops) ‖ V_h ])
//
// The cell is its op-on-node DAG (adjacency A, one-hot operations O, see
// datasets/nasbench201.Arch.Encode): a GCN over it (forward and backward
// propagation weights) gives node embeddings whose concatenation in the
// cell's canonical node order feeds the head together with the one-hot
// operation of each of the 6 edges. V_h, the device embedding, is HELP's
// (Lee et al., NeurIPS 2021): the normalised latencies of the 10 reference
// architectures of hardware_embedding_index.pt measured on the device, so it
// exists for a device never seen in training.
//
// # Stages
//
//  1. Pretrain: min Σ_devices Σ_cells (f(X, V_h) − Y)² over the training
//     devices (all their measured cells).
//  2. Fine-tune a copy on the N labelled samples of the new device.
//  3. Pseudo-label M unmeasured cells with the fine-tuned model, then train
//     again (from the pretrained weights) on labelled + pseudo-labelled cells.
//
// # Sample budget
//
// N shots means N latency measurements on the new device: the 10 reference
// architectures (which also form V_h) plus N−10 cells drawn from the
// training pool (indices below 900). With N = 10 the only measurements are
// the reference architectures. Measured cells are excluded from the query
// set on which MSE and Spearman are reported.
//
// # Layer-wise blend
//
// Additive is the per-device additive model B + Σ_op Beta[op]·count(op),
// fitted by FitAdditive (ridge regression on the op counts, λ by exact
// leave-one-out, "no model" a candidate); train/tsftrun blends the adapted
// network with it.
package tsft
