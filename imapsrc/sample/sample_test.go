package sample

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// messageID returns the Message-ID header of raw, or "".
func messageID(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("read header: %v", err)
	}
	return e.Header.Get("Message-Id")
}

// walk parses raw with mail.CreateReader and reads every part, recursing
// into message/rfc822 attachments. Unknown charsets are not errors: this
// package does not link go-message/charset.
func walk(raw []byte) (parts int, err error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return 0, fmt.Errorf("create reader: %w", err)
	}
	defer mr.Close()
	if _, err := mr.Header.Subject(); err != nil && !message.IsUnknownCharset(err) &&
		!strings.Contains(err.Error(), "unhandled charset") {
		return 0, fmt.Errorf("subject: %w", err)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return parts, nil
		}
		if err != nil && !message.IsUnknownCharset(err) {
			return parts, fmt.Errorf("part %d: %w", parts+1, err)
		}
		parts++
		body, err := io.ReadAll(p.Body)
		if err != nil {
			return parts, fmt.Errorf("part %d body: %w", parts, err)
		}
		if ah, ok := p.Header.(*mail.AttachmentHeader); ok {
			if _, err := ah.Filename(); err != nil {
				return parts, fmt.Errorf("part %d filename: %w", parts, err)
			}
		}
		h := headerOf(p)
		if ct, _, _ := h.ContentType(); ct == "message/rfc822" {
			n, err := walk(body)
			if err != nil {
				return parts, fmt.Errorf("part %d (message/rfc822): %w", parts, err)
			}
			parts += n
		}
	}
}

func headerOf(p *mail.Part) (h message.Header) {
	switch ph := p.Header.(type) {
	case *mail.InlineHeader:
		return ph.Header
	case *mail.AttachmentHeader:
		return ph.Header
	}
	return h
}

func TestMessagesParse(t *testing.T) {
	for i, m := range Messages() {
		id := messageID(t, m.Raw)
		parts, err := walk(m.Raw)
		if id == MalformedMessageID {
			if err == nil {
				t.Errorf("message %d %s: parsed without error, want the deliberate MIME error", i, id)
			}
			continue
		}
		if err != nil {
			t.Errorf("message %d %s: %v", i, id, err)
		}
		if parts == 0 {
			t.Errorf("message %d %s: no parts", i, id)
		}
	}
}

func TestMessagesWellFormedBytes(t *testing.T) {
	ids := map[string]bool{}
	for i, m := range Messages() {
		raw := m.Raw
		id := messageID(t, raw)
		if id == "" {
			t.Errorf("message %d: no Message-ID", i)
		}
		if ids[id] {
			t.Errorf("message %d: duplicate Message-ID %s", i, id)
		}
		ids[id] = true
		checkCRLF(t, id, raw)
		if !bytes.Contains(raw, []byte("\r\n\r\n")) {
			t.Errorf("%s: no header/body separator", id)
		}
		for n, line := range bytes.Split(raw, []byte("\r\n")) {
			if len(line) > 998 {
				t.Errorf("%s: line %d is %d bytes long", id, n+1, len(line))
			}
		}
		// Every header field is well formed (servers re-parse headers).
		if _, err := message.Read(bytes.NewReader(raw)); err != nil && !message.IsUnknownCharset(err) {
			t.Errorf("%s: header: %v", id, err)
		}
	}
	if len(ids) < 25 {
		t.Errorf("only %d messages", len(ids))
	}
}

func checkCRLF(t *testing.T, name string, raw []byte) {
	t.Helper()
	for i, c := range raw {
		switch {
		case c == '\n' && (i == 0 || raw[i-1] != '\r'):
			t.Errorf("%s: bare LF at offset %d", name, i)
			return
		case c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n'):
			t.Errorf("%s: bare CR at offset %d", name, i)
			return
		}
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("%s: does not end in CRLF", name)
	}
}

func TestMessagesDeterministic(t *testing.T) {
	a, b := Messages(), Messages()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two calls of Messages differ")
	}
	// The caller owns what it gets.
	a[0].Raw[0] = 'X'
	a[0].Flags = append(a[0].Flags[:0], `\Deleted`)
	if c := Messages(); !reflect.DeepEqual(b, c) {
		t.Fatal("modifying a result changed a later call")
	}
}

func TestFolders(t *testing.T) {
	folders := Folders()
	for i, f := range folders {
		if !utf8.ValidString(f) || f == "" || strings.HasPrefix(f, "/") || strings.HasSuffix(f, "/") {
			t.Errorf("bad folder name %q", f)
		}
		if j := strings.LastIndex(f, "/"); j >= 0 && !slices.Contains(folders[:i], f[:j]) {
			t.Errorf("%q comes before its parent %q", f, f[:j])
		}
	}
	for _, want := range []string{"INBOX", "Archiv", "Archiv/2024", "Entwürfe", "R&D", "日本語", "Projekte 🚀", "Newsletters"} {
		if !slices.Contains(folders, want) {
			t.Errorf("folder %q missing", want)
		}
	}
	count := map[string]int{}
	for _, m := range Messages() {
		if !slices.Contains(folders, m.Folder) {
			t.Errorf("message in unknown folder %q", m.Folder)
		}
		count[m.Folder]++
	}
	if count["Archiv"] != 0 {
		t.Errorf("Archiv holds %d messages, want it as a pure hierarchy level", count["Archiv"])
	}
	for _, f := range folders {
		if f != "Archiv" && count[f] == 0 {
			t.Errorf("folder %q is empty", f)
		}
	}
}

func TestDatesAndFlags(t *testing.T) {
	zones := map[int]bool{}
	minutes := map[string]int{}
	var nSeen int
	msgs := Messages()
	for _, m := range msgs {
		if m.Date.Year() < 2023 || m.Date.Year() > 2024 || m.Date.Nanosecond() != 0 {
			t.Errorf("%s: INTERNALDATE %v", messageID(t, m.Raw), m.Date)
		}
		_, off := m.Date.Zone()
		zones[off] = true
		if slices.Contains(m.Flags, `\Seen`) {
			nSeen++
		}
		h := mustHeader(t, m.Raw)
		subject := h.Get("Subject")
		minutes[subject+m.Date.UTC().Format("2006-01-02 15:04")]++
	}
	if len(zones) < 5 {
		t.Errorf("INTERNALDATEs use only %d time zones", len(zones))
	}
	if nSeen == 0 || nSeen*2 >= len(msgs) {
		t.Errorf("%d of %d messages are \\Seen, want some but fewer than half", nSeen, len(msgs))
	}
	var pair bool
	for _, n := range minutes {
		pair = pair || n >= 2
	}
	if !pair {
		t.Error("no two messages share subject and INTERNALDATE minute")
	}
}

func mustHeader(t *testing.T, raw []byte) mail.Header {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	return mail.Header{Header: e.Header}
}

// TestEdgeCases checks that the headers the package promises are there.
func TestEdgeCases(t *testing.T) {
	var noDate, noSubject, blankSubject, longSubject, calendar, related, rfc822 int
	charsets := map[string]bool{}
	for _, m := range Messages() {
		h := mustHeader(t, m.Raw)
		if !h.Has("Date") {
			noDate++
		}
		if !h.Has("Subject") {
			noSubject++
		} else if strings.TrimSpace(h.Get("Subject")) == "" {
			blankSubject++
		}
		if s, err := h.Subject(); err == nil && len(s) > 300 && strings.HasPrefix(s, "-") &&
			strings.ContainsAny(s, "/") && strings.Contains(s, ":") && strings.ContainsAny(s, "\x07\x1b\t") {
			longSubject++
		}
		for _, w := range strings.Fields(h.Get("Subject")) {
			if strings.HasPrefix(w, "=?") {
				cs, enc, _ := strings.Cut(w[2:], "?")
				charsets[strings.ToUpper(cs)+"/"+strings.ToUpper(enc[:1])] = true
			}
		}
		raw := string(m.Raw)
		if strings.Contains(raw, "Content-Type: text/calendar") {
			calendar++
		}
		if strings.Contains(raw, "multipart/related") && strings.Contains(raw, "cid:") {
			related++
		}
		if strings.Contains(raw, "Content-Type: message/rfc822") {
			rfc822++
		}
		if strings.Contains(raw, "charset=koi8-r") {
			charsets["KOI8-R body"] = true
		}
		if strings.Contains(raw, "charset=ISO-8859-15") {
			charsets["ISO-8859-15 body"] = true
		}
	}
	for name, n := range map[string]int{
		"without Date": noDate, "without Subject": noSubject, "with a blank Subject": blankSubject,
		"with a long hostile Subject": longSubject, "with text/calendar": calendar,
		"with an inline cid: image": related, "with message/rfc822": rfc822,
	} {
		if n != 1 {
			t.Errorf("%d messages %s, want 1", n, name)
		}
	}
	for _, cs := range []string{"UTF-8/B", "UTF-8/Q", "ISO-8859-1/Q", "ISO-8859-15/Q", "ISO-2022-JP/B", "KOI8-R/B", "KOI8-R body", "ISO-8859-15 body"} {
		if !charsets[cs] {
			t.Errorf("no subject or body in %s", cs)
		}
	}
}

func TestBig(t *testing.T) {
	const size = 5 << 20
	a, b := Big(size), Big(size)
	if !bytes.Equal(a.Raw, b.Raw) || !a.Date.Equal(b.Date) {
		t.Fatal("two calls of Big differ")
	}
	if d := len(a.Raw) - size; d < -size/100 || d > size/100 {
		t.Errorf("len = %d, want %d ± 1%%", len(a.Raw), size)
	}
	if a.Folder != "INBOX" {
		t.Errorf("folder %q", a.Folder)
	}
	checkCRLF(t, "Big", a.Raw)

	mr, err := mail.CreateReader(bytes.NewReader(a.Raw))
	if err != nil {
		t.Fatal(err)
	}
	var att []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Header.(*mail.AttachmentHeader); ok {
			att, err = io.ReadAll(bufio.NewReader(p.Body))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := pseudoRandom(len(att)); len(att) < size*7/10 || !bytes.Equal(att, want) {
		t.Errorf("attachment: %d bytes, equal to pseudoRandom: %v", len(att), bytes.Equal(att, want))
	}

	for _, n := range []int{0, 100, 1000, 4096, 1 << 20} {
		m := Big(n)
		if _, err := walk(m.Raw); err != nil {
			t.Errorf("Big(%d): %v", n, err)
		}
		if n >= 4096 && (len(m.Raw) < n-8 || len(m.Raw) > n) {
			t.Errorf("Big(%d) is %d bytes", n, len(m.Raw))
		}
	}
}
