package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	code, stdout, stderr := runCLI("completion", shell)
	if code != 0 || stderr != "" {
		t.Fatalf("completion %s: exit %d\n%s", shell, code, stderr)
	}
	return stdout
}

// TestCompletionScriptsCoverEverything: each script names every command
// and every flag of each command.
func TestCompletionScriptsCoverEverything(t *testing.T) {
	for _, shell := range shells {
		script := completionScript(t, shell)
		for _, c := range commands {
			if !strings.Contains(script, lastWord(c.path)) {
				t.Errorf("%s: command %q missing", shell, c.path)
			}
			for _, f := range commandFlags(c.path) {
				var want string
				switch shell {
				case "fish":
					want = "-l " + f.name + " "
				case "zsh":
					want = "'--" + f.name
				case "bash":
					want = "--" + f.name + " "
				}
				if !strings.Contains(script, want) {
					t.Errorf("%s: flag --%s of %s missing (want %q)", shell, f.name, c.path, want)
				}
			}
		}
	}
}

// TestCompletionSyntax checks each script with its shell's parser (each
// shell is required in CI).
func TestCompletionSyntax(t *testing.T) {
	for shell, args := range map[string][]string{"bash": {"-n"}, "zsh": {"-n"}, "fish": {"--no-execute"}} {
		t.Run(shell, func(t *testing.T) {
			needTool(t, shell)
			file := filepath.Join(t.TempDir(), "mailfs."+shell)
			if err := os.WriteFile(file, []byte(completionScript(t, shell)), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(shell, append(args, file)...).CombinedOutput(); err != nil {
				t.Errorf("%s %v: %v\n%s", shell, args, err, out)
			}
		})
	}
}

// TestBashCompletes runs the bash function as bash would on a TAB.
func TestBashCompletes(t *testing.T) {
	needTool(t, "bash")
	dir := t.TempDir()
	script := filepath.Join(dir, "mailfs.bash")
	if err := os.WriteFile(script, []byte(completionScript(t, "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cfgdir", "cache"} {
		os.Mkdir(filepath.Join(dir, sub), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "config.toml"), nil, 0o644)
	complete := func(line string) []string {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_mailfs\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		return got
	}
	cases := []struct {
		line string
		want []string
	}{
		{"mailfs ", slices.Sorted(slices.Values(append(topCommands(), "--help", "--version")))},
		{"mailfs sy", []string{"sync"}},
		{"mailfs mount --tl", []string{"--tls", "--tls-ca"}},
		{"mailfs mount --tls ", []string{"implicit", "none", "starttls"}},
		{"mailfs sync --log-level d", []string{"debug"}},
		{"mailfs sync --provider gm", []string{"gmail", "gmx"}},
		{"mailfs sync --wo", []string{"--workers"}},
		{"mailfs mount --config co", []string{"config.toml"}},
		{"mailfs mount --cache ca", []string{"cache"}},
		{"mailfs mount --server ", nil},
		{"mailfs mount --demo c", []string{"cache", "cfgdir"}},
		{"mailfs umount --l", []string{"--lazy"}},
		{"mailfs accounts ", []string{"import"}},
		{"mailfs accounts import --r", []string{"--replace"}},
		{"mailfs completion ", []string{"bash", "fish", "zsh"}},
		{"mailfs help um", []string{"umount"}},
	}
	for _, c := range cases {
		if got := complete(c.line); !slices.Equal(got, c.want) {
			t.Errorf("%q completes to %q, want %q", c.line, got, c.want)
		}
	}
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
		"mailfs completion ":        {"bash", "fish", "zsh"},
	} {
		out, err := exec.Command("fish", "-c", "source "+script+"; complete -C '"+line+"'").CombinedOutput()
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
