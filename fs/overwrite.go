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

// Setattr on a message of a writable account is accepted and changes
// nothing on the server (the truncate before an overwrite, and the times
// and mode cp -a and rsync set); on a handle that overwrites the file it
// sets what is written. Elsewhere it fails with EROFS.
func (f *fileNode) Setattr(ctx context.Context, fh fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !f.acct.rw {
		return syscall.EROFS
	}
	if h, ok := fh.(*overwrite); ok {
		if en := h.setattr(in); en != 0 {
			return en
		}
	}
	return f.Getattr(ctx, fh, out)
}

// overwrite is a message file opened for writing (cp onto a name the
// folder shows): what is written is committed to the folder like a new
// file at the close, which appends nothing when it is the same message
// (the usual case: a restore run again). The bytes shown for the name
// stay the server's.
type overwrite struct {
	f *fileNode

	mu    sync.Mutex
	st    *cache.Staged // nil for a view
	size  int64
	mtime time.Time
	dirty bool
	done  bool
}

var _ = (fusefs.FileWriter)((*overwrite)(nil))

// openWrite opens a message file for overwriting. The data starts empty
// (tools truncate first), and bypasses the kernel's page cache, which
// holds the server's bytes.
func (f *fileNode) openWrite() (fusefs.FileHandle, uint32, syscall.Errno) {
	if !f.acct.rw {
		return nil, 0, syscall.EROFS
	}
	h := &overwrite{f: f, mtime: time.Now(), dirty: true}
	if f.slot == emlFormat {
		st, err := f.acct.writer.Stage()
		if err != nil {
			return nil, 0, errno(f.acct.m.log, "open", f.path(), err)
		}
		h.st = st
	}
	return h, fuse.FOPEN_DIRECT_IO, 0
}

func (h *overwrite) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return 0, syscall.EIO
	}
	if h.st != nil {
		if _, err := h.st.WriteAt(data, off); err != nil {
			return 0, errno(h.f.acct.m.log, "write", h.f.path(), err)
		}
	}
	h.size, h.dirty = max(h.size, off+int64(len(data))), true
	return uint32(len(data)), 0
}

func (h *overwrite) setattr(in *fuse.SetAttrIn) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if size, ok := in.GetSize(); ok && !h.done {
		if h.st != nil {
			if err := h.st.Truncate(int64(size)); err != nil {
				return errno(h.f.acct.m.log, "truncate", h.f.path(), err)
			}
		}
		h.size, h.dirty = int64(size), true
	}
	if t, ok := in.GetMTime(); ok {
		h.mtime = t
	}
	return 0
}

// flush commits what was written (a view's data is dropped).
func (h *overwrite) flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done || !h.dirty {
		return 0
	}
	h.done = true
	st := h.st
	h.st = nil
	if st == nil {
		return 0
	}
	err := h.f.acct.writer.Commit(uninterrupted(ctx), h.f.folder, h.f.stem, st, h.mtime)
	h.f.acct.m.notes.add(func() { h.f.NotifyContent(0, 0) }) // the kernel may have kept written pages
	if err != nil {
		return writeErrno(h.f.acct.m.log, "append", h.f.path(), err)
	}
	return 0
}

func (h *overwrite) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st != nil {
		h.st.Discard()
		h.st = nil
	}
}
