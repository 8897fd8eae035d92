package imaptest_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/imaptest"
)

var date = time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)

func msg(subject string, n int) []byte {
	return []byte("Subject: " + subject + "\r\nMessage-ID: <" + subject + "@x>\r\nFrom: a@b\r\n\r\n" + strings.Repeat("body line\r\n", n))
}

func source(t *testing.T, addr string, s *imaptest.Scripted) *imapsrc.Source {
	t.Helper()
	src, err := imapsrc.New(imapsrc.Config{Addr: addr, TLS: imapsrc.TLSNone, User: s.User, Password: s.Password, Conns: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// bodies fetches bodies with FetchBodies and returns them by UID.
func bodies(ctx context.Context, src *imapsrc.Source, folder string, uv uint32, uids ...uint32) (map[uint32][]byte, error) {
	out := map[uint32][]byte{}
	err := src.FetchBodies(ctx, folder, uv, uids, func(uid uint32, r io.Reader) error {
		b, err := io.ReadAll(r)
		out[uid] = b
		return err
	})
	return out, err
}

// TestScriptedServesImapsrc checks that imapsrc.Source works against the
// scripted server when it behaves: every operation mailfs uses.
func TestScriptedServesImapsrc(t *testing.T) {
	s := imaptest.StartScripted(t)
	s.AddFolder("Archive", 77)
	a := s.Append("INBOX", msg("one", 3), date, `\Seen`)
	b := s.Append("INBOX", msg("two", 300), date.Add(time.Hour))
	s.Append("Archive", msg("three", 1), date)
	ctx := context.Background()
	src := source(t, s.Addr, s)

	folders, err := src.Folders(ctx)
	if err != nil || len(folders) != 2 || folders[0].Name != "Archive" || folders[1].Name != "INBOX" {
		t.Fatalf("folders %+v, %v", folders, err)
	}
	st, err := src.Status(ctx, "Archive")
	if err != nil || st != (cache.Status{UIDValidity: 77, UIDNext: 2, Messages: 1}) {
		t.Fatalf("status %+v, %v", st, err)
	}
	sts, err := src.Statuses(ctx, []string{"INBOX", "Archive", "Missing"})
	if err != nil || len(sts) != 2 || sts["INBOX"].Messages != 2 {
		t.Fatalf("statuses %+v, %v", sts, err)
	}
	var metas []cache.Meta
	err = src.FetchMeta(ctx, "INBOX", 1, 1, func(m cache.Meta) error { metas = append(metas, m); return nil })
	if err != nil || len(metas) != 2 {
		t.Fatalf("meta %+v, %v", metas, err)
	}
	if m := metas[1]; m.UID != b || m.Size != int64(len(msg("two", 300))) || !m.Date.Equal(date.Add(time.Hour)) || m.Subject != "two" || m.MessageID != "two@x" {
		t.Errorf("meta %+v", m)
	}
	if err := src.FetchMeta(ctx, "INBOX", 2, 1, func(cache.Meta) error { return nil }); err == nil {
		t.Error("FetchMeta with a wrong UIDVALIDITY succeeded")
	}
	uids, err := src.UIDs(ctx, "INBOX", 1)
	if err != nil || len(uids) != 2 {
		t.Fatalf("uids %v, %v", uids, err)
	}
	got, err := bodies(ctx, src, "INBOX", 1, a, b)
	if err != nil || !bytes.Equal(got[a], msg("one", 3)) || !bytes.Equal(got[b], msg("two", 300)) {
		t.Fatalf("bodies: %v (%d, %d bytes)", err, len(got[a]), len(got[b]))
	}
	if n := s.BodyFetches(); n != 2 {
		t.Errorf("BodyFetches %d, want 2", n)
	}
	if n := s.Count("LOGIN"); n < 1 {
		t.Errorf("%d LOGINs counted", n)
	}

	// IDLE: an append is reported at once.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	changed := make(chan struct{}, 10)
	go src.Watch(wctx, "INBOX", func() { changed <- struct{}{} })
	deadline := time.Now().Add(5 * time.Second)
	for s.Count("IDLE") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Append("INBOX", msg("four", 1), date)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Error("no change reported while idling")
	}

	// Renumbered: the old UIDVALIDITY is refused, the new one works.
	s.Renumber("INBOX", 9, 100)
	if _, err := bodies(ctx, src, "INBOX", 1, a); err == nil {
		t.Error("fetch with the old UIDVALIDITY succeeded")
	}
	got, err = bodies(ctx, src, "INBOX", 9, 100)
	if err != nil || !bytes.Equal(got[100], msg("one", 3)) {
		t.Errorf("after renumbering: %v, %q", err, got[100])
	}
}

// TestScriptedPartialFetch checks BODY.PEEK[]<off.len> answers, which
// imapsrc's ranged fetch depends on.
func TestScriptedPartialFetch(t *testing.T) {
	s := imaptest.StartScripted(t)
	raw := msg("big", 1000)
	uid := s.Append("INBOX", raw, date)
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for off := int64(0); off < int64(len(raw))+100; off += 4000 {
		sec := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: off, Size: 4000}}
		bufs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
		if err != nil || len(bufs) != 1 {
			t.Fatalf("offset %d: %v", off, err)
		}
		got = append(got, bufs[0].FindBodySection(sec)...)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("parts make %d bytes, want %d", len(got), len(raw))
	}
	if n := s.PartialFetches(); n != 3 {
		t.Errorf("%d partial fetches, want 3", n)
	}
}

// TestScriptedFaults checks that faults reach the client as set, and that
// Times makes the server behave again.
func TestScriptedFaults(t *testing.T) {
	s := imaptest.StartScripted(t)
	raw := msg("x", 200)
	uid := s.Append("INBOX", raw, date)
	ctx := context.Background()
	src := source(t, s.Addr, s)

	s.SetFaults("INBOX", uid, &imaptest.Faults{Size: "17", Date: `"01-Jan-2020 00:00:00 +0000"`})
	var m cache.Meta
	if err := src.FetchMeta(ctx, "INBOX", 1, 1, func(x cache.Meta) error { m = x; return nil }); err != nil {
		t.Fatal(err)
	}
	if m.Size != 17 || m.Date.Year() != 2020 {
		t.Errorf("meta %+v, want the lies", m)
	}

	// A cut after 100 bytes, once: imapsrc retries on a new connection.
	s.SetFaults("INBOX", uid, &imaptest.Faults{Times: 1, Cut: true, Keep: 100})
	got, err := bodies(ctx, src, "INBOX", 1, uid)
	if err != nil || !bytes.Equal(got[uid], raw) {
		t.Errorf("after a cut and a retry: %v, %d bytes", err, len(got[uid]))
	}
	if n, sent := s.BodyFetches(), s.BodyBytes(); n != 2 || sent != int64(100+len(raw)) {
		t.Errorf("%d body fetches, %d bytes; want 2 and %d", n, sent, 100+len(raw))
	}

	// A NO after the body is an error.
	s.SetFaults("INBOX", uid, &imaptest.Faults{Status: "NO [UNAVAILABLE] try later"})
	if _, err := bodies(ctx, src, "INBOX", 1, uid); err == nil || !strings.Contains(err.Error(), "try later") {
		t.Errorf("NO completion: %v", err)
	}

	// Raw LIST lines arrive as sent.
	s.SetFaults("INBOX", uid, nil)
	s.AddListLines(`* LIST () "/" "Plain"`)
	folders, err := src.Folders(ctx)
	if err != nil || len(folders) != 2 || folders[0].Name != "INBOX" || folders[1].Name != "Plain" {
		t.Errorf("folders %+v, %v", folders, err)
	}
}

// TestScriptedSlowRate checks that Rate slows a body down.
func TestScriptedSlowRate(t *testing.T) {
	s := imaptest.StartScripted(t)
	raw := msg("slow", 200) // about 2.2 KB
	uid := s.Append("INBOX", raw, date)
	s.SetFaults("INBOX", uid, &imaptest.Faults{Rate: 5000})
	start := time.Now()
	got, err := bodies(context.Background(), source(t, s.Addr, s), "INBOX", 1, uid)
	if err != nil || !bytes.Equal(got[uid], raw) {
		t.Fatalf("%v, %d bytes", err, len(got[uid]))
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("%d bytes at 5000 B/s took %v", len(raw), d)
	}
}

// TestProxyCuts checks that the proxy cuts inside body literals only while
// its faults are on, by FIN and RST.
func TestProxyCuts(t *testing.T) {
	s := imaptest.StartScripted(t)
	var uids []uint32
	for i := range 20 {
		uids = append(uids, s.Append("INBOX", msg("m", 50+i*10), date))
	}
	p := imaptest.StartProxy(t, s.Addr, imaptest.ProxyConfig{Seed: 1, Cut: 1, RST: 0.5})
	src := source(t, p.Addr, s)
	ctx := context.Background()
	if _, err := src.Folders(ctx); err != nil {
		t.Fatal(err) // no body literal: never cut
	}
	for _, uid := range uids {
		got, err := bodies(ctx, src, "INBOX", 1, uid)
		if err == nil && bytes.Equal(got[uid], s.Messages("INBOX")[uid-1].Raw) {
			t.Errorf("UID %d came whole through a proxy cutting every literal", uid)
		}
	}
	if p.Cuts() == 0 || p.Cuts() != p.Literals() || p.Resets() == 0 || p.Resets() == p.Cuts() {
		t.Errorf("%d cuts, %d by RST, for %d literals", p.Cuts(), p.Resets(), p.Literals())
	}
	p.SetFaults(false)
	// A new source: the old one's pool may still hold cut connections.
	got, err := bodies(ctx, source(t, p.Addr, s), "INBOX", 1, uids...)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range s.Messages("INBOX") {
		if !bytes.Equal(got[m.UID], m.Raw) {
			t.Errorf("message %d differs with faults off", i)
		}
	}
	if p.Literals() < 20 {
		t.Errorf("%d literals seen", p.Literals())
	}
}

// TestProxyStall checks that a stall holds the stream, then lets it go on.
func TestProxyStall(t *testing.T) {
	s := imaptest.StartScripted(t)
	uid := s.Append("INBOX", msg("m", 100), date)
	p := imaptest.StartProxy(t, s.Addr, imaptest.ProxyConfig{Seed: 2, Stall: 1, StallFor: 500 * time.Millisecond})
	start := time.Now()
	got, err := bodies(context.Background(), source(t, p.Addr, s), "INBOX", 1, uid)
	if err != nil || !bytes.Equal(got[uid], msg("m", 100)) {
		t.Fatalf("%v, %d bytes", err, len(got[uid]))
	}
	if d := time.Since(start); d < 500*time.Millisecond || p.Stalls() != 1 {
		t.Errorf("%d stalls, took %v", p.Stalls(), d)
	}
}

// rawSession is a bare client for checking what the server sends byte by
// byte: send writes a line (or the first part of one, before a literal)
// and returns what came back up to the tagged answer (or the continuation
// request).
type rawSession struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawSession {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &rawSession{t: t, c: c, r: bufio.NewReader(c)}
	s.r.ReadString('\n') // greeting
	return s
}

func (s *rawSession) send(line, until string) string {
	s.t.Helper()
	s.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(s.c, line+"\r\n"); err != nil {
		s.t.Fatal(err)
	}
	var got strings.Builder
	for {
		l, err := s.r.ReadString('\n')
		got.WriteString(l)
		if err != nil {
			s.t.Fatalf("after %q: %v (got %q)", line, err, got.String())
		}
		if strings.HasPrefix(l, until) {
			return got.String()
		}
	}
}

// TestScriptedRawNames checks that names no client should accept go out
// as they were set: CRLF in a literal, an empty name, raw LIST lines with
// NUL or invalid modified UTF-7; and that such a folder can be selected by
// a literal.
func TestScriptedRawNames(t *testing.T) {
	s := imaptest.StartScripted(t)
	s.AddFolder("a\r\nb", 5)
	s.AddFolder("", 6)
	s.AddFolder("Odd", 7)
	s.SetListLine("Odd", "* LIST () \"/\" \"&Jjo\"")
	s.AddListLines("* LIST () \"/\" {3}\r\nx\x00y")
	s.Append("a\r\nb", msg("crlf", 1), date)
	c := dialRaw(t, s.Addr)
	c.send("A1 LOGIN alice secret", "A1 ")
	list := c.send(`A2 LIST "" "*"`, "A2 ")
	for _, want := range []string{"{4}\r\na\r\nb\r\n", ` ""` + "\r\n", `"&Jjo"`, "{3}\r\nx\x00y\r\n"} {
		if !strings.Contains(list, want) {
			t.Errorf("LIST answer %q lacks %q", list, want)
		}
	}
	if got := c.send("A3 EXAMINE {4}", "+"); !strings.HasPrefix(got, "+") {
		t.Fatalf("no continuation: %q", got)
	}
	if got := c.send("a\r\nb", "A3 "); !strings.Contains(got, "* 1 EXISTS") || !strings.Contains(got, "A3 OK") {
		t.Errorf("EXAMINE by literal: %q", got)
	}
	if got := c.send(`A4 STATUS "" (MESSAGES UIDVALIDITY)`, "A4 "); !strings.Contains(got, "UIDVALIDITY 6") {
		t.Errorf("STATUS of the empty name: %q", got)
	}
}
