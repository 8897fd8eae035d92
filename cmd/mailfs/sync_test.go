package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc/sample"
)

// syncBinary runs 'mailfs sync' for srv's account at addr (srv.Addr if
// ""), with the cache in cacheDir, and returns its exit code and stderr.
func syncBinary(t *testing.T, srv *seeded, addr, cacheDir string, args ...string) (int, string) {
	t.Helper()
	cmd := syncCommand(srv, addr, cacheDir, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

func syncCommand(srv *seeded, addr, cacheDir string, args ...string) *exec.Cmd {
	if addr == "" {
		addr = srv.Addr
	}
	all := append([]string{"sync", "--server", addr, "--tls", "starttls", "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", cacheDir}, args...)
	cmd := exec.Command(binary, all...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	return cmd
}

func messageCount(srv *seeded) int {
	n := 0
	for _, uids := range srv.uids {
		n += len(uids)
	}
	return n
}

var (
	progressLine = regexp.MustCompile(`^time=\S+ level=INFO msg="sync progress" account=\S+ percent=(\d+) folders=(\d+)/(\d+) messages=(\d+)/(\d+) size="[\d.]+/[\d.]+ [kMGT]?B" rate=("[\d.]+ [kMGT]?B/s"|-) eta=(\S+)$`)
	doneLine     = regexp.MustCompile(`^time=\S+ level=INFO msg="sync done" account=(\S+) folders=(\d+) messages=(\d+) size="[\d.]+ [kMGT]?B" new=(\d+) new_size="[\d.]+ [kMGT]?B" took=\S+ failed=0$`)
)

// TestSyncFillsCache: sync downloads every body once, logs its progress in
// plain lines when not on a terminal, and a mount with the same cache
// then reads every file without downloading anything.
func TestSyncFillsCache(t *testing.T) {
	srv := seed(t, sample.Big(2<<20))
	want := messageCount(srv)
	cacheDir := filepath.Join(t.TempDir(), "cache")

	code, out := syncBinary(t, srv, "", cacheDir)
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, out)
	}
	if n := bodyFetches(t, srv); n != want {
		t.Errorf("sync fetched %d bodies, want each of %d once", n, want)
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("terminal control characters without a terminal:\n%q", out)
	}
	progress, lastPct := 0, -1
	var done []string
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("not a log line: %q", line)
		}
		if strings.Contains(line, `msg="sync progress"`) {
			m := progressLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("progress line in an unexpected format:\n%s", line)
				continue
			}
			progress++
			pct, _ := strconv.Atoi(m[1])
			if pct < lastPct {
				t.Errorf("percent went back from %d to %d", lastPct, pct)
			}
			lastPct = pct
			if total, _ := strconv.Atoi(m[5]); total != want {
				t.Errorf("progress says %d messages, the server has %d: %s", total, want, line)
			}
		}
		if strings.Contains(line, `msg="sync done"`) {
			done = append(done, line)
		}
	}
	if progress < 1 || progress > 11 {
		t.Errorf("%d progress lines, want the start and one per 10%% at most:\n%s", progress, out)
	}
	if len(done) != 1 {
		t.Fatalf("want one 'sync done' line, got %d:\n%s", len(done), out)
	}
	if m := doneLine.FindStringSubmatch(done[0]); m == nil || m[3] != strconv.Itoa(want) || m[4] != strconv.Itoa(want) {
		t.Errorf("summary line %q, want %d messages, all new, and failed=0", done[0], want)
	}
	if i := strings.Index(out, `msg="sync done"`); !strings.Contains(out[i:], "\n") || strings.Count(out[i:], "\n") != 1 {
		t.Errorf("the summary is not the last line:\n%s", out)
	}

	// A second sync finds nothing to do and downloads nothing.
	code, out = syncBinary(t, srv, "", cacheDir, "--log-level", "warn")
	if code != 0 || out != "" {
		t.Errorf("second sync with --log-level warn: exit %d, output:\n%s", code, out)
	}
	if n := bodyFetches(t, srv); n != want {
		t.Errorf("second sync fetched %d more bodies", n-want)
	}
	// and says so.
	if _, out = syncBinary(t, srv, "", cacheDir); !strings.Contains(out, `msg="sync done"`) || !strings.Contains(out, " new=0 ") {
		t.Errorf("a sync with nothing new does not say so:\n%s", out)
	}

	// A mount of the synced cache reads everything from disk.
	m := mount(t, srv, cacheDir)
	files := emlFiles(t, srv.Server, m.dir)
	if len(files) != want {
		t.Fatalf("mount shows %d messages, want %d", len(files), want)
	}
	for rel, uid := range files {
		got, err := os.ReadFile(filepath.Join(m.dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, srv.Fetch(t, filepath.Dir(rel), uid)) {
			t.Errorf("%s differs from the server", rel)
		}
	}
	if n := bodyFetches(t, srv) - want; n != 0 {
		t.Errorf("the mount downloaded %d bodies after a sync, want 0", n)
	}
	if n := strings.Count(m.logs.String(), `msg="fetch body"`); n != 0 {
		t.Errorf("the mount logged %d body fetches after a sync, want 0", n)
	}
}

// TestSyncFailingAccount: an account that cannot be reached makes the exit
// status 1 with a summary naming it; the other account is synced all the
// same.
func TestSyncFailingAccount(t *testing.T) {
	srv := seed(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`cache_dir = %q

[[account]]
name = "down"
server = "127.0.0.1:1"
tls = "none"
user = "nobody"
password_cmd = "echo x"

[[account]]
name = "work"
server = %q
tls = "starttls"
tls_ca = %q
user = %q
password_file = %q
`, filepath.Join(dir, "cache"), srv.Addr, srv.CAFile, srv.User, pwFile)
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "sync", "--config", cfgFile)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", code, err, out)
	}
	if n := bodyFetches(t, srv); n != messageCount(srv) {
		t.Errorf("the working account: %d bodies fetched, want %d\n%s", n, messageCount(srv), out)
	}
	text := string(out)
	if !regexp.MustCompile(`(?m)^time=\S+ level=ERROR msg="sync failed" account=down err=".*connection refused.*"$`).MatchString(text) {
		t.Errorf("no error record for the account that is down:\n%s", text)
	}
	if !strings.Contains(text, `msg="sync done" account=work`) {
		t.Errorf("no summary record for the account that works:\n%s", text)
	}
	i := strings.Index(text, "mailfs: sync failed for 1 of 2 accounts:\n")
	if i < 0 {
		t.Fatalf("no summary on stderr:\n%s", text)
	}
	summary := strings.Split(strings.TrimSpace(text[i:]), "\n")
	if len(summary) != 2 || !regexp.MustCompile(`^mailfs:   account "down": .*127\.0\.0\.1:1.*connection refused`).MatchString(summary[1]) {
		t.Errorf("summary:\n%s", strings.Join(summary, "\n"))
	}
}

// TestSyncResumesAfterInterrupt interrupts a sync in the middle of a
// download (through a slow link) with SIGINT: mailfs stops at once, says
// how to resume, and the next sync downloads only what is missing.
func TestSyncResumesAfterInterrupt(t *testing.T) {
	var big []sample.Message
	for i := range 4 {
		m := sample.Big(1 << 20)
		m.Raw = bytes.Replace(m.Raw, []byte("Subject: "), []byte(fmt.Sprintf("Subject: %d ", i)), 1)
		big = append(big, m)
	}
	srv := seed(t, big...)
	total := messageCount(srv)
	slow := slowProxy(t, srv.Addr, 1<<20)
	cacheDir := filepath.Join(t.TempDir(), "cache")

	cmd := syncCommand(srv, slow, cacheDir, "--log-level", "debug", "--workers", "1")
	logs, done := start(t, cmd)
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, "the download of INBOX", func() bool {
		return strings.Contains(logs.String(), `msg="fetch body" folder=INBOX`)
	})
	time.Sleep(500 * time.Millisecond) // half of the first big message
	interrupted := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("sync still running 10s after SIGINT\n%s", logs)
	}
	if d := time.Since(interrupted); d > 3*time.Second {
		t.Errorf("sync took %v to stop after SIGINT", d)
	}
	out := logs.String()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d after SIGINT, want 1", code)
	}
	if !strings.HasSuffix(out, "mailfs: interrupted; run mailfs sync again to resume\n") {
		t.Errorf("does not end by saying how to resume:\n%s", out)
	}
	m := regexp.MustCompile(`msg="sync interrupted" .* messages=(\d+)/(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no 'sync interrupted' record:\n%s", out)
	}
	doneBefore, _ := strconv.Atoi(m[1])
	if doneBefore == 0 || doneBefore >= total {
		t.Errorf("interrupted with %d of %d messages done: not in the middle", doneBefore, total)
	}
	if matches, _ := filepath.Glob(filepath.Join(cacheDir, "bodies", "*", "*", ".part-*")); len(matches) > 0 {
		t.Errorf("partial downloads left in the cache: %v", matches)
	}

	// The bodies complete when it stopped (the cache's own layout).
	complete, _ := filepath.Glob(filepath.Join(cacheDir, "bodies", "*", "*", "*.eml"))

	fetched := bodyFetches(t, srv)
	code, out := syncBinary(t, srv, "", cacheDir)
	if code != 0 {
		t.Fatalf("second sync: exit %d\n%s", code, out)
	}
	again := bodyFetches(t, srv) - fetched
	if again == 0 || again != total-len(complete) || again > total-doneBefore {
		t.Errorf("second sync fetched %d bodies; %d of %d were in the cache (%d reported done)",
			again, len(complete), total, doneBefore)
	}
	t.Logf("first sync: %d of %d reported done when interrupted, %d in the cache; second sync fetched %d",
		doneBefore, total, len(complete), again)

	// Now everything is there.
	before := bodyFetches(t, srv)
	if code, out := syncBinary(t, srv, "", cacheDir); code != 0 || bodyFetches(t, srv) != before {
		t.Errorf("third sync: exit %d, fetched %d\n%s", code, bodyFetches(t, srv)-before, out)
	}
}

// slowProxy forwards connections to addr, passing the server's bytes at
// about rate bytes a second, so that a download can be interrupted.
func slowProxy(t *testing.T, addr string, rate int) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.Close() }()
				buf := make([]byte, 16<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
						time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestSyncProgressOnTerminal runs sync under script(1), which gives it a
// terminal: one line per account, redrawn in place.
func TestSyncProgressOnTerminal(t *testing.T) {
	needTool(t, "script")
	srv := seed(t)
	cmd := syncCommand(srv, "", filepath.Join(t.TempDir(), "cache"))
	line := strings.Join(cmd.Args, "' '")
	script := exec.Command("script", "-qec", "'"+line+"'", "/dev/null")
	script.Env = append(cmd.Env, "TERM=xterm", "COLUMNS=200")
	out, err := script.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%q", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "\r\x1b[K") {
		t.Errorf("no line redrawn in place:\n%q", text)
	}
	if !regexp.MustCompile(`\r\x1b\[K\S+  \d+/\d+ folders  \d+/\d+ messages  [\d.]+/[\d.]+ [kMG]?B  (-|[\d.]+ [kMG]?B/s)  ETA \S+`).MatchString(text) {
		t.Errorf("no progress line:\n%q", text)
	}
	if !regexp.MustCompile(`\r\x1b\[K\S+  \d+ folders  \d+ messages  [\d.]+ [kMG]?B  in \S+  done, \d+ new\r?\n$`).MatchString(text) {
		t.Errorf("does not end with the account's summary line:\n%q", text)
	}
	if strings.Contains(text, "level=INFO") {
		t.Errorf("info records on a terminal:\n%q", text)
	}
}

// TestProgress checks the numbers and lines of progress without a server.
func TestProgress(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	counts := map[string]int{"INBOX": 3, "Archiv": 1, "Empty": 0, "Broken": -1}
	pr := newProgress("work", func() map[string]int { return counts }, t0)
	pr.update(cache.Progress{Messages: 4, Bytes: 4_000_000}, t0)
	if pr.folders != 4 || pr.foldersDone != 1 || pr.percent() != 0 {
		t.Errorf("start: %d/%d folders, %d%%", pr.foldersDone, pr.folders, pr.percent())
	}
	if got := pr.line(); got != "work  1/4 folders  0/4 messages  0.0/4.0 MB  -  ETA -" {
		t.Errorf("start line %q", got)
	}
	pr.update(cache.Progress{Folder: "Archiv", Messages: 4, MessagesDone: 1, Bytes: 4_000_000, BytesDone: 1_000_000}, t0.Add(time.Second))
	pr.update(cache.Progress{Folder: "INBOX", Messages: 4, MessagesDone: 2, Bytes: 4_000_000, BytesDone: 2_000_000, Failed: 1}, t0.Add(2*time.Second))
	if got := pr.line(); got != "work  2/4 folders  2/4 messages  2.0/4.0 MB  1.0 MB/s  ETA 2s  1 failed" {
		t.Errorf("line %q", got)
	}
	if pr.percent() != 50 || pr.finished() {
		t.Errorf("%d%%, finished %v", pr.percent(), pr.finished())
	}
	pr.update(cache.Progress{Folder: "INBOX", Messages: 4, MessagesDone: 3, Bytes: 4_000_000, BytesDone: 3_000_000, Failed: 1}, t0.Add(3*time.Second))
	pr.update(cache.Progress{Folder: "INBOX", Messages: 4, MessagesDone: 4, Bytes: 4_000_000, BytesDone: 4_000_000, Failed: 1}, t0.Add(4*time.Second))
	if !pr.finished() || pr.foldersDone != 3 {
		t.Errorf("finished %v, %d folders done (the broken one never is)", pr.finished(), pr.foldersDone)
	}
	if got := pr.doneLine(nil); got != "work  4 folders  4 messages  4.0 MB  in 4s  1 failed" {
		t.Errorf("done line %q", got)
	}

	// The rate is over the last rateWindow only.
	pr = newProgress("x", nil, t0)
	pr.update(cache.Progress{Messages: 100, Bytes: 100e6}, t0)
	for i := 1; i <= 30; i++ {
		bytes := int64(i) * 1e6
		if i > 15 {
			bytes = 15e6 + int64(i-15)*3e6 // faster after 15 s
		}
		pr.update(cache.Progress{Messages: 100, MessagesDone: i, Bytes: 100e6, BytesDone: bytes}, t0.Add(time.Duration(i)*time.Second))
	}
	if r := pr.rate(); r != 3e6 {
		t.Errorf("rate %v, want 3e6 (the last 10 s)", r)
	}
}

// TestProgressLogCadence: without a terminal, progress is logged at the
// start, at every 10%, and at least every 5 seconds; not at 100%, where
// the summary record follows.
func TestProgressLogCadence(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	o := newSyncOutput(&b)
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	pr := newProgress("x", nil, t0)
	at := t0
	step := func(done int, d time.Duration) {
		at = at.Add(d)
		pr.update(cache.Progress{Messages: 100, MessagesDone: done, Bytes: 100, BytesDone: int64(done)}, at)
		o.progress(pr, log)
	}
	step(0, 0)
	for i := 1; i <= 50; i++ {
		step(i, 10*time.Millisecond) // fast: one line per 10%
	}
	for i := 51; i <= 60; i++ {
		step(i, time.Second) // slow: a line every 5 s as well
	}
	for i := 61; i <= 100; i++ {
		step(i, 10*time.Millisecond)
	}
	var pcts []string
	for _, m := range regexp.MustCompile(`percent=(\d+)`).FindAllStringSubmatch(b.String(), -1) {
		pcts = append(pcts, m[1])
	}
	if got := strings.Join(pcts, ","); got != "0,10,20,30,40,50,55,60,70,80,90" {
		t.Errorf("logged at %s%%\n%s", got, b.String())
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_234_567: "1.2 MB", 5e9: "5.0 GB", 2e12: "2.0 TB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := formatSizes(12_300, 230_500_000); got != "0.0/230.5 MB" {
		t.Errorf("formatSizes %q", got)
	}
}

// TestTerminalLine: log records go above the progress line, which is
// redrawn after them and cut to the terminal's width.
func TestTerminalLine(t *testing.T) {
	var b bytes.Buffer
	o := &syncOutput{w: &b, tty: true, width: func() int { return 20 }}
	o.draw("work  1/2 folders  3/4 messages", false)
	o.logWriter().Write([]byte("time=x level=WARN msg=hello\n"))
	o.draw("work  done", true)
	o.logWriter().Write([]byte("after\n"))
	want := "\r\x1b[Kwork  1/2 folders …" +
		"\r\x1b[Ktime=x level=WARN msg=hello\nwork  1/2 folders …" +
		"\r\x1b[Kwork  done\n" +
		"after\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// TestSyncSummary: what failed is named by account, folder, message and
// reason, at most maxErrorsShown per account.
func TestSyncSummary(t *testing.T) {
	var msgErrs []error
	for i := range maxErrorsShown + 3 {
		msgErrs = append(msgErrs, fmt.Errorf(`"INBOX" 2024-03-01 143205 Invoice [%d]: fetch "INBOX" UID %d: NO [SERVERBUG] oops`, i+1, i+1))
	}
	fillErr := errors.Join(append([]error{errors.Join(errors.New(`folder "Lists": EXAMINE: NO no such mailbox`))}, msgErrs...)...)
	results := []syncResult{
		{name: "home"},
		{name: "down", openErr: errors.New(`account "down": dial tcp 127.0.0.1:1: connection refused`)},
		{name: "work", fillErr: fillErr, progress: cache.Progress{Messages: 100, Failed: len(msgErrs)}},
	}
	err := syncSummary(results, 3, false)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"sync failed for 2 of 3 accounts:",
		`  account "down": dial tcp 127.0.0.1:1: connection refused`,
		`  account "work": 23 of 100 messages failed, 1 folder error:`,
		`    folder "Lists": EXAMINE: NO no such mailbox`,
		`    "INBOX" 2024-03-01 143205 Invoice [1]: fetch "INBOX" UID 1: NO [SERVERBUG] oops`,
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Errorf("line %d: got %q, want %q", i, lines[i], w)
		}
	}
	if last := lines[len(lines)-1]; last != "    … and 4 more" {
		t.Errorf("last line %q", last)
	}
	if err := syncSummary(results[:1], 1, false); err != nil {
		t.Errorf("all well: %v", err)
	}
	if err := syncSummary(results[:1], 1, true); err == nil || err.Error() != "interrupted; run mailfs sync again to resume" {
		t.Errorf("interrupted: %v", err)
	}
}

// TestSyncRebuildsDamagedCache: a sync on a cache whose meta.db is garbage
// past its meta pages neither panics nor fails: it says so in one warning,
// rebuilds the metadata and keeps the bodies (they match their hashes),
// and a mount then serves the server's exact bytes.
func TestSyncRebuildsDamagedCache(t *testing.T) {
	srv := seed(t)
	want := messageCount(srv)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	if code, out := syncBinary(t, srv, "", cacheDir); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, out)
	}
	db := filepath.Join(cacheDir, "meta.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte("\xde\xad\xbe\xef"), int(fi.Size()-8192)/4)
	f, err := os.OpenFile(db, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage, 8192); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out := syncBinary(t, srv, "", cacheDir, "--log-level", "warn")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "damaged") {
		t.Fatalf("sync of a damaged cache: exit %d, want 0 and one warning saying so:\n%s", code, out)
	}
	if aside, _ := filepath.Glob(db + ".damaged-*"); len(aside) != 1 {
		t.Errorf("damaged store not kept aside: %v", aside)
	}
	fetched := bodyFetches(t, srv)
	if n := fetched - want; n != 0 {
		t.Errorf("the rebuild fetched %d bodies, want none: they match their hashes", n)
	}

	m := mount(t, srv, cacheDir)
	files := emlFiles(t, srv.Server, m.dir)
	if len(files) != want {
		t.Fatalf("mount shows %d messages, want %d", len(files), want)
	}
	for rel, uid := range files {
		got, err := os.ReadFile(filepath.Join(m.dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, srv.Fetch(t, filepath.Dir(rel), uid)) {
			t.Errorf("%s differs from the server", rel)
		}
	}
	if n := bodyFetches(t, srv) - fetched; n != 0 {
		t.Errorf("the mount downloaded %d bodies after the rebuild, want 0", n)
	}
}

// TestSyncAfterKillLeavesNoTemporaries: a sync killed with SIGKILL in the
// middle of a download leaves its temporary file; the next run removes it
// and stores every body whole.
func TestSyncAfterKillLeavesNoTemporaries(t *testing.T) {
	srv := seed(t, sample.Big(2<<20))
	want := messageCount(srv)
	slow := slowProxy(t, srv.Addr, 1<<20)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	parts := func() []string {
		found, _ := filepath.Glob(filepath.Join(cacheDir, "bodies", "*", "*", ".part-*"))
		return found
	}

	cmd := syncCommand(srv, slow, cacheDir, "--workers", "1")
	_, done := start(t, cmd)
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, "a download under way", func() bool { return len(parts()) > 0 })
	cmd.Process.Kill()
	<-done
	left := parts()
	if len(left) == 0 {
		t.Fatal("the killed sync left no temporary file: nothing to clean up")
	}

	if code, out := syncBinary(t, srv, "", cacheDir); code != 0 {
		t.Fatalf("sync after the kill: exit %d\n%s", code, out)
	}
	for _, p := range left {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still there after the next sync", p)
		}
	}
	if found := parts(); len(found) > 0 {
		t.Errorf("temporary files in the cache: %v", found)
	}
	if emls, _ := filepath.Glob(filepath.Join(cacheDir, "bodies", "*", "*", "*.eml")); len(emls) != want {
		t.Errorf("%d bodies cached, want %d", len(emls), want)
	}
}
