package main

// Issue 9 §3: flags travel with the messages through plain rsync -a, from
// a read-only mount to a folder and back into a writable mount, in the
// per-folder flags file (cache.FlagsName).

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

// folderFlags returns the flags of a folder's messages by their bytes,
// without \Recent and \Deleted (which a flags file leaves out).
func folderFlags(t *testing.T, srv *dovecottest.Server, folder string) map[string]string {
	t.Helper()
	c := srv.Dial(t)
	data, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %q: %v", folder, err)
	}
	out := map[string]string{}
	if data.NumMessages == 0 {
		return out
	}
	var seq imap.SeqSet
	seq.AddRange(1, data.NumMessages)
	msgs, err := c.Fetch(seq, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatalf("fetch %q: %v", folder, err)
	}
	for _, m := range msgs {
		var flags []string
		for _, f := range m.Flags {
			if f != `\Recent` && f != imap.FlagDeleted {
				flags = append(flags, string(f))
			}
		}
		sort.Strings(flags)
		out[string(m.FindBodySection(&imap.FetchItemBodySection{Peek: true}))] = strings.Join(flags, " ")
	}
	return out
}

// sameFlags fails unless each message of folder has the same flags on
// both servers.
func sameFlags(t *testing.T, want, got *dovecottest.Server, folder string) {
	t.Helper()
	w, g := folderFlags(t, want, folder), folderFlags(t, got, folder)
	for raw, flags := range w {
		if g[raw] != flags {
			t.Errorf("%q: a message of %d bytes has flags %q, want %q", folder, len(raw), g[raw], flags)
		}
	}
}

// store changes one message's flags on the server (by sequence number).
func store(t *testing.T, srv *dovecottest.Server, folder string, seq uint32, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	c := srv.Dial(t)
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(seq), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		t.Fatalf("store %v on %q #%d: %v", flags, folder, seq, err)
	}
}

func TestFlagsTravelWithRsync(t *testing.T) {
	needTool(t, "rsync")
	src := seed(t)
	store(t, src.Server, "INBOX", 1, imap.StoreFlagsAdd, imap.FlagFlagged, imap.FlagAnswered, "$Forwarded", "Important")
	store(t, src.Server, "INBOX", 2, imap.StoreFlagsAdd, imap.FlagSeen, "$Label1")
	store(t, src.Server, "Newsletters", 1, imap.StoreFlagsAdd, imap.FlagDraft)
	ro := mount(t, src, t.TempDir(), "--poll", "1h")
	// ls -l (READDIRPLUS looks up every entry) does not fetch flags.
	if out, err := exec.Command("ls", "-l", filepath.Join(ro.dir, "INBOX")).CombinedOutput(); err != nil {
		t.Fatalf("ls -l: %v\n%s", err, out)
	}
	if n := countFlagFetches(t, src.Server); n != 0 {
		t.Errorf("ls -l fetched flags %d times", n)
	}
	backup := t.TempDir()
	rsync(t, ro.dir+"/", backup+"/")

	flagsFile, err := os.ReadFile(filepath.Join(backup, "INBOX", ".mailfs-flags"))
	if err != nil {
		t.Fatalf("the backup has no flags file: %v", err)
	}
	if !bytes.Contains(flagsFile, []byte("$Forwarded Important \\Answered \\Flagged")) {
		t.Errorf("INBOX's flags file lacks the flags of its first message:\n%s", flagsFile)
	}
	emlBefore := statAll(t, filepath.Join(ro.dir, "INBOX"), ".eml")

	// Restore into an empty account: the flags file goes first (rsync
	// sorts it first), so the flags go with each APPEND.
	dst := dovecottest.Start(t)
	rw := mountRW(t, dst, t.TempDir())
	rsync(t, backup+"/", rw.dir+"/")
	for _, f := range sample.Folders() {
		sameMessages(t, src.Server, dst, f)
		sameFlags(t, src.Server, dst, f)
	}
	stores := countCommands(t, dst, "UID STORE")

	// Nothing to do the second time: the restored account's flags file is
	// the backup's, to the byte and the nanosecond.
	if n := transferred(t, backup+"/", rw.dir+"/"); n != 0 {
		for _, f := range sample.Folders() {
			a, _ := os.ReadFile(filepath.Join(backup, f, ".mailfs-flags"))
			b, _ := os.ReadFile(filepath.Join(rw.dir, f, ".mailfs-flags"))
			if !bytes.Equal(a, b) {
				t.Logf("%s: backup\n%s\nrestored\n%s", f, a, b)
			}
		}
		t.Errorf("the second restore transferred %d files, want 0", n)
	}

	// A flag changed on the server shows without a remount, and changes
	// no message file.
	store(t, src.Server, "INBOX", 3, imap.StoreFlagsAdd, imap.FlagFlagged)
	store(t, src.Server, "INBOX", 2, imap.StoreFlagsDel, imap.FlagSeen)
	path := filepath.Join(ro.dir, "INBOX", ".mailfs-flags")
	waitFor(t, "the flag change in the flags file", func() bool {
		b, err := os.ReadFile(path)
		return err == nil && bytes.Contains(b, []byte("]\t$Label1\n"))
	})
	if after := statAll(t, filepath.Join(ro.dir, "INBOX"), ".eml"); !slices.Equal(after, emlBefore) {
		t.Errorf("message files changed with the flags:\n%q\n%q", emlBefore, after)
	}

	// The nightly run carries the change: the flags file again, and on
	// restore UID STORE of exactly what changed, no APPEND.
	if n := transferred(t, ro.dir+"/", backup+"/"); n != 1 {
		t.Errorf("the backup after a flag change transferred %d files, want 1 (the flags file)", n)
	}
	n := appends(t, dst)
	if got := transferred(t, backup+"/", rw.dir+"/"); got != 1 {
		t.Errorf("the restore after a flag change transferred %d files, want 1", got)
	}
	sameFlags(t, src.Server, dst, "INBOX")
	if again := appends(t, dst) - n; again != 0 {
		t.Errorf("restoring flags appended %d messages", again)
	}
	if got := countCommands(t, dst, "UID STORE") - stores; got != 2 {
		t.Errorf("restoring two changed flags took %d UID STOREs, want 2 (+\\Flagged, -\\Seen)", got)
	}

	// Copied after the messages (cp -a of the folder in another order),
	// the flags file sets the flags of the messages already there.
	dst2 := dovecottest.Start(t)
	rw2 := mountRW(t, dst2, t.TempDir())
	local := filepath.Join(backup, "INBOX")
	emls, _ := filepath.Glob(filepath.Join(local, "*.eml"))
	cp(t, append(emls, filepath.Join(rw2.dir, "INBOX"))...)
	cp(t, filepath.Join(local, ".mailfs-flags"), filepath.Join(rw2.dir, "INBOX"))
	sameFlags(t, src.Server, dst2, "INBOX")

	// A broken flags file fails at close and changes nothing.
	err = os.WriteFile(filepath.Join(rw2.dir, "INBOX", ".mailfs-flags"), []byte("no tab here\n"), 0o644)
	if err == nil {
		t.Errorf("a broken flags file was accepted")
	}
	sameFlags(t, src.Server, dst2, "INBOX")
	if t.Failed() {
		t.Logf("mailfs log:\n%s", rw.logs)
	}
}

// statAll lists "name size mtime" of the files in dir ending in ext.
func statAll(t *testing.T, dir, ext string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s", e.Name(), fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano)))
	}
	return out
}

// cp runs cp -a.
func cp(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("cp", append([]string{"-a"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
}

// transferred runs rsync -a from one tree to another and returns how
// many files it transferred.
func transferred(t *testing.T, from, to string) int {
	t.Helper()
	out, err := exec.Command("rsync", "-a", "--stats", from, to).CombinedOutput()
	if err != nil {
		t.Fatalf("rsync %s %s: %v\n%s", from, to, err, out)
	}
	got := regexp.MustCompile(`Number of regular files transferred: (\d+)`).FindSubmatch(out)
	if got == nil {
		t.Fatalf("rsync: no statistics\n%s", out)
	}
	var n int
	fmt.Sscan(string(got[1]), &n)
	return n
}

// countFlagFetches counts the FETCH commands that asked for FLAGS.
func countFlagFetches(t *testing.T, srv *dovecottest.Server) int {
	n := 0
	for _, c := range srv.Commands(t) {
		if u := strings.ToUpper(c); strings.Contains(u, "FETCH") && strings.Contains(u, "FLAGS") {
			n++
		}
	}
	return n
}

// countCommands counts the commands mailfs sent that begin with prefix.
func countCommands(t *testing.T, srv *dovecottest.Server, prefix string) int {
	n := 0
	for _, c := range srv.Commands(t) {
		if strings.HasPrefix(strings.ToUpper(c), prefix) {
			n++
		}
	}
	return n
}
