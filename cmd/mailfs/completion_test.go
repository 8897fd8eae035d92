package main

// Completion: cobra writes the scripts; these tests run them in the real
// shells (each required in CI), which call the mailfs binary for the
// candidates, and check the Go callbacks through 'mailfs __complete'.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mailfs/cmd/mailfs/internal/account"

	"github.com/spf13/pflag"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	code, stdout, stderr := runCLI("completion", shell)
	if code != 0 || stderr != "" {
		t.Fatalf("completion %s: exit %d\n%s", shell, code, stderr)
	}
	return stdout
}

// complete asks 'mailfs __complete' (what every script runs) for the
// candidates of the last word of args.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, stdout, stderr := runCLI(append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %q: exit %d\n%s", args, code, stderr)
	}
	var got []string
	for line := range strings.Lines(stdout) {
		w, _, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !strings.HasPrefix(w, ":") { // the directive
			got = append(got, w)
		}
	}
	slices.Sort(got)
	return got
}

// TestCompleteValues: the dynamic values, from Go.
func TestCompleteValues(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.toml", `[[account]]
name = "work"
server = "imap.example.com"
user = "me"
password_cmd = "echo x"

[[account]]
name = "home"
provider = "gmail"
user = "me@gmail.com"
password_cmd = "echo x"
`, 0o600)
	root := newRootCmd(nil, nil, nil)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{""}, append(commandNames(root), "help")},
		{[]string{"mount", "--tl"}, []string{"--tls", "--tls-ca"}},
		{[]string{"mount", "--tls", ""}, []string{"implicit", "none", "starttls"}},
		{[]string{"sync", "--log-level", ""}, account.LogLevels},
		{[]string{"mount", "--provider", "gm"}, []string{"gmail", "gmx"}},
		{[]string{"mount", "--config", cfg, "--account", ""}, []string{"home", "work"}},
		{[]string{"sync", "--config", cfg, "--account", ""}, []string{"home", "work"}},
		{[]string{"mount", "--formats", "eml,p"}, []string{"eml,pdf"}},
		{[]string{"mount", "--formats", "eml,"}, []string{"eml,docx", "eml,html", "eml,mbox", "eml,mht", "eml,msg", "eml,pdf", "eml,sums", "eml,txt"}},
		{[]string{"providers", "gm"}, []string{"gmail", "gmx"}},
		{[]string{"completion", ""}, shells},
		{[]string{"accounts", ""}, []string{"import"}},
		{[]string{"help", "um"}, []string{"umount"}},
		{[]string{"umount", "--l"}, []string{"--lazy"}},
	}
	for _, c := range cases {
		got := complete(t, c.args...)
		// cobra leaves the filtering by prefix to the shell for values
		got = slices.DeleteFunc(got, func(w string) bool { return !strings.HasPrefix(w, c.args[len(c.args)-1]) })
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%q completes to %q, want %q", c.args, got, want)
		}
	}
	// Where a path goes, the shell completes files or directories.
	for _, c := range []struct {
		args []string
		want string // the directive line
	}{
		{[]string{"mount", "--config", ""}, ":0"}, // the shell's own: files
		{[]string{"mount", "--log-file", ""}, ":0"},
		{[]string{"mount", "--cache", ""}, ":16"},  // directories
		{[]string{"mount", "--demo", ""}, ":16"},   // the mountpoint
		{[]string{"accounts", "import", ""}, ":8"}, // files with extension…
		{[]string{"mount", "--server", ""}, ":4"},  // nothing
	} {
		_, stdout, _ := runCLI(append([]string{"__complete"}, c.args...)...)
		if !strings.Contains(stdout, "\n"+c.want+"\n") && !strings.HasPrefix(stdout, c.want+"\n") {
			t.Errorf("%q: directive not %s:\n%s", c.args, c.want, stdout)
		}
	}
	if got := complete(t, "accounts", "import", ""); !slices.Equal(got, []string{"csv"}) {
		t.Errorf("accounts import: extensions %q, want csv", got)
	}

	// Every flag of every command is offered after "--".
	var walk func(path []string)
	walk = func(path []string) {
		c, _, _ := root.Find(path)
		got := complete(t, append(path, "--")...)
		for _, name := range []string{"help"} {
			if !slices.Contains(got, "--"+name) {
				t.Errorf("%v: no --%s in %q", path, name, got)
			}
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !slices.Contains(got, "--"+f.Name) {
				t.Errorf("mailfs %v: flag --%s not offered", strings.Join(path, " "), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(append(slices.Clone(path), sub.Name()))
			}
		}
	}
	walk(nil)
}

// TestCompletionSyntax checks each script with its shell's parser (bash,
// zsh and fish are required in CI; PowerShell is not in Debian and is
// checked where installed).
func TestCompletionSyntax(t *testing.T) {
	for shell, args := range map[string][]string{"bash": {"-n"}, "zsh": {"-n"}, "fish": {"--no-execute"}, "pwsh": {"-NoProfile", "-File"}} {
		t.Run(shell, func(t *testing.T) {
			name := shell
			if shell == "pwsh" {
				name = "powershell"
				if _, err := exec.LookPath("pwsh"); err != nil {
					script := completionScript(t, name)
					if !strings.Contains(script, "Register-ArgumentCompleter") {
						t.Errorf("no Register-ArgumentCompleter in the PowerShell script")
					}
					t.Skip("pwsh is not installed")
				}
			} else {
				needTool(t, shell)
			}
			file := filepath.Join(t.TempDir(), "mailfs."+shell)
			if shell == "pwsh" {
				file += ".ps1"
			}
			if err := os.WriteFile(file, []byte(completionScript(t, name)), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(shell, append(args, file)...).CombinedOutput(); err != nil {
				t.Errorf("%s %v: %v\n%s", shell, args, err, out)
			}
		})
	}
}

// shellEnv puts the test's mailfs binary first on PATH: the scripts run
// 'mailfs __complete'.
func shellEnv() []string {
	return append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
}

// completionCases are lines and what a TAB after them completes to, for
// the shells whose completion functions are run (bash, zsh).
var completionCases = []struct {
	line string
	want []string
}{
	{"mailfs sy", []string{"sync"}},
	{"mailfs mount --tl", []string{"--tls", "--tls-ca"}},
	{"mailfs mount --tls ", []string{"implicit", "none", "starttls"}},
	{"mailfs sync --log-level d", []string{"debug"}},
	{"mailfs sync --provider gm", []string{"gmail", "gmx"}},
	{"mailfs sync --wo", []string{"--workers"}},
	{"mailfs mount --cache ca", []string{"cache"}},
	{"mailfs mount --demo c", []string{"cache", "cfgdir"}},
	{"mailfs umount --l", []string{"--lazy"}},
	{"mailfs accounts ", []string{"import"}},
	{"mailfs accounts import --r", []string{"--replace"}},
	{"mailfs completion ", []string{"bash", "fish", "powershell", "zsh"}},
	{"mailfs help um", []string{"umount"}},
}

// checkCompletions checks every completion case with complete, which
// returns the sorted candidates a shell offers after a TAB at the end of
// line.
func checkCompletions(t *testing.T, complete func(line string) []string) {
	t.Helper()
	for _, c := range completionCases {
		if got := complete(c.line); !slices.Equal(got, c.want) {
			t.Errorf("%q completes to %q, want %q", c.line, got, c.want)
		}
	}
}

// TestBashCompletes runs the bash function as bash would on a TAB.
func TestBashCompletes(t *testing.T) {
	needTool(t, "bash")
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bash-completion is missing: CI must run this test")
		}
		t.Skip("bash-completion is missing")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "mailfs.bash")
	if err := os.WriteFile(script, []byte(completionScript(t, "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cfgdir", "cache"} {
		os.Mkdir(filepath.Join(dir, sub), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "config.toml"), nil, 0o644)
	completeBash := func(line string) []string {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + bashCompletion + "\nsource " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\nCOMP_LINE='" + line + "'\nCOMP_POINT=" + strconv.Itoa(len(line)) +
			"\nCOMP_TYPE=9\n__start_mailfs\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "-c", prog)
		cmd.Dir = dir
		cmd.Env = shellEnv()
		var errb strings.Builder
		cmd.Stderr = &errb // compopt complains outside a real TAB
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v\n%s%s", line, err, out, errb.String())
		}
		var got []string
		for l := range strings.Lines(string(out)) {
			if f := strings.Fields(l); len(f) > 0 {
				got = append(got, f[0])
			}
		}
		slices.Sort(got)
		return got
	}
	checkCompletions(t, completeBash)
}

// TestFishCompletes asks fish itself.
func TestFishCompletes(t *testing.T) {
	needTool(t, "fish")
	script := filepath.Join(t.TempDir(), "mailfs.fish")
	if err := os.WriteFile(script, []byte(completionScript(t, "fish")), 0o644); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string][]string{
		"mailfs mount --tl":         {"--tls", "--tls-ca"},
		"mailfs mount --tls ":       {"implicit", "none", "starttls"},
		"mailfs accounts ":          {"import"},
		"mailfs accounts import --": {"--config", "--help", "--replace"},
		"mailfs completion ":        {"bash", "fish", "powershell", "zsh"},
		"mailfs providers gm":       {"gmail", "gmx"},
	} {
		cmd := exec.Command("fish", "-c", "source "+script+"; complete -C '"+line+"'")
		cmd.Env = shellEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		var got []string
		for l := range strings.Lines(string(out)) {
			w, _, _ := strings.Cut(strings.TrimSpace(l), "\t")
			got = append(got, w)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}
