package main

// CLI script tests: run's exit codes and output for --help of every
// command and for mistakes in the command line, without a server
// (runCLI is in accounts_test.go).

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHelpOfEveryCommand: --help of each command succeeds, prints to
// stdout and has examples.
func TestHelpOfEveryCommand(t *testing.T) {
	cases := [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"mount", "--help"}, {"mount", "-h"}, {"mount", "--server", "x", "--help"},
		{"sync", "--help"}, {"umount", "--help"}, {"accounts", "--help"},
		{"accounts", "import", "--help"}, {"providers", "--help"},
		{"completion", "--help"}, {"version", "--help"},
		{"help", "mount"}, {"help", "sync"}, {"help", "help"},
	}
	for _, top := range topCommands() {
		if !slices.ContainsFunc(cases, func(c []string) bool { return c[0] == top && len(c) == 2 && c[1] == "--help" }) && top != "help" {
			t.Errorf("command %q has no --help case here", top)
		}
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(args...)
			if code != 0 {
				t.Errorf("exit %d, want 0\nstderr: %s", code, stderr)
			}
			if stderr != "" {
				t.Errorf("help went to stderr:\n%s", stderr)
			}
			if !strings.Contains(stdout, "\nExamples:\n") {
				t.Errorf("no Examples: section in\n%s", stdout)
			}
			if !strings.HasPrefix(stdout, "Usage: ") && !strings.Contains(stdout, "\nUsage:\n") {
				t.Errorf("no usage line in\n%s", stdout)
			}
		})
	}
}

// TestMainUsageDocumentsExitCodes: the exit codes are in --help.
func TestMainUsageDocumentsExitCodes(t *testing.T) {
	_, stdout, _ := runCLI("--help")
	for _, want := range []string{"Exit status:", "0  success", "1  failure", "2  a mistake in the command line"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for _, c := range topCommands() {
		if !strings.Contains(stdout, "mailfs "+c) {
			t.Errorf("usage does not mention 'mailfs %s'", c)
		}
	}
}

// TestUsageErrors: a mistake in the command line exits 2 with one line
// saying what is wrong and one pointing to the help.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string // in the first line
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"unmount", "/x"}, `unknown command "unmount" (did you mean "umount"?)`},
		{[]string{"--server", "x"}, "unknown flag --server (flags go after the command"},
		{[]string{"mount", "--bogus", "/x"}, "unknown flag --bogus"},
		{[]string{"mount", "--sever", "h", "/x"}, "unknown flag --sever (did you mean --server?)"},
		{[]string{"mount", "--server"}, "flag --server needs a value"},
		{[]string{"mount", "--demo"}, "want exactly one MOUNTPOINT, got 0 arguments"},
		{[]string{"mount", "--demo", "/a", "/b"}, "want exactly one MOUNTPOINT, got 2 arguments"},
		{[]string{"mount", "--demo", "--formats", "doc", "/x"}, `--formats: unknown format "doc"`},
		{[]string{"sync", "--bogus"}, "unknown flag --bogus"},
		{[]string{"sync", "--workers", "x"}, `invalid value "x" for flag -workers`},
		{[]string{"sync", "--workers", "-1"}, "--workers -1 is out of range"},
		{[]string{"sync", "/home/me/mail"}, `sync takes no arguments, got "/home/me/mail"`},
		{[]string{"sync", "--demo", "--log-level", "loud"}, `unknown log level "loud"`},
		{[]string{"mount", "--demo", "--allow-delete", "/tmp/x"}, "--allow-delete needs --read-write"},
		{[]string{"umount"}, "want exactly one MOUNTPOINT, got 0 arguments"},
		{[]string{"umount", "--force", "/x"}, "unknown flag --force"},
		{[]string{"completion"}, "want one shell (bash, zsh, fish), got 0 arguments"},
		{[]string{"completion", "tcsh"}, `no completion for "tcsh"`},
		{[]string{"providers", "--all"}, "unknown flag --all ('mailfs providers' has no flags)"},
		{[]string{"providers", "nosuch"}, `unknown provider "nosuch"`},
		{[]string{"accounts"}, "want a subcommand"},
		{[]string{"accounts", "import"}, "want exactly one ACCOUNTS.csv, got 0 arguments"},
		{[]string{"accounts", "import", "--replce", "a.csv"}, "unknown flag --replce (did you mean --replace?)"},
		{[]string{"help", "nosuch"}, `no command "nosuch"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %s", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("want an error line and a help line, got %d lines:\n%s", len(lines), stderr)
			}
			if !strings.HasPrefix(lines[0], "mailfs: ") || !strings.Contains(lines[0], c.want) {
				t.Errorf("error line %q, want it to start with mailfs: and say %q", lines[0], c.want)
			}
			if !regexp.MustCompile(`^Run 'mailfs ([a-z]+ )?--help' for usage\.$`).MatchString(lines[1]) {
				t.Errorf("help line %q", lines[1])
			}
		})
	}
}

// TestNoArguments prints the usage on stderr with status 2.
func TestNoArguments(t *testing.T) {
	code, stdout, stderr := runCLI()
	if code != 2 || stdout != "" || !strings.Contains(stderr, "Usage:") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, _ := runCLI(args...)
		if code != 0 || stdout != "mailfs "+version+"\n" {
			t.Errorf("%v: exit %d, %q", args, code, stdout)
		}
	}
}

// TestCommandFlags: the flags read from --help are the real ones.
func TestCommandFlags(t *testing.T) {
	want := map[string][]string{
		"mount":           {"config", "account", "server", "provider", "tls", "user", "password-cmd", "cache", "formats", "poll", "log-level", "demo"},
		"sync":            {"config", "account", "server", "provider", "tls", "user", "password-cmd", "cache", "workers", "verify", "log-level"},
		"umount":          {"lazy"},
		"accounts import": {"config", "replace"},
	}
	for path, names := range want {
		got := map[string]cliFlag{}
		for _, f := range commandFlags(path) {
			got[f.name] = f
		}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				t.Errorf("%s: no flag --%s in %v", path, n, got)
			}
		}
	}
	for _, path := range []string{"providers", "completion", "version", "help", "accounts"} {
		if fs := commandFlags(path); len(fs) != 0 {
			t.Errorf("%s: flags %v, want none", path, fs)
		}
	}
	mount := map[string]cliFlag{}
	for _, f := range commandFlags("mount") {
		mount[f.name] = f
	}
	if f := mount["config"]; f.value != "FILE" || !strings.HasPrefix(f.usage, "use the accounts of config FILE") {
		t.Errorf("--config: %+v", f)
	}
	if f := mount["demo"]; f.value != "" || f.usage == "" {
		t.Errorf("--demo: %+v", f)
	}
}

func TestParseDefaults(t *testing.T) {
	got := parseDefaults("Usage: x\n\nExamples:\n  -x is not a flag line\n\nFlags:\n  -a\tone-letter bool\n  -cache DIR\n    \tcache DIR (default x)\n  -demo\n    \tserve a demo\n    \tsecond line\n")
	want := []cliFlag{{"a", "", "one-letter bool"}, {"cache", "DIR", "cache DIR (default x)"}, {"demo", "", "serve a demo"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
