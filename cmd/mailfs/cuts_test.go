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
	start := time.Now()
	srv := dovecottest.Start(t)
	want := map[uint32][]byte{}
	var total int64
	raws := cutCorpus(400)
	dates := make([]time.Time, len(raws))
	for i := range dates {
		dates[i] = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	for i, uid := range srv.AppendMany(t, "INBOX", raws, dates) {
		want[uid] = raws[i]
		total += int64(len(raws[i]))
	}
	t.Logf("%d messages (%d MB) in Dovecot in %v", len(want), total>>20, time.Since(start).Round(time.Millisecond))
	proxy := imaptest.StartProxy(t, srv.Addr, imaptest.ProxyConfig{Seed: 8, Cut: 0.3, RST: 0.5})
	env := append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)

	// mountOn mounts a cache through the proxy and lists every file.
	mountOn := func(cacheDir string) (*mounted, map[string]uint32) {
		dir := t.TempDir()
		cmd := exec.Command(binary, "mount", "--server", proxy.Addr, "--tls", "none", "--user", srv.User,
			"--cache", cacheDir, "--poll", "1h", dir)
		cmd.Env = env
		m := startMount(t, cmd, dir)
		files := emlFiles(t, srv, m.dir)
		if len(files) != len(want) {
			t.Fatalf("mount shows %d messages, server holds %d", len(files), len(want))
		}
		return m, files
	}
	// read reads every file once and counts what it got.
	read := func(m *mounted, files map[string]uint32) (n tally) {
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
	// rsync copies the mount into dst: reads that fail are errors (exit
	// status 23); the files it copied must be exact.
	rsync := func(m *mounted, files map[string]uint32, dst string) (n tally) {
		out, err := exec.Command("rsync", "-a", m.dir+"/", dst+"/").CombinedOutput()
		for rel, uid := range files {
			got, rerr := os.ReadFile(filepath.Join(dst, rel))
			switch {
			case rerr != nil:
				n.errors++
			case bytes.Equal(got, want[uid]):
				n.exact++
			default:
				n.wrong++
				t.Errorf("rsync copied %s with %d wrong bytes (want %d)", rel, len(got), len(want[uid]))
			}
		}
		if err == nil && n.errors > 0 {
			t.Errorf("rsync succeeded, but left out %d files\n%s", n.errors, out)
		}
		if err != nil {
			// rsync sends a file that failed to read once more at its
			// end; the failed reads count as errors all the same.
			eio := strings.Count(string(out), "Input/output error")
			n.errors += eio
			t.Logf("rsync: %v, %d reads failed with EIO", err, eio)
		}
		return n
	}
	var all tally
	add := func(what string, n tally) {
		t.Logf("faults on, %s: %s (%d cuts so far)", what, n, proxy.Cuts())
		all.exact, all.errors, all.wrong = all.exact+n.exact, all.errors+n.errors, all.wrong+n.wrong
	}

	// Two cold caches: one read twice (the second pass retries what the
	// first could not read), one copied with rsync.
	faultStart := time.Now()
	m, files := mountOn(filepath.Join(t.TempDir(), "cache"))
	add("cold cache, read", read(m, files))
	add("same cache, read again", read(m, files))
	m.stop(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m, files = mountOn(cacheDir)
	dst := t.TempDir()
	add("cold cache, rsync", rsync(m, files, dst))
	t.Logf("faults on: %d reads of %d messages: %s; %d cuts (%d by RST) in %d body literals, %v",
		all.exact+all.errors+all.wrong, len(files), all, proxy.Cuts(), proxy.Resets(), proxy.Literals(), time.Since(faultStart).Round(time.Second))
	if proxy.Cuts() < 100 {
		t.Errorf("only %d cuts: the test proves little", proxy.Cuts())
	}

	// Faults off: every file exact, read directly and copied by rsync
	// into the same copy.
	proxy.SetFaults(false)
	if n := read(m, files); n.exact != len(files) {
		t.Errorf("faults off, read: %s", n)
	}
	if n := rsync(m, files, dst); n.exact != len(files) {
		t.Errorf("faults off, rsync: %s", n)
	}
	m.stop(t)

	// A sync of the same cache checks every body against its hash and
	// reports no failure.
	sync := exec.Command(binary, "sync", "--server", proxy.Addr, "--tls", "none", "--user", srv.User,
		"--cache", cacheDir, "--verify")
	sync.Env = env
	out, err := sync.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "failed=0") {
		t.Errorf("mailfs sync --verify: %v\n%s", err, out)
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Second))
}
