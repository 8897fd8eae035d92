package cache

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"mailfs/cache/atomicfile"
	"mailfs/render"
)

// Views are the rendered forms of a message (render.Formats: .html, .pdf,
// .txt, .mht, .docx). Each is rendered once, from the cached body, and
// kept beside it:
//
//	bodies/<folder hash>/<UIDVALIDITY>/<UID>.v<render.Version>[-<fonts hash>].<format>
//
// (the fonts hash for views that depend on the system's fonts).
//
// Its size is recorded in the store (bucket "views"), so a stat after a
// remount costs no rendering, and a file whose size disagrees is rendered
// again. A new render.Version leaves old files unused.

var bucketViews = []byte("views")

// renderSlots bounds how many renders run at once: one per core.
var renderSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// renderer returns the function that renders a view (render.Formats).
func (c *Cache) renderer(format string) (func([]byte, io.Writer) error, error) {
	f, ok := render.FormatOf(format)
	if !ok || f.Render == nil {
		return nil, fmt.Errorf("unknown view %q", format)
	}
	var opt render.Options
	if f.SystemFonts {
		opt = c.fontOptions()
	}
	return func(raw []byte, w io.Writer) error { return f.Render(raw, w, opt) }, nil
}

// loadFonts reads the system fonts for scripts the bundled font lacks,
// once. Some views (render.Format.SystemFonts: the PDF) depend on them,
// so their hash is part of such a view's cache key: installing a CJK font
// later renders them again.
func (c *Cache) loadFonts() {
	c.fontsOnce.Do(func() {
		c.fonts = render.SystemFonts()
		h := sha256.New()
		for _, f := range c.fonts {
			h.Write(f)
		}
		c.fontsTag = hex.EncodeToString(h.Sum(nil)[:4])
	})
}

func (c *Cache) fontOptions() render.Options {
	c.loadFonts()
	return render.Options{ExtraFonts: c.fonts}
}

// viewTag names what a view's bytes depend on besides the message.
func (c *Cache) viewTag(format string) string {
	tag := "v" + strconv.Itoa(render.Version)
	if f, _ := render.FormatOf(format); f.SystemFonts {
		c.loadFonts()
		tag += "-" + c.fontsTag
	}
	return tag
}

func (c *Cache) viewPath(folder string, uv, uid uint32, format string) string {
	name := strconv.FormatUint(uint64(uid), 10) + "." + c.viewTag(format) + "." + format
	return filepath.Join(c.uvDir(folder, uv), name)
}

func (c *Cache) viewKey(folder string, uv, uid uint32, format string) []byte {
	k := append([]byte(folder), 0)
	k = binary.BigEndian.AppendUint32(k, uv)
	k = binary.BigEndian.AppendUint32(k, uid)
	k = append(k, c.viewTag(format)...)
	return append(append(k, 0), format...)
}

// KnownViewSize returns a view's size if it has been rendered before,
// without rendering. A stat of a view that was never rendered must render.
func (c *Cache) KnownViewSize(folder string, uv, uid uint32, format string) (int64, bool) {
	var size int64 = -1
	c.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketViews); b != nil {
			if v := b.Get(c.viewKey(folder, uv, uid, format)); v != nil {
				if n, k := binary.Uvarint(v); k > 0 {
					size = int64(n)
				}
			}
		}
		return nil
	})
	return size, size >= 0
}

// ViewSize returns a view's exact size, rendering it if needed.
func (c *Cache) ViewSize(ctx context.Context, folder string, uv, uid uint32, format string) (int64, error) {
	f, err := c.OpenView(ctx, folder, uv, uid, format)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// OpenView returns a rendered view as an open file, rendering it first if
// the cache has no complete copy. The caller closes the file.
func (c *Cache) OpenView(ctx context.Context, folder string, uv, uid uint32, format string) (*os.File, error) {
	m, ok := c.Message(folder, uv, uid)
	if !ok {
		return nil, fmt.Errorf("%q UID %d: %w", folder, uid, ErrGone)
	}
	path := c.viewPath(folder, uv, uid, format)
	if size, ok := c.KnownViewSize(folder, uv, uid, format); ok {
		if file, ok := openSized(path, size); ok {
			return file, nil
		}
	}
	c.renderAhead(folder, m, format)
	err := c.flights.do(ctx, path, func() error {
		if size, ok := c.KnownViewSize(folder, uv, uid, format); ok {
			if file, ok := openSized(path, size); ok {
				file.Close()
				return nil
			}
		}
		return c.renderView(folder, uv, uid, format, path)
	})
	if err != nil {
		return nil, err
	}
	return os.Open(path)
}

// renderAhead starts rendering the views that follow m in name order, so
// that ls -l, rsync or grep, which ask for one file after the other, keep
// every core busy. It is called when m's view must be rendered; it starts
// at most one render per core beyond m, each waiting for a render slot.
func (c *Cache) renderAhead(folder string, m Msg, format string) {
	f, err := c.folder(folder)
	if err != nil {
		return
	}
	f.mu.Lock()
	i, ok := f.index(m.UIDValidity, m.UID)
	var next []Msg
	if ok {
		f.ensureOrder()
		for q := int(f.rank[i]) + 1; q < len(f.order) && len(next) < cap(renderSlots); q++ {
			next = append(next, f.msgs[f.order[q]])
		}
	}
	f.mu.Unlock()
	for _, n := range next {
		if _, known := c.KnownViewSize(folder, n.UIDValidity, n.UID, format); known {
			continue
		}
		path := c.viewPath(folder, n.UIDValidity, n.UID, format)
		if fl := c.flights.claim(path); fl != nil {
			if !c.flights.spawn(func() { c.flights.finish(path, fl, c.renderView(folder, n.UIDValidity, n.UID, format, path)) }) {
				c.flights.finish(path, fl, context.Canceled) // the cache is closed
			}
		}
	}
}

// renderView renders one view into path and records its size.
func (c *Cache) renderView(folder string, uv, uid uint32, format, path string) error {
	fn, err := c.renderer(format)
	if err != nil {
		return err
	}
	m, ok := c.Message(folder, uv, uid)
	if !ok {
		return fmt.Errorf("%q UID %d: %w", folder, uid, ErrGone)
	}
	body, _, err := c.openBody(c.ctx, folder, m)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return err
	}
	var size int64
	err = atomicfile.Write(path, func(f *os.File) error {
		renderSlots <- struct{}{}
		w := bufio.NewWriterSize(f, 256<<10)
		err := fn(raw, w)
		<-renderSlots
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return fmt.Errorf("render %s of %q UID %d: %w", format, folder, uid, err)
		}
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		size = fi.Size()
		return nil
	})
	if err != nil {
		return err
	}
	c.log.Debug("rendered", "format", format, "folder", folder, "uid", uid, "bytes", size)
	return c.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketViews)
		if err != nil {
			return err
		}
		return b.Put(c.viewKey(folder, uv, uid, format), binary.AppendUvarint(nil, uint64(size)))
	})
}
