package render

import (
	"os"
	"strings"
	"testing"
)

func TestDecodeCharset(t *testing.T) {
	tests := []struct {
		label string
		in    []byte
		want  string
	}{
		{"utf-8", []byte("Grüße"), "Grüße"},
		{"", []byte("Gr\xfc\xdfe"), "Grüße"},                        // unlabelled 8-bit: Windows-1252
		{"us-ascii", []byte("Gr\xfc\xdfe"), "Grüße"},                // mislabelled
		{"iso-8859-1", []byte("\x93quoted\x94 \x80"), "“quoted” €"}, // read as Windows-1252
		{"ISO-8859-15", []byte("\xa4"), "€"},
		{"windows-1251", []byte("\xcf\xf0\xe8\xe2\xe5\xf2"), "Привет"},
		{"koi8-r", []byte("\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет"},
		{"iso-2022-jp", []byte("\x1b$BF|K\\\x1b(B"), "日本"},
		{"shift_jis", []byte("\x93\xfa\x96{"), "日本"},
		{"euc-jp", []byte("\xc6\xfc\xcb\xdc"), "日本"},
		{"gb2312", []byte("\xd6\xd0\xce\xc4"), "中文"},
		{"GBK", []byte("\xd6\xd0\xce\xc4"), "中文"},
		{"gb18030", []byte("\xd6\xd0\xce\xc4"), "中文"},
		{"big5", []byte("\xa4\xa4\xa4\xe5"), "中文"},
		{"euc-kr", []byte("\xc7\xd1\xb1\xdb"), "한글"},
		{"ks_c_5601-1987", []byte("\xc7\xd1\xb1\xdb"), "한글"},
		{"windows-1255", []byte("\xf9\xec\xe5\xed"), "שלום"},
		{"windows-1256", []byte("\xe3\xd1\xcd\xc8\xc7"), "مرحبا"},
		{"iso-8859-7", []byte("\xc1\xe8\xde\xed\xe1"), "Αθήνα"},
		{"x-bogus", []byte("caf\xe9"), "café"},
		{"utf-8", []byte("bad \xff byte"), "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		if got := decodeCharset(tt.label, tt.in); got != tt.want {
			t.Errorf("decodeCharset(%q, %q) = %q, want %q", tt.label, tt.in, got, tt.want)
		}
	}
}

func TestDecodeWords(t *testing.T) {
	tests := map[string]string{
		"=?ISO-8859-1?Q?Gr=FC=DFe?=":                  "Grüße",
		"=?iso-8859-1?q?=93Hi=94?=":                   "“Hi”",
		"=?UTF-8?B?8J+OiSBQYXJ0eQ==?=":                "🎉 Party",
		"=?KOI8-R?B?8NLJ18XU?=":                       "Привет",
		"=?x-unknown?B?SGVsbG8=?=":                    "Hello",
		"plain \xe9t\xe9":                             "plain été",
		"=?utf-8?q?a?= =?utf-8?q?b?=":                 "ab",
		"=?utf-8?B?broken":                            "=?utf-8?B?broken",
		"Re: =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?= test": "Re: 日本 test",
	}
	for in, want := range tests {
		if got := decodeWords(in); got != want {
			t.Errorf("decodeWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"SGVsbG8gd29ybGQ=", "Hello world", true},
		{"SGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n", "Hello world", true},
		{"SGk=\nSGk=", "HiHi", true},             // each line padded
		{"SGVsbG8gd29ybGQ", "Hello world", true}, // no padding
		{"SGVsbG8g!!!garbage\nd29ybGQ=", "Hello world", false},
		{"SGVsbG8gd29ybG", "Hello worl", true},
	}
	for _, tt := range tests {
		got, ok := decodeBase64([]byte(tt.in))
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeQP(t *testing.T) {
	tests := map[string]string{
		"Gr=C3=BC=C3=9Fe":        "Grüße",
		"soft=\r\nbreak":         "softbreak",
		"soft=  \nbreak":         "softbreak",
		"a=3Db":                  "a=b",
		"bad =ZZ hex and = sign": "bad =ZZ hex and = sign",
		"trailing =":             "trailing ",
	}
	for in, want := range tests {
		if got := string(decodeQP([]byte(in))); got != want {
			t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnflow(t *testing.T) {
	in := "This is one \r\nparagraph.\r\n> quoted \r\n> too\r\n\r\n-- \r\nsig"
	want := "This is one paragraph.\n> quoted too\n\n-- \nsig"
	if got := unflow(in, false); got != want {
		t.Errorf("unflow = %q, want %q", got, want)
	}
	if got := unflow("ab \r\ncd", true); got != "abcd" {
		t.Errorf("unflow delsp = %q", got)
	}
}

func TestMediaTypeLenient(t *testing.T) {
	mt, p := mediaType(`multipart/mixed; boundary=abc def; charset="utf-8"`)
	if mt != "multipart/mixed" || p["boundary"] != "abc def" || p["charset"] != "utf-8" {
		t.Errorf("got %q %v", mt, p)
	}
	_, p = mediaType(`attachment; filename*=UTF-8''Stra%C3%9Fe.pdf`)
	if p["filename"] != "Straße.pdf" {
		t.Errorf("RFC 2231 filename = %q", p["filename"])
	}
	_, p = mediaType(`attachment; filename="=?UTF-8?Q?Gr=C3=BC=C3=9Fe.txt?="`)
	if p["filename"] != "Grüße.txt" {
		t.Errorf("RFC 2047 filename = %q", p["filename"])
	}
}

func TestSplitHeader(t *testing.T) {
	raw := "From MAILER-DAEMON Mon Mar  4 14:32:07 2024\r\nSubject: hi\r\nX-Long: a\r\n b\r\ngarbage line\r\nTo: x@y\r\n\r\nbody\r\n"
	h, body := splitHeader([]byte(raw))
	if h.Get("Subject") != "hi" || h.Get("To") != "x@y" || h.Get("X-Long") != "a b" || string(body) != "body\r\n" {
		t.Errorf("header %v, body %q", h.Map(), body)
	}
	h, body = splitHeader([]byte("no header here\nat all\n"))
	if h.Len() != 0 || string(body) != "no header here\nat all\n" {
		t.Errorf("headerless: %v %q", h.Map(), body)
	}
}

func TestCalendarSummary(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nSUMMARY:Stand-up\\, daily\r\nDTSTART:20240305T090000Z\r\n" +
		"DTEND:20240305T091500Z\r\nLOCATION:Room\r\n  7\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	got := calendarSummary(ics)
	for _, want := range []string{"Calendar event cancelled: Stand-up, daily", "When: Tue, 5 Mar 2024 09:00 – 09:15 (UTC)", "Where: Room 7"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestParseStructure(t *testing.T) {
	raw, err := os.ReadFile("testdata/newsletter.eml")
	if err != nil {
		t.Fatal(err)
	}
	m := parse(raw)
	if len(m.atts) != 0 {
		t.Errorf("cid image listed as attachment: %v", m.atts[0].name)
	}
	if m.cids["logo@news.example"] == nil {
		t.Error("cid resource missing")
	}
	if b := chooseBody(m.body, true); len(b) != 1 || b[0].kind != nHTML {
		t.Errorf("html choice: %+v", b)
	}
	if b := chooseBody(m.body, false); len(b) != 1 || b[0].kind != nText {
		t.Errorf("text choice: %+v", b)
	}
}
