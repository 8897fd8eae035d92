package imapsrc_test

// Fault tests of issue 8 at the level of imapsrc: bodies that arrive
// broken are errors, whatever way they are broken, and never hang.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/imaptest"
)

var testDate = time.Date(2022, 2, 2, 2, 2, 2, 0, time.UTC)

// testMsg is a message of about size bytes.
func testMsg(size int) []byte {
	var b strings.Builder
	b.WriteString("Subject: test\r\nMessage-ID: <t@x>\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %d\r\n", i)
	}
	return []byte(b.String()[:size])
}

func newSource(t testing.TB, s *imaptest.Scripted, stall time.Duration) *imapsrc.Source {
	t.Helper()
	src, err := imapsrc.New(imapsrc.Config{Addr: s.Addr, TLS: imapsrc.TLSNone, User: s.User, Password: s.Password, Conns: 1, StallTimeout: stall}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// bounded runs op and fails the test if it does not return within limit
// (the goroutine is then left behind: the test is failed anyway).
func bounded(t testing.TB, limit time.Duration, op func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Errorf("no answer within %v", limit)
		return fmt.Errorf("hung")
	}
}

// fetchOne fetches one body with FetchBodies, returning what fn saw last.
func fetchOne(ctx context.Context, src *imapsrc.Source, uid uint32) ([]byte, error) {
	var got []byte
	err := src.FetchBodies(ctx, "INBOX", 1, []uint32{uid}, func(u uint32, r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return got, err
}

// Item 1: FetchBodies and FetchPart fail on every kind of broken body,
// within a few stall timeouts, and succeed once the server behaves.
func TestBrokenBodiesAreErrors(t *testing.T) {
	raw := testMsg(2017)
	for _, bf := range imaptest.BrokenBodies(len(raw)) {
		t.Run(bf.Name, func(t *testing.T) {
			s := imaptest.StartScripted(t)
			uid := s.Append("INBOX", raw, testDate)
			src := newSource(t, s, time.Second)
			ctx := context.Background()
			s.SetFaults("INBOX", uid, &bf.Faults)
			err := bounded(t, 6*time.Second, func() error {
				got, err := fetchOne(ctx, src, uid)
				if err == nil {
					return fmt.Errorf("FetchBodies succeeded with %d bytes (exact: %v)", len(got), bytes.Equal(got, raw))
				}
				var part bytes.Buffer
				if _, err := src.FetchPart(ctx, "INBOX", 1, uid, 0, int64(len(raw)), &part); err == nil {
					return fmt.Errorf("FetchPart succeeded with %d bytes (exact: %v)", part.Len(), bytes.Equal(part.Bytes(), raw))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			s.SetFaults("INBOX", uid, nil)
			err = bounded(t, 6*time.Second, func() error {
				got, err := fetchOne(ctx, src, uid)
				if err != nil || !bytes.Equal(got, raw) {
					return fmt.Errorf("after the server behaves: %v, %d bytes", err, len(got))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Item 6: a response repeated forever or a flood of EXISTS stops within
// the stall timeout (twice: one retry on a new connection).
func TestEndlessFetchStops(t *testing.T) {
	for name, f := range map[string]imaptest.Faults{"repeat": {Repeat: true}, "flood": {Flood: true}} {
		t.Run(name, func(t *testing.T) {
			s := imaptest.StartScripted(t)
			uid := s.Append("INBOX", testMsg(3000), testDate)
			src := newSource(t, s, 500*time.Millisecond)
			s.SetFaults("INBOX", uid, &f)
			start := time.Now()
			err := bounded(t, 5*time.Second, func() error {
				_, err := fetchOne(context.Background(), src, uid)
				return err
			})
			if err == nil {
				t.Fatal("endless fetch succeeded")
			}
			t.Logf("stopped after %v: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// fetchHead is how a body FETCH response begins in the fuzz inputs; the
// scripted server sends each input as the whole answer to the FETCH.
const fetchHead = "* 1 FETCH (UID 7 BODY[] "

// FuzzFetchBody feeds arbitrary bytes as the server's answer to a body
// FETCH (then the connection ends) and checks that FetchBodies either
// fails or delivers exactly the literal of a well-formed BODY[] response
// for the UID asked, completed by a tagged OK; never a panic or a hang.
func FuzzFetchBody(f *testing.F) {
	body := "Subject: hi\r\n\r\nhello\r\n"
	ok := "TAG OK FETCH completed\r\n"
	lit := func(n int, data string) string { return fmt.Sprintf("{%d}\r\n%s", n, data) }
	for _, seed := range []string{
		fetchHead + lit(len(body), body) + ")\r\n" + ok,
		"* 1 FETCH (UID 7 RFC822.SIZE 22 BODY[] " + lit(len(body), body) + " FLAGS (\\Seen))\r\n" + ok,
		"* 1 FETCH (BODY[] " + lit(len(body), body) + " UID 7)\r\n" + ok,
		fetchHead + lit(len(body), body) + ")\r\n" + "TAG NO no\r\n",
		fetchHead + lit(len(body), body) + ")\r\n" + "TAG BAD bad\r\n",
		fetchHead + lit(len(body), body) + ")\r\n",
		fetchHead + lit(len(body), body) + "\r\n" + ok,
		fetchHead + lit(len(body)+10, body) + ")\r\n" + ok,
		fetchHead + lit(5, body) + ")\r\n" + ok,
		fetchHead + lit(99999999999, "hello"),
		fetchHead + lit(len(body), body[:10]),
		"* 1 FETCH (UID 7 BODY[HEADER] " + lit(15, body[:15]) + ")\r\n" + ok,
		"* 1 FETCH (UID 7 BODY[1] " + lit(7, "hello\r\n") + ")\r\n" + ok,
		"* 1 FETCH (UID 7 BODY[]<0> " + lit(len(body), body) + ")\r\n" + ok,
		"* 1 FETCH (UID 8 BODY[] " + lit(len(body), body) + ")\r\n" + ok,
		fetchHead + lit(len(body), body) + ")\r\n" + fetchHead + lit(3, "abc") + ")\r\n" + ok,
		fetchHead + "NIL)\r\n" + ok,
		fetchHead + "\"quoted body\")\r\n" + ok,
		fetchHead + lit(len(body), body) + ")\r\n* 5 EXISTS\r\n* 1 EXPUNGE\r\n" + ok,
		"* BYE going away\r\n",
		ok,
		"",
	} {
		f.Add([]byte(seed))
	}
	s := imaptest.StartScripted(f)
	uid := s.Append("INBOX", []byte(body), testDate)
	if uid != 7 {
		for uid < 7 { // the inputs name UID 7
			s.Expunge("INBOX", uid)
			uid = s.Append("INBOX", []byte(body), testDate)
		}
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		// A source of its own, so that an input that hangs one does not
		// fail the inputs after it.
		src := newSource(t, s, 300*time.Millisecond)
		s.SetFaults("INBOX", uid, &imaptest.Faults{Response: resp})
		var got []byte
		var calls int
		var gotUID uint32
		err := bounded(t, 5*time.Second, func() error {
			return src.FetchBodies(context.Background(), "INBOX", 1, []uint32{uid}, func(u uint32, r io.Reader) error {
				calls++
				gotUID = u
				var err error
				got, err = io.ReadAll(r)
				return err
			})
		})
		if err != nil || calls == 0 {
			return
		}
		if gotUID != uid {
			t.Fatalf("body delivered for UID %d, asked for %d", gotUID, uid)
		}
		tag, sent := s.LastResponse()
		if !wellFormed(sent, tag, got) {
			t.Fatalf("FetchBodies succeeded with %q from %q", got, sent)
		}
	})
}

// wellFormed reports whether resp holds body as the value of a BODY[]
// item, a literal announced with its exact length or a quoted string,
// closed by a space or a parenthesis, followed by an OK tagged tag. Lines
// may end in a bare LF, as go-imap allows.
func wellFormed(resp []byte, tag string, body []byte) bool {
	tagOK := regexp.MustCompile(`(?i)\n` + regexp.QuoteMeta(tag) + ` OK[ \r\n]`)
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(body))
	for _, item := range []string{
		fmt.Sprintf("BODY[] {%d}\r\n%s", len(body), body),
		fmt.Sprintf("BODY[] {%d}\n%s", len(body), body), // go-imap accepts a bare LF
		`BODY[] "` + quoted + `"`,
	} {
		for i := 0; ; {
			j := bytes.Index(resp[i:], []byte(item))
			if j < 0 {
				break
			}
			i += j + len(item)
			after := resp[i:]
			if len(after) > 0 && (after[0] == ')' || after[0] == ' ') && tagOK.Match(after) {
				return true
			}
		}
	}
	return false
}

// Header sections cut short (listing, FetchHeaders) are errors too, never
// a listing with a message cut off, and never a data race (this runs with
// -race in CI).
func TestCutHeadersAreErrors(t *testing.T) {
	s := imaptest.StartScripted(t)
	want := map[uint32]bool{}
	for i := range 40 {
		want[s.Append("INBOX", testMsg(300+i*10), testDate.Add(time.Duration(i)*time.Minute))] = true
	}
	p := imaptest.StartProxy(t, s.Addr, imaptest.ProxyConfig{Seed: 3, Cut: 0.05, RST: 0.5, AllSections: true})
	src, err := imapsrc.New(imapsrc.Config{Addr: p.Addr, TLS: imapsrc.TLSNone, User: s.User, Password: s.Password, Conns: 2, StallTimeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	ctx := context.Background()
	var ok, failed int
	for range 20 {
		got := map[uint32]bool{}
		err := bounded(t, 20*time.Second, func() error {
			return src.FetchMeta(ctx, "INBOX", 1, 1, func(m cache.Meta) error {
				if m.Subject != "test" || m.MessageID != "t@x" {
					t.Errorf("UID %d listed with subject %q, id %q", m.UID, m.Subject, m.MessageID)
				}
				got[m.UID] = true
				return nil
			})
		})
		if err != nil {
			failed++
			continue
		}
		ok++
		if len(got) != len(want) {
			t.Errorf("a listing without error has %d of %d messages", len(got), len(want))
		}
		uids := make([]uint32, 0, len(want))
		for u := range want {
			uids = append(uids, u)
		}
		hs, err := src.FetchHeaders(ctx, "INBOX", 1, uids)
		if err == nil {
			for u, h := range hs {
				if !bytes.HasSuffix(h, []byte("\r\n\r\n")) {
					t.Errorf("UID %d: header of %d bytes cut short", u, len(h))
				}
			}
		}
	}
	t.Logf("%d listings complete, %d failed; %d cuts of %d literals", ok, failed, p.Cuts(), p.Literals())
	if p.Cuts() == 0 || ok == 0 {
		t.Errorf("%d cuts, %d complete listings: the test proves little", p.Cuts(), ok)
	}
}
