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

// The checksum file of a folder (cache.SumsName) is a generated file
// (generated.go), made by the cache at the first read: it needs every
// body of the folder. Its size and mtime come from the listing
// (cache.SumsAttr), so a lookup or stat (ls -l) reads no body. It changes
// only when the folder does, and is then told to the kernel
// (account.changed).

func sumsIno(account, path string) uint64 { return dirIno(account, path+"\x00"+cache.SumsName) }

// lookupSums returns the checksum file of the folder at d, without
// making it. An empty folder has none: sha256sum -c fails on a file with
// no line, and a script checking every folder of a backup must not.
func (d *dirNode) lookupSums(ctx context.Context, folder string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	store := d.acct.store
	kind := genKind{
		make: genFunc(func(ctx context.Context) ([]byte, time.Time, error) {
			return store.SumsFile(ctx, folder)
		}),
		stat:    func(ctx context.Context) (int64, time.Time, error) { return store.SumsAttr(ctx, folder) },
		timeout: genTimeout,
	}
	return d.lookupGen(ctx, cache.SumsName, kind, sumsIno(d.acct.name, d.path), true, out)
}
