package imaptest

import (
	"fmt"
	"strings"
	"testing"
)

// stream is a server's output with its body literals marked: at[i] is the
// stream offset of literal i's first data byte.
func stream() (s string, at []int, size []int64) {
	var b strings.Builder
	add := func(text string) { b.WriteString(text) }
	lit := func(head, data string, body bool) {
		add(head + fmt.Sprintf("{%d}\r\n", len(data)))
		if body {
			at, size = append(at, b.Len()), append(size, int64(len(data)))
		}
		add(data)
	}
	add("* OK ready\r\nA1 OK logged in\r\n")
	add("* LIST () \"/\" ")
	lit("", "odd\r\nname", false)
	add("\r\n")
	add("* 1 FETCH (UID 4 RFC822.SIZE 20 BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)] ")
	lit("", "Subject: x\r\n\r\n", false)
	add(")\r\n")
	// A body that itself looks like a body literal must be skipped whole.
	add("* 2 FETCH (UID 5 ")
	lit("BODY[] ", "From: a\r\n\r\n* 3 FETCH (BODY[] {7}\r\nabc\r\n", true)
	add(")\r\n* 3 FETCH (UID 6 ")
	lit("BODY[]<8192> ", "partial data", true)
	add(")\r\n* 4 FETCH (UID 7 ")
	lit("body[] ", "x", true)
	add(" FLAGS (\\Seen))\r\n")
	add("* 5 FETCH (UID 8 BODY[] {0}\r\n)\r\nA5 OK done\r\n")
	return b.String(), at, size
}

func TestScannerFindsBodyLiteralsInAnySplit(t *testing.T) {
	s, at, size := stream()
	for split := 0; split <= len(s); split++ {
		for _, step := range []int{1, 3, 7, len(s)} {
			var sc litScanner
			var got []int
			var sizes []int64
			feed := func(base int, p string) {
				for _, l := range sc.scan([]byte(p)) {
					got, sizes = append(got, base+l.off), append(sizes, l.size)
				}
			}
			feed(0, s[:split])
			for i := split; i < len(s); i += step {
				feed(i, s[i:min(i+step, len(s))])
			}
			if fmt.Sprint(got, sizes) != fmt.Sprint(at, size) {
				t.Fatalf("split %d step %d: literals at %v sizes %v, want %v %v", split, step, got, sizes, at, size)
			}
		}
	}
}

func TestScannerAllSections(t *testing.T) {
	s, at, _ := stream()
	sc := litScanner{all: true}
	got := sc.scan([]byte(s))
	if len(got) != len(at)+1 { // the header-fields literal too
		t.Fatalf("%d literals with all sections, want %d", len(got), len(at)+1)
	}
}

func TestScannerLongLine(t *testing.T) {
	s := "* 1 FETCH (UID 1 X-" + strings.Repeat("a", 5000) + " BODY[] {3}\r\nabc)\r\n"
	var sc litScanner
	got := sc.scan([]byte(s))
	if len(got) != 1 || got[0].size != 3 || s[got[0].off:got[0].off+3] != "abc" {
		t.Fatalf("got %+v", got)
	}
}
