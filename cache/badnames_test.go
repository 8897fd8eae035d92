package cache_test

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"mailfs/cache"
)

// namesSource is fakeSource under many folder names, each holding the
// same messages.
type namesSource struct {
	*fakeSource
	names []string
}

func (s namesSource) Folders(context.Context) ([]cache.FolderInfo, error) {
	var out []cache.FolderInfo
	for _, n := range s.names {
		out = append(out, cache.FolderInfo{Name: n, Delim: '/'})
	}
	return out, nil
}

// TestOddFolderNames: an empty folder name does not fail the folder list
// (bbolt takes no empty key); names with NUL, CR, LF, control characters
// or path syntax are stored, synced, read and kept across a reopen, and
// their bodies stay inside the cache.
func TestOddFolderNames(t *testing.T) {
	body := []byte("Subject: s\r\n\r\nbody\r\n")
	odd := []string{"INBOX", "nul\x00x", "cr\r\nlf", "ctl\x01\x1b[2J", "a//b", "../up", "/abs", "%00", "bad\xffutf8"}
	src := namesSource{&fakeSource{bodies: map[uint32][]byte{1: body}}, append([]string{""}, odd...)}
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.SyncAll(ctx); err != nil {
		t.Fatalf("SyncAll: %v", err)
	}
	names := func(c *cache.Cache) []string {
		var out []string
		for _, f := range c.Folders() {
			out = append(out, f.Name)
		}
		return out
	}
	want := append([]string(nil), odd...)
	sort.Strings(want)
	if got := names(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("folders %q, want %q", got, want)
	}
	for _, name := range odd {
		msgs, err := c.Messages(ctx, name)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%q: %d messages, %v", name, len(msgs), err)
		}
		f, err := c.OpenBody(ctx, name, msgs[0].UIDValidity, msgs[0].UID)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		got, _ := io.ReadAll(f)
		if string(got) != string(body) || !strings.HasPrefix(f.Name(), dir+string(filepath.Separator)) {
			t.Errorf("%q: body %q at %s", name, got, f.Name())
		}
		f.Close()
	}
	c.Close()
	c, err = cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := names(c); !reflect.DeepEqual(got, want) {
		t.Errorf("after reopening: folders %q, want %q", got, want)
	}
}
