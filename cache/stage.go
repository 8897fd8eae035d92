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
	c *Cache
	f *os.File
}

func (c *Cache) stagingDir() string { return filepath.Join(c.dir, "staging") }

// Stage starts a staged file (0600, in the cache folder).
func (c *Cache) Stage() (*Staged, error) {
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

// Discard drops the staged data.
func (s *Staged) Discard() {
	s.f.Close()
	os.Remove(s.f.Name())
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
// fails with ErrNotMessage and is dropped. After an append the folder is
// synced, so the new message shows under its own name.
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
	if _, err := io.Copy(h, io.NewSectionReader(s.f, 0, size)); err != nil {
		return err
	}
	sum := h.Sum(nil)

	// One commit at a time per account: two copies of one message written
	// at once must not both be appended.
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if _, err := c.Sync(ctx, folder); err != nil {
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
	f, err := c.folder(folder)
	if err != nil {
		return err
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
	if _, err := c.sync(ctx, folder, nil, false); err != nil {
		c.log.Warn("sync after append", "folder", folder, "err", err) // the next poll shows it
	}
	return nil
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
