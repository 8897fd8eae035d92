package dovecottest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Dial returns a new logged-in connection over plain IMAP, logged out in
// t.Cleanup. Tests use it to watch the server or to act as another client.
func (s *Server) Dial(t TB) *imapclient.Client {
	t.Helper()
	c := s.dial(t)
	t.Cleanup(func() { s.done(c) })
	return c
}

// TLSConfig returns a tls.Config that trusts CAFile, for TLSAddr.
func (s *Server) TLSConfig(t TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("dovecottest: no certificate in %s", s.CAFile)
	}
	return &tls.Config{RootCAs: pool}
}

// dial opens a helper connection; the caller ends it with done.
func (s *Server) dial(t TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, &imapclient.Options{
		Dialer: &net.Dialer{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("dovecottest: dial %s: %v", s.Addr, err)
	}
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		c.Close()
		t.Fatalf("dovecottest: login: %v", err)
	}
	// Marks the session's rawlog, for Commands to leave out.
	if _, err := c.ID(&imap.IDData{Name: helperID}).Wait(); err != nil {
		c.Close()
		t.Fatalf("dovecottest: ID: %v", err)
	}
	return c
}

// done logs out and closes a helper connection.
func (s *Server) done(c *imapclient.Client) {
	c.Logout().Wait()
	c.Close()
}

// selectBox selects mailbox, read-only (EXAMINE) if readOnly.
func (s *Server) selectBox(t TB, c *imapclient.Client, mailbox string, readOnly bool) *imap.SelectData {
	t.Helper()
	data, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		t.Fatalf("dovecottest: select %q: %v", mailbox, err)
	}
	return data
}

// Create creates mailbox (a UTF-8 name; "/" separates hierarchy levels, so
// "Archiv/2024" also makes "Archiv" a parent). "." is not allowed in names.
func (s *Server) Create(t TB, mailbox string) {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		t.Fatalf("dovecottest: create %q: %v", mailbox, err)
	}
}

// Append appends raw to mailbox with INTERNALDATE date and the given flags
// (e.g. `\Seen`, `$Label1`) and returns its UID.
func (s *Server) Append(t TB, mailbox string, raw []byte, date time.Time, flags ...string) uint32 {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	return s.append(t, c, mailbox, raw, date, flags)
}

// AppendMany appends raws to mailbox on one connection, raws[i] with
// INTERNALDATE dates[i], and returns their UIDs: much faster than Append
// for hundreds of messages.
func (s *Server) AppendMany(t TB, mailbox string, raws [][]byte, dates []time.Time) []uint32 {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	uids := make([]uint32, len(raws))
	for i, raw := range raws {
		uids[i] = s.append(t, c, mailbox, raw, dates[i], nil)
	}
	return uids
}

func (s *Server) append(t TB, c *imapclient.Client, mailbox string, raw []byte, date time.Time, flags []string) uint32 {
	t.Helper()
	opts := &imap.AppendOptions{Time: date}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	cmd := c.Append(mailbox, int64(len(raw)), opts)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatalf("dovecottest: append to %q: %v", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("dovecottest: append to %q: %v", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("dovecottest: append to %q: %v", mailbox, err)
	}
	if data.UID == 0 {
		t.Fatalf("dovecottest: append to %q: no APPENDUID in the response", mailbox)
	}
	return uint32(data.UID)
}

// Expunge removes one message behind any client's back (UID EXPUNGE on the
// helper's own connection). It fails the test if there is no such message.
func (s *Server) Expunge(t TB, mailbox string, uid uint32) {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	s.selectBox(t, c, mailbox, false)
	set := imap.UIDSetNum(imap.UID(uid))
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.Store(set, store, nil).Close(); err != nil {
		t.Fatalf("dovecottest: store \\Deleted on %q UID %d: %v", mailbox, uid, err)
	}
	gone, err := c.UIDExpunge(set).Collect()
	if err != nil {
		t.Fatalf("dovecottest: expunge %q UID %d: %v", mailbox, uid, err)
	}
	if len(gone) != 1 {
		t.Fatalf("dovecottest: expunge %q UID %d: no such message", mailbox, uid)
	}
}

// Flags returns the current flags of a message, without \Recent (a session
// flag, not stored). It reads them with EXAMINE, so it changes nothing.
func (s *Server) Flags(t TB, mailbox string, uid uint32) []string {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	s.selectBox(t, c, mailbox, true)
	msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatalf("dovecottest: fetch flags of %q UID %d: %v", mailbox, uid, err)
	}
	if len(msgs) != 1 {
		t.Fatalf("dovecottest: fetch flags of %q UID %d: no such message", mailbox, uid)
	}
	flags := []string{}
	for _, f := range msgs[0].Flags {
		if f != imap.Flag(`\Recent`) {
			flags = append(flags, string(f))
		}
	}
	return flags
}

// Fetch returns the exact bytes the server holds for a message
// (BODY.PEEK[] under EXAMINE, so \Seen stays as it was).
func (s *Server) Fetch(t TB, mailbox string, uid uint32) []byte {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	s.selectBox(t, c, mailbox, true)
	body, ok := s.fetchBody(t, c, uid)
	if !ok {
		t.Fatalf("dovecottest: fetch %q UID %d: no such message", mailbox, uid)
	}
	return body
}

// fetchBody streams BODY.PEEK[] of one message in the selected mailbox.
func (s *Server) fetchBody(t TB, c *imapclient.Client, uid uint32) ([]byte, bool) {
	t.Helper()
	opts := &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	cmd := c.Fetch(imap.UIDSetNum(imap.UID(uid)), opts)
	var body []byte
	found := false
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			sec, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || sec.Literal == nil {
				continue
			}
			b, err := io.ReadAll(sec.Literal)
			if err != nil {
				cmd.Close()
				t.Fatalf("dovecottest: fetch UID %d: %v", uid, err)
			}
			body, found = b, true
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("dovecottest: fetch UID %d: %v", uid, err)
	}
	return body, found
}

// UIDValidity returns the mailbox's UIDVALIDITY (STATUS, which selects
// nothing).
func (s *Server) UIDValidity(t TB, mailbox string) uint32 {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	return s.uidValidity(t, c, mailbox)
}

func (s *Server) uidValidity(t TB, c *imapclient.Client, mailbox string) uint32 {
	t.Helper()
	data, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("dovecottest: status %q: %v", mailbox, err)
	}
	return data.UIDValidity
}

// ResetUIDValidity makes the mailbox's UIDVALIDITY change while keeping its
// messages (bytes, flags and INTERNALDATE), as a server-side restore does,
// and then drops all of User's connections (Kick), as such a restore would.
//
// A mailbox other than INBOX without children is renamed away, created
// anew, refilled in reverse order and the old one deleted, so its UIDs are
// reused for other messages: the message that had the highest UID now has
// UID 1, and a client that ignores UIDVALIDITY shows the wrong messages.
// INBOX (which Dovecot cannot rename) and mailboxes with children (which a
// rename would move along) are refilled in place instead: all messages are
// expunged, the UIDVALIDITY is set with doveadm mailbox update, and the
// messages are appended again in reverse order, with UIDs above the old ones.
//
// The kick is needed: Dovecot does not tell a connection that has the
// mailbox selected that it was renamed away and recreated; it goes on with
// a stale view ("duplicate transaction log sequence" in the log, "* NO
// Internal error" to the client).
func (s *Server) ResetUIDValidity(t TB, mailbox string) {
	t.Helper()
	s.refill(t, mailbox)
	s.Kick(t)
}

// refill does the work of ResetUIDValidity on its own connection.
func (s *Server) refill(t TB, mailbox string) {
	t.Helper()
	c := s.dial(t)
	defer s.done(c)
	children, err := c.List("", mailbox+"/%", nil).Collect()
	if err != nil {
		t.Fatalf("dovecottest: list children of %q: %v", mailbox, err)
	}
	sel := s.selectBox(t, c, mailbox, true)
	old := sel.UIDValidity

	type message struct {
		raw   []byte
		date  time.Time
		flags []string
	}
	var msgs []message
	if sel.NumMessages > 0 {
		opts := &imap.FetchOptions{
			Flags:        true,
			InternalDate: true,
			BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
		}
		cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, opts)
		for m := cmd.Next(); m != nil; m = cmd.Next() {
			buf, err := m.Collect()
			if err != nil {
				cmd.Close()
				t.Fatalf("dovecottest: read %q: %v", mailbox, err)
			}
			msg := message{date: buf.InternalDate}
			for _, f := range buf.Flags {
				if f != imap.Flag(`\Recent`) {
					msg.flags = append(msg.flags, string(f))
				}
			}
			for _, b := range buf.BodySection {
				msg.raw = b.Bytes
			}
			msgs = append(msgs, msg)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("dovecottest: read %q: %v", mailbox, err)
		}
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatalf("dovecottest: unselect %q: %v", mailbox, err)
	}

	renamed := ""
	if strings.EqualFold(mailbox, "INBOX") || len(children) > 0 {
		s.selectBox(t, c, mailbox, false)
		if len(msgs) > 0 {
			all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
			store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
			if err := c.Store(all, store, nil).Close(); err != nil {
				t.Fatalf("dovecottest: store \\Deleted in %q: %v", mailbox, err)
			}
			if err := c.Expunge().Close(); err != nil {
				t.Fatalf("dovecottest: expunge %q: %v", mailbox, err)
			}
		}
		if err := c.Unselect().Wait(); err != nil {
			t.Fatalf("dovecottest: unselect %q: %v", mailbox, err)
		}
		s.setUIDValidity(t, mailbox, old+1)
	} else {
		renamed = fmt.Sprintf("dovecottest-reset-%d", time.Now().UnixNano())
		if err := c.Rename(mailbox, renamed, nil).Wait(); err != nil {
			t.Fatalf("dovecottest: rename %q: %v", mailbox, err)
		}
		if err := c.Create(mailbox, nil).Wait(); err != nil {
			t.Fatalf("dovecottest: create %q: %v", mailbox, err)
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		s.append(t, c, mailbox, msgs[i].raw, msgs[i].date, msgs[i].flags)
	}
	if renamed != "" {
		if err := c.Delete(renamed).Wait(); err != nil {
			t.Fatalf("dovecottest: delete %q: %v", renamed, err)
		}
		// The new mailbox has a new UIDVALIDITY from Dovecot's counter;
		// make sure anyway.
		if s.uidValidity(t, c, mailbox) == old {
			s.setUIDValidity(t, mailbox, old+1)
		}
	}
}

// setUIDValidity sets a mailbox's UIDVALIDITY with doveadm.
func (s *Server) setUIDValidity(t TB, mailbox string, v uint32) {
	t.Helper()
	s.Doveadm(t, "mailbox", "update", "-u", s.User, "--uid-validity", strconv.FormatUint(uint64(v), 10), mailbox)
}
