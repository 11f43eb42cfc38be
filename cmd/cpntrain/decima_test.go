package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecimaTrainEval: as a user runs it — one short training run (one
// update of 8 rollouts, no warm start, no selection) writes a scheduler
// that 'decima eval' loads and scores next to the heuristics; the
// validation table of 'decima train' names every method.
func TestDecimaTrainEval(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	var so, se bytes.Buffer
	args := []string{"cpntrain", "--quiet", "--data-dir", root, "--out", out, "decima", "train", "--steps", "1", "--warm-epochs", "0",
		"--select-every", "0", "--eval-streams", "1", "--tune-streams", "1"}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, so.String(), se.String())
	}
	for _, want := range []string{"scheduler saved to", "| fifo |", "| fair |", "| sjf-cp |", "| weighted-fair", "| patent (attention + LSTM) |"} {
		if !strings.Contains(so.String(), want) {
			t.Errorf("train output lacks %q:\n%s", want, so.String())
		}
	}
	so.Reset()
	se.Reset()
	args = []string{"cpntrain", "--data-dir", root, "decima", "eval", "--model", filepath.Join(out, "model.safetensors"), "--streams", "1", "--tune-streams", "1"}
	if code := run(args, &so, &se); code != 0 || !strings.Contains(so.String(), "| learned |") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, so.String(), se.String())
	}
	so.Reset()
	se.Reset()
	args = []string{"cpntrain", "--data-dir", root, "decima", "eval", "--model", filepath.Join(root, "tpch", "2g", "adj_mat_1.npy")}
	if code := run(args, &so, &se); code == 0 || !strings.Contains(se.String(), "--model") {
		t.Errorf("eval of a data file: exit %d, stderr %q: want an error naming --model", code, se.String())
	}
}
