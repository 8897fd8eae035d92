package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailfs/imapsrc/dovecottest"
)

// Seeding writes maildir files straight into the server's Maildir and then
// runs `doveadm force-resync`, which indexes 5,000 messages in about a
// second; IMAP APPEND would take far longer. Only the few messages added
// during the run (incremental, memory) go through APPEND.

// corpusStats summarises what was seeded.
type corpusStats struct {
	messages int
	bytes    int64
	largest  int64
	perDir   map[string]int
}

// maildirPath returns the Maildir++ folder of a mailbox: INBOX is the
// Maildir itself, "A/B" is ".A.B" with names in modified UTF-7.
func maildirPath(root, mailbox string) string {
	if mailbox == "INBOX" {
		return root
	}
	parts := strings.Split(mailbox, "/")
	for i, p := range parts {
		parts[i] = encodeMUTF7(p)
	}
	return filepath.Join(root, "."+strings.Join(parts, "."))
}

// encodeMUTF7 encodes a mailbox name in IMAP's modified UTF-7 (RFC 3501
// 5.1.3).
func encodeMUTF7(s string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		u := utf16.Encode(run)
		buf := make([]byte, 0, 2*len(u))
		for _, c := range u {
			buf = append(buf, byte(c>>8), byte(c))
		}
		enc := base64.StdEncoding.WithPadding(base64.NoPadding).EncodeToString(buf)
		b.WriteString("&" + strings.ReplaceAll(enc, "/", ",") + "-")
		run = run[:0]
	}
	for _, c := range s {
		if c >= 0x20 && c <= 0x7e {
			flush()
			if c == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(c)
			}
		} else {
			run = append(run, c)
		}
	}
	flush()
	return b.String()
}

// maildirWriter writes messages as maildir files owned by the mail user.
type maildirWriter struct {
	root     string
	uid, gid int
	made     map[string]bool
	seq      int
}

func newMaildirWriter(srv *dovecottest.Server) (*maildirWriter, error) {
	uid, gid := srv.MailOwner()
	w := &maildirWriter{root: srv.MailDir(), uid: uid, gid: gid, made: map[string]bool{}}
	return w, w.mkdir("INBOX")
}

func (w *maildirWriter) mkdir(mailbox string) error {
	dir := maildirPath(w.root, mailbox)
	if w.made[dir] {
		return nil
	}
	for _, d := range []string{w.root, dir, dir + "/cur", dir + "/new", dir + "/tmp"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		if err := os.Chown(d, w.uid, w.gid); err != nil {
			return err
		}
	}
	if mailbox != "INBOX" {
		mf := filepath.Join(dir, "maildirfolder")
		if err := os.WriteFile(mf, nil, 0o600); err != nil {
			return err
		}
		os.Chown(mf, w.uid, w.gid)
	}
	w.made[dir] = true
	return nil
}

// write stores m in its folder's cur/ with its INTERNALDATE as mtime. The
// name carries the size (S=, and W= which equals it: the files have CRLF
// line ends already) and the flags; names sort by date, so Dovecot gives
// UIDs in date order.
func (w *maildirWriter) write(m message) error {
	if err := w.mkdir(m.folder); err != nil {
		return err
	}
	w.seq++
	name := fmt.Sprintf("%d.M%06dP1.bench,S=%d,W=%d:2,%s", m.date.Unix(), w.seq, len(m.raw), len(m.raw), m.flags)
	path := filepath.Join(maildirPath(w.root, m.folder), "cur", name)
	if err := os.WriteFile(path, m.raw, 0o600); err != nil {
		return err
	}
	if err := os.Chown(path, w.uid, w.gid); err != nil {
		return err
	}
	return os.Chtimes(path, m.date, m.date)
}

// seedCorpus writes n messages and indexes them.
func seedCorpus(srv *dovecottest.Server, c *corpus) (corpusStats, error) {
	w, err := newMaildirWriter(srv)
	if err != nil {
		return corpusStats{}, err
	}
	st := corpusStats{perDir: map[string]int{}}
	for _, f := range folders {
		if err := w.mkdir(f.name); err != nil {
			return st, err
		}
	}
	for i := 0; i < c.n; i++ {
		m := c.Message(i)
		if err := w.write(m); err != nil {
			return st, err
		}
		st.messages++
		st.bytes += int64(len(m.raw))
		st.largest = max(st.largest, int64(len(m.raw)))
		st.perDir[m.folder]++
		if (i+1)%1000 == 0 {
			progress("  wrote %d/%d messages (%s)", i+1, c.n, mb(st.bytes))
		}
	}
	_, err = srv.RunDoveadm("force-resync", "-u", srv.User, "*")
	return st, err
}

// seedBig writes the big folder of n small messages and indexes it.
func seedBig(srv *dovecottest.Server, c *corpus, n int) (int64, error) {
	w, err := newMaildirWriter(srv)
	if err != nil {
		return 0, err
	}
	var total int64
	for i := 0; i < n; i++ {
		m := c.Small(i)
		if err := w.write(m); err != nil {
			return total, err
		}
		total += int64(len(m.raw))
		if (i+1)%20000 == 0 {
			progress("  wrote %d/%d messages of Big", i+1, n)
		}
	}
	_, err = srv.RunDoveadm("force-resync", "-u", srv.User, "Big")
	return total, err
}

// dial returns a logged-in IMAP client on srv's plain listener (or addr).
func dial(srv *dovecottest.Server) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(srv.Addr, &imapclient.Options{Dialer: &net.Dialer{Timeout: 5 * time.Second}})
	if err != nil {
		return nil, err
	}
	if err := c.Login(srv.User, srv.Password).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func logout(c *imapclient.Client) {
	c.Logout().Wait()
	c.Close()
}

// appendMessages APPENDs messages (creating their folder if needed).
func appendMessages(srv *dovecottest.Server, msgs []message) error {
	c, err := dial(srv)
	if err != nil {
		return err
	}
	defer logout(c)
	created := map[string]bool{}
	for _, m := range msgs {
		if m.folder != "INBOX" && !created[m.folder] {
			c.Create(m.folder, nil).Wait() // exists already: fine
			created[m.folder] = true
		}
		opts := &imap.AppendOptions{Time: m.date}
		for _, f := range m.flags {
			switch f {
			case 'S':
				opts.Flags = append(opts.Flags, imap.FlagSeen)
			case 'F':
				opts.Flags = append(opts.Flags, imap.FlagFlagged)
			case 'R':
				opts.Flags = append(opts.Flags, imap.FlagAnswered)
			}
		}
		cmd := c.Append(m.folder, int64(len(m.raw)), opts)
		if _, err := cmd.Write(m.raw); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append to %q: %w", m.folder, err)
		}
	}
	return nil
}

// metaFetch runs the cold-ls peer: EXAMINE mailbox and one
// `UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`, reading
// every response, on an already logged-in connection. It returns the
// number of messages.
func metaFetch(c *imapclient.Client, mailbox string) (int, error) {
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, err
	}
	cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
	})
	n := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		if _, err := msg.Collect(); err != nil {
			cmd.Close()
			return n, err
		}
		n++
	}
	if err := cmd.Close(); err != nil {
		return n, err
	}
	return n, c.Unselect().Wait()
}

// prime asks Dovecot once for what mailfs and the peers ask, folder by
// folder, so that no timed run pays for building Dovecot's header cache.
func prime(srv *dovecottest.Server, mailboxes []string) error {
	c, err := dial(srv)
	if err != nil {
		return err
	}
	defer logout(c)
	for _, mb := range mailboxes {
		if _, err := metaFetch(c, mb); err != nil {
			return fmt.Errorf("prime %q: %w", mb, err)
		}
		if _, err := c.Select(mb, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return err
		}
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "Message-ID"}, Peek: true}
		err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
			UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Close()
		if err != nil {
			return fmt.Errorf("prime %q: %w", mb, err)
		}
		if err := c.Unselect().Wait(); err != nil {
			return err
		}
	}
	return nil
}
