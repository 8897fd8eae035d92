package cache

// The account's status (Cache.Status): what a monitoring script reads in
// the mount's .status file or from 'mailfs status --json'. The times of
// the last sync and of the last error of each folder are kept in memory
// and saved to SyncStatusFile after each sync (once per SyncAll), so that
// a cache that is not mounted can still tell them.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"

	"mailfs/cache/atomicfile"
)

// StatusName is the status file at the top of each account's tree.
const StatusName = ".status"

// SyncStatusFile, in the cache folder, keeps the times of StatusReport
// across runs.
const SyncStatusFile = "sync-status.json"

// StatusReport is an account's status; its JSON form is documented in
// the README.
type StatusReport struct {
	Generated time.Time `json:"generated"`
	// LastSync is the oldest of the folders' last successful syncs: when
	// every selectable folder was last known in step with the server;
	// absent while some folder has never been synced.
	LastSync    *time.Time     `json:"last_sync,omitempty"`
	LastError   string         `json:"last_error,omitempty"` // listing the folders failed
	LastErrorAt *time.Time     `json:"last_error_at,omitempty"`
	Folders     []FolderReport `json:"folders"`
}

// FolderReport is one folder's part of StatusReport.
type FolderReport struct {
	Name           string     `json:"name"`
	ServerMessages uint32     `json:"server_messages"` // as of the last sync
	ServerBytes    int64      `json:"server_bytes"`    // sizes of the listed messages
	CachedMessages int        `json:"cached_messages"` // bodies downloaded
	CachedBytes    int64      `json:"cached_bytes"`
	LastSync       *time.Time `json:"last_sync,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
}

// syncTimes is what SyncStatusFile keeps of a folder (or, under the
// name "", of the account).
type syncTimes struct {
	SyncedAt time.Time `json:"synced_at,omitzero"`
	Err      string    `json:"error,omitempty"`
	ErrAt    time.Time `json:"error_at,omitzero"`
}

// Status reports the account's folders. It asks the server nothing; it
// stats each listed body file, and reads the listings of folders not yet
// loaded from the store.
func (c *Cache) Status() StatusReport {
	r := StatusReport{Generated: time.Now().UTC(), Folders: []FolderReport{}}
	c.mu.Lock()
	acct := c.acctTimes
	fs := make([]*folder, 0, len(c.folders))
	for _, f := range c.folders {
		fs = append(fs, f)
	}
	c.mu.Unlock()
	r.LastError, r.LastErrorAt = acct.Err, timePtr(acct.ErrAt)
	var oldest time.Time
	never := false
	for _, f := range fs {
		f.mu.Lock()
		info, st, loaded, msgs, t := f.info, f.status, f.loaded, f.msgs, f.times()
		f.mu.Unlock()
		if info.NoSelect {
			continue
		}
		if !loaded && st.UIDValidity != 0 {
			if metas, err := loadMsgs(c.db, info.Name); err == nil {
				msgs = make([]Msg, len(metas))
				for i, m := range metas {
					msgs[i] = newMsg(m, st.UIDValidity)
				}
			}
		}
		fr := FolderReport{Name: info.Name, ServerMessages: st.Messages, LastSync: timePtr(t.SyncedAt), LastError: t.Err, LastErrorAt: timePtr(t.ErrAt)}
		for _, m := range msgs {
			fr.ServerBytes += m.Size
			if c.haveBody(info.Name, m) {
				fr.CachedMessages++
				fr.CachedBytes += m.Size
			}
		}
		r.Folders = append(r.Folders, fr)
		switch {
		case t.SyncedAt.IsZero():
			never = true
		case oldest.IsZero() || t.SyncedAt.Before(oldest):
			oldest = t.SyncedAt
		}
	}
	if !never {
		r.LastSync = timePtr(oldest)
	}
	sort.Slice(r.Folders, func(i, j int) bool { return r.Folders[i].Name < r.Folders[j].Name })
	return r
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

// times is the folder's part of SyncStatusFile; f.mu must be held.
func (f *folder) times() syncTimes {
	return syncTimes{SyncedAt: f.syncedAt, Err: f.lastErr, ErrAt: f.errAt}
}

// recordError notes a failed sync of f (or, f nil, of the folder list).
func (c *Cache) recordError(f *folder, err error) {
	now := time.Now()
	if f == nil {
		c.mu.Lock()
		c.acctTimes.Err, c.acctTimes.ErrAt = err.Error(), now
		c.mu.Unlock()
		return
	}
	f.mu.Lock()
	f.lastErr, f.errAt = err.Error(), now
	f.mu.Unlock()
}

// loadSyncTimes reads SyncStatusFile into the folders (those Open knows).
func (c *Cache) loadSyncTimes() {
	b, err := os.ReadFile(filepath.Join(c.dir, SyncStatusFile))
	if err != nil {
		return
	}
	var saved map[string]syncTimes
	if err := json.Unmarshal(b, &saved); err != nil {
		c.log.Warn("sync status unreadable, starting afresh", "err", err)
		return
	}
	c.acctTimes = saved[""]
	for name, f := range c.folders {
		if t, ok := saved[name]; ok {
			f.syncedAt, f.lastErr, f.errAt = t.SyncedAt, t.Err, t.ErrAt
		}
	}
}

// saveSyncTimes writes SyncStatusFile; a failure is logged only.
func (c *Cache) saveSyncTimes() {
	c.statusMu.Lock()
	defer c.statusMu.Unlock()
	c.mu.Lock()
	saved := map[string]syncTimes{}
	if c.acctTimes != (syncTimes{}) {
		saved[""] = c.acctTimes
	}
	for name, f := range c.folders {
		f.mu.Lock()
		if t := f.times(); t != (syncTimes{}) {
			saved[name] = t
		}
		f.mu.Unlock()
	}
	c.mu.Unlock()
	b, err := json.Marshal(saved)
	if err == nil {
		err = atomicfile.Write(filepath.Join(c.dir, SyncStatusFile), func(f *os.File) error {
			_, err := f.Write(b)
			return err
		})
	}
	if err != nil {
		c.log.Warn("cannot save the sync status", "err", err)
	}
}
