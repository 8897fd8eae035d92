package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailfs/cache"
)

// These tests mount a fakeStore in the process (a real kernel mount,
// through /dev/fuse) and use it as a program would.

var (
	day1 = time.Date(2024, 3, 1, 14, 32, 5, 0, time.UTC)
	day2 = time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC)
	day3 = time.Date(2024, 4, 5, 18, 30, 0, 0, time.UTC)
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestMountShowsFoldersAndMessages(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'}, cache.FolderInfo{Name: "Archiv", Delim: '/', NoSelect: true}, cache.FolderInfo{Name: "Archiv/2024", Delim: '/'})
	m1 := s.add("INBOX", 1, "Invoice", day1, "Subject: Invoice\r\n\r\npay\r\n")
	s.add("Archiv/2024", 7, "Old", day2, "Subject: Old\r\n\r\nold\r\n")
	dir, _ := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "txt"}})

	if got, want := names(t, dir), []string{"Archiv", "INBOX"}; !slices.Equal(got, want) {
		t.Errorf("root: %q, want %q", got, want)
	}
	if got, want := names(t, filepath.Join(dir, "Archiv")), []string{"2024"}; !slices.Equal(got, want) {
		t.Errorf("Archiv (no mailbox): %q, want %q", got, want)
	}
	want := []string{cache.FlagsName, m1.Stem + ".eml", m1.Stem + ".txt"}
	if got := names(t, filepath.Join(dir, "INBOX")); !slices.Equal(got, want) {
		t.Errorf("INBOX: %q, want %q", got, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "INBOX", m1.Stem+".eml"))
	if err != nil || string(b) != "Subject: Invoice\r\n\r\npay\r\n" {
		t.Errorf("read eml: %q, %v", b, err)
	}
	b, err = os.ReadFile(filepath.Join(dir, "INBOX", m1.Stem+".txt"))
	if err != nil || !bytes.Equal(b, view("txt", []byte("Subject: Invoice\r\n\r\npay\r\n"))) {
		t.Errorf("read txt: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "INBOX", m1.Stem+".pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a format not shown: %v, want ENOENT", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Archiv", "x.eml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a message in a level that is no mailbox: %v, want ENOENT", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "INBOX", "new.eml"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write on a read-only mount: %v, want EROFS", err)
	}
}

// A change the store reports reaches the kernel without a remount: a new
// message appears in a listing the kernel keeps and under a name it
// remembered as missing, an expunged one vanishes though its entry was
// kept for an hour.
func TestChangesReachTheKernel(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})
	old := s.add("INBOX", 1, "Old", day1, "old\r\n")
	dir, _ := testMount(t, nil, Account{Store: s})
	inbox := filepath.Join(dir, "INBOX")

	oldPath := filepath.Join(inbox, old.Stem+".eml")
	if _, err := os.Stat(oldPath); err != nil {
		t.Fatal(err)
	}
	newStem := day2.Format("2006-01-02 150405") + " New [2]"
	newPath := filepath.Join(inbox, newStem+".eml")
	if _, err := os.Stat(newPath); !errors.Is(err, os.ErrNotExist) { // now a negative entry
		t.Fatalf("stat before the message came: %v", err)
	}
	before := names(t, inbox) // now a kept listing
	if len(before) != 2 {
		t.Fatalf("listing %q", before)
	}

	s.add("INBOX", 2, "New", day2, "new message\r\n")
	eventually(t, "the new message is listed", func() bool { return slices.Contains(names(t, inbox), newStem+".eml") })
	eventually(t, "the new message can be opened", func() bool {
		b, err := os.ReadFile(newPath)
		return err == nil && string(b) == "new message\r\n"
	})

	s.remove("INBOX", 1)
	eventually(t, "the expunged message is gone", func() bool {
		_, err := os.Stat(oldPath)
		return errors.Is(err, os.ErrNotExist) && !slices.Contains(names(t, inbox), old.Stem+".eml")
	})
}

// A lookup never renders; the stat after it does, and its size is the
// rendered size, before anything was read.
func TestViewSizeIsExactAtStat(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})
	m := s.add("INBOX", 1, "Hello", day1, "Subject: Hello\r\n\r\nhello world\r\n")
	dir, _ := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "html", "txt"}})
	inbox := filepath.Join(dir, "INBOX")

	if got := names(t, inbox); len(got) != 4 {
		t.Fatalf("listing %q", got)
	}
	if n := s.count(&s.renders); n != 0 {
		t.Errorf("listing rendered %d views", n)
	}
	fi, err := os.Stat(filepath.Join(inbox, m.Stem+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len(view("txt", s.bodies[m.Stem])))
	if fi.Size() != want {
		t.Errorf("stat of a view never rendered: size %d, want %d", fi.Size(), want)
	}
	if n := s.count(&s.renders); n != 1 {
		t.Errorf("stat rendered %d views, want 1 (txt)", n)
	}
	b, err := os.ReadFile(filepath.Join(inbox, m.Stem+".txt"))
	if err != nil || int64(len(b)) != want {
		t.Errorf("read %d bytes, %v; want %d", len(b), err, want)
	}
	// Once its size is known it is kept: another stat renders nothing.
	if _, err := os.Stat(filepath.Join(inbox, m.Stem+".txt")); err != nil || s.count(&s.renders) != 1 {
		t.Errorf("second stat: %v, %d renders", err, s.count(&s.renders))
	}
}

// Reads without a file handle (zero-message opens) share one open cache
// file: a file read in many requests is opened once.
func TestReadsShareAnOpenFile(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})
	big := strings.Repeat("0123456789abcdef", 4<<20/16) // 4 MiB: several READs
	m := s.add("INBOX", 1, "Big", day1, big)
	dir, mnt := testMount(t, nil, Account{Store: s})
	p := filepath.Join(dir, "INBOX", m.Stem+".eml")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 128<<10)
	var got []byte
	for {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != big {
		t.Fatalf("read %d bytes, want %d", len(got), len(big))
	}
	if n := s.count(&s.opens); n != 1 {
		t.Errorf("the store opened the message %d times for one read (zero-message opens: %v)", n, mnt.noOpen.Load())
	}
}

// The fd cache keeps at most max files open and closes an evicted one
// only when no read uses it any more.
func TestFDCache(t *testing.T) {
	c := newFDCache(2)
	opened := 0
	open := func() (*os.File, error) {
		opened++
		return os.Open(os.DevNull)
	}
	a, b, d := &fileNode{}, &fileNode{}, &fileNode{}
	ea, _ := c.get(a, copyRef{"INBOX", 1, 1}, open)
	c.release(ea)
	ea2, _ := c.get(a, copyRef{"INBOX", 1, 1}, open)
	if opened != 1 || ea2 != ea {
		t.Fatalf("second get of the same copy opened again (%d opens)", opened)
	}
	// ea2 is still in use when a third file evicts it.
	eb, _ := c.get(b, copyRef{"INBOX", 1, 2}, open)
	c.release(eb)
	ed, _ := c.get(d, copyRef{"INBOX", 1, 3}, open)
	c.release(ed)
	if c.lru.Len() != 2 || c.byKey[a] != nil {
		t.Fatalf("%d files kept, a kept: %v", c.lru.Len(), c.byKey[a] != nil)
	}
	if _, err := ea2.file.Stat(); err != nil {
		t.Fatalf("evicted file closed while in use: %v", err)
	}
	c.release(ea2)
	if _, err := ea2.file.Stat(); err == nil {
		t.Error("evicted file left open after its last use")
	}
	// Another copy behind the same node (the name shows another UID)
	// is opened anew.
	eb2, _ := c.get(b, copyRef{"INBOX", 1, 9}, open)
	c.release(eb2)
	if opened != 4 {
		t.Errorf("%d opens, want 4", opened)
	}
}

func TestErrnoMapping(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	for _, c := range []struct {
		err  error
		want syscall.Errno
		log  bool
	}{
		{nil, 0, false},
		{fmt.Errorf("fetch: %w", context.Canceled), syscall.EINTR, false},
		{wrap(cache.ErrNotFound), syscall.ENOENT, false},
		{wrap(cache.ErrGone), syscall.ENOENT, true},
		{wrap(cache.ErrUIDValidity), syscall.ENOENT, true},
		{errors.New("disk on fire"), syscall.EIO, true},
	} {
		logged.Reset()
		if got := errno(log, "read", "INBOX/x.eml", c.err); got != c.want {
			t.Errorf("errno(%v) = %v, want %v", c.err, got, c.want)
		}
		if c.log != (logged.Len() > 0) || c.log && !strings.Contains(logged.String(), `read \"INBOX/x.eml\"`) {
			t.Errorf("errno(%v) logged %q", c.err, logged.String())
		}
	}
}

// The kernel is told what errno maps: a folder that cannot be listed is
// EIO, a message gone meanwhile ENOENT.
func TestErrnoThroughTheMount(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'}, cache.FolderInfo{Name: "Broken", Delim: '/'})
	m := s.add("INBOX", 1, "Hi", day1, "hi\r\n")
	s.failing["Broken"] = errors.New("server said no")
	dir, _ := testMount(t, nil, Account{Store: s})
	if _, err := os.ReadDir(filepath.Join(dir, "Broken")); !errors.Is(err, syscall.EIO) {
		t.Errorf("listing a folder that fails: %v, want EIO", err)
	}
	s.mu.Lock()
	s.openErr = wrap(cache.ErrGone)
	s.mu.Unlock()
	if _, err := os.ReadFile(filepath.Join(dir, "INBOX", m.Stem+".eml")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("reading a message gone from the server: %v, want ENOENT", err)
	}
}

// Inode numbers follow the layout of ino.go, are the same after a
// remount, and the copies of a message in two folders are one file.
func TestInodeLayoutThroughTheMount(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'}, cache.FolderInfo{Name: "All", Delim: '/'})
	m := s.add("INBOX", 1, "Hi", day1, "hi\r\n")
	s.add("All", 1, "Hi", day1, "hi\r\n") // the same message: same stem and link
	inos := func(dir string) map[string]uint64 {
		out := map[string]uint64{}
		for _, p := range []string{"INBOX", "INBOX/" + m.Stem + ".eml", "INBOX/" + m.Stem + ".pdf", "All/" + m.Stem + ".eml", "INBOX/" + cache.FlagsName} {
			fi, err := os.Stat(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			out[p] = st.Ino
			if p == "All/"+m.Stem+".eml" && st.Nlink != 2 {
				t.Errorf("%s: %d links, want 2", p, st.Nlink)
			}
		}
		return out
	}
	dir, mnt := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "pdf"}})
	first := inos(dir)
	for p, want := range map[string]uint64{
		"INBOX":                    dirIno("", "INBOX"),
		"INBOX/" + m.Stem + ".eml": fileIno("", m.Stem, m.Link, 0),
		"INBOX/" + m.Stem + ".pdf": fileIno("", m.Stem, m.Link, 2),
		"All/" + m.Stem + ".eml":   fileIno("", m.Stem, m.Link, 0),
		"INBOX/" + cache.FlagsName: flagsIno("", "INBOX"),
	} {
		if first[p] != want {
			t.Errorf("%s: inode %#x, want %#x", p, first[p], want)
		}
	}
	if pdf := first["INBOX/"+m.Stem+".pdf"]; pdf>>63 != 1 || pdf>>60&7 != 2 {
		t.Errorf("pdf inode %#x: want the message bit and slot 2 in bits 60-62", pdf)
	}
	if err := mnt.Unmount(); err != nil {
		t.Fatal(err)
	}
	dir2, _ := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "pdf"}})
	if again := inos(dir2); !maps.Equal(again, first) {
		t.Errorf("after a remount: %v, was %v", again, first)
	}
}

// The flags file shows the store's bytes and mtime, follows a change at
// once, and cannot be written on a read-only mount.
func TestFlagsFile(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})
	s.add("INBOX", 1, "Hi", day1, "hi\r\n")
	s.flags["INBOX"] = []byte("a.eml \\Seen\n")
	dir, _ := testMount(t, nil, Account{Store: s})
	p := filepath.Join(dir, "INBOX", cache.FlagsName)
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "a.eml \\Seen\n" {
		t.Fatalf("flags file: %q, %v", b, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != int64(len(b)) || !fi.ModTime().Equal(flagsDate.Add(time.Duration(len(b))*time.Second)) {
		t.Errorf("stat: %v, %v", fi, err)
	}
	s.setFlags("INBOX", []byte("a.eml \\Seen \\Flagged\n"))
	// Sooner than the second the kernel keeps its attributes.
	start := time.Now()
	for {
		b, err = os.ReadFile(p)
		if err == nil && string(b) == "a.eml \\Seen \\Flagged\n" {
			break
		}
		if time.Since(start) > 800*time.Millisecond {
			t.Fatalf("after a flags change the file shows %q, %v", b, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing the flags file of a read-only mount: %v, want EROFS", err)
	}
}

// Directories show the date of the newest message at or below them,
// parents and the root included, and follow changes.
func TestDirectoryTimes(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'}, cache.FolderInfo{Name: "Archiv", Delim: '/', NoSelect: true},
		cache.FolderInfo{Name: "Archiv/2023", Delim: '/'}, cache.FolderInfo{Name: "Archiv/2024", Delim: '/'}, cache.FolderInfo{Name: "Empty", Delim: '/'})
	s.add("INBOX", 1, "a", day1, "a\r\n")
	s.add("Archiv/2023", 1, "b", day2, "b\r\n")
	s.add("Archiv/2024", 1, "c", day1, "c\r\n")
	dir, _ := testMount(t, nil, Account{Store: s})
	mtime := func(p string) time.Time {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime().UTC()
	}
	for p, want := range map[string]time.Time{"": day2, "INBOX": day1, "Archiv": day2, "Archiv/2023": day2, "Archiv/2024": day1, "Empty": {}} {
		if got := mtime(p); !got.Equal(want) && !(want.IsZero() && got.Unix() == 0) {
			t.Errorf("%q: mtime %v, want %v", p, got, want)
		}
	}
	s.add("Archiv/2024", 2, "d", day3, "d\r\n")
	eventually(t, "a parent shows the new newest date", func() bool { return mtime("Archiv").Equal(day3) && mtime("").Equal(day3) })
	if got := mtime("Archiv/2024"); !got.Equal(day3) {
		t.Errorf("Archiv/2024: %v, want %v", got, day3)
	}
	// A folder not listed yet: the kernel is not let to keep a date
	// that may change without notice.
	s.mu.Lock()
	s.unlisted["INBOX"] = true
	s.mu.Unlock()
	s.add("INBOX", 2, "e", day3.Add(time.Hour), "e\r\n")
	s.mu.Lock()
	s.unlisted["INBOX"] = false
	s.mu.Unlock()
	eventually(t, "INBOX shows its newest date", func() bool { return mtime("INBOX").Equal(day3.Add(time.Hour)) })
}

// After an unmount nothing of the mount runs any more.
func TestUnmountLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})
	m := s.add("INBOX", 1, "Hi", day1, "hi\r\n")
	dir, mnt := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "txt"}})
	for _, ext := range []string{"eml", "txt"} {
		if _, err := os.ReadFile(filepath.Join(dir, "INBOX", m.Stem+"."+ext)); err != nil {
			t.Fatal(err)
		}
	}
	s.add("INBOX", 2, "More", day2, "more\r\n")
	eventually(t, "the new message is listed", func() bool { return len(names(t, filepath.Join(dir, "INBOX"))) == 5 })
	if err := mnt.Unmount(); err != nil {
		t.Fatal(err)
	}
	s.add("INBOX", 3, "Late", day3, "late\r\n") // reported after the unmount: dropped
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the mount, %d after the unmount:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}
}

func wrap(err error) error { return fmt.Errorf("INBOX UID 1: %w", err) }

// With the "sums" format each folder shows the checksum file, after the
// flags file; ls -l does not make it (it needs every body) but shows its
// exact size, and it follows a change of the folder. An empty folder has
// none until a message arrives.
func TestSumsFile(t *testing.T) {
	s := newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'}, cache.FolderInfo{Name: "Empty", Delim: '/'})
	m1 := s.add("INBOX", 1, "Hi", day1, "hi\r\n")
	dir, _ := testMount(t, nil, Account{Store: s, Formats: []string{"eml", "sums"}})
	want := []string{cache.FlagsName, m1.Stem + ".eml", cache.SumsName}
	if got := names(t, filepath.Join(dir, "INBOX")); !slices.Equal(got, want) {
		t.Errorf("INBOX: %q, want %q", got, want)
	}
	out, err := exec.Command("ls", "-l", filepath.Join(dir, "INBOX")).CombinedOutput()
	if err != nil {
		t.Fatalf("ls -l: %v\n%s", err, out)
	}
	if line := fmt.Sprintf(" %d ", len("1  "+m1.Stem+".eml\n")); !strings.Contains(string(out), line) {
		t.Errorf("ls -l shows no file of that size (%q):\n%s", line, out)
	}
	s.mu.Lock()
	calls := s.sums
	s.mu.Unlock()
	if calls != 0 {
		t.Errorf("ls -l made the checksum file %d times", calls)
	}
	p := filepath.Join(dir, "INBOX", cache.SumsName)
	fi, err := os.Stat(p)
	b, err2 := os.ReadFile(p)
	if err != nil || err2 != nil || fi.Size() != int64(len(b)) || string(b) != "1  "+m1.Stem+".eml\n" {
		t.Fatalf("stat %v, %v; read %q, %v", fi, err, b, err2)
	}
	m2 := s.add("INBOX", 2, "Again", day2, "again\r\n")
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), m2.Stem) {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("after a new message the checksum file shows %q, %v", b, err)
		}
	}

	empty := filepath.Join(dir, "Empty", cache.SumsName)
	if got := names(t, filepath.Join(dir, "Empty")); slices.Contains(got, cache.SumsName) {
		t.Errorf("an empty folder lists %q", got)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat of an empty folder's checksum file: %v, want ENOENT", err)
	}
	s.add("Empty", 3, "First", day2, "first\r\n")
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(empty); err == nil {
			break
		} else if time.Since(start) > 2*time.Second {
			t.Fatalf("after a first message: %v", err)
		}
	}
}
