package pop3

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-message/textproto"

	"mailfs/cache"
	"mailfs/imapsrc"
)

// Folder is the one folder of a POP3 account.
const Folder = "INBOX"

// ErrReadOnly is what every write operation of a POP3 account fails with.
var ErrReadOnly = errors.New("POP3 accounts are read-only")

// idleLimit is how long an unused session stays logged in. Many POP3
// servers lock the maildrop for the length of a session, so that another
// client (a phone) cannot fetch mail meanwhile: sessions are short.
var idleLimit = 20 * time.Second

// Source is a POP3 account as a cache.Source with one folder, INBOX. It
// only ever reads: no write operation is sent, and DELE never (client.send
// refuses it).
type Source struct {
	cfg  imapsrc.Config
	log  *slog.Logger
	uids *uidMap

	sem  chan struct{} // one token per session that may exist
	mu   sync.Mutex    // guards idle and part
	idle []*session    // newest last
	part *partCursor   // a RETR left open between two parts of a big message

	bodyFetches atomic.Int64
	newest      atomic.Uint32 // the highest UIDNEXT a session has listed
}

var _ cache.Source = (*Source)(nil)

// session is one logged-in connection and the maildrop as it listed it:
// POP3 numbers messages per session, and a session sees no message that
// arrived after it began.
type session struct {
	c     *client
	num   map[uint32]int // UID -> message number
	size  map[uint32]int64
	uids  []uint32 // ascending
	valid uint32   // UIDVALIDITY
	next  uint32   // UIDNEXT
	timer *time.Timer
	bad   bool // the connection failed: not to be used again
}

// New checks cfg (as imapsrc does, with POP3's ports 995 and 110) and
// returns a Source that connects when first used. stateDir is the cache
// folder, where the UID map is kept (uids.go).
func New(cfg imapsrc.Config, stateDir string, log *slog.Logger) (*Source, error) {
	if err := cfg.Normalize("995", "110"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: log, uids: newUIDMap(stateDir), sem: make(chan struct{}, cfg.Conns)}, nil
}

// Dial is New followed by one login, so a wrong password or an unreachable
// server is reported before anything is mounted.
func Dial(ctx context.Context, cfg imapsrc.Config, stateDir string, log *slog.Logger) (*Source, error) {
	s, err := New(cfg, stateDir, log)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, &s.cfg)
	if err != nil {
		return nil, err
	}
	c.quit()
	return s, nil
}

// BodyFetches returns how many RETR commands were sent.
func (s *Source) BodyFetches() int64 { return s.bodyFetches.Load() }

// Close ends every idle session.
func (s *Source) Close() error {
	s.mu.Lock()
	idle, part := s.idle, s.part
	s.idle, s.part = nil, nil
	s.mu.Unlock()
	for _, ss := range idle {
		ss.timer.Stop()
		ss.c.quit()
	}
	if part != nil && part.timer.Stop() {
		part.drop(s)
	}
	return nil
}

// get returns a session: the newest idle one, or with fresh a new one (the
// idle ones are ended: they may not show the newest mail). An idle session
// that began before the newest message was seen is ended too: the cache
// may ask about that message (after a Status that listed it), and the old
// session does not have it.
func (s *Source) get(ctx context.Context, fresh bool) (*session, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	var ss *session
	var old, keep []*session
	for _, o := range s.idle {
		if fresh || o.next < s.newest.Load() {
			old = append(old, o)
		} else {
			keep = append(keep, o)
		}
	}
	s.idle = keep
	if n := len(s.idle); n > 0 {
		ss, s.idle = s.idle[n-1], s.idle[:n-1]
		ss.timer.Stop()
	}
	s.mu.Unlock()
	for _, o := range old {
		o.timer.Stop() // its func finds it no longer idle
		o.c.quit()
	}
	if ss != nil {
		return ss, nil
	}
	ss, err := s.open(ctx)
	if err != nil {
		<-s.sem
		return nil, err
	}
	return ss, nil
}

// open logs in and lists the maildrop, giving UIDs to new messages.
func (s *Source) open(ctx context.Context) (*session, error) {
	c, err := dial(ctx, &s.cfg)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.close() })
	defer stop()
	ss, err := s.listed(c)
	if err != nil {
		c.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return ss, nil
}

// listed makes the session of c from its UIDL and LIST.
func (s *Source) listed(c *client) (*session, error) {
	l, err := c.list()
	if err != nil {
		return nil, err
	}
	ss := &session{c: c}
	uids, valid, next, err := s.uids.assign(l.uidl)
	if err != nil {
		return nil, err
	}
	ss.valid, ss.next = valid, next
	for cur := s.newest.Load(); next > cur && !s.newest.CompareAndSwap(cur, next); cur = s.newest.Load() {
	}
	ss.num, ss.size = make(map[uint32]int, len(uids)), make(map[uint32]int64, len(uids))
	for i, uid := range uids {
		if _, dup := ss.num[uid]; dup {
			s.log.Warn("pop3: two messages with one UIDL, showing the first", "uidl", l.uidl[i])
			continue
		}
		ss.num[uid], ss.size[uid] = l.num[i], l.sizes[l.num[i]]
		ss.uids = append(ss.uids, uid)
	}
	sort.Slice(ss.uids, func(i, j int) bool { return ss.uids[i] < ss.uids[j] })
	return ss, nil
}

// put gives a session back; a broken one is closed, an idle one ended
// after idleLimit.
func (s *Source) put(ss *session) {
	if ss.bad {
		ss.c.close()
		<-s.sem
		return
	}
	s.mu.Lock()
	s.idle = append(s.idle, ss)
	ss.timer = time.AfterFunc(idleLimit, func() {
		s.mu.Lock()
		for i, o := range s.idle {
			if o == ss {
				s.idle = append(s.idle[:i], s.idle[i+1:]...)
				s.mu.Unlock()
				ss.c.quit()
				return
			}
		}
		s.mu.Unlock()
	})
	s.mu.Unlock()
	<-s.sem
}

// do runs op on a session. A session whose connection fails is dropped
// and op tried once more on a new one (every op reads, so that is safe).
func (s *Source) do(ctx context.Context, fresh bool, op func(ss *session) error) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var ss *session
		if ss, err = s.get(ctx, fresh || attempt > 0); err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { ss.c.close() })
		err = op(ss)
		stop()
		// Only check's errors leave the connection between two
		// commands; after any other the rest of an answer may be unread.
		early := errors.Is(err, cache.ErrUIDValidity) || errors.Is(err, cache.ErrGone)
		ss.bad = err != nil && !early
		s.put(ss)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil || early || errors.Is(err, errFn) {
			break
		}
		s.log.Warn("pop3: connection lost, retrying", "err", err)
	}
	return err
}

// errFn wraps an error of a callback: the session is fine, and the
// operation is not retried.
var errFn = errors.New("callback failed")

// check refuses a folder other than INBOX and a stale UIDVALIDITY.
func (ss *session) check(folder string, uidValidity uint32) error {
	if folder != Folder {
		return fmt.Errorf("%q: %w (a POP3 account has only %s)", folder, cache.ErrGone, Folder)
	}
	if uidValidity != 0 && uidValidity != ss.valid {
		return fmt.Errorf("%q: %w", folder, cache.ErrUIDValidity)
	}
	return nil
}

// Folders implements cache.Source: INBOX, always.
func (s *Source) Folders(ctx context.Context) ([]cache.FolderInfo, error) {
	return []cache.FolderInfo{{Name: Folder}}, nil
}

// Status implements cache.Source with a new session, so that it sees
// mail that arrived since the last one.
func (s *Source) Status(ctx context.Context, folder string) (cache.Status, error) {
	var st cache.Status
	err := s.do(ctx, true, func(ss *session) error {
		if err := ss.check(folder, 0); err != nil {
			return err
		}
		st = cache.Status{UIDValidity: ss.valid, UIDNext: ss.next, Messages: uint32(len(ss.uids))}
		return nil
	})
	return st, err
}

// Statuses implements cache.Source.
func (s *Source) Statuses(ctx context.Context, folders []string) (map[string]cache.Status, error) {
	out := map[string]cache.Status{}
	for _, f := range folders {
		if f != Folder {
			continue
		}
		st, err := s.Status(ctx, f)
		if err != nil {
			return nil, err
		}
		out[f] = st
	}
	return out, nil
}

// FetchMeta implements cache.Source: sizes from LIST, the rest from the
// header (TOP n 0, pipelined where the server can). POP3 has no
// INTERNALDATE: the date is the message's Date: header (see messageDate).
func (s *Source) FetchMeta(ctx context.Context, folder string, uidValidity, from uint32, fn func(cache.Meta) error) error {
	seen := map[uint32]bool{} // a retry passes on messages again
	return s.do(ctx, false, func(ss *session) error {
		if err := ss.check(folder, uidValidity); err != nil {
			return err
		}
		var want []uint32
		for _, uid := range ss.uids {
			if uid >= from && !seen[uid] {
				want = append(want, uid)
			}
		}
		return ss.headers(want, func(uid uint32, h []byte) error {
			m := cache.Meta{UID: uid, Size: ss.size[uid], Date: messageDate(h)}
			m.Subject, m.MessageID = cache.ParseMetaHeader(h)
			seen[uid] = true
			if err := fn(m); err != nil {
				return fmt.Errorf("%w: %w", errFn, err)
			}
			return nil
		})
	})
}

// maxHeader bounds a header read with TOP: a message whose header is
// bigger is listed with what fits (its subject and ID come first in
// practice, and the body is read whole anyway).
const maxHeader = 1 << 20

// headers sends TOP n 0 for uids and passes each header section (up to
// and including the blank line after it) to fn. Messages the server no
// longer has are left out.
func (ss *session) headers(uids []uint32, fn func(uint32, []byte) error) error {
	cmds := make([]string, len(uids))
	for i, uid := range uids {
		cmds[i] = "TOP " + strconv.Itoa(ss.num[uid]) + " 0"
	}
	return ss.c.multi(cmds, func(i int, body io.Reader, err error) error {
		if err != nil {
			return nil // gone (deleted by another session)
		}
		h, err := io.ReadAll(io.LimitReader(body, maxHeader))
		if err != nil {
			return err
		}
		return fn(uids[i], h)
	})
}

// messageDate is the date of a message: its Date: header, else the date
// of the newest Received: header (the last hop's), else zero (shown as
// 1970). Whole seconds, as IMAP's INTERNALDATE.
func messageDate(h []byte) time.Time {
	th, _ := textproto.ReadHeader(bufio.NewReader(io.MultiReader(bytes.NewReader(h), strings.NewReader("\r\n"))))
	if t, err := mail.ParseDate(strings.TrimSpace(th.Get("Date"))); err == nil {
		return t.Truncate(time.Second)
	}
	if r := th.Get("Received"); r != "" {
		if i := strings.LastIndexByte(r, ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(r[i+1:])); err == nil {
				return t.Truncate(time.Second)
			}
		}
	}
	return time.Time{}
}

// UIDs implements cache.Source.
func (s *Source) UIDs(ctx context.Context, folder string, uidValidity uint32) ([]uint32, error) {
	var out []uint32
	err := s.do(ctx, false, func(ss *session) error {
		if err := ss.check(folder, uidValidity); err != nil {
			return err
		}
		out = append([]uint32(nil), ss.uids...)
		return nil
	})
	return out, err
}

// FetchHeaders implements cache.Source with TOP n 0.
func (s *Source) FetchHeaders(ctx context.Context, folder string, uidValidity uint32, uids []uint32) (map[uint32][]byte, error) {
	out := map[uint32][]byte{}
	err := s.do(ctx, false, func(ss *session) error {
		if err := ss.check(folder, uidValidity); err != nil {
			return err
		}
		return ss.headers(ss.known(uids, nil), func(uid uint32, h []byte) error {
			out[uid] = h
			return nil
		})
	})
	return out, err
}

// known is uids less those the session does not have and those in skip.
func (ss *session) known(uids []uint32, skip map[uint32]bool) []uint32 {
	var out []uint32
	for _, uid := range uids {
		if _, ok := ss.num[uid]; ok && !skip[uid] {
			out = append(out, uid)
		}
	}
	return out
}

// FetchBodies implements cache.Source with one RETR per message, each
// streamed to fn (dot.go: exact bytes, and a cut connection is an error,
// never a short body). After a lost connection only the messages not yet
// delivered are fetched again.
func (s *Source) FetchBodies(ctx context.Context, folder string, uidValidity uint32, uids []uint32, fn func(uint32, io.Reader) error) error {
	done := map[uint32]bool{}
	return s.do(ctx, false, func(ss *session) error {
		if err := ss.check(folder, uidValidity); err != nil {
			return err
		}
		todo := ss.known(uids, done)
		cmds := make([]string, len(todo))
		for i, uid := range todo {
			cmds[i] = "RETR " + strconv.Itoa(ss.num[uid])
			s.log.Debug("fetch body", "folder", folder, "uid", uid)
			s.bodyFetches.Add(1)
		}
		// One command at a time: a body is big, and pipelining gains
		// nothing once the link is busy with one.
		for i, cmd := range cmds {
			if err := ss.c.send(cmd); err != nil {
				return err
			}
			if _, err := ss.c.status("RETR"); err != nil {
				var se *serverError
				if errors.As(err, &se) {
					continue // gone (deleted by another session)
				}
				return err
			}
			d := newDotReader(ss.c.r)
			if err := fn(todo[i], d); err != nil {
				if d.err != nil {
					return d.err // the connection failed under fn
				}
				return fmt.Errorf("%w: %w", errFn, err)
			}
			if err := d.drain(); err != nil {
				return err
			}
			done[todo[i]] = true
		}
		return nil
	})
}

// partCursor is a RETR kept open after a part of a big message, so that
// the next part (cache.PartSize on) continues it instead of fetching the
// message again from its start: POP3 cannot fetch from an offset.
type partCursor struct {
	ss    *session // holds a token of sem while the cursor lives
	uid   uint32
	off   int64 // the next byte d gives
	d     *dotReader
	timer *time.Timer
}

// partWait is how long a cursor waits for its next part before its
// session is closed.
var partWait = 10 * time.Second

// drop ends the cursor's RETR by closing the connection (POP3 cannot stop
// a response) and gives back its token.
func (p *partCursor) drop(s *Source) {
	p.ss.bad = true
	s.put(p.ss)
}

// FetchPart implements cache.Source: bytes [off, off+n) of one body. A
// part that continues the previous one reads on in its RETR; another one
// sends RETR and skips off bytes.
func (s *Source) FetchPart(ctx context.Context, folder string, uidValidity, uid uint32, off, n int64, w io.Writer) (int64, error) {
	s.mu.Lock()
	p := s.part
	if p != nil && p.uid == uid && p.off == off && p.timer.Stop() {
		s.part = nil
	} else {
		p = nil
	}
	s.mu.Unlock()
	if p == nil {
		var err error
		if p, err = s.startPart(ctx, folder, uidValidity, uid, off); p == nil {
			return 0, err
		}
	}
	stop := context.AfterFunc(ctx, func() { p.ss.c.close() })
	got, err := io.CopyN(w, p.d, n)
	stop()
	switch {
	case errors.Is(err, io.EOF):
		s.put(p.ss) // the message ended: the session is ready again
		return got, nil
	case err != nil:
		p.drop(s)
		if ctx.Err() != nil {
			return got, ctx.Err()
		}
		return got, err
	}
	p.off += got
	p.timer = time.AfterFunc(partWait, func() {
		s.mu.Lock()
		mine := s.part == p
		if mine {
			s.part = nil
		}
		s.mu.Unlock()
		if mine {
			p.drop(s)
		}
	})
	s.mu.Lock()
	old := s.part
	s.part = p
	s.mu.Unlock()
	if old != nil && old.timer.Stop() {
		old.drop(s)
	}
	return got, nil
}

// startPart sends RETR for uid and skips off bytes of it. It returns nil
// (and the session back in the pool) when that failed, or when the message
// ends before off (an empty part: nil error).
func (s *Source) startPart(ctx context.Context, folder string, uidValidity, uid uint32, off int64) (*partCursor, error) {
	ss, err := s.get(ctx, false)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ss.c.close() })
	defer stop()
	fail := func(err error) (*partCursor, error) {
		s.put(ss)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := ss.check(folder, uidValidity); err != nil {
		return fail(err)
	}
	num, ok := ss.num[uid]
	if !ok {
		return fail(fmt.Errorf("UID %d: %w", uid, cache.ErrGone))
	}
	s.bodyFetches.Add(1)
	if _, err := ss.c.cmd("RETR " + strconv.Itoa(num)); err != nil {
		var se *serverError
		if errors.As(err, &se) {
			return fail(fmt.Errorf("UID %d: %w (%s)", uid, cache.ErrGone, se.text))
		}
		ss.bad = true
		return fail(err)
	}
	d := newDotReader(ss.c.r)
	if _, err := io.CopyN(io.Discard, d, off); err != nil {
		if !errors.Is(err, io.EOF) {
			ss.bad = true
			return fail(err)
		}
		return fail(nil) // shorter than off: the response was read to its end
	}
	return &partCursor{ss: ss, uid: uid, off: off, d: d}, nil
}

// FetchFlags implements cache.Source: POP3 has no flags.
func (s *Source) FetchFlags(ctx context.Context, folder string, uidValidity uint32, changedSince uint64, fn func(uint32, []string)) error {
	return nil
}

// The write operations of cache.Source all fail: POP3 can only read (and
// delete, which mailfs never does).

func (s *Source) Append(ctx context.Context, folder string, r io.Reader, size int64, date time.Time, flags []string) (uint32, uint32, error) {
	return 0, 0, ErrReadOnly
}

func (s *Source) StoreFlags(ctx context.Context, folder string, uidValidity uint32, uids []uint32, add bool, flags []string) error {
	return ErrReadOnly
}

func (s *Source) CreateFolder(ctx context.Context, name string) error { return ErrReadOnly }

func (s *Source) Expunge(ctx context.Context, folder string, uidValidity, uid uint32) error {
	return ErrReadOnly
}

func (s *Source) DeleteFolder(ctx context.Context, name string) error { return ErrReadOnly }

func (s *Source) Move(ctx context.Context, folder string, uidValidity, uid uint32, to string) error {
	return ErrReadOnly
}

func (s *Source) RenameFolder(ctx context.Context, name, to string) error { return ErrReadOnly }
