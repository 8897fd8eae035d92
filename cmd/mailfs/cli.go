package main

// The command tree, on github.com/spf13/cobra (what rclone, restic, gh
// and kubectl use): it parses --long flags, prints each command's help
// with its examples, suggests commands and flags for typos, and writes
// the shell completion scripts, whose dynamic values come from the Go
// callbacks in completion.go. What mailfs adds on top: every mistake in
// the command line is one line plus a pointer to the help, exit status 2
// (exitCode in main.go), and the mount.fuse3 helper form
// 'mailfs SOURCE MOUNTPOINT -o OPTIONS' (mountopts.go).

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"mailfs/cmd/mailfs/internal/account"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const rootLong = `mailfs mounts an IMAP mail account as a read-only directory of files:
every folder a directory, every message an exact .eml file.

Run 'mailfs COMMAND --help' for the flags of a command, e.g. 'mailfs mount
--help'; 'mailfs accounts import --help' for the CSV columns. The config
file is $XDG_CONFIG_HOME/mailfs/config.toml.

As a mount helper (mount -t fuse.mailfs, /etc/fstab), mount.fuse3 runs
'mailfs SOURCE MOUNTPOINT -o OPTIONS': see 'mailfs mount --help'.

Exit status:
  0  success
  1  failure: the reason is on stderr (for sync: a summary of what failed;
     also when a sync was interrupted; for verify: a difference found)
  2  a mistake in the command line (unknown command or flag, missing argument)`

const rootExamples = `  MAILFS_PASSWORD=secret mailfs mount --server imap.example.com --user me@example.com ~/mail
  mailfs mount --server imap.example.com --user me --password-cmd 'pass show mail' ~/mail
  rsync -a ~/mail/ /backup/mail/
  mailfs umount ~/mail               (or Ctrl-C in the shell running mailfs)

  mailfs mount --demo /tmp/demo
  mailfs sync --config ~/.config/mailfs/config.toml     (e.g. from cron)
  mailfs accounts import accounts.csv
  mailfs providers
  source <(mailfs completion bash)`

// newRootCmd builds the command tree for one run; args are the whole
// command line (a --daemon mount starts itself again with them).
func newRootCmd(args []string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:     "mailfs",
		Short:   "mount an IMAP mail account as a directory of files",
		Long:    rootLong,
		Example: rootExamples,
		Version: versionString(),
		Args:    cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				c.SetOut(c.ErrOrStderr())
				c.Help()
				return errShown
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := account.Suggest(args[0], commandNames(c)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return usageError{msg}
		},
		SilenceErrors:     true, // exitCode reports them, in one line
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("mailfs {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd())
	root.AddCommand(
		newMountCmd(args),
		newSyncCmd(),
		newVerifyCmd(),
		newStatusCmd(),
		newExportCmd(),
		newUmountCmd(),
		newAccountsCmd(),
		newProvidersCmd(),
		newCompletionCmd(),
		newVersionCmd(),
	)
	return root
}

func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show the help of mailfs or of a command",
		Long:  "Shows the help of mailfs, or of COMMAND: the same as 'mailfs COMMAND --help'.",
		Example: `  mailfs help
  mailfs help mount
  mailfs help accounts import`,
		ValidArgsFunction: completeCommands,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usagef("no command %q (the commands: %s)", strings.Join(args, " "), strings.Join(commandNames(c.Root()), ", "))
			}
			return target.Help()
		},
	}
}

// commandNames are the names of the commands below c.
func commandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}

// invalidArgRE matches pflag's message for a value that does not parse.
var invalidArgRE = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[^"]+)" flag: (.*)$`)

// flagError turns pflag's messages into mailfs's one-line usage errors,
// with a suggestion for a mistyped flag.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			names = append(names, f.Name)
		}
	})
	unknown := func(flag string) string {
		msg := "unknown flag " + flag
		name := strings.TrimLeft(flag, "-")
		name, _, _ = strings.Cut(name, "=")
		switch {
		case c == c.Root():
			msg += " (flags go after the command: mailfs COMMAND [flags])"
		case !strings.HasPrefix(flag, "--") && c.Flags().Lookup(name) != nil:
			msg += fmt.Sprintf(" (long flags take two dashes: --%s)", name)
		case account.Suggest(name, names) != "":
			msg += fmt.Sprintf(" (did you mean --%s?)", account.Suggest(name, names))
		case len(names) == 0:
			msg += fmt.Sprintf(" ('%s' has no flags)", c.CommandPath())
		}
		return msg
	}
	switch {
	case strings.HasPrefix(msg, "unknown flag: "):
		msg = unknown(strings.TrimPrefix(msg, "unknown flag: "))
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// pflag: unknown shorthand flag: 's' in -server
		_, word, _ := strings.Cut(msg, " in ")
		msg = unknown(word)
	case strings.HasPrefix(msg, "flag needs an argument: "):
		flag := strings.TrimPrefix(msg, "flag needs an argument: ")
		if f := strings.Trim(flag, "'"); len(f) == 1 && c.Flags().ShorthandLookup(f) != nil {
			flag = "-" + f
		}
		msg = fmt.Sprintf("flag %s needs a value", flag)
		if f := c.Flags().Lookup(strings.TrimLeft(flag, "-")); f != nil {
			if v, _ := pflag.UnquoteUsage(f); v != "" {
				msg += " (" + v + ")"
			}
		}
	default:
		if m := invalidArgRE.FindStringSubmatch(msg); m != nil {
			why := m[3]
			if i := strings.LastIndex(why, ": "); i >= 0 {
				why = why[i+2:] // strconv.ParseInt: parsing "x": invalid syntax
			}
			msg = fmt.Sprintf("invalid value %q for %s (%s)", m[1], m[2], why)
		}
	}
	return usageError{msg}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Long: `Prints the version of mailfs: the module version and the VCS revision it
was built from (from the build information Go records), or the version
set with -ldflags "-X main.version=...". The same as 'mailfs --version'.`,
		Example: `  mailfs version
  mailfs --version`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			fmt.Fprintf(c.OutOrStdout(), "mailfs %s\n", versionString())
			return nil
		},
	}
}

// noArgs refuses positional arguments with a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("'%s' takes no arguments, got %q", c.CommandPath(), args[0])
	}
	return nil
}
