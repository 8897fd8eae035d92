package cache_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"mailfs/render"
)

// A folder's mbox is every body of the folder encoded in UID order (the
// stat downloads them), and a reader serves any range of it, read on
// from where it stopped or from anywhere else, the same bytes.
func TestMboxReadsEveryRange(t *testing.T) {
	big := "Subject: big\r\n\r\n" + strings.Repeat("From here\r\n>From there\r\nsome text\r\n", 3*render.MboxHeadSize/32)
	src := &fakeSource{bodies: map[uint32][]byte{
		1: []byte("From: a@example.com\r\nSubject: one\r\n\r\nFrom the start\r\n"),
		2: []byte(big),
		3: []byte("Subject: no line end"),
		4: []byte(strings.Repeat("x", render.MboxHeadSize)), // a piece exactly
	}}
	c := openCache(t, t.TempDir(), src)
	ctx := context.Background()
	m, err := c.Mbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if src.fetches != 4 {
		t.Errorf("making the mbox fetched %d bodies, want the 4 the cache lacked", src.fetches)
	}
	msgs, _ := c.Messages(ctx, "INBOX")
	var want bytes.Buffer
	for _, msg := range msgs {
		if _, err := render.WriteMbox(&want, bytes.NewReader(src.bodies[msg.UID]), msg.Date); err != nil {
			t.Fatal(err)
		}
	}
	if m.Size() != int64(want.Len()) {
		t.Fatalf("size %d, the encoded bodies have %d", m.Size(), want.Len())
	}
	if again, _ := c.Mbox(ctx, "INBOX"); again != m {
		t.Errorf("the same listing made the mbox again")
	}

	r := m.NewReader()
	defer r.Close()
	got := make([]byte, m.Size())
	for off := 0; off < len(got); {
		n, err := r.ReadAt(ctx, got[off:min(len(got), off+4096)], int64(off))
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		off += n
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("sequential reads differ from the encoded bodies")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rng.IntN(len(got))
		p := make([]byte, rng.IntN(3*render.MboxHeadSize))
		n, err := r.ReadAt(ctx, p, int64(off))
		if want := min(len(p), len(got)-off); n != want || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d", len(p), off, n, err, want)
		}
		if !bytes.Equal(p[:n], got[off:off+n]) {
			t.Fatalf("ReadAt(%d bytes at %d): other bytes", len(p), off)
		}
	}
	if n, err := r.ReadAt(ctx, make([]byte, 10), m.Size()); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
	var newest time.Time
	for _, msg := range msgs {
		if msg.Date.After(newest) {
			newest = msg.Date
		}
	}
	if !m.Mtime().Equal(newest) {
		t.Errorf("mtime %v, want the newest date %v", m.Mtime(), newest)
	}

	// A new message: another listing, another mbox.
	src.bodies[5] = []byte("Subject: five\r\n\r\nnew\r\n")
	if _, err := c.Sync(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	m2, err := c.Mbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Size() <= m.Size() {
		t.Errorf("with a fifth message the mbox has %d bytes, before %d", m2.Size(), m.Size())
	}
}
