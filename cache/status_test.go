package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"mailfs/cache"
)

// statusFails is fakeSource with a server that stops answering STATUS.
type statusFails struct {
	*fakeSource
	err error
}

func (s *statusFails) Status(ctx context.Context, name string) (cache.Status, error) {
	if s.err != nil {
		return cache.Status{}, s.err
	}
	return s.fakeSource.Status(ctx, name)
}

// Status counts what the server lists and what is downloaded, and keeps
// the last sync's time and the last error across a reopen of the cache.
func TestStatusReport(t *testing.T) {
	src := &statusFails{fakeSource: &fakeSource{bodies: map[uint32][]byte{1: []byte("a\r\n"), 2: []byte("bb\r\n"), 3: []byte("ccc\r\n")}}}
	dir := t.TempDir()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	if err := c.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, _ := c.Messages(ctx, "INBOX")
	f, err := c.OpenBody(ctx, "INBOX", msgs[1].UIDValidity, msgs[1].UID)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := c.Status()
	if len(r.Folders) != 1 {
		t.Fatalf("folders %+v, want INBOX alone", r.Folders)
	}
	got := r.Folders[0]
	want := cache.FolderReport{Name: "INBOX", ServerMessages: 3, ServerBytes: 12, CachedMessages: 1, CachedBytes: 4}
	if got.Name != want.Name || got.ServerMessages != want.ServerMessages || got.ServerBytes != want.ServerBytes ||
		got.CachedMessages != want.CachedMessages || got.CachedBytes != want.CachedBytes {
		t.Errorf("status %+v, want %+v", got, want)
	}
	if got.LastSync == nil || got.LastSync.Before(before.Truncate(time.Second)) || r.LastSync == nil || !r.LastSync.Equal(*got.LastSync) {
		t.Errorf("last sync %v (account %v), want one after %v", got.LastSync, r.LastSync, before)
	}
	if got.LastError != "" || got.LastErrorAt != nil {
		t.Errorf("an error before any failed: %q at %v", got.LastError, got.LastErrorAt)
	}

	src.err = errors.New("server gone")
	if _, err := c.Sync(ctx, "INBOX"); err == nil {
		t.Fatal("sync did not fail")
	}
	synced := *got.LastSync
	c.Close()

	// Reopened without a server: the times are those of the last run.
	c, err = cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got = c.Status().Folders[0]
	if got.LastError != "server gone" || got.LastErrorAt == nil || got.LastSync == nil || !got.LastSync.Equal(synced) {
		t.Errorf("after the failure and a reopen: %+v, want the error and the last sync at %v", got, synced)
	}
	if got.ServerMessages != 3 || got.CachedMessages != 1 {
		t.Errorf("after a reopen the counts are %+v, want 3 listed, 1 cached (from the store)", got)
	}
	b, err := json.Marshal(c.Status())
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	json.Unmarshal(b, &generic)
	fo := generic["folders"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "server_messages", "server_bytes", "cached_messages", "cached_bytes", "last_sync", "last_error", "last_error_at"} {
		if _, ok := fo[k]; !ok {
			t.Errorf("JSON %s has no %q", b, k)
		}
	}
}
