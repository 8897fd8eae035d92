package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrent writes and reads at once; run with -race it fails if the
// buffer is not guarded.
func TestConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}()
	for range 100 {
		_ = b.String()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 100 {
		t.Errorf("%d lines, want 100", n)
	}
	var nilBuf *Buffer
	if nilBuf.String() != "" {
		t.Error("a nil buffer is not empty")
	}
}
