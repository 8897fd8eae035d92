package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs mailfs with args and returns the exit code and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

const goodCSV = `name,user,provider,server,tls,password_cmd,password_file,oauth_token_cmd
personal,me@gmail.com,gmail,,,,,oama access me@gmail.com
work,me@example.com,office365,,,,,pizauth show work
home,me,,mail.home.example:143,starttls,pass show mail/home,,
`

// TestAccountsImportCLI: what 'mailfs accounts import' prints; the import
// itself is tested in package account.
func TestAccountsImportCLI(t *testing.T) {
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "accounts.csv", goodCSV, 0o644)
	cfgPath := filepath.Join(dir, "conf", "mailfs", "config.toml")

	code, out, errs := runCLI("accounts", "import", "--config", cfgPath, csvPath)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if want := "added 3 accounts to " + cfgPath + ": personal, work, home\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	code, out, errs = runCLI("accounts", "import", "--replace", "--config", cfgPath, csvPath)
	if want := "replaced 3 accounts in " + cfgPath + ": personal, work, home\n"; code != 0 || out != want {
		t.Errorf("--replace: exit %d, stdout %q, want %q; stderr:\n%s", code, out, want, errs)
	}
	bad := writeFile(t, dir, "bad.csv", goodCSV+"nouser,,gmail,,,pass x,,\n", 0o644)
	code, out, errs = runCLI("accounts", "import", "--config", cfgPath, bad)
	if code != 1 || out != "" || !strings.Contains(errs, "mailfs: "+bad+`:5: account "nouser": user: missing`) ||
		!strings.HasSuffix(errs, "\nmailfs: 4 of 4 rows are bad; nothing was written\n") {
		t.Errorf("bad rows: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
}

func TestCLIHelpAndErrors(t *testing.T) {
	tests := []struct {
		args      []string
		code      int
		out, errs string // substrings
	}{
		{[]string{"--help"}, 0, "mailfs accounts import accounts.csv", ""},
		{[]string{"providers"}, 0, "outlook.office365.com", ""},
		{[]string{"providers", "Office365"}, 0, "Outlook.com / Microsoft 365", ""},
		{[]string{"providers", "--help"}, 0, "Examples:", ""},
		{[]string{"providers", "nosuch"}, 2, "", "mailfs: unknown provider \"nosuch\""},
		{[]string{"providers", "a", "b"}, 2, "", "Run 'mailfs providers --help' for usage."},
		{[]string{"accounts"}, 2, "", "mailfs: want a subcommand"},
		{[]string{"accounts", "--help"}, 0, "Examples:", ""},
		{[]string{"accounts", "import", "-h"}, 0, "oauth_token_cmd", ""},
		{[]string{"accounts", "export"}, 2, "", `unknown subcommand "export"`},
		{[]string{"accounts", "import"}, 2, "", "want exactly one ACCOUNTS.csv"},
		{[]string{"accounts", "import", "--bogus", "x.csv"}, 2, "", "mailfs: unknown flag --bogus"},
		{[]string{"accounts", "import", "--config", "/nonexistent/c.toml", "/nonexistent/x.csv"}, 1, "", "mailfs: accounts file: open /nonexistent/x.csv"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errs) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", code, out, errs, tt.code, tt.out, tt.errs)
			}
		})
	}
}
