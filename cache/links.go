package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The copies of one message in several folders (same name, same link key,
// see Holders) are shown as hard links of one file, whose bytes are read
// from one of them. That they are one message is only assumed from what
// the listing says (Message-ID, INTERNALDATE, size, subject), so before a
// linked file is first read, VerifyLinks compares the copies' bodies
// (downloading each folder's copy: the downloads a reader of every folder
// would cost anyway), and copies found alike become one file in the
// cache, hard links of one body (shareBody). If the copies differ they are split:
// each gets a link key of its own, so each folder shows its file under its
// own inode, and the read that found out fails (ErrSplit), since its
// reader may have opened any of the copies.
//
// A split lasts for the mount. After a remount the copies are linked again
// until the first read, which finds the difference again from the cached
// bodies, without a download.

// ErrSplit means files shown as one message turned out to be different
// messages; they are shown apart from now on, and the file must be looked
// up again.
var ErrSplit = errors.New("copies in several folders differ: shown apart now")

type linkID struct {
	stem string
	link uint64
}

// LinksVerified reports whether the message stem, link is in one folder
// only, or its copies in all the folders holding it now were found alike.
func (c *Cache) LinksVerified(stem string, link uint64) bool {
	holders := c.Holders(stem, link)
	if len(holders) < 2 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verified[linkID{stem, link}] == folderSet(holders)
}

// folderSet is a short digest of a list of folders.
func folderSet(folders []string) uint64 {
	h := fnv.New64a()
	for _, f := range folders {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return h.Sum64() | 1 // never 0, the map's "not verified"
}

// VerifyLinks makes sure that every folder's copy of the message stem,
// link has the same bytes, downloading them as needed; see above. It
// returns nil at once for a message in one folder, or one verified before
// with the same folders.
func (c *Cache) VerifyLinks(ctx context.Context, stem string, link uint64) error {
	holders := c.Holders(stem, link)
	if len(holders) < 2 {
		return nil
	}
	id, set := linkID{stem, link}, folderSet(holders)
	c.mu.Lock()
	ok := c.verified[id] == set
	c.mu.Unlock()
	if ok {
		return nil
	}
	var first []byte
	var paths []string
	same := true
	for _, folder := range holders {
		m, ok := c.Lookup(folder, stem)
		if !ok || m.Link != link {
			continue // gone meanwhile
		}
		file, _, err := c.openBody(ctx, folder, m)
		if err != nil {
			return err
		}
		sum := make([]byte, 32)
		n, err := unix.Fgetxattr(int(file.Fd()), sumAttr, sum)
		file.Close()
		if err != nil || n != len(sum) {
			return fmt.Errorf("%q %s: body without its hash", folder, stem)
		}
		if first == nil {
			first = sum
		} else if !bytes.Equal(first, sum) {
			same = false
		}
		paths = append(paths, c.bodyPath(folder, m.UIDValidity, m.UID))
	}
	if same {
		c.shareBody(paths)
		c.mu.Lock()
		c.verified[id] = set
		c.mu.Unlock()
		return nil
	}
	for _, folder := range holders {
		c.split(folder, stem, link)
	}
	c.log.Warn("copies of a message differ: shown apart", "message", stem, "folders", holders)
	return fmt.Errorf("%s: %w", stem, ErrSplit)
}

// shareBody makes the cached bodies at paths, found to hold the same
// bytes, one file on disk (hard links of the first), so the cache keeps
// one body per message however many folders hold it. Each stays a name
// of its own: an expunge removes one link, a body fetched again replaces
// one. It is only a saving: a link that cannot be made leaves the copy.
func (c *Cache) shareBody(paths []string) {
	if len(paths) < 2 {
		return
	}
	fi0, err := os.Stat(paths[0])
	if err != nil {
		return
	}
	for _, p := range paths[1:] {
		if fi, err := os.Stat(p); err != nil || os.SameFile(fi0, fi) {
			continue
		}
		tmp := filepath.Join(filepath.Dir(p), ".part-link-"+filepath.Base(p)) // removed at open if left
		os.Remove(tmp)
		if os.Link(paths[0], tmp) != nil || os.Rename(tmp, p) != nil {
			os.Remove(tmp)
		}
	}
}

// split gives the folder's message stem, link a link key of its own.
func (c *Cache) split(name, stem string, link uint64) {
	f, err := c.folder(name)
	if err != nil {
		return
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	f.mu.Lock()
	i, ok := f.byStem[stem]
	if !ok || f.msgs[i].Link != link {
		f.mu.Unlock()
		return
	}
	msgs := append([]Msg(nil), f.msgs...)
	old := msgs[i]
	h := fnv.New64a()
	h.Write([]byte(name))
	msgs[i].Link ^= h.Sum64() | 1
	f.mu.Unlock()
	f.publish(msgs)
	c.notify(Change{Folder: name, Removed: []Msg{old}, Added: []Msg{msgs[i]}})
}
