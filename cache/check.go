package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// Check compares the cache with the server, changing neither: `mailfs
// verify`. For each folder it compares the stored listing (the messages
// and the sizes the server gave) with the server's, checks every cached
// body against the hash it was stored with, and downloads sample bodies
// of each folder (all when sample < 0) to compare their bytes with the
// cached ones. Each difference goes to diff; counts to each folder's
// FolderCheck. The folder list itself was brought in step when the cache
// was opened (RefreshFolders). The error is for what could not be
// compared (the server failing), not for differences.
//
// Check reads every cached body once (BLAKE3, about 1.7 GB/s), so a
// damaged body is found whether or not it is in the sample; `mailfs sync
// --verify` is what repairs it.
func (c *Cache) Check(ctx context.Context, sample int, diff func(Difference)) ([]FolderCheck, error) {
	var out []FolderCheck
	for _, info := range c.Folders() {
		if info.NoSelect {
			continue
		}
		fc, err := c.checkFolder(ctx, info.Name, sample, diff)
		if err != nil {
			return out, fmt.Errorf("verify %q: %w", info.Name, err)
		}
		out = append(out, fc)
	}
	return out, nil
}

// Difference is one way the cache and the server disagree.
type Difference struct {
	Folder string
	Name   string // the message's file name; "" for the folder itself
	What   string
}

// FolderCheck counts what Check compared in one folder.
type FolderCheck struct {
	Folder         string
	Server, Cached int // messages on the server, in the stored listing
	Bodies         int // bodies the cache holds
	Compared       int // bodies downloaded and compared
	Differences    int
}

func (c *Cache) checkFolder(ctx context.Context, name string, sample int, diff func(Difference)) (FolderCheck, error) {
	fc := FolderCheck{Folder: name}
	report := func(file, what string) {
		fc.Differences++
		diff(Difference{Folder: name, Name: file, What: what})
	}
	f, err := c.folder(name)
	if err != nil {
		return fc, err
	}
	if err := c.load(f); err != nil {
		return fc, err
	}
	f.mu.Lock()
	uv, msgs := f.status.UIDValidity, f.msgs
	f.mu.Unlock()
	metas, err := loadMsgs(c.db, name)
	if err != nil {
		return fc, err
	}
	listed := map[uint32]int64{}
	for _, m := range metas {
		listed[m.UID] = m.listedSize()
	}
	fc.Cached = len(msgs)

	st, err := c.src.Status(ctx, name)
	if err != nil {
		return fc, err
	}
	fc.Server = int(st.Messages)
	if uv == 0 && len(msgs) == 0 {
		if st.Messages > 0 {
			report("", fmt.Sprintf("never synced: the server holds %d messages", st.Messages))
		}
		return fc, nil
	}
	if st.UIDValidity != uv {
		report("", fmt.Sprintf("the server renumbered the folder (UIDVALIDITY %d, the cache has %d)", st.UIDValidity, uv))
		return fc, nil
	}
	server := map[uint32]int64{}
	err = c.src.FetchMeta(ctx, name, uv, 1, func(m Meta) error {
		server[m.UID] = m.Size
		return nil
	})
	if err != nil {
		return fc, err
	}
	fc.Server = len(server)
	inCache := map[uint32]bool{}
	var comparable []Msg
	sums := map[uint32][]byte{}
	for _, m := range msgs {
		inCache[m.UID] = true
		file := m.Stem + ".eml"
		size, onServer := server[m.UID]
		switch {
		case !onServer:
			report(file, fmt.Sprintf("UID %d is no longer on the server", m.UID))
		case size != listed[m.UID]:
			report(file, fmt.Sprintf("the server gives UID %d %d bytes, the cache was told %d", m.UID, size, listed[m.UID]))
		}
		sum, what := c.checkBody(name, m)
		if what != "" {
			report(file, what)
		}
		if sum != nil {
			fc.Bodies++
			if onServer && what == "" {
				sums[m.UID] = sum
				comparable = append(comparable, m)
			}
		}
	}
	var missing []uint32
	for uid := range server {
		if !inCache[uid] {
			missing = append(missing, uid)
		}
	}
	slices.Sort(missing)
	for _, uid := range missing {
		report("", fmt.Sprintf("UID %d is on the server but not in the cache (mailfs sync fetches it)", uid))
	}

	if sample >= 0 && len(comparable) > sample {
		rand.Shuffle(len(comparable), func(i, j int) { comparable[i], comparable[j] = comparable[j], comparable[i] })
		comparable = comparable[:sample]
	}
	for start := 0; start < len(comparable); start += aheadCount {
		batch := comparable[start:min(start+aheadCount, len(comparable))]
		byUID := map[uint32]Msg{}
		uids := make([]uint32, len(batch))
		for i, m := range batch {
			byUID[m.UID], uids[i] = m, m.UID
		}
		got := map[uint32][]byte{}
		err := c.src.FetchBodies(ctx, name, uv, uids, func(uid uint32, r io.Reader) error {
			h := blake3.New()
			if _, err := io.Copy(h, r); err != nil {
				return err
			}
			got[uid] = h.Sum(nil)
			return nil
		})
		if err != nil {
			return fc, err
		}
		for _, uid := range uids {
			m := byUID[uid]
			switch sum, ok := got[uid]; {
			case !ok:
				report(m.Stem+".eml", fmt.Sprintf("UID %d: the server sent no body", uid))
			case !bytes.Equal(sum, sums[uid]):
				report(m.Stem+".eml", "the cached body differs from the server's")
			}
			fc.Compared++
		}
	}
	return fc, nil
}

// checkBody hashes m's cached body, if there is one, and says what is
// wrong with it: "" when nothing, or when the cache holds no body (it need
// not). sum is the hash of the bytes the file holds, nil without a file.
func (c *Cache) checkBody(folder string, m Msg) (sum []byte, what string) {
	path := c.bodyPath(folder, m.UIDValidity, m.UID)
	file, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, ""
		}
		return nil, fmt.Sprintf("cached body unreadable: %v", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, fmt.Sprintf("cached body unreadable: %v", err)
	}
	h := blake3.New()
	if _, err := io.Copy(h, file); err != nil {
		return nil, fmt.Sprintf("cached body unreadable: %v", err)
	}
	sum = h.Sum(nil)
	want := make([]byte, 32)
	n, err := unix.Fgetxattr(int(file.Fd()), sumAttr, want)
	switch {
	case !bodyFileOK(fi, m):
		return sum, fmt.Sprintf("cached body changed on disk: %d bytes dated %s, stored as %d bytes dated %s",
			fi.Size(), fi.ModTime().UTC().Format("2006-01-02 15:04:05"), m.Size, stamp(m.Date).UTC().Format("2006-01-02 15:04:05"))
	case err != nil || n != len(want):
		return sum, "cached body has no stored hash"
	case !bytes.Equal(sum, want):
		return sum, "cached body does not match its stored hash (damaged on disk)"
	}
	return sum, ""
}
