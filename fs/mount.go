package fs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
	"mailfs/render"
)

// Store is what the file system needs from the cache.
type Store interface {
	Folders() []cache.FolderInfo
	Messages(ctx context.Context, folder string) ([]cache.Msg, error)
	Lookup(folder, stem string) (cache.Msg, bool)
	Message(folder string, uidValidity, uid uint32) (cache.Msg, bool)
	// Holders lists the folders holding the copies of one message;
	// VerifyLinks checks that they are one message before one is read
	// for all (cache.ErrSplit: they were not, and are shown apart now).
	Holders(stem string, link uint64) []string
	VerifyLinks(ctx context.Context, stem string, link uint64) error
	LinksVerified(stem string, link uint64) bool
	// OpenBody fails with cache.ErrSizeChanged when the body turned out
	// to have another size than the one shown; BodySize fetches the body
	// when its announced size is not to be trusted.
	OpenBody(ctx context.Context, folder string, uidValidity, uid uint32) (*os.File, error)
	BodySize(ctx context.Context, folder string, uidValidity, uid uint32) (int64, error)
	// Views (render.Formats but eml): KnownViewSize never renders; the others
	// render on first need.
	KnownViewSize(folder string, uidValidity, uid uint32, format string) (int64, bool)
	ViewSize(ctx context.Context, folder string, uidValidity, uid uint32, format string) (int64, error)
	OpenView(ctx context.Context, folder string, uidValidity, uid uint32, format string) (*os.File, error)
	OnChange(fn func(cache.Change))
	// FlagsFile is the folder's flags file (cache.FlagsName) and its mtime.
	FlagsFile(ctx context.Context, folder string) ([]byte, time.Time, error)
	// SumsFile is the folder's checksum file (cache.SumsName) and its
	// mtime; it needs every body of the folder. SumsAttr is its size and
	// mtime, from the listing alone.
	SumsFile(ctx context.Context, folder string) ([]byte, time.Time, error)
	SumsAttr(ctx context.Context, folder string) (int64, time.Time, error)
	// Mbox is the folder's mbox (--formats …,mbox), made for its listing
	// now: it downloads the bodies the cache lacks.
	Mbox(ctx context.Context, folder string) (*cache.Mbox, error)
	// Newest is the date of the folder's newest message (a directory's
	// mtime); known is false while it may change without a Change.
	Newest(folder string) (newest time.Time, known bool)
}

// Args is everything the file system is configured with.
type Args struct {
	// Accounts to show. One account with no name is shown at the root;
	// otherwise each account is a directory of the root named after it.
	Accounts []Account
	Log      *slog.Logger
	Debug    bool // log every FUSE request
	Owner    Owner
}

// Owner is who the files belong to and what their permission bits are,
// as the uid=, gid=, umask= and allow_other options of other FUSE file
// systems set them. The zero Owner is the mounting user, directories
// 0555 and files 0444 (with the owner's write bit on the directories and
// flags files of a writable account), and no access for other users.
type Owner struct {
	UID, GID *uint32 // nil: the mounting user's
	// Umask, when set, gives directories 0777 &^ Umask and files
	// 0666 &^ Umask, writable or not: a copy (cp -r) then has the modes
	// a file made by that user would have. The mount stays read-only
	// unless an account is writable; the bits only describe.
	Umask      *uint32
	AllowOther bool // let other users in (FUSE's allow_other)
}

// Account is one mail account's store.
type Account struct {
	Name    string
	Store   Store
	Formats []string // extensions shown for every message, default ["eml"]; cache.SumsFormat for each folder's checksum file
	// ReadWrite lets file operations change the server (write.go); the
	// Store must then also be a Writer. Otherwise writes fail with EROFS.
	ReadWrite bool
	// AllowDelete (with ReadWrite) lets rm and rmdir delete messages
	// (UID EXPUNGE of exactly that message) and empty folders.
	AllowDelete bool
}

// Kernel cache lifetimes, set in this one place. Message files never
// change, and changes to folders are pushed to the kernel with Notify*, so
// entries and attributes may be kept long. A name that did not exist is
// remembered briefly: a new message is announced with NotifyEntry anyway.
//
// The attribute timeout is set by each node rather than in fusefs.Options:
// go-fuse would turn a zero into the default, and zero is what a lookup of
// a view not yet rendered must return (its size is not known until it is
// rendered, so the kernel has to ask Getattr on the next stat).
const (
	entryTimeout    = time.Hour
	attrTimeout     = time.Hour
	negativeTimeout = 10 * time.Second
)

// Mount is a mounted mailfs.
type Mount struct {
	server   *fuse.Server
	root     *fusefs.Inode
	log      *slog.Logger
	uid, gid uint32
	umask    *uint32 // Owner.Umask
	accounts []*account
	single   bool        // one unnamed account, shown at the root
	rw       bool        // some account is writable (write.go)
	noOpen   atomic.Bool // the kernel supports zero-message opens
	fds      *fdCache    // open cache files, for reads without a handle
	notes    *notifier   // kernel notifications, sent from their own goroutine
	stop     func()      // ends the notifier and waits for it; idempotent
}

// account is one account's part of the tree.
type account struct {
	m       *Mount
	name    string // its directory; "" when shown at the root
	store   Store
	formats []render.Format // shown per message
	sums    bool            // each folder shows cache.SumsName (sums.go)
	mbox    bool            // each folder shows its mbox (mbox.go)
	rw      bool            // file operations change the server (write.go)
	writer  Writer          // store, when rw
	del     bool            // rm and rmdir delete on the server (rw only)
	tree    atomic.Pointer[tree]
}

// New mounts the accounts' folders at dir. It returns once the kernel
// serves the mount.
func New(dir string, args Args) (*Mount, error) {
	if len(args.Accounts) == 0 {
		return nil, fmt.Errorf("no account to mount")
	}
	m := &Mount{log: args.Log, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), umask: args.Owner.Umask, fds: newFDCache(64), notes: newNotifier()}
	if args.Owner.UID != nil {
		m.uid = *args.Owner.UID
	}
	if args.Owner.GID != nil {
		m.gid = *args.Owner.GID
	}
	m.single = len(args.Accounts) == 1 && args.Accounts[0].Name == ""
	for _, a := range args.Accounts {
		names, sums := withoutSums(a.Formats)
		formats, mbox, err := parseFormats(names)
		if err != nil {
			return nil, err
		}
		acct := &account{m: m, name: a.Name, store: a.Store, formats: formats, sums: sums, mbox: mbox}
		if a.ReadWrite {
			w, ok := a.Store.(Writer)
			if !ok {
				return nil, fmt.Errorf("account %q: its store cannot write", a.Name)
			}
			acct.rw, acct.writer, acct.del, m.rw = true, w, a.AllowDelete, true
		}
		acct.tree.Store(buildTree(a.Store.Folders()))
		a.Store.OnChange(func(ch cache.Change) { m.notes.add(func() { acct.changed(ch) }) })
		m.accounts = append(m.accounts, acct)
	}
	var root fusefs.InodeEmbedder = &rootNode{m: m}
	if m.single {
		root = &dirNode{acct: m.accounts[0]}
	}
	et, nt := entryTimeout, negativeTimeout
	opts := &fusefs.Options{
		EntryTimeout:    &et,
		NegativeTimeout: &nt,
		UID:             m.uid,
		GID:             m.gid,
		RootStableAttr:  &fusefs.StableAttr{Ino: dirIno("", ""), Mode: syscall.S_IFDIR},
		MountOptions: fuse.MountOptions{
			FsName:        "mailfs",
			Name:          "mailfs",
			DirectMount:   true,
			Options:       []string{"ro", "default_permissions"},
			AllowOther:    args.Owner.AllowOther,
			DisableXAttrs: true, // ENOSYS once, and the kernel stops asking
			MaxReadAhead:  1 << 20,
			Debug:         args.Debug,
		},
	}
	if m.rw {
		opts.MountOptions.Options = []string{"default_permissions"}
	}
	server, err := fusefs.Mount(dir, root, opts)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	m.server, m.root = server, root.EmbeddedInode()
	// Without OPEN the kernel sends no FLUSH either, and close is where
	// a written message is appended: a writable mount does without.
	m.noOpen.Store(!m.rw && server.KernelSettings().Flags64()&fuse.CAP_NO_OPEN_SUPPORT != 0)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.notes.run(ctx) })
	m.stop = sync.OnceFunc(func() {
		cancel()
		wg.Wait()
	})
	return m, nil
}

// Wait blocks until the file system is unmounted (by Unmount, fusermount3
// -u or umount) and every goroutine of the mount has ended.
func (m *Mount) Wait() {
	m.server.Wait()
	m.stop()
}

// Unmount asks the kernel to unmount, retrying while the mount is busy,
// and returns once it is unmounted and every goroutine of the mount has
// ended. Changes the store reports afterwards are dropped.
func (m *Mount) Unmount() error {
	var err error
	for i := 0; i < 20; i++ {
		if err = m.server.Unmount(); err == nil {
			m.stop()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// perm is the permission bits of a directory or a file: from the umask
// when one is set, else read-only bits, with the owner's write bit where
// writes go through (rw).
func (m *Mount) perm(dir, rw bool) uint32 {
	if m.umask != nil {
		if dir {
			return 0o777 &^ *m.umask
		}
		return 0o666 &^ *m.umask
	}
	p := uint32(0o444)
	if dir {
		p = 0o555
	}
	if rw {
		p |= 0o200
	}
	return p
}

// top is the account's top directory inode, if the kernel knows it.
func (a *account) top() *fusefs.Inode {
	if a.m.single {
		return a.m.root
	}
	return a.m.root.GetChild(a.name)
}

// folderInode finds the directory inode the kernel knows for a folder.
func (a *account) folderInode(folder string) *fusefs.Inode {
	if path, ok := a.folderPath(folder); ok {
		return a.dirInode(path)
	}
	return nil
}

// folderPath finds where a folder is shown.
func (a *account) folderPath(folder string) (string, bool) {
	for path, d := range a.tree.Load().dirs {
		if d.folder == folder {
			return path, true
		}
	}
	return "", false
}

// dirInode finds the directory inode the kernel knows at path, if any.
func (a *account) dirInode(path string) *fusefs.Inode {
	n := a.top()
	for _, name := range splitPath(path) {
		if n == nil {
			return nil
		}
		n = n.GetChild(name)
	}
	return n
}
