package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"mailfs/render"
)

// A folder's mbox (render.FolderFormats) is every message of the folder,
// in UID order, as one mboxrd file (render/mbox.go). It is never written
// to disk: its size is the sum of its entries' sizes, computed once per
// listing by encoding every cached body (none held in memory), and its
// bytes are encoded again from the bodies when read. An index of where
// each entry starts lets a read of any range begin at its message, and a
// reader remembers where its last read ended, so reading on costs no
// more than the bytes read, however big the folder.
//
// The size needs every body, so the first Mbox of a folder downloads the
// bodies the cache lacks, in batches like Fill, logging its progress.

// Mbox is a folder's mbox as made from one listing.
type Mbox struct {
	c      *Cache
	folder string
	msgs   []Msg   // the listing it was made from (by UID)
	offs   []int64 // offs[i]: where msgs[i]'s entry starts; offs[len(msgs)]: the size
	mtime  time.Time
}

// Size is the mbox's size in bytes.
func (m *Mbox) Size() int64 { return m.offs[len(m.msgs)] }

// Mtime is the date of the folder's newest message.
func (m *Mbox) Mtime() time.Time { return m.mtime }

// mboxLog is how often a download for an mbox logs its progress.
const mboxLog = 5 * time.Second

// Mbox returns the folder's mbox for its listing now, making it when the
// listing changed since it was last made: downloading the bodies the
// cache lacks, then computing the entries' sizes.
func (c *Cache) Mbox(ctx context.Context, folder string) (*Mbox, error) {
	f, err := c.folder(folder)
	if err != nil {
		return nil, err
	}
	f.mboxMu.Lock()
	defer f.mboxMu.Unlock()
	msgs, err := c.Messages(ctx, folder)
	if err != nil {
		return nil, err
	}
	if f.mbox != nil && sameListing(f.mbox.msgs, msgs) {
		return f.mbox, nil
	}
	if err := c.downloadAll(ctx, folder, msgs); err != nil {
		return nil, err
	}
	if msgs, err = c.Messages(ctx, folder); err != nil { // sizes corrected by the downloads
		return nil, err
	}
	m := &Mbox{c: c, folder: folder, msgs: msgs, offs: make([]int64, len(msgs)+1)}
	for i, msg := range msgs {
		size, err := c.mboxEntrySize(ctx, folder, msg)
		if err != nil {
			return nil, fmt.Errorf("mbox of %q: %w", folder, err)
		}
		m.offs[i+1] = m.offs[i] + size
		if msg.Date.After(m.mtime) {
			m.mtime = msg.Date
		}
	}
	f.mbox = m
	return m, nil
}

// sameListing tells whether two listings show the same messages.
func sameListing(a, b []Msg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UIDValidity != b[i].UIDValidity || a[i].UID != b[i].UID || a[i].Size != b[i].Size || !a[i].Date.Equal(b[i].Date) || a[i].Stem != b[i].Stem {
			return false
		}
	}
	return true
}

func (c *Cache) mboxEntrySize(ctx context.Context, folder string, m Msg) (int64, error) {
	file, err := c.OpenBody(ctx, folder, m.UIDValidity, m.UID)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	return render.WriteMbox(io.Discard, file, m.Date)
}

// downloadAll downloads the bodies of msgs the cache lacks, in batches,
// logging how far it came every mboxLog.
func (c *Cache) downloadAll(ctx context.Context, folder string, msgs []Msg) error {
	var todo []Msg
	var bytes int64
	for _, m := range msgs {
		if !c.haveBody(folder, m) {
			todo = append(todo, m)
			bytes += m.Size
		}
	}
	if len(todo) == 0 {
		return nil
	}
	c.log.Info("mbox: downloading the bodies the cache lacks", "folder", folder, "messages", len(todo), "bytes", bytes)
	start, logged := time.Now(), time.Now()
	var done int
	var doneBytes int64
	for len(todo) > 0 {
		n, size := 0, int64(0)
		for n < len(todo) && n < aheadCount && size < aheadBytes {
			size += todo[n].Size
			n++
		}
		batch := todo[:n]
		todo = todo[n:]
		c.prefetch(ctx, folder, batch)
		for _, m := range batch {
			// Cheap when the batch brought it; fetches it again (and
			// reports why) when it did not.
			file, err := c.OpenBody(ctx, folder, m.UIDValidity, m.UID)
			if err != nil && !errors.Is(err, ErrSizeChanged) {
				return fmt.Errorf("mbox of %q: %s: %w", folder, m.Stem, err)
			}
			if file != nil {
				file.Close()
			}
			done++
			doneBytes += m.Size
		}
		if time.Since(logged) >= mboxLog && len(todo) > 0 {
			logged = time.Now()
			c.log.Info("mbox download progress", "folder", folder, "messages", fmt.Sprintf("%d/%d", done, done+len(todo)), "bytes", doneBytes)
		}
	}
	c.log.Info("mbox download done", "folder", folder, "messages", done, "bytes", doneBytes, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// MboxReader reads an Mbox. It remembers where its last read ended (the
// message, how much of its body was encoded, the encoder's state and the
// bytes encoded but not yet read), so that the next read from there goes
// on instead of encoding the message again from its start, and where
// each piece of the current entry began, so that a read a little behind
// encodes one piece again, not the whole message. It holds one body open,
// a few pieces of render.MboxHeadSize, and a mark (some 50 bytes) per
// piece of the current message: 4 MB for a message of 5 GB.
type MboxReader struct {
	m *Mbox

	mu   sync.Mutex
	i    int      // the message whose entry is read; -1 for none
	file *os.File // its body
	in   int64    // how much of the body was encoded
	enc  render.MboxEncoder
	out  int64  // where in the mbox buf starts
	buf  []byte // encoded bytes from out on
	done bool   // the entry is encoded to its end
	cut  []byte // a piece of the body
	// marks are where each piece of the entry's body began to be
	// encoded: a read behind the last one (the kernel's read-ahead sends
	// reads out of order) goes back to a mark, not to the entry's start.
	marks []mboxMark
}

// mboxMark is a reader's state where a piece of a body began.
type mboxMark struct {
	in, out int64
	enc     render.MboxEncoder
}

// NewReader returns a reader of m; close it when done.
func (m *Mbox) NewReader() *MboxReader {
	return &MboxReader{m: m, i: -1, cut: make([]byte, render.MboxHeadSize)}
}

// ErrMboxChanged means a message's entry had another size than when the
// mbox was made: its body changed in the cache meanwhile.
var ErrMboxChanged = errors.New("a message of the mbox changed")

// ReadAt reads len(p) bytes from off on (fewer at the end).
func (r *MboxReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.m.Size() {
		if r.i < 0 || off < r.out || off >= r.m.offs[r.i+1] {
			if err := r.seek(ctx, off); err != nil {
				return n, err
			}
		}
		for off >= r.out+int64(len(r.buf)) {
			if err := r.more(); err != nil {
				return n, err
			}
		}
		k := copy(p[n:], r.buf[off-r.out:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// seek starts reading the entry holding off: at the last mark before
// off when the reader is in that entry, else at its From line.
func (r *MboxReader) seek(ctx context.Context, off int64) error {
	if r.i >= 0 && off < r.m.offs[r.i+1] {
		k := sort.Search(len(r.marks), func(k int) bool { return r.marks[k].out > off })
		if k > 0 {
			mk := r.marks[k-1]
			r.in, r.out, r.enc, r.buf, r.done = mk.in, mk.out, mk.enc, r.buf[:0], false
			r.marks = r.marks[:k-1] // more() sets it again
			return nil
		}
	}
	r.closeFile()
	m := r.m
	lo, hi := 0, len(m.msgs) // the last entry starting at or before off
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if m.offs[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	msg := m.msgs[lo]
	file, err := m.c.OpenBody(ctx, m.folder, msg.UIDValidity, msg.UID)
	if err != nil {
		return err
	}
	k, err := file.ReadAt(r.cut, 0)
	if err != nil && err != io.EOF {
		file.Close()
		return err
	}
	r.i, r.file, r.in, r.enc, r.done, r.marks = lo, file, 0, render.NewMboxEncoder(), false, r.marks[:0]
	r.out, r.buf = m.offs[lo], append(r.buf[:0], render.MboxFromLine(r.cut[:k], msg.Date)...)
	return nil
}

// more encodes the next piece of the body in place of what buf holds.
func (r *MboxReader) more() error {
	end := r.m.offs[r.i+1]
	if r.done {
		return fmt.Errorf("%q %s: %w", r.m.folder, r.m.msgs[r.i].Stem, ErrMboxChanged)
	}
	r.out += int64(len(r.buf))
	r.buf = r.buf[:0]
	r.marks = append(r.marks, mboxMark{r.in, r.out, r.enc})
	k, err := r.file.ReadAt(r.cut, r.in)
	if err != nil && err != io.EOF {
		return err
	}
	r.buf = r.enc.Encode(r.buf, r.cut[:k])
	r.in += int64(k)
	if err == io.EOF || k < len(r.cut) {
		r.buf, r.done = r.enc.End(r.buf), true
		if r.out+int64(len(r.buf)) != end {
			return fmt.Errorf("%q %s: %w", r.m.folder, r.m.msgs[r.i].Stem, ErrMboxChanged)
		}
	}
	return nil
}

func (r *MboxReader) closeFile() {
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
	r.i = -1
}

// Close closes the body the reader holds open.
func (r *MboxReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeFile()
	return nil
}
