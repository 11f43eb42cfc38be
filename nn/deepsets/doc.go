// Package deepsets is the DeepSets layer of Zaheer et al.: a function of a
// set that is invariant to the order of its elements.
//
// # Overview
//
// For a set X = {x_1, …, x_n},
//
//	f(X) = ρ( pool_{i=1..n} φ(x_i) )
//
// where φ is an MLP applied to every element, ρ an MLP applied to each pooled
// vector, and pool one of
//
//	sum        Σ_i φ(x_i)                              (the universal form of the paper)
//	mean       (1/n) Σ_i φ(x_i)
//	max        max_i φ(x_i), per feature
//	attention  Σ_i a_i ∘ φ(x_i),  a = softmax_i(s(φ(x_i)))
//
// For attention pooling a learned scorer s (an MLP, by default one Linear
// layer Latent→1) scores each element and the scores are normalised within
// each set by nn.Tape.SegmentSoftmax (Ilse, Tomczak and Welling's attention
// pooling). A scorer with one output column shares the weight a_i across
// features; one with Latent output columns gives each feature its own
// weights.
//
// A batch of sets of different sizes is one N×In tensor plus a segment id per
// row (no padding, the PyG way): seg[i] is the set of row i. Rows of a set
// need not be contiguous. An empty set pools to a zero vector under every
// pooling (ρ is then applied to zeros).
//
// # Shapes
//
//	x        N×In        (In = Config.Phi.Sizes[0])
//	seg      N ids in [0, nsets)
//	φ(x)     N×Latent    (Latent = the last of Config.Phi.Sizes)
//	pooled   nsets×Latent
//	output   nsets×Out   (Out = the last of Config.Rho.Sizes, or Latent
//	                      when ρ is the identity)
//
// # Invariants
//
//   - The output for a set depends neither on the order of its rows nor on
//     the other sets of the batch.
//   - Forward on an inference tape allocates nothing in steady state when
//     the input shapes are unchanged. The segment ids are used as given, not
//     copied: they must not change until Backward has run.
//   - Misuse (segment ids of the wrong length or out of range) panics with a
//     message prefixed "deepsets:"; invalid configurations are reported by
//     Config.Validate and make New panic.
//
// # References
//
// M. Zaheer, S. Kottur, S. Ravanbakhsh, B. Póczos, R. Salakhutdinov and
// A. Smola, "Deep Sets", NeurIPS 2017. M. Ilse, J. M. Tomczak and M. Welling,
// "Attention-based Deep Multiple Instance Learning", ICML 2018 (attention
// pooling). PyTorch Geometric's DeepSetsAggregation (local φ, sum, global ρ).
package deepsets
