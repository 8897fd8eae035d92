package main

// End-to-end tests of writable mounts (--read-write): real tools writing
// into a mount of a private Dovecot.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

// stored is one message as the server holds it.
type stored struct {
	raw  []byte
	date time.Time
}

func (m stored) key() string { return m.date.UTC().Format(time.RFC3339) + "\n" + string(m.raw) }

// folderMessages returns a folder's messages (bytes and INTERNALDATE),
// sorted, read over a helper connection.
func folderMessages(t *testing.T, srv *dovecottest.Server, folder string) []stored {
	t.Helper()
	c := srv.Dial(t)
	data, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %q: %v", folder, err)
	}
	if data.NumMessages == 0 {
		return nil
	}
	var seq imap.SeqSet
	seq.AddRange(1, data.NumMessages)
	opts := &imap.FetchOptions{InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	msgs, err := c.Fetch(seq, opts).Collect()
	if err != nil {
		t.Fatalf("fetch %q: %v", folder, err)
	}
	var out []stored
	for _, m := range msgs {
		out = append(out, stored{raw: m.FindBodySection(&imap.FetchItemBodySection{Peek: true}), date: m.InternalDate})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// folderNames lists the server's folders.
func folderNames(t *testing.T, srv *dovecottest.Server) []string {
	t.Helper()
	list, err := srv.Dial(t).List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range list {
		out = append(out, l.Mailbox)
	}
	sort.Strings(out)
	return out
}

// appends counts the APPEND commands mailfs sent.
func appends(t *testing.T, srv *dovecottest.Server) int { return countCommands(t, srv, "APPEND ") }

// sameMessages fails unless both servers hold the same bytes with the same
// INTERNALDATEs in folder.
func sameMessages(t *testing.T, want, got *dovecottest.Server, folder string) {
	t.Helper()
	w, g := folderMessages(t, want, folder), folderMessages(t, got, folder)
	if len(w) != len(g) {
		t.Errorf("%q: %d messages, want %d", folder, len(g), len(w))
		return
	}
	for i := range w {
		if !bytes.Equal(w[i].raw, g[i].raw) || !w[i].date.Equal(g[i].date) {
			t.Errorf("%q: message %d differs: %d bytes dated %v, want %d bytes dated %v", folder, i, len(g[i].raw), g[i].date, len(w[i].raw), w[i].date)
		}
	}
}

// mountRW mounts an unseeded server read-write.
func mountRW(t *testing.T, srv *dovecottest.Server, cacheDir string, args ...string) *mounted {
	return mount(t, &seeded{Server: srv}, cacheDir, append([]string{"--read-write"}, args...)...)
}

// emlEntries lists the .eml files of dir.
func emlEntries(dir string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	out := entries[:0]
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") {
			out = append(out, e)
		}
	}
	return out, err
}

// mountShows waits until the mount shows an .eml file with raw's bytes
// in folder (a path inside the mount).
func mountShows(t *testing.T, dir string, raw []byte) {
	t.Helper()
	waitFor(t, "the message in "+dir, func() bool {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".eml") {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && bytes.Equal(b, raw) {
				return true
			}
		}
		return false
	})
}

// A backup made with rsync -a from a read-only mount is restored with
// rsync -a into a read-write mount of an empty account: same folders,
// bytes and INTERNALDATEs; the same rsync again appends nothing. The
// read-only default refuses writes.
func TestRestoreWithRsync(t *testing.T) {
	needTool(t, "rsync")
	src := seed(t)
	ro := mount(t, src, t.TempDir())
	backup := t.TempDir()
	rsync(t, ro.dir+"/", backup+"/")

	if err := os.WriteFile(filepath.Join(ro.dir, "INBOX", "new.eml"), []byte("Subject: x\r\n\r\nx\r\n"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write into a read-only mount: %v, want EROFS", err)
	}
	if err := os.Mkdir(filepath.Join(ro.dir, "New"), 0o755); !errors.Is(err, syscall.EROFS) {
		t.Errorf("mkdir in a read-only mount: %v, want EROFS", err)
	}

	dst := dovecottest.Start(t)
	rw := mountRW(t, dst, t.TempDir())
	rsync(t, backup+"/", rw.dir+"/")

	if got, want := folderNames(t, dst), folderNames(t, src.Server); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("folders after the restore %q, want %q", got, want)
	}
	for _, f := range sample.Folders() {
		sameMessages(t, src.Server, dst, f)
	}
	n := appends(t, dst)
	if want := len(sample.Messages()); n != want {
		t.Errorf("%d APPENDs, want %d", n, want)
	}

	rsync(t, backup+"/", rw.dir+"/")
	if again := appends(t, dst) - n; again != 0 {
		t.Errorf("the second rsync appended %d messages, want 0", again)
	}
	for _, f := range sample.Folders() {
		sameMessages(t, src.Server, dst, f)
	}
	if t.Failed() {
		t.Logf("mailfs log:\n%s", rw.logs)
	}
}

// writeLocal writes a message file with the given mtime.
func writeLocal(t *testing.T, path string, raw []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func testMessage(n int) []byte {
	return []byte(fmt.Sprintf("From: a@example.com\r\nTo: b@example.com\r\nSubject: written %d\r\nMessage-ID: <w%d@example.com>\r\n\r\nbody %d\r\n", n, n, n))
}

// cp, cp -a, tar x and mv from outside append each message once, with the
// file's mtime as INTERNALDATE where the tool sets it; writing a held
// message again appends nothing; views are dropped, other files refused;
// mkdir creates folders; rm and rmdir are refused.
func TestWriteWithTools(t *testing.T) {
	needTool(t, "tar")
	dst := dovecottest.Start(t)
	rw := mountRW(t, dst, t.TempDir())
	inbox := filepath.Join(rw.dir, "INBOX")
	local := t.TempDir()
	dates := []time.Time{
		time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(2020, 8, 9, 10, 11, 12, 0, time.UTC),
		time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2022, 6, 7, 8, 9, 10, 0, time.UTC),
	}
	var paths []string
	for i, d := range dates {
		p := filepath.Join(local, fmt.Sprintf("m%d.eml", i))
		writeLocal(t, p, testMessage(i), d)
		paths = append(paths, p)
	}
	run := func(dir string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s\nmailfs log:\n%s", name, args, err, out, rw.logs)
		}
	}
	before := time.Now().Add(-time.Second)
	run(local, "cp", paths[0], inbox+"/")
	run(local, "cp", "-a", paths[1], inbox+"/")
	run(local, "tar", "cf", "m2.tar", "m2.eml")
	run(inbox, "tar", "xf", filepath.Join(local, "m2.tar"))
	run(local, "mv", paths[3], inbox+"/")
	if _, err := os.Stat(paths[3]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("mv left its source: %v", err)
	}

	got := folderMessages(t, dst, "INBOX")
	if len(got) != 4 {
		t.Fatalf("%d messages in INBOX, want 4\nmailfs log:\n%s", len(got), rw.logs)
	}
	byBody := map[string]time.Time{}
	for _, m := range got {
		byBody[string(m.raw)] = m.date
	}
	for i, d := range dates {
		date, ok := byBody[string(testMessage(i))]
		switch {
		case !ok:
			t.Errorf("message %d not on the server", i)
		case i == 0 && (date.Before(before.Truncate(time.Second)) || date.After(time.Now())):
			t.Errorf("cp without -a: INTERNALDATE %v, want the time of the copy", date)
		case i > 0 && !date.Equal(d):
			t.Errorf("message %d: INTERNALDATE %v, want the file's mtime %v", i, date, d)
		}
	}
	for i := range dates {
		mountShows(t, inbox, testMessage(i))
	}
	n := appends(t, dst)

	// The same messages again: nothing appended, and the tools succeed.
	writeLocal(t, paths[3], testMessage(3), dates[3])
	run(local, "cp", "-a", paths[1], inbox+"/again.eml")
	run(inbox, "tar", "xf", filepath.Join(local, "m2.tar"))
	run(local, "cp", paths[3], inbox+"/")
	// ... also onto the name the mount shows for it (a rerun of a restore
	// whose names are the mount's).
	shown := ""
	entries, _ := os.ReadDir(inbox)
	for _, e := range entries {
		if b, _ := os.ReadFile(filepath.Join(inbox, e.Name())); bytes.Equal(b, testMessage(1)) {
			shown = e.Name()
		}
	}
	if shown == "" {
		t.Fatal("message 1 not shown")
	}
	run(local, "cp", "-a", paths[1], filepath.Join(inbox, shown))
	run(local, "cp", paths[1], filepath.Join(inbox, shown))
	if b, err := os.ReadFile(filepath.Join(inbox, shown)); err != nil || !bytes.Equal(b, testMessage(1)) {
		t.Errorf("%s after overwriting it with its own bytes: %q, %v", shown, b, err)
	}
	if extra := appends(t, dst) - n; extra != 0 {
		t.Errorf("writing held messages again appended %d", extra)
	}

	// Views are dropped; other files are refused.
	for _, name := range []string{"x.html", "x.txt", "x.pdf"} {
		if err := os.WriteFile(filepath.Join(inbox, name), []byte("<p>view</p>"), 0o644); err != nil {
			t.Errorf("write view %s: %v", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(inbox, "notes.doc"), []byte("x"), 0o644); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("write notes.doc: %v, want EINVAL", err)
	}
	if err := os.WriteFile(filepath.Join(inbox, "bad.eml"), []byte("just some text\n"), 0o644); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("write a non-message bad.eml: %v, want EINVAL", err)
	}
	waitFor(t, "the log to name the refused files", func() bool { // it comes through a pipe
		return strings.Contains(rw.logs.String(), "INBOX/bad.eml") && strings.Contains(rw.logs.String(), "INBOX/notes.doc")
	})
	if extra := appends(t, dst) - n; extra != 0 {
		t.Errorf("views and refused files appended %d messages", extra)
	}

	// Folders: mkdir creates (nested, non-ASCII names in modified UTF-7).
	for _, d := range []string{"Entwürfe", "Entwürfe/2024", "R&D"} {
		if err := os.Mkdir(filepath.Join(rw.dir, d), 0o755); err != nil {
			t.Fatalf("mkdir %s: %v\n%s", d, err, rw.logs)
		}
	}
	if got := strings.Join(folderNames(t, dst), "|"); got != "Entwürfe|Entwürfe/2024|INBOX|R&D" {
		t.Errorf("folders after mkdir: %s", got)
	}
	writeLocal(t, filepath.Join(local, "n.eml"), testMessage(9), dates[0])
	run(local, "cp", "-a", filepath.Join(local, "n.eml"), filepath.Join(rw.dir, "Entwürfe", "2024")+"/")
	if got := folderMessages(t, dst, "Entwürfe/2024"); len(got) != 1 || !bytes.Equal(got[0].raw, testMessage(9)) {
		t.Errorf("Entwürfe/2024 holds %d messages, want the one copied", len(got))
	}

	// Deleting is refused.
	entries, err := emlEntries(inbox)
	if err != nil || len(entries) == 0 {
		t.Fatalf("readdir: %v, %d entries", err, len(entries))
	}
	if err := os.Remove(filepath.Join(inbox, entries[0].Name())); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rm %s: %v, want EPERM", entries[0].Name(), err)
	}
	if err := syscall.Rmdir(filepath.Join(rw.dir, "R&D")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rmdir: %v, want EPERM", err)
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 4 {
		t.Errorf("%d messages in INBOX at the end, want 4", len(got))
	}
}

// An APPEND the server refuses (over quota) fails the tool with EDQUOT,
// keeps the data in the cache, and a rerun after the quota is raised
// appends it once.
func TestRefusedAppend(t *testing.T) {
	needTool(t, "rsync")
	dst := dovecottest.StartWith(t, dovecottest.Options{Quota: "10K"})
	cacheDir := t.TempDir()
	rw := mountRW(t, dst, cacheDir)
	inbox := filepath.Join(rw.dir, "INBOX")
	big := sample.Big(64 << 10)
	local := t.TempDir()
	date := time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)
	writeLocal(t, filepath.Join(local, "big.eml"), big.Raw, date)

	out, err := exec.Command("cp", "-a", filepath.Join(local, "big.eml"), inbox+"/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Disk quota exceeded") {
		t.Errorf("cp over quota: %v, %s; want Disk quota exceeded\n%s", err, out, rw.logs)
	}
	out, err = exec.Command("rsync", "-a", local+"/", inbox+"/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Disk quota exceeded") {
		t.Errorf("rsync over quota: %v, %s; want Disk quota exceeded", err, out)
	}
	waitFor(t, "the log to name the file and the server's answer", func() bool {
		return strings.Contains(rw.logs.String(), "INBOX/big.eml") && strings.Contains(rw.logs.String(), "OVERQUOTA")
	})
	kept, _ := filepath.Glob(filepath.Join(cacheDir, "staging", "kept", "*.eml"))
	if len(kept) != 1 {
		t.Fatalf("kept %q, want one file", kept)
	}
	if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, big.Raw) {
		t.Errorf("the kept file does not hold the message")
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 0 {
		t.Fatalf("%d messages appended over quota", len(got))
	}

	dst.SetQuota(t, "10M")
	dst.Kick(t) // sessions read the quota at login
	rsync(t, local+"/", inbox+"/")
	rsync(t, local+"/", inbox+"/")
	got := folderMessages(t, dst, "INBOX")
	if len(got) != 1 || !bytes.Equal(got[0].raw, big.Raw) || !got[0].date.Equal(date) {
		t.Fatalf("after the rerun: %d messages, want the one message dated %v\n%s", len(got), date, rw.logs)
	}
	if kept, _ := filepath.Glob(filepath.Join(cacheDir, "staging", "kept", "*.eml")); len(kept) != 0 {
		t.Errorf("still kept after the append: %q", kept)
	}
}

// A 50 MB message written through the mount is staged on disk: the
// mailfs process grows by a few MB at most.
func TestBigWriteStaysSmall(t *testing.T) {
	const size = 50 << 20
	big := sample.Big(size)
	dst := dovecottest.Start(t)
	rw := mountRW(t, dst, t.TempDir())
	inbox := filepath.Join(rw.dir, "INBOX")
	if _, err := os.ReadDir(inbox); err != nil {
		t.Fatal(err)
	}
	base := peakRSS(t, rw.cmd.Process.Pid)
	f, err := os.Create(filepath.Join(inbox, "big.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, bytes.NewReader(big.Raw)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v\n%s", err, rw.logs)
	}
	grew := peakRSS(t, rw.cmd.Process.Pid) - base
	t.Logf("peak RSS grew by %d KiB writing a %d MiB message", grew>>10, size>>20)
	if grew > 16<<20 {
		t.Errorf("peak RSS grew by %d MiB writing a %d MiB message: writes must be staged on disk", grew>>20, size>>20)
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 1 || !bytes.Equal(got[0].raw, big.Raw) {
		t.Errorf("the server holds %d messages, want the big one", len(got))
	}
}

var _ = imapclient.Options{} // the helpers above use go-imap's types

// read_write in the config file: per account, over the top-level value;
// in a mount with both, the read-only account still refuses writes.
func TestConfigReadWriteAccounts(t *testing.T) {
	needFUSE(t)
	srv := dovecottest.Start(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acct := func(name string) string {
		return fmt.Sprintf("[[account]]\nname = %q\nserver = %q\ntls = \"starttls\"\ntls_ca = %q\nuser = %q\npassword_file = %q\n",
			name, srv.Addr, srv.CAFile, srv.User, pwFile)
	}
	config := fmt.Sprintf("cache_dir = %q\nread_write = true\n", filepath.Join(dir, "cache")) +
		acct("new") + acct("old") + "read_write = false\n"
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := t.TempDir()
	m := startMount(t, exec.Command(binary, "mount", "--config", cfgFile, "--log-level", "debug", mp), mp)

	msg := testMessage(1)
	if err := os.WriteFile(filepath.Join(mp, "old", "INBOX", "m.eml"), msg, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write into the read-only account: %v, want EROFS", err)
	}
	if err := os.Mkdir(filepath.Join(mp, "old", "X"), 0o755); !errors.Is(err, syscall.EROFS) {
		t.Errorf("mkdir in the read-only account: %v, want EROFS", err)
	}
	if err := os.WriteFile(filepath.Join(mp, "new", "INBOX", "m.eml"), msg, 0o644); err != nil {
		t.Fatalf("write into the read-write account: %v\n%s", err, m.logs)
	}
	if got := folderMessages(t, srv, "INBOX"); len(got) != 1 || !bytes.Equal(got[0].raw, msg) {
		t.Errorf("the server holds %d messages, want the one written", len(got))
	}
	mountShows(t, filepath.Join(mp, "old", "INBOX"), msg) // the other account sees it at its next poll
}

// A server that goes away mid-restore: rsync reports the files it could
// not write, nothing is lost, and a rerun once the server is back
// completes the restore without duplicates.
func TestRestoreServerDown(t *testing.T) {
	needTool(t, "rsync")
	dst := dovecottest.Start(t)
	cacheDir := t.TempDir()
	rw := mountRW(t, dst, cacheDir)
	inbox := filepath.Join(rw.dir, "INBOX")
	local := t.TempDir()
	const n = 6
	for i := 0; i < n; i++ {
		writeLocal(t, filepath.Join(local, fmt.Sprintf("m%d.eml", i)), testMessage(i), time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC))
	}
	// Half before the outage.
	rsync(t, "--include=m[012].eml", "--exclude=*", local+"/", inbox+"/")
	dst.Stop()
	out, err := exec.Command("rsync", "-a", local+"/", inbox+"/").CombinedOutput()
	if err == nil {
		t.Fatalf("rsync with the server down succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "Input/output error") {
		t.Errorf("rsync with the server down: %v\n%s, want Input/output error", err, out)
	}
	// The names differ from the mount's, so rsync sent every file again.
	// Those appended before could only be found in the folder from bodies
	// the cache holds; every other one is kept, the three new ones above
	// all.
	kept := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "staging", "kept", "*.eml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		kept[string(b)] = true
	}
	for i := 3; i < n; i++ {
		if !kept[string(testMessage(i))] {
			t.Errorf("message %d, never appended, is not kept while the server is down", i)
		}
	}
	dst.Restart(t)
	rsync(t, local+"/", inbox+"/")
	got := folderMessages(t, dst, "INBOX")
	if len(got) != n {
		t.Fatalf("%d messages after the rerun, want %d\n%s", len(got), n, rw.logs)
	}
	for i, m := range got { // sorted by date, as written
		if !bytes.Equal(m.raw, testMessage(i)) {
			t.Errorf("message %d differs", i)
		}
	}
	if kept, _ := filepath.Glob(filepath.Join(cacheDir, "staging", "kept", "*.eml")); len(kept) != 0 {
		t.Errorf("still kept after the rerun: %q", kept)
	}
}

// A message bigger than the server takes fails with EFBIG and appends
// nothing; smaller ones in the same rsync are appended.
func TestTooBigAppend(t *testing.T) {
	needTool(t, "rsync")
	dst := dovecottest.StartWith(t, dovecottest.Options{MaxMailSize: "20k"})
	rw := mountRW(t, dst, t.TempDir())
	local := t.TempDir()
	date := time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)
	writeLocal(t, filepath.Join(local, "big.eml"), sample.Big(64<<10).Raw, date)
	writeLocal(t, filepath.Join(local, "small.eml"), testMessage(1), date)
	out, err := exec.Command("rsync", "-a", local+"/", rw.dir+"/INBOX/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "File too large") {
		t.Errorf("rsync of a message too big: %v, %s; want File too large\n%s", err, out, rw.logs)
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 1 || !bytes.Equal(got[0].raw, testMessage(1)) {
		t.Errorf("the server holds %d messages, want the small one", len(got))
	}
}

// With --allow-delete, rm of a message expunges exactly that message (UID
// EXPUNGE, never a plain EXPUNGE) and rmdir deletes an empty folder; a
// folder with messages is not empty.
func TestAllowDelete(t *testing.T) {
	srv := seed(t)
	rw := mount(t, srv, t.TempDir(), "--read-write", "--allow-delete")
	inbox := filepath.Join(rw.dir, "INBOX")
	before := folderMessages(t, srv.Server, "INBOX")
	entries, err := emlEntries(inbox)
	if err != nil || len(entries) == 0 {
		t.Fatalf("readdir: %v", err)
	}
	victim, err := os.ReadFile(filepath.Join(inbox, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(inbox, entries[0].Name())); err != nil {
		t.Fatalf("rm: %v\n%s", err, rw.logs)
	}
	after := folderMessages(t, srv.Server, "INBOX")
	if len(after) != len(before)-1 {
		t.Fatalf("%d messages after rm, want %d", len(after), len(before)-1)
	}
	for _, m := range after {
		if bytes.Equal(m.raw, victim) {
			t.Errorf("the deleted message is still on the server")
		}
	}
	if _, err := os.Stat(filepath.Join(inbox, entries[0].Name())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat of the deleted file: %v, want ENOENT", err)
	}
	var expunges []string
	for _, c := range srv.Commands(t) {
		if u := strings.ToUpper(c); strings.Contains(u, "EXPUNGE") || strings.HasPrefix(u, "CLOSE") {
			expunges = append(expunges, c)
		}
	}
	if len(expunges) != 1 || !strings.HasPrefix(strings.ToUpper(expunges[0]), "UID EXPUNGE ") || strings.ContainsAny(expunges[0], ":,*") {
		t.Errorf("expunging commands %q, want one UID EXPUNGE of one UID", expunges)
	}

	if err := syscall.Rmdir(filepath.Join(rw.dir, "Newsletters")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a folder with messages: %v, want ENOTEMPTY", err)
	}
	if err := os.Mkdir(filepath.Join(rw.dir, "Empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Rmdir(filepath.Join(rw.dir, "Empty")); err != nil {
		t.Fatalf("rmdir of an empty folder: %v\n%s", err, rw.logs)
	}
	for _, f := range folderNames(t, srv.Server) {
		if f == "Empty" {
			t.Errorf("the removed folder is still on the server")
		}
	}
}

// mv of a message to another folder moves it (UID MOVE) and mv of a
// folder renames it (RENAME); INBOX and renames within a folder are
// refused.
func TestMoveAndRename(t *testing.T) {
	srv := seed(t)
	rw := mount(t, srv, t.TempDir(), "--read-write")
	inbox := filepath.Join(rw.dir, "INBOX")
	nInbox, nArch := len(folderMessages(t, srv.Server, "INBOX")), len(folderMessages(t, srv.Server, "Archiv/2024"))
	entries, err := emlEntries(inbox)
	if err != nil || len(entries) == 0 {
		t.Fatalf("readdir: %v", err)
	}
	name := entries[0].Name()
	raw, err := os.ReadFile(filepath.Join(inbox, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(inbox, name), filepath.Join(rw.dir, "Archiv", "2024", name)); err != nil {
		t.Fatalf("mv to another folder: %v\n%s", err, rw.logs)
	}
	if got := len(folderMessages(t, srv.Server, "INBOX")); got != nInbox-1 {
		t.Errorf("INBOX holds %d messages after the move, want %d", got, nInbox-1)
	}
	arch := folderMessages(t, srv.Server, "Archiv/2024")
	found := false
	for _, m := range arch {
		found = found || bytes.Equal(m.raw, raw)
	}
	if len(arch) != nArch+1 || !found {
		t.Errorf("Archiv/2024 holds %d messages (moved one there: %v), want %d", len(arch), found, nArch+1)
	}
	mountShows(t, filepath.Join(rw.dir, "Archiv", "2024"), raw)

	entries, _ = emlEntries(inbox)
	if err := os.Rename(filepath.Join(inbox, entries[0].Name()), filepath.Join(inbox, "renamed.eml")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rename within a folder: %v, want EPERM", err)
	}
	if err := os.Rename(inbox, filepath.Join(rw.dir, "Posteingang")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rename of INBOX: %v, want EPERM", err)
	}

	nNews := len(folderMessages(t, srv.Server, "Newsletters"))
	if err := os.Rename(filepath.Join(rw.dir, "Newsletters"), filepath.Join(rw.dir, "Archiv", "News")); err != nil {
		t.Fatalf("mv of a folder: %v\n%s", err, rw.logs)
	}
	names := strings.Join(folderNames(t, srv.Server), "|")
	if strings.Contains(names, "Newsletters") || !strings.Contains(names, "Archiv/News") {
		t.Errorf("folders after the rename: %s", names)
	}
	if got := len(folderMessages(t, srv.Server, "Archiv/News")); got != nNews {
		t.Errorf("Archiv/News holds %d messages, want %d", got, nNews)
	}
	for _, c := range srv.Commands(t) {
		if u := strings.ToUpper(c); u == "EXPUNGE" || u == "CLOSE" {
			t.Errorf("sent %q", c)
		}
	}
	waitFor(t, "the renamed folder in the mount", func() bool {
		e, err := emlEntries(filepath.Join(rw.dir, "Archiv", "News"))
		return err == nil && len(e) == nNews
	})
}

// cutProxy forwards TCP to target; once armed, it cuts the connection
// that sends more than limit bytes towards the server.
type cutProxy struct {
	addr  string
	armed atomic.Bool
	cuts  atomic.Int64
}

func startCutProxy(t *testing.T, target string, limit int64) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &cutProxy{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, s); c.Close() }()
			go func() {
				defer s.Close()
				buf := make([]byte, 32<<10)
				var sent int64
				for {
					n, err := c.Read(buf)
					if p.armed.Load() {
						if sent += int64(n); sent > limit {
							p.cuts.Add(1)
							c.Close()
							return
						}
					}
					if n > 0 {
						if _, werr := s.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// A connection cut in the middle of an APPEND fails the close with EIO,
// appends nothing and keeps the data; the rerun appends the message once.
func TestAppendCutMidway(t *testing.T) {
	dst := dovecottest.Start(t)
	proxy := startCutProxy(t, dst.Addr, 1<<20)
	cacheDir := t.TempDir()
	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--server", proxy.addr, "--tls", "starttls", "--tls-ca", dst.CAFile,
		"--user", dst.User, "--cache", cacheDir, "--poll", "1s", "--log-level", "debug", "--read-write", dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+dst.Password)
	rw := startMount(t, cmd, dir)
	inbox := filepath.Join(rw.dir, "INBOX")
	if _, err := os.ReadDir(inbox); err != nil {
		t.Fatal(err)
	}
	big := sample.Big(4 << 20)
	local := filepath.Join(t.TempDir(), "big.eml")
	writeLocal(t, local, big.Raw, time.Date(2022, 2, 2, 2, 2, 2, 0, time.UTC))

	proxy.armed.Store(true)
	out, err := exec.Command("cp", "-a", local, inbox+"/").CombinedOutput()
	proxy.armed.Store(false)
	if err == nil || !strings.Contains(string(out), "Input/output error") || proxy.cuts.Load() == 0 {
		t.Errorf("cp with the connection cut: %v, %s (%d cuts); want Input/output error", err, out, proxy.cuts.Load())
	}
	if kept, _ := filepath.Glob(filepath.Join(cacheDir, "staging", "kept", "*.eml")); len(kept) != 1 {
		t.Errorf("kept %q, want one file", kept)
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 0 {
		t.Fatalf("%d messages after the cut APPEND, want 0", len(got))
	}
	if out, err := exec.Command("cp", "-a", local, inbox+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp again: %v %s\n%s", err, out, rw.logs)
	}
	if got := folderMessages(t, dst, "INBOX"); len(got) != 1 || !bytes.Equal(got[0].raw, big.Raw) {
		t.Errorf("%d messages after the rerun, want the one message", len(got))
	}
}
