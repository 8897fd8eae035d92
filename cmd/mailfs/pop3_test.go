package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/fs/mountinfo"
	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

// pop3Args are the account flags of srv's POP3 side (STLS).
func pop3Args(srv *dovecottest.Server, cacheDir string) []string {
	return []string{"--protocol", "pop3", "--server", srv.POP3Addr, "--tls", "starttls", "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", cacheDir}
}

func pop3Retrs(t *testing.T, srv *dovecottest.Server) (retr int) {
	for _, c := range srv.POP3Commands(t) {
		if strings.HasPrefix(strings.ToUpper(c), "DELE") {
			t.Errorf("DELE sent: %q", c)
		}
		if strings.HasPrefix(c, "RETR") {
			retr++
		}
	}
	return retr
}

func runPOP3(t *testing.T, srv *dovecottest.Server, password string, args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+password)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A POP3 maildrop synced twice (the second time downloads nothing), then
// mounted: INBOX holds one .eml per message, byte for byte what IMAP (and
// so RETR, see imapsrc/pop3) gives, dated by its Date: header, and nothing
// on the server was deleted.
func TestPOP3SyncAndMount(t *testing.T) {
	needFUSE(t)
	srv := dovecottest.StartWith(t, dovecottest.Options{POP3: true})
	var want [][]byte
	for _, m := range sample.Messages() {
		if m.Folder == "INBOX" {
			srv.Append(t, "INBOX", m.Raw, m.Date, m.Flags...)
		}
	}
	dots := "Subject: dots\r\nMessage-ID: <dots@example.org>\r\nDate: Tue, 3 Jan 2006 10:00:00 +0100\r\n\r\n.\r\n..\r\n.x\r\nend\r\n"
	srv.Append(t, "INBOX", []byte(dots), time.Now())
	count := func() int {
		return strings.Count(srv.Doveadm(t, "search", "-u", srv.User, "mailbox", "INBOX", "all"), "\n")
	}
	n := count()
	for uid := uint32(1); uid <= uint32(n); uid++ {
		want = append(want, srv.Fetch(t, "INBOX", uid))
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")

	out, err := runPOP3(t, srv, srv.Password, append([]string{"sync"}, pop3Args(srv, cacheDir)...)...)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	if r := pop3Retrs(t, srv); r != n {
		t.Errorf("first sync: %d RETRs for %d messages", r, n)
	}
	out, err = runPOP3(t, srv, srv.Password, append([]string{"sync"}, pop3Args(srv, cacheDir)...)...)
	if err != nil {
		t.Fatalf("second sync: %v\n%s", err, out)
	}
	if r := pop3Retrs(t, srv); r != n {
		t.Errorf("second sync downloaded again: %d RETRs in all for %d messages", r, n)
	}
	if !strings.Contains(out, "new=0") {
		t.Errorf("second sync should report nothing new:\n%s", out)
	}

	dir := t.TempDir()
	cmd := exec.Command(binary, append(append([]string{"mount"}, pop3Args(srv, cacheDir)...), "--poll", "1s", dir)...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	m := startMount(t, cmd, dir)
	entries, err := os.ReadDir(m.dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "INBOX" {
		t.Fatalf("mount root: %v, %v", entries, err)
	}
	files, _ := filepath.Glob(filepath.Join(m.dir, "INBOX", "*.eml"))
	if len(files) != n {
		t.Fatalf("%d .eml files for %d messages", len(files), n)
	}
	matched := map[int]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := -1
		for j, w := range want {
			if !matched[j] && bytes.Equal(b, w) {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("%s: %d bytes that no message on the server has", filepath.Base(f), len(b))
			continue
		}
		matched[i] = true
		if bytes.Contains(b, []byte("Subject: dots")) {
			fi, _ := os.Stat(f)
			if !fi.ModTime().Equal(time.Date(2006, 1, 3, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("%s: mtime %v, want its Date: header", filepath.Base(f), fi.ModTime().UTC())
			}
			if !strings.HasPrefix(filepath.Base(f), "2006-01-03") {
				t.Errorf("name %q does not start with the Date: header's day", filepath.Base(f))
			}
		}
	}
	if r := pop3Retrs(t, srv); r != n {
		t.Errorf("reading the mount after sync downloaded again: %d RETRs in all for %d messages", r, n)
	}
	if err := os.WriteFile(filepath.Join(m.dir, "INBOX", "new.eml"), []byte("Subject: x\r\n\r\nx\r\n"), 0o644); err == nil {
		t.Error("writing into a POP3 mount succeeded")
	}
	m.stop(t)
	if got := count(); got != n {
		t.Errorf("%d messages on the server after sync and mount, %d before", got, n)
	}
}

func TestPOP3Refusals(t *testing.T) {
	needFUSE(t)
	srv := dovecottest.StartWith(t, dovecottest.Options{POP3: true})
	dir := t.TempDir()
	out, err := runPOP3(t, srv, "wrong", append([]string{"mount"}, append(pop3Args(srv, t.TempDir()), dir)...)...)
	if mountinfo.IsMounted(dir) {
		t.Error("mounted despite the wrong password")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "login refused") || strings.Contains(out, "wrong") {
		t.Errorf("wrong password: want one line saying the login was refused, got %v:\n%s", err, out)
	}
	out, err = runPOP3(t, srv, srv.Password, append([]string{"mount", "--read-write"}, append(pop3Args(srv, t.TempDir()), t.TempDir())...)...)
	if err == nil || !strings.Contains(out, "POP3 accounts are read-only") {
		t.Errorf("--read-write: want a refusal, got %v:\n%s", err, out)
	}
	out, err = runPOP3(t, srv, srv.Password, "sync", "--protocol", "pop3", "--server", "pop.example.com", "--tls", "none", "--user", "u")
	if err == nil || !strings.Contains(out, "without TLS") {
		t.Errorf("--tls none off loopback: want a refusal, got %v:\n%s", err, out)
	}
}
