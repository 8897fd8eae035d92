package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// A generated file is one whose bytes are made from a folder or an
// account rather than taken from one message: a folder's flags file
// (flags.go), checksum file (sums.go) and mbox (mbox.go), and an
// account's status file (status.go). One node type, genNode, serves them
// all; a genKind says what differs between them.
//
// Such a file changes while mounted, so the kernel keeps its attributes
// for genKind.timeout at most, and its mtime changes with its bytes,
// which drops the kernel's pages; a change of its folder is told to the
// kernel too (account.changed). Its size is always exact at a stat: a
// lookup never makes the file (the kernel looks up every entry of a
// listing, READDIRPLUS, and ls -l of a big folder must not make its
// files), so, unless the kind can tell the size without making the file
// (genKind.stat), a lookup returns attributes the kernel is not to keep,
// and the next stat asks Getattr, which makes it.
//
// A handle (where the kernel sends OPEN) reads the version made at its
// open, from its first byte to its last. Reads without a handle
// (zero-message opens, see fileNode.Open) and stats share the node's
// version, which genKind.make replaces when it is no longer the file's.

// genKind is what differs between the generated files.
type genKind struct {
	// make returns the file as it is now. prev is the version last served
	// without a handle (nil for an open, which gets a version of its
	// own); make returns prev itself while it is still current, so that
	// what reads it keeps its place.
	make func(ctx context.Context, prev genVersion) (genVersion, error)
	// stat, if set, tells the size and mtime without making the file: a
	// lookup and a stat then give them and make nothing.
	stat func(ctx context.Context) (int64, time.Time, error)
	// timeout is how long the kernel may keep the attributes; zero: it
	// asks at every stat.
	timeout time.Duration
	// openFlags are the open's flags (FOPEN_DIRECT_IO for a file that is
	// new at every open: the kernel's pages would be of another version).
	openFlags uint32
	// openWrite, if set, opens the file for writing on a writable account
	// (the flags file); the handle it returns writes, flushes and releases
	// itself. Without it the file is read-only.
	openWrite func(n *genNode) (fusefs.FileHandle, uint32, syscall.Errno)
}

// genVersion is one version of a generated file's bytes.
type genVersion interface {
	size() int64
	mtime() time.Time
	// readAt reads into p from off; at the end it returns fewer bytes
	// and io.EOF.
	readAt(ctx context.Context, p []byte, off int64) (int, error)
	// close releases what the version holds open.
	close()
}

// genNode is a generated file.
type genNode struct {
	fusefs.Inode
	acct *account
	kind genKind

	mu  sync.Mutex
	cur genVersion // served without a handle; guarded by mu
}

var (
	_ = (fusefs.NodeGetattrer)((*genNode)(nil))
	_ = (fusefs.NodeSetattrer)((*genNode)(nil))
	_ = (fusefs.NodeOpener)((*genNode)(nil))
	_ = (fusefs.NodeReader)((*genNode)(nil))
	_ = (fusefs.FileReleaser)((*genHandle)(nil))
)

// genTimeout is the attribute timeout of the generated files that change
// only with their folder. A flag change is not told by a server without
// CONDSTORE, and a second stat costs little.
const genTimeout = time.Second

// lookupGen returns the generated file of the kind named name in d,
// without making it. An empty file that the kind can stat is not there
// when hideEmpty is set.
func (d *dirNode) lookupGen(ctx context.Context, name string, kind genKind, ino uint64, hideEmpty bool, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	n := &genNode{acct: d.acct, kind: kind}
	if kind.stat == nil {
		n.fill(&out.Attr, 0, time.Time{}) // not kept: Getattr makes the file
	} else {
		size, mtime, err := kind.stat(ctx)
		if err != nil {
			return nil, errno(d.acct.m.log, "lookup", join(d.path, name), err)
		}
		if size == 0 && hideEmpty {
			return nil, syscall.ENOENT
		}
		n.fill(&out.Attr, size, mtime)
		out.SetAttrTimeout(kind.timeout)
	}
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: ino}), 0
}

func (n *genNode) path() string { return n.Path(nil) }

// writable tells whether the file takes writes.
func (n *genNode) writable() bool { return n.kind.openWrite != nil && n.acct.rw }

func (n *genNode) fill(a *fuse.Attr, size int64, mtime time.Time) {
	a.Mode = syscall.S_IFREG | n.acct.m.perm(false, n.writable())
	a.Size = uint64(max(size, 0))
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(&mtime, &mtime, &mtime)
	a.Owner = fuse.Owner{Uid: n.acct.m.uid, Gid: n.acct.m.gid}
}

// shared returns the version served without a handle, made anew when
// the kind says it is no longer current.
func (n *genNode) shared(ctx context.Context) (genVersion, error) {
	n.mu.Lock()
	prev := n.cur
	n.mu.Unlock()
	v, err := n.kind.make(ctx, prev)
	if err != nil || v == prev {
		return v, err
	}
	n.mu.Lock()
	old := n.cur
	n.cur = v
	n.mu.Unlock()
	if old != nil && old != v {
		old.close() // a read still on it opens again what it needs
	}
	return v, nil
}

// Getattr gives the exact size: that of the handle's version on a
// handle (fstat; not kept, the name may show a newer one), else of the
// file now.
func (n *genNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*genHandle); ok {
		n.fill(&out.Attr, h.v.size(), h.v.mtime())
		return 0
	}
	var size int64
	var mtime time.Time
	if n.kind.stat != nil {
		var err error
		if size, mtime, err = n.kind.stat(ctx); err != nil {
			return errno(n.acct.m.log, "stat", n.path(), err)
		}
	} else {
		v, err := n.shared(ctx)
		if err != nil {
			return errno(n.acct.m.log, "stat", n.path(), err)
		}
		size, mtime = v.size(), v.mtime()
	}
	n.fill(&out.Attr, size, mtime)
	out.SetTimeout(n.kind.timeout)
	return 0
}

// Setattr accepts what cp -a and rsync set on a writable file, and a
// truncate on a handle that writes it; a read-only one is EROFS.
func (n *genNode) Setattr(ctx context.Context, fh fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !n.writable() {
		return syscall.EROFS
	}
	if h, ok := fh.(interface{ truncate(int64) error }); ok {
		if size, ok := in.GetSize(); ok {
			if err := h.truncate(int64(size)); err != nil {
				return errno(n.acct.m.log, "truncate", n.path(), err)
			}
		}
	}
	return n.Getattr(ctx, fh, out)
}

// Open makes the version the handle reads. Where the kernel supports
// zero-message opens it is told, as by every file, to send no OPEN.
func (n *genNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		if !n.writable() {
			return nil, 0, syscall.EROFS
		}
		return n.kind.openWrite(n)
	}
	if n.acct.m.noOpen.Load() {
		return nil, 0, syscall.ENOSYS
	}
	v, err := n.kind.make(ctx, nil)
	if err != nil {
		return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
	}
	return &genHandle{v: v}, n.kind.openFlags, 0
}

func (n *genNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var v genVersion
	switch h := fh.(type) {
	case *genHandle:
		v = h.v
	case nil: // no OPEN was sent (zero-message opens)
		var err error
		if v, err = n.shared(ctx); err != nil {
			return nil, errno(n.acct.m.log, "read", n.path(), err)
		}
	default: // opened for writing
		return nil, syscall.EBADF
	}
	k, err := v.readAt(ctx, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errno(n.acct.m.log, "read", n.path(), err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

// genHandle is a generated file opened for reading: the version made at
// the open.
type genHandle struct{ v genVersion }

func (h *genHandle) Release(ctx context.Context) syscall.Errno {
	h.v.close()
	return 0
}

// genBytes is a version held in memory (the small generated files).
type genBytes struct {
	b []byte
	t time.Time
}

func (v *genBytes) size() int64      { return int64(len(v.b)) }
func (v *genBytes) mtime() time.Time { return v.t }
func (v *genBytes) close()           {}

func (v *genBytes) readAt(_ context.Context, p []byte, off int64) (int, error) {
	if off >= int64(len(v.b)) {
		return 0, io.EOF
	}
	k := copy(p, v.b[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

// genFunc makes a kind's make from a function that makes the bytes and
// their mtime, made anew at every call (the cache keeps what is costly).
func genFunc(f func(ctx context.Context) ([]byte, time.Time, error)) func(context.Context, genVersion) (genVersion, error) {
	return func(ctx context.Context, _ genVersion) (genVersion, error) {
		b, t, err := f(ctx)
		if err != nil {
			return nil, err
		}
		return &genBytes{b: b, t: t}, nil
	}
}
