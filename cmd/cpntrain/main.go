// Command cpntrain trains schedulers and latency predictors for
// computing-power networks. Run 'cpntrain --help' for its commands.
//
// Exit status: 0 on success, 1 when a command fails at run time, 2 on a
// usage error (unknown command or flag, bad flag value, missing argument).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cpntrain/cpntrain/train/runlog"
)

// Exit statuses of cpntrain.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// maxThreads bounds --threads (GOMAXPROCS): far above any machine's cores,
// far below what the Go runtime cannot start.
const maxThreads = 1024

// appName is the program's name in help and messages.
const appName = "cpntrain"

func main() {
	ctx, stop := interruptContext(os.Stderr)
	code := runContext(ctx, os.Args, os.Stdout, os.Stderr, commands())
	if sig := stop(); sig != nil && code != exitOK {
		code = 128 + int(sig.(syscall.Signal)) // 130 on SIGINT, 143 on SIGTERM
	}
	os.Exit(code)
}

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM: training commands then write a checkpoint, record the run as
// interrupted and return. A second signal exits at once (status 130 or
// 143). stop ends the handling and returns the signal received, if any.
func interruptContext(stderr io.Writer) (ctx context.Context, stop func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		got.Store(sig)
		fmt.Fprintf(stderr, "\n%s: %v: stopping at the next checkpoint boundary (send it again to exit at once)\n", appName, sig)
		cancel()
		if sig, ok = <-ch; ok {
			fmt.Fprintf(stderr, "%s: %v again: exiting without a checkpoint\n", appName, sig)
			os.Exit(128 + int(sig.(syscall.Signal)))
		}
	}()
	return ctx, func() os.Signal {
		signal.Stop(ch)
		close(ch)
		cancel()
		if v := got.Load(); v != nil {
			return v.(os.Signal)
		}
		return nil
	}
}

// commands returns the top-level commands. A command with subcommands (such
// as a future bench) is one more entry here.
func commands() []*cli.Command {
	return []*cli.Command{
		versionCommand(),
		benchCommand(),
		tsftCommand(),
		dataCommand(),
		rlCommand(),
		rlmsCommand(),
		offloadCommand(),
		dsppoCommand(),
		decimaCommand(),
		checkpointCommand(),
		exportCommand(),
		serveCommand(),
	}
}

// run runs cpntrain with args (args[0] is the program name), writing normal
// output to stdout and messages to stderr, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, commands())
}

// runWith is run with a given command list, so tests can add commands.
func runWith(args []string, stdout, stderr io.Writer, cmds []*cli.Command) int {
	return runContext(context.Background(), args, stdout, stderr, cmds)
}

// runContext is runWith under ctx (cancelled by an interrupt).
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, cmds []*cli.Command) (code int) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n%s", appName, v, debug.Stack())
			code = exitFail
		}
	}()
	if len(args) == 0 {
		args = []string{appName}
	}
	inv := &invocation{args: args}
	defer inv.restore()
	app := newApp(stdout, stderr, cmds, inv)
	err := app.RunContext(ctx, args)
	if err == nil {
		err = inv.notFound
	}
	return report(err, app, args, stderr)
}

// invocation holds the state of one call of runWith.
type invocation struct {
	args []string
	// notFound is the usage error recorded by cli's CommandNotFound hook,
	// which cannot return an error itself.
	notFound error
	// prevProcs is the GOMAXPROCS value before --threads changed it, or 0.
	prevProcs int
}

// restore undoes the process-wide changes of the invocation, so that run
// can be called repeatedly in tests.
func (inv *invocation) restore() {
	if inv.prevProcs > 0 {
		runtime.GOMAXPROCS(inv.prevProcs)
	}
}

// report prints err and returns the exit status for it.
func report(err error, app *cli.App, args []string, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var se *runlog.SettingsError
	switch {
	case errors.As(err, &se):
		for i, d := range se.Diffs { // name the flag behind a setting where one is known
			if f, ok := rlmsFlagNames[d.Path[strings.LastIndexByte(d.Path, '.')+1:]]; ok {
				se.Diffs[i].Path += " (" + f + ")"
			}
		}
		fmt.Fprintf(stderr, "%s: %v\n", appName, se)
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n", appName, ue)
		return exitUsage
	case isRequiredFlagsError(err), isFlagParseError(err):
		ue := &usageError{msg: withPeriod(plainFlagMessage(err.Error())), cmd: commandPath(app, args)}
		fmt.Fprintf(stderr, "%s: %v\n", appName, ue)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", appName, err)
	return exitFail
}

// newApp builds the cli application around cmds.
func newApp(stdout, stderr io.Writer, cmds []*cli.Command, inv *invocation) *cli.App {
	setUsageHandlers(cmds)
	app := &cli.App{
		Name:     appName,
		HelpName: appName,
		Usage:    "train schedulers and latency predictors for computing-power networks",
		UsageText: appName + " [global options] command [command options] [arguments...]\n\n" +
			"Global options go before the command: cpntrain --seed 7 --threads 2 COMMAND ...",
		Description: "cpntrain is a pure-Go toolkit that trains the neural networks of task\n" +
			"schedulers for computing-power networks (CPNs): reinforcement-learning\n" +
			"policies that pick compute nodes and network paths, and supervised\n" +
			"predictors of inference latency, on its own define-by-run engine.\n" +
			"Training commands write every run to a folder (config.json,\n" +
			"metrics.jsonl and a TensorBoard event file) and save safetensors\n" +
			"checkpoints. Start with 'cpntrain tsft --device fpga' (the README's\n" +
			"first run); 'cpntrain rlms train' trains the RLMS-CPN scheduler.\n\n" +
			"Exit status: 0 on success, 1 on a run-time failure, 2 on a usage error.",
		Version:   versionString(),
		Flags:     globalFlags(),
		Commands:  cmds,
		Writer:    stdout,
		ErrWriter: stderr,
		Metadata:  map[string]any{"args": inv.args},
		Before: func(c *cli.Context) error {
			threads := c.Int("threads")
			if threads < 0 || threads > maxThreads {
				return &usageError{
					msg: fmt.Sprintf("invalid value %d for --threads: use a number of threads from 1 to %d, or 0 for all %d cores.",
						threads, maxThreads, runtime.NumCPU()),
					cmd: appName,
				}
			}
			if threads > 0 {
				inv.prevProcs = runtime.GOMAXPROCS(threads)
			}
			return nil
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c.Command, c.Args().First())
			}
			if err := cli.ShowAppHelp(c); err != nil {
				return err
			}
			return &usageError{msg: "no command given.", cmd: appName}
		},
		OnUsageError: onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {
			if inv.notFound == nil {
				inv.notFound = unknownCommand(c.Command, name)
			}
		},
		// Errors are reported by run, which never exits the process itself.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	return app
}

// Names of the global flags.
const (
	flagSeed    = "seed"
	flagThreads = "threads"
	flagDataDir = "data-dir"
	flagOut     = "out"
	flagQuiet   = "quiet"
)

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Int64Flag{
			Name:  flagSeed,
			Value: 1,
			Usage: "seed of every random number generator of the run",
		},
		&cli.IntFlag{
			Name:  flagThreads,
			Value: 0,
			Usage: "number of OS threads running Go code (GOMAXPROCS); 0 uses all cores",
		},
		&cli.StringFlag{
			Name:    flagDataDir,
			Value:   defaultDataDir(),
			EnvVars: []string{"CPNTRAIN_DATA"},
			Usage:   "folder of the data sets (topologies, traces, latency tables)",
		},
		&cli.StringFlag{
			Name:        flagOut,
			Usage:       "run folder for config.json, metrics.jsonl and TensorBoard events",
			DefaultText: "runs/<command>-<timestamp>",
		},
		&cli.BoolFlag{
			Name:  flagQuiet,
			Usage: "print no progress, only results and errors",
		},
	}
}

// defaultDataDir is the per-user cache folder for data sets.
func defaultDataDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, appName, "data")
}

// globals holds the global flags of one invocation.
type globals struct {
	// Seed seeds every random number generator of the run.
	Seed int64 `json:"seed"`
	// Threads is the GOMAXPROCS requested, 0 for all cores.
	Threads int `json:"threads"`
	// DataDir is the folder of the data sets.
	DataDir string `json:"data_dir"`
	// Out is the run folder; empty means runs/<command>-<timestamp>.
	Out string `json:"out,omitempty"`
	// Quiet turns progress display off.
	Quiet bool `json:"quiet"`
}

// globalsFrom reads the global flags from c, the context of any command.
// An empty --data-dir (as from CPNTRAIN_DATA set to "") means the default.
func globalsFrom(c *cli.Context) globals {
	g := globals{
		Seed:    seedOf(c),
		Threads: c.Int(flagThreads),
		DataDir: c.String(flagDataDir),
		Out:     c.String(flagOut),
		Quiet:   c.Bool(flagQuiet),
	}
	if g.DataDir == "" {
		g.DataDir = defaultDataDir()
	}
	return g
}

// runConfig is what openRun writes to config.json: enough to repeat the
// run.
type runConfig struct {
	Command string   `json:"command"`
	Version string   `json:"version"`
	Args    []string `json:"args,omitempty"`
	Globals globals  `json:"globals"`
	Config  any      `json:"config"`
}

// openRun creates the run folder of the command name: --out if given,
// otherwise runs/<name>-<timestamp> (with a numeric suffix if that exists).
// config.json records the command, the version, the command line, the
// global flags and cfg.
func openRun(c *cli.Context, name string, cfg any) (*runlog.Run, error) {
	dir := globalsFrom(c).Out
	if dir == "" {
		dir = defaultRunDir(name, time.Now())
	}
	return runlog.Create(dir, runlog.Options{Config: runRecord(c, name, cfg)})
}

// flagMessage rewrites a settings validation message ("cpn: K 1000
// outside [1,64]") for a command-line user: without the package prefix,
// with each settings field of names replaced by its flag ("--k 1000
// outside [1,64]").
func flagMessage(msg string, names map[string]string) string {
	if i := strings.Index(msg, ": "); i > 0 && !strings.ContainsAny(msg[:i], " ") {
		msg = msg[i+2:]
	}
	words := strings.FieldsFunc(msg, func(r rune) bool { return r == ' ' || r == '(' || r == ')' || r == ',' })
	for _, w := range words {
		if f, ok := names[w]; ok {
			msg = replaceWord(msg, w, f)
		}
	}
	return msg
}

// replaceWord replaces the whole-word occurrences of w in s by r.
func replaceWord(s, w, r string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, w)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(w)
		before := i == 0 || !isWordByte(s[i-1])
		after := end == len(s) || !isWordByte(s[end])
		b.WriteString(s[:i])
		if before && after {
			b.WriteString(r)
		} else {
			b.WriteString(w)
		}
		s = s[end:]
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// infoWriter is where info lines go: the error stream, or nowhere with
// --quiet.
func infoWriter(c *cli.Context) io.Writer {
	if globalsFrom(c).Quiet {
		return io.Discard
	}
	return c.App.ErrWriter
}

// forceFlag is --force of the training commands.
func forceFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Usage: "resume even when the run folder was started with other settings (the new ones are recorded), or start afresh over a finished run"}
}

// runRecord is what config.json says of a run of the command name: the
// command, the version, the command line, the global flags and cfg.
func runRecord(c *cli.Context, name string, cfg any) runConfig {
	args, _ := c.App.Metadata["args"].([]string)
	return runConfig{Command: name, Version: versionString(), Args: args, Globals: globalsFrom(c), Config: cfg}
}

// defaultRunDir returns runs/<name>-<YYYYMMDD-hhmmss>, adding -2, -3, …
// when a folder of that name exists. It claims the folder by creating it
// (os.Mkdir fails on an existing one), so that runs started in the same
// second by concurrent processes get different folders.
func defaultRunDir(name string, now time.Time) string {
	base := filepath.Join("runs", name+"-"+now.Format("20060102-150405"))
	_ = os.MkdirAll("runs", 0o755) // an error surfaces at Mkdir or Create
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil || !errors.Is(err, os.ErrExist) {
			return dir // on another error runlog.Create reports it
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// withPeriod ends s with a period unless it already ends with punctuation.
func withPeriod(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".?!") {
		return s
	}
	return s + "."
}

// seedOf returns --seed. Commands may define their own --seed (so that
// 'cpntrain tsft --device fpga --seed 3' works as the papers' scripts are
// called); it wins when given, otherwise the global one applies.
func seedOf(c *cli.Context) int64 {
	if c.Command != nil && c.IsSet(flagSeed) {
		return c.Int64(flagSeed)
	}
	for _, a := range c.Lineage() {
		if a.IsSet(flagSeed) {
			return a.Int64(flagSeed)
		}
	}
	return c.Int64(flagSeed)
}
