package main

// The examples for unattended use (testdata/mailfs@.service and
// testdata/mailfs-sync.cron) run through mailfs's own parser, so that a
// renamed flag or command breaks this test, not a user's backup.

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unattendedHome is a home folder with a config file whose one account
// cannot be reached, and mailfs at ~/go/bin/mailfs.
func unattendedHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	cfgDir := filepath.Join(home, ".config", "mailfs")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	config := `cache_dir = "~/.cache/mailfs"

[[account]]
name = "down"
server = "127.0.0.1:1"
tls = "none"
user = "nobody"
password_cmd = "echo x"
`
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(home, "go", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "mailfs")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	return home
}

// unitCommands returns the Exec* lines of a unit file, by key.
func unitCommands(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.HasPrefix(key, "Exec") {
			out[key] = append(out[key], value)
		}
	}
	return out
}

// mailfsArgs turns a command line of the examples into run's arguments:
// replacements made, the "-" prefix of systemd (ignore failure) dropped,
// and the program checked to be ~/go/bin/mailfs.
func mailfsArgs(t *testing.T, line string, repl *strings.Replacer) (args []string, mayFail bool) {
	t.Helper()
	line, mayFail = strings.CutPrefix(line, "-")
	words := strings.Fields(repl.Replace(line))
	if len(words) == 0 || words[0] != filepath.Join(os.Getenv("HOME"), "go", "bin", "mailfs") {
		t.Fatalf("%q does not run ~/go/bin/mailfs", line)
	}
	for _, w := range words {
		if strings.ContainsAny(w, `'"\$%`) {
			t.Fatalf("%q: word %q needs a shell or systemd to expand it; this test cannot check it", line, w)
		}
	}
	return words[1:], mayFail
}

// TestSystemdUnit runs the unit's command lines, as systemd would for
// mailfs@mail.service: the mount must get as far as logging in (which
// fails: the account is down), and umount must say nothing is mounted.
func TestSystemdUnit(t *testing.T) {
	unit := filepath.Join("testdata", "mailfs@.service")
	home := unattendedHome(t)
	repl := strings.NewReplacer("%h", home, "%i", "mail")
	cmds := unitCommands(t, unit)
	if len(cmds["ExecStart"]) != 1 || len(cmds["ExecStop"]) != 1 {
		t.Fatalf("want one ExecStart and one ExecStop, got %v", cmds)
	}
	mountpoint := filepath.Join(home, "mail")

	for _, line := range cmds["ExecStartPre"] {
		if strings.HasPrefix(line, "mkdir ") {
			words := strings.Fields(repl.Replace(line))
			if out, err := exec.Command(words[0], words[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v %s", line, err, out)
			}
			continue
		}
		args, mayFail := mailfsArgs(t, line, repl)
		code, _, stderr := runCLI(args...)
		if code == 2 || (code != 0 && !mayFail) {
			t.Errorf("ExecStartPre=%s: exit %d\n%s", line, code, stderr)
		}
	}
	if fi, err := os.Stat(mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("ExecStartPre did not make the mountpoint: %v", err)
	}

	args, _ := mailfsArgs(t, cmds["ExecStart"][0], repl)
	if args[0] != "mount" || args[len(args)-1] != mountpoint {
		t.Errorf("ExecStart=%s: want mailfs mount ... %s", cmds["ExecStart"][0], mountpoint)
	}
	code, _, stderr := runCLI(args...)
	if code != 1 || strings.Contains(stderr, "--help") {
		t.Errorf("ExecStart: exit %d, want 1 (the account is down), not a usage error:\n%s", code, stderr)
	}
	if _, err := os.Stat("/dev/fuse"); err == nil && !strings.Contains(stderr, "connection refused") {
		t.Errorf("ExecStart did not get as far as logging in:\n%s", stderr)
	}

	args, _ = mailfsArgs(t, cmds["ExecStop"][0], repl)
	code, _, stderr = runCLI(args...)
	if code != 1 || stderr != "mailfs: "+mountpoint+" is not mounted\n" {
		t.Errorf("ExecStop: exit %d, %q", code, stderr)
	}
}

// TestSystemdUnitVerifies asks systemd-analyze about the unit, where it
// is installed.
func TestSystemdUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	home := unattendedHome(t)
	text, err := os.ReadFile(filepath.Join("testdata", "mailfs@.service"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "mailfs@mail.service")
	if err := os.WriteFile(unit, text, 0o644); err != nil {
		t.Fatal(err)
	}
	runtime := filepath.Join(dir, "run")
	os.Mkdir(runtime, 0o700)
	cmd := exec.Command("systemd-analyze", "--user", "verify", unit)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+runtime)
	out, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(out, []byte("Failed to initialize manager")) {
		t.Skipf("systemd-analyze --user cannot run here: %s", out)
	}
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze --user verify: %v\n%s", err, out)
	}
}

// TestCronLine runs the crontab example's command as cron's sh would: it
// must sync (and fail: the account is down) with a summary, not stumble
// on its command line.
func TestCronLine(t *testing.T) {
	home := unattendedHome(t)
	f, err := os.Open(filepath.Join("testdata", "mailfs-sync.cron"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one crontab line, got %q", lines)
	}
	fields := strings.Fields(lines[0])
	if len(fields) < 6 {
		t.Fatalf("%q: want five time fields and a command", lines[0])
	}
	for _, f := range fields[:5] {
		if strings.Trim(f, "0123456789*/,-") != "" {
			t.Errorf("time field %q", f)
		}
	}
	command := strings.Join(fields[5:], " ")
	args, _ := mailfsArgs(t, command, strings.NewReplacer("$HOME", home))
	if args[0] != "sync" {
		t.Errorf("%q is not mailfs sync", command)
	}
	code, stdout, stderr := runCLI(args...)
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, want 1 (the account is down); stdout %q", code, stdout)
	}
	want := "mailfs: sync failed for 1 of 1 account:\nmailfs:   account \"down\": "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "connection refused") {
		t.Errorf("no summary naming the account:\n%s", stderr)
	}
	if strings.Contains(stderr, "level=INFO") {
		t.Errorf("with --log-level warn, info records:\n%s", stderr)
	}
}
