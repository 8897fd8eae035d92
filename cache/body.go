package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
	path := c.bodyPath(folder, uv, uid)
	if file, ok := openComplete(path, m.Size); ok {
		return file, nil
	}
	err := c.flights.do(ctx, path, func() error {
		if file, ok := openComplete(path, m.Size); ok {
			file.Close()
			return nil
		}
		return c.download(folder, uv, m, path)
	})
	if err != nil {
		return nil, err
	}
	return os.Open(path)
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

// download fetches one body into path. It runs on the cache's own context
// so that one reader giving up does not fail the others waiting for it.
func (c *Cache) download(folder string, uv uint32, m Msg, path string) error {
	if err := os.MkdirAll(dirOf(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dirOf(path), ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var n int64
	err = c.src.FetchBody(c.ctx, folder, uv, m.UID, func(r io.Reader) error {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		var err error
		n, err = io.Copy(tmp, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch %q UID %d: %w", folder, m.UID, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if n != m.Size {
		// RFC822.SIZE was wrong: the bytes are the truth.
		c.log.Warn("server size differs from body", "folder", folder, "uid", m.UID, "said", m.Size, "got", n)
		if err := c.resize(folder, uv, m.UID, n); err != nil {
			return err
		}
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
	metas := append([]Meta(nil), f.metas...)
	metas[i].Size = size
	st := f.status
	info := f.info
	f.mu.Unlock()
	f.publish(metas, uv)
	if err := storeSync(c.db, folderRec{Info: info, Status: st}, false, metas[i:i+1], nil); err != nil {
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

// do runs fn once for concurrent callers with the same key; each caller
// waits until fn ends or its own ctx does.
func (g *flightGroup) do(ctx context.Context, key string, fn func() error) error {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*flight{}
	}
	fl, running := g.calls[key]
	if !running {
		fl = &flight{done: make(chan struct{})}
		g.calls[key] = fl
		go func() {
			fl.err = fn()
			g.mu.Lock()
			delete(g.calls, key)
			g.mu.Unlock()
			close(fl.done)
		}()
	}
	g.mu.Unlock()
	select {
	case <-fl.done:
		return fl.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
