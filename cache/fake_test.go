package cache_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
)

// fakeSource is a one-folder server whose RFC822.SIZE may lie.
type fakeSource struct {
	bodies   map[uint32][]byte
	sizeLie  int64
	expunged bool // UIDNEXT stays above the highest UID

	fetches, parts int // FetchBodies items and FetchPart calls served
	cutParts       int // the next FetchPart calls fail after half the part

	renumbered bool         // UIDVALIDITY is 10, not 9
	onHeaders  func() error // called by FetchHeaders when set; its error is returned

	appends   int   // messages Append took
	appendErr error // returned by Append when set

	dates map[uint32]time.Time // INTERNALDATEs; 2001-09-09 when not set
}

func (s *fakeSource) Append(_ context.Context, _ string, r io.Reader, size int64, _ time.Time, _ []string) (uint32, uint32, error) {
	if s.appendErr != nil {
		return 0, 0, s.appendErr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, err
	}
	if int64(len(b)) != size {
		return 0, 0, errors.New("fake: wrong size")
	}
	uid := uint32(len(s.bodies) + 1)
	s.bodies[uid] = b
	s.appends++
	return 9, uid, nil
}

func (s *fakeSource) FetchFlags(_ context.Context, _ string, _ uint32, _ uint64, fn func(uint32, []string)) error {
	for uid := range s.bodies {
		fn(uid, nil)
	}
	return nil
}

func (s *fakeSource) StoreFlags(context.Context, string, uint32, []uint32, bool, []string) error {
	return errors.New("fake: no STORE")
}

func (s *fakeSource) CreateFolder(context.Context, string) error {
	return errors.New("fake: no CREATE")
}

func (s *fakeSource) Expunge(context.Context, string, uint32, uint32) error {
	return errors.New("fake: no EXPUNGE")
}

func (s *fakeSource) DeleteFolder(context.Context, string) error {
	return errors.New("fake: no DELETE")
}

func (s *fakeSource) Move(context.Context, string, uint32, uint32, string) error {
	return errors.New("fake: no MOVE")
}

func (s *fakeSource) RenameFolder(context.Context, string, string) error {
	return errors.New("fake: no RENAME")
}

func (s *fakeSource) Folders(context.Context) ([]cache.FolderInfo, error) {
	return []cache.FolderInfo{{Name: "INBOX", Delim: '/'}}, nil
}

func (s *fakeSource) Status(context.Context, string) (cache.Status, error) {
	next := uint32(len(s.bodies) + 1)
	if s.expunged {
		next++
	}
	uv := uint32(9)
	if s.renumbered {
		uv = 10
	}
	return cache.Status{UIDValidity: uv, UIDNext: next, Messages: uint32(len(s.bodies))}, nil
}

func (s *fakeSource) Statuses(ctx context.Context, folders []string) (map[string]cache.Status, error) {
	st, _ := s.Status(ctx, "INBOX")
	return map[string]cache.Status{"INBOX": st}, nil
}

func (s *fakeSource) FetchMeta(_ context.Context, _ string, _, from uint32, fn func(cache.Meta) error) error {
	for uid := from; int(uid) <= len(s.bodies); uid++ {
		if s.bodies[uid] == nil {
			continue
		}
		m := cache.Meta{UID: uid, Size: int64(len(s.bodies[uid])) + s.sizeLie, Date: time.Unix(1e9, 0), Subject: "s"}
		if d, ok := s.dates[uid]; ok {
			m.Date = d
		}
		head, _, _ := strings.Cut(string(s.bodies[uid]), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if v, ok := strings.CutPrefix(line, "Subject: "); ok {
				m.Subject = v
			}
			if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
				m.MessageID = strings.Trim(v, "<>")
			}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSource) UIDs(context.Context, string, uint32) ([]uint32, error) {
	var out []uint32
	for uid := range s.bodies {
		out = append(out, uid)
	}
	return out, nil
}

func (s *fakeSource) FetchBodies(_ context.Context, _ string, _ uint32, uids []uint32, fn func(uint32, io.Reader) error) error {
	for _, uid := range uids {
		s.fetches++
		if err := fn(uid, bytes.NewReader(s.bodies[uid])); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSource) FetchHeaders(_ context.Context, _ string, _ uint32, uids []uint32) (map[uint32][]byte, error) {
	if s.onHeaders != nil {
		if err := s.onHeaders(); err != nil {
			return nil, err
		}
	}
	out := map[uint32][]byte{}
	for _, uid := range uids {
		if b := s.bodies[uid]; b != nil {
			if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
				out[uid] = b[:i+4]
			}
		}
	}
	return out, nil
}

func (s *fakeSource) FetchPart(_ context.Context, _ string, _, uid uint32, off, n int64, w io.Writer) (int64, error) {
	b := s.bodies[uid]
	b = b[min(off, int64(len(b))):]
	b = b[:min(n, int64(len(b)))]
	s.parts++
	if s.cutParts > 0 {
		s.cutParts--
		w.Write(b[:len(b)/2])
		return 0, io.ErrUnexpectedEOF
	}
	m, err := w.Write(b)
	return int64(m), err
}

func TestWrongServerSizeIsCorrected(t *testing.T) {
	src := &fakeSource{bodies: map[uint32][]byte{1: []byte("Subject: s\r\n\r\nbody\r\n")}, sizeLie: 7}
	c, err := cache.Open(t.TempDir(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var changes []cache.Change
	c.OnChange(func(ch cache.Change) { changes = append(changes, ch) })
	ctx := context.Background()
	if err := c.RefreshFolders(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Messages(ctx, "INBOX")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %v %v", msgs, err)
	}
	m := msgs[0]
	// The file system showed the wrong size: the read that finds out fails.
	if _, err := c.OpenBody(ctx, "INBOX", m.UIDValidity, m.UID); !errors.Is(err, cache.ErrSizeChanged) {
		t.Fatalf("first open: %v, want ErrSizeChanged", err)
	}
	m, _ = c.Message("INBOX", m.UIDValidity, m.UID)
	f, err := c.OpenBody(ctx, "INBOX", m.UIDValidity, m.UID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(b, src.bodies[1]) {
		t.Fatalf("body %q", b)
	}
	got, _ := c.Message("INBOX", m.UIDValidity, m.UID)
	if got.Size != int64(len(b)) {
		t.Errorf("size %d after fetching %d bytes", got.Size, len(b))
	}
	resized := false
	for _, ch := range changes {
		resized = resized || len(ch.Resized) == 1
	}
	if !resized {
		t.Errorf("no resize change announced: %+v", changes)
	}
	// The corrected size is what a second open checks the cached file against.
	f, err = c.OpenBody(ctx, "INBOX", m.UIDValidity, m.UID)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestExpungedFilesAreRemoved(t *testing.T) {
	src := &fakeSource{bodies: map[uint32][]byte{1: []byte("a\r\n"), 2: []byte("bb\r\n")}}
	dir := t.TempDir()
	c, err := cache.Open(dir, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.RefreshFolders(ctx)
	msgs, _ := c.Messages(ctx, "INBOX")
	for _, m := range msgs {
		f, err := c.OpenBody(ctx, "INBOX", m.UIDValidity, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	emls := func() []string {
		found, _ := filepath.Glob(filepath.Join(dir, "bodies", "*", "*", "*.eml"))
		return found
	}
	if n := len(emls()); n != 2 {
		t.Fatalf("%d bodies cached, want 2", n)
	}
	delete(src.bodies, 2)
	src.expunged = true
	if _, err := c.Sync(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if got := emls(); len(got) != 1 {
		t.Errorf("after an expunge the cache holds %v, want one body", got)
	}
}

// A folder's newest date follows its listing: known once listed, older
// when the newest message is expunged.
func TestNewestFollowsTheListing(t *testing.T) {
	d1, d2 := time.Date(2023, 5, 1, 10, 0, 0, 0, time.UTC), time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	src := &fakeSource{bodies: map[uint32][]byte{1: []byte("a\r\n"), 2: []byte("b\r\n")}, dates: map[uint32]time.Time{1: d1, 2: d2}}
	c, err := cache.Open(t.TempDir(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.RefreshFolders(ctx); err != nil {
		t.Fatal(err)
	}
	if _, known := c.Newest("INBOX"); known {
		t.Error("newest known before the folder was listed")
	}
	if _, err := c.Messages(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if got, known := c.Newest("INBOX"); !known || !got.Equal(d2) {
		t.Errorf("Newest = %v, %v; want %v", got, known, d2)
	}
	delete(src.bodies, 2)
	src.expunged = true
	if _, err := c.Sync(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if got, known := c.Newest("INBOX"); !known || !got.Equal(d1) {
		t.Errorf("after expunging the newest: Newest = %v, %v; want %v", got, known, d1)
	}
	if _, known := c.Newest("nonesuch"); known {
		t.Error("an unknown folder has a known date")
	}
}
