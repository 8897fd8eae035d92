package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailfs/imapsrc/dovecottest"
)

// fileSeen is what a mount shows for one message file.
type fileSeen struct {
	ino   uint64
	nlink uint64
	body  string
}

// showFiles stats and reads every message file of a mount, checks each
// against the server's bytes for the UID its name stands for, and returns
// what it saw by path.
func showFiles(t *testing.T, srv *dovecottest.Server, dir string) map[string]fileSeen {
	t.Helper()
	out := map[string]fileSeen{}
	for rel, uid := range emlFiles(t, srv, dir) {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, rel), &st); err != nil {
			t.Fatal(err)
		}
		got := readRetrying(t, filepath.Join(dir, rel))
		if want := srv.Fetch(t, filepath.Dir(rel), uid); !bytes.Equal(got, want) {
			t.Errorf("%s: %q, the server's UID %d is %q", rel, got, uid, want)
		}
		out[rel] = fileSeen{ino: st.Ino, nlink: uint64(st.Nlink), body: string(got)}
	}
	return out
}

// readRetrying reads a file, once more after EIO or ESTALE: the read that
// finds linked copies to differ fails, and the next one sees them apart.
func readRetrying(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ESTALE) {
		b, err = os.ReadFile(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFiles(t *testing.T, what string, got, want map[string]fileSeen) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d files, before %d", what, len(got), len(want))
	}
	for rel, w := range want {
		g, ok := got[rel]
		switch {
		case !ok:
			t.Errorf("%s: %s is gone (renamed)", what, rel)
		case g.ino != w.ino:
			t.Errorf("%s: %s has inode %d, before %d", what, rel, g.ino, w.ino)
		case g.body != w.body:
			t.Errorf("%s: %s shows other bytes", what, rel)
		}
	}
}

// Look-alikes: the same Message-ID, INTERNALDATE and size, other bytes.
var (
	twinDate = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	twinA    = []byte("Message-ID: <twin@example.com>\r\nSubject: Twin\r\n\r\nbody A\r\n")
	twinB    = []byte("Message-ID: <twin@example.com>\r\nSubject: Twin\r\n\r\nbody B\r\n")
	dupMsg   = []byte("Message-ID: <dup@example.com>\r\nSubject: Dup\r\n\r\nthe same\r\n")
)

// TestNamesSurviveRenumbering: names and inode numbers come from the
// messages, so they stay when the server renumbers folders (while mounted
// and between mounts) and when the cache is wiped; look-alikes and true
// duplicates get names of their own, each showing its own bytes.
func TestNamesSurviveRenumbering(t *testing.T) {
	srv := seed(t)
	srv.Create(t, "Twins")
	for _, raw := range [][]byte{twinA, twinB, dupMsg, dupMsg} {
		srv.Append(t, "Twins", raw, twinDate)
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m := mount(t, srv, cacheDir)
	before := showFiles(t, srv.Server, m.dir)
	twins, _ := filepath.Glob(filepath.Join(m.dir, "Twins", "*Twin*.eml"))
	dups, _ := filepath.Glob(filepath.Join(m.dir, "Twins", "*Dup*.eml"))
	// Glob sorts "[ID-2]" before "[ID]".
	if len(twins) != 2 || len(dups) != 2 || !strings.HasSuffix(twins[0], "-2].eml") || !strings.HasSuffix(dups[0], "-2].eml") ||
		strings.TrimSuffix(twins[0], "-2].eml") != strings.TrimSuffix(twins[1], "].eml") {
		t.Fatalf("look-alikes %q, duplicates %q: want two names each, the second with -2", twins, dups)
	}
	relA, _ := filepath.Rel(m.dir, twins[1])
	relB, _ := filepath.Rel(m.dir, twins[0])
	if before[relA].body != string(twinA) || before[relB].body != string(twinB) || before[relA].ino == before[relB].ino {
		t.Errorf("look-alikes: %q (inode %d) and %q (inode %d)", before[relA].body, before[relA].ino, before[relB].body, before[relB].ino)
	}

	// Renumbered while mounted: in order (INBOX), and in reverse order
	// (Twins, so the look-alikes swap their names; Newsletters).
	srv.Renumber(t, "INBOX")
	srv.ResetUIDValidity(t, "Twins")
	srv.ResetUIDValidity(t, "Newsletters")
	time.Sleep(3 * time.Second) // the mount polls every second
	during := showFiles(t, srv.Server, m.dir)
	swapped := map[string]fileSeen{}
	for rel, f := range before {
		swapped[rel] = f
	}
	swapped[relA], swapped[relB] = fileSeen{before[relA].ino, 1, string(twinB)}, fileSeen{before[relB].ino, 1, string(twinA)}
	sameFiles(t, "renumbered while mounted", during, swapped)
	m.stop(t)

	srv.Renumber(t, "Archiv/2024")
	m2 := mount(t, srv, cacheDir)
	sameFiles(t, "renumbered between mounts", showFiles(t, srv.Server, m2.dir), swapped)
	m2.stop(t)

	m3 := mount(t, srv, filepath.Join(t.TempDir(), "fresh"))
	sameFiles(t, "cache wiped", showFiles(t, srv.Server, m3.dir), swapped)

	// The look-alike named first is expunged: the other one moves up to
	// its name, and the name shows the other one's bytes at once, though
	// the kernel had read the first.
	srv.Expunge(t, "Twins", emlFiles(t, srv.Server, m3.dir)[relA])
	waitFor(t, "the expunged look-alike to go", func() bool {
		_, err := os.Stat(filepath.Join(m3.dir, relB))
		return errors.Is(err, os.ErrNotExist)
	})
	if got := readRetrying(t, filepath.Join(m3.dir, relA)); !bytes.Equal(got, twinA) {
		t.Errorf("%s after the expunge: %q, want %q", relA, got, twinA)
	}
}

// TestOneMessageInTwoFolders: a message in two folders is one inode with
// two links, which rsync -aH stores once; look-alikes in two folders are
// told apart when read, and each shows its own bytes.
func TestOneMessageInTwoFolders(t *testing.T) {
	needTool(t, "rsync")
	srv := &seeded{Server: dovecottest.Start(t)}
	for _, f := range []string{"Archive", "Other"} {
		srv.Create(t, f)
	}
	srv.Append(t, "INBOX", dupMsg, twinDate)
	srv.Append(t, "Archive", dupMsg, twinDate)
	srv.Append(t, "INBOX", twinA, twinDate)
	srv.Append(t, "Other", twinB, twinDate)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m := mount(t, srv, cacheDir)

	files := emlFiles(t, srv.Server, m.dir)
	var inbox, archive, a, b string
	for rel := range files {
		switch {
		case strings.HasPrefix(rel, "INBOX/") && strings.Contains(rel, "Dup"):
			inbox = rel
		case strings.HasPrefix(rel, "Archive/"):
			archive = rel
		case strings.HasPrefix(rel, "INBOX/"):
			a = rel
		case strings.HasPrefix(rel, "Other/"):
			b = rel
		}
	}
	if len(files) != 4 || filepath.Base(inbox) != filepath.Base(archive) || filepath.Base(a) != filepath.Base(b) {
		t.Fatalf("files %v", files)
	}
	stat := func(dir, rel string) syscall.Stat_t {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, rel), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	s1, s2 := stat(m.dir, inbox), stat(m.dir, archive)
	if s1.Ino != s2.Ino || s1.Nlink != 2 || s2.Nlink != 2 {
		t.Errorf("one message in two folders: inodes %d, %d, links %d, %d; want one inode, 2 links", s1.Ino, s2.Ino, s1.Nlink, s2.Nlink)
	}

	// The look-alikes look like one message until read; reading tells
	// them apart, and each then shows its own bytes under its own inode.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(m.logs)
		}
	})
	if got := readRetrying(t, filepath.Join(m.dir, b)); !bytes.Equal(got, twinB) {
		t.Errorf("%s: %q, want %q", b, got, twinB)
	}
	if got := readRetrying(t, filepath.Join(m.dir, a)); !bytes.Equal(got, twinA) {
		t.Errorf("%s: %q, want %q", a, got, twinA)
	}
	if sa, sb := stat(m.dir, a), stat(m.dir, b); sa.Ino == sb.Ino || sa.Nlink != 1 || sb.Nlink != 1 {
		t.Errorf("look-alikes after reading: inodes %d, %d, links %d, %d", sa.Ino, sb.Ino, sa.Nlink, sb.Nlink)
	}
	showFiles(t, srv.Server, m.dir) // every file shows the server's bytes

	// Labelled once more on the server: the kernel is told, without a
	// remount, that the file has three links now.
	srv.Append(t, "Other", dupMsg, twinDate)
	waitFor(t, "a third link", func() bool { return stat(m.dir, inbox).Nlink == 3 })

	// The cache keeps one body: the copies read are links of one file.
	if got := readRetrying(t, filepath.Join(m.dir, strings.Replace(inbox, "INBOX/", "Other/", 1))); !bytes.Equal(got, dupMsg) {
		t.Errorf("third copy: %q", got)
	}
	inodes := map[uint64]int{}
	filepath.WalkDir(filepath.Join(cacheDir, "bodies"), func(p string, d fs.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); err == nil && !d.IsDir() && bytes.Equal(b, dupMsg) {
			inodes[stat("", p).Ino]++
		}
		return nil
	})
	if len(inodes) != 1 {
		t.Errorf("the cache holds the message in %d files, want 1 (with links): %v", len(inodes), inodes)
	}

	backup := t.TempDir()
	rsync(t, "-H", m.dir+"/", backup+"/")
	b1, b2 := stat(backup, inbox), stat(backup, archive)
	if b1.Ino != b2.Ino || b1.Nlink != 3 {
		t.Errorf("rsync -aH stored the message twice: inodes %d, %d, links %d", b1.Ino, b2.Ino, b1.Nlink)
	}
	if got, err := os.ReadFile(filepath.Join(backup, archive)); err != nil || !bytes.Equal(got, dupMsg) {
		t.Errorf("backup: %q, %v", got, err)
	}
}
