package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Repair at open: what a crash or a damaged disk leaves behind is cleaned
// up before anything is served.
//
// A damaged meta.db (a torn write, a bad sector, a file cut short) makes
// bbolt panic when it reads the broken page, possibly much later and in the
// middle of a read of the mounted tree. So Open checks the whole store
// first, with every fault turned into an error, and replaces a damaged
// store by an empty one, which is filled again from the server; cached
// bodies that match their hash are kept. The damaged file is kept beside
// it (meta.db.damaged-TIME) for a look.

// storeOptions are the options meta.db is always opened with.
var storeOptions = &bolt.Options{Timeout: time.Second, NoFreelistSync: true}

// openStore opens (creating if needed) the cache's meta.db. A damaged one
// is moved aside and replaced by an empty store; of the cached bodies,
// those that still match their hash are kept (see keepVerifiedBodies).
// Everything else is then fetched again from the server.
func openStore(dir string, log *slog.Logger) (*bolt.DB, error) {
	path := filepath.Join(dir, "meta.db")
	db, damage, err := openChecked(path)
	if err != nil || damage == nil {
		return db, err
	}
	howTo := fmt.Sprintf("remove %s to start the cache afresh", dir)
	// The bodies first: should this be interrupted, the damaged store is
	// still there, and the next open checks them again.
	log.Info("cache metadata damaged: checking the cached bodies against their hashes", "cache", dir)
	kept, dropped, err := keepVerifiedBodies(filepath.Join(dir, "bodies"))
	if err != nil {
		return nil, fmt.Errorf("cache %s: meta.db is damaged (%v) and the cached bodies cannot be checked (%v): %s", dir, damage, err, howTo)
	}
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("cache %s: meta.db is damaged (%v) and cannot be moved aside (%v): %s", dir, damage, err, howTo)
	}
	db, err = bolt.Open(path, 0o600, storeOptions)
	if err != nil {
		return nil, fmt.Errorf("cache %s: meta.db was damaged (%v) and a new one cannot be made (%v): %s", dir, damage, err, howTo)
	}
	log.Warn("cache metadata was damaged: moved aside and rebuilt from the server; cached bodies that match their hash kept",
		"cache", dir, "damaged", aside, "err", damage, "bodies_kept", kept, "bodies_dropped", dropped)
	return db, nil
}

// keepVerifiedBodies removes from the bodies folder every file but the
// bodies that match their stored hash, after the store was lost. A body
// is still only ever served for its folder, UIDVALIDITY and UID, at its
// size and date, which the server tells again; but whatever damaged the
// store may have damaged bodies too, and the hash is now the only record
// that vouches for them. Views are rendered again.
func keepVerifiedBodies(bodies string) (kept, dropped int, err error) {
	err = filepath.WalkDir(bodies, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == bodies {
			return filepath.SkipDir // no bodies yet
		}
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Ext(p) == ".eml" && d.Type().IsRegular() && verifyFile(p) == nil {
			kept++
			return nil
		}
		dropped++
		return os.Remove(p)
	})
	return kept, dropped, err
}

// openChecked opens the store at path, checking it first. A damaged store
// is returned as damage; err is for everything else (a cache in use, a
// permission denied).
//
// The check runs on a read-only opening: opened for writing, bbolt at once
// rebuilds its list of free pages (we do not store it) by reading the
// whole tree on a goroutine of its own, where a damaged page ends the
// process with a panic no one can recover.
func openChecked(path string) (db *bolt.DB, damage, err error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		ro, err := openRecovered(path, true)
		if err != nil {
			damage, err := openDamage(path, err)
			return nil, damage, err
		}
		damage = checkStore(ro, fi.Size())
		if err := ro.Close(); err != nil && damage == nil {
			return nil, nil, fmt.Errorf("open cache %s: %w", filepath.Dir(path), err)
		}
		if damage != nil {
			return nil, damage, nil
		}
	}
	db, err = openRecovered(path, false)
	if err != nil {
		damage, err := openDamage(path, err)
		return nil, damage, err
	}
	return db, nil, nil
}

// openDamage sorts an error of bolt.Open into damage or another error.
func openDamage(path string, err error) (damage, other error) {
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("cache %s is in use by another mailfs", filepath.Dir(path))
	case isSystemError(err):
		return nil, fmt.Errorf("open cache %s: %w", filepath.Dir(path), err)
	}
	return err, nil // bbolt does not recognise the file
}

// openRecovered is bolt.Open with a panic or a memory fault turned into an
// error. (Opening reads only the two meta pages, which carry checksums;
// this is a second line of defence.)
func openRecovered(path string, readOnly bool) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("bbolt: %v", r)
		}
	}()
	opts := *storeOptions
	opts.ReadOnly = readOnly
	return bolt.Open(path, 0o600, &opts)
}

// isSystemError tells errors of the operating system (the file cannot be
// opened, locked or mapped) from bbolt's verdicts on the file's content.
func isSystemError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
}

// checkStore reads every page of the store that is in use, as bbolt would
// later, and runs bbolt's own consistency check. It returns what is wrong,
// or nil. Panics and memory faults (a page number beyond the file) become
// errors; the file is never written.
func checkStore(db *bolt.DB, fileSize int64) (damage error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			damage = fmt.Errorf("bbolt: %v", r)
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		if tx.Size() > fileSize {
			return fmt.Errorf("file cut short: %d bytes of %d", fileSize, tx.Size())
		}
		// Walk the tree here first, where a fault is caught: tx.Check
		// and bbolt's free-page scan read pages on goroutines of their
		// own, where a fault would end the process.
		if err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walkBucket(b) }); err != nil {
			return err
		}
		var errs []string
		for err := range tx.Check() { // drained to the end: it holds tx
			if len(errs) < 3 {
				errs = append(errs, err.Error())
			}
		}
		if len(errs) > 0 {
			return errors.New(strings.Join(errs, "; "))
		}
		return nil
	})
}

// walkBucket visits every key of b and of the buckets nested in it.
func walkBucket(b *bolt.Bucket) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			continue
		}
		nb := b.Bucket(k)
		if nb == nil {
			return fmt.Errorf("key %q: neither a value nor a bucket", k)
		}
		if err := walkBucket(nb); err != nil {
			return err
		}
	}
	return nil
}

// removeStaleParts deletes the temporary files of downloads and renders
// that a killed process left in bodies/ (see writeFile). It is called when
// the store is open, so the cache belongs to this process alone (bbolt's
// lock) and every temporary file found is stale.
func removeStaleParts(dir string, log *slog.Logger) {
	removed := 0
	filepath.WalkDir(filepath.Join(dir, "bodies"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder: its files are left alone
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), ".part-") {
			if os.Remove(p) == nil {
				removed++
			}
		}
		return nil
	})
	if removed > 0 {
		log.Info("removed unfinished downloads", "cache", dir, "files", removed)
	}
}
