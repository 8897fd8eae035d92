package cache_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mailfs/cache"
)

// stage writes b into a new staged file.
func stage(t *testing.T, c *cache.Cache, b []byte) *cache.Staged {
	t.Helper()
	st, err := c.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return st
}

// Commit appends a message once: the same bytes again append nothing; a
// refused append keeps the data until the same bytes are appended; a file
// that is not a message is refused.
func TestCommit(t *testing.T) {
	src := &fakeSource{bodies: map[uint32][]byte{1: []byte("Subject: old\r\n\r\nold\r\n")}}
	dir := t.TempDir()
	c := openCache(t, dir, src)
	ctx := context.Background()
	date := time.Date(2020, 5, 1, 12, 0, 0, 0, time.UTC)
	msg := []byte("Subject: new\r\n\r\nnew body\r\n")

	if err := c.Commit(ctx, "INBOX", "x", stage(t, c, msg), date); err != nil {
		t.Fatal(err)
	}
	if src.appends != 1 {
		t.Fatalf("%d appends, want 1", src.appends)
	}
	msgs, _ := c.Messages(ctx, "INBOX")
	if len(msgs) != 2 {
		t.Fatalf("%d messages after the append, want 2", len(msgs))
	}
	// The same bytes again, and the message that was there before.
	for _, b := range [][]byte{msg, src.bodies[1]} {
		if err := c.Commit(ctx, "INBOX", "x", stage(t, c, b), date); err != nil {
			t.Fatal(err)
		}
	}
	if src.appends != 1 {
		t.Fatalf("%d appends after writing held messages again, want 1", src.appends)
	}

	// Refused: kept, with the cause in the error.
	other := []byte("Subject: other\r\n\r\nother\r\n")
	src.appendErr = cache.ErrOverQuota
	err := c.Commit(ctx, "INBOX", "x", stage(t, c, other), date)
	if !errors.Is(err, cache.ErrOverQuota) {
		t.Fatalf("refused append: %v, want ErrOverQuota", err)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "staging", "kept", "*.eml"))
	if len(kept) != 1 {
		t.Fatalf("kept files %q, want one", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != string(other) {
		t.Errorf("kept %q, want %q", b, other)
	}
	if fi, _ := os.Stat(kept[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("kept file mode %v, want 0600", fi.Mode().Perm())
	}
	src.appendErr = nil
	if err := c.Commit(ctx, "INBOX", "x", stage(t, c, other), date); err != nil {
		t.Fatal(err)
	}
	if kept, _ := filepath.Glob(filepath.Join(dir, "staging", "kept", "*.eml")); len(kept) != 0 {
		t.Errorf("kept files %q after the append", kept)
	}

	for _, bad := range []string{"", "just text\r\n", ": no name\r\n"} {
		if err := c.Commit(ctx, "INBOX", "x", stage(t, c, []byte(bad)), date); !errors.Is(err, cache.ErrNotMessage) {
			t.Errorf("Commit(%q) = %v, want ErrNotMessage", bad, err)
		}
	}
	if src.appends != 2 {
		t.Errorf("%d appends, want 2", src.appends)
	}
	// What is left are emptied files kept for reuse, removed at Close.
	left, _ := filepath.Glob(filepath.Join(dir, "staging", ".w-*"))
	for _, p := range left {
		if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
			t.Errorf("staged data left in %s", p)
		}
	}
	c.Close()
	if left, _ := filepath.Glob(filepath.Join(dir, "staging", ".w-*")); len(left) != 0 {
		t.Errorf("staged files left after Close: %q", left)
	}
}
