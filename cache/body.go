package cache

import (
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
)

// Bodies live beside the store as plain files:
//
//	bodies/<folder hash>/<UIDVALIDITY>/<UID>.eml
//
// The folder hash keeps paths short and free of odd characters. A body is
// written to a temporary file and renamed into place only once complete,
// and it is served only while its size equals the message's size.

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

// OpenBody returns the message's exact bytes as an open file, downloading
// it first if the cache has no complete copy. The caller closes the file.
func (c *Cache) OpenBody(ctx context.Context, folder string, uv, uid uint32) (*os.File, error) {
	m, ok := c.Message(folder, uv, uid)
	if !ok {
		return nil, fmt.Errorf("%q UID %d: %w", folder, uid, ErrGone)
	}
	c.readAhead(folder, m)
	path := c.bodyPath(folder, uv, uid)
	if file, ok := openComplete(path, m.Size); ok {
		return file, nil
	}
	err := c.flights.do(ctx, path, func() error {
		if file, ok := openComplete(path, m.Size); ok {
			file.Close()
			return nil
		}
		var err error
		c.download(c.ctx, folder, uv, []Msg{m}, func(_ Msg, e error) { err = e })
		return err
	})
	if err != nil {
		return nil, err
	}
	return os.Open(path)
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

// openComplete opens path if it holds exactly size bytes.
func openComplete(path string, size int64) (*os.File, bool) {
	file, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	if fi, err := file.Stat(); err != nil || fi.Size() != size {
		file.Close()
		return nil, false
	}
	return file, true
}

// isComplete reports whether the cache holds the message's body.
func (c *Cache) isComplete(folder string, m Msg) bool {
	fi, err := os.Stat(c.bodyPath(folder, m.UIDValidity, m.UID))
	return err == nil && fi.Size() == m.Size
}

// download fetches the bodies of msgs (of one folder) with one command,
// writing each to its file as it arrives, and calls done once per message.
// Reads run it on the cache's own context, so that a reader giving up does
// not fail others waiting for the same message.
func (c *Cache) download(ctx context.Context, folder string, uv uint32, msgs []Msg, done func(Msg, error)) {
	byUID := make(map[uint32]Msg, len(msgs))
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		byUID[m.UID], uids[i] = m, m.UID
	}
	err := c.src.FetchBodies(ctx, folder, uv, uids, func(uid uint32, r io.Reader) error {
		m, ok := byUID[uid]
		if !ok {
			return nil // not asked for
		}
		err := c.store(folder, uv, m, r)
		if err == nil {
			delete(byUID, uid)
			done(m, nil)
		}
		return err
	})
	if err == nil {
		err = ErrGone // the server sent no body for these
	}
	for _, m := range byUID {
		done(m, fmt.Errorf("fetch %q UID %d: %w", folder, m.UID, err))
	}
}

// store writes one body to the cache.
func (c *Cache) store(folder string, uv uint32, m Msg, r io.Reader) error {
	path := c.bodyPath(folder, uv, m.UID)
	return writeFile(path, func(f *os.File) error {
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		n, err := io.CopyBuffer(struct{ io.Writer }{f}, r, *buf) // our buffer, not ReadFrom's 32 KiB
		if err != nil || n == m.Size {
			return err
		}
		// RFC822.SIZE was wrong: the bytes are the truth.
		c.log.Warn("server size differs from body", "folder", folder, "uid", m.UID, "said", m.Size, "got", n)
		return c.resize(folder, uv, m.UID, n)
	})
}

// copyBufs are buffers for writing bodies: fewer, larger writes.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writeFile writes path as a whole or not at all: fill writes a temporary
// file beside it, which is renamed into place only when fill succeeds.
// The folder (0700) is created when missing.
func writeFile(path string, fill func(*os.File) error) error {
	tmp, err := os.CreateTemp(dirOf(path), ".part-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dirOf(path), 0o700); err == nil {
			tmp, err = os.CreateTemp(dirOf(path), ".part-*")
		}
	}
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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

// flightGroup lets concurrent callers of the same key share one run.
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*flight
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
		go func() { g.finish(key, fl, fn()) }()
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
