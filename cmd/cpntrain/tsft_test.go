package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dataRoot(t *testing.T) string {
	root := os.Getenv("CPNTRAIN_DATA")
	if root == "" {
		t.Skip("CPNTRAIN_DATA not set")
	}
	return root
}

func TestTSFTSmoke(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	var so, se bytes.Buffer
	args := []string{"cpntrain", "--quiet", "--data-dir", root, "--out", out, "tsft", "--device", "fpga", "--shots", "20", "--pseudo", "200", "--epochs", "1", "--cache", t.TempDir()}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, want := range []string{"chosen by cross-validation: ", "base model alone", "cross-validated MSE on the measured cells: chosen"} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, so.String())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tsft-fpga.safetensors")); err != nil {
		t.Fatalf("adapted checkpoint not written: %v", err)
	}
	// The paper's two stages on request.
	so.Reset()
	args = append(args[:len(args):len(args)], "--method", "tsft", "--force")
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("--method tsft: exit %d: %s", code, se.String())
	}
	for _, want := range []string{"TSFT (fine-tune + pseudo-label)", "base model alone", "stage 1 (fine-tune)"} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("--method tsft output lacks %q:\n%s", want, so.String())
		}
	}
}

func TestTSFTUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tsft", "--device", "fgpa"}, `unknown device "fgpa"`},
		{[]string{"tsft"}, "give the target device with --device"},
		{[]string{"tsft", "--device", "fpga", "--shots", "5"}, "--shots must be between 10"},
		{[]string{"tsft", "--device", "fpga", "--blend-folds", "1"}, "--blend-folds must be 0 (no blend) or between 2 and --shots"},
		{[]string{"bench", "latency", "--shots", "10,x"}, `"x" is not an integer`},
		{[]string{"bench", "latency", "--brp-config", "slow"}, "--brp-config must be"},
		{[]string{"bench", "latency", "--partitions", "2", "--devices", "fpga"}, "not both"},
		{[]string{"bench", "latency", "--partitions", "0"}, "--partitions must be between 1 and 100"},
		{[]string{"bench", "latency", "--select-weights", "1,2"}, `--select-weights: "2" is not a weight`},
		{[]string{"tsft", "--device", "fpga", "--method", "paper"}, "--method must be 'select' or 'tsft'"},
		{[]string{"tsft", "--device", "fpga", "--select-folds", "1"}, "--select-folds must be 0 (leave-one-out) or between 2"},
		{[]string{"tsft", "--device", "fpga", "--select-steps", "50,20"}, "--select-steps must list up to 20 increasing"},
		{[]string{"data", "fetch", "imagenet"}, `unknown dataset "imagenet"`},
	} {
		var so, se bytes.Buffer
		code := run(append([]string{"cpntrain"}, c.args...), &so, &se)
		if code != exitUsage || !strings.Contains(se.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, se.String(), c.want)
		}
	}
}

func TestTSFTMissingDataSaysHowToFetch(t *testing.T) {
	var so, se bytes.Buffer
	code := run([]string{"cpntrain", "--data-dir", t.TempDir(), "--out", t.TempDir(), "tsft", "--device", "fpga"}, &so, &se)
	if code != exitFail || !strings.Contains(se.String(), "cpntrain data fetch nasbench201") {
		t.Fatalf("exit %d, stderr %q", code, se.String())
	}
}

// TestDataFetchFromLocalServer fetches nasbench201 from a local HTTP server
// serving the reference files (the upstream layout), then loads it.
func TestDataFetchFromLocalServer(t *testing.T) {
	root := dataRoot(t)
	mux := http.NewServeMux()
	mux.Handle("/data/nasbench201/", http.StripPrefix("/data/nasbench201/", http.FileServer(http.Dir(filepath.Join(root, "nasbench201")))))
	mux.HandleFunc("/LICENSE", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(root, "nasbench201", "LICENSE.HELP"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dest := t.TempDir()
	var so, se bytes.Buffer
	code := run([]string{"cpntrain", "--quiet", "--data-dir", dest, "data", "fetch", "--base-url", srv.URL + "/data/nasbench201", "nasbench201"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if _, err := os.Stat(filepath.Join(dest, "nasbench201", "latency", "fpga.pt")); err != nil {
		t.Fatal(err)
	}
}

func TestBenchLatencySmoke(t *testing.T) {
	root := dataRoot(t)
	out := t.TempDir()
	var so, se bytes.Buffer
	args := []string{"cpntrain", "--quiet", "--data-dir", root, "--out", out, "bench", "latency", "--epochs", "1", "--cache", t.TempDir(),
		"--devices", "fpga,raspi4", "--shots", "10,20", "--seeds", "1", "--brp-samples", "30"}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, f := range []string{"latency.md", "latency.csv", "latency.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s not written: %v", f, err)
		}
	}
	if !strings.Contains(so.String(), "| fpga | BRP-NAS | 30 |") || !strings.Contains(so.String(), "| raspi4 | layer-wise | 20 |") ||
		!strings.Contains(so.String(), "| custom | the devices asked for (--devices) |") {
		t.Fatalf("table lacks expected rows:\n%s", so.String())
	}
	// Two documented partitions: HELP's split and NASFLAT's ND, each with
	// its table, and the row over both.
	so.Reset()
	args = []string{"cpntrain", "--quiet", "--data-dir", root, "--out", t.TempDir(), "bench", "latency", "--epochs", "1", "--cache", t.TempDir(),
		"--partitions", "2", "--shots", "10", "--seeds", "1", "--brp-samples", "0"}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("--partitions 2: exit %d: %s", code, se.String())
	}
	for _, want := range []string{"### Partition help", "### Partition nasflat-nd", "| **all 2 partitions** |", "### HELP's split against its bar", "| pixel2 (whole ms: MSE floor "} {
		if !strings.Contains(so.String(), want) {
			t.Fatalf("--partitions 2 output lacks %q:\n%s", want, so.String())
		}
	}
}

func TestTSFTSeedFlagAfterCommand(t *testing.T) {
	root := dataRoot(t)
	cache := t.TempDir()
	mse := func(args ...string) string {
		var so, se bytes.Buffer
		base := []string{"cpntrain", "--quiet", "--data-dir", root, "--out", t.TempDir()}
		if code := run(append(base, args...), &so, &se); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, se.String())
		}
		for _, l := range strings.Split(so.String(), "\n") {
			if strings.HasPrefix(l, "| chosen by cross-validation") {
				return l
			}
		}
		t.Fatalf("no adapted-model row:\n%s", so.String())
		return ""
	}
	common := []string{"--device", "fpga", "--shots", "20", "--pseudo", "50", "--epochs", "1", "--cache", cache}
	a := mse(append([]string{"tsft", "--seed", "3"}, common...)...)
	b := mse(append([]string{"--seed", "3", "tsft"}, common...)...)
	if a != b {
		t.Fatalf("--seed after the command and before it differ:\n%s\n%s", a, b)
	}
}

// TestTSFTChecksOutBeforeWork: an unusable --out is reported before the
// data is read or anything is pretrained (the data folder here does not
// exist: reading it first would report that instead).
func TestTSFTChecksOutBeforeWork(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, cmd := range [][]string{{"tsft", "--device", "fpga"}, {"tsft", "pretrain"}} {
		var so, se bytes.Buffer
		args := append([]string{"cpntrain", "--data-dir", filepath.Join(t.TempDir(), "none"), "--out", file}, cmd...)
		if code := run(append(args, "--cache", t.TempDir()), &so, &se); code != exitFail || !strings.Contains(se.String(), "not-a-folder") ||
			strings.Contains(se.String(), "nasbench201") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming --out, before any data", cmd, code, se.String())
		}
	}
}
