package fs

import (
	"context"
	"strings"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// dirNode is a directory: the root, a mailbox, or a hierarchy level.
type dirNode struct {
	fusefs.Inode
	acct *account
	path string // inside the account, "" for its top
}

var (
	_ = (fusefs.NodeLookuper)((*dirNode)(nil))
	_ = (fusefs.NodeReaddirer)((*dirNode)(nil))
	_ = (fusefs.NodeGetattrer)((*dirNode)(nil))
	_ = (fusefs.NodeStatfser)((*dirNode)(nil))
	_ = (fusefs.NodeOpendirHandler)((*dirNode)(nil))
)

// OpendirHandle lists the directory and lets the kernel keep the listing
// (FOPEN_CACHE_DIR): a second ls, grep -r or rsync reads it from the
// kernel. account.changed drops it when the folder changes.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	ds, errno := d.Readdir(ctx)
	if errno != 0 {
		return nil, 0, errno
	}
	return ds, fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

func splitPath(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// Lookup finds a subfolder or a message file. It never fetches a body.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	t := d.acct.tree.Load()
	td := t.dirs[d.path]
	if td == nil {
		return nil, syscall.ENOENT
	}
	child := join(d.path, name)
	if t.dirs[child] != nil {
		n := &dirNode{acct: d.acct, path: child}
		if n.fill(&out.Attr) {
			out.SetAttrTimeout(attrTimeout)
		}
		return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFDIR, Ino: dirIno(d.acct.name, child)}), 0
	}
	if st, ok := d.statusEntry(); ok && name == cache.StatusName {
		return d.lookupStatus(ctx, st, out)
	}
	if !td.selectable {
		return nil, syscall.ENOENT
	}
	if w := d.lookupWritten(name, out); w != nil {
		return w, 0
	}
	if name == cache.FlagsName {
		return d.lookupFlags(ctx, td.folder, out)
	}
	if name == cache.SumsName && d.acct.sums {
		return d.lookupSums(ctx, td.folder, out)
	}
	if d.acct.showsMbox(t, d.path) && name == mboxName(d.path) {
		return d.lookupMbox(ctx, td.folder, out)
	}
	stem, format, ok := d.acct.splitName(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	if _, err := d.acct.store.Messages(ctx, td.folder); err != nil {
		return nil, errno(d.acct.m.log, "lookup", child, err)
	}
	msg, ok := d.acct.store.Lookup(td.folder, stem)
	if !ok {
		return nil, syscall.ENOENT
	}
	f := &fileNode{acct: d.acct, folder: td.folder, stem: msg.Stem, link: msg.Link, slot: uint8(format.Slot)}
	f.lookupAttr(out, msg)
	ino := fileIno(d.acct.name, msg.Stem, msg.Link, format.Slot)
	n := d.NewInode(ctx, f, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: ino})
	if kf, ok := n.Operations().(*fileNode); ok && kf != f {
		// go-fuse keeps the node it knows (under this name or as a hard
		// link in another folder) and drops f: what f was told is what
		// the kernel is told about now.
		kf.shown.Store(f.shown.Load())
		if kf.folder != f.folder && !d.acct.store.LinksVerified(f.stem, f.link) {
			// A new link to a file the kernel may hold pages of, read
			// before this folder's copy was compared with them: the
			// pages go, so that the next read verifies first.
			n.NotifyContent(0, 0)
		}
	}
	return n, 0
}

// Readdir lists subfolders, then the flags file, the checksum file and the
// mbox (when shown) and messages in UID order.
func (d *dirNode) Readdir(ctx context.Context) (fusefs.DirStream, syscall.Errno) {
	t := d.acct.tree.Load()
	td := t.dirs[d.path]
	if td == nil {
		return nil, syscall.ENOENT
	}
	var entries []fuse.DirEntry
	for _, name := range td.subdirs {
		entries = append(entries, fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR, Ino: dirIno(d.acct.name, join(d.path, name))})
	}
	if td.selectable {
		msgs, err := d.acct.store.Messages(ctx, td.folder)
		if err != nil {
			return nil, errno(d.acct.m.log, "readdir", d.path, err)
		}
		entries = append(entries, fuse.DirEntry{Name: cache.FlagsName, Mode: syscall.S_IFREG, Ino: flagsIno(d.acct.name, d.path)})
		if d.acct.sums && len(msgs) > 0 { // see lookupSums
			entries = append(entries, fuse.DirEntry{Name: cache.SumsName, Mode: syscall.S_IFREG, Ino: sumsIno(d.acct.name, d.path)})
		}
		if d.acct.showsMbox(t, d.path) {
			entries = append(entries, fuse.DirEntry{Name: mboxName(d.path), Mode: syscall.S_IFREG, Ino: mboxIno(d.acct.name, d.path)})
		}
		for _, msg := range msgs {
			for _, f := range d.acct.formats {
				entries = append(entries, fuse.DirEntry{
					Name: msg.Stem + "." + f.Ext,
					Mode: syscall.S_IFREG,
					Ino:  fileIno(d.acct.name, msg.Stem, msg.Link, f.Slot),
				})
			}
		}
	}
	return fusefs.NewListDirStream(entries), 0
}

func (d *dirNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if d.fill(&out.Attr) {
		out.SetTimeout(attrTimeout)
	}
	return 0
}

// fill sets a directory's attributes, and tells whether the kernel may
// keep them. Its times are those of the newest message in it or below it
// (kept by the cache: cache.Cache.Newest), so they only change when a
// folder does, and then account.changed tells the kernel. While a folder
// below has not been listed since the mount, its newest message is not
// known yet, and the kernel must ask again.
func (d *dirNode) fill(a *fuse.Attr) (keep bool) {
	a.Mode = syscall.S_IFDIR | d.acct.m.perm(true, d.acct.rw)
	a.Ino = dirIno(d.acct.name, d.path)
	a.Nlink = 2
	a.Owner = fuse.Owner{Uid: d.acct.m.uid, Gid: d.acct.m.gid}
	newest, known := d.acct.newest(d.path)
	setTimes(a, newest)
	return known
}

// newest is the date of the newest message shown at path or below it,
// and whether every folder there has been listed.
func (a *account) newest(path string) (time.Time, bool) {
	td := a.tree.Load().dirs[path]
	if td == nil {
		return time.Time{}, true
	}
	var newest time.Time
	known := true
	for _, folder := range td.below {
		t, ok := a.store.Newest(folder)
		if t.After(newest) {
			newest = t
		}
		known = known && ok
	}
	return newest, known
}

// setTimes sets a directory's times to t, to the second.
func setTimes(a *fuse.Attr, t time.Time) {
	var s uint64
	if !t.IsZero() {
		s = uint64(max(t.Unix(), 0))
	}
	a.Mtime, a.Ctime, a.Atime = s, s, s
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}

func statfs(out *fuse.StatfsOut) {
	out.Bsize = 4096
	out.Frsize = 4096
	out.NameLen = 255
}
