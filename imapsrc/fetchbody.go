package imapsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// A body counts as delivered only when everything the server said about it
// agrees: the literal brought exactly the bytes it announced, the section is
// the one asked for, the FETCH response parsed to its closing parenthesis
// and the command completed with OK. FetchBodies and FetchPart report
// anything else as an error; the cache keeps a body only when they return
// nil.
//
// When a literal ends early (the connection was cut), nothing more is read
// from the command: go-imap's reader goroutine reads the connection again
// as soon as a literal reader returns an error, and a second read of the
// same literal (FetchMessageData.Next discards the rest of the previous
// item) would race with it. The connection is closed instead, and the
// command left to fail. A response that is wrong before its literal was
// read closes the connection the same way (conn.abandon).

// errProtocol marks a response that breaks the rules above.
var errProtocol = errors.New("server response does not match the request")

// FetchBodies implements cache.Source with one UID FETCH for all of uids.
// Bodies are streamed from the connection to fn, never held in memory
// (unless a server sends a body before its UID, which servers do not do).
// A connection lost midway is retried once from the start, on a new one.
func (s *Source) FetchBodies(ctx context.Context, folder string, uidValidity uint32, uids []uint32, fn func(uint32, io.Reader) error) error {
	return s.do(ctx, "fetch body", folder, func(cn *conn) error {
		if err := cn.examine(folder, uidValidity); err != nil {
			return err
		}
		var set imap.UIDSet
		for _, uid := range uids {
			set.AddNum(imap.UID(uid))
			s.log.Debug("fetch body", "folder", folder, "uid", uid)
			s.bodyFetches.Add(1)
		}
		if len(set) == 0 {
			return nil
		}
		want := &imap.FetchItemBodySection{Peek: true}
		return cn.fetchBodies(set, want, func(uid uint32, r io.Reader) error { return fn(uid, r) })
	})
}

// FetchPart implements cache.Source: bytes [off, off+n) of one body, with
// BODY.PEEK[]<off.n>, written to w. It is not retried here, since w has
// taken what arrived: the caller starts the part again.
func (s *Source) FetchPart(ctx context.Context, folder string, uidValidity, uid uint32, off, n int64, w io.Writer) (int64, error) {
	var got int64
	err := s.run(ctx, "fetch part", folder, 1, func(cn *conn) error {
		if err := cn.examine(folder, uidValidity); err != nil {
			return err
		}
		s.log.Debug("fetch part", "folder", folder, "uid", uid, "offset", off, "size", n)
		s.bodyFetches.Add(1)
		want := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: off, Size: n}}
		seen := false
		err := cn.fetchBodies(imap.UIDSetNum(imap.UID(uid)), want, func(u uint32, r io.Reader) error {
			if seen {
				return fmt.Errorf("UID %d: %w (two parts at %d)", uid, errProtocol, off)
			}
			seen = true
			var err error
			got, err = io.Copy(w, r)
			return err
		})
		if err == nil && got > n {
			err = fmt.Errorf("UID %d: %w (%d bytes for a part of %d)", uid, errProtocol, got, n)
		}
		if err == nil && !seen {
			err = fmt.Errorf("UID %d: no part at offset %d", uid, off)
		}
		return err
	})
	return got, err
}

// fetchBodies sends one UID FETCH of section want for set and hands each
// body to fn. Only useful progress (bytes of a requested body, a message)
// keeps the stall watchdog quiet, so a server that floods or repeats
// itself is cut off too.
func (cn *conn) fetchBodies(set imap.UIDSet, want *imap.FetchItemBodySection, fn func(uint32, io.Reader) error) error {
	cn.usefulOnly(true)
	defer cn.usefulOnly(false)
	cmd := cn.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{want}})
	var fnErr error
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		cn.progress()
		var uid uint32
		var early []byte // a body that came before its UID
		bodies := 0
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(item.UID)
			case imapclient.FetchItemDataBodySection:
				bodies++
				if err := checkSection(item, want, bodies); err != nil {
					cn.abandon(item.Literal)
					return fmt.Errorf("UID %d: %w", uid, err)
				}
				if fnErr != nil {
					continue
				}
				lit := &exactReader{lit: item.Literal, left: item.Literal.Size(), progress: cn.progress}
				if uid == 0 {
					early, fnErr = io.ReadAll(lit)
				} else {
					fnErr = fn(uid, lit)
				}
				if lit.err != nil {
					cn.close()
					return fmt.Errorf("UID %d: %w", uid, lit.err)
				}
				if fnErr == nil && lit.left != 0 {
					fnErr = fmt.Errorf("UID %d: body not read to its end", uid)
				}
			}
		}
		if early != nil && uid != 0 && fnErr == nil {
			fnErr = fn(uid, bytes.NewReader(early))
		}
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	return fnErr
}

// checkSection accepts the n-th body item of a message only if it is the
// section asked for, once, with a literal.
func checkSection(item imapclient.FetchItemDataBodySection, want *imap.FetchItemBodySection, n int) error {
	got := item.Section
	switch {
	case n > 1:
		return fmt.Errorf("%w: two bodies in one response", errProtocol)
	case got == nil || got.Specifier != imap.PartSpecifierNone || len(got.Part) > 0 ||
		len(got.HeaderFields) > 0 || len(got.HeaderFieldsNot) > 0:
		return fmt.Errorf("%w: got section %s, asked for BODY[]", errProtocol, sectionName(got))
	case (got.Partial == nil) != (want.Partial == nil),
		got.Partial != nil && got.Partial.Offset != want.Partial.Offset:
		return fmt.Errorf("%w: got a different part of the body", errProtocol)
	case item.Literal == nil:
		return fmt.Errorf("%w: body is NIL", errProtocol)
	}
	return nil
}

func sectionName(s *imap.FetchItemBodySection) string {
	if s == nil {
		return "none"
	}
	name := string(s.Specifier)
	for i, p := range s.Part {
		if i > 0 || name != "" {
			name = "." + name
		}
		name = fmt.Sprint(p) + name
	}
	return "BODY[" + name + "]"
}

// fetched is what collect read of one message of a FETCH response.
type fetched struct {
	uid   imap.UID
	size  int64
	date  time.Time
	flags []imap.Flag
	body  []byte // the one body section asked for; nil if none came
}

// maxSmallSection bounds a header section collect takes into memory.
const maxSmallSection = 4 << 20

// collect reads one message of a FETCH response that asked for at most
// one small body section (headers). It is go-imap's Collect without its
// flaw: a literal cut short is an error, and after it the command is left
// alone (the connection is closed; see the top of this file). The caller
// must not touch the command again after an error.
func (cn *conn) collect(msg *imapclient.FetchMessageData) (fetched, error) {
	var f fetched
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			f.uid = item.UID
		case imapclient.FetchItemDataRFC822Size:
			f.size = item.Size
		case imapclient.FetchItemDataInternalDate:
			f.date = item.Time
		case imapclient.FetchItemDataFlags:
			f.flags = item.Flags
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			if item.Literal.Size() > maxSmallSection {
				cn.abandon(item.Literal)
				return f, fmt.Errorf("UID %d: %w: a header section of %d bytes", f.uid, errProtocol, item.Literal.Size())
			}
			lit := &exactReader{lit: item.Literal, left: item.Literal.Size(), progress: func() {}}
			b, _ := io.ReadAll(lit)
			if lit.err != nil {
				cn.close()
				return f, fmt.Errorf("UID %d: %w", f.uid, lit.err)
			}
			f.body = b
		}
	}
	return f, nil
}

// exactReader reads a literal and fails unless it delivers exactly the
// size it announced. After its end it never reads the literal again.
type exactReader struct {
	lit      imap.LiteralReader
	left     int64
	err      error // the literal ended early or its connection failed
	progress func()
}

func (r *exactReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.lit.Read(p)
	r.left -= int64(n)
	if n > 0 {
		r.progress()
	}
	switch {
	case r.left == 0:
		return n, nil
	case err == io.EOF:
		r.err = fmt.Errorf("connection ended inside a literal, %d of %d bytes missing: %w", r.left, r.lit.Size(), io.ErrUnexpectedEOF)
	case err != nil:
		r.err = fmt.Errorf("reading a literal, %d of %d bytes missing: %w", r.left, r.lit.Size(), err)
	}
	if r.err != nil {
		return n, r.err
	}
	return n, nil
}
