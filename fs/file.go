package fs

import (
	"context"
	"os"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// format is one way a message is shown as a file.
type format struct {
	id  int // part of the inode number; never renumber
	ext string
}

// formats are the files shown for every message.
var formats = []format{{0, "eml"}}

// splitName parses "STEM.EXT" into the stem and a shown format's id.
func splitName(name string) (stem string, id int, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", 0, false
	}
	for _, f := range formats {
		if f.ext == name[i+1:] {
			return name[:i], f.id, true
		}
	}
	return "", 0, false
}

// fileNames lists the names a message is shown under.
func fileNames(msg cache.Msg) []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = msg.Stem + "." + f.ext
	}
	return out
}

// fileNode is one message in one format.
type fileNode struct {
	fs.Inode
	m      *Mount
	folder string
	path   string    // inside the mount, for log lines
	msg    cache.Msg // as of lookup; refreshed from the store when possible
	format int
}

var (
	_ = (fs.NodeGetattrer)((*fileNode)(nil))
	_ = (fs.NodeOpener)((*fileNode)(nil))
	_ = (fs.NodeReader)((*fileNode)(nil))
	_ = (fs.NodeReleaser)((*fileNode)(nil))
)

func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.fill(&out.Attr)
	return 0
}

func (f *fileNode) fill(a *fuse.Attr) {
	if msg, ok := f.m.args.Store.Message(f.folder, f.msg.UIDValidity, f.msg.UID); ok {
		f.msg = msg
	}
	t := uint64(f.msg.Date.Unix())
	ns := uint32(f.msg.Date.Nanosecond())
	a.Mode = syscall.S_IFREG | 0o444
	a.Size = uint64(f.msg.Size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.Mtime, a.Ctime, a.Atime = t, t, t
	a.Mtimensec, a.Ctimensec, a.Atimensec = ns, ns, ns
	a.Owner = fuse.Owner{Uid: f.m.uid, Gid: f.m.gid}
}

// Open downloads the message if the cache lacks it, then serves it from
// the cache file. Message files never change, so the kernel may keep
// their pages across opens.
func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EROFS
	}
	file, err := f.m.args.Store.OpenBody(ctx, f.folder, f.msg.UIDValidity, f.msg.UID)
	if err != nil {
		return nil, 0, errno(f.m.args.Log, "open", f.path, err)
	}
	return &handle{file: file}, fuse.FOPEN_KEEP_CACHE, 0
}

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h := fh.(*handle)
	return fuse.ReadResultFd(h.file.Fd(), off, len(dest)), 0
}

func (f *fileNode) Release(ctx context.Context, fh fs.FileHandle) syscall.Errno {
	fh.(*handle).file.Close()
	return 0
}

// handle is an open message file: the cache file that holds its bytes.
type handle struct {
	file *os.File
}
