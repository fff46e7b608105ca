package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cliError is a failure to report: a one-line message, hints, and the exit
// code.
type cliError struct {
	msg   string
	hints []string
	code  int
}

func (e *cliError) Error() string { return e.msg }

// failure returns an error that exits 1.
func failure(msg string, hints ...string) error {
	return &cliError{msg: msg, hints: hints, code: exitFailure}
}

// usageError returns an error that exits 2, with a hint to the command's
// help.
func usageError(cmd, msg string) error {
	hint := `run "keycard --help" for usage`
	if cmd != "" {
		hint = fmt.Sprintf(`run "keycard %s --help" for usage`, cmd)
	}
	return &cliError{msg: msg, hints: []string{hint}, code: exitUsage}
}

// errHelpShown reports that a --help flag was served.
var errHelpShown = errors.New("help shown")

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		ce = &cliError{msg: err.Error(), code: exitFailure}
	}
	// Errors of package keycard start "keycard: " too.
	fmt.Fprintf(stderr, "keycard: error: %s\n", strings.TrimPrefix(oneLine(ce.msg), "keycard: "))
	for _, h := range ce.hints {
		if h == "" {
			continue
		}
		fmt.Fprintf(stderr, "keycard: hint: %s\n", h)
	}
	return ce.code
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &cliError{msg: "no command given", code: exitUsage}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "help":
		return help(rest, stdout)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "sessions":
		if len(rest) == 0 {
			return usageError("sessions", "sessions needs a subcommand: ls or rm")
		}
		switch rest[0] {
		case "ls", "list":
			return cmdSessionsLs(ctx, rest[1:], stdout, stderr)
		case "rm", "remove":
			return cmdSessionsRm(ctx, rest[1:], stdout, stderr)
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, usageSessions)
			return nil
		}
		return usageError("sessions", fmt.Sprintf("unknown subcommand %q; want ls or rm", rest[0]))
	case "revoke":
		return cmdRevoke(ctx, rest, stdout, stderr)
	case "gc":
		return cmdGC(ctx, rest, stdout, stderr)
	case "stats":
		return cmdStats(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "keys":
		if len(rest) == 0 {
			return usageError("keys", "keys needs a subcommand: new")
		}
		switch rest[0] {
		case "new":
			return cmdKeysNew(ctx, rest[1:], stdout, stderr)
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, usageKeys)
			return nil
		}
		return usageError("keys", fmt.Sprintf("unknown subcommand %q; want new", rest[0]))
	}
	if strings.HasPrefix(cmd, "-") {
		return usageError("", fmt.Sprintf("flag %s before the command; flags follow it, as in keycard sessions ls --user alice", cmd))
	}
	return usageError("", fmt.Sprintf("unknown command %q; want %s", cmd, commands))
}

var helpTexts = map[string]string{
	"demo": usageDemo, "sessions": usageSessions, "revoke": usageRevoke,
	"gc": usageGC, "stats": usageStats, "migrate": usageMigrate, "keys": usageKeys,
}

// commands lists the commands, for messages.
const commands = "demo, sessions, revoke, gc, stats, migrate, keys or help"

// subcommands are the subcommands that "keycard help COMMAND SUBCOMMAND"
// accepts.
var subcommands = map[string][]string{
	"sessions": {"ls", "list", "rm", "remove"},
	"keys":     {"new"},
}

func help(args []string, stdout io.Writer) error {
	if len(args) == 0 || len(args) == 1 && (args[0] == "help" || isHelpFlag(args[0])) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	text, ok := helpTexts[args[0]]
	if !ok {
		return usageError("", fmt.Sprintf("no help for %q: not a command; want %s", args[0], commands))
	}
	if len(args) > 1 && (len(args) > 2 || !slices.Contains(subcommands[args[0]], args[1])) {
		return usageError("", fmt.Sprintf("help takes one command, as in: keycard help %s", args[0]))
	}
	fmt.Fprint(stdout, text)
	return nil
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// newFlags returns a flag set for the command cmd whose --help prints
// text.
func newFlags(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args, which may mix flags and operands, and returns the
// operands. -h and --help print text on stdout and return errHelpShown.
func parse(fs *flag.FlagSet, cmd, text string, args []string, stdout io.Writer) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, text)
				return nil, errHelpShown
			}
			return nil, usageError(cmd, flagError(fs, cmd, err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return operands, nil
		}
		if args[0] == "--" {
			return append(operands, args[1:]...), nil
		}
		operands = append(operands, args[0])
		args = args[1:]
	}
}

// flagError rewords an error of package flag, which has no typed errors,
// to name flags as the help does and to say which flags cmd takes.
func flagError(fs *flag.FlagSet, cmd string, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, dashes(f.Name)) })
		switch len(names) {
		case 0:
			return fmt.Sprintf("unknown flag %s; %s takes no flags", dashes(name), cmd)
		case 1:
			return fmt.Sprintf("unknown flag %s; %s takes only %s", dashes(name), cmd, names[0])
		}
		return fmt.Sprintf("unknown flag %s; %s takes %s and %s", dashes(name), cmd,
			strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag %s needs a value", dashes(name))
	}
	// invalid value "V" for flag -NAME: WHY, and invalid boolean value "V"
	// for -NAME: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
		q1, q2 := strings.Index(rest, `"`), strings.LastIndex(rest, `"`)
		i := strings.Index(rest[max(q2, 0):], " -")
		if q1 >= 0 && q2 > q1 && i >= 0 {
			value := rest[q1 : q2+1]
			name, why, _ := strings.Cut(rest[q2+i+2:], ": ")
			switch {
			case strings.HasPrefix(rest, "boolean"):
				return fmt.Sprintf("%s takes no value, or =true or =false; not %s", dashes(name), value)
			case value == `""`:
				return fmt.Sprintf("%s is %s", dashes(name), why)
			}
			return fmt.Sprintf("%s %s: %s", dashes(name), value, why)
		}
	}
	return msg
}

// dashes writes a flag name as the help does: -v, --store.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// envOr returns the value of the environment variable name, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
