package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

// lookAlike is a message whose Message-ID, size and date depend only on
// id: relay and text (of equal lengths) change its bytes only.
func lookAlike(id, relay, text string) []byte {
	return fmt.Appendf(nil, "Received: from %s.example by mx.example; Fri, 1 Mar 2024 10:00:00 +0000\r\n"+
		"Message-ID: <%s@example>\r\nSubject: the same look\r\n\r\n%s\r\n", relay, id, text)
}

// TestUIDValidityChangeKeepsOnlyTheSameBodies: across a renumbering, a
// cached body is kept for the same message (no download) and never given
// to another one that looks like it.
func TestUIDValidityChangeKeepsOnlyTheSameBodies(t *testing.T) {
	srv := dovecottest.Start(t)
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	ordinary := 0
	for _, m := range sample.Messages() {
		if m.Folder == "INBOX" {
			srv.Append(t, "INBOX", m.Raw, m.Date, m.Flags...)
			ordinary++
		}
	}
	// Twins: the same Message-ID, size and date, other bytes.
	srv.Append(t, "INBOX", lookAlike("twin", "relay-1", "I am the first twin."), date)
	srv.Append(t, "INBOX", lookAlike("twin", "relay-2", "I am the other twin."), date)
	// A message that is replaced by a look-alike before the renumbering.
	replaced := srv.Append(t, "INBOX", lookAlike("again", "relay-1", "First delivery."), date)

	src, err := imapsrc.Dial(context.Background(), imapsrc.Config{Addr: srv.Addr, TLS: imapsrc.TLSNone, User: srv.User, Password: srv.Password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dir := t.TempDir()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.RefreshFolders(ctx); err != nil {
		t.Fatal(err)
	}
	exact := func(when string) {
		t.Helper()
		msgs, err := c.Messages(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != ordinary+3 {
			t.Fatalf("%s: %d messages, want %d", when, len(msgs), ordinary+3)
		}
		for _, m := range msgs {
			if got, want := readBody(t, c, "INBOX", m), srv.Fetch(t, "INBOX", m.UID); !bytes.Equal(got, want) {
				t.Errorf("%s: UID %d served as\n%s\nthe server has\n%s", when, m.UID, got, want)
			}
		}
	}
	exact("before")
	// One ordinary body changes on disk, its size and mtime kept.
	msgs, _ := c.Messages(ctx, "INBOX")
	damaged, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", fmt.Sprint(msgs[0].UIDValidity), fmt.Sprint(msgs[0].UID)+".eml"))
	if len(damaged) != 1 {
		t.Fatalf("no cached body of UID %d: %v", msgs[0].UID, damaged)
	}
	fi, err := os.Stat(damaged[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(damaged[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f.ReadAt(b, fi.Size()-3) // in the body, past the header
	f.WriteAt([]byte{b[0] ^ 1}, fi.Size()-3)
	f.Close()
	os.Chtimes(damaged[0], fi.ModTime(), fi.ModTime())

	srv.Expunge(t, "INBOX", replaced)
	srv.Append(t, "INBOX", lookAlike("again", "relay-2", "Later delivery."), date)
	old := srv.UIDValidity(t, "INBOX")
	srv.Renumber(t, "INBOX")
	if srv.UIDValidity(t, "INBOX") == old {
		t.Fatal("UIDVALIDITY did not change")
	}
	fetched := src.BodyFetches()
	if _, err := c.Sync(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	exact("after the renumbering")
	// The twins, the replacement and the damaged body are downloaded;
	// the rest is kept.
	if n := src.BodyFetches() - fetched; n != 4 {
		t.Errorf("%d bodies downloaded after the renumbering, want 4 (the look-alikes and the damaged one)", n)
	}
}

// TestRenumberingCutShortKeepsBodies: a sync after a UIDVALIDITY change
// whose context ends while it compares headers changes nothing; the next
// sync keeps every body.
func TestRenumberingCutShortKeepsBodies(t *testing.T) {
	src := bigFake()
	for uid, b := range src.bodies {
		src.bodies[uid] = fmt.Appendf(nil, "Message-ID: <%d@example>\r\n%s", uid, b)
	}
	dir := filled(t, src)
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src.renumbered = true
	ctx, cancel := context.WithCancel(context.Background())
	src.onHeaders = func() error { cancel(); return ctx.Err() }
	if _, err := c.Sync(ctx, "INBOX"); err == nil {
		t.Fatal("a sync whose context ended succeeded")
	}
	src.onHeaders = nil
	fetched := src.fetches
	readAll(t, c, src)
	if n := src.fetches - fetched; n != 0 {
		t.Errorf("%d bodies downloaded after the renumbering, want 0", n)
	}
	if msgs, _ := c.Messages(context.Background(), "INBOX"); len(msgs) == 0 || msgs[0].UIDValidity != 10 {
		t.Errorf("not renumbered: %v", msgs)
	}
}
