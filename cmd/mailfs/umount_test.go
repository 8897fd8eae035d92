package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/fs/mountinfo"
	"mailfs/imapsrc/dovecottest/syncbuf"
)

// demoMount starts 'mailfs mount --demo' on a fresh directory and waits
// for the mount; it returns the directory and the process's exit.
func demoMount(t *testing.T) (string, chan error, *syncbuf.Buffer) {
	t.Helper()
	needFUSE(t)
	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--demo", dir)
	logs, done := start(t, cmd)
	t.Cleanup(func() {
		if mountinfo.IsMounted(dir) {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
		}
		cmd.Process.Kill()
	})
	waitFor(t, "the demo mount", func() bool { return mountinfo.IsMounted(dir) })
	return dir, done, logs
}

// TestUmount unmounts a real mount with 'mailfs umount': refused while a
// file is open, then done, after which the mount process exits with 0.
func TestUmount(t *testing.T) {
	dir, done, logs := demoMount(t)

	busy, err := os.Open(filepath.Join(dir, "INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("umount", dir)
	busy.Close()
	if code != 1 || !strings.Contains(stderr, "busy") || !strings.Contains(stderr, "--lazy") {
		t.Errorf("umount with an open file: exit %d, want 1 and a hint at --lazy\n%s", code, stderr)
	}
	if !mountinfo.IsMounted(dir) {
		t.Fatal("unmounted although a file was open")
	}

	code, stdout, stderr := runCLI("umount", dir)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("umount: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if mountinfo.IsMounted(dir) {
		t.Error("still mounted")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mailfs mount exit after umount: %v\n%s", err, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mailfs mount still running after umount")
	}

	code, _, stderr = runCLI("umount", dir)
	if code != 1 || stderr != "mailfs: "+dir+" is not mounted\n" {
		t.Errorf("second umount: exit %d, %q", code, stderr)
	}
}

// TestUmountLazy detaches a mount with an open file at once.
func TestUmountLazy(t *testing.T) {
	dir, done, logs := demoMount(t)
	busy, err := os.Open(filepath.Join(dir, "INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// A relative path, as typed in a shell.
	t.Chdir(filepath.Dir(dir))
	if code, _, stderr := runCLI("umount", "--lazy", filepath.Base(dir)); code != 0 {
		t.Fatalf("umount --lazy: exit %d\n%s", code, stderr)
	}
	if mountinfo.IsMounted(dir) {
		t.Error("still mounted after umount --lazy")
	}
	busy.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mailfs mount exit: %v\n%s", err, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mailfs mount still running after the last file was closed")
	}
}

// TestUmountRefusesOtherMounts: a mount that is not mailfs's is left alone.
func TestUmountRefusesOtherMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "mailfs-test", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	code, _, stderr := runCLI("umount", dir)
	if code != 1 || !strings.Contains(stderr, "is not a mailfs mount (it is tmpfs") {
		t.Errorf("exit %d, %q", code, stderr)
	}
	if !mountinfo.IsMounted(dir) {
		t.Error("mailfs umount unmounted a tmpfs")
	}
}
