package pop3

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
)

// fakeServer is a scripted POP3 server on 127.0.0.1 for what Dovecot
// cannot be made to do: cut a connection in the middle of a RETR.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	user, pw string
	caps     []string

	mu     sync.Mutex
	msgs   []fakeMsg
	cutAt  int // >0: RETR sends this many bytes of a body, then closes
	cmds   []string
	logins int
}

type fakeMsg struct {
	uidl string
	body string
}

func startFake(t *testing.T, msgs ...fakeMsg) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, user: "u", pw: "p", msgs: msgs, caps: []string{"USER", "UIDL", "TOP", "PIPELINING", "SASL PLAIN"}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeServer) config() imapsrc.Config {
	return imapsrc.Config{Addr: f.ln.Addr().String(), TLS: imapsrc.TLSNone, User: f.user, Password: f.pw, Conns: 1, StallTimeout: 5 * time.Second}
}

func (f *fakeServer) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// stuff dot-stuffs a body and adds the terminating line.
func stuff(body string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, ".") {
			b.WriteByte('.')
		}
		b.WriteString(line)
	}
	if !strings.HasSuffix(body, "\n") && body != "" {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.String()
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	say := func(s string) { w.WriteString(s); w.Flush() }
	say("+OK fake ready\r\n")
	authed, user := false, ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.cmds = append(f.cmds, line)
		msgs, cutAt := f.msgs, f.cutAt
		f.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		num := func() (fakeMsg, bool) {
			n, err := strconv.Atoi(strings.Fields(arg + " x")[0])
			if err != nil || n < 1 || n > len(msgs) {
				say("-ERR no such message\r\n")
				return fakeMsg{}, false
			}
			return msgs[n-1], true
		}
		switch strings.ToUpper(verb) {
		case "CAPA":
			say("+OK\r\n" + strings.Join(f.caps, "\r\n") + "\r\n.\r\n")
		case "USER":
			user = arg
			say("+OK\r\n")
		case "PASS":
			if user == f.user && arg == f.pw {
				authed = true
				f.mu.Lock()
				f.logins++
				f.mu.Unlock()
				say("+OK logged in\r\n")
			} else {
				say("-ERR [AUTH] Authentication failed.\r\n")
			}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if mech != "PLAIN" {
				say("-ERR unsupported\r\n")
				continue
			}
			if ir == "" {
				say("+ \r\n")
				ir, _ = r.ReadString('\n')
				ir = strings.TrimSpace(ir)
			}
			if ir == base64Plain(f.user, f.pw) {
				authed = true
				f.mu.Lock()
				f.logins++
				f.mu.Unlock()
				say("+OK logged in\r\n")
			} else {
				say("-ERR [AUTH] Authentication failed.\r\n")
			}
		case "QUIT":
			say("+OK bye\r\n")
			return
		case "UIDL", "LIST", "TOP", "RETR", "STAT", "NOOP":
			if !authed {
				say("-ERR not logged in\r\n")
				continue
			}
			switch strings.ToUpper(verb) {
			case "UIDL", "LIST":
				var b strings.Builder
				b.WriteString("+OK\r\n")
				for i, m := range msgs {
					if strings.EqualFold(verb, "UIDL") {
						fmt.Fprintf(&b, "%d %s\r\n", i+1, m.uidl)
					} else {
						fmt.Fprintf(&b, "%d %d\r\n", i+1, len(m.body))
					}
				}
				say(b.String() + ".\r\n")
			case "TOP":
				if m, ok := num(); ok {
					h, _, _ := strings.Cut(m.body, "\r\n\r\n")
					say("+OK\r\n" + stuff(h+"\r\n\r\n"))
				}
			case "RETR":
				if m, ok := num(); ok {
					all := "+OK\r\n" + stuff(m.body)
					if cutAt > 0 && cutAt < len(all) {
						say(all[:cutAt])
						return
					}
					say(all)
				}
			default:
				say("+OK\r\n")
			}
		default:
			say("-ERR unknown command\r\n")
		}
	}
}

func base64Plain(user, pw string) string {
	var b bytes.Buffer
	b.WriteString("\x00" + user + "\x00" + pw)
	return encodeB64(b.Bytes())
}

func newFakeSource(t *testing.T, f *fakeServer) *Source {
	s, err := New(f.config(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fetchAll(t *testing.T, s *Source, uids ...uint32) (map[uint32]string, error) {
	st, err := s.Status(context.Background(), Folder)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]string{}
	err = s.FetchBodies(context.Background(), Folder, st.UIDValidity, uids, func(uid uint32, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[uid] = string(b)
		return err
	})
	return got, err
}

var fakeMsgs = []fakeMsg{
	{"a1", "Subject: one\r\nMessage-ID: <1@x>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\n.hidden dot\r\n..two\r\n.\r\nend\r\n"},
	{"b2", "Subject: two\r\n\r\nno final newline"},
}

func TestFakeReadsExactBytes(t *testing.T) {
	f := startFake(t, fakeMsgs...)
	s := newFakeSource(t, f)
	got, err := fetchAll(t, s, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[1] != fakeMsgs[0].body {
		t.Errorf("body 1 = %q, want %q", got[1], fakeMsgs[0].body)
	}
	// A body without a final line break gets one on the wire; RFC 1939
	// leaves no way to tell, so it is delivered with it.
	if got[2] != fakeMsgs[1].body+"\r\n" {
		t.Errorf("body 2 = %q", got[2])
	}
	var metas []cache.Meta
	err = s.FetchMeta(context.Background(), Folder, 0, 1, func(m cache.Meta) error { metas = append(metas, m); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 2 || metas[0].Subject != "one" || metas[0].MessageID != "1@x" || metas[0].Size != int64(len(fakeMsgs[0].body)) ||
		!metas[0].Date.Equal(time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)) || metas[1].UID != 2 || !metas[1].Date.IsZero() {
		t.Errorf("meta = %+v", metas)
	}
	for _, c := range f.commands() {
		if strings.HasPrefix(strings.ToUpper(c), "DELE") {
			t.Errorf("sent %q", c)
		}
	}
}

// A connection cut in the middle of a RETR is an error, never a short
// body: at every byte of the response.
func TestFakeCutMidRETR(t *testing.T) {
	body := fakeMsgs[0].body
	wire := len("+OK\r\n" + stuff(body))
	for cut := 1; cut < wire; cut++ {
		f := startFake(t, fakeMsg{"a1", body})
		f.cutAt = cut
		s := newFakeSource(t, f)
		got, err := fetchAll(t, s, 1)
		if err == nil {
			t.Fatalf("cut at %d of %d: no error, body %q", cut, wire, got[1])
		}
		// The retry on a new connection is cut too, so the error stays.
		var short []byte
		n, perr := s.FetchPart(context.Background(), Folder, 0, 1, 0, 1<<20, bytesWriter{&short})
		if perr == nil {
			t.Fatalf("cut at %d: FetchPart gave %d bytes and no error", cut, n)
		}
	}
}

type bytesWriter struct{ b *[]byte }

func (w bytesWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// Parts continue one RETR rather than fetching the message again.
func TestFakeParts(t *testing.T) {
	body := "Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 1000)
	f := startFake(t, fakeMsg{"a1", body})
	s := newFakeSource(t, f)
	if _, err := s.Status(context.Background(), Folder); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for off := int64(0); ; {
		n, err := s.FetchPart(context.Background(), Folder, 0, 1, off, 1000, bytesWriter{&out})
		if err != nil {
			t.Fatal(err)
		}
		off += n
		if n < 1000 {
			break
		}
	}
	if string(out) != body {
		t.Fatalf("parts gave %d bytes, want %d", len(out), len(body))
	}
	retrs := 0
	for _, c := range f.commands() {
		if strings.HasPrefix(c, "RETR") {
			retrs++
		}
	}
	if retrs != 1 {
		t.Errorf("%d RETRs for one message in parts", retrs)
	}
	// A part out of order starts a new RETR and skips to its offset.
	out = nil
	if _, err := s.FetchPart(context.Background(), Folder, 0, 1, 5000, 100, bytesWriter{&out}); err != nil || string(out) != body[5000:5100] {
		t.Fatalf("part at 5000 = %q, %v", out, err)
	}
}

func TestFakeWrongPassword(t *testing.T) {
	for _, user := range []bool{false, true} {
		forceUSER = user
		f := startFake(t)
		cfg := f.config()
		cfg.Password = "wrong"
		_, err := Dial(context.Background(), cfg, t.TempDir(), nil)
		if !errors.Is(err, imapsrc.ErrAuth) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("USER %v: err = %v", user, err)
		}
		if err != nil && !strings.Contains(err.Error(), "Authentication failed") {
			t.Errorf("USER %v: the server's reason is missing: %v", user, err)
		}
	}
	forceUSER = false
}

func TestFakeReadOnly(t *testing.T) {
	f := startFake(t, fakeMsgs...)
	s := newFakeSource(t, f)
	ctx := context.Background()
	if _, _, err := s.Append(ctx, Folder, strings.NewReader("x"), 1, time.Now(), nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Append: %v", err)
	}
	for name, err := range map[string]error{
		"Expunge":      s.Expunge(ctx, Folder, 1, 1),
		"StoreFlags":   s.StoreFlags(ctx, Folder, 1, []uint32{1}, true, []string{`\Seen`}),
		"CreateFolder": s.CreateFolder(ctx, "X"),
		"DeleteFolder": s.DeleteFolder(ctx, "X"),
		"Move":         s.Move(ctx, Folder, 1, 1, "X"),
		"RenameFolder": s.RenameFolder(ctx, Folder, "X"),
	} {
		if !errors.Is(err, ErrReadOnly) || err.Error() != "POP3 accounts are read-only" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(f.commands()) != 0 {
		t.Errorf("write operations talked to the server: %q", f.commands())
	}
}

// UIDs stay the same across sources (the state file) and new messages
// get higher ones.
func TestUIDsPersist(t *testing.T) {
	dir := t.TempDir()
	f := startFake(t, fakeMsgs...)
	s1, _ := New(f.config(), dir, nil)
	st1, err := s1.Status(context.Background(), Folder)
	if err != nil {
		t.Fatal(err)
	}
	s1.Close()
	if st1.UIDNext != 3 || st1.Messages != 2 || st1.UIDValidity == 0 {
		t.Fatalf("status %+v", st1)
	}
	f.mu.Lock()
	f.msgs = []fakeMsg{{"new", "Subject: n\r\n\r\nx\r\n"}, fakeMsgs[1]} // a1 gone, one new in front
	f.mu.Unlock()
	s2, _ := New(f.config(), dir, nil)
	defer s2.Close()
	st2, err := s2.Status(context.Background(), Folder)
	if err != nil {
		t.Fatal(err)
	}
	uids, err := s2.UIDs(context.Background(), Folder, st2.UIDValidity)
	if err != nil {
		t.Fatal(err)
	}
	if st2.UIDValidity != st1.UIDValidity || st2.UIDNext != 4 || fmt.Sprint(uids) != "[2 3]" {
		t.Fatalf("status %+v, uids %v", st2, uids)
	}
	got, err := fetchAll(t, s2, 2, 3)
	if err != nil || got[2] != fakeMsgs[1].body+"\r\n" || got[3] != "Subject: n\r\n\r\nx\r\n" {
		t.Fatalf("bodies %v, %v", got, err)
	}
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// A session busy while a Status lists new mail does not serve the
// listing that follows, since it lacks that mail.
func TestFakeStaleSessionNotReused(t *testing.T) {
	f := startFake(t, fakeMsgs...)
	cfg := f.config()
	cfg.Conns = 2
	s, err := New(cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	st, err := s.Status(ctx, Folder)
	if err != nil {
		t.Fatal(err)
	}
	inFn, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.FetchBodies(ctx, Folder, st.UIDValidity, []uint32{1}, func(uid uint32, r io.Reader) error {
			close(inFn)
			<-release
			_, err := io.Copy(io.Discard, r)
			return err
		})
	}()
	<-inFn
	f.mu.Lock()
	f.msgs = append(f.msgs, fakeMsg{"c3", "Subject: three\r\n\r\nx\r\n"})
	f.mu.Unlock()
	st, err = s.Status(ctx, Folder)
	if err != nil || st.Messages != 3 || st.UIDNext != 4 {
		t.Fatalf("status %+v, %v", st, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	if err := s.FetchMeta(ctx, Folder, st.UIDValidity, 1, func(m cache.Meta) error { uids = append(uids, m.UID); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(uids) != "[1 2 3]" {
		t.Errorf("listed %v after a Status of 3 messages", uids)
	}
}
