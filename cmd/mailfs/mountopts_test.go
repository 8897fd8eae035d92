package main

// The conventions of sshfs and rclone mount: -o options, --uid, --gid,
// --umask, --allow-other, --daemon, the mount.fuse3 helper form; and the
// messages that say what to do.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailfs/cmd/mailfs/internal/account"
	"mailfs/fs/mountinfo"
)

func TestPasswordSource(t *testing.T) {
	cases := []struct {
		envSet         bool
		env            string
		otherFlag, tty bool
		want           pwSource
	}{
		{true, "pw", false, true, fromEnv},
		{true, "", false, true, emptyEnv},
		{true, "", true, false, fromFlag},
		{false, "", true, true, fromFlag},
		{false, "", false, true, fromPrompt},
		{false, "", false, false, noPassword},
	}
	for _, c := range cases {
		if got := passwordSource(c.envSet, c.env, c.otherFlag, c.tty); got != c.want {
			t.Errorf("%+v: %v, want %v", c, got, c.want)
		}
	}
}

func TestCheckAllowOther(t *testing.T) {
	dir := t.TempDir()
	without := writeFile(t, dir, "without.conf", "# user_allow_other\nmount_max = 1000\n", 0o644)
	with := writeFile(t, dir, "with.conf", "#mount_max = 1000\n user_allow_other\n", 0o644)
	if err := checkAllowOther(1000, without); err == nil || !strings.Contains(err.Error(), "user_allow_other in "+without) {
		t.Errorf("without the line: %v", err)
	}
	if err := checkAllowOther(1000, filepath.Join(dir, "missing.conf")); err == nil {
		t.Error("without the file: no error")
	}
	if err := checkAllowOther(1000, with); err != nil {
		t.Errorf("with the line: %v", err)
	}
	if err := checkAllowOther(0, without); err != nil {
		t.Errorf("as root: %v", err)
	}
}

// TestCredentialMessages: mistakes with the credential of an account from
// flags are told in the words of the flags.
func TestCredentialMessages(t *testing.T) {
	t.Setenv(account.PasswordEnv, "")
	code, _, stderr := runCLI("sync", "--server", "127.0.0.1:1", "--tls", "none", "--user", "u")
	if code != 2 || !strings.Contains(stderr, "MAILFS_PASSWORD is set but empty") || strings.Contains(stderr, "password_env") || strings.Contains(stderr, `account "account"`) {
		t.Errorf("empty MAILFS_PASSWORD: exit %d\n%s", code, stderr)
	}
	os.Unsetenv(account.PasswordEnv)
	missing := filepath.Join(t.TempDir(), "nosuch")
	code, _, stderr = runCLI("sync", "--server", "127.0.0.1:1", "--tls", "none", "--user", "u", "--password-file", missing)
	if code != 1 || !strings.Contains(stderr, "--password-file: open "+missing) || strings.Contains(stderr, "password_file") {
		t.Errorf("unreadable --password-file: exit %d\n%s", code, stderr)
	}
	notDir := writeFile(t, t.TempDir(), "file", "", 0o600)
	code, _, stderr = runCLI("sync", "--demo", "--cache", notDir)
	if code != 1 || !strings.Contains(stderr, "--cache "+notDir+": ") {
		t.Errorf("unusable --cache: exit %d\n%s", code, stderr)
	}
}

// mountBinary starts the mailfs binary with args and waits for the
// mount at dir; the process is killed at the end of the test.
func mountBinary(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	needFUSE(t)
	cmd := exec.Command(binary, args...)
	start(t, cmd)
	t.Cleanup(func() {
		if mountinfo.IsMounted(dir) {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
		}
		cmd.Process.Kill()
	})
	waitFor(t, "the mount", func() bool { return mountinfo.IsMounted(dir) })
	return cmd
}

// TestDeadMount: a mount whose mailfs was killed is named as such, with
// mailfs umount as the way out, and mailfs umount clears it.
func TestDeadMount(t *testing.T) {
	dir := t.TempDir()
	cmd := mountBinary(t, dir, "mount", "--demo", dir)
	if got := complete(t, "umount", ""); !strings.Contains(strings.Join(got, "\n"), dir) {
		t.Errorf("umount completes to %q, not the mount %s", got, dir)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	waitFor(t, "a dead mount", func() bool {
		_, err := os.ReadDir(dir)
		return err != nil && strings.Contains(err.Error(), "not connected")
	})
	code, _, stderr := runCLI("mount", "--demo", dir)
	if code != 1 || !strings.Contains(stderr, "transport endpoint is not connected") || !strings.Contains(stderr, "mailfs umount "+dir) {
		t.Errorf("mount over a dead mount: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runCLI("umount", dir); code != 0 {
		t.Fatalf("umount of the dead mount: exit %d\n%s", code, stderr)
	}
	if mountinfo.IsMounted(dir) {
		t.Error("still mounted")
	}
}

// TestCacheInUse names the mailfs holding a cache.
func TestCacheInUse(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	cmd := mountBinary(t, dir, "mount", "--demo", "--cache", cache, dir)
	code, _, stderr := runCLI("sync", "--demo", "--cache", cache)
	want := "held by pid " + strconv.Itoa(cmd.Process.Pid) + " (" + binary + " mount --demo --cache " + cache
	if code != 1 || !strings.Contains(stderr, "in use by another mailfs") || !strings.Contains(stderr, want) {
		t.Errorf("sync of a cache in use: exit %d, want %q in\n%s", code, want, stderr)
	}
}

// modeOf is the permission bits and owner of path.
func modeOf(t *testing.T, path string) (os.FileMode, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid
}

// TestDaemonMountHelper runs mailfs the way mount.fuse3 does ('mailfs
// SOURCE MOUNTPOINT -o OPTIONS'): it returns once the mount serves, with
// the modes and owner the options ask for, warns about the options it
// ignores, and mailfs umount ends the server.
func TestDaemonMountHelper(t *testing.T) {
	needFUSE(t)
	dir := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "mailfs.log")
	cmd := exec.Command(binary, "demo", dir, "-o", "rw,nodev,nosuid,_netdev,noauto,user,uid=4321,gid=4322,umask=022,log_file="+logFile)
	t.Cleanup(func() {
		if mountinfo.IsMounted(dir) {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
		}
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mailfs demo DIR -o ...: %v\n%s", err, out)
	}
	if !mountinfo.IsMounted(dir) {
		t.Fatalf("returned without a mount:\n%s", out)
	}
	for _, opt := range []string{"rw", "nodev", "nosuid", "_netdev", "noauto", "user"} {
		if !strings.Contains(string(out), `ignoring mount option "`+opt+`"`) {
			t.Errorf("no warning about -o %s:\n%s", opt, out)
		}
	}
	if mode, uid := modeOf(t, filepath.Join(dir, "INBOX")); mode != 0o755 || uid != 4321 {
		t.Errorf("INBOX: mode %v uid %d, want 0755 and 4321", mode, uid)
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "INBOX", "*.eml"))
	if len(emls) == 0 {
		t.Fatal("no messages in INBOX")
	}
	if mode, _ := modeOf(t, emls[0]); mode != 0o644 {
		t.Errorf("%s: mode %v, want 0644", emls[0], mode)
	}
	if code, _, stderr := runCLI("umount", dir); code != 0 {
		t.Fatalf("umount: exit %d\n%s", code, stderr)
	}
	waitFor(t, "the server's last log line", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), `msg=unmounted`)
	})
}

// TestMountFuse3 mounts through the real mount.fuse3 helper, as an
// /etc/fstab line 'demo DIR fuse.mailfs umask=027 0 0' would.
func TestMountFuse3(t *testing.T) {
	needFUSE(t)
	needTool(t, "mount.fuse3")
	dir := t.TempDir()
	t.Cleanup(func() {
		if mountinfo.IsMounted(dir) {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
		}
	})
	cmd := exec.Command("mount.fuse3", "demo", dir, "-t", "fuse.mailfs", "-o", "umask=027,_netdev")
	cmd.Env = shellEnv() // mount.fuse3 finds mailfs on PATH
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount.fuse3: %v\n%s", err, out)
	}
	if !mountinfo.IsMounted(dir) {
		t.Fatal("mount.fuse3 returned without a mount")
	}
	if mode, _ := modeOf(t, filepath.Join(dir, "INBOX")); mode != 0o750 {
		t.Errorf("INBOX: mode %v, want 0750", mode)
	}
	if code, _, stderr := runCLI("umount", dir); code != 0 {
		t.Fatalf("umount: exit %d\n%s", code, stderr)
	}
}

// TestDaemonReportsFailure: a --daemon mount that cannot log in fails in
// the foreground with the server's message and status 1.
func TestDaemonReportsFailure(t *testing.T) {
	needFUSE(t)
	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--daemon", "--server", "127.0.0.1:1", "--tls", "none", "--user", "u", dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD=x")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "mailfs: ") || !strings.Contains(string(out), "connection refused") {
		t.Errorf("exit %v, want 1 with the reason:\n%s", err, out)
	}
	if time.Since(t0) > 30*time.Second || mountinfo.IsMounted(dir) {
		t.Error("the failed daemon left a mount or took long")
	}
}
