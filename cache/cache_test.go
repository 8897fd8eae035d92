package cache_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/demo"
	"mailfs/imapsrc/sample"
)

// open starts the in-memory demo server and opens a cache on it.
func open(t *testing.T, dir string) (*cache.Cache, *imapsrc.Source) {
	t.Helper()
	srv, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return openOn(t, srv, dir)
}

func openOn(t *testing.T, srv *demo.Server, dir string) (*cache.Cache, *imapsrc.Source) {
	t.Helper()
	src, err := imapsrc.Dial(context.Background(), imapsrc.Config{Addr: srv.Addr, TLS: imapsrc.TLSNone, User: srv.User, Password: srv.Password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return openCache(t, dir, src), src
}

// openCache opens a cache in dir on src, closed when the test ends, and
// lists the folders.
func openCache(t *testing.T, dir string, src cache.Source) *cache.Cache {
	t.Helper()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.RefreshFolders(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func readBody(t *testing.T, c *cache.Cache, folder string, m cache.Msg) []byte {
	t.Helper()
	f, err := c.OpenBody(context.Background(), folder, m.UIDValidity, m.UID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCacheServesStoredBodiesWithoutRefetch(t *testing.T) {
	srv, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	ctx := context.Background()

	raws := map[string]bool{}
	for _, m := range sample.Messages() {
		if m.Folder == "INBOX" {
			raws[string(m.Raw)] = true
		}
	}
	c, src := openOn(t, srv, dir)
	msgs, err := c.Messages(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(raws) {
		t.Fatalf("%d messages listed, %d in the sample", len(msgs), len(raws))
	}
	if src.BodyFetches() != 0 {
		t.Fatalf("listing fetched %d bodies", src.BodyFetches())
	}
	for _, m := range msgs {
		b := readBody(t, c, "INBOX", m)
		if !raws[string(b)] || int64(len(b)) != m.Size {
			t.Errorf("%s: %d bytes not a sample message (size %d)", m.Stem, len(b), m.Size)
		}
	}
	if got := src.BodyFetches(); got != int64(len(msgs)) {
		t.Errorf("%d fetches for %d messages", got, len(msgs))
	}
	c.Close()

	// Reopened: same names, no downloads; a truncated body is fetched again.
	c2, src2 := openOn(t, srv, dir)
	msgs2, err := c2.Messages(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if msgs2[i] != msgs[i] {
			t.Errorf("after reopen %+v became %+v", msgs[i], msgs2[i])
		}
		readBody(t, c2, "INBOX", msgs2[i])
	}
	if n := src2.BodyFetches(); n != 0 {
		t.Errorf("reopened cache fetched %d bodies, want 0", n)
	}
	var damaged string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if filepath.Ext(p) == ".eml" && damaged == "" {
			damaged = p
		}
		return nil
	})
	if err := os.Truncate(damaged, 10); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs2 {
		if b := readBody(t, c2, "INBOX", m); !raws[string(b)] {
			t.Errorf("%s: damaged body served", m.Stem)
		}
	}
	if n := src2.BodyFetches(); n != 1 {
		t.Errorf("%d fetches after damaging one body, want 1", n)
	}
	fi, err := os.Stat(damaged)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("body file mode: %v %v", fi.Mode(), err)
	}
}

func TestConcurrentReadsShareOneFetch(t *testing.T) {
	c, src := open(t, t.TempDir())
	msgs, err := c.Messages(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// The last message in name order, so that read-ahead has nothing to add.
	last := msgs[0]
	for _, m := range msgs {
		if m.Stem > last.Stem {
			last = m
		}
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = readBody(t, c, "INBOX", last)
		}()
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Error("concurrent readers got different bytes")
		}
	}
	if n := src.BodyFetches(); n != 1 {
		t.Errorf("%d fetches for 8 concurrent readers of one message, want 1", n)
	}
}

func TestCacheIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	open(t, dir)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	fi, err = os.Stat(filepath.Join(dir, "meta.db"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("meta.db mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestFillDownloadsEverythingOnce(t *testing.T) {
	c, src := open(t, t.TempDir())
	var last cache.Progress
	if err := c.Fill(context.Background(), 3, false, func(p cache.Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	n := int64(len(sample.Messages()))
	if last.MessagesDone != int(n) || last.Messages != int(n) || last.BytesDone != last.Bytes || last.Failed != 0 {
		t.Errorf("final progress %+v, want %d messages done", last, n)
	}
	if got := src.BodyFetches(); got != n {
		t.Errorf("%d fetches, want %d", got, n)
	}
	if err := c.Fill(context.Background(), 3, false, nil); err != nil {
		t.Fatal(err)
	}
	if got := src.BodyFetches(); got != n {
		t.Errorf("a second fill fetched %d more bodies", got-n)
	}
}

func TestSequentialReadsAreFetchedAhead(t *testing.T) {
	c, src := open(t, t.TempDir())
	msgs, err := c.Messages(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	byName := append([]cache.Msg(nil), msgs...)
	sort.Slice(byName, func(i, j int) bool { return byName[i].Stem < byName[j].Stem })
	readBody(t, c, "INBOX", byName[0])
	readBody(t, c, "INBOX", byName[1]) // sequential: the rest comes in one batch
	deadline := time.Now().Add(5 * time.Second)
	for src.BodyFetches() < int64(len(msgs)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := src.BodyFetches(); got != int64(len(msgs)) {
		t.Fatalf("after two reads in name order, %d of %d bodies were fetched: no read-ahead", got, len(msgs))
	}
	for _, m := range byName[2:] {
		readBody(t, c, "INBOX", m)
	}
	if got := src.BodyFetches(); got != int64(len(msgs)) {
		t.Errorf("%d fetches for %d messages read in order", got, len(msgs))
	}
}
