package main

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/checkpoints"
	"github.com/cpntrain/cpntrain/nn"
	"github.com/cpntrain/cpntrain/nn/mlp"
	"github.com/cpntrain/cpntrain/nn/optim"
)

func TestCheckpointInspect(t *testing.T) {
	m := mlp.New(mlp.Config{Sizes: []int{3, 4, 2}, Act: nn.ReLU}, rand.New(rand.NewPCG(1, 1)))
	opt := optim.NewAdam(nn.Collect(m), optim.DefaultAdamConfig())
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := checkpoints.Save(path, m, opt, checkpoints.Meta{ModelKind: "mlp", Step: 7}); err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	if code := run([]string{"cpntrain", "checkpoint", "inspect", path}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, want := range []string{`model kind "mlp", step 7`, "checksum: ok", "optimizer adam", "model/0/w"} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, so.String())
		}
	}
	if code := run([]string{"cpntrain", "checkpoint", "inspect"}, &so, &se); code != exitUsage {
		t.Fatalf("missing FILE: exit %d", code)
	}
}
