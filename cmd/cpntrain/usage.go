package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// usageError is a mistake in the command line. It exits with status 2 and
// its message ends by saying where to find the usage of cmd.
type usageError struct {
	// msg says what is wrong, as one or more sentences.
	msg string
	// cmd is the command path whose help to point to, such as "cpntrain"
	// or "cpntrain bench run".
	cmd string
}

// Error returns the message followed by a pointer to the help.
func (e *usageError) Error() string {
	return fmt.Sprintf("%s Run '%s --help' for usage.", e.msg, e.cmd)
}

// setUsageHandlers gives every command in the tree that has none the
// usage-error handler; cli only passes the app's handler to the root. cli's
// own help command, which cli shares between apps and links into every
// command's subcommands (itself included), is left alone; report catches
// its flag errors.
func setUsageHandlers(cmds []*cli.Command) {
	seen := map[*cli.Command]bool{}
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if seen[c] || c.Name == "help" {
				continue
			}
			seen[c] = true
			if c.OnUsageError == nil {
				c.OnUsageError = onUsageError
			}
			if c.Action == nil && len(c.Subcommands) > 0 {
				c.Action = missingSubcommand
			}
			walk(c.Subcommands)
		}
	}
	walk(cmds)
}

// missingSubcommand is the action of a command that only groups
// subcommands ("cpntrain rlms"): a usage error listing them, as bare
// "cpntrain" is.
func missingSubcommand(c *cli.Context) error {
	var names []string
	for _, s := range c.Command.Subcommands {
		if s.Name != "help" && !s.Hidden {
			names = append(names, s.Name)
		}
	}
	if c.Args().Present() {
		return unknownCommand(c.Command, c.Args().First())
	}
	return &usageError{msg: fmt.Sprintf("give a subcommand: %s.", strings.Join(names, ", ")), cmd: c.Command.HelpName}
}

// onUsageError turns a flag-parsing error of c.Command into a usageError
// that names the flag and suggests a close match.
func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	cmd := c.Command
	path := cmd.HelpName
	if path == "" {
		path = appName
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		msg = fmt.Sprintf("unknown flag %s", dashed(name))
		if isSubcommand {
			msg += fmt.Sprintf(" for %q", path)
		}
		msg += "."
		if isSubcommand && isGlobalFlag(c, name) {
			msg += fmt.Sprintf(" %s is a global option: put it before the command, as in '%s %s … %s'.",
				dashed(name), appName, dashed(name), strings.TrimPrefix(path, appName+" "))
		} else if s := suggest(name, flagNames(cmd.Flags)); s != "" {
			msg += fmt.Sprintf(" Did you mean %q?", dashed(s))
		}
	} else {
		msg = withPeriod(plainFlagMessage(msg))
	}
	return &usageError{msg: msg, cmd: path}
}

// plainFlagMessage rewrites the flag package's "-name" spellings of long
// flags in msg as they are typed, "--name".
func plainFlagMessage(msg string) string {
	if before, after, ok := strings.Cut(msg, " for flag -"); ok {
		if name, rest, ok := strings.Cut(after, ":"); ok {
			return before + " for " + dashed(name) + ":" + rest
		}
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag " + dashed(name) + " needs a value"
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + dashed(strings.TrimLeft(name, "-"))
	}
	return msg
}

// isGlobalFlag reports whether name is a flag of the root command.
func isGlobalFlag(c *cli.Context, name string) bool {
	for _, f := range c.App.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

func flagNames(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	return names
}

// dashed writes a flag name as it is typed: -h, --seed.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// unknownCommand is the usage error for a command name that parent does
// not have.
func unknownCommand(parent *cli.Command, name string) error {
	path := appName
	if parent != nil && parent.HelpName != "" {
		path = parent.HelpName
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if path != appName {
		msg += fmt.Sprintf(" for %q", path)
	}
	msg += "."
	if parent != nil {
		var names []string
		for _, c := range parent.Subcommands {
			if !c.Hidden {
				names = append(names, c.Names()...)
			}
		}
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf(" Did you mean %q?", s)
		}
	}
	return &usageError{msg: msg, cmd: path}
}

// suggest returns the candidate closest to typed, or "" if none is close:
// at most one edit (insertion, deletion, substitution or swap of adjacent
// letters) for short words and two for words of six letters or more, or a
// candidate that typed is a prefix of. One-letter words and candidates get
// no suggestion: everything is one edit away from them.
func suggest(typed string, candidates []string) string {
	if len(typed) < 2 {
		return ""
	}
	best, bestDist := "", -1
	limit := 1
	if len(typed) >= 6 {
		limit = 2
	}
	for _, c := range candidates {
		if len(c) < 2 {
			continue
		}
		d := editDistance(typed, c)
		if strings.HasPrefix(c, typed) {
			d = min(d, 1)
		}
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b:
// the Levenshtein distance where swapping two adjacent letters is one edit.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	// d[i][j] is the distance between x[:i] and y[:j].
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// exactArgs checks that c has exactly one positional argument per name, and
// returns a usageError naming the first missing or extra one otherwise.
// names are shown as they appear in the usage, such as "CONFIG".
func exactArgs(c *cli.Context, names ...string) error {
	path := c.Command.HelpName
	switch n := c.NArg(); {
	case n < len(names):
		return &usageError{msg: fmt.Sprintf("missing argument %s.", names[n]), cmd: path}
	case n > len(names):
		return &usageError{msg: fmt.Sprintf("unexpected argument %q.", c.Args().Get(len(names))), cmd: path}
	}
	return nil
}

// isRequiredFlagsError reports whether err is cli's error for required
// flags that were not given. cli does not export its type, so the message
// is matched.
func isRequiredFlagsError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "Required flag ") || strings.HasPrefix(msg, "Required flags ")
}

// isFlagParseError reports whether err is one of the errors of the flag
// package, which cli returns unchanged for commands it adds itself (such as
// help).
func isFlagParseError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{
		"flag provided but not defined: ",
		"invalid value ",
		"invalid boolean value ",
		"flag needs an argument: ",
		"bad flag syntax: ",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// commandPath returns the command path ("cpntrain", "cpntrain bench run")
// that args select, skipping flags and their values.
func commandPath(app *cli.App, args []string) string {
	path := []string{appName}
	flags, cmds := app.Flags, app.Commands
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && takesValue(flags, strings.TrimLeft(a, "-")) {
				i++
			}
			continue
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(a) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		if next.Name == "help" {
			break // Point to the help of the command that help was asked of.
		}
		path = append(path, next.Name)
		flags, cmds = next.Flags, next.Subcommands
	}
	return strings.Join(path, " ")
}

// takesValue reports whether the flag called name reads the next argument
// as its value.
func takesValue(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if tv, ok := f.(interface{ TakesValue() bool }); ok {
				return tv.TakesValue()
			}
			return true
		}
	}
	return false
}
