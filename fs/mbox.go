package fs

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// mboxNode is a folder's mbox (--formats …,mbox; cache.Mbox): all its
// messages in one mboxrd file, named after the folder's directory and
// shown inside it as a dotfile, "INBOX/.INBOX.mbox". No message is ever
// named so (message names never start with a dot), and a subfolder of
// that name, should there be one, wins: the mbox is then not shown.
//
// Its size needs every body of the folder, so only a stat of the file
// itself may make it. Like the flags file, a lookup does not (the
// kernel looks up every entry of a listing, READDIRPLUS): the kernel is
// told not to keep the attributes a lookup gives, and a stat asks
// Getattr, which makes it, downloading what the cache lacks, and gives
// the exact size. But ls -l stats every name it shows, and so do file
// managers and shell globs (cp INBOX/* …): hence the dot, which keeps
// them from downloading a whole folder unasked (ls -a shows it). Its
// attributes are kept for a second: a second stat costs little (the
// cache keeps the mbox of the listing), and a change of the folder tells
// the kernel anyway (account.changed).
type mboxNode struct {
	fusefs.Inode
	acct   *account
	folder string

	mu sync.Mutex        // guards rd
	rd *cache.MboxReader // for reads without a handle (zero-message opens)
	of *cache.Mbox       // what rd reads
}

var (
	_ = (fusefs.NodeGetattrer)((*mboxNode)(nil))
	_ = (fusefs.NodeOpener)((*mboxNode)(nil))
	_ = (fusefs.NodeReader)((*mboxNode)(nil))
	_ = (fusefs.NodeReleaser)((*mboxNode)(nil))
)

const mboxTimeout = time.Second

// mboxName is the name of the mbox of the folder at path (not the top).
func mboxName(path string) string {
	return "." + path[strings.LastIndexByte(path, '/')+1:] + ".mbox"
}

func mboxIno(account, path string) uint64 {
	return dirIno(account, path+"\x00"+mboxName(path))
}

// showsMbox tells whether the folder directory at path shows its mbox.
func (a *account) showsMbox(t *tree, path string) bool {
	td := t.dirs[path]
	return a.mbox && path != "" && td != nil && td.selectable && t.dirs[join(path, mboxName(path))] == nil
}

// lookupMbox returns the mbox of the folder at d without making it.
func (d *dirNode) lookupMbox(ctx context.Context, folder string, out *fuse.EntryOut) *fusefs.Inode {
	n := &mboxNode{acct: d.acct, folder: folder}
	n.fill(&out.Attr, 0, time.Time{})
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: mboxIno(d.acct.name, d.path)})
}

func (n *mboxNode) path() string { return n.Path(nil) }

func (n *mboxNode) fill(a *fuse.Attr, size int64, mtime time.Time) {
	a.Mode = syscall.S_IFREG | n.acct.m.perm(false, false)
	a.Size = uint64(size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(&mtime, &mtime, &mtime)
	a.Owner = fuse.Owner{Uid: n.acct.m.uid, Gid: n.acct.m.gid}
}

func (n *mboxNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	m, err := n.acct.store.Mbox(ctx, n.folder)
	if err != nil {
		return errno(n.acct.m.log, "stat", n.path(), err)
	}
	n.fill(&out.Attr, m.Size(), m.Mtime())
	out.SetTimeout(mboxTimeout)
	return 0
}

// mboxHandle is the mbox as it was when opened.
type mboxHandle struct{ rd *cache.MboxReader }

func (n *mboxNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EACCES
	}
	if n.acct.m.noOpen.Load() {
		return nil, 0, syscall.ENOSYS
	}
	m, err := n.acct.store.Mbox(ctx, n.folder)
	if err != nil {
		return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
	}
	return &mboxHandle{rd: m.NewReader()}, 0, 0
}

func (n *mboxNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var rd *cache.MboxReader
	if h, ok := fh.(*mboxHandle); ok {
		rd = h.rd
	} else { // no OPEN was sent (zero-message opens): the node's reader
		m, err := n.acct.store.Mbox(ctx, n.folder)
		if err != nil {
			return nil, errno(n.acct.m.log, "read", n.path(), err)
		}
		n.mu.Lock()
		if n.of != m {
			if n.rd != nil {
				n.rd.Close()
			}
			n.rd, n.of = m.NewReader(), m
		}
		rd = n.rd
		n.mu.Unlock()
	}
	k, err := rd.ReadAt(ctx, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errno(n.acct.m.log, "read", n.path(), err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

func (n *mboxNode) Release(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	if h, ok := fh.(*mboxHandle); ok {
		h.rd.Close()
	}
	return 0
}
