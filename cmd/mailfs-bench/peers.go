package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"mailfs/imapsrc/dovecottest"
)

// mbsyncConfig writes an mbsync config that pulls the whole account into
// dir (a fresh Maildir tree) and returns its path. Without fsync it sets
// `FSync no`, the fastest mbsync can store mail.
func (b *bench) mbsyncConfig(dir string, fsync bool) (string, error) {
	name := "mbsyncrc-fsync"
	if !fsync {
		name = "mbsyncrc-nofsync"
	}
	return b.writeMbsyncConfig(name, b.srv, dir, fsync, "Pull", "Near")
}

// writeMbsyncConfig writes the mbsync config name for one channel between
// srv and the Maildir tree dir, syncing in direction (Pull or Push) and
// creating folders on side (Near or Far), and returns its path.
func (b *bench) writeMbsyncConfig(name string, srv *dovecottest.Server, dir string, fsync bool, direction, side string) (string, error) {
	host, port, _ := net.SplitHostPort(b.serverAddr(srv))
	var c strings.Builder
	if !fsync {
		c.WriteString("FSync no\n\n")
	}
	fmt.Fprintf(&c, `IMAPAccount bench
Host %s
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore server
Account bench

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel all
Far :server:
Near :local:
Patterns *
Create %s
Sync %s
SyncState *
`, host, port, srv.User, srv.Password, dir, dir, side, direction)
	path := filepath.Join(b.work, name)
	return path, os.WriteFile(path, []byte(c.String()), 0o600)
}

// mbsync runs a cold `mbsync -a` into an empty Maildir tree.
func (b *bench) mbsync(fsync bool) (run, error) {
	dir := filepath.Join(b.work, "mbsync")
	if err := b.discard(dir); err != nil {
		return run{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return run{}, err
	}
	conf, err := b.mbsyncConfig(dir, fsync)
	if err != nil {
		return run{}, err
	}
	kind := "mbsync (FSync no)"
	if fsync {
		kind = "mbsync (default fsync)"
	}
	b.printCommand(kind, "mbsync -q -c "+conf+" -a   # config below")
	b.dropCaches()
	r, err := timeCmd(false, nil, "mbsync", "-q", "-c", conf, "-a")
	if err != nil {
		return r, err
	}
	if n, _ := countFiles(dir, func(path string) bool {
		d := filepath.Base(filepath.Dir(path))
		return d == "cur" || d == "new"
	}); n != b.total() {
		return r, fmt.Errorf("mbsync stored %d messages, want %d", n, b.total())
	}
	return r, nil
}

// countFiles counts the regular files below dir that keep accepts, and
// their bytes.
func countFiles(dir string, keep func(string) bool) (n int, bytes int64) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || keep != nil && !keep(path) {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n++
			bytes += fi.Size()
		}
		return nil
	})
	return n, bytes
}

func isEML(path string) bool { return strings.HasSuffix(path, ".eml") }
