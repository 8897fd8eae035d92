package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Msg is one message as the file system shows it. Values are immutable once
// published; a change (a corrected size) publishes a new Msg.
type Msg struct {
	UIDValidity uint32 // of the folder when the message was listed
	UID         uint32
	Size        int64 // exact size of the .eml
	Date        time.Time
	Stem        string // file name without extension, unique in its folder, see Names
	Link        uint64 // with Stem, what the copies of one message in several folders share, see Holders
}

// Change tells the file system what to invalidate after a sync.
type Change struct {
	Folder  string // server name; "" when the folder list itself changed
	Added   []Msg
	Removed []Msg
	Resized []Msg // size corrected after the body was fetched
	Flags   bool  // some message's flags changed (the flags file, flags.go)
	// Rebound are names that now show another copy of the same message
	// (another UID, after the server renumbered the folder or expunged an
	// earlier duplicate): same name, size and identity, but the kernel
	// should forget what it read.
	Rebound []Msg
}

// Cache is the on-disk store of one account. Lock order: Cache.mu before
// folder.mu; folder.syncMu is taken before either and held across I/O;
// folder.mboxMu before all of them, held while an mbox is made (mbox.go);
// statusMu before Cache.mu (status.go).
type Cache struct {
	dir string
	src Source
	db  *bolt.DB
	log *slog.Logger

	ctx    context.Context // ends when the cache is closed; bounds shared fetches and Run
	cancel context.CancelFunc
	runs   sync.WaitGroup // Run calls under way (with their watchers), waited for by Close

	mu       sync.Mutex
	folders  map[string]*folder // by server name; guarded by mu
	onChange func(Change)       // set once before use

	flights    flightGroup   // one download or render per file at a time
	aheadSlots chan struct{} // read-ahead batches in flight
	commitMu   sync.Mutex    // one Commit at a time (stage.go)
	spare      chan *os.File // emptied staging files for reuse (stage.go)

	verified map[linkID]uint64 // linked copies found alike: digest of their folders (links.go); guarded by mu

	acctTimes syncTimes  // the folder list's last error (status.go); guarded by mu
	statusMu  sync.Mutex // one write of SyncStatusFile at a time

	fontsOnce sync.Once
	fonts     [][]byte // system fonts for PDFs, loaded on the first PDF
	fontsTag  string   // short hash of fonts
}

// folder holds one mailbox's messages. msgs is replaced, never modified, so
// a slice handed out stays valid without a lock.
type folder struct {
	syncMu sync.Mutex // serialises syncs of this folder
	self   []string   // the folder's name alone, what Holders returns most

	mu     sync.Mutex
	info   FolderInfo
	status Status
	loaded bool  // msgs read from the store or the server
	synced bool  // synced with the server since the mount
	msgs   []Msg // by UID; subjects and Message-IDs stay in the store
	byStem map[string]int
	newest time.Time // Date of the newest of msgs, zero if none (Newest)
	// syncedAt is when the last sync with the server ended (or a
	// commit added a message, see insert).
	syncedAt time.Time
	lastErr  string    // the last failed sync's error (status.go)
	errAt    time.Time // and when it failed
	unsaved  []Meta    // inserted, not yet in the store (saveUnsaved)

	flagsMu sync.Mutex  // serialises fetches of flags (flags.go)
	mboxMu  sync.Mutex  // serialises making the mbox, guards mbox (mbox.go)
	mbox    *Mbox       // as last made; for another listing, made again
	flags   folderFlags // guarded by mu

	sumsMu sync.Mutex // serialises making SumsName (sums.go); taken before syncMu
	sums   folderSums // guarded by mu

	// Read-ahead state (readahead.go), reset by publish.
	order   []int32 // indices of msgs in name order, computed on demand
	rank    []int32 // position of msgs[i] in order
	lastPos int     // position last opened
	ahead   int     // position up to which bodies were requested
	aheadN  int     // messages in the next read-ahead batch
}

// Open opens (creating if needed) the cache in dir. Only one process may use
// a cache at a time. A damaged store is rebuilt (see repair.go), and what
// interrupted downloads left behind is removed.
func Open(dir string, src Source, log *slog.Logger) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := openStore(dir, log)
	if err != nil {
		return nil, err
	}
	removeStaleParts(dir, log)
	removeStaleStaging(dir)
	c := &Cache{dir: dir, src: src, db: db, log: log, folders: map[string]*folder{}, verified: map[linkID]uint64{}, aheadSlots: make(chan struct{}, aheadBatches), spare: make(chan *os.File, spareStaged)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	recs, err := loadFolders(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	for name, r := range recs {
		c.folders[name] = &folder{info: r.Info, status: r.Status, self: []string{name}}
	}
	c.loadSyncTimes()
	return c, nil
}

// Close stops background work (Run, downloads; renders run to their
// end), waits until it has stopped, and closes the store. The source is
// not used any more once Close returns, so its connections may close.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.runs.Wait()
	c.flights.close()
	c.dropSpares()
	return c.db.Close()
}

// OnChange registers the function told about every change; call it before
// Run. fn is called with the folder's sync lock held, so that the changes
// of one folder reach it in the order they were made: it must not block
// (the file system queues them, fs.notifier) and must not call back into
// the cache.
func (c *Cache) OnChange(fn func(Change)) { c.onChange = fn }

func (c *Cache) notify(ch Change) {
	if c.onChange != nil {
		c.onChange(ch)
	}
}

// Folders returns the known folders sorted by name.
func (c *Cache) Folders() []FolderInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]FolderInfo, 0, len(c.folders))
	for _, f := range c.folders {
		out = append(out, f.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RefreshFolders asks the server for the folder list and stores it.
func (c *Cache) RefreshFolders(ctx context.Context) error {
	infos, err := c.src.Folders(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.recordError(nil, err)
		}
		return fmt.Errorf("list folders: %w", err)
	}
	infos = usableFolders(infos)
	c.mu.Lock()
	seen := map[string]bool{}
	changed := false
	for _, info := range infos {
		seen[info.Name] = true
		f := c.folders[info.Name]
		if f == nil {
			c.folders[info.Name] = &folder{info: info, self: []string{info.Name}}
			changed = true
			continue
		}
		f.mu.Lock()
		if f.info != info {
			f.info = info
			changed = true
		}
		f.mu.Unlock()
	}
	var gone []string
	for name := range c.folders {
		if !seen[name] {
			gone = append(gone, name)
			delete(c.folders, name)
			changed = true
		}
	}
	c.mu.Unlock()
	if !changed {
		return nil
	}
	if err := storeFolderInfo(c.db, infos, gone); err != nil {
		return err
	}
	c.notify(Change{})
	return nil
}

func (c *Cache) folder(name string) (*folder, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.folders[name]
	if f == nil {
		return nil, fmt.Errorf("folder %q: %w", name, ErrNotFound)
	}
	return f, nil
}

// Messages returns a folder's messages in UID order: from memory, else
// from the store, else from the server. The slice must not be modified.
func (c *Cache) Messages(ctx context.Context, name string) ([]Msg, error) {
	f, err := c.folder(name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	synced, noSelect := f.synced, f.info.NoSelect
	msgs := f.msgs
	f.mu.Unlock()
	if synced || noSelect {
		return msgs, nil
	}
	// The first look at a folder since the mount costs one STATUS, so a
	// stale listing (a UIDVALIDITY change above all) is never shown. If the
	// server cannot be reached, the stored listing is shown. (Its time is
	// saved with the next SyncAll, not once per folder looked at.)
	if _, err := c.sync(ctx, name, nil, false); err != nil {
		f.mu.Lock()
		loaded, msgs := f.loaded, f.msgs
		f.mu.Unlock()
		if !loaded || ctx.Err() != nil {
			return nil, err
		}
		c.log.Warn("showing cached listing", "folder", name, "err", err)
		return msgs, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msgs, nil
}

// load reads a folder's messages from the store, if it has ever been synced.
func (c *Cache) load(f *folder) error {
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	f.mu.Lock()
	name, uv, done := f.info.Name, f.status.UIDValidity, f.loaded || f.status.UIDValidity == 0
	f.mu.Unlock()
	if done {
		return nil
	}
	metas, err := loadMsgs(c.db, name)
	if err != nil {
		return err
	}
	msgs := make([]Msg, len(metas))
	for i, m := range metas {
		msgs[i] = newMsg(m, uv)
	}
	f.publish(msgs)
	return nil
}

// Lookup finds a message by file stem.
func (c *Cache) Lookup(name, stem string) (Msg, bool) {
	f, err := c.folder(name)
	if err != nil {
		return Msg{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.byStem[stem]
	if !ok {
		return Msg{}, false
	}
	return f.msgs[i], true
}

// Holders lists the folders (sorted) that hold a message with this stem
// and link: the copies of one message, shown as hard links of one file.
// Only folders listed since the mount count. The slice must not be
// modified; asked for every lookup, it costs no allocation for a message
// in one folder.
func (c *Cache) Holders(stem string, link uint64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var one *folder
	var out []string
	for name, f := range c.folders {
		f.mu.Lock()
		if i, ok := f.byStem[stem]; ok && f.msgs[i].Link == link {
			switch {
			case one == nil:
				one = f
			case out == nil:
				out = []string{one.self[0], name}
			default:
				out = append(out, name)
			}
		}
		f.mu.Unlock()
	}
	if out == nil && one != nil {
		return one.self
	}
	sort.Strings(out)
	return out
}

// Newest returns the date of the folder's newest message (zero when it
// holds none), kept as its listing changes: a directory's mtime. known is
// false while the listing has not been read since the mount (from the
// store or the server); the date may change then without a Change.
func (c *Cache) Newest(name string) (newest time.Time, known bool) {
	f, err := c.folder(name)
	if err != nil {
		return time.Time{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newest, f.loaded || f.info.NoSelect
}

// Message finds a message by UIDVALIDITY and UID.
func (c *Cache) Message(name string, uv, uid uint32) (Msg, bool) {
	f, err := c.folder(name)
	if err != nil {
		return Msg{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.index(uv, uid)
	if !ok {
		return Msg{}, false
	}
	return f.msgs[i], true
}

// index finds a message in f.msgs; f.mu must be held.
func (f *folder) index(uv, uid uint32) (int, bool) {
	i := sort.Search(len(f.msgs), func(i int) bool { return f.msgs[i].UID >= uid })
	return i, i < len(f.msgs) && f.msgs[i].UID == uid && f.msgs[i].UIDValidity == uv
}

func newMsg(m Meta, uv uint32) Msg {
	id, link := nameAndLink(m.MessageID, m.Date, m.Subject, m.listedSize())
	return Msg{UIDValidity: uv, UID: m.UID, Size: m.Size, Date: m.Date.UTC(), Stem: MessageStem(m.Date, m.Subject, id), Link: link}
}

// publish replaces the folder's messages (sorted by UID), numbering
// duplicates' names as Names does.
func (f *folder) publish(msgs []Msg) {
	byStem := make(map[string]int, len(msgs))
	dups := map[string]int{}
	for i := range msgs {
		msgs[i].Stem = uniqueName(byStem, dups, baseOf(msgs[i].Stem))
		byStem[msgs[i].Stem] = i
	}
	var newest time.Time
	for _, m := range msgs {
		if m.Date.After(newest) {
			newest = m.Date
		}
	}
	f.mu.Lock()
	f.msgs, f.byStem, f.loaded, f.newest = msgs, byStem, true, newest
	f.order, f.rank = nil, nil
	f.flags.file = nil
	f.sums = folderSums{}
	f.mu.Unlock()
}

// Run keeps every folder in step with the server, every interval, until
// ctx ends or the cache is closed, and INBOX at once when the source
// reports a change there (IMAP IDLE). Errors are logged and retried at the
// next tick. It returns once every goroutine it started has ended; Close
// waits for it.
func (c *Cache) Run(ctx context.Context, interval time.Duration) {
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		return // closed
	}
	c.runs.Add(1)
	c.mu.Unlock()
	defer c.runs.Done()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(c.ctx, stop)()

	var wg sync.WaitGroup
	defer wg.Wait() // after stop: the watcher ends with ctx
	if w, ok := c.src.(Watcher); ok {
		wg.Go(func() { c.watch(ctx, w, "INBOX") })
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := c.SyncAll(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("sync failed, will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch syncs folder whenever w reports a change in it, until ctx ends;
// it returns once its sync goroutine has ended.
func (c *Cache) watch(ctx context.Context, w Watcher, folder string) {
	if _, err := c.folder(folder); err != nil {
		return // filtered out, or the server has none
	}
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop() // Watch may return before ctx ends (no IDLE)
	kick := make(chan struct{}, 1)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
			}
			if _, err := c.sync(ctx, folder, nil, true); err != nil && ctx.Err() == nil {
				c.log.Warn("sync after IDLE", "folder", folder, "err", err)
			}
			c.saveSyncTimes()
		}
	})
	err := w.Watch(ctx, folder, func() {
		select {
		case kick <- struct{}{}:
		default: // a sync is already due
		}
	})
	if err != nil && ctx.Err() == nil {
		c.log.Info("no IDLE, polling only", "folder", folder, "err", err)
	}
}

// syncWorkers is how many folders SyncAll syncs at once (each on its own
// connection, as the source's pool allows).
const syncWorkers = 2

// SyncAll refreshes the folder list and every selectable folder. A folder
// that fails does not stop the others; the errors are returned together.
func (c *Cache) SyncAll(ctx context.Context) error {
	defer c.saveSyncTimes()
	if err := c.RefreshFolders(ctx); err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan string)
	)
	// One pipelined STATUS for every folder; then only changed folders
	// cost more than that.
	var names []string
	for _, info := range c.Folders() {
		if !info.NoSelect {
			names = append(names, info.Name)
		}
	}
	sts, err := c.src.Statuses(ctx, names)
	if err != nil {
		sts = nil // each folder asks for itself
	}
	for range syncWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				var st *Status
				if s, ok := sts[name]; ok {
					st = &s
				}
				if _, err := c.sync(ctx, name, st, false); err != nil && ctx.Err() == nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("folder %q: %w", name, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range names {
		if ctx.Err() == nil {
			next <- name
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}
