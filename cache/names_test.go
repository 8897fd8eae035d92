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
		{"Invoice for March", "2024-03-01 143205 Invoice for March [7]"},
		{"", "2024-03-01 143205 (no subject) [7]"},
		{" \t ", "2024-03-01 143205 (no subject) [7]"},
		{"a/b\\c:d*e?f\"g<h>i|j", "2024-03-01 143205 a_b_c_d_e_f_g_h_i_j [7]"},
		{"two\r\n  lines\x1b[0m", "2024-03-01 143205 two lines [0m [7]"},
		{"ends in dots...", "2024-03-01 143205 ends in dots [7]"},
		{"bad \xff utf8", "2024-03-01 143205 bad \uFFFD utf8 [7]"},
		{"Grüße 📷", "2024-03-01 143205 Grüße 📷 [7]"},
	} {
		if got := MessageStem(date, tc.subject, 7); got != tc.want {
			t.Errorf("MessageStem(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestMessageStemLong(t *testing.T) {
	stem := MessageStem(time.Unix(0, 0), strings.Repeat("ü", 300), 4294967295)
	if len(stem)+len(".html") > 255 || !utf8.ValidString(stem) || !strings.HasSuffix(stem, " [4294967295]") {
		t.Errorf("long stem %q (%d bytes)", stem, len(stem))
	}
}

func FuzzMessageStem(f *testing.F) {
	f.Add("Invoice", int64(0), uint32(1))
	f.Add("-rf /", int64(1e9), uint32(99))
	f.Fuzz(func(t *testing.T, subject string, sec int64, uid uint32) {
		stem := MessageStem(time.Unix(sec%(1<<40), 0), subject, uid)
		if !utf8.ValidString(stem) || len(stem)+5 > 255 {
			t.Fatalf("bad stem %q", stem)
		}
		if strings.HasPrefix(stem, "-") || strings.HasPrefix(stem, ".") || strings.ContainsAny(stem, "/\\:*?\"<>|\x00") {
			t.Fatalf("unsafe stem %q", stem)
		}
		if strings.IndexFunc(stem, unicode.IsControl) >= 0 {
			t.Fatalf("control character in %q", stem)
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
