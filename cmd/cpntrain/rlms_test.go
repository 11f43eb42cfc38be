package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRLMSUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rlms", "train", "--topology", "arpanet"}, `unknown topology "arpanet"`},
		{[]string{"rlms", "train", "--mix", "heavy"}, `unknown task mix "heavy"`},
		{[]string{"rlms", "train", "--encoder", "gat"}, `unknown encoder "gat"`},
		{[]string{"rlms", "train", "--split", "beta"}, `unknown split distribution "beta"`},
		{[]string{"rlms", "train", "--steps", "0"}, "--steps 0 is less than one update (--envs 16 × --nsteps 5 = 80)"},
		{[]string{"rlms", "train", "--steps", "50", "--nsteps", "100000"}, "--steps 50 is less than one update"},
		{[]string{"rlms", "train", "--arrival-rate", "1e-300"}, "--arrival-rate 1e-300 outside [0.001, 1e+06] tasks per second"},
		{[]string{"rlms", "train", "--k", "1000"}, "--k 1000 outside [1,64]"},
		{[]string{"rlms", "train", "--envs", "0"}, "--envs 0 < 1"},
		{[]string{"rlms", "train", "--dim", "1000000000"}, "widths must be between 1 and 4096, got --dim 1000000000"},
		{[]string{"rlms", "train", "--rounds", "1000000"}, "--rounds 1000000 outside [0, 64]"},
		{[]string{"--threads", "9223372036854775807", "version"}, "invalid value 9223372036854775807 for --threads: use a number of threads from 1 to 1024"},
		{[]string{"rlms", "train", "--algo", "sac"}, `--algo "sac": want ac or ppo`},
		{[]string{"rlms", "train", "--algo", "ppo", "--nsteps", "0"}, "--nsteps (0) must be positive"},
		{[]string{"rlms", "eval"}, `Required flag "model" not set`},
		{[]string{"bench", "rlms", "--ks", "3,x"}, `"x" is not an integer`},
		{[]string{"bench", "rlms", "--mixes", "io,video"}, `unknown mix "video"`},
		{[]string{"data", "fetch", "imagenet"}, "available: nasbench201, topologies"},
	} {
		var so, se bytes.Buffer
		code := run(append([]string{"cpntrain"}, c.args...), &so, &se)
		if code != exitUsage || !strings.Contains(se.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, se.String(), c.want)
		}
	}
}

// TestRLMSTrainResumeEval trains a tiny policy, resumes the finished run
// from its folder (a second invocation with --out), and evaluates the
// saved policy against every baseline.
func TestRLMSTrainResumeEval(t *testing.T) {
	root := dataRoot(t)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"cpntrain", "--quiet", "--data-dir", root, "--out", out, "rlms", "train", "--steps", "640", "--envs", "4",
		"--dim", "8", "--tasks", "20", "--checkpoint-every", "4", "--eval-seeds", "1"}
	var so, se bytes.Buffer
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, want := range []string{"trained 640 tasks", "| rlms-cpn |", "| base1 |", "| oracle |"} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("train output lacks %q:\n%s", want, so.String())
		}
	}
	for _, f := range []string{"model.safetensors", "train-state.safetensors", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	so.Reset()
	se.Reset()
	loud := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--quiet" })
	if code := run(loud, &so, &se); code != 0 || !strings.Contains(se.String(), "resuming from the checkpoint at step 640") {
		t.Fatalf("second invocation: exit %d, stderr %q", code, se.String())
	}
	// Changed settings: refused (usage error) naming each; the run is untouched.
	so.Reset()
	se.Reset()
	changed := append(slices.Clone(args[:len(args)-2]), "--lr-actor", "0.1", "--mix", "io")
	changed = slices.Insert(changed, 1, "--seed", "9")
	if code := run(changed, &so, &se); code != exitUsage || !strings.Contains(se.String(), "train.AC.LearningRateActor (--lr-actor): 0.003 (run) → 0.1 (now)") ||
		!strings.Contains(se.String(), "env.Mix") || !strings.Contains(se.String(), "train.AC.Seed: 1 (run) → 9 (now)") {
		t.Fatalf("changed settings: exit %d, stderr %q", code, se.String())
	}
	so.Reset()
	se.Reset()
	eval := []string{"cpntrain", "--data-dir", root, "rlms", "eval", "--model", filepath.Join(out, "model.safetensors"), "--tasks", "20", "--seeds", "1"}
	if code := run(eval, &so, &se); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, se.String())
	}
	for _, want := range []string{"| base2 |", "| base4 |", "| rlms-cpn |"} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("eval output lacks %q:\n%s", want, so.String())
		}
	}
	// A file that is not a checkpoint: a clear error naming it.
	bad := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(bad, []byte("not a checkpoint"), 0o644)
	so.Reset()
	se.Reset()
	if code := run([]string{"cpntrain", "--data-dir", root, "rlms", "eval", "--model", bad}, &so, &se); code != exitFail || !strings.Contains(se.String(), bad) {
		t.Fatalf("bad model: exit %d, stderr %q", code, se.String())
	}
}

// TestDataFetchTopologies fetches the topologies from a local server
// laid out as raw.githubusercontent.com.
func TestDataFetchTopologies(t *testing.T) {
	root := dataRoot(t)
	mux := http.NewServeMux()
	mux.Handle("/jrayzhang6/CFR-RL/", http.StripPrefix("/jrayzhang6/CFR-RL/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, rest, _ := strings.Cut(r.URL.Path, "/") // drop the commit
		name := strings.TrimPrefix(rest, "data/")
		if rest == "LICENSE" {
			name = "LICENSE.CFR-RL"
		}
		http.ServeFile(w, r, filepath.Join(root, "topologies", "cfr-rl", name))
	})))
	mux.Handle("/mroughan/InternetTopologyZoo/", http.StripPrefix("/mroughan/InternetTopologyZoo/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, rest, _ := strings.Cut(r.URL.Path, "/")
		http.ServeFile(w, r, filepath.Join(root, "topologies", "topologyzoo", strings.TrimPrefix(rest, "gml/")))
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dest := t.TempDir()
	var so, se bytes.Buffer
	if code := run([]string{"cpntrain", "--quiet", "--data-dir", dest, "data", "fetch", "--base-url", srv.URL, "topologies"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, f := range []string{"cfr-rl/Abilene", "cfr-rl/AbileneTM", "topologyzoo/Kdl.gml"} {
		if _, err := os.Stat(filepath.Join(dest, "topologies", f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupWithoutSubcommand: a command that only groups subcommands is a
// usage error without one (as bare cpntrain is), naming them.
func TestGroupWithoutSubcommand(t *testing.T) {
	for args, want := range map[string]string{
		"rlms":        "give a subcommand: train, eval.",
		"data":        "give a subcommand: fetch.",
		"data fetchh": `unknown command "fetchh" for "cpntrain data". Did you mean "fetch"?`,
		"bench":       "give a subcommand: engine, latency, rlms, offload, dsppo, decima, serve.",
		"offload":     "give a subcommand: train, eval, bench.",
		"checkpoint":  "give a subcommand: inspect.",
		"rl":          "give a subcommand: smoke.",
		"decima":      "give a subcommand: train, eval.",
	} {
		var so, se bytes.Buffer
		if code := run(append([]string{"cpntrain"}, strings.Fields(args)...), &so, &se); code != exitUsage || !strings.Contains(se.String(), want) {
			t.Errorf("cpntrain %s: exit %d, stderr %q; want exit 2 with %q", args, code, se.String(), want)
		}
	}
}

// TestOffloadBench: the baselines' table at D = 3 on 2 sets (the optimum
// is its reference: 1.0000), and the usage errors.
func TestOffloadBench(t *testing.T) {
	var so, se bytes.Buffer
	if code := run([]string{"cpntrain", "--quiet", "offload", "bench", "--devices", "3", "--sets", "2"}, &so, &se); code != 0 ||
		!strings.Contains(so.String(), "| 3 | optimum | 1.0000 | 1.0000 |") || !strings.Contains(so.String(), "| 3 | greedy |") {
		t.Fatalf("exit %d: %s\n%s", code, se.String(), so.String())
	}
	for _, args := range [][]string{{"offload", "bench", "--devices", "0"}, {"offload", "bench", "--sets", "0"}, {"offload"}} {
		so.Reset()
		se.Reset()
		if code := run(append([]string{"cpntrain"}, args...), &so, &se); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, se.String())
		}
	}
}
