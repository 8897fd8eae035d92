package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailfs/cache"
)

// bigFake is a fake server with enough messages that meta.db spans many
// pages (leaves and branches).
func bigFake() *fakeSource {
	src := &fakeSource{bodies: map[uint32][]byte{}}
	for uid := uint32(1); uid <= 24; uid++ {
		src.bodies[uid] = fmt.Appendf(nil, "Subject: message %d %s\r\n\r\nbody %d\r\n", uid, strings.Repeat("x", 300+int(uid%100)), uid)
	}
	return src
}

// readAll lists INBOX and checks that every body is served exactly.
func readAll(t *testing.T, c *cache.Cache, src *fakeSource) {
	t.Helper()
	ctx := context.Background()
	if err := c.RefreshFolders(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Messages(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(src.bodies) {
		t.Fatalf("%d messages listed, the server has %d", len(msgs), len(src.bodies))
	}
	// Everything first, so no read-ahead is left running at Close.
	if err := c.Fill(ctx, 2, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		f, err := c.OpenBody(ctx, "INBOX", m.UIDValidity, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, src.bodies[m.UID]) {
			t.Fatalf("UID %d: served %q, the server has %q", m.UID, b, src.bodies[m.UID])
		}
	}
}

// filled returns a cache folder holding every message of src, closed.
func filled(t *testing.T, src *fakeSource) string {
	t.Helper()
	dir := t.TempDir()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, c, src)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStaleTemporariesAreRemoved: the temporary files a killed download
// leaves are gone after Open; complete bodies stay and are served without
// a download.
func TestStaleTemporariesAreRemoved(t *testing.T) {
	src := bigFake()
	dir := filled(t, src)
	emls, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", "*", "*.eml"))
	if len(emls) != len(src.bodies) {
		t.Fatalf("%d bodies cached, want %d", len(emls), len(src.bodies))
	}
	var parts []string
	for i, d := range []string{filepath.Dir(emls[0]), filepath.Dir(filepath.Dir(emls[0])), filepath.Join(dir, "bodies", "0123456789abcdef", "7")} {
		os.MkdirAll(d, 0o700)
		p := filepath.Join(d, fmt.Sprintf(".part-%d", 1000+i))
		if err := os.WriteFile(p, []byte("half a messa"), 0o600); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	before := src.fetches.Load()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range parts {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still there after Open", p)
		}
	}
	readAll(t, c, src)
	if n := src.fetches.Load() - before; n != 0 {
		t.Errorf("%d bodies fetched again: the cleanup removed complete bodies", n)
	}
}
