// Command mailfs mounts an IMAP mail account as a read-only directory tree:
// one directory per folder, one .eml file per message.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	// mailfs stays mounted for months with one small record per message
	// and little garbage: collecting at 50% growth instead of Go's 100%
	// keeps the peak near the live heap. GOGC still overrides it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code. Each call
// builds its own command tree, so tests call it again and again.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(args, stdout, stderr)
	if h, ok := helperArgs(root, args); ok { // run by mount.fuse3
		args = h
		root = newRootCmd(args, stdout, stderr)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	return exitCode(cmd, err, stderr)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// errShown is a usage error whose explanation was already printed (the
// usage text for 'mailfs' alone).
var errShown = errors.New("usage shown")

// exitCode reports err of cmd on stderr, each line with the "mailfs: "
// prefix, and returns the exit status: 0 for success or --help, 2 for a
// mistake in the command line (with a pointer to the command's help), 1
// otherwise.
func exitCode(cmd *cobra.Command, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errShown):
		return 2
	}
	var es exitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	for line := range strings.Lines(err.Error()) {
		fmt.Fprintf(stderr, "mailfs: %s", line)
	}
	fmt.Fprintln(stderr)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}
