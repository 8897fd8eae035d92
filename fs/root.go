package fs

import (
	"context"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootNode is the root of a mount with several accounts: one directory
// per account.
type rootNode struct {
	fusefs.Inode
	m *Mount
}

var (
	_ = (fusefs.NodeLookuper)((*rootNode)(nil))
	_ = (fusefs.NodeReaddirer)((*rootNode)(nil))
	_ = (fusefs.NodeGetattrer)((*rootNode)(nil))
	_ = (fusefs.NodeStatfser)((*rootNode)(nil))
)

func (r *rootNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	for _, a := range r.m.accounts {
		if a.name == name {
			n := &dirNode{acct: a}
			if n.fill(&out.Attr) {
				out.SetAttrTimeout(attrTimeout)
			}
			return r.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFDIR, Ino: dirIno(a.name, "")}), 0
		}
	}
	return nil, syscall.ENOENT
}

func (r *rootNode) Readdir(ctx context.Context) (fusefs.DirStream, syscall.Errno) {
	var entries []fuse.DirEntry
	for _, a := range r.m.accounts {
		entries = append(entries, fuse.DirEntry{Name: a.name, Mode: syscall.S_IFDIR, Ino: dirIno(a.name, "")})
	}
	return fusefs.NewListDirStream(entries), 0
}

func (r *rootNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | r.m.perm(true, false)
	out.Ino = dirIno("", "")
	out.Nlink = 2
	out.Owner = fuse.Owner{Uid: r.m.uid, Gid: r.m.gid}
	// Its times are those of the newest message of all accounts.
	var newest time.Time
	known := true
	for _, a := range r.m.accounts {
		t, ok := a.newest("")
		if t.After(newest) {
			newest = t
		}
		known = known && ok
	}
	setTimes(&out.Attr, newest)
	if known {
		out.SetTimeout(attrTimeout)
	}
	return 0
}

func (r *rootNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}
