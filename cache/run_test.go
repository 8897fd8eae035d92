package cache_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"mailfs/cache"
)

// watchingSource is a fakeSource with IDLE: Watch runs until its context
// ends.
type watchingSource struct {
	*fakeSource
	watching chan struct{} // closed when Watch started
	returned atomic.Bool   // set when Watch returned
}

func (s *watchingSource) Watch(ctx context.Context, _ string, _ func()) error {
	close(s.watching)
	<-ctx.Done()
	s.returned.Store(true)
	return ctx.Err()
}

// Close stops Run and its watcher and waits for them, though Run's own
// context never ends: the source may be closed after Close.
func TestCloseWaitsForRun(t *testing.T) {
	before := runtime.NumGoroutine()
	src := &watchingSource{fakeSource: &fakeSource{bodies: map[uint32][]byte{1: []byte("Subject: s\r\n\r\nx\r\n")}}, watching: make(chan struct{})}
	c, err := cache.Open(t.TempDir(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RefreshFolders(context.Background()); err != nil { // as a mount does first
		t.Fatal(err)
	}
	go c.Run(context.Background(), time.Hour)
	select {
	case <-src.watching:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not start watching INBOX")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !src.returned.Load() {
		t.Fatal("Close returned while Run's watcher still ran")
	}
	c.Run(context.Background(), time.Hour) // returns at once on a closed cache
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
