// Command mailfs mounts an IMAP mail account as a read-only directory tree:
// one directory per folder, one .eml file per message.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `mailfs mounts an IMAP mail account as a read-only directory of files:
every folder a directory, every message an exact .eml file.

Usage:
  mailfs mount [flags] MOUNTPOINT    serve the account at MOUNTPOINT until unmounted
  mailfs mount --demo MOUNTPOINT     the same with a bundled sample mailbox
  mailfs accounts import ACCOUNTS.csv
                                     add accounts from a CSV file to the config file
  mailfs providers [NAME]            list the provider presets (gmail, outlook, …)
  mailfs --version

Examples:
  MAILFS_PASSWORD=secret mailfs mount --server imap.example.com --user me@example.com ~/mail
  mailfs mount --server imap.example.com --user me --password-cmd 'pass show mail' ~/mail
  rsync -a ~/mail/ /backup/mail/
  fusermount3 -u ~/mail              (or Ctrl-C in the shell running mailfs)

  mailfs accounts import accounts.csv
  mailfs providers

Run 'mailfs mount --help' for the mount flags, 'mailfs accounts --help'
for the CSV columns. The config file is $XDG_CONFIG_HOME/mailfs/config.toml.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, "mailfs", version)
		return 0
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "mount":
		err := mountCmd(args[1:], stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "mailfs: %v\nRun 'mailfs mount --help' for usage.\n", err)
			return 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "mailfs: %v\n", err)
			return 1
		}
		return 0
	case "accounts":
		return exitCode("accounts", accountsCmd(args[1:], stdout, stderr), stderr)
	case "providers":
		return exitCode("providers", providersCmd(args[1:], stdout, stderr), stderr)
	default:
		fmt.Fprintf(stderr, "mailfs: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// parseInterspersed parses flags that may stand before or after the
// positional arguments.
func parseInterspersed(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		if fl.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fl.Arg(0))
		args = fl.Args()[1:]
		if strings.HasPrefix(fl.Arg(0), "-") {
			return nil, usagef("unexpected argument %q", fl.Arg(0))
		}
	}
}
