package cache_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"mailfs/cache"
)

// The checksum file lists every message's SHA-256 under its file name,
// sorted by name; it is kept until the listing changes, and the hashes
// are kept with the bodies, so a cache opened again reads no body.
func TestSumsFile(t *testing.T) {
	bodies := map[uint32][]byte{
		1: []byte("Subject: one\r\n\r\nfirst\r\n"),
		2: []byte("Subject: two\r\n\r\nsecond\r\n"),
	}
	src := &fakeSource{bodies: bodies}
	c, dir, msgs := openFake(t, src)
	ctx := context.Background()
	size, attrTime, err := c.SumsAttr(ctx, "INBOX")
	if err != nil || src.fetches != 0 {
		t.Fatalf("SumsAttr: %v after %d fetches, want none", err, src.fetches)
	}
	got, mtime, err := c.SumsFile(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != size || !mtime.Equal(attrTime) {
		t.Errorf("SumsAttr said %d bytes at %v, the file has %d at %v", size, attrTime, len(got), mtime)
	}
	var lines []string
	for _, m := range msgs {
		sum := sha256.Sum256(bodies[m.UID])
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+m.Stem+".eml\n")
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	want := ""
	for _, l := range lines {
		want += l
	}
	if string(got) != want {
		t.Fatalf("SHA256SUMS:\n%s\nwant:\n%s", got, want)
	}
	if src.fetches != 2 {
		t.Errorf("%d bodies fetched, want 2", src.fetches)
	}
	again, mtime2, _ := c.SumsFile(ctx, "INBOX")
	if !bytes.Equal(again, got) || !mtime2.Equal(mtime) || src.fetches != 2 {
		t.Errorf("second call: %q %v, %d fetches", again, mtime2, src.fetches)
	}
	c.Close()

	// Opened again, with the bodies' bytes changed behind the cache's
	// back (size and mtime kept): the kept hashes are used, no body is
	// read. (sync --verify is what finds such damage.)
	for _, p := range cachedBodies(t, dir) {
		fi, _ := os.Stat(p)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.ToUpper(b), 0o600)
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}
	c2 := openCache(t, dir, src)
	if _, err := c2.Messages(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if again, _, err := c2.SumsFile(ctx, "INBOX"); err != nil || !bytes.Equal(again, got) || src.fetches != 2 {
		t.Errorf("after reopening: %q, %v, %d fetches", again, err, src.fetches)
	}
}

// A damaged body is found when its SHA-256 is first computed (it is
// checked against its BLAKE3 hash on the way) and fetched again, so the
// file lists the server's bytes.
func TestSumsFileRefetchesDamagedBody(t *testing.T) {
	want := []byte("Subject: s\r\n\r\nthe real body\r\n")
	src := &fakeSource{bodies: map[uint32][]byte{1: want}}
	c, dir, msgs := openFake(t, src)
	readBody(t, c, "INBOX", msgs[0])
	path := cachedBodies(t, dir)[0]
	fi, _ := os.Stat(path)
	os.WriteFile(path, bytes.ToUpper(want), 0o600)
	os.Chtimes(path, fi.ModTime(), fi.ModTime())

	got, _, err := c.SumsFile(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want)
	if !bytes.HasPrefix(got, []byte(hex.EncodeToString(sum[:]))) || src.fetches != 2 {
		t.Errorf("SHA256SUMS %q after %d fetches, want the real body's hash after 2", got, src.fetches)
	}
}

// Names that sha256sum escapes are escaped the same way: compared with
// what sha256sum itself writes.
func TestSumLineEscapesAsSha256sum(t *testing.T) {
	tool, err := exec.LookPath("sha256sum")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sha256sum is missing")
		}
		t.Skip("no sha256sum")
	}
	dir := t.TempDir()
	names := []string{`back\slash`, "carriage\rreturn", "new\nline", "plain name [abc].eml", " leading space"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "--", n)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		sum := sha256.Sum256([]byte(n))
		cache.WriteSumLine(&b, sum[:], n)
		if b.String() != string(out) {
			t.Errorf("%q: wrote %q, sha256sum writes %q", n, b.String(), out)
		}
		if l := cache.SumLineLen(n); l != b.Len() {
			t.Errorf("%q: line of %d bytes, SumLineLen says %d", n, b.Len(), l)
		}
		cmd = exec.Command(tool, "-c", "--strict")
		cmd.Dir, cmd.Stdin = dir, &b
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%q: sha256sum -c: %v\n%s", n, err, out)
		}
	}
}
