package imapsrc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailfs/cache"
	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/dovecottest/syncbuf"
	"mailfs/imapsrc/imaptest"
)

// logBuf is a log handler's output, safe for the Source's goroutines.
type logBuf struct{ syncbuf.Buffer }

// count is how many log lines hold s.
func (l *logBuf) count(s string) int { return strings.Count(l.String(), s) }

func scriptedSource(t *testing.T, s *imaptest.Scripted) (*Source, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	src, err := New(Config{Addr: s.Addr, TLS: TLSNone, User: s.User, Password: s.Password, Conns: 2, StallTimeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(lb, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, lb
}

var testDate = time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)

func testMsg(subject string) []byte {
	return []byte("Subject: " + subject + "\r\nMessage-ID: <" + subject + "@x>\r\n\r\nbody\r\n")
}

// badListLines are LIST responses go-imap cannot read or mailfs cannot
// use, by what is wrong with them.
var badListLines = map[string]string{
	"control":   "* LIST () \"/\" \"ctl\x01name\"",
	"nul":       "* LIST () \"/\" \"nul\x00name\"",
	"crlf":      "* LIST () \"/\" {8}\r\ncr\r\nlf!!",
	"empty":     `* LIST () "/" ""`,
	"utf7":      `* LIST () "/" "&Jjo"`,
	"crlfQuote": "* LIST () \"/\" \"quoted\r\nbreak\"",
	"delim":     `* LIST () "//" "Delim"`,
}

// TestBadFolderNames: folders the server lists with names that are not
// modified UTF-7 (control characters, NUL, CRLF, a broken shift), with an
// empty name or a bad delimiter are left out, each reported once, and the
// folders listed before and after them list and sync.
func TestBadFolderNames(t *testing.T) {
	s := imaptest.StartScripted(t)
	// In LIST order: good folders (wire name) and bad LIST responses.
	// Names that decode to control characters are fine: they are kept,
	// and escaped in directory names by the cache.
	order := []struct{ wire, bad string }{
		{bad: "control"}, {wire: "Alpha"}, {bad: "nul"}, {wire: "Beta"}, {bad: "crlf"},
		{wire: "ctl&AAE-x"}, {bad: "empty"}, {wire: "nul&AAA-x"}, {bad: "utf7"},
		{wire: "crlf&AA0ACg-x"}, {bad: "crlfQuote"}, {bad: "delim"}, {wire: "Omega"},
	}
	want := []string{"INBOX", "Alpha", "Beta", "ctl\x01x", "nul\x00x", "crlf\r\nx", "Omega"}
	for i, f := range order {
		if f.wire != "" {
			s.AddFolder(f.wire, 7)
			s.Append(f.wire, testMsg("in "+f.wire), testDate)
			continue
		}
		name := fmt.Sprintf("Bad%d", i)
		s.AddFolder(name, 1)
		s.SetListLine(name, badListLines[f.bad])
	}
	src, lb := scriptedSource(t, s)
	ctx := context.Background()

	good := append([]string(nil), want...)
	sort.Strings(want)
	for round := range 3 {
		folders, err := src.Folders(ctx)
		if err != nil {
			t.Fatalf("round %d: %v\nlog:\n%s", round, err, lb)
		}
		var got []string
		for _, f := range folders {
			got = append(got, f.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: folders %q, want %q", round, got, want)
		}
	}
	if n := lb.count("skipping a folder"); n != len(badListLines) {
		t.Errorf("%d folders reported, want %d (each once)\nlog:\n%s", n, len(badListLines), lb)
	}
	for _, raw := range []string{`ctl\x01name`, `nul\x00name`, `cr\r\nlf!!`, `&Jjo`} {
		if !strings.Contains(lb.String(), raw) {
			t.Errorf("log does not show what the server sent (%s):\n%s", raw, lb)
		}
	}

	// The cache lists and syncs every good folder.
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SyncAll(ctx); err != nil {
		t.Fatalf("SyncAll: %v", err)
	}
	for _, name := range good[1:] {
		msgs, err := c.Messages(ctx, name)
		if err != nil || len(msgs) != 1 {
			t.Errorf("folder %q: %d messages, %v", name, len(msgs), err)
		}
	}
}

// TestBadMessageAttributes: messages whose RFC822.SIZE or INTERNALDATE
// cannot be read are left out of the folder's listing, each reported once
// (not at every sync), and the other messages are listed.
func TestBadMessageAttributes(t *testing.T) {
	s := imaptest.StartScripted(t)
	var uids []uint32
	for i := range 8 {
		uids = append(uids, s.Append("INBOX", testMsg(string(rune('a'+i))), testDate.Add(time.Duration(i)*time.Hour)))
	}
	bad := map[uint32]*imaptest.Faults{
		uids[1]: {Size: "-5"},
		uids[3]: {Size: "99999999999999999999"},
		uids[4]: {Date: `"31-Foo-2020 99:00:00 +0000"`},
		uids[7]: {Date: `"yesterday"`}, // the highest UID: "N:*" always matches it
	}
	for uid, f := range bad {
		s.SetFaults("INBOX", uid, f)
	}
	src, lb := scriptedSource(t, s)
	ctx := context.Background()

	list := func(from uint32) map[uint32]cache.Meta {
		t.Helper()
		got := map[uint32]cache.Meta{}
		err := src.FetchMeta(ctx, "INBOX", 1, from, func(m cache.Meta) error {
			if _, dup := got[m.UID]; dup {
				t.Errorf("UID %d passed on twice", m.UID)
			}
			got[m.UID] = m
			return nil
		})
		if err != nil {
			t.Fatalf("FetchMeta from %d: %v\nlog:\n%s", from, err, lb)
		}
		return got
	}
	for round := range 2 {
		got := list(1)
		if len(got) != len(uids)-len(bad) {
			t.Errorf("round %d: %d messages, want %d: %+v", round, len(got), len(uids)-len(bad), got)
		}
		for i, uid := range uids {
			m, ok := got[uid]
			if bad[uid] != nil {
				if ok {
					t.Errorf("round %d: bad message %d listed: %+v", round, uid, m)
				}
				continue
			}
			want := testMsg(string(rune('a' + i)))
			if !ok || m.Size != int64(len(want)) || !m.Date.Equal(testDate.Add(time.Duration(i)*time.Hour)) || m.Subject != string(rune('a'+i)) {
				t.Errorf("round %d: message %d: %+v (listed %v)", round, uid, m, ok)
			}
		}
	}
	logins := s.Count("LOGIN")
	if got := list(uids[7]); len(got) != 0 {
		t.Errorf("from the bad highest UID: %+v", got)
	}
	if got := list(uids[6]); len(got) != 1 {
		t.Errorf("from UID %d: %+v", uids[6], got)
	}
	if n := s.Count("LOGIN"); n != logins {
		t.Errorf("%d more logins once the bad messages were known", n-logins)
	}
	if n := lb.count("skipping a message"); n != len(bad) {
		t.Errorf("%d messages reported, want %d (each once)\nlog:\n%s", n, len(bad), lb)
	}
	for _, raw := range []string{"RFC822.SIZE -5", "RFC822.SIZE 99999999999999999999", "31-Foo-2020 99:00:00"} {
		if !strings.Contains(lb.String(), raw) {
			t.Errorf("log does not show what the server sent (%s):\n%s", raw, lb)
		}
	}

	// Through the cache: the folder syncs, shows the good messages, and a
	// message delivered later is added with no new report.
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SyncAll(ctx); err != nil {
		t.Fatalf("SyncAll: %v", err)
	}
	msgs, err := c.Messages(ctx, "INBOX")
	if err != nil || len(msgs) != len(uids)-len(bad) {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	s.Append("INBOX", testMsg("late"), testDate)
	if _, err := c.Sync(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := c.Messages(ctx, "INBOX"); len(msgs) != len(uids)-len(bad)+1 {
		t.Errorf("after a new message: %d messages", len(msgs))
	}
	if n := lb.count("skipping a message"); n != len(bad) {
		t.Errorf("%d reports after more syncs, want %d", n, len(bad))
	}
}

// TestBadMessageFreshSource: a Source that does not know the bad messages
// yet finds them in a cache's first sync of a folder too.
func TestBadMessageFreshSource(t *testing.T) {
	s := imaptest.StartScripted(t)
	for i := range 5 {
		s.Append("INBOX", testMsg(string(rune('a'+i))), testDate)
	}
	s.SetFaults("INBOX", 3, &imaptest.Faults{Size: "-5"})
	src, lb := scriptedSource(t, s)
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.RefreshFolders(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Messages(ctx, "INBOX")
	if err != nil || len(msgs) != 4 {
		t.Fatalf("%d messages, %v\nlog:\n%s", len(msgs), err, lb)
	}
	for _, m := range msgs {
		if m.UID == 3 {
			t.Errorf("bad message listed: %+v", m)
		}
	}
}

// TestSkippingOnDovecot runs what skipping uses against a real server:
// framed connections with STARTTLS (done by mailfs, not go-imap) and with
// implicit TLS, and UID sets that leave known bad messages out.
func TestSkippingOnDovecot(t *testing.T) {
	srv := dovecottest.Start(t)
	var uids []uint32
	for i := range 4 {
		uids = append(uids, srv.Append(t, "INBOX", testMsg(string(rune('a'+i))), testDate))
	}
	uv := srv.UIDValidity(t, "INBOX")
	for _, tc := range []struct {
		mode TLSMode
		addr string
	}{{TLSStartTLS, srv.Addr}, {TLSImplicit, srv.TLSAddr}} {
		src, err := New(Config{Addr: tc.addr, TLS: tc.mode, CAFile: srv.CAFile, User: srv.User, Password: srv.Password}, nil)
		if err != nil {
			t.Fatal(err)
		}
		src.skips.addList("* LIST () \"/\" \"never sent\"\r\n") // lists on framed connections from now on
		folders, err := src.Folders(context.Background())
		if err != nil || len(folders) == 0 || folders[0].Name != "INBOX" {
			t.Errorf("%s: folders %+v, %v", tc.mode, folders, err)
		}
		src.skips.addFetch("INBOX", uv, fmt.Sprintf("* 2 FETCH (UID %d RFC822.SIZE -5)\r\n", uids[1]))
		src.skips.addFetch("INBOX", uv, fmt.Sprintf("* 4 FETCH (UID %d RFC822.SIZE -5)\r\n", uids[3]))
		for from, want := range map[uint32][]uint32{1: {uids[0], uids[2]}, uids[2]: {uids[2]}, uids[3]: nil} {
			var got []uint32
			err := src.FetchMeta(context.Background(), "INBOX", uv, from, func(m cache.Meta) error {
				got = append(got, m.UID)
				return nil
			})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: FetchMeta from %d: %v, %v; want %v", tc.mode, from, got, err, want)
			}
		}
		src.Close()
	}
	// mailfs's own STARTTLS verifies the certificate as go-imap's does.
	src, err := New(Config{Addr: srv.Addr, TLS: TLSStartTLS, User: srv.User, Password: srv.Password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.skips.addList("* LIST () \"/\" \"never sent\"\r\n")
	if _, err := src.Folders(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("STARTTLS to an untrusted certificate: %v, want a certificate error", err)
	}
}

func TestReadResponse(t *testing.T) {
	in := "* OK ready\r\n" +
		"* LIST () \"/\" {8}\r\ncr\r\nlf!!\r\n" +
		"* LIST () \"/\" \"quoted\r\nbreak \\\" \\\\\"\r\n" +
		"* 1 FETCH (UID 5 BODY[HEADER] {3}\r\na\r\n BODY[TEXT] {0}\r\n)\r\n" +
		"* OK \"odd quote\r\n" +
		"A1 OK {2+}\r\nxy\r\n" +
		"* " + strings.Repeat("x", 10000) + "\r\n" +
		"partial"
	want := []string{
		"* OK ready\r\n",
		"* LIST () \"/\" {8}\r\ncr\r\nlf!!\r\n",
		"* LIST () \"/\" \"quoted\r\nbreak \\\" \\\\\"\r\n",
		"* 1 FETCH (UID 5 BODY[HEADER] {3}\r\na\r\n BODY[TEXT] {0}\r\n)\r\n",
		"* OK \"odd quote\r\n",
		"A1 OK {2+}\r\nxy\r\n",
		"* " + strings.Repeat("x", 10000) + "\r\n",
	}
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	for _, w := range want {
		got, err := readResponse(r)
		if err != nil || string(got) != w {
			t.Fatalf("got %q, %v; want %q", got, err, w)
		}
	}
	if got, err := readResponse(r); err == nil || string(got) != "partial" {
		t.Errorf("at the end: %q, %v", got, err)
	}
	if _, err := readResponse(bufio.NewReader(strings.NewReader("* LIST () \"/\" {99999999}\r\n"))); err == nil {
		t.Error("huge literal read")
	}
}

func TestFetchUID(t *testing.T) {
	for resp, want := range map[string]uint32{
		"* 3 FETCH (UID 17 RFC822.SIZE -5)\r\n":             17,
		"* 3 fetch (uid 17)\r\n":                            17,
		"* 3 FETCH (RFC822.SIZE -5 UID 17)\r\n":             0, // not at the head: not sure
		"* 3 FETCH (INTERNALDATE \"UID 4\" UID 17)\r\n":     0,
		"* 3 FETCH (UID 99999999999 RFC822.SIZE 1)\r\n":     0,
		"* 3 FETCH (UID 0 RFC822.SIZE 1)\r\n":               0,
		"* 3 FETCH (UID 17x)\r\n":                           0,
		"* 3 FETCH (UID 4294967295 INTERNALDATE x)\r\n":     4294967295,
		"* LIST () \"/\" \"* 3 FETCH (UID 17 x)\"\r\n":      0,
		"junk * 3 FETCH (UID 17 RFC822.SIZE -5)\r\n":        0,
		"* 3 FETCH (UID 17)":                                17,
		"* 3 FETCH (UID 17 BODY[HEADER] {2}\r\nab)\r\n":     17,
		"* 3 FETCH (UID 17\r\n":                             0,
		"* 3 FETCH (UID 17 FLAGS (\\Seen) RFC822.SIZE)\r\n": 17,
	} {
		got, ok := fetchUID(resp)
		if got != want || ok != (want != 0) {
			t.Errorf("fetchUID(%q) = %d, %v; want %d", resp, got, ok, want)
		}
	}
}

func TestUIDsFrom(t *testing.T) {
	for _, tc := range []struct {
		from uint32
		skip []uint32
		want string
	}{
		{1, nil, "1:*"},
		{5, nil, "5:*"},
		{1, []uint32{3}, "1:2,4:4294967295"},
		{1, []uint32{1, 2, 5}, "3:4,6:4294967295"},
		{4, []uint32{2, 4}, "5:4294967295"},
		{4, []uint32{4294967295}, "4:4294967294"},
		{4294967295, []uint32{4294967295}, ""},
	} {
		if got := uidsFrom(tc.from, tc.skip).String(); got != tc.want {
			t.Errorf("uidsFrom(%d, %v) = %q, want %q", tc.from, tc.skip, got, tc.want)
		}
	}
	if got := without([]imap.UID{1, 2, 3, 7}, []uint32{2, 7, 9}); !reflect.DeepEqual(got, []imap.UID{1, 3}) {
		t.Errorf("without: %v", got)
	}
}

// FuzzReadResponse: framing never loses, adds or reorders a byte, whatever
// the server sends.
func FuzzReadResponse(f *testing.F) {
	f.Add("* OK hi\r\n* LIST () \"/\" {3}\r\na\r\n\r\nT1 OK\r\n")
	f.Add("* LIST () \"/\" \"a\r\nb\\\"\"\r\n* 1 FETCH (UID 1 BODY[] {2+}\r\nxy)\r\n")
	f.Add("* 1 FETCH (UID 1 BODY[] {99999999999999999999}\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		var out []byte
		for {
			resp, err := readResponse(r)
			out = append(out, resp...)
			if err != nil {
				break
			}
			if len(resp) == 0 {
				t.Fatal("empty response without an error")
			}
		}
		rest, _ := io.ReadAll(r)
		if got := string(out) + string(rest); got != in {
			t.Fatalf("framed %q as %q", in, got)
		}
	})
}

// FuzzListName: whatever a folder's name is (sent as a literal), listing
// succeeds, every other folder is listed, and the name is listed as it was
// sent or left out.
func FuzzListName(f *testing.F) {
	for _, name := range []string{"ok", "", "ctl\x01", "nul\x00", "cr\r\nlf", "&Jjo", "&AGE-", "\xff", "a\"b", "{5}\r\n", "&AAE-"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := imaptest.StartScripted(t)
		s.AddFolder("Fuzzed", 1)
		s.SetListLine("Fuzzed", fmt.Sprintf("* LIST () \"/\" {%d}\r\n%s", len(name), name))
		s.AddFolder("After", 1)
		src, lb := scriptedSource(t, s)
		for range 2 {
			folders, err := src.Folders(context.Background())
			if err != nil {
				t.Fatalf("%q: %v\n%s", name, err, lb)
			}
			seen := map[string]bool{}
			for _, f := range folders {
				seen[f.Name] = true
			}
			if !seen["INBOX"] || !seen["After"] || len(folders) > 3 {
				t.Fatalf("%q: folders %+v", name, folders)
			}
			odd := strings.Contains(name, "&") || strings.EqualFold(name, "INBOX") || name == "After"
			if len(folders) == 3 && !seen[name] && !odd {
				t.Fatalf("%q: listed as %+v", name, folders)
			}
		}
	})
}

// FuzzMetaAttributes: whatever one message's RFC822.SIZE and INTERNALDATE
// say (on one line, without literals), the folder lists, with the other
// messages as they are.
func FuzzMetaAttributes(f *testing.F) {
	f.Add("-5", `"31-Foo-2020 99:00:00 +0000"`)
	f.Add("99999999999999999999", `"05-Mar-2024 10:20:30 +0000"`)
	f.Add("12", "NIL")
	f.Add("1 UID 7", `"x"`)
	f.Add("1)", `"05-Mar-2024 10:20:30 +0000") (`)
	f.Fuzz(func(t *testing.T, size, date string) {
		if strings.ContainsAny(size+date, "\r\n{") {
			return // may merge responses: then the server did send one bad response
		}
		s := imaptest.StartScripted(t)
		for i := range 3 {
			s.Append("INBOX", testMsg(string(rune('a'+i))), testDate)
		}
		s.SetFaults("INBOX", 2, &imaptest.Faults{Size: size, Date: date})
		src, lb := scriptedSource(t, s)
		got := map[uint32]cache.Meta{}
		err := src.FetchMeta(context.Background(), "INBOX", 1, 1, func(m cache.Meta) error {
			got[m.UID] = m
			return nil
		})
		if err != nil {
			t.Fatalf("size %q date %q: %v\n%s", size, date, err, lb)
		}
		for _, uid := range []uint32{1, 3} {
			if m := got[uid]; m.Size != int64(len(testMsg("a"))) || !m.Date.Equal(testDate) {
				t.Fatalf("size %q date %q: message %d: %+v", size, date, uid, m)
			}
		}
	})
}

// TestSkipWithoutUID: a bad FETCH response whose UID is not at its head
// cannot be left out by UID, so the folder is listed on a framed
// connection from then on (one login per listing), and still completely.
func TestSkipWithoutUID(t *testing.T) {
	s := imaptest.StartScripted(t)
	for i := range 3 {
		s.Append("INBOX", testMsg(string(rune('a'+i))), testDate)
	}
	src, lb := scriptedSource(t, s)
	src.skips.addFetch("INBOX", 1, "* 9 FETCH (RFC822.SIZE -5 UID 9)\r\n")
	for round := range 2 {
		logins := s.Count("LOGIN")
		n := 0
		err := src.FetchMeta(context.Background(), "INBOX", 1, 1, func(cache.Meta) error { n++; return nil })
		if err != nil || n != 3 {
			t.Fatalf("round %d: %d messages, %v\n%s", round, n, err, lb)
		}
		if got := s.Count("LOGIN") - logins; got != 1 {
			t.Errorf("round %d: %d logins, want 1 (a framed connection)", round, got)
		}
	}
}

// TestMetaEndlessResponses: a server that repeats one message's FETCH
// response forever, or floods "* N EXISTS" instead, makes the listing
// fail after the stall limit, not hang.
func TestMetaEndlessResponses(t *testing.T) {
	for _, f := range []imaptest.Faults{{Repeat: true}, {Flood: true}} {
		s := imaptest.StartScripted(t)
		s.Append("INBOX", testMsg("a"), testDate)
		s.Append("INBOX", testMsg("b"), testDate)
		s.SetFaults("INBOX", 2, &f)
		src, err := New(Config{Addr: s.Addr, TLS: TLSNone, User: s.User, Password: s.Password, StallTimeout: 300 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = src.FetchMeta(context.Background(), "INBOX", 1, 1, func(cache.Meta) error { return nil })
		if err == nil || time.Since(start) > 5*time.Second {
			t.Errorf("%+v: FetchMeta returned %v after %v", f, err, time.Since(start))
		}
		src.Close()
	}
}
