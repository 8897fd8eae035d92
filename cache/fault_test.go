package cache_test

// Fault tests of issue 8 ("never a wrong byte"): the cache with imapsrc
// against the scripted server of imapsrc/imaptest, which misbehaves at the
// byte level, and through its fault-injecting proxy.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/imaptest"
)

// stallTimeout is the imapsrc.Config.StallTimeout of these tests.
const stallTimeout = time.Second

var faultDate = time.Date(2023, 7, 1, 12, 0, 0, 0, time.UTC)

// faultMsg is a message of about size bytes, different for each seed.
func faultMsg(seed, size int) []byte {
	head := fmt.Sprintf("Subject: message %d\r\nMessage-ID: <m%d@test>\r\nFrom: a@example.org\r\n\r\n", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	var b strings.Builder
	b.WriteString(head)
	for b.Len() < size {
		fmt.Fprintf(&b, "line %d of message %d: %x\r\n", b.Len(), seed, r.Uint64())
	}
	return []byte(b.String()[:max(size, len(head))])
}

// openScripted opens a cache on addr (the scripted server s, or a proxy
// in front of it) and lists its folders.
func openScripted(t *testing.T, addr string, s *imaptest.Scripted) (*cache.Cache, *imapsrc.Source, string) {
	t.Helper()
	src, err := imapsrc.New(imapsrc.Config{Addr: addr, TLS: imapsrc.TLSNone, User: s.User, Password: s.Password, Conns: 2, StallTimeout: stallTimeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dir := t.TempDir()
	return openCache(t, dir, src), src, dir
}

// list returns a folder's messages by UID.
func list(t *testing.T, c *cache.Cache, folder string) map[uint32]cache.Msg {
	t.Helper()
	msgs, err := c.Messages(context.Background(), folder)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]cache.Msg{}
	for _, m := range msgs {
		out[m.UID] = m
	}
	return out
}

// readLimit bounds one read in these tests: a read that hangs is a
// failure, not a test that never ends.
const readLimit = 15 * time.Second

// tryRead opens and reads a body, returning the error of either.
func tryRead(c *cache.Cache, folder string, m cache.Msg) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readLimit)
	defer cancel()
	f, err := c.OpenBody(ctx, folder, m.UIDValidity, m.UID)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// storedFiles lists every file below the cache's bodies folder.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "bodies"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	return out
}

// Item 1: a body that did not arrive exactly as announced, in the section
// asked for and with an OK completion, is an error; nothing is stored; the
// next read after the server behaves again gets the exact bytes.
func TestBrokenBodyIsNeverStored(t *testing.T) {
	raw := faultMsg(1, 2017)
	for _, bf := range imaptest.BrokenBodies(len(raw)) {
		t.Run(bf.Name, func(t *testing.T) {
			s := imaptest.StartScripted(t)
			uid := s.Append("INBOX", raw, faultDate)
			c, _, dir := openScripted(t, s.Addr, s)
			m := list(t, c, "INBOX")[uid]
			s.SetFaults("INBOX", uid, &bf.Faults)
			start := time.Now()
			got, err := tryRead(c, "INBOX", m)
			if err == nil {
				t.Errorf("read succeeded with %d bytes (exact: %v)", len(got), bytes.Equal(got, raw))
			}
			if d := time.Since(start); d > 6*stallTimeout {
				t.Errorf("the read took %v (stall timeout %v)", d, stallTimeout)
			}
			if files := storedFiles(t, dir); len(files) > 0 {
				t.Errorf("stored after a broken body: %v", files)
			}
			before := s.BodyFetches()
			s.SetFaults("INBOX", uid, nil)
			got, err = tryRead(c, "INBOX", m)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("after the server behaves: %v, %d bytes (exact: %v)", err, len(got), bytes.Equal(got, raw))
			}
			if s.BodyFetches() == before {
				t.Error("the body was not fetched again")
			}
		})
	}
}

// Item 1, many at once: one broken body in a batch of read-ahead does not
// lose or damage the others, and is not stored.
func TestBrokenBodyInBatch(t *testing.T) {
	s := imaptest.StartScripted(t)
	raws := map[uint32][]byte{}
	for i := range 6 {
		raw := faultMsg(10+i, 3000+i*100)
		raws[s.Append("INBOX", raw, faultDate.Add(time.Duration(i)*time.Minute))] = raw
	}
	s.SetFaults("INBOX", 4, &imaptest.Faults{Announce: "1000"})
	c, _, _ := openScripted(t, s.Addr, s)
	msgs := list(t, c, "INBOX")
	for round := range 2 {
		for uid, m := range msgs {
			got, err := tryRead(c, "INBOX", m)
			switch {
			case err == nil && !bytes.Equal(got, raws[uid]):
				t.Errorf("round %d UID %d: %d wrong bytes", round, uid, len(got))
			case err == nil && uid == 4:
				t.Errorf("round %d UID 4: read succeeded through a short literal", round)
			case err != nil && uid != 4 && round == 1:
				t.Errorf("round %d UID %d: %v", round, uid, err)
			}
		}
	}
}

// Item 2: a wrong RFC822.SIZE is corrected: the first read fails with
// ErrSizeChanged (the file system was told the old size, and is told the
// new one), the next read gets the exact bytes without a new download.
func TestLyingSizeFailsOnceThenExact(t *testing.T) {
	raw := faultMsg(2, 2017)
	for _, lie := range []string{"100", "50000"} {
		t.Run(lie, func(t *testing.T) {
			s := imaptest.StartScripted(t)
			uid := s.Append("INBOX", raw, faultDate)
			s.SetFaults("INBOX", uid, &imaptest.Faults{Size: lie})
			c, _, _ := openScripted(t, s.Addr, s)
			var mu sync.Mutex
			var resized []cache.Msg
			c.OnChange(func(ch cache.Change) {
				mu.Lock()
				resized = append(resized, ch.Resized...)
				mu.Unlock()
			})
			m := list(t, c, "INBOX")[uid]
			if fmt.Sprint(m.Size) != lie {
				t.Fatalf("listed size %d, want the lie %s", m.Size, lie)
			}
			got, err := tryRead(c, "INBOX", m)
			if !errors.Is(err, cache.ErrSizeChanged) {
				t.Fatalf("first read: %v, %d bytes; want ErrSizeChanged", err, len(got))
			}
			cur, _ := c.Message("INBOX", m.UIDValidity, uid)
			if cur.Size != int64(len(raw)) {
				t.Errorf("size after the first read %d, want %d", cur.Size, len(raw))
			}
			mu.Lock()
			if len(resized) != 1 || resized[0].Size != int64(len(raw)) {
				t.Errorf("resize notices %+v", resized)
			}
			mu.Unlock()
			got, err = tryRead(c, "INBOX", cur)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("second read: %v, %d bytes", err, len(got))
			}
			if n := s.BodyFetches(); n != 1 {
				t.Errorf("%d body fetches, want 1", n)
			}
		})
	}
}

// Item 2: a size of 0 is not trusted: BodySize fetches the body first, and
// the read that follows is exact.
func TestZeroSizeIsFetched(t *testing.T) {
	raw := faultMsg(3, 2017)
	s := imaptest.StartScripted(t)
	uid := s.Append("INBOX", raw, faultDate)
	s.SetFaults("INBOX", uid, &imaptest.Faults{Size: "0"})
	c, _, _ := openScripted(t, s.Addr, s)
	m := list(t, c, "INBOX")[uid]
	ctx, cancel := context.WithTimeout(context.Background(), readLimit)
	defer cancel()
	size, err := c.BodySize(ctx, "INBOX", m.UIDValidity, uid)
	if err != nil || size != int64(len(raw)) {
		t.Fatalf("BodySize %d, %v; want %d", size, err, len(raw))
	}
	cur, _ := c.Message("INBOX", m.UIDValidity, uid)
	got, err := tryRead(c, "INBOX", cur)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("read: %v, %d bytes", err, len(got))
	}
}

// smallParts makes bodies above size download in parts for one test.
func smallParts(t *testing.T, size int64) {
	old := cache.PartSize
	cache.PartSize = size
	t.Cleanup(func() { cache.PartSize = old })
}

// Item 6: a slow link is no error as long as bytes come, however long the
// whole message takes: one body in parts, one whole, each taking longer
// than the stall timeout.
func TestSlowLinkDownloads(t *testing.T) {
	smallParts(t, 128<<10)
	s := imaptest.StartScripted(t)
	big := faultMsg(4, 200<<10)   // 2 parts
	small := faultMsg(5, 115<<10) // whole
	bigUID := s.Append("INBOX", big, faultDate)
	smallUID := s.Append("INBOX", small, faultDate)
	s.SetFaults("INBOX", 0, &imaptest.Faults{Rate: 100 << 10}) // 100 KiB/s
	c, _, _ := openScripted(t, s.Addr, s)
	msgs := list(t, c, "INBOX")
	for uid, want := range map[uint32][]byte{smallUID: small, bigUID: big} {
		start := time.Now()
		got, err := tryRead(c, "INBOX", msgs[uid])
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("UID %d: %v, %d bytes", uid, err, len(got))
		}
		if d := time.Since(start); d < stallTimeout {
			t.Errorf("UID %d took %v: not slower than the stall timeout, proves nothing", uid, d)
		}
	}
	if s.PartialFetches() != 2 {
		t.Errorf("%d partial fetches for %d bytes in parts of %d", s.PartialFetches(), len(big), cache.PartSize)
	}
}

// Item 6: a FETCH that never completes (the same response forever, or a
// flood of EXISTS) fails within a few stall timeouts, stores nothing, and
// the next read after the server behaves is exact.
func TestEndlessResponseFails(t *testing.T) {
	for name, f := range map[string]imaptest.Faults{
		"repeat": {Repeat: true},
		"flood":  {Flood: true},
	} {
		t.Run(name, func(t *testing.T) {
			raw := faultMsg(6, 5000)
			s := imaptest.StartScripted(t)
			uid := s.Append("INBOX", raw, faultDate)
			c, _, dir := openScripted(t, s.Addr, s)
			m := list(t, c, "INBOX")[uid]
			s.SetFaults("INBOX", uid, &f)
			start := time.Now()
			if _, err := tryRead(c, "INBOX", m); err == nil {
				t.Error("read succeeded")
			}
			if d := time.Since(start); d > 5*stallTimeout {
				t.Errorf("failing took %v with a stall timeout of %v", d, stallTimeout)
			}
			if files := storedFiles(t, dir); len(files) > 0 {
				t.Errorf("stored: %v", files)
			}
			s.SetFaults("INBOX", uid, nil)
			if got, err := tryRead(c, "INBOX", m); err != nil || !bytes.Equal(got, raw) {
				t.Errorf("after the server behaves: %v, %d bytes", err, len(got))
			}
		})
	}
}

// Item 6: a cut in the middle of a big message costs one part, not the
// whole message: the download resumes where it was cut.
func TestCutBigMessageResumes(t *testing.T) {
	smallParts(t, 64<<10)
	s := imaptest.StartScripted(t)
	raw := faultMsg(7, 300<<10) // 5 parts
	uid := s.Append("INBOX", raw, faultDate)
	s.SetFaults("INBOX", uid, &imaptest.Faults{Times: 1, Cut: true, Keep: 150 << 10, Reset: true}) // inside part 3
	c, _, _ := openScripted(t, s.Addr, s)
	m := list(t, c, "INBOX")[uid]
	got, err := tryRead(c, "INBOX", m)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("%v, %d bytes (exact: %v)", err, len(got), bytes.Equal(got, raw))
	}
	if n := s.PartialFetches(); n != 6 {
		t.Errorf("%d partial fetches, want 5 parts and one again", n)
	}
	if sent := s.BodyBytes(); sent > int64(len(raw))+cache.PartSize {
		t.Errorf("%d bytes sent for a body of %d: more than one part again", sent, len(raw))
	}
}

// Items 1 and 6 at random: through a proxy that cuts 30% of the body
// literals (by FIN or RST, at random points) and stalls some, every read
// is exact or an error, never wrong; with the faults off, every read is
// exact.
func TestRandomCutsNeverServeWrongBytes(t *testing.T) {
	smallParts(t, 64<<10)
	s := imaptest.StartScripted(t)
	r := rand.New(rand.NewPCG(8, 8))
	raws := map[uint32][]byte{}
	for i := range 60 {
		size := 500 + r.IntN(20<<10)
		if i%10 == 0 {
			size = 100<<10 + r.IntN(100<<10) // in parts
		}
		raws[s.Append("INBOX", faultMsg(100+i, size), faultDate.Add(time.Duration(i)*time.Hour))] = faultMsg(100+i, size)
	}
	p := imaptest.StartProxy(t, s.Addr, imaptest.ProxyConfig{Seed: 8, Cut: 0.3, RST: 0.5, Stall: 0.02, StallFor: 200 * time.Millisecond})
	c, _, _ := openScripted(t, p.Addr, s)
	msgs := list(t, c, "INBOX")

	var exact, failed, wrong int
	for pass := range 3 {
		for uid, m := range msgs {
			got, err := tryRead(c, "INBOX", m)
			switch {
			case err != nil:
				failed++
			case bytes.Equal(got, raws[uid]):
				exact++
			default:
				wrong++
				t.Errorf("pass %d UID %d: %d wrong bytes (want %d)", pass, uid, len(got), len(raws[uid]))
			}
		}
	}
	t.Logf("faults on: %d reads exact, %d errors, %d wrong; %d cuts (%d RST), %d stalls, %d body literals",
		exact, failed, wrong, p.Cuts(), p.Resets(), p.Stalls(), p.Literals())
	if p.Cuts() < 10 {
		t.Errorf("only %d cuts: the test proves little", p.Cuts())
	}
	p.SetFaults(false)
	for uid, m := range msgs {
		got, err := tryRead(c, "INBOX", m)
		if err != nil || !bytes.Equal(got, raws[uid]) {
			t.Errorf("faults off, UID %d: %v, %d bytes (want %d)", uid, err, len(got), len(raws[uid]))
		}
	}
}
