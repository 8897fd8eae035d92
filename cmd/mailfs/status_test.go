package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc/sample"
)

// statusMatches reports what in r differs from the sample mailbox: every
// folder with its message count and a last sync after since.
func statusMatches(r cache.StatusReport, since time.Time, errorsOK bool) string {
	want := map[string]uint32{}
	for _, f := range sample.Folders() {
		want[f] = 0
	}
	for _, m := range sample.Messages() {
		want[m.Folder]++
	}
	since = since.Truncate(time.Second)
	var bad []string
	seen := map[string]bool{}
	for _, f := range r.Folders {
		seen[f.Name] = true
		n, ok := want[f.Name]
		switch {
		case !ok:
			bad = append(bad, "unexpected folder "+f.Name)
		case f.ServerMessages != n:
			bad = append(bad, f.Name+": wrong count")
		case f.LastSync == nil || f.LastSync.Before(since) || f.LastSync.After(time.Now()):
			bad = append(bad, f.Name+": no recent last_sync")
		case f.LastError != "" && !errorsOK:
			bad = append(bad, f.Name+": error "+f.LastError)
		}
	}
	for name := range want {
		if !seen[name] {
			bad = append(bad, "missing "+name)
		}
	}
	if r.LastSync == nil || r.LastSync.Before(since) {
		bad = append(bad, "no recent account last_sync")
	}
	return strings.Join(bad, "; ")
}

// The mount's .status tells every folder's counts and its last sync,
// counts a body once it is read, and reports an outage; after the
// unmount, mailfs status --json reads the same from the cache alone,
// without a password.
func TestStatusFileAndCommand(t *testing.T) {
	srv := seed(t)
	cacheDir := t.TempDir()
	start := time.Now()
	m := mount(t, srv, cacheDir)
	statusFile := filepath.Join(m.dir, cache.StatusName)

	read := func() cache.StatusReport {
		t.Helper()
		b, err := os.ReadFile(statusFile)
		if err != nil {
			t.Fatalf("read .status: %v\n%s", err, m.logs)
		}
		var r cache.StatusReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, b)
		}
		return r
	}
	var r cache.StatusReport
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = read()
		if statusMatches(r, start, false) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf(".status after the first sync: %s\n%+v", statusMatches(r, start, false), r)
		}
	}
	if fi, err := os.Stat(statusFile); err != nil || fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("stat .status: %v %v, want a read-only file", fi, err)
	}
	if err := os.WriteFile(statusFile, []byte("x"), 0o644); err == nil {
		t.Error("writing .status succeeded")
	}

	emls, _ := filepath.Glob(filepath.Join(m.dir, "INBOX", "*.eml"))
	if len(emls) == 0 {
		t.Fatal("no INBOX messages")
	}
	body, err := os.ReadFile(emls[0])
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // statusFresh: a newer version is made
	for _, f := range read().Folders {
		if f.Name == "INBOX" && (f.CachedMessages < 1 || f.CachedBytes < int64(len(body)) || f.CachedBytes > f.ServerBytes) {
			b, _ := os.ReadFile(statusFile)
			t.Errorf("INBOX after a read: %+v, want at least one body cached\n%s", f, b)
		}
	}

	// An outage: the next poll fails, and .status says so, with the
	// last successful sync kept.
	srv.Stop()
	down := time.Now()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r = read()
		failed := r.LastErrorAt != nil && !r.LastErrorAt.Before(down.Truncate(time.Second))
		for _, f := range r.Folders {
			failed = failed || f.LastErrorAt != nil && !f.LastErrorAt.Before(down.Truncate(time.Second))
		}
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error in .status after the server stopped: %+v", r)
		}
	}
	if r.LastSync == nil || r.LastSync.After(down) {
		t.Errorf("last_sync %v after the outage at %v", r.LastSync, down)
	}
	m.stop(t)

	cmd := exec.Command(binary, "status", "--json", "--server", srv.Addr, "--tls", "starttls", "--user", srv.User, "--cache", cacheDir)
	cmd.Env = os.Environ() // no MAILFS_PASSWORD: nothing logs in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mailfs status --json: %v\n%s", err, out)
	}
	t.Logf("mailfs status --json:\n%s", out)
	var byAcct map[string]cache.StatusReport
	if err := json.Unmarshal(out, &byAcct); err != nil || len(byAcct) != 1 {
		t.Fatalf("mailfs status --json: %v, %d accounts\n%s", err, len(byAcct), out)
	}
	for name, r := range byAcct {
		if !strings.HasPrefix(name, srv.User+"@") {
			t.Errorf("account named %q", name)
		}
		if bad := statusMatches(r, start, true); bad != "" {
			t.Errorf("mailfs status --json: %s\n%s", bad, out)
		}
		if !strings.Contains(string(out), `"last_error": `) {
			t.Errorf("mailfs status --json: the outage's error is not kept\n%s", out)
		}
		for _, f := range r.Folders {
			if f.Name == "INBOX" && f.CachedMessages < 1 {
				t.Errorf("mailfs status: INBOX %+v, want the body read through the mount", f)
			}
		}
	}

	cmd = exec.Command(binary, "status", "--server", srv.Addr, "--tls", "starttls", "--user", srv.User, "--cache", cacheDir)
	cmd.Env = os.Environ()
	text, err := cmd.CombinedOutput()
	t.Logf("mailfs status:\n%s", text)
	if err != nil || !strings.Contains(string(text), "  INBOX: ") || !strings.Contains(string(text), "last complete sync 20") {
		t.Errorf("mailfs status: %v\n%s", err, text)
	}
}
