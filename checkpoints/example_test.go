package checkpoints_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/optim"
)

// linear is a module with a weight and a bias.
type linear struct{ W, B *nn.Param }

func (l *linear) Params(visit func(string, *nn.Param)) {
	visit("w", l.W)
	visit("b", l.B)
}

func newLinear() *linear { return &linear{W: nn.NewParam(2, 3), B: nn.NewParam(1, 3)} }

// Save a model with its Adam state, then restore both into fresh instances.
func Example() {
	dir, err := os.MkdirTemp("", "ck")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "step-10.safetensors")

	m := newLinear()
	m.W.V.Data[0] = 0.5
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	meta := checkpoints.Meta{
		ModelKind:   "linear",
		ModelConfig: json.RawMessage(`{"in":2,"out":3}`),
		Step:        10,
		Extra:       map[string]json.RawMessage{"best_loss": json.RawMessage(`0.25`)},
	}
	if err := checkpoints.Save(path, m, opt, meta); err != nil {
		panic(err)
	}

	m2 := newLinear()
	opt2 := optim.NewAdam(nn.Collect(m2), optim.DefaultAdamConfig())
	got, err := checkpoints.Load(path, m2, opt2, checkpoints.ExpectKind("linear"))
	if err != nil {
		panic(err)
	}
	fmt.Println(got.ModelKind, string(got.ModelConfig), got.Step, string(got.Extra["best_loss"]), m2.W.V.Data[0])

	_, err = checkpoints.Load(path, m2, nil, checkpoints.ExpectKind("mlp"))
	fmt.Println(err != nil)
	// Output:
	// linear {"in":2,"out":3} 10 0.25 0.5
	// true
}

// Inspect a checkpoint without a model.
func ExampleInspect() {
	dir, err := os.MkdirTemp("", "ck")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ck.safetensors")
	m := newLinear()
	if err := checkpoints.Save(path, m, optim.NewSGD(nn.Collect(m), optim.SGDConfig{LR: 0.1, Momentum: 0.9}), checkpoints.Meta{ModelKind: "linear", Step: 3}); err != nil {
		panic(err)
	}
	info, err := checkpoints.Inspect(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Meta.ModelKind, info.Meta.Step, info.Optim.Kind, info.ChecksumOK)
	for _, t := range info.Tensors {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	// Output:
	// linear 3 sgd true
	// model/b F32 [1 3]
	// model/w F32 [2 3]
	// optim/b/momentum_buffer F32 [1 3]
	// optim/w/momentum_buffer F32 [2 3]
}
