package cache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// Messages written through a writable mount are staged in files of the
// cache folder, never in memory, so a 50 MB message costs its disk space
// and a few buffers:
//
//	staging/.w-*            a file being written (removed at open: stale)
//	staging/kept/<b3>.eml   a message the server refused, kept until the
//	                        same bytes are appended (or the user removes it)
//
// A staged message is appended only when the file system commits it: at
// the close of a file with a message name, or at the rename of a
// temporary file to such a name (rsync). Before appending, the folder is
// brought in step with the server and searched for a message of the same
// size and bytes (BLAKE3 of the cached body, downloaded if needed): one
// found means the message is there already and nothing is appended, so a
// rerun of a restore adds nothing.

// Staged is a file being written into a folder of a writable mount.
type Staged struct {
	c     *Cache
	f     *os.File
	moved bool // renamed away (kept): not to be reused or removed
}

func (c *Cache) stagingDir() string { return filepath.Join(c.dir, "staging") }

// spareStaged bounds the staging files kept for reuse: a restore writes
// thousands of messages one after the other, and creating and removing a
// file for each costs ext4 more than the rest of the staging.
const spareStaged = 4

// Stage starts a staged file (0600, in the cache folder).
func (c *Cache) Stage() (*Staged, error) {
	select {
	case f := <-c.spare:
		return &Staged{c: c, f: f}, nil
	default:
	}
	dir := c.stagingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".w-*")
	if err != nil {
		return nil, err
	}
	return &Staged{c: c, f: f}, nil
}

// WriteAt writes p at off.
func (s *Staged) WriteAt(p []byte, off int64) (int, error) { return s.f.WriteAt(p, off) }

// ReadAt reads what was written.
func (s *Staged) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }

// Truncate sets the size.
func (s *Staged) Truncate(size int64) error { return s.f.Truncate(size) }

// Size returns the size written so far.
func (s *Staged) Size() (int64, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Discard drops the staged data; the emptied file may serve again.
func (s *Staged) Discard() {
	if s.f == nil {
		return
	}
	f := s.f
	s.f = nil
	if !s.moved && f.Truncate(0) == nil {
		select {
		case s.c.spare <- f:
			return
		default:
		}
	}
	f.Close()
	if !s.moved {
		os.Remove(f.Name())
	}
}

// dropSpares removes the staging files kept for reuse.
func (c *Cache) dropSpares() {
	for {
		select {
		case f := <-c.spare:
			f.Close()
			os.Remove(f.Name())
		default:
			return
		}
	}
}

// removeStaleStaging removes files a killed process was writing.
func removeStaleStaging(dir string) {
	entries, _ := os.ReadDir(filepath.Join(dir, "staging"))
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), ".w-") {
			os.Remove(filepath.Join(dir, "staging", e.Name()))
		}
	}
}

// Commit appends a staged message written as stem to folder with
// INTERNALDATE date, and with the flags a flags file gave stem (see
// SetFlags), unless the folder holds the same bytes already; then it
// appends nothing and succeeds. It takes s over: on success the staged data is dropped; when
// the server refuses the message (or cannot be reached) the data is kept
// in staging/kept and the error says where. A file that is not a message
// fails with ErrNotMessage and is dropped. After an append the new message
// shows under its own name: added to the listing (insert) or, when that
// cannot be known without asking, by a sync of the folder.
func (c *Cache) Commit(ctx context.Context, folder, stem string, s *Staged, date time.Time) error {
	defer s.Discard()
	size, err := s.Size()
	if err != nil {
		return err
	}
	if !looksLikeMessage(io.NewSectionReader(s.f, 0, size)) {
		return ErrNotMessage
	}
	h := blake3.New()
	var lines crlfOnly
	if _, err := io.Copy(io.MultiWriter(h, &lines), io.NewSectionReader(s.f, 0, size)); err != nil {
		return err
	}
	sum := h.Sum(nil)
	f, err := c.folder(folder)
	if err != nil {
		return err
	}

	// One commit at a time per account: two copies of one message written
	// at once must not both be appended. The folder is brought in step
	// first, unless that was just done (by the commit before, above all).
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if err := c.syncUnlessFresh(ctx, f); err != nil {
		return c.keep(folder, s, sum, date, fmt.Errorf("sync before append: %w", err))
	}
	dup, err := c.holds(ctx, folder, size, sum)
	if err != nil {
		return c.keep(folder, s, sum, date, fmt.Errorf("compare with the folder's messages: %w", err))
	}
	kept := c.keptPath(sum)
	if dup {
		c.log.Debug("already in the folder, nothing appended", "folder", folder, "size", size)
		os.Remove(kept)
		return nil
	}
	flags := f.takePending(stem)
	uv, uid, err := c.src.Append(ctx, folder, io.NewSectionReader(s.f, 0, size), size, date, flags)
	if err != nil {
		f.mu.Lock()
		if f.flags.pending != nil {
			f.flags.pending[stem] = flags // for the rerun
		}
		f.mu.Unlock()
		return c.keep(folder, s, sum, date, err)
	}
	os.Remove(kept)
	c.log.Info("appended", "folder", folder, "size", size, "date", date.UTC().Format(time.RFC3339), "flags", strings.Join(flags, " "), "uidvalidity", uv, "uid", uid)
	if !lines.bare && c.insert(f, s.f, Meta{UID: uid, Size: size, Date: date.Truncate(time.Second)}, uv, flags) {
		return nil
	}
	if _, err := c.sync(ctx, folder, nil, false); err != nil {
		c.log.Warn("sync after append", "folder", folder, "err", err) // the next poll shows it
	}
	return nil
}

// insert adds a message just appended to the folder's listing without
// asking the server, when what it would answer is known: the message
// took the folder's next UID (APPENDUID; nothing else arrived since the
// last sync), its size is the bytes sent (CRLF line ends only: servers
// count bare LFs as CRLF), its date the one given (whole seconds, as
// IMAP keeps it), its subject and Message-ID are in the header sent, and
// its name is not taken (duplicates are numbered by a full sync). It
// reports whether it did.
func (c *Cache) insert(f *folder, body io.ReaderAt, m Meta, uv uint32, flags []string) bool {
	if m.UID == 0 {
		return false
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	f.mu.Lock()
	st, info := f.status, f.info
	f.mu.Unlock()
	if st.UIDValidity != uv || st.UIDNext != m.UID {
		return false
	}
	hdr, err := readHeader(io.NewSectionReader(body, 0, m.Size))
	if err != nil {
		return false
	}
	m.Subject, m.MessageID = ParseMetaHeader(hdr)
	msg := newMsg(m, uv)
	if _, ok := c.Lookup(info.Name, msg.Stem); ok {
		return false
	}
	st.UIDNext, st.Messages = m.UID+1, st.Messages+1
	f.mu.Lock()
	f.status, f.syncedAt = st, time.Now()
	f.unsaved = append(f.unsaved, m)
	first := len(f.unsaved) == 1
	// msgs is replaced, never changed: appending leaves the slices
	// handed out as they were.
	f.msgs = append(f.msgs, msg)
	f.byStem[msg.Stem] = len(f.msgs) - 1
	if msg.Date.After(f.newest) {
		f.newest = msg.Date
	}
	f.order, f.rank, f.flags.file = nil, nil, nil
	if f.flags.byUID != nil {
		f.flags.byUID[m.UID] = canonicalFlags(flags)
	}
	f.mu.Unlock()
	if first && !c.flights.spawn(func() { c.saveLater(f) }) {
		c.saveUnsaved(f) // closing
	}
	c.notify(Change{Folder: info.Name, Added: []Msg{msg}})
	return true
}

// saveDelay is how long inserted messages wait to be written to the
// store, so that a restore writes them in a few transactions rather than
// one each (each one syncs the disk). Until then a crash loses nothing:
// the store's UIDNEXT is older, and the next sync lists them again.
const saveDelay = 500 * time.Millisecond

func (c *Cache) saveLater(f *folder) {
	select {
	case <-time.After(saveDelay):
	case <-c.ctx.Done():
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	c.saveUnsaved(f)
}

// saveUnsaved writes the inserted messages and the folder's status to the
// store. The caller holds f.syncMu.
func (c *Cache) saveUnsaved(f *folder) {
	f.mu.Lock()
	put, rec := f.unsaved, folderRec{Info: f.info, Status: f.status}
	f.unsaved = nil
	f.mu.Unlock()
	if len(put) == 0 {
		return
	}
	if err := storeSync(c.db, rec, false, put, nil); err != nil {
		c.log.Warn("cannot store appended messages; the next sync lists them again", "folder", rec.Info.Name, "err", err)
	}
}

// readHeader returns a message's header section, up to its blank line.
func readHeader(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var hdr []byte
	for len(hdr) < maxHeader {
		line, err := br.ReadSlice('\n')
		hdr = append(hdr, line...)
		if err != nil || len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
			return hdr, nil
		}
	}
	return nil, errors.New("header too long")
}

// maxHeader bounds the header insert reads.
const maxHeader = 1 << 20

// crlfOnly notes whether what is written has a line feed without a
// carriage return before it.
type crlfOnly struct {
	last byte
	bare bool
}

func (w *crlfOnly) Write(p []byte) (int, error) {
	n := len(p)
	for i := bytes.IndexByte(p, '\n'); i >= 0 && !w.bare; i = bytes.IndexByte(p, '\n') {
		prev := w.last
		if i > 0 {
			prev = p[i-1]
		}
		w.bare = prev != '\r'
		w.last, p = '\n', p[i+1:]
	}
	if len(p) > 0 {
		w.last = p[len(p)-1]
	}
	return n, nil
}

// holds reports whether folder has a message of size bytes with hash sum.
// Only messages of that size are compared; their bodies are downloaded
// when not cached.
func (c *Cache) holds(ctx context.Context, folder string, size int64, sum []byte) (bool, error) {
	f, err := c.folder(folder)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	msgs := f.msgs
	f.mu.Unlock()
	for _, m := range msgs {
		if m.Size != size {
			continue
		}
		file, cur, err := c.openBody(ctx, folder, m)
		if errors.Is(err, ErrGone) {
			continue
		}
		if err != nil {
			return false, err
		}
		got := make([]byte, 64)
		n, err := unix.Fgetxattr(int(file.Fd()), sumAttr, got)
		file.Close()
		if err != nil {
			return false, fmt.Errorf("read the hash of a cached body: %w", err)
		}
		if cur.Size == size && bytes.Equal(got[:n], sum) {
			return true, nil
		}
	}
	return false, nil
}

func (c *Cache) keptPath(sum []byte) string {
	return filepath.Join(c.stagingDir(), "kept", hex.EncodeToString(sum)+".eml")
}

// keep moves a message that could not be appended to staging/kept (mtime:
// its date) and returns cause with the path it is kept at.
func (c *Cache) keep(folder string, s *Staged, sum []byte, date time.Time, cause error) error {
	path := c.keptPath(sum)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%w (and it could not be kept: %v)", cause, err)
	}
	if err := os.Rename(s.f.Name(), path); err != nil {
		return fmt.Errorf("%w (and it could not be kept: %v)", cause, err)
	}
	s.moved = true
	t := stamp(date)
	os.Chtimes(path, t, t)
	c.log.Warn("not appended; the message is kept", "folder", folder, "kept", path, "err", cause)
	return fmt.Errorf("%w (the message is kept in %s)", cause, path)
}

// looksLikeMessage reports whether r begins with a header field
// ("Name: value", RFC 5322 field names: printable ASCII but the colon).
func looksLikeMessage(r io.Reader) bool {
	line, err := bufio.NewReaderSize(r, 1024).ReadSlice('\n')
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return false
	}
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, b := range line[:i] {
		if b < 33 || b > 126 {
			return false
		}
	}
	return true
}

// CreateFolder creates a mailbox on the server and refreshes the folder
// list, so it shows at once.
func (c *Cache) CreateFolder(ctx context.Context, name string) error {
	if err := c.src.CreateFolder(ctx, name); err != nil {
		return err
	}
	return c.RefreshFolders(ctx)
}

// Delete removes one message from the server (a writable mount that
// allows deletes: rm of its file) and syncs the folder, so its file goes.
func (c *Cache) Delete(ctx context.Context, folder string, uv, uid uint32) error {
	if err := c.src.Expunge(ctx, folder, uv, uid); err != nil {
		return err
	}
	_, err := c.sync(ctx, folder, nil, true)
	return err
}

// DeleteFolder removes a mailbox from the server and refreshes the
// folder list.
func (c *Cache) DeleteFolder(ctx context.Context, name string) error {
	if err := c.src.DeleteFolder(ctx, name); err != nil {
		return err
	}
	return c.RefreshFolders(ctx)
}

// Move moves one message to folder to (mv between folders of a writable
// mount) and syncs both folders.
func (c *Cache) Move(ctx context.Context, folder string, uv, uid uint32, to string) error {
	if err := c.src.Move(ctx, folder, uv, uid, to); err != nil {
		return err
	}
	_, err := c.sync(ctx, folder, nil, true)
	if _, err2 := c.Sync(ctx, to); err == nil {
		err = err2
	}
	return err
}

// RenameFolder renames a mailbox on the server and refreshes the folder
// list.
func (c *Cache) RenameFolder(ctx context.Context, name, to string) error {
	if err := c.src.RenameFolder(ctx, name, to); err != nil {
		return err
	}
	return c.RefreshFolders(ctx)
}
