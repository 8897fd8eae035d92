package cache

import (
	"context"
	"errors"
	"os"
	"sort"
)

// Sync brings one folder in step with the server and reports whether
// anything changed. It costs one STATUS when nothing did; new messages cost
// one FETCH of their metadata; expunges one UID SEARCH. Bodies are never
// fetched here.
func (c *Cache) Sync(ctx context.Context, name string) (bool, error) {
	f, err := c.folder(name)
	if err != nil {
		return false, err
	}
	if err := c.load(f); err != nil {
		return false, err
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	for attempt := 0; ; attempt++ {
		changed, err := c.syncLocked(ctx, f)
		if errors.Is(err, ErrUIDValidity) && attempt == 0 {
			continue // changed between STATUS and FETCH: start over
		}
		return changed, err
	}
}

func (c *Cache) syncLocked(ctx context.Context, f *folder) (bool, error) {
	f.mu.Lock()
	info, old, oldMetas, wasSynced := f.info, f.status, f.metas, f.synced
	f.mu.Unlock()

	st, err := c.src.Status(ctx, info.Name)
	if err != nil {
		return false, err
	}
	reset := st.UIDValidity != old.UIDValidity
	if !reset && st.UIDNext == old.UIDNext && int(st.Messages) == len(oldMetas) {
		f.mu.Lock()
		f.synced, f.loaded = true, true
		f.mu.Unlock()
		return false, nil
	}

	var metas []Meta
	from := old.UIDNext
	if reset {
		from = 1
	} else {
		metas = append(metas, oldMetas...)
	}
	fetched := map[uint32]Meta{}
	err = c.src.FetchMeta(ctx, info.Name, st.UIDValidity, from, func(m Meta) error {
		fetched[m.UID] = m // a retried FETCH may repeat messages
		return nil
	})
	if err != nil {
		return false, err
	}
	var added []Meta
	for _, m := range fetched {
		if reset || m.UID >= old.UIDNext {
			added = append(added, m)
		}
	}
	sort.Slice(added, func(i, j int) bool { return added[i].UID < added[j].UID })
	metas = append(metas, added...)
	if n := len(added); n > 0 && added[n-1].UID >= st.UIDNext {
		st.UIDNext = added[n-1].UID + 1
	}

	var del []uint32
	if !reset && len(metas) != int(st.Messages) {
		uids, err := c.src.UIDs(ctx, info.Name, st.UIDValidity)
		if err != nil {
			return false, err
		}
		keep := make(map[uint32]bool, len(uids))
		for _, u := range uids {
			keep[u] = true
		}
		kept := metas[:0:0]
		for _, m := range metas {
			if keep[m.UID] {
				kept = append(kept, m)
			} else {
				del = append(del, m.UID)
			}
		}
		metas = kept
	}
	st.Messages = uint32(len(metas))

	if reset && old.UIDValidity != 0 {
		c.adoptBodies(info.Name, old.UIDValidity, oldMetas, st.UIDValidity, added)
	}
	if err := storeSync(c.db, folderRec{Info: info, Status: st}, reset, added, del); err != nil {
		return false, err
	}

	f.mu.Lock()
	oldMsgs := f.msgs
	f.status, f.synced = st, true
	f.mu.Unlock()
	f.publish(metas, st.UIDValidity)

	ch := Change{Folder: info.Name}
	f.mu.Lock()
	newMsgs := f.msgs
	f.mu.Unlock()
	ch.Added, ch.Removed = diffMsgs(oldMsgs, newMsgs)
	if !wasSynced || len(ch.Added)+len(ch.Removed) > 0 {
		c.log.Info("synced", "folder", info.Name, "added", len(ch.Added), "removed", len(ch.Removed), "uidvalidity_reset", reset && old.UIDValidity != 0)
	}
	if len(ch.Added)+len(ch.Removed) == 0 {
		return false, nil
	}
	c.notify(ch)
	return true, nil
}

// diffMsgs compares two lists by stem and UIDVALIDITY.
func diffMsgs(old, cur []Msg) (added, removed []Msg) {
	type key struct {
		stem string
		uv   uint32
	}
	have := make(map[key]bool, len(cur))
	for _, m := range cur {
		have[key{m.Stem, m.UIDValidity}] = true
	}
	had := make(map[key]bool, len(old))
	for _, m := range old {
		had[key{m.Stem, m.UIDValidity}] = true
		if !have[key{m.Stem, m.UIDValidity}] {
			removed = append(removed, m)
		}
	}
	for _, m := range cur {
		if !had[key{m.Stem, m.UIDValidity}] {
			added = append(added, m)
		}
	}
	return added, removed
}

// adoptBodies keeps cached bodies across a UIDVALIDITY change: a new message
// with the same Message-ID, size and INTERNALDATE as an old one whose body
// is cached takes that body instead of downloading it again.
func (c *Cache) adoptBodies(folder string, oldUV uint32, old []Meta, newUV uint32, cur []Meta) {
	type key struct {
		id   string
		size int64
		date int64
	}
	byKey := map[key]uint32{}
	for _, m := range old {
		if m.MessageID != "" {
			byKey[key{m.MessageID, m.Size, m.Date.UnixNano()}] = m.UID
		}
	}
	adopted := 0
	for _, m := range cur {
		uid, ok := byKey[key{m.MessageID, m.Size, m.Date.UnixNano()}]
		if !ok || m.MessageID == "" {
			continue
		}
		from, to := c.bodyPath(folder, oldUV, uid), c.bodyPath(folder, newUV, m.UID)
		if fi, err := os.Stat(from); err != nil || fi.Size() != m.Size {
			continue
		}
		if err := os.MkdirAll(dirOf(to), 0o700); err != nil {
			continue
		}
		if os.Rename(from, to) == nil {
			adopted++
		}
	}
	os.RemoveAll(c.uvDir(folder, oldUV))
	c.log.Info("UIDVALIDITY changed", "folder", folder, "old", oldUV, "new", newUV, "bodies_kept", adopted)
}
