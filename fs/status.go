package fs

import (
	"context"
	"encoding/json"
	"sync"
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

// statusNode is an account's status file: JSON made when it is looked
// at. Like the flags file, a lookup returns attributes not to be kept and
// Getattr makes the file; its attributes are never kept (the kernel asks
// at every stat), and its mtime changes with its bytes, which drops the
// kernel's pages.
//
// A reader must see one version from its first byte to its last. Where
// the kernel opens files (OPEN is sent), the handle holds the bytes made
// at the open, fstat on it tells their size, and reads use direct I/O.
// Where it does not (zero-message opens, as every file of the mount
// asks: see fileNode.Open), reads and stats share the node's newest
// version, made again only when it is older than statusFresh: a reader
// takes milliseconds, a monitoring script reading every few seconds
// still gets news.
//
// It is found by name but not listed: a copy of the tree (rsync -a, cp
// -r) should not take a file that differs at every read, and listings
// stay those of the server's folders.
type statusNode struct {
	fusefs.Inode
	acct *account
	st   Statuser

	mu  sync.Mutex
	cur *statusRead // last made; guarded by mu
}

var (
	_ = (fusefs.NodeGetattrer)((*statusNode)(nil))
	_ = (fusefs.NodeOpener)((*statusNode)(nil))
	_ = (fusefs.NodeReader)((*statusNode)(nil))
)

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

func (d *dirNode) lookupStatus(ctx context.Context, st Statuser, out *fuse.EntryOut) *fusefs.Inode {
	n := &statusNode{acct: d.acct, st: st}
	n.fill(&out.Attr, 0, time.Time{})
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: statusIno(d.acct.name)})
}

// make makes the file's bytes now.
func (n *statusNode) make() *statusRead {
	r := n.st.Status()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil { // cannot happen: plain fields only
		n.acct.m.log.Error("status", "err", err)
	}
	return &statusRead{b: append(b, '\n'), mtime: r.Generated}
}

// shared is the version served without a handle, made again when stale.
func (n *statusNode) shared() *statusRead {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cur == nil || time.Since(n.cur.mtime) >= statusFresh {
		n.cur = n.make()
	}
	return n.cur
}

func (n *statusNode) fill(a *fuse.Attr, size int, mtime time.Time) {
	a.Mode = syscall.S_IFREG | n.acct.m.perm(false, false)
	a.Size = uint64(size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(&mtime, &mtime, &mtime)
	a.Owner = fuse.Owner{Uid: n.acct.m.uid, Gid: n.acct.m.gid}
}

func (n *statusNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	h, ok := fh.(*statusRead)
	if !ok {
		h = n.shared()
	}
	n.fill(&out.Attr, len(h.b), h.mtime)
	return 0 // no timeout: the kernel asks again at the next stat
}

// statusRead is one version of the file.
type statusRead struct {
	b     []byte
	mtime time.Time
}

func (n *statusNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EROFS
	}
	h := n.make()
	n.mu.Lock()
	n.cur = h // the newest version, for reads without a handle too
	n.mu.Unlock()
	return h, fuse.FOPEN_DIRECT_IO, 0
}

func (n *statusNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := fh.(*statusRead)
	if !ok { // no OPEN was sent (zero-message opens)
		h = n.shared()
	}
	if off >= int64(len(h.b)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(h.b[off:min(int64(len(h.b)), off+int64(len(dest)))]), 0
}
