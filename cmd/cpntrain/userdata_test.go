package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cpntrain/cpntrain/datasets/nasbench201"
	"github.com/cpntrain/cpntrain/train/metrics"
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

// TestMeasurementsEndToEnd: a device "nobody has measured" — here
// titan_rtx_1's HELP latencies on the 10 reference architectures and 40
// pool cells, written as the user's CSV under another name — adapted with
// 'tsft --measurements' and queried with 'tsft predict' on 1,000 cells it
// never saw: the predicted milliseconds rank them like the measured ones
// (Spearman ρ ≥ 0.9; the default pipeline on 50 shots of this device
// reaches 0.977 with the full base model, see docs/tsft.md) and their
// median relative error is below 10 %. Malformed files get errors naming
// the file and the line.
func TestMeasurementsEndToEnd(t *testing.T) {
	root := dataRoot(t)
	d, err := nasbench201.Load(filepath.Join(root, nasbench201.DirName), "titan_rtx_1")
	if err != nil {
		t.Fatal(err)
	}
	lat := d.Latency["titan_rtx_1"]
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("# my GPU, batch 1\narch,latency_ms\n")
	refs := map[int]bool{}
	for _, r := range d.RefIndices {
		refs[r] = true
		fmt.Fprintf(&csv, "%s,%g\n", d.Archs[r], lat[r])
	}
	for i, n := 0, 0; n < 40; i += 17 {
		if !refs[i] {
			fmt.Fprintf(&csv, "%s , %g\n", d.Archs[i], lat[i])
			n++
		}
	}
	file := filepath.Join(dir, "mygpu.csv")
	os.WriteFile(file, []byte(csv.String()), 0o644)
	out := filepath.Join(dir, "run")
	r := runArgs(t, nil, "--quiet", "--data-dir", root, "--out", out, "tsft", "--measurements", file, "--epochs", "1", "--cache", filepath.Join(dir, "cache"))
	if r.code != exitOK || !strings.Contains(r.stdout, "device mygpu: 50 measured cells") {
		t.Fatalf("tsft --measurements: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var query []string
	var truth []float32
	for i := 900; i < len(d.Archs); i += 14 {
		query = append(query, d.Archs[i].String())
		truth = append(truth, lat[i])
	}
	qf := filepath.Join(dir, "query.txt")
	os.WriteFile(qf, []byte(strings.Join(query, "\n")), 0o644)
	r = runArgs(t, nil, "tsft", "predict", "--model", filepath.Join(out, "tsft-mygpu.safetensors"), "--archs", qf)
	if r.code != exitOK {
		t.Fatalf("tsft predict: exit %d: %s", r.code, r.stderr)
	}
	var pred []float32
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 && !strings.HasPrefix(line, "#") {
			v, err := strconv.ParseFloat(f[2], 32)
			if err != nil {
				t.Fatal(err)
			}
			pred = append(pred, float32(v))
		}
	}
	if len(pred) != len(truth) {
		t.Fatalf("%d predictions for %d cells", len(pred), len(truth))
	}
	ape := make([]float64, len(pred))
	for i := range pred {
		ape[i] = math.Abs(float64(pred[i]-truth[i])) / float64(truth[i])
	}
	slices.Sort(ape)
	rho := metrics.Spearman(pred, truth)
	t.Logf("%d held-out cells: Spearman ρ %.4f, median relative error %.2f %%", len(pred), rho, 100*ape[len(ape)/2])
	if !(rho >= 0.9) || !(ape[len(ape)/2] < 0.1) {
		t.Fatalf("held-out cells: ρ %.4f (want ≥ 0.9), median relative error %.3f (want < 0.1)", rho, ape[len(ape)/2])
	}

	refLine := fmt.Sprintf("%s,%g\n", d.Archs[d.RefIndices[0]], lat[d.RefIndices[0]])
	for body, want := range map[string]string{
		"arch,ms\n" + refLine:                     "must all be measured; missing:",
		refLine + refLine:                         "line 2: architecture " + d.Archs[d.RefIndices[0]].String() + " measured again (first on line 1)",
		refLine + d.Archs[5].String() + ",-3\n":   "line 2: latency -3 ms must be positive",
		refLine + d.Archs[5].String() + ",fast\n": `line 2: latency "fast" is not a number`,
		refLine + "|bogus~0|,1\n":                 "line 2:",
		refLine + d.Archs[5].String() + ",1,2\n":  "line 2: 3 comma-separated fields",
	} {
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte(body), 0o644)
		r := runArgs(t, nil, "--quiet", "--data-dir", root, "--out", filepath.Join(dir, "bad"), "tsft", "--measurements", bad, "--epochs", "1",
			"--cache", filepath.Join(dir, "cache"), "--force")
		if r.code == exitOK || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "bad.csv") {
			t.Errorf("%q: exit %d, stderr %q, want %q", body, r.code, r.stderr, want)
		}
	}
	if r := runArgs(t, nil, "tsft", "--measurements", file, "--shots", "20"); r.code != exitUsage || !strings.Contains(r.stderr, "--shots does not apply") {
		t.Errorf("--shots with --measurements: exit %d, %q", r.code, r.stderr)
	}
}

// TestFirstRunFetches is the README's first run on a machine where
// nothing was prepared: an empty data folder, the automatic download on
// (a local HTTP server serving the reference files stands in for the
// upstream), 'cpntrain tsft --device fpga' downloads HELP's data with its
// checksums, then reaches a result; a second run downloads nothing. A
// download cut short (a file the server does not have) fails with a
// message saying how to recover, and the next run resumes.
func TestFirstRunFetches(t *testing.T) {
	root := dataRoot(t)
	var missing atomic.Bool
	mux := http.NewServeMux()
	files := http.StripPrefix("/nb/", http.FileServer(http.Dir(filepath.Join(root, "nasbench201"))))
	mux.HandleFunc("/nb/", func(w http.ResponseWriter, r *http.Request) {
		if missing.Load() && strings.Contains(r.URL.Path, "pixel3") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("/LICENSE", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(root, "nasbench201", "LICENSE.HELP"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv(noFetchEnv, "0")
	t.Setenv(fetchURLEnv("nasbench201"), srv.URL+"/nb")
	data, cache := t.TempDir(), t.TempDir()
	args := func(out string) []string {
		return []string{"--data-dir", data, "--out", filepath.Join(t.TempDir(), out), "tsft", "--device", "fpga", "--shots", "20", "--epochs", "1", "--cache", cache}
	}
	missing.Store(true)
	r := runArgs(t, nil, args("cut")...)
	if r.code == exitOK || !strings.Contains(r.stderr, "first use of nasbench201") || !strings.Contains(r.stderr, "the next run resumes it") {
		t.Fatalf("cut download: exit %d, stderr %q", r.code, r.stderr)
	}
	missing.Store(false)
	r = runArgs(t, nil, args("first")...)
	if r.code != exitOK || !strings.Contains(r.stderr, "first use of nasbench201") || !strings.Contains(r.stdout, "chosen by cross-validation") {
		t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "nasbench201", fetchingMarker)); !os.IsNotExist(err) {
		t.Fatalf("the download marker is left behind: %v", err)
	}
	r = runArgs(t, nil, args("second")...)
	if r.code != exitOK || strings.Contains(r.stderr, "first use") {
		t.Fatalf("second run: exit %d, stderr %q", r.code, r.stderr)
	}
}
