package cache

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestMessageStem(t *testing.T) {
	date := time.Date(2024, 3, 1, 15, 32, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct{ subject, want string }{
		{"Invoice for March", "2024-03-01 143205 Invoice for March [k3m7x2qa]"},
		{"", "2024-03-01 143205 (no subject) [k3m7x2qa]"},
		{" \t ", "2024-03-01 143205 (no subject) [k3m7x2qa]"},
		{"a/b\\c:d*e?f\"g<h>i|j", "2024-03-01 143205 a_b_c_d_e_f_g_h_i_j [k3m7x2qa]"},
		{"two\r\n  lines\x1b[0m", "2024-03-01 143205 two lines [0m [k3m7x2qa]"},
		{"ends in dots...", "2024-03-01 143205 ends in dots [k3m7x2qa]"},
		{"bad \xff utf8", "2024-03-01 143205 bad \uFFFD utf8 [k3m7x2qa]"},
		{"Grüße 📷", "2024-03-01 143205 Grüße 📷 [k3m7x2qa]"},
	} {
		if got := MessageStem(date, tc.subject, "k3m7x2qa"); got != tc.want {
			t.Errorf("MessageStem(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestMessageStemLong(t *testing.T) {
	stem := MessageStem(time.Unix(0, 0), strings.Repeat("ü", 300), "k3m7x2qa")
	stem = withDup(stem, 4294967295)
	if len(stem)+len(".html") > 255 || !utf8.ValidString(stem) || !strings.HasSuffix(stem, " [k3m7x2qa-4294967295]") {
		t.Errorf("long stem %q (%d bytes)", stem, len(stem))
	}
}

// TestNameID: the ID depends on the Message-ID and the second of the
// INTERNALDATE only (and, without a Message-ID, on the subject and the
// listed size instead), never on the server's way of writing either.
func TestNameID(t *testing.T) {
	date := time.Date(2024, 3, 1, 14, 32, 5, 0, time.UTC)
	id := NameID("abc@example.com", date, "Invoice", 1234)
	// The value is part of every name shown: it must never change.
	if id != "dh7j6z4c" {
		t.Errorf("NameID = %q: names changed", id)
	}
	same := []string{
		NameID("<abc@example.com>", date, "Invoice", 1234),
		NameID(" <abc@example.com> ", date.In(time.FixedZone("CET", 3600)), "Re: other", 99),
		NameID("abc@example.com", date.Add(999*time.Millisecond), "", 0),
	}
	for i, s := range same {
		if s != id {
			t.Errorf("case %d: %q, want %q", i, s, id)
		}
	}
	differ := []string{
		NameID("abd@example.com", date, "Invoice", 1234),
		NameID("ABC@example.com", date, "Invoice", 1234),
		NameID("abc@example.com", date.Add(time.Second), "Invoice", 1234),
		NameID("", date, "Invoice", 1234),
	}
	for i, s := range differ {
		if s == id {
			t.Errorf("case %d: same ID %q", i, s)
		}
	}
	noID := NameID("", date, "Invoice", 1234)
	if NameID("", date, "Invoice", 1235) == noID || NameID("", date, "Invoice!", 1234) == noID || NameID("", date, "Invoice", 1234) != noID {
		t.Error("without a Message-ID the ID must follow subject, date and size")
	}
	for _, s := range append(same, differ...) {
		if len(s) != idLen || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Errorf("ID %q is not %d base32 characters", s, idLen)
		}
	}
}

func TestNamesDuplicates(t *testing.T) {
	date := time.Date(2024, 3, 1, 14, 32, 5, 0, time.UTC)
	m := func(uid uint32, id, subject string, size int64) Meta {
		return Meta{UID: uid, Date: date, MessageID: id, Subject: subject, Size: size}
	}
	got := Names([]Meta{
		m(3, "a@x", "Hi", 100),
		m(5, "b@x", "Hi", 100),
		m(7, "a@x", "Hi", 100), // a true duplicate of UID 3
		m(8, "a@x", "Hi", 200), // same Message-ID and second, other bytes
		m(9, "a@x", "Other", 100),
	})
	id := NameID("a@x", date, "", 0)
	want := []string{
		"2024-03-01 143205 Hi [" + id + "]",
		"2024-03-01 143205 Hi [" + NameID("b@x", date, "", 0) + "]",
		"2024-03-01 143205 Hi [" + id + "-2]",
		"2024-03-01 143205 Hi [" + id + "-3]",
		"2024-03-01 143205 Other [" + id + "]",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestNameStableAfterResize: a size corrected from the body renames
// nothing, not even for a message without a Message-ID, whose ID follows
// the size first listed; records written before the listed size was kept
// name their messages as before.
func TestNameStableAfterResize(t *testing.T) {
	m := Meta{UID: 4, Size: 500, Date: time.Unix(1.7e9, 0), Subject: "no id"}
	before := newMsg(m, 1)
	rec := recFromMeta(m)
	rec.Size = 512 // what storeSize does
	r, err := decodeMsg(rec.encode())
	if err != nil {
		t.Fatal(err)
	}
	if after := newMsg(r.meta(4), 1); after.Stem != before.Stem || after.Link != before.Link || after.Size != 512 {
		t.Errorf("after a resize: %q %x (%d bytes), before %q %x", after.Stem, after.Link, after.Size, before.Stem, before.Link)
	}
	// A record of the version before: no listed size after the Message-ID.
	old := encoder{recVersion}
	old.uint(500)
	old.uint(uint64(m.Date.UnixNano()))
	old.str(m.Subject)
	old.str("")
	r, err = decodeMsg(old)
	if err != nil || newMsg(r.meta(4), 1).Stem != before.Stem {
		t.Errorf("old record: %v, %q", err, newMsg(r.meta(4), 1).Stem)
	}
}

func FuzzNames(f *testing.F) {
	f.Add("Invoice", "a@x", int64(0), int64(10), "Invoice", "a@x", int64(0), int64(10))
	f.Add("-rf /", "", int64(1e9), int64(0), "-rf /", "", int64(1e9), int64(0))
	f.Fuzz(func(t *testing.T, subj1, id1 string, sec1, size1 int64, subj2, id2 string, sec2, size2 int64) {
		ms := []Meta{
			{UID: 1, Subject: subj1, MessageID: id1, Date: time.Unix(sec1%(1<<40), 0), Size: size1},
			{UID: 2, Subject: subj2, MessageID: id2, Date: time.Unix(sec2%(1<<40), 0), Size: size2},
			{UID: 3, Subject: subj1, MessageID: id1, Date: time.Unix(sec1%(1<<40), 0), Size: size1},
		}
		names := Names(ms)
		seen := map[string]bool{}
		for _, stem := range names {
			if seen[stem] {
				t.Fatalf("two messages named %q", stem)
			}
			seen[stem] = true
			if !utf8.ValidString(stem) || len(stem)+5 > 255 {
				t.Fatalf("bad stem %q", stem)
			}
			if strings.HasPrefix(stem, "-") || strings.HasPrefix(stem, ".") || strings.ContainsAny(stem, "/\\:*?\"<>|\x00") {
				t.Fatalf("unsafe stem %q", stem)
			}
			if strings.IndexFunc(stem, unicode.IsControl) >= 0 {
				t.Fatalf("control character in %q", stem)
			}
		}
		// Stable: the same listing names the same, and a later message
		// renames no earlier one.
		if again := Names(ms[:2]); again[0] != names[0] || again[1] != names[1] {
			t.Fatalf("names changed: %q, then %q", names, again)
		}
		// The store's way (newMsg, publish) names as Names does.
		var f folder
		msgs := []Msg{newMsg(ms[0], 1), newMsg(ms[1], 1), newMsg(ms[2], 1)}
		f.publish(msgs)
		for i := range msgs {
			if f.msgs[i].Stem != names[i] {
				t.Fatalf("store names %q, Names %q", f.msgs[i].Stem, names[i])
			}
		}
	})
}

func TestFolderComponent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entwürfe"},
		{"R&D", "R&D"},
		{".", "%2E"},
		{"..", "%2E%2E"},
		{"a/b", "a%2Fb"},
		{"100%", "100%25"},
		{"nul\x00", "nul%00"},
		{"", "%"},
		{"cr\r\nlf", "cr%0D%0Alf"},
		{"ctl\x01\x1b[2J\x7f", "ctl%01%1B[2J%7F"},
		{"c1\u0085", "c1%C2%85"},
		{"bad\xff\xfe utf8", "bad%FF%FE utf8"},
		{"%00", "%2500"},
	} {
		if got := FolderComponent(tc.in); got != tc.want {
			t.Errorf("FolderComponent(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("ä", 200)
	a, b := FolderComponent(long), FolderComponent(long+"x")
	if len(a) > 255 || len(b) > 255 || a == b || !utf8.ValidString(a) {
		t.Errorf("long names: %q / %q", a, b)
	}
}

func FuzzFolderComponentInjective(f *testing.F) {
	f.Add("a/b", "a%2Fb")
	f.Add(".", "%2E")
	f.Add("nul\x00", "nul%00")
	f.Add("\xff", "\xfe")
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == b {
			return
		}
		ca, cb := FolderComponent(a), FolderComponent(b)
		if ca == cb {
			t.Fatalf("%q and %q both map to %q", a, b, ca)
		}
		if ca == "." || ca == ".." || strings.ContainsAny(ca, "/\x00") || len(ca) > 255 {
			t.Fatalf("%q maps to unusable %q", a, ca)
		}
		if !utf8.ValidString(ca) || strings.IndexFunc(ca, unicode.IsControl) >= 0 {
			t.Fatalf("%q maps to %q, with a control character or not UTF-8", a, ca)
		}
	})
}
