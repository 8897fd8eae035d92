package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"time"
)

// Sync brings one folder in step with the server and reports whether
// anything changed. It costs one STATUS when nothing did; new messages cost
// one FETCH of their metadata; expunges one UID SEARCH. Bodies are never
// fetched here.
func (c *Cache) Sync(ctx context.Context, name string) (bool, error) {
	changed, err := c.sync(ctx, name, nil, false)
	c.saveSyncTimes()
	return changed, err
}

// sync is Sync with the folder's STATUS possibly already asked (st). A
// thorough sync does not trust STATUS to tell whether messages went away:
// servers may answer it from an index that lags behind an expunge that
// IDLE has just reported (Dovecot does), so it asks UID SEARCH anyway.
func (c *Cache) sync(ctx context.Context, name string, st *Status, thorough bool) (bool, error) {
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
		changed, err := c.syncLocked(ctx, f, st, thorough)
		if errors.Is(err, ErrUIDValidity) && attempt == 0 {
			st = nil
			continue // changed between STATUS and FETCH: start over
		}
		if err != nil && ctx.Err() == nil {
			c.recordError(f, err)
		}
		return changed, err
	}
}

func (c *Cache) syncLocked(ctx context.Context, f *folder, known *Status, thorough bool) (bool, error) {
	c.saveUnsaved(f) // the store must hold what the listing shows
	f.mu.Lock()
	info, old, oldMsgs, wasSynced := f.info, f.status, f.msgs, f.synced
	f.mu.Unlock()

	var st Status
	if known != nil && !(known.UIDValidity == old.UIDValidity && known.UIDNext < old.UIDNext) {
		st = *known
	} else {
		// A STATUS asked before a commit added a message (insert) is
		// older than the listing: ask again, UIDNEXT never goes back.
		var err error
		if st, err = c.src.Status(ctx, info.Name); err != nil {
			return false, err
		}
	}
	reset := st.UIDValidity != old.UIDValidity
	if !reset && !thorough && st.UIDNext == old.UIDNext && int(st.Messages) == len(oldMsgs) {
		f.mu.Lock()
		f.synced, f.loaded, f.syncedAt = true, true, time.Now()
		f.status.HighestModSeq = st.HighestModSeq
		flagsShown := f.flags.byUID != nil && st.HighestModSeq != old.HighestModSeq
		f.mu.Unlock()
		if flagsShown {
			c.notify(Change{Folder: info.Name, Flags: true})
		}
		return false, nil
	}

	var msgs []Msg
	from := old.UIDNext
	if reset {
		from = 1
	} else {
		msgs = append(msgs, oldMsgs...)
	}
	fetched := map[uint32]Meta{}
	err := c.src.FetchMeta(ctx, info.Name, st.UIDValidity, from, func(m Meta) error {
		fetched[m.UID] = m // a retried FETCH may repeat messages
		return nil
	})
	if err != nil {
		return false, err
	}
	var last uint32 // msgs are by UID: what is listed ends here
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].UID
	}
	var added []Meta
	for _, m := range fetched {
		if reset || m.UID >= old.UIDNext && m.UID > last {
			added = append(added, m)
		}
	}
	sort.Slice(added, func(i, j int) bool { return added[i].UID < added[j].UID })
	for _, m := range added {
		msgs = append(msgs, newMsg(m, st.UIDValidity))
	}
	if n := len(added); n > 0 && added[n-1].UID >= st.UIDNext {
		st.UIDNext = added[n-1].UID + 1
	}

	var del []uint32
	if !reset && (thorough || len(msgs) != int(st.Messages)) {
		uids, err := c.src.UIDs(ctx, info.Name, st.UIDValidity)
		if err != nil {
			return false, err
		}
		keep := make(map[uint32]bool, len(uids))
		for _, u := range uids {
			keep[u] = true
		}
		kept := msgs[:0:0]
		for _, m := range msgs {
			if keep[m.UID] {
				kept = append(kept, m)
			} else {
				del = append(del, m.UID)
			}
		}
		msgs = kept
	}
	st.Messages = uint32(len(msgs))

	if reset && old.UIDValidity != 0 {
		if err := c.adoptBodies(ctx, info.Name, old.UIDValidity, st.UIDValidity, added); err != nil {
			return false, err
		}
	}
	if err := storeSync(c.db, folderRec{Info: info, Status: st}, reset, added, del); err != nil {
		return false, err
	}
	c.removeFiles(info.Name, st.UIDValidity, del)

	f.mu.Lock()
	f.status, f.synced, f.syncedAt = st, true, time.Now()
	if reset {
		f.flags = folderFlags{}
	}
	f.mu.Unlock()
	f.publish(msgs)

	ch := Change{Folder: info.Name}
	f.mu.Lock()
	newMsgs := f.msgs
	f.mu.Unlock()
	ch.Added, ch.Removed, ch.Rebound = diffMsgs(oldMsgs, newMsgs)
	if !wasSynced || len(ch.Added)+len(ch.Removed) > 0 {
		c.log.Info("synced", "folder", info.Name, "added", len(ch.Added), "removed", len(ch.Removed), "uidvalidity_reset", reset && old.UIDValidity != 0)
	}
	if len(ch.Added)+len(ch.Removed)+len(ch.Rebound) == 0 {
		return false, nil
	}
	c.notify(ch)
	return true, nil
}

// diffMsgs compares two lists by name and identity (stem and link); a
// name that stays but now shows another UID is rebound.
func diffMsgs(old, cur []Msg) (added, removed, rebound []Msg) {
	type key struct {
		stem string
		link uint64
	}
	have := make(map[key]Msg, len(cur))
	for _, m := range cur {
		have[key{m.Stem, m.Link}] = m
	}
	had := make(map[key]bool, len(old))
	for _, m := range old {
		k := key{m.Stem, m.Link}
		had[k] = true
		n, ok := have[k]
		switch {
		case !ok:
			removed = append(removed, m)
		case n.UID != m.UID || n.UIDValidity != m.UIDValidity:
			rebound = append(rebound, n)
		}
	}
	for _, m := range cur {
		if !had[key{m.Stem, m.Link}] {
			added = append(added, m)
		}
	}
	return added, removed, rebound
}

// adoptBodies keeps cached bodies across a UIDVALIDITY change, but only
// with evidence that the new message is the old one: a new message takes
// an old one's body when both have the same Message-ID, size and
// INTERNALDATE, no other old or new message shares these (look-alikes
// could swap bodies), and the server's header section of the new message
// equals the cached body's, byte for byte (Received lines, DKIM signatures
// with their body hashes and the like tell look-alikes apart). The body
// must also still match its stored hash. Every other body is dropped, to
// be downloaded again when read. An adopted body keeps its file, with its
// hash and its mtime (the INTERNALDATE, which is part of the match).
//
// It fails only when ctx ended; the next sync then takes up the rest.
func (c *Cache) adoptBodies(ctx context.Context, folder string, oldUV, newUV uint32, cur []Meta) error {
	old, err := loadMsgs(c.db, folder) // still the records of oldUV
	if err != nil {
		os.RemoveAll(c.uvDir(folder, oldUV))
		return nil
	}
	type key struct {
		id   string
		size int64
		date int64
	}
	keyOf := func(m Meta) key { return key{m.MessageID, m.Size, m.Date.UnixNano()} }
	oldUID := map[key]uint32{}
	oldN, curN := map[key]int{}, map[key]int{}
	for _, m := range old {
		oldUID[keyOf(m)] = m.UID
		oldN[keyOf(m)]++
	}
	for _, m := range cur {
		curN[keyOf(m)]++
	}
	from := map[uint32]string{} // new UID → cached body of the old message
	var uids []uint32
	for _, m := range cur {
		k := keyOf(m)
		if m.MessageID == "" || oldN[k] != 1 || curN[k] != 1 {
			continue
		}
		p := c.bodyPath(folder, oldUV, oldUID[k])
		if fi, err := os.Stat(p); err != nil || fi.Size() != m.Size {
			continue
		}
		from[m.UID] = p
		uids = append(uids, m.UID)
	}
	adopted := 0
	for len(uids) > 0 {
		batch := uids[:min(len(uids), headerBatch)]
		uids = uids[len(batch):]
		headers, err := c.src.FetchHeaders(ctx, folder, newUV, batch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.log.Warn("cannot compare headers: cached bodies dropped", "folder", folder, "bodies", len(batch)+len(uids), "err", err)
			break
		}
		for _, uid := range batch {
			to := c.bodyPath(folder, newUV, uid)
			if h, ok := headers[uid]; ok && beginsWithHeader(from[uid], h) && verifyFile(from[uid]) == nil &&
				os.MkdirAll(dirOf(to), 0o700) == nil && os.Rename(from[uid], to) == nil {
				adopted++
			}
		}
	}
	os.RemoveAll(c.uvDir(folder, oldUV))
	c.log.Info("UIDVALIDITY changed", "folder", folder, "old", oldUV, "new", newUV, "bodies_kept", adopted)
	return nil
}

// headerBatch is how many header sections adoptBodies asks for at once,
// which bounds the memory they take.
const headerBatch = 500

// beginsWithHeader reports whether the file at path begins with h, a
// complete header section: one that ends at its first blank line (so a
// section cut short never matches).
func beginsWithHeader(path string, h []byte) bool {
	end := bytes.Index(h, []byte("\r\n\r\n"))
	if end < 0 || end+4 != len(h) {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(h))
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	return bytes.Equal(b, h)
}
