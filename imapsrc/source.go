package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-message/charset" // decode subjects in every charset people send

	"mailfs/cache"
)

var errUIDValidity = cache.ErrUIDValidity

// Source is a pool of IMAP connections to one account. It implements
// cache.Source and, but for APPEND and CREATE (append.go, sent only for a
// writable mount), only ever reads: mailboxes are opened with EXAMINE and
// bodies fetched with BODY.PEEK[], so flags never change.
type Source struct {
	cfg Config
	log *slog.Logger

	sem  chan struct{} // one token per connection that may exist
	mu   sync.Mutex    // guards idle
	idle []*conn

	bodyFetches atomic.Int64 // BODY.PEEK[] commands sent, for tests and stats
	skips       skips        // responses go-imap cannot read, left out (skip.go)
}

var _ cache.Source = (*Source)(nil)

// New checks the configuration and returns a Source that connects when
// first used (and again whenever a connection is lost).
func New(cfg Config, log *slog.Logger) (*Source, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: log, sem: make(chan struct{}, cfg.Conns)}, nil
}

// Dial is New followed by one login, so a wrong password or an unreachable
// server is reported before anything is mounted.
func Dial(ctx context.Context, cfg Config, log *slog.Logger) (*Source, error) {
	s, err := New(cfg, log)
	if err != nil {
		return nil, err
	}
	cn, err := s.get(ctx, "")
	if err != nil {
		return nil, err
	}
	s.put(cn)
	return s, nil
}

// BodyFetches returns how many message bodies were requested from the server.
func (s *Source) BodyFetches() int64 { return s.bodyFetches.Load() }

// Close logs out every idle connection.
func (s *Source) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, cn := range idle {
		cn.c.Logout().Wait()
		cn.close()
	}
	return nil
}

// get takes an idle connection, preferring one that has folder selected
// (an EXAMINE saved), or dials a new one.
func (s *Source) get(ctx context.Context, folder string) (*conn, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	for len(s.idle) > 0 {
		i := len(s.idle) - 1
		for j, cn := range s.idle {
			if folder != "" && cn.selected == folder {
				i = j
			}
		}
		cn := s.idle[i]
		s.idle = append(s.idle[:i], s.idle[i+1:]...)
		if !cn.broken() {
			s.mu.Unlock()
			return cn, nil
		}
		cn.close()
	}
	s.mu.Unlock()
	cn, err := dial(ctx, &s.cfg)
	if err != nil {
		<-s.sem
		return nil, err
	}
	return cn, nil
}

func (s *Source) put(cn *conn) {
	if cn.broken() {
		cn.close()
	} else {
		s.mu.Lock()
		s.idle = append(s.idle, cn)
		s.mu.Unlock()
	}
	<-s.sem
}

// do runs op on a pooled connection. A connection that breaks (server
// restart, kick, unparsable response) is dropped and op is retried once on a
// fresh one: every op here is a read, so a retry is safe.
func (s *Source) do(ctx context.Context, what, folder string, op func(cn *conn) error) error {
	return s.run(ctx, what, folder, 2, op)
}

// Folders implements cache.Source. A folder the server lists in a form
// that cannot be read or used (a name that is not modified UTF-7, an empty
// name) is left out and reported once; see skip.go.
func (s *Source) Folders(ctx context.Context) ([]cache.FolderInfo, error) {
	var list []*imap.ListData
	var err error
	if !s.skips.hasList() {
		// One try: if the connection breaks, the framed try is the retry.
		err = s.run(ctx, "list", "", 1, func(cn *conn) error {
			var lerr error
			list, lerr = cn.c.List("", "*", nil).Collect()
			return lerr
		})
	}
	if s.skips.hasList() || brokeConn(ctx, err) {
		list, err = s.listSkipping(ctx)
	}
	if err != nil {
		return nil, err
	}
	var out []cache.FolderInfo
folders:
	for _, l := range list {
		if l.Mailbox == "" {
			if s.skips.reportName("") {
				s.log.Warn("list: skipping a folder with an empty name", "attrs", l.Attrs)
			}
			continue
		}
		fi := cache.FolderInfo{Name: l.Mailbox, Delim: l.Delim}
		for _, a := range l.Attrs {
			if a == imap.MailboxAttrNoSelect || a == imap.MailboxAttrNonExistent {
				fi.NoSelect = true
			}
			for _, hide := range s.cfg.HideSpecialUse {
				if strings.EqualFold(string(a), hide) {
					continue folders
				}
			}
		}
		if !s.cfg.Filter.Folder(l.Mailbox, l.Delim) {
			continue // parents of wanted folders still appear as directories
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Status implements cache.Source.
func (s *Source) Status(ctx context.Context, folder string) (cache.Status, error) {
	var st cache.Status
	err := s.do(ctx, "status", "", func(cn *conn) error {
		noop := cn.refresh()
		data, err := cn.c.Status(folder, cn.statusOptions()).Wait()
		if err == nil {
			err = noop()
		}
		if err != nil {
			return mapNo(err, folder)
		}
		st = statusOf(data)
		return nil
	})
	return st, err
}

// Statuses implements cache.Source: one STATUS per folder, all sent before
// the first answer is awaited.
func (s *Source) Statuses(ctx context.Context, folders []string) (map[string]cache.Status, error) {
	out := map[string]cache.Status{}
	err := s.do(ctx, "status", "", func(cn *conn) error {
		noop := cn.refresh()
		cmds := make([]*imapclient.StatusCommand, len(folders))
		for i, f := range folders {
			cmds[i] = cn.c.Status(f, cn.statusOptions())
		}
		for i, cmd := range cmds {
			data, err := cmd.Wait()
			if err != nil {
				if cn.broken() {
					return err
				}
				continue // this folder is asked about on its own
			}
			out[folders[i]] = statusOf(data)
		}
		return noop()
	})
	return out, err
}

// statusOptions asks for the counters, and for HIGHESTMODSEQ where the
// server has CONDSTORE: it tells when flags changed.
func (cn *conn) statusOptions() *imap.StatusOptions {
	return &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, HighestModSeq: cn.c.Caps().Has(imap.CapCondStore)}
}

func statusOf(data *imap.StatusData) cache.Status {
	st := cache.Status{UIDValidity: data.UIDValidity, UIDNext: uint32(data.UIDNext), HighestModSeq: data.HighestModSeq}
	if data.NumMessages != nil {
		st.Messages = *data.NumMessages
	}
	return st
}

// metaHeaders are the only header fields fetched for listing.
var metaHeaders = []string{"Subject", "Message-ID"}

// FetchMeta implements cache.Source with one pipelined UID FETCH. A
// message the server describes in a form that cannot be read (an
// RFC822.SIZE of -5, an INTERNALDATE that is no date) is left out and
// reported once; see skip.go.
func (s *Source) FetchMeta(ctx context.Context, folder string, uidValidity, from uint32, fn func(cache.Meta) error) error {
	if from == 0 {
		from = 1
	}
	seen := map[uint32]bool{} // a retry passes on messages again
	var fnErr error
	op := func(cn *conn) error {
		return s.fetchMeta(cn, folder, uidValidity, from, func(m cache.Meta) {
			if fnErr == nil && !seen[m.UID] {
				seen[m.UID] = true
				fnErr = fn(m)
			}
		})
	}
	var err error
	if !s.skips.fetchWithoutUID(folder, uidValidity) {
		err = s.run(ctx, "fetch meta", folder, 1, op) // the framed try is the retry
		if fnErr != nil {
			return fnErr
		}
		if !brokeConn(ctx, err) {
			return err
		}
	}
	err = s.fetchMetaSkipping(ctx, folder, uidValidity, op)
	if fnErr != nil {
		return fnErr
	}
	return err
}

// fetchMeta is one try of FetchMeta on cn, passing each message to fn.
// Messages known to be unreadable are not asked for.
func (s *Source) fetchMeta(cn *conn, folder string, uidValidity, from uint32, fn func(cache.Meta)) error {
	if err := cn.examineFresh(folder, uidValidity); err != nil {
		return err
	}
	skip := s.skips.badUIDs(folder, uidValidity)
	set := uidsFrom(from, skip)
	if len(set) == 0 {
		return nil
	}
	if s.cfg.Filter.HasDates() {
		uids, err := s.search(cn, set)
		uids = without(uids, skip)
		if err != nil || len(uids) == 0 {
			return err
		}
		set = imap.UIDSetNum(uids...)
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: metaHeaders, Peek: true}
	cmd := cn.c.Fetch(set, &imap.FetchOptions{
		UID: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	// Only a message not seen before is progress, so a server that
	// repeats a response or floods "* N EXISTS" forever is cut off.
	cn.usefulOnly(true)
	defer cn.usefulOnly(false)
	got := map[imap.UID]bool{}
	// A message is passed on once the next one has come or the command
	// completed: when go-imap gives up on a response it still hands on
	// the items read so far, so the last message may be cut short.
	var held *cache.Meta
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := cn.collect(msg)
		if err != nil {
			return err // the command is not to be touched again
		}
		if !got[buf.uid] {
			got[buf.uid] = true
			cn.progress()
		}
		// "from:*" also matches the highest UID when it is below from.
		if uint32(buf.uid) < from {
			continue
		}
		if held != nil {
			fn(*held)
		}
		m := cache.Meta{UID: uint32(buf.uid), Size: buf.size, Date: buf.date}
		m.Subject, m.MessageID = cache.ParseMetaHeader(buf.body)
		held = &m
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	if held != nil {
		fn(*held)
	}
	return nil
}

// UIDs implements cache.Source.
func (s *Source) UIDs(ctx context.Context, folder string, uidValidity uint32) ([]uint32, error) {
	var out []uint32
	err := s.do(ctx, "search", folder, func(cn *conn) error {
		if err := cn.examineFresh(folder, uidValidity); err != nil {
			return err
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		uids, err := s.search(cn, all)
		out = out[:0]
		for _, u := range uids {
			out = append(out, uint32(u))
		}
		return err
	})
	return out, err
}

// search lists the UIDs in set that the filter's dates admit.
func (s *Source) search(cn *conn, set imap.UIDSet) ([]imap.UID, error) {
	crit := s.cfg.Filter.SearchCriteria()
	crit.UID = []imap.UIDSet{set}
	data, err := cn.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, err
	}
	return data.AllUIDs(), nil
}

// mapNo turns a server's NO for a missing mailbox into cache.ErrGone.
func mapNo(err error, folder string) error {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo &&
		(ie.Code == imap.ResponseCodeNonExistent || ie.Code == "") {
		return fmt.Errorf("%q: %w (%s)", folder, cache.ErrGone, ie.Text)
	}
	return err
}
