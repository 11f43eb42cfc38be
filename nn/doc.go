// Package nn is cpntrain's pure-Go tensor engine: float32 row-major
// matrices (Tensor), parameters with gradients and optimizer state
// (Param), and a Tape that records operations for reverse-mode automatic
// differentiation.
//
// # Tapes
//
// A recording tape (NewTape) keeps every operation; Backward(loss)
// accumulates ∂loss/∂p into every Param the loss depends on. An inference
// tape (NewInference) records nothing and computes forward values only.
// Tensors live in the tape's arena: Reset recycles it, so a training loop
// allocates nothing in steady state; a tensor must not be used after its
// tape's Reset. Tapes are not safe for concurrent use; distinct tapes may
// run concurrently over the same parameters when only reading them (PPO's
// shards), and their gradients are then accumulated one tape at a time.
//
// # Operations
//
// Element-wise arithmetic with row/column broadcasting, activations, matmul
// (threaded blocked kernels, nn/kernel), reductions and segment reductions
// over rows (message passing), gathers and scatters, softmax and masked
// softmax, losses (MSE, Huber, cross-entropy), special functions (Lgamma,
// Digamma for the Dirichlet). Each operation's gradient is checked against
// finite differences and float64 references (ops_test.go,
// known_values_test.go), and the engine against PyTorch where it is
// installed (internal/oracle).
//
// # Modules
//
// A Module lists its parameters with Params(visit) under slash-separated
// paths ("actor/0/w"); Collect, Prefix and Modules compose them, and
// checkpoints save and load them by path. Layers live in subpackages (linear,
// mlp, gcn, attention, layernorm), distributions in nn/dist, optimizers in
// nn/optim; initialisers (KaimingUniform, Constant, Orthogonal) here.
//
// Determinism: the same seed and one goroutine give bit-identical results;
// threaded kernels split work so that results do not depend on the number
// of threads.
package nn
