package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"mailfs/cache"
)

// fakeStore is a Store in memory: folders of messages, bodies and views
// served from files in a temporary directory, and counters of what the
// file system asked for. Its messages change only through add and
// remove, which report the change as the cache does.
type fakeStore struct {
	dir string

	mu       sync.Mutex
	folders  []cache.FolderInfo
	msgs     map[string][]cache.Msg // by folder, by UID
	bodies   map[string][]byte      // by stem
	views    map[string]int64       // sizes of rendered views, by file name
	flags    map[string][]byte      // flags files, by folder
	failing  map[string]error       // Messages of this folder fails so
	openErr  error                  // OpenBody and OpenView fail so
	unlisted map[string]bool        // folders not listed yet (Newest not known)
	renders  int                    // views rendered
	opens    int                    // OpenBody and OpenView calls
	sums     int                    // SumsFile calls
	onChange func(cache.Change)
}

func newFakeStore(t *testing.T, folders ...cache.FolderInfo) *fakeStore {
	return &fakeStore{
		dir: t.TempDir(), folders: folders, msgs: map[string][]cache.Msg{}, bodies: map[string][]byte{},
		views: map[string]int64{}, flags: map[string][]byte{}, failing: map[string]error{}, unlisted: map[string]bool{},
	}
}

// add puts a message into folder and reports it. Its stem is
// "DATE subject [uid]"; the same stem and link in two folders are one
// message (hard links).
func (s *fakeStore) add(folder string, uid uint32, subject string, date time.Time, body string) cache.Msg {
	m := cache.Msg{UIDValidity: 1, UID: uid, Size: int64(len(body)), Date: date,
		Stem: fmt.Sprintf("%s %s [%d]", date.Format("2006-01-02 150405"), subject, uid), Link: uint64(uid)}
	s.mu.Lock()
	s.msgs[folder] = append(s.msgs[folder], m)
	sort.Slice(s.msgs[folder], func(i, j int) bool { return s.msgs[folder][i].UID < s.msgs[folder][j].UID })
	s.bodies[m.Stem] = []byte(body)
	fn := s.onChange
	s.mu.Unlock()
	if fn != nil {
		fn(cache.Change{Folder: folder, Added: []cache.Msg{m}})
	}
	return m
}

// remove expunges a message and reports it.
func (s *fakeStore) remove(folder string, uid uint32) {
	s.mu.Lock()
	var gone []cache.Msg
	kept := s.msgs[folder][:0:0]
	for _, m := range s.msgs[folder] {
		if m.UID == uid {
			gone = append(gone, m)
		} else {
			kept = append(kept, m)
		}
	}
	s.msgs[folder] = kept
	fn := s.onChange
	s.mu.Unlock()
	if fn != nil {
		fn(cache.Change{Folder: folder, Removed: gone})
	}
}

func (s *fakeStore) count(n *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *n
}

func (s *fakeStore) Folders() []cache.FolderInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cache.FolderInfo(nil), s.folders...)
}

func (s *fakeStore) Messages(_ context.Context, folder string) ([]cache.Msg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing[folder]; err != nil {
		return nil, err
	}
	return s.msgs[folder], nil
}

func (s *fakeStore) Lookup(folder, stem string) (cache.Msg, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs[folder] {
		if m.Stem == stem {
			return m, true
		}
	}
	return cache.Msg{}, false
}

func (s *fakeStore) Message(folder string, uv, uid uint32) (cache.Msg, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs[folder] {
		if m.UIDValidity == uv && m.UID == uid {
			return m, true
		}
	}
	return cache.Msg{}, false
}

func (s *fakeStore) Holders(stem string, link uint64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for folder, msgs := range s.msgs {
		for _, m := range msgs {
			if m.Stem == stem && m.Link == link {
				out = append(out, folder)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *fakeStore) VerifyLinks(context.Context, string, uint64) error { return nil }
func (s *fakeStore) LinksVerified(string, uint64) bool                 { return true }

func (s *fakeStore) message(folder string, uid uint32) (cache.Msg, []byte, error) {
	for _, m := range s.msgs[folder] {
		if m.UID == uid {
			return m, s.bodies[m.Stem], nil
		}
	}
	return cache.Msg{}, nil, fmt.Errorf("%q UID %d: %w", folder, uid, cache.ErrGone)
}

// file writes b to a file named name once and opens it.
func (s *fakeStore) file(name string, b []byte) (*os.File, error) {
	p := filepath.Join(s.dir, name)
	if _, err := os.Stat(p); err != nil {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, err
		}
	}
	return os.Open(p)
}

func (s *fakeStore) OpenBody(_ context.Context, folder string, _, uid uint32) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	if s.openErr != nil {
		return nil, s.openErr
	}
	m, body, err := s.message(folder, uid)
	if err != nil {
		return nil, err
	}
	return s.file(m.Stem+".eml", body)
}

func (s *fakeStore) BodySize(_ context.Context, folder string, _, uid uint32) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, body, err := s.message(folder, uid)
	return int64(len(body)), err
}

// view "renders" a message: the body in upper case, after a line naming
// the format.
func view(format string, body []byte) []byte {
	return append([]byte("<"+format+">\n"), bytes.ToUpper(body)...)
}

func (s *fakeStore) KnownViewSize(folder string, _, uid uint32, format string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _, err := s.message(folder, uid)
	if err != nil {
		return -1, false
	}
	size, ok := s.views[m.Stem+"."+format]
	if !ok {
		return -1, false
	}
	return size, true
}

func (s *fakeStore) ViewSize(ctx context.Context, folder string, uv, uid uint32, format string) (int64, error) {
	f, err := s.OpenView(ctx, folder, uv, uid, format)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (s *fakeStore) OpenView(_ context.Context, folder string, _, uid uint32, format string) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	if s.openErr != nil {
		return nil, s.openErr
	}
	m, body, err := s.message(folder, uid)
	if err != nil {
		return nil, err
	}
	name := m.Stem + "." + format
	if _, ok := s.views[name]; !ok {
		s.renders++
		s.views[name] = int64(len(view(format, body)))
	}
	return s.file(name, view(format, body))
}

func (s *fakeStore) OnChange(fn func(cache.Change)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = fn
}

// flagsDate is the mtime of every flags file.
var flagsDate = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func (s *fakeStore) FlagsFile(_ context.Context, folder string) ([]byte, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.flags[folder]
	return b, flagsDate.Add(time.Duration(len(b)) * time.Second), nil
}

// SumsFile lists the folder's messages, one line each.
func (s *fakeStore) SumsFile(_ context.Context, folder string) ([]byte, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sums++
	var b []byte
	for _, m := range s.msgs[folder] {
		b = fmt.Appendf(b, "%d  %s.eml\n", m.UID, m.Stem)
	}
	return b, flagsDate, nil
}

// SumsAttr is SumsFile's size and mtime, without counting a call.
func (s *fakeStore) SumsAttr(ctx context.Context, folder string) (int64, time.Time, error) {
	b, mtime, err := s.SumsFile(ctx, folder)
	s.mu.Lock()
	s.sums--
	s.mu.Unlock()
	return int64(len(b)), mtime, err
}

// setFlags changes a folder's flags file and reports it.
func (s *fakeStore) Mbox(context.Context, string) (*cache.Mbox, error) {
	return nil, errors.New("fake: no mbox")
}

func (s *fakeStore) setFlags(folder string, b []byte) {
	s.mu.Lock()
	s.flags[folder] = b
	fn := s.onChange
	s.mu.Unlock()
	fn(cache.Change{Folder: folder, Flags: true})
}

func (s *fakeStore) Newest(folder string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var newest time.Time
	for _, m := range s.msgs[folder] {
		if m.Date.After(newest) {
			newest = m.Date
		}
	}
	return newest, !s.unlisted[folder]
}

// testMount mounts accts in a temporary directory, unmounted when the
// test ends. Without a usable /dev/fuse the test is skipped, except in CI.
func testMount(t *testing.T, log *slog.Logger, accts ...Account) (string, *Mount) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := t.TempDir()
	m, err := New(dir, Args{Accounts: accts, Log: log})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount: %v", err)
		}
		t.Skipf("no FUSE here: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil && !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "not mounted") {
			t.Errorf("unmount: %v", err)
		}
	})
	return dir, m
}

// eventually polls cond for up to five seconds: kernel notifications are
// sent from their own goroutine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
	}
}
