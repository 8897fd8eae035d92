package fs

import (
	"context"
	"slices"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// withoutSums returns the formats without cache.SumsFormat, and whether
// it was there. The checksum file is a file per folder, not per message,
// so it is no render.Format: Args.Formats carries it, and New takes it
// out.
func withoutSums(formats []string) ([]string, bool) {
	if !slices.Contains(formats, cache.SumsFormat) {
		return formats, false
	}
	return slices.DeleteFunc(slices.Clone(formats), func(f string) bool { return f == cache.SumsFormat }), true
}

// sumsNode is a folder's checksum file, made by the cache at the first
// read: it needs every body of the folder. Its size and mtime come from
// the listing (cache.SumsAttr), so a lookup or stat (ls -l) reads no
// body. It changes only when the folder does, and is then told to the
// kernel (account.changed); its mtime changes with its bytes.
type sumsNode struct {
	fusefs.Inode
	acct   *account
	folder string
}

var (
	_ = (fusefs.NodeGetattrer)((*sumsNode)(nil))
	_ = (fusefs.NodeOpener)((*sumsNode)(nil))
	_ = (fusefs.NodeReader)((*sumsNode)(nil))
)

func sumsIno(account, path string) uint64 { return dirIno(account, path+"\x00"+cache.SumsName) }

// lookupSums returns the checksum file of the folder at d, without
// making it. An empty folder has none: sha256sum -c fails on a file with
// no line, and a script checking every folder of a backup must not.
func (d *dirNode) lookupSums(ctx context.Context, folder string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	n := &sumsNode{acct: d.acct, folder: folder}
	if en := n.attr(ctx, &out.Attr); en != 0 {
		return nil, en
	}
	if out.Attr.Size == 0 {
		return nil, syscall.ENOENT
	}
	out.SetAttrTimeout(flagsTimeout)
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: sumsIno(d.acct.name, d.path)}), 0
}

func (n *sumsNode) path() string { return n.Path(nil) }

func (n *sumsNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if en := n.attr(ctx, &out.Attr); en != 0 {
		return en
	}
	out.SetTimeout(flagsTimeout)
	return 0
}

func (n *sumsNode) attr(ctx context.Context, a *fuse.Attr) syscall.Errno {
	size, mtime, err := n.acct.store.SumsAttr(ctx, n.folder)
	if err != nil {
		return errno(n.acct.m.log, "stat", n.path(), err)
	}
	n.fill(a, size, mtime)
	return 0
}

func (n *sumsNode) fill(a *fuse.Attr, size int64, mtime time.Time) {
	a.Mode = syscall.S_IFREG | n.acct.m.perm(false, false)
	a.Size = uint64(size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(&mtime, &mtime, &mtime)
	a.Owner = fuse.Owner{Uid: n.acct.m.uid, Gid: n.acct.m.gid}
}

// sumsRead is the file as it was when opened.
type sumsRead struct{ b []byte }

func (n *sumsNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EROFS
	}
	b, _, err := n.acct.store.SumsFile(ctx, n.folder)
	if err != nil {
		return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
	}
	return &sumsRead{b: b}, 0, 0
}

func (n *sumsNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := fh.(*sumsRead)
	if !ok { // no OPEN was sent (zero-message opens)
		b, _, err := n.acct.store.SumsFile(ctx, n.folder)
		if err != nil {
			return nil, errno(n.acct.m.log, "read", n.path(), err)
		}
		h = &sumsRead{b: b}
	}
	if off >= int64(len(h.b)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(h.b[off:min(int64(len(h.b)), off+int64(len(dest)))]), 0
}
