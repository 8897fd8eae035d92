package cache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
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

// slogTo logs in text to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

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
	if err := c.Fill(ctx, 1, false, nil); err != nil {
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

// garble overwrites n bytes of path at off with random bytes.
func garble(t *testing.T, path string, off int64, n int, rnd *rand.Rand) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	rnd.Read(b)
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedStoreIsRebuilt: whatever happened to meta.db, Open neither
// panics nor fails, and the cache serves the server's exact bytes again.
func TestDamagedStoreIsRebuilt(t *testing.T) {
	src := bigFake()
	pristine := filled(t, src)
	db, err := os.ReadFile(filepath.Join(pristine, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	pages := usedPages(db)
	if pages < 6 || pages*page > int64(len(db)) {
		t.Fatalf("meta.db uses %d pages: too few to damage in different places", pages)
	}
	type damage struct {
		name   string
		detect bool // the damage must be noticed (not in a free page)
		do     func(t *testing.T, path string, rnd *rand.Rand)
	}
	damages := []damage{
		{"cut to 5000 bytes", true, func(t *testing.T, p string, _ *rand.Rand) { os.Truncate(p, 5000) }},
		{"cut to 3 pages", true, func(t *testing.T, p string, _ *rand.Rand) { os.Truncate(p, 3*page) }},
		{"cut by one page", true, func(t *testing.T, p string, _ *rand.Rand) { os.Truncate(p, (pages-1)*page) }},
		{"cut in half", false, func(t *testing.T, p string, _ *rand.Rand) { os.Truncate(p, int64(len(db)/2)) }},
		{"both meta pages garbled", true, func(t *testing.T, p string, rnd *rand.Rand) { garble(t, p, 0, 2*page, rnd) }},
		{"one meta page garbled", false, func(t *testing.T, p string, rnd *rand.Rand) { garble(t, p, page, page, rnd) }},
		{"all data pages garbled", true, func(t *testing.T, p string, rnd *rand.Rand) { garble(t, p, 2*page, int(pages-2)*page, rnd) }},
		{"random bytes here and there", false, func(t *testing.T, p string, rnd *rand.Rand) {
			for range 20 {
				garble(t, p, 2*page+rnd.Int63n((pages-2)*page-16), 16, rnd)
			}
		}},
	}
	for i := int64(2); i < pages; i++ {
		damages = append(damages,
			damage{fmt.Sprintf("page %d garbled", i), false, func(t *testing.T, p string, rnd *rand.Rand) { garble(t, p, i*page, page, rnd) }},
			damage{fmt.Sprintf("page %d header garbled", i), false, func(t *testing.T, p string, rnd *rand.Rand) { garble(t, p, i*page, 16, rnd) }},
		)
	}
	noticed := 0
	for n, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := filled(t, src) // as pristine (a copy would lose hashes and mtimes)
			path := filepath.Join(dir, "meta.db")
			d.do(t, path, rand.New(rand.NewSource(int64(n))))

			var logs bytes.Buffer
			fetched := src.fetches
			c, err := cache.Open(dir, src, slogTo(&logs))
			if err != nil {
				t.Fatalf("open a damaged cache: %v", err)
			}
			readAll(t, c, src)
			if n := src.fetches - fetched; n != 0 {
				t.Errorf("%d bodies fetched again, though they match their hashes", n)
			}
			if _, err := c.Sync(context.Background(), "INBOX"); err != nil {
				t.Fatal(err)
			}
			c.Close()
			aside, _ := filepath.Glob(path + ".damaged-*")
			if len(aside) > 0 {
				noticed++
				if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
					t.Errorf("%d warnings about the rebuild, want one:\n%s", n, logs.String())
				}
			} else if d.detect {
				t.Errorf("damage not noticed (nothing moved aside):\n%s", logs.String())
			}

			// Rebuilt, the cache is whole: reopened, nothing is fetched.
			before := src.fetches
			c, err = cache.Open(dir, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			readAll(t, c, src)
			if n := src.fetches - before; n != 0 {
				t.Errorf("%d bodies fetched again after the rebuild was complete", n)
			}
			if again, _ := filepath.Glob(path + ".damaged-*"); len(again) != len(aside) {
				t.Errorf("the rebuilt store was found damaged: %v", again)
			}
		})
	}
	t.Logf("%d of %d damages noticed", noticed, len(damages))
	// Some pages of the file are free (left by earlier transactions), and
	// damage there is harmless; but most of them are in use.
	if noticed < len(damages)/2 {
		t.Errorf("only %d of %d damages were noticed", noticed, len(damages))
	}
}

// usedPages reads from a bbolt file how many pages its newest meta page
// says are in use (its high water mark).
func usedPages(db []byte) int64 {
	// Each meta page: a 16-byte page header, then magic, version, page
	// size, flags (4 bytes each), the root bucket (16), the freelist page
	// (8), the high water mark (8) and the transaction ID (8).
	const pgid, txid = 16 + 16 + 16 + 8, 16 + 16 + 16 + 8 + 8
	meta := db[:4096]
	if binary.LittleEndian.Uint64(db[4096+txid:]) > binary.LittleEndian.Uint64(meta[txid:]) {
		meta = db[4096:]
	}
	return int64(binary.LittleEndian.Uint64(meta[pgid:]))
}

// TestRebuildDropsDamagedBodies: after the store was lost, a body that no
// longer matches its hash is not served, even with its size and mtime
// right; the others are kept.
func TestRebuildDropsDamagedBodies(t *testing.T) {
	src := bigFake()
	dir := filled(t, src)
	garble(t, filepath.Join(dir, "meta.db"), 0, 2*4096, rand.New(rand.NewSource(1)))
	emls, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", "*", "*.eml"))
	if len(emls) != len(src.bodies) {
		t.Fatalf("%d bodies cached, want %d", len(emls), len(src.bodies))
	}
	for _, p := range emls[:2] {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		garble(t, p, fi.Size()/2, 1, rand.New(rand.NewSource(2)))
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}
	fetched := src.fetches
	var logs bytes.Buffer
	c, err := cache.Open(dir, src, slogTo(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readAll(t, c, src)
	if n := src.fetches - fetched; n != 2 {
		t.Errorf("%d bodies fetched after the rebuild, want the 2 damaged ones", n)
	}
	if !strings.Contains(logs.String(), "bodies_kept="+fmt.Sprint(len(emls)-2)+" bodies_dropped=2") {
		t.Errorf("the rebuild does not say what it kept:\n%s", logs.String())
	}
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
	before := src.fetches
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
	if n := src.fetches - before; n != 0 {
		t.Errorf("%d bodies fetched again: the cleanup removed complete bodies", n)
	}
}
