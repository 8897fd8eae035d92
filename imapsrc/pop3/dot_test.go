package pop3

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDotReader(t *testing.T) {
	for _, tc := range []struct {
		name, wire, want string
		err              error
	}{
		{"plain", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", nil},
		{"empty", ".\r\n", "", nil},
		{"stuffed", "..\r\n..x\r\n.\r\n", ".\r\n.x\r\n", nil},
		{"dot in line", "a.b\r\n.\r\n", "a.b\r\n", nil},
		{"bare LF kept", "a\nb\r\n.\r\n", "a\nb\r\n", nil},
		{"bare CR kept", "a\rb\r\n.\r\n", "a\rb\r\n", nil},
		{"dot CR not end", ".\rx\r\n.\r\n", "\rx\r\n", nil},
		{"sloppy end", "a\n.\n", "a\n", nil},
		{"what follows is not read", "a\r\n.\r\n+OK next\r\n", "a\r\n", nil},
		{"cut mid line", "a\r\nbc", "a\r\nbc", errCut},
		{"cut after line", "a\r\n", "a\r\n", errCut},
		{"cut at dot", "a\r\n.", "a\r\n", errCut},
		{"cut at dot CR", "a\r\n.\r", "a\r\n", errCut},
		{"long line", strings.Repeat("x", 100000) + "\r\n.\r\n", strings.Repeat("x", 100000) + "\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{16, 4096} {
				br := bufio.NewReaderSize(strings.NewReader(tc.wire), size)
				got, err := io.ReadAll(&oneByteAtTimes{r: newDotReader(br), n: size / 3})
				if string(got) != tc.want {
					t.Errorf("buffer %d: got %q, want %q", size, trunc(got), trunc([]byte(tc.want)))
				}
				if !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
					t.Errorf("buffer %d: err %v, want %v", size, err, tc.err)
				}
				if tc.name == "what follows is not read" {
					rest, _ := io.ReadAll(br)
					if string(rest) != "+OK next\r\n" {
						t.Errorf("left %q for the next answer", rest)
					}
				}
			}
		})
	}
}

// oneByteAtTimes reads with small buffers of varying size.
type oneByteAtTimes struct {
	r io.Reader
	n int
	i int
}

func (o *oneByteAtTimes) Read(p []byte) (int, error) {
	o.i++
	return o.r.Read(p[:min(len(p), 1+o.i%max(o.n, 1))])
}

func trunc(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
