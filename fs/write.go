package fs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
	"mailfs/render"
)

// A writable account (Account.ReadWrite) maps file operations to what a
// user would expect of the server, and refuses the rest:
//
//   - a new NAME.eml in a folder is staged in the cache (never in memory)
//     and appended when complete: at its last close, or when a temporary
//     file (a name starting with ".", as rsync writes) that was closed
//     since its last write is renamed to it (else at its next close).
//     Its mtime then is the INTERNALDATE: cp -a and tar set it on the open
//     file before closing, rsync on the temporary file before renaming.
//     A message the folder already holds is not appended again
//     (cache.Commit);
//   - the folder's flags file (cache.FlagsName), written in place or
//     renamed to, sets the flags of the messages it names, and of those
//     appended later under those names (cache.SetFlags);
//   - NAME.html, .pdf, .txt and the other views are accepted and dropped
//     (views are made from the messages); a name starting with "." is a
//     temporary file, dropped (and logged) if never renamed; any other
//     name is refused with EINVAL;
//   - mkdir creates a folder; mv of a NAME.eml to another folder moves
//     the message (UID MOVE), mv of a folder renames it (RENAME); rm and
//     rmdir fail with EPERM, except that with AllowDelete rm of a NAME.eml
//     expunges exactly that message (UID EXPUNGE) and rmdir deletes an
//     empty folder; chmod, chown and utimes of directories are
//     accepted and change nothing, so rsync -a and cp -a succeed.
//
// After the commit the written name is dropped from the kernel's cache:
// the message shows under the name the cache gives it.
//
// Errors reach the writing tool through close or rename: EDQUOT when the
// server is over quota, EFBIG when the message is too big for it, EINVAL
// for what is not a message, EIO otherwise; each is logged with the file
// and the server's answer. A zero-message open would send no FLUSH, so a
// writable mount does without.

// Writer is what a writable account's Store must also do.
type Writer interface {
	Stage() (*cache.Staged, error)
	Commit(ctx context.Context, folder, stem string, st *cache.Staged, date time.Time) error
	SetFlags(ctx context.Context, folder string, st *cache.Staged) error
	CreateFolder(ctx context.Context, name string) error
	Delete(ctx context.Context, folder string, uidValidity, uid uint32) error
	DeleteFolder(ctx context.Context, name string) error
	Move(ctx context.Context, folder string, uidValidity, uid uint32, to string) error
	RenameFolder(ctx context.Context, name, to string) error
}

// writeKind is what a file written into a folder turns out to be.
type writeKind uint8

const (
	kindMessage writeKind = iota // NAME.eml: appended when complete
	kindView                     // a view's name: accepted and dropped
	kindFlags                    // cache.FlagsName: sets the flags when complete
	kindTemp                     // .NAME: a tool's temporary file, decided at its rename
)

// classify tells what a name written into a folder is.
func classify(name string) (writeKind, bool) {
	switch {
	case name == cache.FlagsName:
		return kindFlags, true
	case len(name) > len(".eml") && strings.HasSuffix(name, ".eml"):
		return kindMessage, true
	case isViewName(name):
		return kindView, true
	case strings.HasPrefix(name, "."):
		return kindTemp, true
	}
	return 0, false
}

// isViewName tells whether name ends in the extension of a view (any
// format but eml) or of a folder format (a folder's mbox copied back).
func isViewName(name string) bool {
	for _, f := range render.Formats {
		if f.Slot != emlFormat && strings.HasSuffix(name, "."+f.Ext) {
			return true
		}
	}
	for _, f := range render.FolderFormats {
		if strings.HasSuffix(name, "."+f.Ext) {
			return true
		}
	}
	return false
}

// Inode numbers of written files: 1 | 7 (a format no message file uses)
// | a counter. They need not be stable: the file is gone once committed.
var writeInos atomic.Uint64

func writeIno() uint64 { return 1<<63 | 7<<60 | writeInos.Add(1)&(1<<60-1) }

// writeNode is a file being written into a folder.
type writeNode struct {
	fusefs.Inode
	acct *account

	mu      sync.Mutex // guards the rest, held across a commit
	folder  string     // server name of the folder it was created or renamed into
	kind    writeKind
	st      *cache.Staged // the data; nil for a view, and once done
	size    int64
	mtime   time.Time // becomes the INTERNALDATE
	mode    uint32
	opens   int  // open handles (RELEASE comes late: a closed file may still count)
	dirty   bool // not committed since last written
	flushed bool // closed since last written
	done    bool // committed or dropped
}

var (
	_ = (fusefs.NodeCreater)((*dirNode)(nil))
	_ = (fusefs.NodeMkdirer)((*dirNode)(nil))
	_ = (fusefs.NodeUnlinker)((*dirNode)(nil))
	_ = (fusefs.NodeRmdirer)((*dirNode)(nil))
	_ = (fusefs.NodeRenamer)((*dirNode)(nil))
	_ = (fusefs.NodeSetattrer)((*dirNode)(nil))
	_ = (fusefs.NodeSetattrer)((*fileNode)(nil))

	_ = (fusefs.NodeGetattrer)((*writeNode)(nil))
	_ = (fusefs.NodeSetattrer)((*writeNode)(nil))
	_ = (fusefs.NodeOpener)((*writeNode)(nil))
	_ = (fusefs.NodeReader)((*writeNode)(nil))
	_ = (fusefs.NodeWriter)((*writeNode)(nil))
	_ = (fusefs.NodeFlusher)((*writeNode)(nil))
	_ = (fusefs.NodeReleaser)((*writeNode)(nil))
	_ = (fusefs.NodeOnForgetter)((*writeNode)(nil))
)

// writeHandle is an open written file; its state is on the node.
type writeHandle struct{}

// refusal is the errno for changing what the server holds: EROFS on a
// read-only account, EPERM on a writable one.
func (a *account) refusal() syscall.Errno {
	if a.rw {
		return syscall.EPERM
	}
	return syscall.EROFS
}

// writable returns the folder shown at d if files may be written into it.
func (d *dirNode) writable(op, name string) (*treeDir, syscall.Errno) {
	if !d.acct.rw {
		return nil, syscall.EROFS
	}
	td := d.acct.tree.Load().dirs[d.path]
	if td == nil {
		return nil, syscall.ENOENT
	}
	if !td.selectable {
		d.acct.m.log.Warn(op + " " + quote(join(d.path, name)) + ": this directory is not a mail folder (it holds folders only)")
		return nil, syscall.EPERM
	}
	return td, 0
}

// written returns the file being written under name, if any.
func (d *dirNode) written(name string) *writeNode {
	if ch := d.GetChild(name); ch != nil {
		if w, ok := ch.Operations().(*writeNode); ok {
			return w
		}
	}
	return nil
}

// lookupWritten finds a file still being written (the kernel may have
// forgotten its name before the tool renames it).
func (d *dirNode) lookupWritten(name string, out *fuse.EntryOut) *fusefs.Inode {
	w := d.written(name)
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.fill(&out.Attr)
	return w.EmbeddedInode()
}

func (d *dirNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fusefs.Inode, fusefs.FileHandle, uint32, syscall.Errno) {
	td, en := d.writable("create", name)
	if en != 0 {
		return nil, nil, 0, en
	}
	path := join(d.path, name)
	kind, ok := classify(name)
	if !ok {
		d.acct.m.log.Error("create " + quote(path) + ": only messages (NAME.eml) can be written into a mail folder")
		return nil, nil, 0, syscall.EINVAL
	}
	w := &writeNode{acct: d.acct, folder: td.folder, kind: kind, mtime: time.Now(), mode: mode & 0o7777, opens: 1, dirty: true}
	if kind != kindView {
		st, err := d.acct.writer.Stage()
		if err != nil {
			return nil, nil, 0, errno(d.acct.m.log, "create", path, err)
		}
		w.st = st
	}
	w.fill(&out.Attr)
	return d.NewInode(ctx, w, fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: writeIno()}), &writeHandle{}, 0, 0
}

func (w *writeNode) fill(a *fuse.Attr) {
	a.Mode = syscall.S_IFREG | w.mode
	a.Size = uint64(w.size)
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 4096
	a.Nlink = 1
	a.SetTimes(nil, &w.mtime, &w.mtime)
	a.Owner = fuse.Owner{Uid: w.acct.m.uid, Gid: w.acct.m.gid}
}

func (w *writeNode) path() string { return w.Path(nil) }

func (w *writeNode) Getattr(ctx context.Context, fh fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fill(&out.Attr)
	return 0
}

// Setattr takes the size (truncate) and the mtime (the INTERNALDATE to
// be); mode, owner and atime are accepted and not sent anywhere.
func (w *writeNode) Setattr(ctx context.Context, fh fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		if w.done {
			return syscall.EIO
		}
		if w.st != nil {
			if err := w.st.Truncate(int64(size)); err != nil {
				return errno(w.acct.m.log, "truncate", w.path(), err)
			}
		}
		w.size, w.dirty, w.flushed = int64(size), true, false
	}
	if t, ok := in.GetMTime(); ok {
		w.mtime = t
	}
	if m, ok := in.GetMode(); ok {
		w.mode = m & 0o7777
	}
	w.fill(&out.Attr)
	return 0
}

// Open opens the file again while it is being written (a committed file
// is no longer here: its message shows under its own name).
func (w *writeNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, 0, syscall.ENOENT
	}
	if flags&syscall.O_TRUNC != 0 {
		if w.st != nil {
			if err := w.st.Truncate(0); err != nil {
				return nil, 0, errno(w.acct.m.log, "open", w.path(), err)
			}
		}
		w.size, w.dirty = 0, true
	}
	w.opens++
	return &writeHandle{}, 0, 0
}

func (w *writeNode) Read(ctx context.Context, fh fusefs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.st == nil || off >= w.size {
		return fuse.ReadResultData(nil), 0
	}
	n, err := w.st.ReadAt(dest[:min(int64(len(dest)), w.size-off)], off)
	if err != nil && n == 0 {
		return nil, errno(w.acct.m.log, "read", w.path(), err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (w *writeNode) Write(ctx context.Context, fh fusefs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, syscall.EIO
	}
	if w.st != nil {
		if _, err := w.st.WriteAt(data, off); err != nil {
			return 0, errno(w.acct.m.log, "write", w.path(), err)
		}
	}
	w.size, w.dirty, w.flushed = max(w.size, off+int64(len(data))), true, false
	return uint32(len(data)), 0
}

// Flush commits a message at the close of its last open handle; its
// error is what close returns.
func (w *writeNode) Flush(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushed = true
	if w.done || !w.dirty || w.opens > 1 {
		return 0
	}
	switch w.kind {
	case kindMessage, kindFlags:
		name, parent := w.Parent()
		return w.commitLocked(ctx, parent, name)
	case kindView:
		w.dropLocked()
	}
	return 0 // a temporary file waits for its rename
}

// Release commits a message whose last close found another handle open
// (RELEASE comes after the close returned: a closed one may still have
// counted). Its errors can only be logged; the data is kept as always.
func (w *writeNode) Release(ctx context.Context, fh fusefs.FileHandle) syscall.Errno {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opens--
	if w.opens == 0 && (w.kind == kindMessage || w.kind == kindFlags) && w.flushed && w.dirty && !w.done {
		name, parent := w.Parent()
		w.commitLocked(context.Background(), parent, name)
	}
	return 0
}

// OnForget drops what was never committed (a temporary file never
// renamed: the tool gave up).
func (w *writeNode) OnForget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		if w.kind == kindTemp {
			w.acct.m.log.Warn("dropped a temporary file never renamed to NAME.eml", "folder", w.folder, "bytes", w.size)
		}
		w.dropLocked()
	}
}

func (w *writeNode) dropLocked() {
	if w.st != nil {
		w.st.Discard()
	}
	w.st, w.done, w.dirty = nil, true, false
}

// commitLocked appends the message (cache.Commit), then has the kernel
// forget the name it was written under (in dir): what the server holds
// shows under the cache's names. The notification is sent from its own
// goroutine, as the kernel holds the directory until this request ends.
func (w *writeNode) commitLocked(ctx context.Context, dir *fusefs.Inode, name string) syscall.Errno {
	st := w.st
	w.st, w.done, w.dirty = nil, true, false
	path := w.path()
	if dir != nil {
		if d, ok := dir.Operations().(*dirNode); ok {
			path = join(d.path, name)
		}
	}
	var err error
	if w.kind == kindFlags {
		err = w.acct.writer.SetFlags(uninterrupted(ctx), w.folder, st)
	} else {
		err = w.acct.writer.Commit(uninterrupted(ctx), w.folder, strings.TrimSuffix(name, ".eml"), st, w.mtime)
	}
	if dir != nil {
		w.acct.m.notes.add(func() { dir.NotifyEntry(name) })
	}
	if err != nil {
		return writeErrno(w.acct.m.log, "append", path, err)
	}
	return 0
}

// uninterrupted is the context for a change of the server: not ended by
// the kernel's INTERRUPT of the request. A signal to the writing process
// (Go programs get one for every goroutine preemption) must not abort an
// APPEND at close: the file is complete by then, and a command cut short
// leaves the tool an error and the server in doubt. The source's stall
// timeouts still bound it.
func uninterrupted(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// writeErrno maps an error of the write path to what the tool is told,
// logged with the file and the cause (the server's answer).
func writeErrno(log *slog.Logger, op, path string, err error) syscall.Errno {
	var en syscall.Errno
	switch {
	case errors.Is(err, cache.ErrOverQuota):
		en = syscall.EDQUOT
	case errors.Is(err, cache.ErrTooBig):
		en = syscall.EFBIG
	case errors.Is(err, cache.ErrNotMessage):
		en = syscall.EINVAL
	case errors.Is(err, os.ErrExist):
		en = syscall.EEXIST
	default:
		return errno(log, op, path, err)
	}
	log.Error(op + " " + quote(path) + ": " + err.Error())
	return en
}

// Rename decides a temporary file: renamed to NAME.eml it is appended (if
// closed, else at its close), to a view's name dropped. Messages and
// folders the server holds are moved (see move).
func (d *dirNode) Rename(ctx context.Context, name string, newParent fusefs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if !d.acct.rw {
		return syscall.EROFS
	}
	nd, ok := newParent.(*dirNode)
	if !ok || nd.acct != d.acct {
		return syscall.EXDEV
	}
	if flags&unixRenameExchange != 0 {
		return syscall.EINVAL
	}
	w := d.written(name)
	if w == nil {
		return d.move(ctx, name, nd, newName)
	}
	td, en := nd.writable("rename", newName)
	if en != 0 {
		return en
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return syscall.ENOENT
	}
	kind, ok := classify(newName)
	if !ok {
		w.dropLocked()
		d.acct.m.log.Error("rename " + quote(join(nd.path, newName)) + ": only messages (NAME.eml) can be written into a mail folder")
		return syscall.EINVAL
	}
	w.folder, w.kind = td.folder, kind
	switch {
	case kind == kindView:
		w.dropLocked()
	case (kind == kindMessage || kind == kindFlags) && w.flushed:
		// Closed since written (its RELEASE may still be on the way):
		// complete.
		return w.commitLocked(ctx, nd.EmbeddedInode(), newName)
	}
	return 0
}

// unixRenameExchange is RENAME_EXCHANGE (renameat2).
const unixRenameExchange = 2
