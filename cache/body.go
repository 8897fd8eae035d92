package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// Bodies live beside the store as plain files:
//
//	bodies/<folder hash>/<UIDVALIDITY>/<UID>.eml
//
// The folder hash keeps paths short and free of odd characters.
//
// A body is kept only when the server delivered it whole (see
// Source.FetchBodies): it is written to a temporary file, and renamed into
// place only after the FETCH command completed with OK. Each body file
// carries the BLAKE3 hash of its bytes in the extended attribute
// user.mailfs.b3 (written before the rename, so a body never exists
// without it) and has the message's INTERNALDATE as its mtime. A body is
// served only while its size is the message's and its mtime that date, so
// a file changed by anyone else is fetched again; its hash is checked
// where that is cheap enough: when a body is reused (VerifyBody) and by
// `mailfs sync --verify`. Bodies written by mailfs before it kept hashes
// have the download time as mtime and are fetched once more.
//
// BLAKE3 rather than SHA-256: without SHA instructions (most of the
// machines here) Go's SHA-256 hashes about 200 MB/s, BLAKE3
// (github.com/zeebo/blake3: pure Go with AVX2/AVX-512 assembly) about
// 1.7 GB/s, which keeps hashing out of the way of a cold backup.

const sumAttr = "user.mailfs.b3"

func folderDir(folder string) string {
	sum := sha256.Sum256([]byte(folder))
	return hex.EncodeToString(sum[:8])
}

func (c *Cache) uvDir(folder string, uv uint32) string {
	return filepath.Join(c.dir, "bodies", folderDir(folder), strconv.FormatUint(uint64(uv), 10))
}

func (c *Cache) bodyPath(folder string, uv, uid uint32) string {
	return filepath.Join(c.uvDir(folder, uv), strconv.FormatUint(uint64(uid), 10)+".eml")
}

func dirOf(path string) string { return filepath.Dir(path) }

// stamp is the mtime a body file of a message dated d gets: d in whole
// seconds, kept where every file system can store it.
func stamp(d time.Time) time.Time {
	lo, hi := time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	if d.Before(lo) {
		d = lo
	}
	if d.After(hi) {
		d = hi
	}
	return d.Truncate(time.Second)
}

// bodyFileOK reports whether a file with info fi holds m's body as this
// cache stored it.
func bodyFileOK(fi fs.FileInfo, m Msg) bool {
	return fi.Mode().IsRegular() && fi.Size() == m.Size && fi.ModTime().Equal(stamp(m.Date))
}

// OpenBody returns the message's exact bytes as an open file, downloading
// it first if the cache has no good copy. When the download shows that the
// message has another size than the one known before, the new size is
// recorded and shown, and OpenBody fails with ErrSizeChanged: the caller
// was told the old size. The caller closes the file.
func (c *Cache) OpenBody(ctx context.Context, folder string, uv, uid uint32) (*os.File, error) {
	m, ok := c.Message(folder, uv, uid)
	if !ok {
		return nil, fmt.Errorf("%q UID %d: %w", folder, uid, ErrGone)
	}
	file, cur, err := c.openBody(ctx, folder, m)
	if err != nil {
		return nil, err
	}
	if cur.Size != m.Size {
		file.Close()
		return nil, fmt.Errorf("%q UID %d: %w (%d bytes, not %d)", folder, uid, ErrSizeChanged, cur.Size, m.Size)
	}
	return file, nil
}

// BodySize returns the exact size of a message's body, downloading it
// first when the size the server announced cannot be trusted (zero: a
// file of size 0 would never be read).
func (c *Cache) BodySize(ctx context.Context, folder string, uv, uid uint32) (int64, error) {
	m, ok := c.Message(folder, uv, uid)
	if !ok {
		return 0, fmt.Errorf("%q UID %d: %w", folder, uid, ErrGone)
	}
	if m.Size > 0 {
		return m.Size, nil
	}
	file, cur, err := c.openBody(ctx, folder, m)
	if err != nil {
		return 0, err
	}
	file.Close()
	return cur.Size, nil
}

// openBody opens m's body, downloading it if needed, and returns it with
// the message as known after the download.
func (c *Cache) openBody(ctx context.Context, folder string, m Msg) (*os.File, Msg, error) {
	c.readAhead(folder, m)
	path := c.bodyPath(folder, m.UIDValidity, m.UID)
	if file, ok := openBodyFile(path, m); ok {
		return file, m, nil
	}
	err := c.flights.do(ctx, path, func() error {
		cur, ok := c.Message(folder, m.UIDValidity, m.UID)
		if !ok {
			return fmt.Errorf("%q UID %d: %w", folder, m.UID, ErrGone)
		}
		if file, ok := openBodyFile(path, cur); ok {
			file.Close()
			return nil
		}
		var err error
		c.download(c.ctx, folder, m.UIDValidity, []Msg{cur}, func(_ Msg, e error) { err = e })
		return err
	})
	if err != nil {
		return nil, m, err
	}
	cur, ok := c.Message(folder, m.UIDValidity, m.UID)
	if !ok {
		return nil, m, fmt.Errorf("%q UID %d: %w", folder, m.UID, ErrGone)
	}
	file, ok := openBodyFile(path, cur)
	if !ok {
		return nil, m, fmt.Errorf("%q UID %d: the cached body changed while it was opened", folder, m.UID)
	}
	return file, cur, nil
}

// removeFiles deletes the cached body and views of expunged messages.
func (c *Cache) removeFiles(folder string, uv uint32, uids []uint32) {
	for _, uid := range uids {
		files, _ := filepath.Glob(filepath.Join(c.uvDir(folder, uv), strconv.FormatUint(uint64(uid), 10)+".*"))
		for _, f := range files {
			os.Remove(f)
		}
	}
}

// openBodyFile opens path if it holds m's body (see bodyFileOK).
func openBodyFile(path string, m Msg) (*os.File, bool) {
	return openIf(path, func(fi fs.FileInfo) bool { return bodyFileOK(fi, m) })
}

// openSized opens path if it holds exactly size bytes.
func openSized(path string, size int64) (*os.File, bool) {
	return openIf(path, func(fi fs.FileInfo) bool { return fi.Size() == size })
}

// openIf opens path if the file it holds passes ok.
func openIf(path string, ok func(fs.FileInfo) bool) (*os.File, bool) {
	file, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	if fi, err := file.Stat(); err != nil || !ok(fi) {
		file.Close()
		return nil, false
	}
	return file, true
}

// haveBody reports whether the cache holds the message's body.
func (c *Cache) haveBody(folder string, m Msg) bool {
	fi, err := os.Stat(c.bodyPath(folder, m.UIDValidity, m.UID))
	return err == nil && bodyFileOK(fi, m)
}

// VerifyBody checks a cached body against the hash it was stored with. A
// body that fails is removed (and so fetched again when next read).
func (c *Cache) VerifyBody(folder string, m Msg) error {
	path := c.bodyPath(folder, m.UIDValidity, m.UID)
	err := verifyFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(path)
		c.log.Warn("cached body damaged, removed", "folder", folder, "uid", m.UID, "err", err)
	}
	return err
}

// verifyFile compares a body file's bytes with its stored hash.
func verifyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	want := make([]byte, 32)
	if n, err := unix.Fgetxattr(int(f.Fd()), sumAttr, want); err != nil || n != len(want) {
		return fmt.Errorf("body %s has no stored hash", path)
	}
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), want) {
		return fmt.Errorf("body %s does not match its stored hash", path)
	}
	return nil
}

// PartSize is the size above which bodies are fetched in parts of this
// size (Source.FetchPart), so that a cut costs at most one part, and a
// slow link never holds one command open for a whole big message.
var PartSize int64 = 8 << 20

// maxPartRetries is how many times in a row a part may fail before the
// download gives up.
const maxPartRetries = 5

// download fetches the bodies of msgs (of one folder), small ones with one
// command, big ones in parts, and calls done once per message. Reads run
// it on the cache's own context, so that a reader giving up does not fail
// others waiting for the same message.
func (c *Cache) download(ctx context.Context, folder string, uv uint32, msgs []Msg, done func(Msg, error)) {
	var small []Msg
	for _, m := range msgs {
		if m.Size > PartSize {
			done(m, c.downloadParts(ctx, folder, uv, m))
		} else {
			small = append(small, m)
		}
	}
	if len(small) > 0 {
		c.downloadBatch(ctx, folder, uv, small, done)
	}
}

// downloadBatch fetches msgs with one command and keeps them only if the
// command succeeded as a whole.
func (c *Cache) downloadBatch(ctx context.Context, folder string, uv uint32, msgs []Msg, done func(Msg, error)) {
	byUID := make(map[uint32]Msg, len(msgs))
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		byUID[m.UID], uids[i] = m, m.UID
	}
	staged := map[uint32]*stagedBody{}
	defer func() {
		for _, st := range staged {
			os.Remove(st.tmp)
		}
	}()
	err := c.src.FetchBodies(ctx, folder, uv, uids, func(uid uint32, r io.Reader) error {
		m, ok := byUID[uid]
		if !ok {
			return nil // not asked for
		}
		st, err := c.stage(c.bodyPath(folder, uv, uid), m, func(f *os.File) (int64, []byte, error) {
			return copyBody(f, r)
		})
		if err != nil {
			return err
		}
		if old := staged[uid]; old != nil {
			os.Remove(old.tmp) // sent again after a lost connection
		}
		staged[uid] = st
		return nil
	})
	for uid, m := range byUID {
		st := staged[uid]
		switch {
		case err != nil:
			done(m, fmt.Errorf("fetch %q UID %d: %w", folder, uid, err))
		case st == nil:
			done(m, fmt.Errorf("fetch %q UID %d: %w", folder, uid, ErrGone)) // the server sent no body
		default:
			delete(staged, uid)
			done(m, c.commit(folder, uv, m, st))
		}
	}
}

// downloadParts fetches one big body in parts of PartSize, each part
// retried where it was cut off.
func (c *Cache) downloadParts(ctx context.Context, folder string, uv uint32, m Msg) error {
	st, err := c.stage(c.bodyPath(folder, uv, m.UID), m, func(f *os.File) (int64, []byte, error) {
		var off int64
		for fails := 0; ; {
			got, err := c.src.FetchPart(ctx, folder, uv, m.UID, off, PartSize, &offsetWriter{f, off})
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, ErrGone) || errors.Is(err, ErrUIDValidity) || fails == maxPartRetries {
					return 0, nil, err
				}
				fails++
				c.log.Info("part of a body failed, fetching it again", "folder", folder, "uid", m.UID, "offset", off, "err", err)
				continue
			}
			fails = 0
			off += got
			if got < PartSize {
				return off, nil, f.Truncate(off)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("fetch %q UID %d: %w", folder, m.UID, err)
	}
	return c.commit(folder, uv, m, st)
}

// offsetWriter writes to a file from an offset on.
type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}

// stagedBody is a body written to a temporary file, not yet in place.
type stagedBody struct {
	tmp  string
	size int64
}

// stage writes a body for path into a temporary file beside it with fill,
// which returns the number of bytes written and their hash (or nil: then
// the file is read back to hash it), then stores the hash and gives the
// file its mtime. The caller commits or removes it.
func (c *Cache) stage(path string, m Msg, fill func(*os.File) (int64, []byte, error)) (*stagedBody, error) {
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	st := &stagedBody{tmp: tmp.Name()}
	err = func() error {
		defer tmp.Close()
		n, sum, err := fill(tmp)
		if err != nil {
			return err
		}
		st.size = n
		if sum == nil {
			h := blake3.New()
			if _, err := io.Copy(h, io.NewSectionReader(tmp, 0, n)); err != nil {
				return err
			}
			sum = h.Sum(nil)
		}
		if err := unix.Fsetxattr(int(tmp.Fd()), sumAttr, sum, 0); err != nil {
			return fmt.Errorf("store the hash of a body (the cache's file system needs user extended attributes): %w", err)
		}
		return tmp.Close()
	}()
	if err == nil {
		t := stamp(m.Date)
		err = os.Chtimes(st.tmp, t, t)
	}
	if err != nil {
		os.Remove(st.tmp)
		return nil, err
	}
	return st, nil
}

// commit moves a staged body into place; a size other than the one known
// is recorded and shown.
func (c *Cache) commit(folder string, uv uint32, m Msg, st *stagedBody) error {
	if err := os.Rename(st.tmp, c.bodyPath(folder, uv, m.UID)); err != nil {
		os.Remove(st.tmp)
		return err
	}
	if st.size == m.Size {
		return nil
	}
	c.log.Warn("server size differs from body", "folder", folder, "uid", m.UID, "said", m.Size, "got", st.size)
	return c.resize(folder, uv, m.UID, st.size)
}

// copyBody copies a body to f with large writes, hashing it on the way.
func copyBody(f *os.File, r io.Reader) (int64, []byte, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	h := blake3.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, *buf) // our buffer, not ReadFrom's 32 KiB
	return n, h.Sum(nil), err
}

// copyBufs are buffers for writing bodies: fewer, larger writes.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// createTemp creates a temporary file beside path, creating its folder
// (0700) when missing.
func createTemp(path string) (*os.File, error) {
	tmp, err := os.CreateTemp(dirOf(path), ".part-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dirOf(path), 0o700); err == nil {
			tmp, err = os.CreateTemp(dirOf(path), ".part-*")
		}
	}
	return tmp, err
}

// resize records a message's true size and tells the file system.
func (c *Cache) resize(name string, uv, uid uint32, size int64) error {
	f, err := c.folder(name)
	if err != nil {
		return err
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	f.mu.Lock()
	i, ok := f.index(uv, uid)
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("%q UID %d: %w", name, uid, ErrGone)
	}
	msgs := append([]Msg(nil), f.msgs...)
	msgs[i].Size = size
	f.mu.Unlock()
	f.publish(msgs)
	if err := storeSize(c.db, name, uid, size); err != nil {
		return err
	}
	m, _ := c.Message(name, uv, uid)
	c.notify(Change{Folder: name, Resized: []Msg{m}})
	return nil
}

// flightGroup lets concurrent callers of the same key share one run. It
// also runs the cache's background work (spawn), so that closing the
// cache can wait until nothing writes into it any more.
type flightGroup struct {
	mu     sync.Mutex
	calls  map[string]*flight
	closed bool           // no more background work is started
	bg     sync.WaitGroup // background work running
}

// spawn runs fn in the background unless the group is closed, and
// reports whether it did.
func (g *flightGroup) spawn(fn func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		fn()
	}()
	return true
}

// close starts no more background work and waits for what runs.
func (g *flightGroup) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.bg.Wait()
}

type flight struct {
	done chan struct{}
	err  error
}

// claim registers a flight for key and returns it, or nil if one is
// already running. The claimer must call finish.
func (g *flightGroup) claim(key string) *flight {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.calls == nil {
		g.calls = map[string]*flight{}
	}
	if g.calls[key] != nil {
		return nil
	}
	fl := &flight{done: make(chan struct{})}
	g.calls[key] = fl
	return fl
}

func (g *flightGroup) finish(key string, fl *flight, err error) {
	fl.err = err
	g.mu.Lock()
	delete(g.calls, key)
	g.mu.Unlock()
	close(fl.done)
}

// do runs fn once for concurrent callers with the same key (or joins a
// claimed flight); each caller waits until it ends or its own ctx does.
func (g *flightGroup) do(ctx context.Context, key string, fn func() error) error {
	fl := g.claim(key)
	if fl != nil {
		if !g.spawn(func() { g.finish(key, fl, fn()) }) {
			g.finish(key, fl, context.Canceled) // the cache is closed
		}
	} else {
		g.mu.Lock()
		fl = g.calls[key]
		g.mu.Unlock()
		if fl == nil { // finished in between: run again, cheaply
			return g.do(ctx, key, fn)
		}
	}
	select {
	case <-fl.done:
		return fl.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
