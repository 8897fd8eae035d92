package cache_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mailfs/cache"
)

// openFake opens a cache on src and lists its one folder.
func openFake(t *testing.T, src *fakeSource) (*cache.Cache, string, []cache.Msg) {
	t.Helper()
	dir := t.TempDir()
	c := openCache(t, dir, src)
	msgs, err := c.Messages(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return c, dir, msgs
}

func cachedBodies(t *testing.T, dir string) []string {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", "*", "*.eml"))
	return found
}

// A body changed on disk behind the cache's back is not served: changed
// with its mtime, it is fetched again at the next open; changed with its
// mtime put back, `sync --verify` (Fill with verify) finds it by its hash.
func TestTamperedBodyIsFetchedAgain(t *testing.T) {
	want := []byte("Subject: s\r\n\r\nthe real body\r\n")
	src := &fakeSource{bodies: map[uint32][]byte{1: want}}
	c, dir, msgs := openFake(t, src)
	if got := readBody(t, c, "INBOX", msgs[0]); !bytes.Equal(got, want) {
		t.Fatalf("body %q", got)
	}
	paths := cachedBodies(t, dir)
	if len(paths) != 1 || src.fetches != 1 {
		t.Fatalf("cached %v after %d fetches", paths, src.fetches)
	}
	path := paths[0]
	fi, _ := os.Stat(path)
	tamper := bytes.ToUpper(want)

	if err := os.WriteFile(path, tamper, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, c, "INBOX", msgs[0]); !bytes.Equal(got, want) || src.fetches != 2 {
		t.Fatalf("after a write: %q, %d fetches", got, src.fetches)
	}

	if err := os.WriteFile(path, tamper, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if err := c.Fill(context.Background(), 1, false, nil); err != nil || src.fetches != 2 {
		t.Fatalf("a fill without verify: %v, %d fetches", err, src.fetches)
	}
	var last cache.Progress
	if err := c.Fill(context.Background(), 1, true, func(p cache.Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) || src.fetches != 3 || last.Damaged != 1 {
		t.Fatalf("after verify: %q, %d fetches, %d damaged", got, src.fetches, last.Damaged)
	}
}

// A body file of an older cache (no hash, mtime of the download) is not
// trusted: it is fetched once more.
func TestBodyWithoutHashIsNotTrusted(t *testing.T) {
	want := []byte("Subject: s\r\n\r\nbody\r\n")
	src := &fakeSource{bodies: map[uint32][]byte{1: want}}
	c, dir, msgs := openFake(t, src)
	readBody(t, c, "INBOX", msgs[0])
	path := cachedBodies(t, dir)[0]
	os.Remove(path)
	os.WriteFile(path, bytes.Repeat([]byte("x"), len(want)), 0o600) // the old bug's kind of body
	if got := readBody(t, c, "INBOX", msgs[0]); !bytes.Equal(got, want) || src.fetches != 2 {
		t.Fatalf("%q after %d fetches", got, src.fetches)
	}
	if err := c.VerifyBody("INBOX", msgs[0]); err != nil {
		t.Fatalf("verify after refetch: %v", err)
	}
	fi, _ := os.Stat(path)
	if !fi.ModTime().Equal(time.Unix(1e9, 0)) {
		t.Errorf("body mtime %v, want the INTERNALDATE", fi.ModTime())
	}
}

// Big bodies come in parts; a part cut off is fetched again from where
// it started, and the body is exact.
func TestBigBodyInPartsResumes(t *testing.T) {
	old := cache.PartSize
	cache.PartSize = 1000
	t.Cleanup(func() { cache.PartSize = old })
	want := make([]byte, 4500)
	for i := range want {
		want[i] = byte('a' + i%26)
	}
	src := &fakeSource{bodies: map[uint32][]byte{1: want}, cutParts: 2}
	c, dir, msgs := openFake(t, src)
	if got := readBody(t, c, "INBOX", msgs[0]); !bytes.Equal(got, want) {
		t.Fatalf("body of %d bytes differs", len(got))
	}
	if src.parts != 5+2 || src.fetches != 0 {
		t.Errorf("%d parts and %d whole fetches, want 7 parts (5 and 2 cut) and none", src.parts, src.fetches)
	}
	if err := c.VerifyBody("INBOX", msgs[0]); err != nil {
		t.Error(err)
	}
	if n := len(cachedBodies(t, dir)); n != 1 {
		t.Errorf("%d bodies", n)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", "*", ".part-*")); len(parts) > 0 {
		t.Errorf("temporary files left: %v", parts)
	}
}
