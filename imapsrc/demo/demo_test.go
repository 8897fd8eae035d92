package demo

import (
	"bytes"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailfs/imapsrc/sample"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func login(t *testing.T, s *Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// byFolder groups the sample messages by folder, in append order.
func byFolder() map[string][]sample.Message {
	m := map[string][]sample.Message{}
	for _, msg := range sample.Messages() {
		m[msg.Folder] = append(m[msg.Folder], msg)
	}
	return m
}

func TestStartAndLogin(t *testing.T) {
	s := start(t)
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil || host != "127.0.0.1" {
		t.Errorf("Addr = %q, want 127.0.0.1:PORT", s.Addr)
	}
	if s.User == "" || len(s.Password) < 16 {
		t.Errorf("User %q, Password %q", s.User, s.Password)
	}

	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(s.User, "wrong").Wait(); err == nil {
		t.Error("login with a wrong password succeeded")
	}
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Errorf("login: %v", err)
	}

	if s2 := start(t); s2.Password == s.Password || s2.Addr == s.Addr {
		t.Error("two servers share password or address")
	}
}

func TestList(t *testing.T) {
	c := login(t, start(t))

	list := func(pattern string) []string {
		t.Helper()
		data, err := c.List("", pattern, nil).Collect()
		if err != nil {
			t.Fatalf("LIST %q: %v", pattern, err)
		}
		var names []string
		for _, d := range data {
			if d.Delim != '/' {
				t.Errorf("LIST %q: %q has delimiter %q", pattern, d.Mailbox, d.Delim)
			}
			names = append(names, d.Mailbox)
		}
		slices.Sort(names)
		return names
	}

	want := slices.Sorted(slices.Values(sample.Folders()))
	if got := list("*"); !slices.Equal(got, want) {
		t.Errorf("LIST * = %q, want %q", got, want)
	}
	var top []string
	for _, f := range want {
		if !strings.Contains(f, "/") {
			top = append(top, f)
		}
	}
	if got := list("%"); !slices.Equal(got, top) {
		t.Errorf("LIST %% = %q, want %q", got, top)
	}
	if got, want := list("Archiv/%"), []string{"Archiv/2023", "Archiv/2024"}; !slices.Equal(got, want) {
		t.Errorf("LIST Archiv/%% = %q, want %q", got, want)
	}
	// Names are sent in modified UTF-7; check one that must be escaped.
	if got := list("R&D"); !slices.Equal(got, []string{"R&D"}) {
		t.Errorf("LIST R&D = %q", got)
	}
}

func TestStatus(t *testing.T) {
	c := login(t, start(t))
	msgs := byFolder()
	validity := map[uint32]string{}
	for _, f := range sample.Folders() {
		st, err := c.Status(f, &imap.StatusOptions{UIDValidity: true, UIDNext: true, NumMessages: true}).Wait()
		if err != nil {
			t.Errorf("STATUS %q: %v", f, err)
			continue
		}
		n := uint32(len(msgs[f]))
		if st.NumMessages == nil || *st.NumMessages != n {
			t.Errorf("STATUS %q: MESSAGES %v, want %d", f, st.NumMessages, n)
		}
		if st.UIDNext != imap.UID(n+1) {
			t.Errorf("STATUS %q: UIDNEXT %d, want %d", f, st.UIDNext, n+1)
		}
		if st.UIDValidity == 0 || validity[st.UIDValidity] != "" {
			t.Errorf("STATUS %q: UIDVALIDITY %d (also %q)", f, st.UIDValidity, validity[st.UIDValidity])
		}
		validity[st.UIDValidity] = f
	}
}

// headerFields returns the raw lines of the named header fields, in order,
// followed by the empty line: what BODY[HEADER.FIELDS (…)] must return.
func headerFields(raw []byte, names ...string) []byte {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out bytes.Buffer
	keep := false
	for _, line := range strings.SplitAfter(string(head)+"\r\n", "\r\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(line, ":")
			keep = slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, strings.TrimSpace(name)) })
		}
		if keep {
			out.WriteString(line)
		}
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

func flagSet(flags []imap.Flag) []string {
	var s []string
	for _, f := range flags {
		s = append(s, strings.ToLower(string(f)))
	}
	slices.Sort(s)
	return s
}

func sampleFlagSet(flags []string) []string {
	var s []string
	for _, f := range flags {
		s = append(s, strings.ToLower(f))
	}
	slices.Sort(s)
	return s
}

// fetchBody streams BODY.PEEK[] of one UID, reading the literal fully.
func fetchBody(t *testing.T, c *imapclient.Client, uid imap.UID, peek bool) []byte {
	t.Helper()
	cmd := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{Peek: peek}},
	})
	var body []byte
	n := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		n++
		for item := msg.Next(); item != nil; item = msg.Next() {
			if bs, ok := item.(imapclient.FetchItemDataBodySection); ok {
				b, err := io.ReadAll(bs.Literal)
				if err != nil {
					t.Fatalf("UID %d: read literal: %v", uid, err)
				}
				body = b
			}
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("UID FETCH %d BODY[]: %v", uid, err)
	}
	if n != 1 {
		t.Fatalf("UID FETCH %d: %d messages", uid, n)
	}
	return body
}

func TestExamineFetchSearch(t *testing.T) {
	c := login(t, start(t))
	hdrSection := &imap.FetchItemBodySection{
		Specifier:    imap.PartSpecifierHeader,
		HeaderFields: []string{"SUBJECT", "MESSAGE-ID"},
		Peek:         true,
	}
	for folder, msgs := range byFolder() {
		sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatalf("EXAMINE %q: %v", folder, err)
		}
		if sel.NumMessages != uint32(len(msgs)) {
			t.Errorf("EXAMINE %q: %d messages, want %d", folder, sel.NumMessages, len(msgs))
		}

		got, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
			UID: true, Flags: true, InternalDate: true, RFC822Size: true,
			BodySection: []*imap.FetchItemBodySection{hdrSection},
		}).Collect()
		if err != nil {
			t.Fatalf("%q: UID FETCH 1:*: %v", folder, err)
		}
		if len(got) != len(msgs) {
			t.Fatalf("%q: UID FETCH 1:* returned %d messages, want %d", folder, len(got), len(msgs))
		}
		for i, m := range msgs {
			g := got[i]
			name := folder + "/" + string(headerFields(m.Raw, "Message-ID"))
			if g.UID != imap.UID(i+1) {
				t.Errorf("%s: UID %d, want %d", name, g.UID, i+1)
			}
			if !slices.Equal(flagSet(g.Flags), sampleFlagSet(m.Flags)) {
				t.Errorf("%s: FLAGS %q, want %q", name, g.Flags, m.Flags)
			}
			_, gotOff := g.InternalDate.Zone()
			_, wantOff := m.Date.Zone()
			if !g.InternalDate.Equal(m.Date) || gotOff != wantOff {
				t.Errorf("%s: INTERNALDATE %v, want %v", name, g.InternalDate, m.Date)
			}
			if g.RFC822Size != int64(len(m.Raw)) {
				t.Errorf("%s: RFC822.SIZE %d, want %d", name, g.RFC822Size, len(m.Raw))
			}
			if h, want := g.FindBodySection(hdrSection), headerFields(m.Raw, "Subject", "Message-ID"); !bytes.Equal(h, want) {
				t.Errorf("%s: HEADER.FIELDS = %q, want %q", name, h, want)
			}
			if body := fetchBody(t, c, g.UID, true); !bytes.Equal(body, m.Raw) {
				t.Errorf("%s: BODY.PEEK[] differs from sample (%d vs %d bytes)", name, len(body), len(m.Raw))
			}
		}

		// BODY.PEEK[] did not set \Seen.
		after, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range after {
			if !slices.Equal(flagSet(g.Flags), sampleFlagSet(msgs[i].Flags)) {
				t.Errorf("%q UID %d: FLAGS %q after BODY.PEEK[], want %q", folder, g.UID, g.Flags, msgs[i].Flags)
			}
		}

		search, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if err != nil {
			t.Fatalf("%q: UID SEARCH ALL: %v", folder, err)
		}
		var want []imap.UID
		for i := range msgs {
			want = append(want, imap.UID(i+1))
		}
		if got := search.AllUIDs(); !slices.Equal(got, want) {
			t.Errorf("%q: UID SEARCH ALL = %v, want %v", folder, got, want)
		}
	}

	// The hierarchy-only parent can be examined and is empty.
	sel, err := c.Select("Archiv", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil || sel.NumMessages != 0 {
		t.Errorf("EXAMINE Archiv: %v, %+v", err, sel)
	}
	if got, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true}).Collect(); err != nil || len(got) != 0 {
		t.Errorf("UID FETCH 1:* in Archiv: %d messages, %v", len(got), err)
	}
}

// unseenUID returns the UID of the first INBOX message without \Seen.
func unseenUID(t *testing.T) imap.UID {
	for i, m := range byFolder()["INBOX"] {
		if !slices.Contains(m.Flags, `\Seen`) {
			return imap.UID(i + 1)
		}
	}
	t.Fatal("no unseen message in INBOX")
	return 0
}

func hasSeen(t *testing.T, c *imapclient.Client, uid imap.UID) bool {
	t.Helper()
	got, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(got) != 1 {
		t.Fatalf("UID FETCH %d FLAGS: %v (%d messages)", uid, err, len(got))
	}
	return slices.Contains(got[0].Flags, imap.FlagSeen)
}

func TestExamineIsReadOnly(t *testing.T) {
	c := login(t, start(t))
	uid := unseenUID(t)

	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	fetchBody(t, c, uid, false) // BODY[], not BODY.PEEK[]
	if hasSeen(t, c, uid) {
		t.Error("BODY[] set \\Seen in a mailbox opened with EXAMINE")
	}
	err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close()
	if err == nil {
		t.Error("STORE succeeded after EXAMINE")
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}

	// SELECT keeps imapmemserver's normal behaviour.
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	fetchBody(t, c, uid, true)
	if hasSeen(t, c, uid) {
		t.Error("BODY.PEEK[] set \\Seen")
	}
	fetchBody(t, c, uid, false)
	if !hasSeen(t, c, uid) {
		t.Error("BODY[] did not set \\Seen after SELECT")
	}
}

// TestStructure fetches what a richer client would ask for, to show that the
// server copes with every sample message, the malformed one included.
func TestStructure(t *testing.T) {
	c := login(t, start(t))
	for _, folder := range sample.Folders() {
		if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatal(err)
		}
		got, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
			Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		}).Collect()
		if err != nil {
			t.Errorf("%q: FETCH ENVELOPE BODYSTRUCTURE: %v", folder, err)
		}
		for _, g := range got {
			if g.Envelope == nil || g.BodyStructure == nil {
				t.Errorf("%q UID %d: envelope %v, bodystructure %v", folder, g.UID, g.Envelope, g.BodyStructure)
			}
		}
	}
}

func TestAppendBig(t *testing.T) {
	if testing.Short() {
		t.Skip("5 MiB round trip")
	}
	c := login(t, start(t))
	big := sample.Big(5 << 20)
	cmd := c.Append(big.Folder, int64(len(big.Raw)), &imap.AppendOptions{Time: big.Date})
	if _, err := cmd.Write(big.Raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(big.Folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if body := fetchBody(t, c, res.UID, true); !bytes.Equal(body, big.Raw) {
		t.Errorf("BODY.PEEK[] of the big message: %d bytes, differs from %d", len(body), len(big.Raw))
	}
}

func TestClose(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	c := login(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Noop().Wait(); err == nil {
		t.Error("connection still works after Close")
	}
	if conn, err := net.Dial("tcp", s.Addr); err == nil {
		conn.Close()
		t.Error("still listening after Close")
	}
}
