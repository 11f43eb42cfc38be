package optim

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/cpntrain/cpntrain/nn"
)

// torchScript runs each case of a JSON request on stdin with torch.optim and
// prints the parameter values after every step.
const torchScript = `
import json, sys, torch
torch.set_num_threads(1)
req = json.load(sys.stdin)
out = []
for c in req["cases"]:
    ps = [torch.tensor(v, dtype=torch.float32).reshape(r, k).requires_grad_() for v, (r, k) in zip(c["init"], c["shapes"])]
    h = c["hyper"]
    if c["kind"] == "sgd":
        opt = torch.optim.SGD(ps, lr=h["lr"], momentum=h["momentum"], dampening=h["dampening"],
                              weight_decay=h["weight_decay"], nesterov=bool(h["nesterov"]))
    else:
        cls = torch.optim.Adam if c["kind"] == "adam" else torch.optim.AdamW
        opt = cls(ps, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"])
    steps = []
    for grads in c["grads"]:
        for p, g in zip(ps, grads):
            p.grad = torch.tensor(g, dtype=torch.float32).reshape(p.shape)
        opt.step()
        steps.append([p.detach().reshape(-1).tolist() for p in ps])
    out.append(steps)
json.dump(out, sys.stdout)
`

// TestAgainstTorch compares five steps of each optimizer with torch.optim,
// from the same initial values and the same fixed gradients. It is skipped
// when /usr/bin/python3 cannot import torch.
func TestAgainstTorch(t *testing.T) {
	const python = "/usr/bin/python3"
	if testing.Short() {
		t.Skip("skipping PyTorch comparison in -short mode")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skip("no python3:", err)
	}
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch not importable:", err)
	}
	type tcase struct {
		Kind   string             `json:"kind"`
		Hyper  map[string]float64 `json:"hyper"`
		Shapes [][2]int           `json:"shapes"`
		Init   [][]float32        `json:"init"`
		Grads  [][][]float32      `json:"grads"`
		opt    func([]nn.NamedParam) Optimizer
		name   string
	}
	const steps = 5
	var cases []*tcase
	for i, oc := range optCases() {
		m := newTestModel(uint64(10 + i))
		params := nn.Collect(m)
		o := oc.make(params)
		st := o.State()
		c := &tcase{Kind: st.Kind, Hyper: st.Hyper, opt: oc.make, name: oc.name}
		for _, np := range params {
			c.Shapes = append(c.Shapes, [2]int{np.Param.V.Rows, np.Param.V.Cols})
			c.Init = append(c.Init, append([]float32(nil), np.Param.V.Data...))
		}
		// Gradients of mixed scale and sign, some exactly zero.
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		for range steps {
			var gs [][]float32
			for _, np := range params {
				g := make([]float32, np.Param.V.Len())
				for k := range g {
					switch rng.IntN(6) {
					case 0:
						g[k] = 0
					case 1:
						g[k] = float32(rng.NormFloat64() * 1e-3)
					default:
						g[k] = float32(rng.NormFloat64() * 2)
					}
				}
				gs = append(gs, g)
			}
			c.Grads = append(c.Grads, gs)
		}
		cases = append(cases, c)
	}
	req, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", torchScript)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var want [][][][]float64 // case, step, param, value
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("decoding torch output: %v", err)
	}
	if len(want) != len(cases) {
		t.Fatalf("torch returned %d cases, want %d", len(want), len(cases))
	}
	for ci, c := range cases {
		params := make([]nn.NamedParam, len(c.Shapes))
		for j, sh := range c.Shapes {
			p := nn.NewParam(sh[0], sh[1])
			copy(p.V.Data, c.Init[j])
			params[j] = nn.NamedParam{Path: string(rune('a' + j)), Param: p}
		}
		o := c.opt(params)
		var worst float64
		for s := range steps {
			for j, np := range params {
				copy(np.Param.V.Grad, c.Grads[s][j])
			}
			o.Step()
			for j, np := range params {
				for k, v := range np.Param.V.Data {
					w := want[ci][s][j][k]
					d := math.Abs(float64(v)-w) / math.Max(1, math.Abs(w))
					worst = max(worst, d)
					if d > 1e-6 {
						t.Errorf("%s: step %d, param %d[%d]: %.9g, torch %.9g", c.name, s+1, j, k, v, w)
					}
				}
			}
		}
		t.Logf("%s: largest relative difference to torch over %d steps: %.3g", c.name, steps, worst)
	}
}
