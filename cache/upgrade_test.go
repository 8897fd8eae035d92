package cache_test

import (
	"context"
	"errors"
	"testing"

	"mailfs/cache"
)

func stems(t *testing.T, c *cache.Cache) []string {
	t.Helper()
	msgs, err := c.Messages(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Stem)
	}
	return out
}

// TestNamesKeptAcrossResizeUpgradeAndWipe: a size corrected from the body
// renames nothing (the ID of a message without a Message-ID follows the
// size the server listed), a cache written before the listed size was
// kept names its messages from its records without downloading a body,
// and a wiped cache names them as before.
func TestNamesKeptAcrossResizeUpgradeAndWipe(t *testing.T) {
	src := &fakeSource{sizeLie: 3, bodies: map[uint32][]byte{
		1: []byte("Subject: no id\r\n\r\nbody\r\n"),
		2: []byte("Message-ID: <a@x>\r\nSubject: with id\r\n\r\nbody\r\n"),
		3: []byte("Message-ID: <a@x>\r\nSubject: with id\r\n\r\nbody\r\n"), // stored twice
	}}
	dir := t.TempDir()
	c := openCache(t, dir, src)
	first := stems(t, c)
	if len(first) != 3 || first[1] == first[2] {
		t.Fatalf("names %q", first)
	}
	msgs, _ := c.Messages(context.Background(), "INBOX")
	for _, m := range msgs {
		// The server's size was wrong: the first open finds out.
		if _, err := c.OpenBody(context.Background(), "INBOX", m.UIDValidity, m.UID); !errors.Is(err, cache.ErrSizeChanged) {
			t.Fatalf("open: %v, want ErrSizeChanged", err)
		}
	}
	if got := stems(t, c); !equal(got, first) {
		t.Errorf("after the sizes were corrected: %q, before %q", got, first)
	}
	c.Close()
	c = openCache(t, dir, src)
	if got := stems(t, c); !equal(got, first) {
		t.Errorf("remounted after the sizes were corrected: %q, before %q", got, first)
	}
	c.Close()

	if err := cache.WriteOldRecords(dir, "INBOX"); err != nil {
		t.Fatal(err)
	}
	fetched := src.fetches
	c = openCache(t, dir, src)
	if got := stems(t, c); len(got) != 3 || got[1] != first[1] || got[2] != first[2] {
		// Without a Message-ID an old record only knows the corrected size.
		t.Errorf("from old records: %q, before %q", got, first)
	}
	msgs, _ = c.Messages(context.Background(), "INBOX")
	for _, m := range msgs {
		readBody(t, c, "INBOX", m)
	}
	if n := src.fetches - fetched; n != 0 {
		t.Errorf("%d bodies downloaded again after the upgrade", n)
	}
	c.Close()

	if got := stems(t, openCache(t, t.TempDir(), src)); !equal(got, first) {
		t.Errorf("wiped cache: %q, before %q", got, first)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
