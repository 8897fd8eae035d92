package fs

import (
	"context"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// flagsNode is a folder's flags file (cache.FlagsName): the flags of its
// messages, made by the cache when read. Its attributes are kept for a
// second only, since a server without CONDSTORE tells no flag change;
// its mtime changes with its bytes, which drops the kernel's pages. On a
// writable account, writing it sets the flags (cache.SetFlags), whether
// it is written in place or as a temporary file renamed to it (write.go).
type flagsNode struct {
	fusefs.Inode
	acct   *account
	folder string
}

var (
	_ = (fusefs.NodeGetattrer)((*flagsNode)(nil))
	_ = (fusefs.NodeSetattrer)((*flagsNode)(nil))
	_ = (fusefs.NodeOpener)((*flagsNode)(nil))
	_ = (fusefs.NodeReader)((*flagsNode)(nil))
	_ = (fusefs.NodeFlusher)((*flagsNode)(nil))
	_ = (fusefs.NodeReleaser)((*flagsNode)(nil))
)

const flagsTimeout = time.Second

func flagsIno(account, path string) uint64 { return dirIno(account, path+"\x00"+cache.FlagsName) }

// lookupFlags returns the flags file of the folder at d, without making
// it: the kernel looks up every entry of a listing (READDIRPLUS), and ls
// -l of a big folder must not fetch its flags. The attributes it returns
// are not to be kept (like those of a view not yet rendered), so a stat
// asks Getattr, which makes the file and gives its exact size.
func (d *dirNode) lookupFlags(ctx context.Context, folder string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	n := &flagsNode{acct: d.acct, folder: folder}
	n.fill(&out.Attr, 0, time.Time{})
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: flagsIno(d.acct.name, d.path)}), 0
}

func (n *flagsNode) path() string { return n.Path(nil) }

func (n *flagsNode) attr(ctx context.Context, a *fuse.Attr) syscall.Errno {
	b, mtime, err := n.acct.store.FlagsFile(ctx, n.folder)
	if err != nil {
		return errno(n.acct.m.log, "stat", n.path(), err)
	}
	n.fill(a, len(b), mtime)
	return 0
}

func (n *flagsNode) fill(a *fuse.Attr, size int, mtime time.Time) {
	a.Mode = syscall.S_IFREG | n.acct.m.perm(false, n.acct.rw)
	a.Size = uint64(size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(&mtime, &mtime, &mtime)
	a.Owner = fuse.Owner{Uid: n.acct.m.uid, Gid: n.acct.m.gid}
}

func (n *flagsNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if en := n.attr(ctx, &out.Attr); en != 0 {
		return en
	}
	out.SetTimeout(flagsTimeout)
	return 0
}

// Setattr accepts what cp -a and rsync set (a truncate goes to the
// handle that writes the file).
func (n *flagsNode) Setattr(ctx context.Context, fh fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !n.acct.rw {
		return syscall.EROFS
	}
	if h, ok := fh.(*flagsWrite); ok {
		if size, ok := in.GetSize(); ok {
			if err := h.st.Truncate(int64(size)); err != nil {
				return errno(n.acct.m.log, "truncate", n.path(), err)
			}
		}
	}
	return n.Getattr(ctx, fh, out)
}

// flagsRead is the file as it was when opened.
type flagsRead struct{ b []byte }

// flagsWrite is the file opened for writing: staged, applied at close.
type flagsWrite struct {
	mu   sync.Mutex
	st   *cache.Staged
	done bool
}

func (n *flagsNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		if !n.acct.rw {
			return nil, 0, syscall.EROFS
		}
		st, err := n.acct.writer.Stage()
		if err != nil {
			return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
		}
		return &flagsWrite{st: st}, fuse.FOPEN_DIRECT_IO, 0
	}
	b, _, err := n.acct.store.FlagsFile(ctx, n.folder)
	if err != nil {
		return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
	}
	return &flagsRead{b: b}, 0, 0
}

func (n *flagsNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var b []byte
	switch h := fh.(type) {
	case *flagsRead:
		b = h.b
	case *flagsWrite:
		return nil, syscall.EBADF
	default: // no OPEN was sent (zero-message opens)
		var err error
		if b, _, err = n.acct.store.FlagsFile(ctx, n.folder); err != nil {
			return nil, errno(n.acct.m.log, "read", n.path(), err)
		}
	}
	if off >= int64(len(b)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(b[off:min(int64(len(b)), off+int64(len(dest)))]), 0
}

func (h *flagsWrite) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return 0, syscall.EIO
	}
	if _, err := h.st.WriteAt(data, off); err != nil {
		return 0, syscall.EIO
	}
	return uint32(len(data)), 0
}

// Flush applies what was written, at the close.
func (n *flagsNode) Flush(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	h, ok := fh.(*flagsWrite)
	if !ok {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return 0
	}
	h.done = true
	err := n.acct.writer.SetFlags(uninterrupted(ctx), n.folder, h.st)
	if err != nil {
		return writeErrno(n.acct.m.log, "set flags", n.path(), err)
	}
	return 0
}

func (n *flagsNode) Release(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	if h, ok := fh.(*flagsWrite); ok {
		h.mu.Lock()
		if !h.done {
			h.st.Discard()
			h.done = true
		}
		h.mu.Unlock()
	}
	return 0
}
