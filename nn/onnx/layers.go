package onnx

import "fmt"

// Gemm adds x·W + b for x of shape (batch, in), W in×out row-major (the
// layout of nn/linear) and b of length out (nil: no bias), and returns
// the output's name.
func (g *Graph) Gemm(x, name string, w []float32, in, out int, b []float32) string {
	ins := []string{x, g.Const(name+"_w", []int64{int64(in), int64(out)}, w)}
	if b != nil {
		ins = append(ins, g.Const(name+"_b", []int64{int64(out)}, b))
	}
	return g.Op("Gemm", ins)
}

// Activation adds the activation called act (nn.Activation's names:
// "", "none", relu, leaky_relu with slope 0.01, tanh, sigmoid, softplus).
func (g *Graph) Activation(x, act string) (string, error) {
	switch act {
	case "", "none":
		return x, nil
	case "relu":
		return g.Op("Relu", []string{x}), nil
	case "leaky_relu":
		return g.Op("LeakyRelu", []string{x}, AttrFloat("alpha", 0.01)), nil
	case "tanh":
		return g.Op("Tanh", []string{x}), nil
	case "sigmoid":
		return g.Op("Sigmoid", []string{x}), nil
	case "softplus":
		return g.Op("Softplus", []string{x}), nil
	}
	return "", fmt.Errorf("onnx: no ONNX operator for activation %q", act)
}
