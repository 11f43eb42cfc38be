package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// FuzzCLIArgs runs cpntrain end to end on random argument vectors: the
// real command tree, flag parsing, validation and the commands' actions,
// and checks for every vector that
//
//   - it does not panic (runContext turns a panic into exit 1 with
//     "internal error", which fails the test),
//   - it returns within cliTimeout,
//   - the exit status is 0, 1 or 2, and a non-zero status comes with a
//     message: a line of stderr starting with "cpntrain: " (for 2, stderr
//     starts with it and points to the help, "Run '… --help' for usage."),
//   - a vector holding a flag that no command defines is a usage error:
//     exit 2, never 0 (nor 1).
//
// The input is the argument vector after "cpntrain", arguments separated by
// NUL bytes (at most cliMaxArgs of them).
//
// A vector that passes validation would start real work (training,
// downloading, writing run folders). The sandbox (newCLISandbox) prevents
// it: the context is already cancelled, so training loops and downloads
// stop at once; the working directory, the data folder (CPNTRAIN_DATA),
// HOME and XDG_CACHE_HOME (the model cache) are empty temporary folders, so
// data loading fails with exit 1 and stray run folders land in the
// temporary folder (fresh ones for each vector, so that a failure
// reproduces alone); 'bench engine', whose measurement does not watch the
// context, runs one 1µs round without the Python side (capWork); vectors
// with an absolute path or ".." (which could write outside the sandbox:
// the tests run as root here) are skipped, except /dev/null and /dev/zero.
func FuzzCLIArgs(f *testing.F) {
	newCLISandbox(f)
	for _, v := range cliSeeds {
		f.Add(strings.Join(v, "\x00"))
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		if in == "" {
			args = nil
		}
		if len(args) > cliMaxArgs {
			args = args[:cliMaxArgs]
		}
		if !sandboxed(args) {
			t.Skip("the vector names a path outside the sandbox")
		}
		if b, ok := knownBug(args); ok {
			t.Skipf("known bug, not fixed yet (see knownCLIBugs): %q: %s", args, b.what)
		}
		newCLISandbox(t) // fresh folders: a vector does not see the runs of earlier ones
		checkCLIVector(t, args)
	})
}

// cliMaxArgs bounds the length of a fuzzed vector.
const cliMaxArgs = 8

// cliTimeout is how long a vector may run: parsing and validation take
// microseconds, and the sandbox stops any work at once.
const cliTimeout = 5 * time.Second

// knownCLIBug is a bug of cpntrain found by FuzzCLIArgs and not fixed yet.
// The fuzz target skips the vectors it matches (logging why), so that the
// build stays green; when the bug is fixed, remove it from knownCLIBugs and
// its example becomes a regression case of the seed corpus.
type knownCLIBug struct {
	// example is a minimal vector showing the bug; it is in cliSeeds
	// (TestCLISeedsCoverCommands checks).
	example []string
	// match reports whether a vector may trigger the bug (for bugs that
	// many mutations of the example show too).
	match func(args []string) bool
	// what describes the bug.
	what string
}

// knownCLIBugs are the bugs found by FuzzCLIArgs that are not fixed yet.
var knownCLIBugs = []knownCLIBug{{
	example: []string{"help", "version", "--bogus"},
	match:   unknownFlagAfterHelpTopic,
	what: "cli's help command ignores everything after the topic: 'help TOPIC --bogus' (also 'bench help engine " +
		"--bogus') prints the topic's help and exits 0, where an unknown flag anywhere else exits 2",
}}

// unknownFlagAfterHelpTopic reports whether args hold the help command
// ("help" or "h" as an argument) followed by a topic and then an unknown
// flag.
func unknownFlagAfterHelpTopic(args []string) bool {
	f, ok := unknownFlag(args)
	if !ok {
		return false
	}
	at := slices.Index(args, f)
	for i, a := range args[:at] {
		if (a == "help" || a == "h") && i+1 < at {
			return true
		}
	}
	return false
}

// knownBug returns the known bug args may trigger.
func knownBug(args []string) (knownCLIBug, bool) {
	for _, b := range knownCLIBugs {
		if slices.Equal(b.example, args) || b.match != nil && b.match(args) {
			return b, true
		}
	}
	return knownCLIBug{}, false
}

// threadsAbove reports whether args may set --threads above n: any
// argument named threads (with one or two dashes) whose value (after '=' or
// the next argument) parses, as cli parses integers (base prefixes and
// underscores allowed), to more than n.
func threadsAbove(args []string, n int64) bool {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name != flagThreads {
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				continue
			}
			val = args[i+1]
		}
		v, err := strconv.ParseInt(strings.TrimSpace(val), 0, 64)
		if err == nil && v > n {
			return true
		}
	}
	return false
}

// newCLISandbox makes the process safe for running cpntrain on arbitrary
// vectors for the duration of the test: empty temporary working directory,
// data folder, home and cache. They are in memory (/dev/shm) where there is
// one: the runs that vectors start write and sync small files, which on
// disk made fuzzing slow and loaded the disk.
func newCLISandbox(tb interface {
	TempDir() string
	Chdir(string)
	Setenv(string, string)
	Cleanup(func())
}) {
	root := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "cpntrain-fuzz-"); err == nil {
			root = dir
			tb.Cleanup(func() { _ = os.RemoveAll(dir) })
		}
	}
	if root == "" {
		root = tb.TempDir()
	}
	for _, d := range []string{"cwd", "data", "home", "cache"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			panic(err)
		}
	}
	tb.Setenv("CPNTRAIN_DATA", filepath.Join(root, "data"))
	tb.Setenv("HOME", filepath.Join(root, "home"))
	tb.Setenv("XDG_CACHE_HOME", filepath.Join(root, "cache"))
	tb.Chdir(filepath.Join(root, "cwd"))
}

// sandboxed reports whether args stay inside the sandbox: no argument (or
// flag value after '=') is an absolute path other than /dev/null and
// /dev/zero, and none holds "..".
func sandboxed(args []string) bool {
	for _, a := range args {
		if strings.Contains(a, "..") {
			return false
		}
		vals := []string{a}
		if _, v, ok := strings.Cut(a, "="); ok {
			vals = append(vals, v)
		}
		for _, v := range vals {
			if filepath.IsAbs(v) && v != "/dev/null" && v != "/dev/zero" {
				return false
			}
			if strings.HasPrefix(v, "~") {
				return false
			}
		}
	}
	return true
}

// sandboxCommands is commands() with capWork applied.
func sandboxCommands() []*cli.Command {
	cmds := commands()
	for _, c := range cmds {
		if c.Name != "bench" {
			continue
		}
		for _, s := range c.Subcommands {
			if s.Name == "engine" {
				capWork(s)
			}
		}
	}
	return cmds
}

// capWork makes 'bench engine', which measures for seconds whatever the
// context says, measure one 1µs round of each kernel and skip PyTorch. It
// keeps the sign of --rounds and --min-time, which is all the command
// validates, so the vector is accepted or rejected as without it.
func capWork(cmd *cli.Command) {
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		if c.Int("rounds") > 0 {
			_ = c.Set("rounds", "1")
		}
		if c.Duration("min-time") > 0 {
			_ = c.Set("min-time", "1µs")
		}
		_ = c.Set("python", "")
		return action(c)
	}
}

// checkCLIVector runs cpntrain on args in the sandbox and checks the
// outcome.
func checkCLIVector(t *testing.T, args []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	argv := append([]string{appName}, args...)
	var so, se bytes.Buffer
	done := make(chan int, 1)
	go func() {
		// The buffers are only read after done, or not at all on timeout.
		done <- runContext(ctx, argv, &so, &se, sandboxCommands())
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(cliTimeout):
		t.Fatalf("cpntrain %q has not returned after %v (real work under a cancelled context?)", args, cliTimeout)
	}
	stderr := se.String()
	t.Logf("cpntrain %q: exit %d, %s", args, code, lastMessage(stderr))
	if strings.Contains(stderr, "internal error") {
		t.Fatalf("cpntrain %q panicked (exit %d):\n%s", args, code, stderr)
	}
	if f, ok := unknownFlag(args); ok && code != exitUsage {
		t.Fatalf("cpntrain %q exited %d although %q is no flag of any command (a usage error: want 2)\nstdout:\n%.2000s\nstderr:\n%.2000s", args, code, f, so.String(), stderr)
	}
	switch code {
	case exitOK:
	case exitUsage:
		if !strings.HasPrefix(stderr, appName+": ") || len(strings.TrimSpace(stderr)) <= len(appName)+1 {
			t.Fatalf("cpntrain %q exited 2 without a message starting with %q on stderr: %q", args, appName+": ", stderr)
		}
		if !strings.Contains(stderr, "--help' for usage.") {
			t.Fatalf("cpntrain %q exited 2 with a message that does not point to the help: %q", args, stderr)
		}
	case exitFail:
		if !hasMessageLine(stderr) {
			t.Fatalf("cpntrain %q exited 1 without a %q line on stderr: %q", args, appName+": ", stderr)
		}
	default:
		t.Fatalf("cpntrain %q exited %d, want 0, 1 or 2\nstderr:\n%s", args, code, stderr)
	}
}

// lastMessage returns the last "cpntrain: " line of stderr, cut short.
func lastMessage(stderr string) string {
	msg := ""
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, appName+": ") {
			msg = l
		}
	}
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return fmt.Sprintf("%q", msg)
}

// hasMessageLine reports whether a line of s starts with "cpntrain: " and
// says something.
func hasMessageLine(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if m, ok := strings.CutPrefix(l, appName+": "); ok && strings.TrimSpace(m) != "" {
			return true
		}
	}
	return false
}

// cliFlags returns the names of every flag in the command tree (with
// cli's own help and version flags) and those of the flags that take a
// value.
func cliFlags() (all, valued map[string]bool) {
	all = map[string]bool{"help": true, "h": true, "version": true, "v": true}
	valued = map[string]bool{}
	add := func(flags []cli.Flag) {
		for _, f := range flags {
			for _, n := range f.Names() {
				all[n] = true
				if tv, ok := f.(interface{ TakesValue() bool }); !ok || tv.TakesValue() {
					valued[n] = true
				}
			}
		}
	}
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			add(c.Flags)
			walk(c.Subcommands)
		}
	}
	add(globalFlags())
	walk(commands())
	return all, valued
}

// unknownFlag returns the first argument of args that is certainly a flag
// no command defines: it starts with '-', comes before any "--", and does
// not follow a flag that takes a value (whose value it may be).
func unknownFlag(args []string) (string, bool) {
	all, valued := cliFlags()
	for i, a := range args {
		if a == "--" {
			return "", false
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		if i > 0 {
			prev := args[i-1]
			if name := strings.TrimLeft(prev, "-"); strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") && valued[name] {
				continue
			}
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !all[name] {
			return a, true
		}
	}
	return "", false
}

// TestCLISandbox checks the guards of FuzzCLIArgs: the path filter and the
// unknown-flag detection.
func TestCLISandbox(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"checkpoint", "inspect", "/dev/zero"}, true},
		{[]string{"--out", "run"}, true},
		{[]string{"--out", "/"}, false},
		{[]string{"--out=/etc"}, false},
		{[]string{"--data-dir", "a/../../b"}, false},
		{[]string{"--cache", "~/x"}, false},
	} {
		if got := sandboxed(tc.args); got != tc.want {
			t.Errorf("sandboxed(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "--bogus"}, "--bogus"},
		{[]string{"-x=1", "version"}, "-x=1"},
		{[]string{"tsft", "--device", "--bogus"}, ""}, // the value of --device
		{[]string{"rl", "smoke", "--quiet", "--bogus"}, "--bogus"},
		{[]string{"--", "--bogus"}, ""},
		{[]string{"--seed=3", "-h", "--threads", "2", "tsft", "--shots=10"}, ""},
	} {
		got, _ := unknownFlag(tc.args)
		if got != tc.want {
			t.Errorf("unknownFlag(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"help", "version", "--bogus"}, true},
		{[]string{"bench", "help", "engine", "--bogus"}, true},
		{[]string{"help", "--bogus"}, false},
		{[]string{"version", "--bogus", "help", "x"}, false},
	} {
		if got := unknownFlagAfterHelpTopic(tc.args); got != tc.want {
			t.Errorf("unknownFlagAfterHelpTopic(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--threads", "1024", "version"}, false},
		{[]string{"--threads", "1025", "version"}, true},
		{[]string{"-threads=0x7fffffff"}, true},
		{[]string{"--threads", "1_000_000"}, true},
		{[]string{"--threads", "99999999999999999999"}, false}, // cli rejects it
		{[]string{"--threads"}, false},
		{[]string{"--seed", "5000"}, false},
	} {
		if got := threadsAbove(tc.args, 1024); got != tc.want {
			t.Errorf("threadsAbove(%q, 1024) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// cliSeeds is the seed corpus: every command and subcommand with valid and
// invalid flag values (negative, NaN, huge, empty, unknown, missing,
// repeated).
var cliSeeds = [][]string{
	// The root.
	{},
	{"--help"},
	{"-h"},
	{"--version"},
	{"help"},
	{"help", "rlms"},
	{"help", "nosuch"},
	{"help", "version", "--bogus"},         // knownCLIBugs
	{"bench", "help", "engine", "--bogus"}, // knownCLIBugs
	{"help", "--bogus"},
	{"h", "tsft"},
	{"nosuch"},
	{"tsf"},
	{"--bogus"},
	{"--seed"},
	{"--seed", "NaN", "version"},
	{"--seed", "99999999999999999999", "version"},
	{"--seed", "-1", "version"},
	{"--seed", "1", "--seed", "2", "version"},
	{"--seed", "-9223372036854775808", "version"},
	{"--seed", "0x10", "version"},
	{"--threads", "-1", "version"},
	{"--threads", "9223372036854775807", "version"}, // knownCLIBugs
	{"--threads", "1000000", "version"},             // knownCLIBugs
	{"--threads", "1024", "version"},
	{"--threads", "1e308", "version"},
	{"--threads", "100000", "version"},
	{"--threads=2", "version"},
	{"--quiet=maybe", "version"},
	{"--data-dir", "", "version"},
	{"--out", "", "version"},
	{"---seed", "1", "version"},
	{"-", "version"},
	{"--", "version"},
	{"version", "--seed", "3"},

	// version.
	{"version"},
	{"version", "extra"},
	{"version", "--bogus"},
	{"version", "-h"},

	// bench.
	{"bench"},
	{"bench", "--help"},
	{"bench", "nosuch"},
	{"bench", "engine", "--rounds", "1", "--min-time", "1ms"},
	{"bench", "engine", "--rounds", "0"},
	{"bench", "engine", "--rounds", "-5"},
	{"bench", "engine", "--rounds", "99999999999999999999"},
	{"bench", "engine", "--min-time", "-1s"},
	{"bench", "engine", "--min-time", "NaN"},
	{"bench", "engine", "--min-time", "1e308s"},
	{"bench", "engine", "--min-time"},
	{"bench", "engine", "--python", "", "--rounds", "1"},
	{"bench", "engine", "--rounds", "1", "--rounds", "2"},
	{"bench", "engine", "extra"},
	{"bench", "latency", "--shots", "5"},
	{"bench", "latency", "--shots", ""},
	{"bench", "latency", "--shots", "10,abc"},
	{"bench", "latency", "--devices", "nosuch"},
	{"bench", "latency", "--devices", ""},
	{"bench", "latency", "--seeds", "0"},
	{"bench", "latency", "--brp-samples", "-1"},
	{"bench", "latency", "--brp-config", "slow"},
	{"bench", "latency", "--epochs", "-3"},
	{"bench", "latency", "--gnn-dim", "-1"},
	{"bench", "latency", "--partitions", "0"},
	{"bench", "latency", "--partitions", "1000"},
	{"bench", "latency", "--partitions", "99"},
	{"bench", "latency", "--partitions", "2", "--devices", "fpga"},
	{"bench", "latency", "--devices", "fpga,fpga", "--seeds", "1", "--shots", "10", "--epochs", "1", "--brp-samples", "0"},
	{"bench", "latency", "--select-folds", "1"},
	{"bench", "latency", "--select-folds", "-2"},
	{"bench", "latency", "--select-repeats", "0"},
	{"bench", "latency", "--select-se", "NaN"},
	{"bench", "latency", "--select-se", "-1"},
	{"bench", "latency", "--prior", "--epochs", "0"},
	{"bench", "latency", "--epochs", "1", "--seeds", "1", "--shots", "10"},
	{"bench", "rlms", "--topologies", ""},
	{"bench", "rlms", "--topologies", "nosuch"},
	{"bench", "rlms", "--k", "0"},
	{"bench", "rlms", "--k", "1000"},
	{"bench", "rlms", "--ks", "0,1"},
	{"bench", "rlms", "--mixes", "heavy"},
	{"bench", "rlms", "--dqn-steps", "-1"},
	{"bench", "rlms", "--load", "NaN"},
	{"bench", "rlms", "--arrival-rate", "1e308"},
	{"bench", "rlms", "--arrival-rate", "1e-300"},
	{"bench", "rlms", "--gamma", "2"},
	{"bench", "rlms", "--topologies", "waxman", "--seeds", "1", "--steps", "100", "--ks", "", "--mixes", ""},
	{"bench", "rlms", "--topologies", "abilene", "--seeds", "1", "--steps", "100"},

	// tsft.
	{"tsft"},
	{"tsft", "--device", "list"},
	{"tsft", "--device", "nosuch"},
	{"tsft", "--device", "fpga"},
	{"tsft", "--device", "fpga", "--shots", "9"},
	{"tsft", "--device", "fpga", "--shots", "100000"},
	{"tsft", "--device", "fpga", "--pseudo", "-1"},
	{"tsft", "--device", "fpga", "--blend-folds", "1"},
	{"tsft", "--device", "fpga", "--method", "paper"},
	{"tsft", "--device", "fpga", "--method", "tsft", "--epochs", "1"},
	{"tsft", "--device", "fpga", "--select-folds", "1"},
	{"tsft", "--device", "fpga", "--select-pseudo", "--epochs", "1", "--shots", "12", "--pseudo", "20"},
	{"tsft", "--device", "fpga", "--select-steps", "0"},
	{"tsft", "--device", "fpga", "--select-weights", "NaN"},
	{"tsft", "--device", "fpga", "--select-repeats", "1000"},
	{"tsft", "--device", "fpga", "--select-se", "1e308"},
	{"tsft", "--device", "fpga", "--select-folds", "0", "--epochs", "1", "--shots", "12"},
	{"tsft", "--device", "fpga", "--seed", "NaN"},
	{"tsft", "--device", "fpga", "--seed", "7"},
	{"tsft", "--device"},
	{"tsft", "--device", ""},
	{"tsft", "--device", "fpga", "--device", "raspi4"},
	{"tsft", "--epochs", "0", "--device", "fpga"},
	{"tsft", "pretrain"},
	{"tsft", "pretrain", "--epochs", "1", "--cache", "cache"},
	{"tsft", "pretrain", "--epochs", "-1"},
	{"tsft", "pretrain", "--gnn-dim", "1e308"},
	{"tsft", "pretrain", "--device", "fpga"},
	{"tsft", "pretrain", "extra"},

	// data.
	{"data"},
	{"data", "fetch"},
	{"data", "fetch", "nosuch"},
	{"data", "fetch", "topologies"},
	{"data", "fetch", "nasbench201"},
	{"data", "fetch", "topologies", "--base-url", ""},
	{"data", "fetch", "--base-url", "http://127.0.0.1:9", "topologies"},
	{"data", "fetch", "--base-url", "://bad", "nasbench201"},
	{"data", "fetch", "topologies", "nasbench201"},
	{"data", "fetch", "--base-url"},

	// rl.
	{"rl"},
	{"offload"},
	{"offload", "bench", "--devices", "0"},
	{"offload", "bench", "--devices", "65"},
	{"offload", "bench", "--sets", "-1"},
	{"offload", "bench", "--dqn-steps", "-5"},
	{"offload", "bench", "--devices", "x"},
	{"offload", "bench", "--devices", "3", "--sets", "1"},
	{"bench", "offload", "--devices", "3", "--sets", "1", "--battery", "low"},
	{"bench", "offload", "--sets", "0"},
	{"offload", "bench", "--devices", "3", "--sets", "1", "--battery", "empty"},
	{"offload", "bench", "--devices", "3", "--sets", "1", "--dqn-seeds", "0"},
	{"offload", "bench", "--devices", "3", "--sets", "1", "--droo-steps", "-1"},
	{"offload", "train", "--devices", "0"},
	{"offload", "train", "--algo", "sarsa"},
	{"offload", "train", "--steps", "-1"},
	{"offload", "train", "--lr", "NaN"},
	{"offload", "train", "--reward-scale", "-1"},
	{"offload", "train", "--eval-sets", "-2"},
	{"offload", "train", "--width", "0"},
	{"offload", "train", "--target-every", "0"},
	{"offload", "train", "--n-steps", "0"},
	{"offload", "train", "--checkpoint-every", "-1"},
	{"offload", "eval"},
	{"dsppo"},
	{"bench", "dsppo", "--queues", "steady"},
	{"bench", "dsppo", "--algos", "sarsa"},
	{"bench", "dsppo", "--seeds", "0"},
	{"bench", "dsppo", "--test-queues", "0"},
	{"bench", "dsppo", "--steps", "5"},
	{"bench", "dsppo", "--gamma", "-1"},
	{"dsppo", "train", "--queue", "steady"},
	{"dsppo", "train", "--steps", "10"},
	{"dsppo", "train", "--reward", "profit"},
	{"dsppo", "train", "--lr", "NaN"},
	{"dsppo", "train", "--width", "0"},
	{"dsppo", "train", "--gamma", "1.5"},
	{"dsppo", "train", "--algo", "a3c"},
	{"dsppo", "train", "--prior", "-1"},
	{"bench", "dsppo", "--prior", "1000"},
	{"bench", "dsppo", "--wait-cost", "0"},
	{"bench", "dsppo", "--lr", "Inf"},
	{"bench", "dsppo", "--jobs", "0"},
	{"bench", "dsppo", "--select-every", "-1"},
	{"bench", "dsppo", "--select-queues", "0"},
	{"decima"},
	{"decima", "train", "--mode", "stream"},
	{"decima", "train", "--arch", "gcn"},
	{"decima", "train", "--lr", "NaN"},
	{"decima", "train", "--entropy", "Inf"},
	{"decima", "train", "--steps", "0"},
	{"decima", "train", "--steps", "10"},
	{"decima", "train", "--horizon", "-1"},
	{"decima", "train", "--select-every", "-1"},
	{"decima", "train", "--select-streams", "0"},
	{"decima", "train", "--eval-streams", "-1"},
	{"decima", "train", "--tune-streams", "0"},
	{"decima", "train", "--checkpoint-every", "-1"},
	{"decima", "train", "--warm-epochs", "-1"},
	{"bench", "decima", "--warm-only=false", "--seeds", "0"},
	{"decima", "eval"},
	{"decima", "eval", "--model", "/nonexistent.safetensors"},
	{"decima", "eval", "--model", "/dev/null", "--streams", "0"},
	{"decima", "eval", "--model", "/dev/null", "--tune-streams", "0"},
	{"decima", "eval", "--model", "/dev/null", "--split", "train"},
	{"decima", "eval", "--model", "/dev/null", "--mode", "x"},
	{"bench", "decima", "--modes", "stream"},
	{"bench", "decima", "--archs", "gcn"},
	{"bench", "decima", "--seeds", "0"},
	{"bench", "decima", "--steps", "0"},
	{"bench", "decima", "--jobs", "0"},
	{"bench", "decima", "--test-streams", "0"},
	{"bench", "decima", "--tune-streams", "0"},
	{"bench", "decima", "--lr", "-1"},
	{"bench", "decima", "--horizon", "NaN"},
	{"dsppo", "train", "--select-every", "-5"},
	{"dsppo", "train", "--select-queues", "100000"},
	{"dsppo", "train", "--wait-cost", "NaN"},
	{"dsppo", "train", "--patience", "-1"},
	{"dsppo", "train", "--eval-queues", "-1"},
	{"dsppo", "train", "--cluster", "/nonexistent.yaml"},
	{"dsppo", "train", "--cluster", "/dev/null"},
	{"dsppo", "eval"},
	{"dsppo", "eval", "--model", "/nonexistent.safetensors"},
	{"dsppo", "eval", "--model", "/dev/null", "--queues", "0"},
	{"dsppo", "eval", "--model", "/dev/null", "--split", "train"},
	{"offload", "eval", "--model", "/nonexistent.safetensors"},
	{"offload", "eval", "--model", "/dev/null", "--sets", "0"},
	{"offload", "eval", "--model", "/dev/null", "--battery", "half"},
	{"offload", "eval", "--model", "/dev/null", "--split", "train"},
	{"rl", "smoke"},
	{"rl", "smoke", "--algo", "ppo"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole"},
	{"rl", "smoke", "--algo", "dqn", "--env", "bandit", "--steps", "10"},
	{"rl", "smoke", "--algo", "ac", "--env", "chain", "--steps", "1"},
	{"rl", "smoke", "--algo", "pg", "--env", "split", "--checkpoint-every", "0"},
	{"rl", "smoke", "--algo", "nosuch", "--env", "cartpole"},
	{"rl", "smoke", "--algo", "ppo", "--env", "nosuch"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--steps", "-1"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--steps", "9223372036854775807"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--steps", "99999999999999999999"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--checkpoint-every", "-1"},
	{"rl", "smoke", "--algo", "", "--env", ""},
	{"rl", "smoke", "--algo=ppo", "--env=cartpole", "--force"},
	{"rl", "smoke", "--algo", "ppo", "--env", "cartpole", "--force=NaN"},

	// rlms.
	{"rlms"},
	{"rlms", "train", "--steps", "100"},
	{"rlms", "train", "--tsft-shots", "5"},
	{"rlms", "train", "--tenants", "0.99"},
	{"rlms", "train", "--regime", "harsh"},
	{"rlms", "train", "--regime", "both"},
	{"bench", "rlms", "--regime", "both", "--generalise"},
	{"bench", "rlms", "--regime", "both", "--tsft-shots", "0", "--topologies", "waxman", "--seeds", "1", "--steps", "100", "--ks", "", "--mixes", "", "--ppo=false", "--ablation=false", "--dqn=false"},
	{"bench", "rlms", "--regime", "realistic", "--tsft-shots", "0", "--topologies", "waxman", "--seeds", "1", "--steps", "100", "--ks", "", "--mixes", ""},
	{"rlms", "train", "--probe-noise", "-0.1"},
	{"rlms", "train", "--probe-noise", "11"},
	{"rlms", "train", "--probe-noise", "0.3", "--steps", "100"},
	{"rlms", "train", "--tenants", "NaN"},
	{"rlms", "train", "--tenants", "0.3", "--tenant-job-ms", "0"},
	{"rlms", "train", "--tenants", "0.3", "--tenant-job-ms", "20", "--steps", "100"},
	{"rlms", "train", "--tsft-shots", "-1"},
	{"rlms", "train", "--topology-file", "nosuch.gml"},
	{"rlms", "eval", "--model", "m", "--topology-file", ""},
	{"tsft", "--measurements", "nosuch.csv"},
	{"tsft", "--measurements", "nosuch.csv", "--shots", "20"},
	{"serve"},
	{"serve", "--model", "noequals"},
	{"serve", "--model", "a=b", "--http", "off", "--grpc", ""},
	{"serve", "--model", "a=nosuch.safetensors", "--http", "127.0.0.1:0", "--grpc", "off"},
	{"serve", "--model", "a=b", "--max-body-bytes", "10"},
	{"bench", "serve"},
	{"bench", "serve", "--policy", "p", "--clients", "0"},
	{"export"},
	{"export", "--model", "nosuch.safetensors"},
	{"export", "--model", "m", "--format", "tflite"},
	{"export", "--model", "m", "extra"},
	{"tsft", "predict"},
	{"tsft", "predict", "--model", "m"},
	{"tsft", "predict", "--model", "m", "--arch", "|none~0|+|none~0|none~1|+|none~0|none~1|none~9|"},
	{"tsft", "predict", "--model", "m", "--archs", "nosuch.txt"},
	{"rlms", "train", "--bursts", "1.5"},
	{"rlms", "train", "--bursts", "0.2", "--burst-size", "0"},
	{"rlms", "train", "--bursts", "0.2", "--burst-ms", "NaN"},
	{"rlms", "train", "--probe-age-ms", "-5"},
	{"rlms", "train", "--probe-age-ms", "1e300"},
	{"rlms", "train", "--traffic-drift", "--bursts", "0.2", "--probe-age-ms", "30", "--steps", "100"},
	{"rlms", "train", "--regime", "realistic", "--bursts", "0", "--steps", "100"},
	{"rlms", "train", "--tsft-shots", "100000"},
	{"rlms", "eval", "--tsft-shots", "9", "--model", "nosuch"},
	{"bench", "rlms", "--tsft-shots", "1e9"},
	{"bench", "rlms", "--generalise", "--topologies", "waxman", "--seeds", "1", "--steps", "100"},
	{"rlms", "train", "--topology", "waxman", "--steps", "100"},
	{"rlms", "train", "--topology", "nosuch"},
	{"rlms", "train", "--k", "0"},
	{"rlms", "train", "--k", "-1"},
	{"rlms", "train", "--steps", "0"},
	{"rlms", "train", "--steps", "-100"},
	{"rlms", "train", "--steps", "9223372036854775807"},
	{"rlms", "train", "--paths", "0"},
	{"rlms", "train", "--load", "NaN"},
	{"rlms", "train", "--load", "-1"},
	{"rlms", "train", "--arrival-rate", "0"},
	{"rlms", "train", "--tasks", "99999999"},
	{"rlms", "train", "--gamma", "NaN"},
	{"rlms", "train", "--gamma", "-0.5"},
	{"rlms", "train", "--lr-actor", "1e308"},
	{"rlms", "train", "--lr-critic", "-Inf"},
	{"rlms", "train", "--ent-coef", "Inf"},
	{"rlms", "train", "--envs", "0"},
	{"rlms", "train", "--envs", "1000000"},
	{"rlms", "train", "--nsteps", "-1"},
	{"rlms", "train", "--dim", "0"},
	{"rlms", "train", "--rounds", "-1"},
	{"rlms", "train", "--encoder", "transformer"},
	{"rlms", "train", "--split", "uniform"},
	{"rlms", "train", "--algo", "dqn"},
	{"rlms", "train", "--algo", "ppo", "--steps", "100"},
	{"rlms", "train", "--mix", "heavy"},
	{"rlms", "train", "--checkpoint-every", "-1"},
	{"rlms", "train", "--eval-seeds", "-1"},
	{"rlms", "train", "--prior=false", "--subsets=false", "--steps", "100"},
	{"rlms", "train", "--staged-critic=maybe"},
	{"rlms", "train", "--k", "5", "--k", "6", "--steps", "100"},
	{"rlms", "eval"},
	{"rlms", "eval", "--model"},
	{"rlms", "eval", "--model", ""},
	{"rlms", "eval", "--model", "nosuch.safetensors"},
	{"rlms", "eval", "--model", "/dev/zero"},
	{"rlms", "eval", "--model", "x", "--seeds", "0"},
	{"rlms", "eval", "--model", "x", "--topology", "nosuch"},

	// checkpoint.
	{"checkpoint"},
	{"checkpoint", "inspect"},
	{"checkpoint", "inspect", "nosuch.safetensors"},
	{"checkpoint", "inspect", "/dev/zero"},
	{"checkpoint", "inspect", "/dev/null"},
	{"checkpoint", "inspect", "."},
	{"checkpoint", "inspect", ""},
	{"checkpoint", "inspect", "a", "b"},
	{"checkpoint", "inspect", "--bogus", "a"},
	{"checkpoint", "inspect", "a", "--bogus"},
	{"checkpoint", "list"},
}

// TestCLISeedsCoverCommands checks that the seed corpus names every command
// and subcommand, so new commands get seeds, and holds the example of every
// known bug, which becomes a regression case when the bug is fixed.
func TestCLISeedsCoverCommands(t *testing.T) {
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := append(append([]string(nil), prefix...), c.Name)
			found := false
			for _, s := range cliSeeds {
				if len(s) >= len(path) && slices.Equal(s[:len(path)], path) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no seed of FuzzCLIArgs runs %q", strings.Join(path, " "))
			}
			walk(path, c.Subcommands)
		}
	}
	walk(nil, commands())
	for _, b := range knownCLIBugs {
		if !slices.ContainsFunc(cliSeeds, func(s []string) bool { return slices.Equal(s, b.example) }) {
			t.Errorf("the example %q of a known bug is not in cliSeeds", b.example)
		}
	}
}
