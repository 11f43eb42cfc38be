// Package baselines holds the published baselines of few-shot latency
// prediction on NAS-Bench-201: the FLOPs proxy, the layer-wise sum of
// per-operation latencies, and the BRP-NAS graph-convolutional predictor.
// They are compared on MSE and Spearman's ρ (package train/metrics).
//
// # Overview
//
// The task: predict the latency of NAS-Bench-201 cells on a hardware device
// from a few cells measured on it. Latencies are min-max normalised per
// device to [0.05, 0.95]; MSE is computed in that normalised space.
//
// Every baseline is a Predictor: Fit on the measured samples, Predict on
// the rest. Inputs are plain Go values (Sample), so the package depends on
// nn only and on no dataset package. A Sample is the op-on-node DAG of a
// cell — 8 nodes: 0 the input, 1…6 the six edge operations in the order of
// the architecture string |a~0|+|b~0|c~1|+|d~0|e~1|f~2|, 7 the output — as
// an 8×8 adjacency (Adj[i][j] = 1 when node i feeds node j) and an 8×7
// one-hot op matrix (columns OpInput, OpOutput, OpNone, OpSkip, OpConv1x1,
// OpConv3x3, OpAvgPool), plus the FLOPs and parameter count of the
// CIFAR-10 network built from the cell.
//
// # FLOPS
//
// NewFLOPS: ordinary least squares y ≈ a·FLOPs + b on the target samples,
// the FLOPs-proxy baseline of BRP-NAS and HELP. NewFLOPSParams adds the
// parameter count as a second regressor (tiny ridge penalty, as FLOPs and
// parameters are nearly collinear on NAS-Bench-201); it is not a published
// baseline.
//
// # Layer-wise
//
// NewLayerWise: y ≈ b + Σ_edges cost(op), a per-op-type latency table (not
// per edge position), fitted by ridge regression with a tiny penalty on the
// op counts. Costs are relative to "none" (see LayerWise). Published
// layer-wise predictors sum per-operator latencies measured in isolation
// (lookup tables, as in ProxylessNAS and FBNet); here the table is
// estimated from the end-to-end latencies of the target samples.
//
// # BRP-NAS
//
// NewBRPNAS follows the reference implementation (EAGLE,
// github.com/SamsungLabs/eagle: predictors/gcn/gcn.py,
// models/nasbench201/utils.py, predictors/__main__.py):
//
//   - Graph. The cell is pruned as the reference does (BRPConfig.Prune):
//     "none" nodes lose their edges, "skip_connect" nodes are bypassed
//     (their predecessors are linked to their successors), nodes off every
//     input-to-output path lose their edges, and the removed nodes' features
//     are zero (the input and output keep theirs). A global node is added
//     with an edge from every cell node.
//   - Features. The 7 op columns plus a global-node flag (the reference's 6
//     columns conv1x1, conv3x3, avg_pool, input, output, global, plus none
//     and skip columns that pruning leaves at zero).
//   - Propagation. Each layer computes H' = (A + I)·H·W + b, where A[i][j] =
//     1 when node i feeds node j and the global node's row is all ones: a
//     node sums its own state and its successors' (messages run against
//     the data flow), and the global node sums every node. There is no
//     degree normalisation (the reference's normalize() returns the matrix
//     unchanged); BRPConfig.KipfNorm switches to nn/gcn's D̃^−1/2 (A + I)
//     D̃^−1/2 on the same edges. The layers are nn/gcn Layers; the sum
//     aggregation reuses their weights with nn's Gather and SegmentSum.
//   - Stack. Layers × (graph convolution → LayerNorm → ReLU → dropout),
//     then a linear layer on the global node's embedding gives the latency.
//     Convolution weights and biases are uniform in ±1/sqrt(Hidden) (the
//     reference's "thomas" init), the head has PyTorch's Linear init.
//   - Training. AdamW (decoupled weight decay) on shuffled mini-batches.
//
// DefaultBRPConfig holds the published hyper-parameters (EAGLE
// configs/predictors/lat_gcn_nasbench201_desktop.yaml, the NAS-Bench-201
// latency predictor of the paper): 4 layers, 600 hidden units,
// dropout 0.002, AdamW lr 4e-4 and weight decay 5e-4, 250 epochs, batch
// size 1, on 900 training models. Deviations from the reference: the loss
// is MSE by default (the reference minimises L1, available as LossL1);
// losses are means over the batch (the reference sums, identical at batch
// size 1); arithmetic is float32 (the reference uses float64); and no
// validation models are held out unless BRPConfig.ValFraction is set — the
// reference validates on 100 extra models, halves the learning rate after
// 10 epochs without a 1% improvement, stops after 35 epochs without
// improvement (both from epoch 21 on) and keeps the best weights, which
// ValFraction reproduces on a held-out part of the training set.
//
// Cost: the published configuration trains 900 cells for 250 epochs of
// batch size 1 through 1.1 M parameters; on a 2-core machine that takes
// 7–11 minutes (BenchmarkBRPNASEpochDefault measures one epoch).
// FastBRPConfig (4×64 units, batch 16, 100 epochs) takes about 5 s and
// matches it on the synthetic benchmark TestBRPNASScale.
//
// # Invariants
//
//   - Fit validates its inputs (non-empty, matching lengths, finite
//     values) and returns errors prefixed "baselines: <name>:"; a failed
//     Fit leaves the predictor as it was.
//   - Predict before a successful Fit panics; so do NewBRPNAS with an
//     invalid configuration and the metrics with slices of different
//     lengths.
//   - Fit is deterministic given the rng's seed (FLOPS and layer-wise do
//     not use it).
//
// # References
//
// Ł. Dudziak, T. Chau, M. S. Abdelfattah, R. Lee, H. Kim and N. D. Lane,
// "BRP-NAS: Prediction-based NAS using GCNs", NeurIPS 2020 (reference code:
// github.com/SamsungLabs/eagle). H. Lee, S. Lee, S. Chong and S. J. Hwang,
// "HELP: Hardware-Adaptive Efficient Latency Prediction for NAS via
// Meta-Learning", NeurIPS 2021. X. Dong and Y. Yang, "NAS-Bench-201:
// Extending the Scope of Reproducible Neural Architecture Search", ICLR
// 2020. T. N. Kipf and M. Welling, "Semi-Supervised Classification with
// Graph Convolutional Networks", ICLR 2017. H. Cai, L. Zhu and S. Han,
// "ProxylessNAS: Direct Neural Architecture Search on Target Task and
// Hardware", ICLR 2019, and B. Wu et al., "FBNet: Hardware-Aware Efficient
// ConvNet Design via Differentiable Neural Architecture Search", CVPR 2019
// (per-operator latency lookup tables).
package baselines
