package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTopologyFile: 'rlms train' and 'rlms eval' on a network file of the
// user's (here CFR-RL's Ebone under another name, and a Topology Zoo GML
// file): the run is named after the file and the evaluation tables come
// out; a missing or broken file is an error naming it.
func TestTopologyFile(t *testing.T) {
	root := dataRoot(t)
	dir := t.TempDir()
	mine := filepath.Join(dir, "mynet.txt")
	b, err := os.ReadFile(filepath.Join(root, "topologies", "cfr-rl", "Ebone"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(mine, b, 0o644)
	out := filepath.Join(dir, "run")
	r := runArgs(t, nil, "--quiet", "--data-dir", root, "--out", out, "rlms", "train", "--topology-file", mine, "--steps", "1000", "--eval-seeds", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "mynet, K = 5") {
		t.Fatalf("train on mynet.txt: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runArgs(t, nil, "--quiet", "--data-dir", root, "--out", filepath.Join(dir, "eval"), "rlms", "eval", "--model", filepath.Join(out, "model.safetensors"),
		"--topology-file", filepath.Join(root, "topologies", "topologyzoo", "Internet2.gml"), "--seeds", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "Internet2, K = 5") {
		t.Fatalf("eval on Internet2.gml: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("garbage\n"), 0o644)
	for file, want := range map[string]string{bad: "topology file " + bad, filepath.Join(dir, "none.gml"): "--topology-file: stat"} {
		r = runArgs(t, nil, "--quiet", "--data-dir", root, "--out", filepath.Join(dir, "x"), "rlms", "train", "--topology-file", file, "--steps", "1000")
		if r.code == exitOK || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", file, r.code, r.stderr, want)
		}
	}
}
