package render

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

var mboxDate = time.Date(2024, 4, 8, 10, 0, 5, 0, time.FixedZone("CEST", 2*3600))

func TestMboxFromLine(t *testing.T) {
	for _, tc := range []struct{ head, want string }{
		{"Return-Path: <bounce@lists.example>\r\nFrom: Ann <ann@example.com>\r\n\r\nhi", "bounce@lists.example"},
		{"From: Ann <ann@example.com>\r\n\r\nhi", "ann@example.com"},
		{"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>, b@example.com\r\n\r\n", "j@example.de"},
		{"Return-Path: <>\r\nFrom: ann@example.com\r\n\r\n", "MAILER-DAEMON"},
		{"Subject: no sender\r\n\r\n", "MAILER-DAEMON"},
		{"From: \"two words\"@example.com\r\n\r\n", "MAILER-DAEMON"},
		{"", "MAILER-DAEMON"},
	} {
		got := string(MboxFromLine([]byte(tc.head), mboxDate))
		want := "From " + tc.want + " Mon Apr  8 08:00:05 2024\n"
		if got != want {
			t.Errorf("MboxFromLine(%q) = %q, want %q", tc.head, got, want)
		}
	}
}

func TestMboxEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "\n"},
		{"a", "a\n\n"},
		{"a\r\nb\r\n", "a\nb\n\n"},
		{"a\nb", "a\nb\n\n"},
		{"From me\r\n", ">From me\n\n"},
		{"x\r\nFrom me\r\n>From you\r\n>>From them\r\n", "x\n>From me\n>>From you\n>>>From them\n\n"},
		{"From\r\nFrom:x\r\n>From\r\n> From x\r\nfrom x\r\n", "From\nFrom:x\n>From\n> From x\nfrom x\n\n"},
		{" From x\r\n", " From x\n\n"},
		{"a\rb\r\r\nc\r", "a\rb\r\nc\r\n\n"},
		{"\r\n\r\nFrom ", "\n\n>From \n\n"},
		{">>", ">>\n\n"},
		{"a\n\n", "a\n\n\n"},
	} {
		if got := encodeAll([]byte(tc.in), len(tc.in)+1); got != tc.want {
			t.Errorf("encode %q = %q, want %q", tc.in, got, tc.want)
		}
		for chunk := 1; chunk < len(tc.in); chunk++ {
			if got := encodeAll([]byte(tc.in), chunk); got != tc.want {
				t.Errorf("encode %q in pieces of %d = %q, want %q", tc.in, chunk, got, tc.want)
			}
		}
	}
}

// encodeAll encodes raw fed in pieces of chunk bytes.
func encodeAll(raw []byte, chunk int) string {
	enc := NewMboxEncoder()
	var out []byte
	for len(raw) > 0 {
		n := min(chunk, len(raw))
		out = enc.Encode(out, raw[:n])
		raw = raw[n:]
	}
	return string(enc.End(out))
}

// mboxrdDecode splits an mboxrd file into its messages as a reader does:
// a line starting "From " starts one, the blank line before the next is
// the separator, and one '>' goes from each line matching ^>+From .
func mboxrdDecode(t *testing.T, mbox []byte) (froms []string, msgs [][]byte) {
	t.Helper()
	if len(mbox) == 0 {
		return nil, nil
	}
	lines := strings.SplitAfter(string(mbox), "\n")
	if lines[len(lines)-1] != "" {
		t.Fatalf("mbox does not end with a line end: %q", lines[len(lines)-1])
	}
	lines = lines[:len(lines)-1]
	var cur []string
	end := func() {
		if len(cur) == 0 || cur[len(cur)-1] != "\n" {
			t.Fatalf("entry %d does not end with a blank line", len(msgs))
		}
		var b bytes.Buffer
		for _, l := range cur[:len(cur)-1] {
			if s := strings.TrimLeft(l, ">"); len(s) < len(l) && strings.HasPrefix(s, "From ") {
				l = l[1:]
			}
			b.WriteString(l)
		}
		msgs = append(msgs, b.Bytes())
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "From ") {
			if i > 0 {
				end()
			}
			froms, cur = append(froms, l), nil
			continue
		}
		if i == 0 {
			t.Fatalf("mbox does not start with a From line: %q", l)
		}
		cur = append(cur, l)
	}
	end()
	return froms, msgs
}

// mboxNormal is a message as its mbox entry gives it back: LF line ends,
// and one at the end.
func mboxNormal(raw []byte) []byte {
	b := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}

func checkMboxRoundTrip(t *testing.T, raws [][]byte) {
	t.Helper()
	var mbox bytes.Buffer
	var sizes int64
	for _, raw := range raws {
		n, err := WriteMbox(&mbox, bytes.NewReader(raw), mboxDate)
		if err != nil {
			t.Fatal(err)
		}
		size, err := WriteMbox(io.Discard, bytes.NewReader(raw), mboxDate)
		if err != nil || size != n {
			t.Fatalf("size computed as %d (%v), written %d", size, err, n)
		}
		sizes += n
	}
	if int64(mbox.Len()) != sizes {
		t.Fatalf("mbox has %d bytes, its entries say %d", mbox.Len(), sizes)
	}
	_, got := mboxrdDecode(t, mbox.Bytes())
	if len(got) != len(raws) {
		t.Fatalf("read %d messages back, wrote %d", len(got), len(raws))
	}
	for i, raw := range raws {
		if want := mboxNormal(raw); !bytes.Equal(got[i], want) {
			t.Errorf("message %d read back as %q, want %q", i, got[i], want)
		}
	}
}

func TestMboxRoundTrip(t *testing.T) {
	big := strings.Repeat("From here\r\n>From there\r\nline\r\n", MboxHeadSize/8) // several reads
	checkMboxRoundTrip(t, [][]byte{
		[]byte("From: a@example.com\r\nSubject: hi\r\n\r\nFrom the start\r\n>From quoted\r\n\r\nFrom\r\n"),
		[]byte(""),
		[]byte("Subject: no end"),
		[]byte("Subject: big\r\n\r\n" + big),
		[]byte("Subject: LF only\n\n>>>From x\nFrom y\n\n\n"),
	})
}

func FuzzMbox(f *testing.F) {
	f.Add([]byte("From: a@example.com\r\n\r\nFrom x\r\n>From y\r\n"), []byte("a\r"), 3)
	f.Add([]byte(""), []byte(">>From \r\r\n"), 1)
	f.Fuzz(func(t *testing.T, a, b []byte, chunk int) {
		checkMboxRoundTrip(t, [][]byte{a, b})
		chunk = 1 + max(chunk, -chunk)%64
		if got, want := encodeAll(a, chunk), encodeAll(a, len(a)+1); got != want {
			t.Fatalf("in pieces of %d: %q, whole: %q", chunk, got, want)
		}
	})
}

func BenchmarkMbox(b *testing.B) {
	raw := []byte(strings.Repeat("Some line of a message body, of a typical length.\r\n", 20000))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := WriteMbox(io.Discard, bytes.NewReader(raw), mboxDate); err != nil {
			b.Fatal(err)
		}
	}
}
