package fs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mailfs/cache"
)

// statusStore is a fake store that reports a status with one more folder
// at each call, so that each version has another size.
type statusStore struct {
	*fakeStore
	calls atomic.Int32
}

func (s *statusStore) Status() cache.StatusReport {
	r := cache.StatusReport{Generated: time.Now()}
	for i := range s.calls.Add(1) {
		r.Folders = append(r.Folders, cache.FolderReport{Name: string(rune('a' + i))})
	}
	return r
}

// The status file: found by name, not listed; a stat and the reads after
// it see one version, whole, until it is older than statusFresh; then the
// next stat and read see a new one. It cannot be written.
func TestStatusFile(t *testing.T) {
	s := &statusStore{fakeStore: newFakeStore(t, cache.FolderInfo{Name: "INBOX", Delim: '/'})}
	dir, _ := testMount(t, nil, Account{Store: s})
	p := filepath.Join(dir, cache.StatusName)
	if slices.Contains(names(t, dir), cache.StatusName) {
		t.Errorf("the status file is listed: %q", names(t, dir))
	}
	read := func() (int64, cache.StatusReport) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r cache.StatusReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, b)
		}
		if fi.Size() != int64(len(b)) {
			t.Errorf("stat says %d bytes, a read gives %d", fi.Size(), len(b))
		}
		return fi.Size(), r
	}
	size1, r1 := read()
	size2, r2 := read()
	if size1 != size2 || len(r1.Folders) != len(r2.Folders) {
		t.Errorf("two looks within %v: %d and %d bytes, %d and %d folders; want one version", statusFresh, size1, size2, len(r1.Folders), len(r2.Folders))
	}
	time.Sleep(statusFresh + 100*time.Millisecond)
	size3, r3 := read()
	if size3 == size1 || len(r3.Folders) == len(r1.Folders) || !r3.Generated.After(r1.Generated) {
		t.Errorf("after %v: %d bytes and %d folders, made %v; want a new version (was %d bytes, %d folders)", statusFresh, size3, len(r3.Folders), r3.Generated, size1, len(r1.Folders))
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing the status file: %v, want EROFS", err)
	}
}
