package fs

import (
	"context"
	"strings"
	"sync"

	"mailfs/cache"
)

// notifier sends the mount's kernel notifications (NotifyEntry,
// NotifyDelete, NotifyContent), in the order they were asked for, from
// one goroutine (run) whose lifetime is the mount's: Mount.Unmount and
// Mount.Wait end it and wait for it.
//
// A notification is never sent from where its cause is found. A change
// may be found inside a FUSE request on the same directory (a lookup that
// syncs the folder, a close that appends a message), and the kernel holds
// that directory's lock until the request returns, while a notification
// about the directory waits for that lock. And the cache reports changes
// with the folder's sync lock held (cache.Cache.OnChange), so that they
// arrive in order: the callback must not block. add therefore never
// blocks: the queue has no bound. It holds one entry per change the
// server reported (a sync of a folder is one change however many
// messages it brings), and is emptied as fast as the kernel takes the
// notifications; after the mount ended, add drops what it is given.
type notifier struct {
	mu    sync.Mutex
	queue []func() // guarded by mu
	ended bool     // guarded by mu: run has returned
	wake  chan struct{}
}

func newNotifier() *notifier { return &notifier{wake: make(chan struct{}, 1)} }

// add queues fn to run on the notifier's goroutine.
func (n *notifier) add(fn func()) {
	n.mu.Lock()
	if n.ended {
		n.mu.Unlock()
		return
	}
	n.queue = append(n.queue, fn)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default: // already woken
	}
}

// run sends the queued notifications until ctx ends.
func (n *notifier) run(ctx context.Context) {
	defer func() {
		n.mu.Lock()
		n.ended, n.queue = true, nil
		n.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		n.mu.Lock()
		q := n.queue
		n.queue = nil
		n.mu.Unlock()
		for _, fn := range q {
			if ctx.Err() != nil {
				return
			}
			fn()
		}
	}
}

// changed tells the kernel what changed on the server (on the notifier's
// goroutine).
func (a *account) changed(ch cache.Change) {
	if ch.Folder == "" {
		t := buildTree(a.store.Folders())
		a.tree.Store(t)
		if top := a.top(); top != nil {
			top.NotifyContent(0, 0)
		}
		for path := range t.dirs { // a folder gone may have held the newest message
			if dir := a.dirInode(path); dir != nil && path != "" {
				dir.NotifyContent(-1, 0) // attributes only
			}
		}
		a.aboveChanged("")
		return
	}
	path, ok := a.folderPath(ch.Folder)
	if !ok {
		return
	}
	a.aboveChanged(path)
	dir := a.dirInode(path)
	if dir == nil {
		return // the kernel never looked at this folder
	}
	for _, msg := range ch.Removed {
		for _, name := range a.fileNames(msg) {
			if child := dir.GetChild(name); child != nil {
				dir.NotifyDelete(name, child)
			} else {
				dir.NotifyEntry(name)
			}
		}
	}
	for _, msg := range ch.Added {
		for _, name := range a.fileNames(msg) {
			dir.NotifyEntry(name)
		}
	}
	a.relinked(ch)
	for _, msg := range append(ch.Resized, ch.Rebound...) {
		for _, name := range a.fileNames(msg) {
			if child := dir.GetChild(name); child != nil {
				child.NotifyContent(0, 0)
			}
		}
	}
	if child := dir.GetChild(cache.FlagsName); child != nil {
		child.NotifyContent(0, 0)
	}
	if child := dir.GetChild(cache.SumsName); child != nil {
		child.NotifyContent(0, 0)
	}
	if a.sums && (len(ch.Added) > 0 || len(ch.Removed) > 0) {
		dir.NotifyEntry(cache.SumsName) // there from the first message on
	}
	if child := dir.GetChild(mboxName(path)); a.mbox && child != nil {
		child.NotifyContent(0, 0)
	}
	dir.NotifyContent(0, 0)
}

// aboveChanged tells the kernel that the directories above path (and the
// root of several accounts) may have new times (dirNode.fill): their
// attributes go, their listings stay.
func (a *account) aboveChanged(path string) {
	parts := splitPath(path)
	for i := len(parts) - 1; i >= 0; i-- {
		if dir := a.dirInode(strings.Join(parts[:i], "/")); dir != nil {
			dir.NotifyContent(-1, 0)
		}
	}
	if !a.m.single {
		a.m.root.NotifyContent(-1, 0)
	}
}

// relinked tells the kernel about the files of other folders that gained
// or lost a hard link with ch (the same message added to or expunged from
// ch.Folder): their st_nlink changed, and a file read before this folder's
// copy was linked drops its pages, so that the next read verifies the
// copies first (cache.VerifyLinks).
func (a *account) relinked(ch cache.Change) {
	for _, msg := range append(ch.Added[:len(ch.Added):len(ch.Added)], ch.Removed...) {
		for _, h := range a.store.Holders(msg.Stem, msg.Link) {
			if h == ch.Folder {
				continue
			}
			dir := a.folderInode(h)
			if dir == nil {
				continue
			}
			for _, name := range a.fileNames(msg) {
				if child := dir.GetChild(name); child != nil {
					child.NotifyContent(0, 0)
				}
			}
		}
	}
}
