package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootNode is the root of a mount with several accounts: one directory
// per account.
type rootNode struct {
	fs.Inode
	m *Mount
}

var (
	_ = (fs.NodeLookuper)((*rootNode)(nil))
	_ = (fs.NodeReaddirer)((*rootNode)(nil))
	_ = (fs.NodeGetattrer)((*rootNode)(nil))
	_ = (fs.NodeStatfser)((*rootNode)(nil))
)

func (r *rootNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	for _, a := range r.m.accounts {
		if a.name == name {
			n := &dirNode{acct: a}
			n.fill(ctx, &out.Attr)
			out.SetAttrTimeout(attrTimeout)
			return r.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: dirIno(a.name, "")}), 0
		}
	}
	return nil, syscall.ENOENT
}

func (r *rootNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	var entries []fuse.DirEntry
	for _, a := range r.m.accounts {
		entries = append(entries, fuse.DirEntry{Name: a.name, Mode: syscall.S_IFDIR, Ino: dirIno(a.name, "")})
	}
	return fs.NewListDirStream(entries), 0
}

func (r *rootNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | r.m.perm(true, false)
	out.Ino = dirIno("", "")
	out.Nlink = 2
	out.Owner = fuse.Owner{Uid: r.m.uid, Gid: r.m.gid}
	out.SetTimeout(attrTimeout)
	return 0
}

func (r *rootNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}
