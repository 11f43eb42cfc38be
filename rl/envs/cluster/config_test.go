package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpntrain/cpntrain/rl"
	"github.com/cpntrain/cpntrain/rl/envtest"
)

func TestEnvConformance(t *testing.T) {
	for _, q := range []Queue{Stable, {Tasks: 150, Horizon: 50}} {
		envtest.Check(t, func() rl.Env[Obs] {
			c := PaperConfig()
			c.Queue = q
			e, err := NewEnv(c)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, envtest.Options{Episodes: 2})
	}
}

// TestPaperConfig: the testbed of section 5.1 (33 nodes: 15 + 10 + 8) and
// Table 3's 21 strategies; three slots per node (I/O has CPU, NPU and GPU
// strategies at the edge): 100 actions. The three strategies that need
// more cores than an edge node's 2 (I/O on the NPU, 2.05, and GPU, 3.56;
// network on the CPU, 2.67) never fit; the others fit an empty node.
func TestPaperConfig(t *testing.T) {
	c := PaperConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tt := range c.TaskTypes {
		n += len(tt.Strategies)
	}
	e, _ := NewEnv(c)
	if c.Nodes() != 33 || n != 21 || c.Slots() != 3 || e.ActionSpace().N != 100 {
		t.Fatalf("%d nodes, %d strategies, %d slots, %d actions", c.Nodes(), n, c.Slots(), e.ActionSpace().N)
	}
	never := map[string]bool{"io/edge/npu": true, "io/edge/gpu": true, "network/edge/cpu": true}
	for _, tt := range c.TaskTypes {
		for _, s := range tt.Strategies {
			key := tt.Name + "/" + s.Cluster + "/" + s.Processor
			if got := fitsEmpty(Obs{Cfg: &c}, s); got == never[key] {
				t.Errorf("%s fits an empty node: %v", key, got)
			}
		}
	}
}

// TestArrivals: a queue has its task count, sorted times within the
// horizon, every type drawn, and is the same for the same seed only.
func TestArrivals(t *testing.T) {
	c := PaperConfig()
	c.Queue = Burst
	ty, tm := c.Arrivals(7)
	ty2, tm2 := c.Arrivals(7)
	ty3, _ := c.Arrivals(8)
	if len(ty) != 2000 || len(tm) != 2000 {
		t.Fatalf("%d tasks", len(ty))
	}
	seen := map[int]bool{}
	same := true
	for i := range ty {
		if tm[i] < 0 || tm[i] >= 1000 || i > 0 && tm[i] < tm[i-1] || ty[i] != ty2[i] || tm[i] != tm2[i] {
			t.Fatalf("task %d: type %d at %v (again: %d at %v)", i, ty[i], tm[i], ty2[i], tm2[i])
		}
		seen[ty[i]] = true
		same = same && ty[i] == ty3[i]
	}
	if len(seen) != 5 || same {
		t.Fatalf("%d types drawn; seed 8 the same: %v", len(seen), same)
	}
}

// TestConfigFiles: the paper's configuration round-trips through JSON and
// YAML files; errors name the file and the field.
func TestConfigFiles(t *testing.T) {
	dir := t.TempDir()
	b, _ := json.MarshalIndent(PaperConfig(), "", "  ")
	js := filepath.Join(dir, "paper.json")
	os.WriteFile(js, b, 0o644)
	c, err := LoadConfig(js)
	if err != nil || c.Nodes() != 33 {
		t.Fatalf("JSON: %v, %d nodes", err, c.Nodes())
	}
	yml := filepath.Join(dir, "small.yaml")
	os.WriteFile(yml, []byte(`clusters:
  - name: cloud
    nodes: 2
    node: {cpu: 8, mem_mb: 65536, accel: 4, accel_mem_mb: 65536}
    processors: [gpu]
task_types:
  - name: ai
    strategies:
      - {cluster: cloud, processor: gpu, demand: {cpu: 0.21, mem_mb: 1021, accel: 0.43, accel_mem_mb: 1898}, runtime_s: 12}
`), 0o644)
	c, err = LoadConfig(yml)
	if err != nil || c.Nodes() != 2 || c.TaskTypes[0].Strategies[0].Demand.Accel != 0.43 || c.Queue != Stable || c.Weights != PaperConfig().Weights {
		t.Fatalf("YAML (queue and weights omitted: the defaults): %v, %+v", err, c)
	}
	for _, bad := range []struct{ name, text, want string }{
		{"unknown.json", `{"clusters": [], "colour": 1}`, `unknown field "colour"`},
		{"proc.json", strings.Replace(string(b), `"processor": "gpu"`, `"processor": "tpu"`, 1), `processor: "tpu" is not a processor of cluster cloud`},
		{"weights.json", strings.Replace(string(b), `"alpha": 0.5`, `"alpha": 0.9`, 1), "must be non-negative and sum to 1"},
		{"neg.json", strings.Replace(string(b), `"runtime_s": 65`, `"runtime_s": -65`, 1), "strategies[0].runtime_s: -65 must be positive"},
		{"tasks.json", strings.Replace(string(b), `"tasks": 100`, `"tasks": 0`, 1), "queue.tasks: 0 outside"},
		{"keys.yaml", "clusters:\n  1: x\n", "non-string keys"},
		{"syntax.yaml", "clusters: [\n", "yaml:"},
		{"empty.json", " \n", "the file is empty"},
		{"nowhere.json", `{"clusters":[{"name":"c","nodes":1,"node":{"cpu":8}}],"task_types":[{"name":"big","strategies":[{"cluster":"c","processor":"cpu","demand":{"cpu":9},"runtime_s":1}]}],"queue":{"tasks":3,"horizon_s":5},"weights":{"alpha":1}}`, "(big): no strategy fits an empty node"},
	} {
		p := filepath.Join(dir, bad.name)
		os.WriteFile(p, []byte(bad.text), 0o644)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), bad.name) {
			t.Errorf("%s: %v, want an error naming the file and containing %q", bad.name, err, bad.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	b, _ := json.Marshal(PaperConfig())
	f.Add(b)
	f.Add([]byte(`{"clusters":[{"name":"c","nodes":1,"node":{"cpu":1}}],"task_types":[{"name":"t","strategies":[{"cluster":"c","processor":"cpu","demand":{"cpu":1},"runtime_s":1}]}],"queue":{"tasks":3,"horizon_s":5},"weights":{"alpha":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Queue.Tasks > 500 {
			c.Queue.Tasks = 500
		}
		e, err := NewEnv(c)
		if err != nil {
			t.Fatalf("a valid config fails NewEnv: %v", err)
		}
		o, err := e.Reset(1)
		if err != nil {
			t.Fatal(err)
		}
		// Fastest waits only when nothing fits: every episode ends.
		p := Fastest()
		for range 10*c.Queue.Tasks + 10 {
			a, err := p.Decide(o)
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.Step(a)
			if err != nil {
				t.Fatalf("fastest's action %d refused: %v", a.Index, err)
			}
			if s.Terminated {
				return
			}
			o = s.Obs
		}
		t.Fatalf("the episode of %d tasks did not end", c.Queue.Tasks)
	})
}

// FuzzRestore: any bytes restore to an environment that works, or fail
// with an error (never a panic).
func FuzzRestore(f *testing.F) {
	e, _ := NewEnv(tiny())
	e.ResetQueue([]int{0, 0, 0}, []float64{0, 1, 2})
	e.Step(rl.Action{Index: 0})
	b, _ := e.Snapshot()
	f.Add(b)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _ := NewEnv(tiny())
		o, err := e.Restore(b)
		if err != nil || o.Task < 0 {
			return
		}
		if _, err := e.Step(rl.Action{Index: o.WaitAction()}); err != nil && o.Mask[o.WaitAction()] {
			t.Fatalf("an allowed wait refused after Restore: %v", err)
		}
	})
}
