package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mailfs/imapsrc/sample"
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

// runVerify runs mailfs verify on srv's account with the cache in
// cacheDir; it returns stdout and stderr together and the exit status.
func runVerify(t *testing.T, srv *seeded, cacheDir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"verify", "--server", srv.Addr, "--tls", "starttls", "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", cacheDir}, args...)...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("mailfs verify: %v\n%s", err, out)
	return "", 0
}

// mailfs verify passes on a cache mailfs sync just filled, and names a
// message whose cached body was changed on disk (its size and mtime
// kept, so only its bytes tell).
func TestVerifyFindsADamagedBody(t *testing.T) {
	srv := seed(t)
	cacheDir := t.TempDir()
	sync := exec.Command(binary, "sync", "--server", srv.Addr, "--tls", "starttls", "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", cacheDir)
	sync.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	if out, err := sync.CombinedOutput(); err != nil {
		t.Fatalf("mailfs sync: %v\n%s", err, out)
	}
	out, code := runVerify(t, srv, cacheDir, "--all")
	if code != 0 || strings.Contains(out, "DIFFERS") || !strings.Contains(out, "INBOX: ") {
		t.Fatalf("verify of a fresh cache: exit %d\n%s", code, out)
	}
	fetched := bodyFetches(t, srv)
	if out, code := runVerify(t, srv, cacheDir); code != 0 || bodyFetches(t, srv)-fetched > 10*len(sample.Folders()) {
		t.Fatalf("verify with a sample: exit %d, %d bodies downloaded\n%s", code, bodyFetches(t, srv)-fetched, out)
	}

	// Damage one body with a plain subject, which its file name shows.
	var victim, subject string
	paths, _ := filepath.Glob(filepath.Join(cacheDir, "bodies", "*", "*", "*.eml"))
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		if m := regexp.MustCompile(`(?m)^Subject: ([A-Za-z0-9 ]{4,40})\r?$`).FindSubmatch(b); m != nil {
			victim, subject = p, string(m[1])
			break
		}
	}
	if victim == "" {
		t.Fatalf("no cached body with a plain subject among %d", len(paths))
	}
	fi, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(victim)
	b[len(b)-3] ^= 1
	if err := os.WriteFile(victim, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(victim, fi.ModTime(), fi.ModTime())
	out, code = runVerify(t, srv, cacheDir, "--sample", "0")
	if code != 1 {
		t.Fatalf("verify after damage: exit %d, want 1\n%s", code, out)
	}
	re := regexp.MustCompile(`DIFFERS [^\n]*/[^\n/]*` + regexp.QuoteMeta(subject) + `[^\n/]*\.eml: cached body does not match its stored hash`)
	if !re.MatchString(out) || strings.Count(out, "DIFFERS") != 1 {
		t.Errorf("verify does not name just the message %q:\n%s", subject, out)
	}
}
