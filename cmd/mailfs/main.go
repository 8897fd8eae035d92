// Command mailfs mounts an IMAP mail account as a read-only directory tree:
// one directory per folder, one .eml file per message.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
)

const usage = `mailfs mounts an IMAP mail account as a read-only directory of files:
every folder a directory, every message an exact .eml file.

Usage:
  mailfs mount [flags] MOUNTPOINT    serve the account at MOUNTPOINT until unmounted
  mailfs mount --demo MOUNTPOINT     the same with a bundled sample mailbox
  mailfs sync [flags]                download every message into the cache, then exit
  mailfs umount MOUNTPOINT           unmount a mailfs mount
  mailfs accounts import ACCOUNTS.csv
                                     add accounts from a CSV file to the config file
  mailfs providers [NAME]            list the provider presets (gmail, outlook, …)
  mailfs completion bash|zsh|fish    print a shell completion script
  mailfs version                     print the version (also --version)
  mailfs help [COMMAND]              this text, or the help of COMMAND

Examples:
  MAILFS_PASSWORD=secret mailfs mount --server imap.example.com --user me@example.com ~/mail
  mailfs mount --server imap.example.com --user me --password-cmd 'pass show mail' ~/mail
  rsync -a ~/mail/ /backup/mail/
  mailfs umount ~/mail               (or Ctrl-C in the shell running mailfs)

  mailfs sync --config ~/.config/mailfs/config.toml     (e.g. from cron)
  mailfs accounts import accounts.csv
  mailfs providers
  source <(mailfs completion bash)

Exit status:
  0  success
  1  failure: the reason is on stderr (for sync: a summary of what failed;
     also when a sync was interrupted)
  2  a mistake in the command line (unknown command or flag, missing argument)

Run 'mailfs COMMAND --help' for the flags of a command, e.g. 'mailfs mount
--help'; 'mailfs accounts --help' for the CSV columns. The config file is
$XDG_CONFIG_HOME/mailfs/config.toml.
`

const versionUsage = `Usage: mailfs version

Prints the version of mailfs ("dev" for a build without one). The same
as 'mailfs --version'.

Examples:
  mailfs version
  mailfs --version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// mailfs stays mounted for months with one small record per message
	// and little garbage: collecting at 50% growth instead of Go's 100%
	// keeps the peak near the live heap. GOGC still overrides it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if path, flagArgs := flagCommand(args); path != "" && !wantsHelp(flagArgs) {
		if err := checkFlags(path, flagArgs); err != nil {
			return exitCode(cmd, err, stderr)
		}
	}
	switch cmd {
	case "--version", "-version", "version":
		if wantsHelp(rest) {
			fmt.Fprint(stdout, versionUsage)
			return 0
		}
		fmt.Fprintln(stdout, "mailfs", version)
		return 0
	case "-h", "--help", "-help", "help":
		if len(rest) > 0 && rest[0] != "help" && !wantsHelp(rest) {
			if !slices.Contains(topCommands(), rest[0]) {
				return exitCode("help", usagef("no command %q (the commands: %s)", rest[0], strings.Join(topCommands(), ", ")), stderr)
			}
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	case "mount":
		if wantsHelp(rest) {
			stderr = stdout // the help is what was asked for
		}
		err := mountCmd(rest, stdout, stderr)
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
	case "sync":
		return exitCode("sync", syncCmd(rest, stdout, stderr), stderr)
	case "umount":
		return exitCode("umount", umountCmd(rest, stdout, stderr), stderr)
	case "completion":
		return exitCode("completion", completionCmd(rest, stdout, stderr), stderr)
	case "accounts":
		return exitCode("accounts", accountsCmd(rest, stdout, stderr), stderr)
	case "providers":
		return exitCode("providers", providersCmd(rest, stdout, stderr), stderr)
	default:
		msg := fmt.Sprintf("unknown command %q", cmd)
		if strings.HasPrefix(cmd, "-") {
			msg = fmt.Sprintf("unknown flag %s (flags go after the command: mailfs COMMAND [flags])", cmd)
		} else if s := suggest(cmd, topCommands()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		fmt.Fprintf(stderr, "mailfs: %s\nRun 'mailfs --help' for usage.\n", msg)
		return 2
	}
}

// flagCommand returns the command named by args (see commands) when it
// takes flags, and the arguments after its name.
func flagCommand(args []string) (path string, rest []string) {
	switch args[0] {
	case "mount", "sync", "umount", "completion", "providers":
		return args[0], args[1:]
	case "accounts":
		if len(args) > 1 && args[1] == "import" {
			return "accounts import", args[2:]
		}
	}
	return "", nil
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// parseArgs parses a command's flags, which may stand before or after its
// positional arguments. --help prints the command's usage to stdout and
// returns flag.ErrHelp; any other mistake is a usageError.
func parseArgs(fl *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	if wantsHelp(args) {
		fl.SetOutput(stdout)
		fl.Usage()
		return nil, flag.ErrHelp
	}
	fl.SetOutput(io.Discard) // the caller reports a mistake in one line
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, usageError{err.Error()}
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
