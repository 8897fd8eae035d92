package pop3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

// seedDovecot starts Dovecot with POP3 and appends the sample INBOX, a
// message full of dot lines and a big one; it returns the IMAP UIDs in
// append order, which is POP3's order too.
func seedDovecot(t *testing.T) (*dovecottest.Server, []uint32) {
	srv := dovecottest.StartWith(t, dovecottest.Options{POP3: true})
	var uids []uint32
	for _, m := range sample.Messages() {
		if m.Folder == "INBOX" {
			uids = append(uids, srv.Append(t, "INBOX", m.Raw, m.Date, m.Flags...))
		}
	}
	dots := "Subject: dots\r\nMessage-ID: <dots@example.org>\r\nDate: Tue, 3 Jan 2006 10:00:00 +0100\r\n\r\n.\r\n..\r\n.x\r\n. \r\nend\r\n"
	uids = append(uids, srv.Append(t, "INBOX", []byte(dots), time.Now(), `\Seen`))
	big := sample.Big(3 << 20)
	uids = append(uids, srv.Append(t, "INBOX", big.Raw, big.Date))
	return srv, uids
}

func dovecotConfig(srv *dovecottest.Server, tls imapsrc.TLSMode) imapsrc.Config {
	return imapsrc.Config{Addr: srv.POP3Addr, TLS: tls, CAFile: srv.CAFile, User: srv.User, Password: srv.Password, Conns: 2}
}

// Every message read over POP3 (RETR, and in parts) is byte for byte what
// IMAP gives for it, LIST's sizes are exact, and nothing on the server
// changed: no message gone, no flag changed, no DELE sent.
func TestDovecotSameBytesAsIMAP(t *testing.T) {
	srv, imapUIDs := seedDovecot(t)
	flagsBefore := map[uint32]string{}
	for _, u := range imapUIDs {
		flagsBefore[u] = fmt.Sprint(withoutSeen(srv.Flags(t, "INBOX", u)))
	}
	for _, mode := range []imapsrc.TLSMode{imapsrc.TLSStartTLS, imapsrc.TLSNone} {
		t.Run(string(mode), func(t *testing.T) {
			ctx := context.Background()
			s, err := Dial(ctx, dovecotConfig(srv, mode), t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st, err := s.Status(ctx, Folder)
			if err != nil {
				t.Fatal(err)
			}
			if int(st.Messages) != len(imapUIDs) || st.UIDNext != uint32(len(imapUIDs))+1 {
				t.Fatalf("status %+v for %d messages", st, len(imapUIDs))
			}
			var metas []cache.Meta
			if err := s.FetchMeta(ctx, Folder, st.UIDValidity, 1, func(m cache.Meta) error { metas = append(metas, m); return nil }); err != nil {
				t.Fatal(err)
			}
			uids := make([]uint32, len(metas))
			for i, m := range metas {
				uids[i] = m.UID
			}
			bodies := map[uint32][]byte{}
			err = s.FetchBodies(ctx, Folder, st.UIDValidity, uids, func(uid uint32, r io.Reader) error {
				b, err := io.ReadAll(r)
				bodies[uid] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range metas {
				want := srv.Fetch(t, "INBOX", imapUIDs[i])
				got := bodies[m.UID]
				if !bytes.Equal(got, want) {
					t.Errorf("message %d (%q): POP3 gave %d bytes, IMAP %d; equal: %v", i+1, m.Subject, len(got), len(want), bytes.Equal(got, want))
				}
				if m.Size != int64(len(want)) {
					t.Errorf("message %d: LIST size %d, body %d", i+1, m.Size, len(want))
				}
				h, _, _ := bytes.Cut(want, []byte("\r\n\r\n"))
				if subj, id := cache.ParseMetaHeader(h); m.Subject != subj || m.MessageID != id {
					t.Errorf("message %d: meta %q %q, want %q %q", i+1, m.Subject, m.MessageID, subj, id)
				}
			}
			if d := metas[len(metas)-2].Date; !d.Equal(time.Date(2006, 1, 3, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("date of the dots message = %v, want its Date: header", d)
			}
			// The big one in parts, across part boundaries.
			last := metas[len(metas)-1]
			var parts bytes.Buffer
			for off := int64(0); ; {
				n, err := s.FetchPart(ctx, Folder, st.UIDValidity, last.UID, off, 1<<20, &parts)
				if err != nil {
					t.Fatal(err)
				}
				if off += n; n < 1<<20 {
					break
				}
			}
			if !bytes.Equal(parts.Bytes(), bodies[last.UID]) {
				t.Errorf("the big message in parts: %d bytes, whole %d", parts.Len(), len(bodies[last.UID]))
			}
			hs, err := s.FetchHeaders(ctx, Folder, st.UIDValidity, uids[:1])
			if want := srv.Fetch(t, "INBOX", imapUIDs[0]); err != nil || !bytes.HasPrefix(want, hs[uids[0]]) || !bytes.HasSuffix(hs[uids[0]], []byte("\r\n\r\n")) {
				t.Errorf("header section %q, %v", hs[uids[0]], err)
			}
		})
	}
	if got := strings.Count(srv.Doveadm(t, "search", "-u", srv.User, "mailbox", "INBOX", "all"), "\n"); got != len(imapUIDs) {
		t.Errorf("%d messages on the server after reading, %d before", got, len(imapUIDs))
	}
	// Dovecot marks a message \Seen once a POP3 client retrieved it (unless
	// pop3_no_flag_updates is set), with or without QUIT: that is the
	// server's doing, and the README says so. No other flag changes.
	for _, u := range imapUIDs {
		if got := fmt.Sprint(withoutSeen(srv.Flags(t, "INBOX", u))); got != flagsBefore[u] {
			t.Errorf("IMAP UID %d: flags %s after reading by POP3, before %s", u, got, flagsBefore[u])
		}
	}
	cmds := srv.POP3Commands(t)
	retr := 0
	for _, c := range cmds {
		if strings.HasPrefix(strings.ToUpper(c), "DELE") {
			t.Errorf("sent %q", c)
		}
		if strings.HasPrefix(c, "RETR") {
			retr++
		}
	}
	if retr == 0 {
		t.Fatalf("no RETR in the POP3 rawlog (%d commands): the test checks nothing", len(cmds))
	}
}

func TestDovecotLogins(t *testing.T) {
	srv := dovecottest.StartWith(t, dovecottest.Options{POP3: true})
	ctx := context.Background()
	for _, user := range []bool{false, true} {
		forceUSER = user
		s, err := Dial(ctx, dovecotConfig(srv, imapsrc.TLSStartTLS), t.TempDir(), nil)
		if err != nil {
			t.Errorf("USER %v: %v", user, err)
		} else {
			s.Close()
		}
		cfg := dovecotConfig(srv, imapsrc.TLSStartTLS)
		cfg.Password = "wrong"
		_, err = Dial(ctx, cfg, t.TempDir(), nil)
		if !errors.Is(err, imapsrc.ErrAuth) || strings.Contains(err.Error(), "\n") {
			t.Errorf("USER %v, wrong password: %v", user, err)
		}
	}
	forceUSER = false
	// Without the CA, the self-signed certificate is refused.
	cfg := dovecotConfig(srv, imapsrc.TLSStartTLS)
	cfg.CAFile = ""
	if _, err := Dial(ctx, cfg, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unverified certificate: %v", err)
	}
	// No password in the clear off loopback.
	cfg = dovecotConfig(srv, imapsrc.TLSNone)
	cfg.Addr = "192.0.2.1:110"
	if _, err := New(cfg, t.TempDir(), nil); err == nil {
		t.Error("TLS none to a remote server was accepted")
	}
}

func withoutSeen(flags []string) []string {
	var out []string
	for _, f := range flags {
		if f != `\Seen` {
			out = append(out, f)
		}
	}
	return out
}
