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

// A folder's mbox (--formats …,mbox; cache.Mbox) is a generated file
// (generated.go): all its messages in one mboxrd file, named after the
// folder's directory and shown inside it as a dotfile, "INBOX/.INBOX.mbox".
// No message is ever named so (message names never start with a dot),
// and a subfolder of that name, should there be one, wins: the mbox is
// then not shown.
//
// Its size needs every body of the folder, so only a stat of the file
// itself may make it, downloading what the cache lacks; a lookup does
// not. But ls -l stats every name it shows, and so do file managers and
// shell globs (cp INBOX/* …): hence the dot, which keeps them from
// downloading a whole folder unasked (ls -a shows it). Its attributes
// are kept for a second (genTimeout): a second stat costs little (the
// cache keeps the mbox of the listing).
//
// Its bytes are never held: a version is a reader of the cache's mbox,
// which encodes them from the bodies as read. Reads without a handle keep
// one reader while the cache's mbox is the same, so reading on costs no
// more than the bytes read.

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
func (d *dirNode) lookupMbox(ctx context.Context, folder string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	store := d.acct.store
	kind := genKind{
		make: func(ctx context.Context, prev genVersion) (genVersion, error) {
			m, err := store.Mbox(ctx, folder)
			if err != nil {
				return nil, err
			}
			if p, ok := prev.(*mboxVersion); ok && p.m == m {
				return p, nil
			}
			return &mboxVersion{m: m, rd: m.NewReader()}, nil
		},
		timeout: genTimeout,
	}
	return d.lookupGen(ctx, mboxName(d.path), kind, mboxIno(d.acct.name, d.path), false, out)
}

// mboxVersion reads one mbox of the cache.
type mboxVersion struct {
	m  *cache.Mbox
	rd *cache.MboxReader
}

func (v *mboxVersion) size() int64      { return v.m.Size() }
func (v *mboxVersion) mtime() time.Time { return v.m.Mtime() }
func (v *mboxVersion) close()           { v.rd.Close() }

func (v *mboxVersion) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	return v.rd.ReadAt(ctx, p, off)
}
