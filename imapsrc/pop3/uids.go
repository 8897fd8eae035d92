package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// uidMap gives each POP3 unique id (UIDL) a stable IMAP-like UID, so that
// the cache, made for IMAP, can use them unchanged.
//
// UIDs are handed out in the order messages are first seen (1, 2, 3, …),
// so new messages always get UIDs above the old ones, as the cache expects
// from IMAP's UIDNEXT: a hash of the UIDL would not be ascending. The map
// is kept in a small append-only file in the cache folder (StateFile),
// each line "UID UIDL", written and synced to disk before any UID is
// handed out, so a UID once seen by the cache never names another message.
// A UIDL gone from the server keeps its UID, so a message that comes back
// is the same file again.
//
// The first line holds a UIDVALIDITY chosen when the file is created (the
// time then, as IMAP servers do). If the file is lost while the cache is
// kept, the new file's UIDVALIDITY differs, and the cache treats the
// folder as renumbered instead of trusting old UIDs.
type uidMap struct {
	path string

	mu       sync.Mutex
	loaded   bool
	validity uint32
	next     uint32 // the next UID to hand out
	byUIDL   map[string]uint32
}

const uidMapHeader = "mailfs pop3 uids v1 uidvalidity "

// StateFile is the name of the UID map in the cache folder.
const StateFile = "pop3-uids"

func newUIDMap(dir string) *uidMap {
	return &uidMap{path: filepath.Join(dir, StateFile)}
}

// load reads the file once; a missing file starts a new map. A last line
// without its newline (a crash while writing) is dropped: its UID was
// never handed out.
func (m *uidMap) load() error {
	if m.loaded {
		return nil
	}
	m.byUIDL, m.next = map[string]uint32{}, 1
	b, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		m.validity = uint32(time.Now().Unix())
		if err := m.write([]byte(fmt.Sprintf("%s%d\n", uidMapHeader, m.validity)), os.O_CREATE|os.O_EXCL); err != nil {
			return err
		}
		m.loaded = true
		return nil
	}
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		if err := os.Truncate(m.path, int64(i+1)); err != nil {
			return err
		}
		b = b[:i+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			v, err := strconv.ParseUint(strings.TrimPrefix(line, uidMapHeader), 10, 32)
			if !strings.HasPrefix(line, uidMapHeader) || err != nil || v == 0 {
				return fmt.Errorf("%s: not a mailfs POP3 UID map (remove it and the cache folder's meta.db to start over)", m.path)
			}
			m.validity = uint32(v)
			continue
		}
		us, uidl, ok := strings.Cut(line, " ")
		uid, err := strconv.ParseUint(us, 10, 32)
		if !ok || err != nil || uid < uint64(m.next) || uidl == "" {
			return fmt.Errorf("%s:%d: damaged line (remove the file and the cache folder's meta.db to start over)", m.path, n)
		}
		m.byUIDL[uidl] = uint32(uid)
		m.next = uint32(uid) + 1
	}
	if m.validity == 0 {
		return fmt.Errorf("%s: empty (remove it and the cache folder's meta.db to start over)", m.path)
	}
	m.loaded = true
	return sc.Err()
}

// write appends b to the file and syncs it.
func (m *uidMap) write(b []byte, flags int) error {
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(m.path, os.O_WRONLY|os.O_APPEND|flags, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// assign returns the UIDs of uidls (in order), giving new ones to those
// seen for the first time, and the folder's UIDVALIDITY and UIDNEXT.
func (m *uidMap) assign(uidls []string) (uids []uint32, validity, next uint32, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.load(); err != nil {
		return nil, 0, 0, err
	}
	var add bytes.Buffer
	fresh := map[string]uint32{}
	n := m.next
	uids = make([]uint32, len(uidls))
	for i, u := range uidls {
		uid, ok := m.byUIDL[u]
		if !ok {
			if uid, ok = fresh[u]; !ok {
				uid = n
				n++
				fresh[u] = uid
				fmt.Fprintf(&add, "%d %s\n", uid, u)
			}
		}
		uids[i] = uid
	}
	if add.Len() > 0 {
		if err := m.write(add.Bytes(), 0); err != nil {
			m.loaded = false // read back what reached the file, if anything
			return nil, 0, 0, fmt.Errorf("save the POP3 UID map: %w", err)
		}
		for u, uid := range fresh {
			m.byUIDL[u] = uid
		}
		m.next = n
	}
	return uids, m.validity, m.next, nil
}
