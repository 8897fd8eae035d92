// Package atomicfile writes a file as a whole or not at all: the one way
// the module replaces a file (the config file, the cache's rendered
// views).
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with what fill writes: a temporary file beside it
// (mode 0600; the folder is created 0700 when missing), synced to disk,
// then renamed over path, and the rename synced too. A reader sees the old
// file or the new one, never a part, also after a crash. When fill fails,
// nothing changes.
func Write(path string, fill func(*os.File) error) error {
	dir := filepath.Dir(path)
	const pattern = ".part-*" // the cache removes such leftovers when it opens
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.CreateTemp(dir, pattern)
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself reaches the disk
		d.Close()
	}
	return nil
}
