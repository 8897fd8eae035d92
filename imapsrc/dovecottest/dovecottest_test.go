package dovecottest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

var (
	msg1 = []byte("From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\nMessage-ID: <1@example.org>\r\n\r\nHallo Alice,\r\nbis bald.\r\n")
	msg2 = []byte("From: Carol <carol@example.org>\r\nSubject: second\r\nMessage-ID: <2@example.org>\r\n" +
		"Content-Type: text/plain\r\n\r\nline without final newline")
	date1 = time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	date2 = time.Date(2024, 2, 29, 23, 59, 58, 0, time.FixedZone("", 2*3600))
)

func TestServer(t *testing.T) {
	s := Start(t)
	s.Create(t, "Entwürfe")
	s.Create(t, "Archiv/2024")

	c := s.Dial(t)
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range boxes {
		names = append(names, b.Mailbox)
		if b.Delim != '/' {
			t.Errorf("%q: delimiter %q, want /", b.Mailbox, b.Delim)
		}
	}
	for _, want := range []string{"INBOX", "Entwürfe", "Archiv", "Archiv/2024"} {
		if !slices.Contains(names, want) {
			t.Errorf("LIST has %q, want %q among them", names, want)
		}
	}

	uid1 := s.Append(t, "Entwürfe", msg1, date1)
	uid2 := s.Append(t, "Entwürfe", msg2, date2, `\Flagged`, "$Label1")
	if uid1 != 1 || uid2 != 2 {
		t.Errorf("UIDs %d, %d; want 1, 2", uid1, uid2)
	}
	if got := s.Fetch(t, "Entwürfe", uid1); !bytes.Equal(got, msg1) {
		t.Errorf("Fetch = %q, want %q", got, msg1)
	}
	if got := s.Fetch(t, "Entwürfe", uid2); !bytes.Equal(got, msg2) {
		t.Errorf("Fetch = %q, want %q", got, msg2)
	}
	if got := s.Flags(t, "Entwürfe", uid1); len(got) != 0 {
		t.Errorf("flags after Fetch = %q, want none (BODY.PEEK)", got)
	}
	got := s.Flags(t, "Entwürfe", uid2)
	slices.Sort(got)
	if want := []string{"$Label1", `\Flagged`}; !slices.Equal(got, want) {
		t.Errorf("flags = %q, want %q", got, want)
	}
	if dates := internalDates(t, c, "Entwürfe"); !dates[uid1].Equal(date1) || !dates[uid2].Equal(date2) {
		t.Errorf("INTERNALDATEs %v, want %v and %v", dates, date1, date2)
	}

	s.Expunge(t, "Entwürfe", uid1)
	if dates := internalDates(t, c, "Entwürfe"); len(dates) != 1 || dates[uid2].IsZero() {
		t.Errorf("after Expunge of %d: UIDs %v, want only %d", uid1, dates, uid2)
	}
}

// internalDates selects mailbox on c and returns its messages' INTERNALDATEs
// by UID.
func internalDates(t *testing.T, c *imapclient.Client, mailbox string) map[uint32]time.Time {
	t.Helper()
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{InternalDate: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	dates := map[uint32]time.Time{}
	for _, m := range msgs {
		dates[uint32(m.UID)] = m.InternalDate
	}
	return dates
}

func TestResetUIDValidity(t *testing.T) {
	s := Start(t)
	for _, box := range []string{"Archiv/2024", "INBOX"} {
		t.Run(strings.ReplaceAll(box, "/", "_"), func(t *testing.T) {
			if box != "INBOX" {
				s.Create(t, box)
			}
			uid1 := s.Append(t, box, msg1, date1, `\Seen`)
			uid2 := s.Append(t, box, msg2, date2, `\Answered`)
			watcher := s.Dial(t)
			if _, err := watcher.Select(box, nil).Wait(); err != nil {
				t.Fatal(err)
			}
			before := s.UIDValidity(t, box)

			s.ResetUIDValidity(t, box)

			after := s.UIDValidity(t, box)
			if after == before {
				t.Fatalf("UIDVALIDITY still %d", after)
			}
			// The selected connection must not go on as if nothing happened.
			select {
			case <-watcher.Closed():
			case <-time.After(5 * time.Second):
				t.Errorf("connection with the mailbox selected still open 5 s after the reset")
			}
			c := s.Dial(t)
			if _, err := c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				t.Fatal(err)
			}
			msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{
				Flags: true, InternalDate: true,
			}).Collect()
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 2 {
				t.Fatalf("%d messages after reset, want 2", len(msgs))
			}
			// Reverse order: the message that had uid2 comes first.
			first, second := uint32(msgs[0].UID), uint32(msgs[1].UID)
			if !bytes.Equal(s.Fetch(t, box, first), msg2) || !bytes.Equal(s.Fetch(t, box, second), msg1) {
				t.Errorf("messages not kept in reverse order")
			}
			if box != "INBOX" && (first != uid1 || second != uid2) {
				t.Errorf("UIDs after reset %d, %d; want %d, %d (reused for other messages)", first, second, uid1, uid2)
			}
			if !msgs[0].InternalDate.Equal(date2) || !msgs[1].InternalDate.Equal(date1) {
				t.Errorf("INTERNALDATEs %v, %v not kept", msgs[0].InternalDate, msgs[1].InternalDate)
			}
			if f := s.Flags(t, box, first); !slices.Equal(f, []string{`\Answered`}) {
				t.Errorf("flags %q, want \\Answered", f)
			}
			if f := s.Flags(t, box, second); !slices.Equal(f, []string{`\Seen`}) {
				t.Errorf("flags %q, want \\Seen", f)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	s := Start(t)

	c, err := imapclient.DialTLS(s.TLSAddr, &imapclient.Options{TLSConfig: s.TLSConfig(t)})
	if err != nil {
		t.Fatalf("imaps with CAFile trusted: %v", err)
	}
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Fatalf("login over imaps: %v", err)
	}
	c.Logout().Wait()
	c.Close()

	c, err = imapclient.DialStartTLS(s.Addr, &imapclient.Options{TLSConfig: s.TLSConfig(t)})
	if err != nil {
		t.Fatalf("STARTTLS with CAFile trusted: %v", err)
	}
	c.Close()

	// Without the CA the certificate must be refused.
	c, err = imapclient.DialTLS(s.TLSAddr, &imapclient.Options{TLSConfig: &tls.Config{}})
	if err == nil {
		err = c.Login(s.User, s.Password).Wait()
		c.Close()
	}
	if err == nil {
		t.Fatal("imaps without trusting CAFile succeeded")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("imaps without trusting CAFile: %v, want a certificate error", err)
	}
}

// Two instances at once, started in parallel, do not see each other.
func TestParallel(t *testing.T) {
	servers := make(chan *Server, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := Start(t)
				s.Create(t, "Only-"+name)
				s.Append(t, "INBOX", []byte("Subject: "+name+"\r\n\r\n"+name+"\r\n"), date1)
				if got := s.Fetch(t, "INBOX", 1); !bytes.Contains(got, []byte("Subject: "+name)) {
					t.Errorf("server %s holds %q", name, got)
				}
				c := s.Dial(t)
				boxes, err := c.List("", "Only-*", nil).Collect()
				if err != nil {
					t.Fatal(err)
				}
				if len(boxes) != 1 || boxes[0].Mailbox != "Only-"+name {
					t.Errorf("server %s lists %v", name, boxes)
				}
				servers <- s
			})
		}
	})
	close(servers)
	for s := range servers {
		if pids := instancePids(s.instance, ""); len(pids) != 0 {
			t.Errorf("processes %v of %s left after cleanup", pids, s.instance)
		}
	}
}

func TestKick(t *testing.T) {
	s := Start(t)
	c := s.Dial(t)
	s.Kick(t)
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open 5 s after Kick")
	}
	s.Dial(t) // new connections are still welcome
}

func TestStopRestart(t *testing.T) {
	s := Start(t)
	uid := s.Append(t, "INBOX", msg1, date1)
	c := s.Dial(t)

	s.Stop()
	s.Stop() // idempotent
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open 5 s after Stop")
	}
	if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Stop")
	}
	if pids := instancePids(s.instance, ""); len(pids) != 0 {
		t.Fatalf("processes %v left after Stop", pids)
	}

	s.Restart(t)
	if got := s.Fetch(t, "INBOX", uid); !bytes.Equal(got, msg1) {
		t.Errorf("after Restart: %q, want %q", got, msg1)
	}
}

func TestCommands(t *testing.T) {
	s := Start(t)
	s.Append(t, "INBOX", msg1, date1)
	s.Fetch(t, "INBOX", 1) // a helper: not counted

	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	fetch := &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	if _, err := c.Fetch(imap.UIDSetNum(1), fetch).Collect(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}

	var fetches []string
	for _, cmd := range s.Commands(t) {
		if strings.Contains(cmd, "FETCH") {
			fetches = append(fetches, cmd)
		}
	}
	if want := []string{"UID FETCH 1 (UID BODY.PEEK[])"}; !slices.Equal(fetches, want) {
		t.Errorf("FETCH commands %q, want %q", fetches, want)
	}
}

// fakeTB records Skip and Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

func TestMissingDovecot(t *testing.T) {
	t.Setenv("CI", "")
	f := &fakeTB{TB: t}
	lookPath(f, "dovecot-not-installed")
	if !strings.Contains(f.skipped, "apt-get install dovecot-imapd") || f.failed != "" {
		t.Errorf("without CI: skipped %q, failed %q; want a skip naming apt-get install dovecot-imapd", f.skipped, f.failed)
	}

	t.Setenv("CI", "true")
	f = &fakeTB{TB: t}
	lookPath(f, "dovecot-not-installed")
	if f.failed == "" || f.skipped != "" {
		t.Errorf("with CI=true: skipped %q, failed %q; want a failure", f.skipped, f.failed)
	}
}
