package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
	"mailfs/render"
)

// The formats are render's (render.Formats); Args.Formats picks the ones
// shown. A format's slot is part of its files' inode numbers (ino.go).

// emlFormat is the slot of the message itself (render.Formats).
const emlFormat = 0

// parseFormats checks a list of extensions such as ["eml", "pdf",
// "mbox"]: the formats shown per message, and whether each folder shows
// its mbox (render.FolderFormats, mbox.go).
func parseFormats(names []string) (formats []render.Format, mbox bool, err error) {
	if len(names) == 0 {
		names = []string{"eml"}
	}
	for _, n := range names {
		if f, ok := render.FormatOf(n); ok {
			formats = append(formats, f)
		} else if _, ok := render.FolderFormatOf(n); ok {
			mbox = true // the one folder format
		} else {
			return nil, false, fmt.Errorf("unknown format %q (want %s)", n, render.FormatList())
		}
	}
	return formats, mbox, nil
}

// splitName parses "STEM.EXT" into the stem and a shown format.
func (a *account) splitName(name string) (stem string, f render.Format, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", render.Format{}, false
	}
	for _, f := range a.formats {
		if f.Ext == name[i+1:] {
			return name[:i], f, true
		}
	}
	return "", render.Format{}, false
}

// fileNames lists the names a message is shown under.
func (a *account) fileNames(msg cache.Msg) []string {
	out := make([]string, len(a.formats))
	for i, f := range a.formats {
		out[i] = msg.Stem + "." + f.Ext
	}
	return out
}

// fileNode is one message in one format, in every folder that holds it
// (hard links, see ino.go). It is kept small (a folder can hold 100,000 of
// them): the rest is asked of the store when needed.
type fileNode struct {
	fusefs.Inode
	acct   *account
	folder string // where it was looked up first; shared with the tree
	stem   string // shared with the store's Msg
	link   uint64 // cache.Msg.Link
	slot   uint8  // its format's slot (render.Format.Slot)

	// shown is the size the kernel was last told, so that a read after
	// the size turned out wrong fails instead of serving a cut or padded
	// copy (see Read).
	shown atomic.Int64
}

// ext is the extension of the file's format.
func (f *fileNode) ext() string {
	for _, ft := range render.Formats {
		if ft.Slot == int(f.slot) {
			return ft.Ext
		}
	}
	panic(fmt.Sprintf("fs: unknown format slot %d", f.slot))
}

// message returns the message as the store knows it now, and the folder
// it is read from: the folder it was first looked up in while that holds
// it, else another one that holds the same message.
func (f *fileNode) message() (string, cache.Msg, syscall.Errno) {
	if msg, ok := f.acct.store.Lookup(f.folder, f.stem); ok && msg.Link == f.link {
		return f.folder, msg, 0
	}
	for _, folder := range f.acct.store.Holders(f.stem, f.link) {
		if msg, ok := f.acct.store.Lookup(folder, f.stem); ok && msg.Link == f.link {
			return folder, msg, 0
		}
	}
	if _, ok := f.acct.store.Lookup(f.folder, f.stem); ok {
		// The name shows another message now (copies found to differ,
		// or a look-alike took the name): this file is stale, a new
		// lookup finds the one shown now.
		return "", cache.Msg{}, syscall.ESTALE
	}
	return "", cache.Msg{}, syscall.ENOENT // expunged meanwhile
}

// verifyLinks makes sure that the copies this file stands for are one
// message (cache.VerifyLinks). When they are not, the kernel is made to
// forget every name of theirs before the reader learns it, so that a
// reader who tries again finds each copy under its own inode.
func (f *fileNode) verifyLinks(ctx context.Context) error {
	err := f.acct.store.VerifyLinks(ctx, f.stem, f.link)
	if errors.Is(err, cache.ErrSplit) {
		a := f.acct
		for path, d := range a.tree.Load().dirs {
			if d.folder == "" {
				continue
			}
			dir := a.dirInode(path)
			if dir == nil {
				continue
			}
			for _, ft := range a.formats {
				name := f.stem + "." + ft.Ext
				if child := dir.GetChild(name); child != nil {
					dir.NotifyDelete(name, child)
				}
			}
		}
	}
	return err
}

// nlink is how many folders hold the message: its hard links.
func (f *fileNode) nlink() uint32 {
	return uint32(max(len(f.acct.store.Holders(f.stem, f.link)), 1))
}

var (
	_ = (fusefs.NodeGetattrer)((*fileNode)(nil))
	_ = (fusefs.NodeOpener)((*fileNode)(nil))
	_ = (fusefs.NodeReader)((*fileNode)(nil))
	_ = (fusefs.NodeReleaser)((*fileNode)(nil))
	_ = (fusefs.NodeFlusher)((*fileNode)(nil))
	_ = (fusefs.FilePassthroughFder)((*handle)(nil))
)

// path is the file's path for log lines.
func (f *fileNode) path() string { return f.Path(nil) }

// Getattr gives exact sizes: a view never rendered is rendered here, and
// a message the server says is empty is fetched (the kernel never reads
// a file of size 0).
func (f *fileNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	folder, msg, en := f.message()
	if en != 0 {
		return en
	}
	var size int64
	var err error
	if f.slot == emlFormat {
		size, err = f.acct.store.BodySize(ctx, folder, msg.UIDValidity, msg.UID)
	} else {
		size, err = f.acct.store.ViewSize(ctx, folder, msg.UIDValidity, msg.UID, f.ext())
	}
	if err != nil {
		return errno(f.acct.m.log, "stat", f.path(), err)
	}
	f.fill(&out.Attr, msg, size)
	f.shown.Store(size)
	out.SetTimeout(attrTimeout)
	return 0
}

// lookupAttr fills what a lookup returns without rendering or fetching:
// for a view not yet rendered, or a message of announced size 0, the size
// is unknown and the kernel is told not to keep the attributes, so the
// next stat asks Getattr, which renders or fetches.
func (f *fileNode) lookupAttr(out *fuse.EntryOut, msg cache.Msg) {
	size, known := msg.Size, msg.Size > 0
	if f.slot != emlFormat {
		size, known = f.acct.store.KnownViewSize(f.folder, msg.UIDValidity, msg.UID, f.ext())
	}
	f.fill(&out.Attr, msg, size)
	f.shown.Store(max(size, 0))
	if known {
		out.SetAttrTimeout(attrTimeout)
	}
}

func (f *fileNode) fill(a *fuse.Attr, msg cache.Msg, size int64) {
	t := uint64(msg.Date.Unix())
	ns := uint32(msg.Date.Nanosecond())
	a.Mode = syscall.S_IFREG | f.acct.m.perm(false, false)
	a.Size = uint64(max(size, 0))
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = f.nlink()
	a.Mtime, a.Ctime, a.Atime = t, t, t
	a.Mtimensec, a.Ctimensec, a.Atimensec = ns, ns, ns
	a.Owner = fuse.Owner{Uid: f.acct.m.uid, Gid: f.acct.m.gid}
}

// Open costs nothing where the kernel supports zero-message opens: ENOSYS
// tells it to send no OPEN, FLUSH or RELEASE for any file from then on,
// and to keep file pages in its cache (message files never change). The
// message is then downloaded or rendered on the first READ. Elsewhere
// Open does that, and hands the kernel the cache file (passthrough).
func (f *fileNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return f.openWrite()
	}
	if f.acct.m.noOpen.Load() {
		return nil, 0, syscall.ENOSYS
	}
	folder, msg, en := f.message()
	if en != 0 {
		return nil, 0, en
	}
	file, err := f.open(ctx, folder, msg)
	if err != nil {
		return nil, 0, errno(f.acct.m.log, "open", f.path(), err)
	}
	return &handle{file: file}, fuse.FOPEN_KEEP_CACHE, 0
}

// open returns the cache file holding the bytes of the copy in folder,
// fetching or rendering them first if needed.
func (f *fileNode) open(ctx context.Context, folder string, msg cache.Msg) (*os.File, error) {
	if err := f.verifyLinks(ctx); err != nil {
		return nil, err
	}
	if f.slot == emlFormat {
		return f.acct.store.OpenBody(ctx, folder, msg.UIDValidity, msg.UID)
	}
	return f.acct.store.OpenView(ctx, folder, msg.UIDValidity, msg.UID, f.ext())
}

// Read serves the cache file. A message whose size changed since the
// kernel was told it (the body showed the server's RFC822.SIZE wrong)
// fails reads with EIO until the kernel asked for the new size (Getattr
// or a lookup; it was told to forget the old one): a reader may have
// planned the old size (rsync reads what it stat'ed), and a short or
// padded copy must never look like success.
func (f *fileNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	// A file open before another folder's copy was linked to it is
	// verified again (cheap once done: see cache.VerifyLinks).
	if err := f.verifyLinks(ctx); err != nil {
		return nil, errno(f.acct.m.log, "read", f.path(), err)
	}
	folder, msg, en := f.message()
	if en != 0 {
		return nil, en
	}
	if f.slot == emlFormat {
		if old := f.shown.Load(); old != msg.Size {
			return nil, errno(f.acct.m.log, "read", f.path(), fmt.Errorf("%w (%d bytes, not %d)", cache.ErrSizeChanged, msg.Size, old))
		}
	}
	if h, ok := fh.(*handle); ok {
		return fuse.ReadResultFd(h.file.Fd(), off, len(dest)), 0
	}
	of := copyRef{folder, msg.UIDValidity, msg.UID}
	e, err := f.acct.m.fds.get(f, of, func() (*os.File, error) { return f.open(ctx, folder, msg) })
	if err != nil {
		return nil, errno(f.acct.m.log, "read", f.path(), err)
	}
	// go-fuse splices from the file after Read returns; the file stays
	// open until it says it is done.
	return fdResult{fuse.ReadResultFd(e.file.Fd(), off, len(dest)), func() { f.acct.m.fds.release(e) }}, 0
}

// fdResult is a zero-copy read result that releases its file when sent.
type fdResult struct {
	fuse.ReadResult
	release func()
}

// Seekable lets go-fuse splice the data instead of copying it.
func (r fdResult) Seekable() (uintptr, int64, int) {
	return r.ReadResult.(interface{ Seekable() (uintptr, int64, int) }).Seekable()
}

func (r fdResult) Done() {
	r.ReadResult.Done()
	r.release()
}

func (f *fileNode) Release(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	if h, ok := fh.(*overwrite); ok {
		h.release()
		return 0
	}
	fh.(*handle).file.Close()
	return 0
}

// Flush has nothing to do for a read-only file: ENOSYS tells the kernel to
// stop sending it, one request less per close; but not on a writable
// mount, where files being written need it (write.go).
func (f *fileNode) Flush(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	if h, ok := fh.(*overwrite); ok {
		return h.flush(ctx)
	}
	if f.acct.m.rw {
		return 0
	}
	return syscall.ENOSYS
}

// handle is an open message file: the cache file that holds its bytes.
type handle struct {
	file *os.File
}

// PassthroughFd lets the kernel read the cache file itself (FUSE
// passthrough, Linux 6.9+, needs CAP_SYS_ADMIN): reads then cost no
// request and no copy through mailfs. Elsewhere go-fuse falls back to Read.
func (h *handle) PassthroughFd() (int, bool) {
	return int(h.file.Fd()), true
}
