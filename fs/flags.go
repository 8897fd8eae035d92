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

// The flags file of a folder (cache.FlagsName) is a generated file
// (generated.go): the flags of its messages, made by the cache when read.
// Its attributes are kept for a second only (genTimeout). On a writable
// account, writing it sets the flags (cache.SetFlags), whether it is
// written in place or as a temporary file renamed to it (write.go).

func flagsIno(account, path string) uint64 { return dirIno(account, path+"\x00"+cache.FlagsName) }

// lookupFlags returns the flags file of the folder at d, without making
// it.
func (d *dirNode) lookupFlags(ctx context.Context, folder string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	store := d.acct.store
	kind := genKind{
		make: genFunc(func(ctx context.Context) ([]byte, time.Time, error) {
			return store.FlagsFile(ctx, folder)
		}),
		timeout: genTimeout,
		openWrite: func(n *genNode) (fusefs.FileHandle, uint32, syscall.Errno) {
			st, err := n.acct.writer.Stage()
			if err != nil {
				return nil, 0, errno(n.acct.m.log, "open", n.path(), err)
			}
			return &flagsWrite{n: n, folder: folder, st: st}, fuse.FOPEN_DIRECT_IO, 0
		},
	}
	return d.lookupGen(ctx, cache.FlagsName, kind, flagsIno(d.acct.name, d.path), false, out)
}

// flagsWrite is the flags file opened for writing: staged, applied at
// close.
type flagsWrite struct {
	n      *genNode
	folder string

	mu   sync.Mutex
	st   *cache.Staged
	done bool
}

var (
	_ = (fusefs.FileWriter)((*flagsWrite)(nil))
	_ = (fusefs.FileFlusher)((*flagsWrite)(nil))
	_ = (fusefs.FileReleaser)((*flagsWrite)(nil))
)

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

// truncate is a truncate on the handle (genNode.Setattr).
func (h *flagsWrite) truncate(size int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.Truncate(size)
}

// Flush applies what was written, at the close.
func (h *flagsWrite) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return 0
	}
	h.done = true
	err := h.n.acct.writer.SetFlags(uninterrupted(ctx), h.folder, h.st)
	if err != nil {
		return writeErrno(h.n.acct.m.log, "set flags", h.n.path(), err)
	}
	return 0
}

func (h *flagsWrite) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done {
		h.st.Discard()
		h.done = true
	}
	return 0
}
