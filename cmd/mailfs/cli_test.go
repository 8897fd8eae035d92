package main

// CLI script tests: run's exit codes and output for --help of every
// command and for mistakes in the command line, without a server
// (runCLI is in accounts_test.go).

import (
	"os"
	"os/exec"
	"path/filepath"
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
		{"sync", "--help"}, {"verify", "--help"}, {"status", "--help"}, {"export", "--help"}, {"umount", "--help"}, {"accounts", "--help"},
		{"accounts", "import", "--help"}, {"providers", "--help"},
		{"completion", "--help"}, {"version", "--help"},
		{"help", "mount"}, {"help", "sync"}, {"help", "help"},
	}
	for _, top := range commandNames(newRootCmd(nil, nil, nil)) {
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
	for _, c := range commandNames(newRootCmd(nil, nil, nil)) {
		if !regexp.MustCompile(`(?m)^  ` + c + ` +\S`).MatchString(stdout) {
			t.Errorf("usage does not list the command %s", c)
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
		{[]string{"sync", "--workers", "x"}, `invalid value "x" for --workers`},
		{[]string{"mount", "-server", "h", "/x"}, "unknown flag -server (long flags take two dashes: --server)"},
		{[]string{"mount", "--demo", "--conns", "0", "/x"}, "--conns 0 is out of range (1 to 64)"},
		{[]string{"sync", "--demo", "--conns", "0"}, "--conns 0 is out of range"},
		{[]string{"mount", "--demo", "--umask", "999", "/x"}, "--umask 999: want an octal mask"},
		{[]string{"mount", "--demo", "-o", "bogus", "/x"}, `unknown mount option "bogus"`},
		{[]string{"mount", "--demo", "-o", "allow_othr", "/x"}, `unknown mount option "allow_othr" (did you mean "allow_other"?)`},
		{[]string{"mount", "--demo", "-o", "uid", "/x"}, "mount option uid needs a value"},
		{[]string{"sync", "--workers", "-1"}, "--workers -1 is out of range"},
		{[]string{"sync", "/home/me/mail"}, `sync takes no arguments, got "/home/me/mail"`},
		{[]string{"sync", "--demo", "--log-level", "loud"}, `unknown log level "loud"`},
		{[]string{"mount", "--demo", "--allow-delete", "/tmp/x"}, "--allow-delete needs --read-write"},
		{[]string{"umount"}, "want exactly one MOUNTPOINT, got 0 arguments"},
		{[]string{"umount", "--force", "/x"}, "unknown flag --force"},
		{[]string{"completion"}, "want one shell (bash, zsh, fish, powershell), got 0 arguments"},
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
			if !regexp.MustCompile(`^Run 'mailfs ([a-z]+ )*--help' for usage\.$`).MatchString(lines[1]) {
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
		if code != 0 || stdout != "mailfs "+versionString()+"\n" {
			t.Errorf("%v: exit %d, %q", args, code, stdout)
		}
	}
}

// TestVersionFromBuildInfo builds mailfs in this git checkout with VCS
// stamping and wants the revision in 'mailfs version'.
func TestVersionFromBuildInfo(t *testing.T) {
	needTool(t, "git")
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mailfs")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	if info, _ := exec.Command("go", "version", "-m", bin).Output(); !strings.Contains(string(info), "vcs.revision=") {
		// Go finds no repository in a git worktree (.git is a file there).
		if os.Getenv("CI") == "true" {
			t.Fatalf("go build recorded no VCS revision:\n%s", info)
		}
		t.Skip("go build records no VCS revision in this checkout")
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatal(err)
		}
		// Go stamps "(devel)" and the revision, or (Go 1.24 and later, in
		// a clean checkout) a pseudo-version that ends in the revision.
		if rev := string(head[:12]); !strings.HasPrefix(string(out), "mailfs ") || !strings.Contains(string(out), rev) {
			t.Errorf("%v: %q, want the name and the revision %s", args, out, rev)
		}
	}
}

// TestCommandFlags: the commands have the flags the docs name.
func TestCommandFlags(t *testing.T) {
	want := map[string][]string{
		"mount":           {"config", "account", "server", "provider", "tls", "user", "password-cmd", "cache", "formats", "poll", "log-level", "demo", "allow-other", "uid", "gid", "umask", "options", "daemon", "log-file"},
		"sync":            {"config", "account", "server", "provider", "tls", "user", "password-cmd", "cache", "workers", "verify", "log-level"},
		"status":          {"config", "account", "server", "provider", "user", "cache", "json"},
		"umount":          {"lazy"},
		"accounts import": {"config", "replace"},
	}
	root := newRootCmd(nil, nil, nil)
	for path, names := range want {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil || c.CommandPath() != "mailfs "+path {
			t.Fatalf("%s: %v", path, err)
		}
		for _, n := range names {
			if c.Flags().Lookup(n) == nil {
				t.Errorf("%s: no flag --%s", path, n)
			}
		}
	}
}
