package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// A folder can show SumsName, the SHA-256 of each of its .eml files in
// the format sha256sum -c reads (GNU coreutils; perl's shasum -a 256 -c
// too), sorted by name:
//
//	<64 hex digits><space><space><file name>
//
// so that a copy (rsync -a) can be checked years later with no mailfs:
// cd backup/INBOX && sha256sum -c SHA256SUMS. A name holding a backslash,
// newline or carriage return is written as sha256sum writes it: the line
// starts with a backslash and those characters are escaped (\\, \n, \r).
// Message names hold none of them (cleanText), but the rule costs nothing.
//
// Its size is known from the listing alone, since every line is 64 hex
// digits, two spaces, a name and a newline (SumsAttr): a stat, ls -l,
// reads no body. Reading it needs every body of the folder (downloaded as
// for any read); the bytes are kept until the listing changes (publish
// drops them). Its mtime is the newest INTERNALDATE, with nanoseconds
// from a hash of what the bytes depend on (each message's name, link and
// size): it changes when the file does, so rsync's quick check copies it
// again, and stays after a remount, so rsync skips it.
//
// SHA-256 and not the BLAKE3 hash the cache keeps, because every system
// has sha256sum. Without SHA instructions Go hashes about 200 MB/s, so
// each body's SHA-256 is kept in the xattr shaAttr once computed, with
// the size and mtime of the file it was computed from (a body replaced or
// touched has them differ, and is hashed again): a second read, after a
// remount too, hashes no body. While computing it the body is also
// checked against its BLAKE3 hash, at little extra cost: a damaged body
// is fetched again before its hash goes into the file.

// SumsName is the name of each folder's checksum file; SumsFormat, the
// --formats entry (config formats) that shows it.
const (
	SumsName   = "SHA256SUMS"
	SumsFormat = "sums"
)

const shaAttr = "user.mailfs.sha256"

// folderSums is a folder's SumsName as last made, for the listing of
// of; guarded by folder.mu, made under folder.sumsMu.
type folderSums struct {
	of    []Msg
	file  []byte
	mtime time.Time
}

// SumsAttr returns the size and mtime of the folder's checksum file,
// without making it.
func (c *Cache) SumsAttr(ctx context.Context, folder string) (int64, time.Time, error) {
	msgs, err := c.Messages(ctx, folder)
	if err != nil {
		return 0, time.Time{}, err
	}
	_, size, mtime := sumsLayout(msgs)
	return size, mtime, nil
}

// sumsLayout returns the order of the lines of msgs' checksum file (by
// name), its size and its mtime.
func sumsLayout(msgs []Msg) (order []int, size int64, mtime time.Time) {
	order = make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return msgs[order[a]].Stem < msgs[order[b]].Stem })
	h := blake3.New()
	var newest int64
	for _, i := range order {
		m := msgs[i]
		size += int64(sumLineLen(m.Stem + ".eml"))
		newest = max(newest, m.Date.Unix())
		h.Write([]byte(m.Stem))
		h.Write(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{0}, m.Link), uint64(m.Size)))
	}
	sum := h.Sum(nil)
	return order, size, time.Unix(newest, int64(binary.BigEndian.Uint64(sum[:8])%1e9))
}

// SumsFile returns the folder's checksum file and its mtime, making it
// if the listing changed since it was last made.
func (c *Cache) SumsFile(ctx context.Context, folder string) ([]byte, time.Time, error) {
	f, err := c.folder(folder)
	if err != nil {
		return nil, time.Time{}, err
	}
	f.sumsMu.Lock()
	defer f.sumsMu.Unlock()
	for {
		msgs, err := c.Messages(ctx, folder)
		if err != nil {
			return nil, time.Time{}, err
		}
		f.mu.Lock()
		s := f.sums
		f.mu.Unlock()
		if sameListing(s.of, msgs) && s.file != nil {
			return s.file, s.mtime, nil
		}
		b, mtime, err := c.makeSums(ctx, folder, msgs)
		if err != nil {
			return nil, time.Time{}, err
		}
		f.mu.Lock()
		if sameListing(f.msgs, msgs) {
			f.sums = folderSums{of: msgs, file: b, mtime: mtime}
			f.mu.Unlock()
			return b, mtime, nil
		}
		f.mu.Unlock() // changed meanwhile (a size corrected): again
	}
}

// makeSums writes the checksum file of msgs, downloading the bodies the
// cache lacks in batches, as Fill does.
func (c *Cache) makeSums(ctx context.Context, folder string, msgs []Msg) ([]byte, time.Time, error) {
	for start := 0; start < len(msgs); {
		end, bytes := start, int64(0)
		for end < len(msgs) && end-start < aheadCount && bytes < aheadBytes {
			bytes += msgs[end].Size
			end++
		}
		c.prefetch(ctx, folder, msgs[start:end])
		start = end
	}
	sums := make([][sha256.Size]byte, len(msgs))
	for i, m := range msgs {
		sum, err := c.bodySHA256(ctx, folder, m)
		if err != nil {
			return nil, time.Time{}, err
		}
		sums[i] = sum
	}
	order, size, mtime := sumsLayout(msgs)
	var b bytes.Buffer
	b.Grow(int(size))
	for _, i := range order {
		writeSumLine(&b, sums[i][:], msgs[i].Stem+".eml")
	}
	if int64(b.Len()) != size { // never: sumLineLen is writeSumLine's length
		return nil, time.Time{}, fmt.Errorf("checksum file of %q: %d bytes, not the %d shown", folder, b.Len(), size)
	}
	return b.Bytes(), mtime, nil
}

// sumLineLen is the length of name's line.
func sumLineLen(name string) int {
	n := len(name)
	if esc := strings.Count(name, "\\") + strings.Count(name, "\n") + strings.Count(name, "\r"); esc > 0 {
		n += 1 + esc
	}
	return 2*sha256.Size + 2 + n + 1
}

// writeSumLine writes one line as sha256sum does.
func writeSumLine(b *bytes.Buffer, sum []byte, name string) {
	if strings.ContainsAny(name, "\\\n\r") {
		b.WriteByte('\\')
		name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
	}
	b.WriteString(hex.EncodeToString(sum))
	b.WriteString("  ")
	b.WriteString(name)
	b.WriteByte('\n')
}

// bodySHA256 returns the SHA-256 of m's body: the one kept with it, or
// computed (fetching the body first if needed) and then kept.
func (c *Cache) bodySHA256(ctx context.Context, folder string, m Msg) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	for attempt := 0; ; attempt++ {
		file, _, err := c.openBody(ctx, folder, m)
		if err != nil {
			return sum, err
		}
		fi, err := file.Stat()
		if err != nil {
			file.Close()
			return sum, err
		}
		fd := int(file.Fd())
		tag := shaTag(fi)
		kept := make([]byte, sha256.Size+len(tag)+1)
		if n, err := unix.Fgetxattr(fd, shaAttr, kept); err == nil && n == sha256.Size+len(tag) && bytes.Equal(kept[sha256.Size:n], tag) {
			file.Close()
			copy(sum[:], kept)
			return sum, nil
		}
		sum, ok, err := hashBody(file)
		if err == nil && ok {
			err = unix.Fsetxattr(fd, shaAttr, append(sum[:], tag...), 0)
		}
		file.Close()
		if err != nil {
			return sum, fmt.Errorf("hash %q UID %d: %w", folder, m.UID, err)
		}
		if ok {
			return sum, nil
		}
		if attempt == 1 {
			return sum, fmt.Errorf("%q UID %d: the body fetched again does not match its hash", folder, m.UID)
		}
		c.VerifyBody(folder, m) // removes it (and logs): fetched again
	}
}

// shaTag is what a kept SHA-256 was computed from: the body file's size
// and mtime.
func shaTag(fi os.FileInfo) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(fi.Size()))
	return binary.BigEndian.AppendUint64(b, uint64(fi.ModTime().UnixNano()))
}

// hashBody computes the SHA-256 of a body file, and reports whether its
// BLAKE3 hash is the one it was stored with.
func hashBody(file *os.File) (sum [sha256.Size]byte, ok bool, err error) {
	want := make([]byte, 32)
	if n, err := unix.Fgetxattr(int(file.Fd()), sumAttr, want); err != nil || n != len(want) {
		return sum, false, nil
	}
	s, b := sha256.New(), blake3.New()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(io.MultiWriter(s, b), io.NewSectionReader(file, 0, 1<<62), *buf); err != nil {
		return sum, false, err
	}
	s.Sum(sum[:0])
	return sum, bytes.Equal(b.Sum(nil), want), nil
}
