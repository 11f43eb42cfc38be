// Package optim holds the optimizers, gradient clipping and learning-rate
// schedules of cpntrain.
//
// # Overview
//
// An optimizer is built over a fixed list of named parameters, usually
// nn.Collect(model). Each training step fills the gradients (Tape.Backward),
// optionally clips them with ClipGradNorm — skipping the update when it
// reports a non-finite norm —, sets the learning rate from a Schedule with
// ApplySchedule, and calls Step, which updates the values and zeroes the
// gradients. ExampleNewAdam shows the loop.
//
// SGD (with momentum, Nesterov momentum, dampening and weight decay), Adam
// (with L2 weight decay) and AdamW (decoupled weight decay) follow the update
// rules of torch.optim.SGD, torch.optim.Adam and torch.optim.AdamW of PyTorch
// 1.13 (without amsgrad, maximize or foreach variants); a test compares them
// with PyTorch when it is installed.
//
// Schedules (Constant, StepDecay, Cosine with warm-up, Linear) are pure
// functions of the step; ApplySchedule sets an optimizer's rate from its step
// count.
//
// # Invariants
//
//   - Optimizer state lives in the optimizer, keyed by parameter path, never
//     on the parameter. State returns a deep copy; LoadState validates its
//     whole argument before changing anything.
//   - Buffer keys are "<param path>/<buffer name>" with PyTorch's names:
//     momentum_buffer (SGD), exp_avg and exp_avg_sq (Adam, AdamW). Each
//     buffer has its parameter's shape.
//   - Step does not allocate; the element-wise arithmetic is float32, the
//     per-step scalars (bias corrections, step size) float64 rounded once.
//   - A parameter must keep its size and its gradient buffer for the life of
//     the optimizer; Step panics otherwise.
//   - Misuse (invalid configuration, nil or duplicate parameters, invalid
//     learning rate) panics with a message prefixed "optim:"; rejected
//     states are returned as *StateError.
//
// # References
//
// D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR
// 2015. I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization",
// ICLR 2019. I. Sutskever et al., "On the importance of initialization and
// momentum in deep learning", ICML 2013 (the momentum formulation used by
// PyTorch).
package optim
