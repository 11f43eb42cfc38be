package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/train/runlog"
)

// result is what one call of run produced.
type result struct {
	code           int
	stdout, stderr string
}

// runArgs runs cpntrain with args, through run when cmds is nil and with
// cmds as the command list otherwise.
func runArgs(t *testing.T, cmds []*cli.Command, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"cpntrain"}, args...)
	var code int
	if cmds == nil {
		code = run(args, &stdout, &stderr)
	} else {
		code = runWith(args, &stdout, &stderr, cmds)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestVersion(t *testing.T) {
	r := runArgs(t, nil, "version")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"cpntrain dev\n", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, "pure Go:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	wantPure := "pure Go:  yes"
	if cgoEnabled {
		wantPure = "pure Go:  no"
	}
	if !strings.Contains(r.stdout, wantPure) {
		t.Errorf("version output lacks %q:\n%s", wantPure, r.stdout)
	}
}

func TestVersionLdflags(t *testing.T) {
	old := version
	version = "v1.2.3"
	t.Cleanup(func() { version = old })
	if r := runArgs(t, nil, "version"); !strings.HasPrefix(r.stdout, "cpntrain v1.2.3\n") {
		t.Errorf("stdout %q, want the version set with -X main.version", r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runArgs(t, nil, args...)
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		for _, want := range []string{"computing-power networks", "version", "--seed", "--threads", "--data-dir", "CPNTRAIN_DATA", "--out", "--quiet"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: help lacks %q", args, want)
			}
		}
	}
	r := runArgs(t, nil, "version", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "cpntrain version") {
		t.Errorf("version --help: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestUsageErrors checks the exit status 2 cases and that every message
// says what to type next.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // Substrings of stderr.
	}{
		{[]string{"verison"}, []string{`cpntrain: unknown command "verison". Did you mean "version"? Run 'cpntrain --help' for usage.`}},
		{[]string{"trian"}, []string{`cpntrain: unknown command "trian". Run 'cpntrain --help' for usage.`}},
		{[]string{"help", "verison"}, []string{`unknown command "verison". Did you mean "version"?`}},
		{[]string{}, []string{"no command given.", "cpntrain --help"}},
		{[]string{"--bogus", "version"}, []string{"unknown flag --bogus.", "cpntrain --help"}},
		{[]string{"--sed", "3", "version"}, []string{`unknown flag --sed. Did you mean "--seed"?`}},
		{[]string{"version", "--bogus"}, []string{`unknown flag --bogus for "cpntrain version".`, "'cpntrain version --help'"}},
		{[]string{"version", "--seed", "3"}, []string{"--seed is a global option: put it before the command", "'cpntrain --seed … version'"}},
		{[]string{"version", "extra"}, []string{`unexpected argument "extra".`, "'cpntrain version --help'"}},
		{[]string{"--seed", "abc", "version"}, []string{`invalid value "abc" for --seed`}},
		{[]string{"--seed"}, []string{"flag --seed needs a value."}},
		{[]string{"--threads", "-1", "version"}, []string{"invalid value -1 for --threads", "from 1 to 1024, or 0 for all"}},
		{[]string{"--threads", "many", "version"}, []string{`invalid value "many" for --threads`}},
		{[]string{"help", "--bogus"}, []string{"unknown flag --bogus.", "'cpntrain --help'"}},
	}
	for _, tt := range tests {
		r := runArgs(t, nil, tt.args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, r.code, exitUsage, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "cpntrain: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one line starting with 'cpntrain: '", tt.args, r.stderr)
		}
		for _, want := range tt.want {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%q: stderr %q lacks %q", tt.args, r.stderr, want)
			}
		}
	}
}

// testCommands adds commands that exercise what later commands will use: a
// command group, a required flag, positional arguments, run-time failure
// and a panic.
func testCommands(t *testing.T, got *globals) []*cli.Command {
	return append(commands(),
		&cli.Command{
			Name:  "tools",
			Usage: "a command group",
			Subcommands: []*cli.Command{{
				Name:   "matmul",
				Flags:  []cli.Flag{&cli.IntFlag{Name: "size", Value: 64}},
				Action: func(c *cli.Context) error { return nil },
			}},
		},
		&cli.Command{
			Name:  "train",
			Flags: []cli.Flag{&cli.StringFlag{Name: "model", Required: true}},
			Action: func(c *cli.Context) error {
				*got = globalsFrom(c)
				return nil
			},
		},
		&cli.Command{
			Name: "eval",
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, "CHECKPOINT", "DATA"); err != nil {
					return err
				}
				*got = globalsFrom(c)
				return nil
			},
		},
		&cli.Command{
			Name:   "fail",
			Action: func(c *cli.Context) error { return errors.New("checkpoint x.ckpt: no such file") },
		},
		&cli.Command{
			Name:   "boom",
			Action: func(c *cli.Context) error { panic("kaboom") },
		},
	)
}

func TestCommandShapes(t *testing.T) {
	var g globals
	cmds := func() []*cli.Command { return testCommands(t, &g) }
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tools", "matmul", "--size", "8"}, exitOK, ""},
		{[]string{"tools", "matmull"}, exitUsage, `cpntrain: unknown command "matmull" for "cpntrain tools". Did you mean "matmul"? Run 'cpntrain tools --help' for usage.`},
		{[]string{"tools", "matmul", "--sise", "8"}, exitUsage, `unknown flag --sise for "cpntrain tools matmul". Did you mean "--size"? Run 'cpntrain tools matmul --help' for usage.`},
		{[]string{"tools", "matmul", "--size", "big"}, exitUsage, `invalid value "big" for --size`},
		{[]string{"trian", "--model", "x"}, exitUsage, `unknown command "trian". Did you mean "train"?`},
		{[]string{"--seed", "4", "train"}, exitUsage, `cpntrain: Required flag "model" not set. Run 'cpntrain train --help' for usage.`},
		{[]string{"eval", "a.ckpt"}, exitUsage, `missing argument DATA. Run 'cpntrain eval --help' for usage.`},
		{[]string{"eval", "a", "b", "c"}, exitUsage, `unexpected argument "c".`},
		{[]string{"fail"}, exitFail, "cpntrain: checkpoint x.ckpt: no such file\n"},
		{[]string{"boom"}, exitFail, "cpntrain: internal error: kaboom"},
	}
	for _, tt := range tests {
		r := runArgs(t, cmds(), tt.args...)
		if r.code != tt.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, r.code, tt.code, r.stderr)
		}
		if !strings.Contains(r.stderr, tt.want) || (tt.want == "" && r.stderr != "") {
			t.Errorf("%q: stderr %q, want it to contain %q", tt.args, r.stderr, tt.want)
		}
	}
}

func TestGlobalsFrom(t *testing.T) {
	var g globals
	t.Setenv("CPNTRAIN_DATA", "")
	r := runArgs(t, testCommands(t, &g), "eval", "a", "b")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := globals{Seed: 1, DataDir: defaultDataDir()}
	if g != want {
		t.Errorf("defaults: %+v, want %+v", g, want)
	}
	if !strings.HasSuffix(g.DataDir, filepath.Join("cpntrain", "data")) {
		t.Errorf("default data dir %q", g.DataDir)
	}

	t.Setenv("CPNTRAIN_DATA", "/env/data")
	r = runArgs(t, testCommands(t, &g), "--seed", "42", "--threads", "1", "--out", "o", "--quiet", "train", "--model", "m")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want = globals{Seed: 42, Threads: 1, DataDir: "/env/data", Out: "o", Quiet: true}
	if g != want {
		t.Errorf("flags: %+v, want %+v", g, want)
	}
	r = runArgs(t, testCommands(t, &g), "--data-dir", "/flag/data", "train", "--model", "m")
	if r.code != exitOK || g.DataDir != "/flag/data" {
		t.Errorf("--data-dir over CPNTRAIN_DATA: exit %d, data dir %q", r.code, g.DataDir)
	}
}

func TestThreadsSetsAndRestoresGOMAXPROCS(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	var during int
	cmd := &cli.Command{Name: "probe", Action: func(*cli.Context) error {
		during = runtime.GOMAXPROCS(0)
		return nil
	}}
	r := runArgs(t, append(commands(), cmd), "--threads", "1", "probe")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if during != 1 {
		t.Errorf("GOMAXPROCS during the command = %d, want 1", during)
	}
	if after := runtime.GOMAXPROCS(0); after != before {
		t.Errorf("GOMAXPROCS after run = %d, want %d restored", after, before)
	}
}

func TestOpenRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "myrun")
	type cfg struct {
		Epochs int `json:"epochs"`
	}
	var runErr error
	var dir string
	cmd := &cli.Command{Name: "fit", Action: func(c *cli.Context) error {
		r, err := openRun(c, "fit", cfg{Epochs: 3})
		if err != nil {
			return err
		}
		dir = r.Dir()
		r.Scalar("losses/mse", 1, 0.5)
		runErr = r.Close()
		return runErr
	}}
	r := runArgs(t, append(commands(), cmd), "--seed", "9", "--out", out, "fit")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if dir != out {
		t.Errorf("run folder %q, want %q", dir, out)
	}
	data, err := os.ReadFile(filepath.Join(out, runlog.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Command string          `json:"command"`
		Version string          `json:"version"`
		Args    []string        `json:"args"`
		Globals globals         `json:"globals"`
		Config  json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Command != "fit" || got.Version != versionString() || got.Globals.Seed != 9 || got.Globals.Out != out ||
		!strings.Contains(string(got.Config), `"epochs": 3`) || len(got.Args) != 6 {
		t.Errorf("config.json = %s", data)
	}
	recs, err := runlog.ReadMetrics(filepath.Join(out, runlog.MetricsFile))
	if err != nil || len(recs) != 1 || recs[0].Values["losses/mse"] != 0.5 {
		t.Errorf("metrics = %+v, %v", recs, err)
	}

	// The same folder again: a run-time failure naming it, exit 1.
	r = runArgs(t, append(commands(), cmd), "--out", out, "fit")
	if r.code != exitFail || !strings.Contains(r.stderr, out) || !strings.Contains(r.stderr, "already holds a run") {
		t.Errorf("reused --out: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDefaultRunDir(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Date(2026, 11, 25, 13, 4, 5, 0, time.UTC)
	first := defaultRunDir("train", now)
	if want := filepath.Join("runs", "train-20261125-130405"); first != want {
		t.Fatalf("defaultRunDir = %q, want %q", first, want)
	}
	if err := os.MkdirAll(first, 0o755); err != nil {
		t.Fatal(err)
	}
	if second := defaultRunDir("train", now); second != first+"-2" {
		t.Errorf("second run in the same second: %q, want %q", second, first+"-2")
	}
	// Concurrent runs in one second (two processes started together) get
	// distinct folders.
	dirs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Go(func() { dirs[i] = defaultRunDir("par", now) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			t.Fatalf("two concurrent runs got folder %s", d)
		}
		seen[d] = true
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	cands := []string{"train", "eval", "version", "bench", "help", "h"}
	tests := map[string]string{
		"trian":   "train",
		"tran":    "train",
		"verison": "version",
		"versoin": "version",
		"vers":    "version",
		"bech":    "bench",
		"evl":     "eval",
		"xyz":     "",
		"":        "",
		"t":       "",
	}
	for typed, want := range tests {
		if got := suggest(typed, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", typed, got, want)
		}
	}
	if d := editDistance("abc", "bca"); d != 2 {
		t.Errorf("editDistance(abc, bca) = %d, want 2", d)
	}
}

func TestBenchEngineSmoke(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"cpntrain", "--quiet", "bench", "engine", "--rounds", "1", "--min-time", "1ms", "--python", ""}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "train step") {
		t.Fatalf("no table printed:\n%s", out.String())
	}
	code = run([]string{"cpntrain", "bench", "engine", "--rounds", "0"}, &out, &errb)
	if code != 2 {
		t.Fatalf("--rounds 0: exit %d, want 2", code)
	}
}

func TestRLSmoke(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"cpntrain", "--quiet", "--out", t.TempDir(), "rl", "smoke", "--algo", "dqn", "--env", "chain"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "greedy evaluation: 1.0000 (optimal 1.0000") {
		t.Fatalf("dqn did not solve the chain:\n%s", out.String())
	}
	code = run([]string{"cpntrain", "rl", "smoke", "--algo", "a2c", "--env", "chain"}, &out, &errb)
	if code != 2 {
		t.Fatalf("unknown algo: exit %d", code)
	}
}

// TestTSFTShotsDefault: rlms commands feed the controller TSFT's
// predictions from 50 measured architectures unless told otherwise (the
// other tests set CPNTRAIN_TSFT_SHOTS=0 in TestMain), and the variable
// reaches the flag's check.
func TestTSFTShotsDefault(t *testing.T) {
	t.Setenv(tsftShotsEnv, "")
	os.Unsetenv(tsftShotsEnv)
	r := runArgs(t, nil, "rlms", "train", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "--tsft-shots value") || !strings.Contains(r.stdout, "(default: 50)") ||
		!strings.Contains(r.stdout, "$"+tsftShotsEnv) {
		t.Fatalf("rlms train --help: exit %d, no --tsft-shots default 50 from $%s:\n%s", r.code, tsftShotsEnv, r.stdout)
	}
	t.Setenv(tsftShotsEnv, "7")
	r = runArgs(t, nil, "rlms", "train", "--steps", "100")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--tsft-shots must be 0") {
		t.Fatalf("%s=7: exit %d, stderr %q", tsftShotsEnv, r.code, r.stderr)
	}
}
