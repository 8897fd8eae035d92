package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sha256sumC runs sha256sum -c SHA256SUMS in dir.
func sha256sumC(t *testing.T, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// With --formats eml,sums a backup made with rsync -a checks itself with
// sha256sum -c in each folder, and a byte changed in the copy is found;
// ls -l shows the checksum file without downloading a body.
func TestSumsFileChecksABackup(t *testing.T) {
	srv := seed(t)
	m := mount(t, srv, t.TempDir(), "--formats", "eml,sums", "--poll", "1h")
	out, err := exec.Command("ls", "-l", filepath.Join(m.dir, "INBOX")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), " SHA256SUMS\n") {
		t.Fatalf("ls -l: %v\n%s", err, out)
	}
	if n := bodyFetches(t, srv); n != 0 {
		t.Errorf("ls -l downloaded %d bodies", n)
	}

	backup := t.TempDir()
	rsync(t, m.dir+"/", backup+"/")
	sums, _ := filepath.Glob(filepath.Join(backup, "*", "SHA256SUMS"))
	if len(sums) < 2 {
		t.Fatalf("checksum files in the backup: %q", sums)
	}
	for _, s := range sums {
		dir := filepath.Dir(s)
		out, err := sha256sumC(t, dir)
		if err != nil {
			t.Fatalf("%s: sha256sum -c: %v\n%s", dir, err, out)
		}
		emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		if ok := strings.Count(out, ": OK\n"); ok != len(emls) || len(emls) == 0 {
			t.Errorf("%s: %d files checked, the folder holds %d:\n%s", dir, ok, len(emls), out)
		}
	}

	inbox := filepath.Join(backup, "INBOX")
	emls, _ := filepath.Glob(filepath.Join(inbox, "*.eml"))
	victim := emls[len(emls)/2]
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(victim, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out2, err := sha256sumC(t, inbox)
	if err == nil {
		t.Fatalf("sha256sum -c passed after a byte was changed:\n%s", out2)
	}
	if want := filepath.Base(victim) + ": FAILED\n"; !strings.Contains(out2, want) || strings.Count(out2, ": FAILED\n") != 1 {
		t.Errorf("sha256sum -c does not name just %q:\n%s", want, out2)
	}

	// Nothing is downloaded again for a second look (bodies and hashes are
	// cached), and the file is the same.
	before := bodyFetches(t, srv)
	again, err := os.ReadFile(filepath.Join(m.dir, "INBOX", "SHA256SUMS"))
	copied, _ := os.ReadFile(filepath.Join(inbox, "SHA256SUMS"))
	if err != nil || !bytes.Equal(again, copied) || bodyFetches(t, srv) != before {
		t.Errorf("second read: %v, same bytes %v, %d more fetches", err, bytes.Equal(again, copied), bodyFetches(t, srv)-before)
	}
}
