package fs

import (
	"context"
	"encoding/json"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// Statuser is a Store that reports its account's status, shown as the
// read-only file cache.StatusName at the account's top directory. A store
// without it has no such file.
type Statuser interface {
	Status() cache.StatusReport
}

// The status file of an account is a generated file (generated.go): JSON
// made when it is looked at. Its attributes are never kept (the kernel
// asks at every stat).
//
// A reader must see one version from its first byte to its last. Where
// the kernel opens files (OPEN is sent), the handle holds the bytes made
// at the open, fstat on it tells their size, and reads use direct I/O.
// Where it does not (zero-message opens), reads and stats share the
// node's version, made again only when it is older than statusFresh: a
// reader takes milliseconds, a monitoring script reading every few
// seconds still gets news.
//
// It is found by name but not listed: a copy of the tree (rsync -a, cp
// -r) should not take a file that differs at every read, and listings
// stay those of the server's folders.

// statusFresh is how long one version of a status file is served to
// reads and stats without a handle.
const statusFresh = time.Second

func statusIno(account string) uint64 { return dirIno(account, "\x00"+cache.StatusName) }

// statusEntry is the status file's entry at the account's top directory
// d, if the store reports a status and no folder has that name.
func (d *dirNode) statusEntry() (Statuser, bool) {
	if d.path != "" || d.acct.tree.Load().dirs[cache.StatusName] != nil {
		return nil, false
	}
	st, ok := d.acct.store.(Statuser)
	return st, ok
}

func (d *dirNode) lookupStatus(ctx context.Context, st Statuser, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	log := d.acct.m.log
	kind := genKind{
		make: func(_ context.Context, prev genVersion) (genVersion, error) {
			if prev != nil && time.Since(prev.mtime()) < statusFresh {
				return prev, nil
			}
			r := st.Status()
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil { // cannot happen: plain fields only
				log.Error("status", "err", err)
			}
			return &genBytes{b: append(b, '\n'), t: r.Generated}, nil
		},
		openFlags: fuse.FOPEN_DIRECT_IO,
	}
	return d.lookupGen(ctx, cache.StatusName, kind, statusIno(d.acct.name), false, out)
}
