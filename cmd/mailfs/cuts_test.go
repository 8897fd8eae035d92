package main

// Issue 8 end to end: the mounted binary, reading from Dovecot through a
// proxy that cuts 30% of the body literals (by FIN or RST, at random
// points). Every read must be exact or an error, never wrong bytes; once
// the faults stop, every file is exact, and `mailfs sync --verify` finds
// nothing to complain about.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/imaptest"
)

// cutCorpus is n messages of varied sizes: most small, some of hundreds
// of kilobytes, a few of megabytes.
func cutCorpus(n int) [][]byte {
	r := rand.New(rand.NewPCG(42, 42))
	out := make([][]byte, n)
	for i := range out {
		size := 300 + r.IntN(40<<10)
		switch {
		case i%80 == 7:
			size = 1<<20 + r.IntN(2<<20)
		case i%10 == 3:
			size = 100<<10 + r.IntN(500<<10)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: alice@example.org\r\nSubject: cut test %d\r\nMessage-ID: <cut%d@example.org>\r\n\r\n", i, i, i)
		for b.Len() < size {
			fmt.Fprintf(&b, "%d/%d %016x %016x\r\n", i, b.Len(), r.Uint64(), r.Uint64())
		}
		out[i] = []byte(b.String())
	}
	return out
}

// tally counts reads by outcome.
type tally struct{ exact, errors, wrong int }

func (t tally) String() string {
	return fmt.Sprintf("%d exact, %d errors, %d wrong", t.exact, t.errors, t.wrong)
}

func TestRandomCutsThroughMountNeverServeWrongBytes(t *testing.T) {
	needFUSE(t)
	needTool(t, "rsync")
	srv := dovecottest.Start(t)
	want := map[uint32][]byte{}
	var total int64
	for i, raw := range cutCorpus(400) {
		uid := srv.Append(t, "INBOX", raw, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour))
		want[uid] = raw
		total += int64(len(raw))
	}
	proxy := imaptest.StartProxy(t, srv.Addr, imaptest.ProxyConfig{Seed: 8, Cut: 0.3, RST: 0.5})

	cacheDir := filepath.Join(t.TempDir(), "cache")
	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--server", proxy.Addr, "--tls", "none", "--user", srv.User,
		"--cache", cacheDir, "--poll", "1h", dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	m := startMount(t, cmd, dir)
	files := emlFiles(t, m.dir)
	if len(files) != len(want) {
		t.Fatalf("mount shows %d messages, server holds %d", len(files), len(want))
	}

	// read reads every file once and counts what it got.
	read := func() (n tally) {
		for rel, uid := range files {
			got, err := os.ReadFile(filepath.Join(m.dir, rel))
			switch {
			case err != nil:
				n.errors++
			case bytes.Equal(got, want[uid]):
				n.exact++
			default:
				n.wrong++
				t.Errorf("%s: %d wrong bytes (want %d)", rel, len(got), len(want[uid]))
			}
		}
		return n
	}
	start := time.Now()
	var faulty tally
	for pass := 1; pass <= 2; pass++ {
		n := read()
		t.Logf("faults on, pass %d (read): %s", pass, n)
		faulty.exact, faulty.errors, faulty.wrong = faulty.exact+n.exact, faulty.errors+n.errors, faulty.wrong+n.wrong
	}
	// rsync: files it could not read are left out (exit status 23); the
	// ones it copied must be exact.
	dst := t.TempDir()
	out, err := exec.Command("rsync", "-a", m.dir+"/", dst+"/").CombinedOutput()
	var copied tally
	for rel, uid := range files {
		got, rerr := os.ReadFile(filepath.Join(dst, rel))
		switch {
		case rerr != nil:
			copied.errors++
		case bytes.Equal(got, want[uid]):
			copied.exact++
		default:
			copied.wrong++
			t.Errorf("rsync copied %s with %d wrong bytes (want %d)", rel, len(got), len(want[uid]))
		}
	}
	if err == nil && copied.errors > 0 {
		t.Errorf("rsync succeeded but left out %d files", copied.errors)
	}
	t.Logf("faults on, pass 3 (rsync: %v): %s", err, copied)
	if err != nil && !strings.Contains(string(out), "mailfs") && copied.errors == 0 {
		t.Logf("rsync said: %s", out)
	}
	faulty.exact, faulty.errors, faulty.wrong = faulty.exact+copied.exact, faulty.errors+copied.errors, faulty.wrong+copied.wrong
	t.Logf("faults on: %d reads of %d messages (%d MB): %s; %d cuts (%d by RST) in %d body literals, %v",
		3*len(files), len(files), total>>20, faulty, proxy.Cuts(), proxy.Resets(), proxy.Literals(), time.Since(start).Round(time.Second))
	if proxy.Cuts() < 50 {
		t.Errorf("only %d cuts: the test proves little", proxy.Cuts())
	}

	// Faults off: every file exact, through the mount and again after an
	// rsync into the same copy.
	proxy.SetFaults(false)
	if n := read(); n.exact != len(files) {
		t.Errorf("faults off: %s", n)
	}
	out, err = exec.Command("rsync", "-a", m.dir+"/", dst+"/").CombinedOutput()
	if err != nil {
		t.Errorf("rsync with faults off: %v\n%s", err, out)
	}
	for rel, uid := range files {
		if got, _ := os.ReadFile(filepath.Join(dst, rel)); !bytes.Equal(got, want[uid]) {
			t.Errorf("rsync copy of %s: %d bytes, not exact", rel, len(got))
		}
	}
	m.stop(t)

	// A sync of the same cache checks every body against its hash and
	// reports no failure.
	sync := exec.Command(binary, "sync", "--server", proxy.Addr, "--tls", "none", "--user", srv.User,
		"--cache", cacheDir, "--verify")
	sync.Env = cmd.Env
	out, err = sync.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "failed=0") {
		t.Errorf("mailfs sync --verify: %v\n%s", err, out)
	}
}
