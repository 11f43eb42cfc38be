package nn

import "fmt"

// Activation names an elementwise nonlinearity so that layer configs can be
// stored as JSON in checkpoints.
type Activation string

// Activations layers accept.
const (
	Identity  Activation = ""
	ReLU      Activation = "relu"
	LeakyReLU Activation = "leaky_relu" // slope 0.01, as PyTorch's default
	Tanh      Activation = "tanh"
	Sigmoid   Activation = "sigmoid"
	Softplus  Activation = "softplus"
)

// Validate returns an error for an unknown activation name.
func (a Activation) Validate() error {
	switch a {
	case Identity, "none", ReLU, LeakyReLU, Tanh, Sigmoid, Softplus:
		return nil
	}
	return fmt.Errorf("nn: unknown activation %q (want relu, leaky_relu, tanh, sigmoid, softplus or none)", string(a))
}

// Apply applies the activation a to x on tape t. It panics on an unknown name.
func (t *Tape) Apply(a Activation, x *Tensor) *Tensor {
	switch a {
	case Identity, "none":
		return x
	case ReLU:
		return t.ReLU(x)
	case LeakyReLU:
		return t.LeakyReLU(x, 0.01)
	case Tanh:
		return t.Tanh(x)
	case Sigmoid:
		return t.Sigmoid(x)
	case Softplus:
		return t.Softplus(x)
	}
	panic(fmt.Sprintf("nn: unknown activation %q", string(a)))
}
