package main

// End-to-end tests: the real mailfs binary against a private Dovecot,
// mounted with FUSE in a temporary folder and read with real tools.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"mailfs/fs/mountinfo"
	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/dovecottest/syncbuf"
	"mailfs/imapsrc/sample"
)

var binary string // the mailfs binary built for these tests

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mailfs-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mailfs")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build mailfs: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needFUSE skips without FUSE, except in CI where it fails.
func needFUSE(t *testing.T) {
	t.Helper()
	_, err := os.Stat("/dev/fuse")
	if err == nil && os.Geteuid() == 0 {
		return
	}
	if err == nil {
		if _, err = exec.LookPath("fusermount3"); err == nil {
			return
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("FUSE is not usable (%v): CI must run the mount tests", err)
	}
	t.Skipf("FUSE is not usable: %v (install fuse3)", err)
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must run this test", name)
		}
		t.Skipf("%s is missing", name)
	}
}

// seeded is a Dovecot holding the sample mailbox.
type seeded struct {
	*dovecottest.Server
	uids map[string][]uint32 // folder → UIDs appended, in sample order
}

func seed(t *testing.T, extra ...sample.Message) *seeded {
	srv := dovecottest.Start(t)
	for _, f := range sample.Folders() {
		if f != "INBOX" {
			srv.Create(t, f)
		}
	}
	s := &seeded{Server: srv, uids: map[string][]uint32{}}
	for _, m := range append(sample.Messages(), extra...) {
		uid := srv.Append(t, m.Folder, m.Raw, m.Date, m.Flags...)
		s.uids[m.Folder] = append(s.uids[m.Folder], uid)
	}
	return s
}

// mounted is a running mailfs process.
type mounted struct {
	dir  string
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan error
}

// mount starts mailfs on a fresh mountpoint with the given cache folder and
// waits until the mount is live.
func mount(t *testing.T, srv *seeded, cacheDir string, args ...string) *mounted {
	t.Helper()
	needFUSE(t)
	dir := t.TempDir()
	all := append([]string{"mount", "--server", srv.Addr, "--tls", "starttls", "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", cacheDir, "--poll", "1s", "--log-level", "debug"}, args...)
	all = append(all, dir)
	cmd := exec.Command(binary, all...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	return startMount(t, cmd, dir)
}

// start runs cmd with its output collected; its exit arrives on done.
func start(t *testing.T, cmd *exec.Cmd) (logs *syncbuf.Buffer, done chan error) {
	t.Helper()
	logs, done = &syncbuf.Buffer{}, make(chan error, 1)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	return logs, done
}

// startMount starts a mailfs mount command for dir, waits until the mount
// is live, and unmounts it (checking the clean exit) when the test ends.
func startMount(t *testing.T, cmd *exec.Cmd, dir string) *mounted {
	t.Helper()
	m := &mounted{dir: dir, cmd: cmd}
	m.logs, m.done = start(t, cmd)
	deadline := time.Now().Add(20 * time.Second)
	for !mountinfo.IsMounted(dir) {
		select {
		case err := <-m.done:
			t.Fatalf("mailfs exited before mounting: %v\n%s", err, m.logs)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("mount did not appear\n%s", m.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { m.stop(t) })
	return m
}

// stop unmounts with SIGTERM and checks the clean exit.
func (m *mounted) stop(t *testing.T) {
	if m.cmd.ProcessState != nil || m.done == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-m.done:
		m.done = nil
		if err != nil {
			t.Errorf("mailfs exit: %v\n%s", err, m.logs)
		}
	case <-time.After(15 * time.Second):
		m.cmd.Process.Kill()
		exec.Command("fusermount3", "-u", "-z", m.dir).Run()
		t.Errorf("mailfs did not exit on SIGTERM\n%s", m.logs)
	}
	if mountinfo.IsMounted(m.dir) {
		t.Errorf("%s still mounted after exit", m.dir)
	}
}

// bodyFetches counts the message bodies the server was asked for: the UIDs
// in every UID FETCH … BODY.PEEK[] command it has seen.
func bodyFetches(t *testing.T, srv *seeded) int {
	n := 0
	for _, c := range srv.Commands(t) {
		f := strings.Fields(c)
		if len(f) < 3 || !strings.Contains(strings.ToUpper(c), "BODY.PEEK[]") {
			continue
		}
		for _, r := range strings.Split(f[2], ",") { // UID FETCH SET (...)
			lo, hi, isRange := strings.Cut(r, ":")
			a, _ := strconv.Atoi(lo)
			b, _ := strconv.Atoi(hi)
			if !isRange {
				b = a
			}
			n += b - a + 1
		}
	}
	return n
}

func TestMountServesExactMessages(t *testing.T) {
	big := sample.Big(3 << 20)
	srv := seed(t, big)
	flagsBefore := map[string][]string{}
	for folder, uids := range srv.uids {
		for _, uid := range uids {
			flagsBefore[fmt.Sprint(folder, uid)] = srv.Flags(t, folder, uid)
		}
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m := mount(t, srv, cacheDir)

	// Listing fetches no bodies.
	files := emlFiles(t, srv.Server, m.dir)
	if n := bodyFetches(t, srv); n != 0 {
		t.Errorf("listing fetched %d bodies, want 0", n)
	}
	want := 0
	for _, uids := range srv.uids {
		want += len(uids)
	}
	if len(files) != want {
		t.Fatalf("mount shows %d messages, server holds %d", len(files), want)
	}

	// Folders appear with decoded names and hierarchy.
	for _, f := range sample.Folders() {
		if fi, err := os.Stat(filepath.Join(m.dir, f)); err != nil || !fi.IsDir() {
			t.Errorf("folder %q: %v", f, err)
		}
	}

	// Every file: exact bytes, exact size before reading, mtime = INTERNALDATE, safe name.
	dates := map[string]time.Time{}
	for _, msg := range append(sample.Messages(), big) {
		dates[string(msg.Raw)] = msg.Date
	}
	inodes := map[string]uint64{}
	for rel, uid := range files {
		p := filepath.Join(m.dir, rel)
		folder := filepath.Dir(rel)
		if folder == "." {
			t.Errorf("message file at top level: %s", rel)
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		inodes[rel] = st.Ino
		server := srv.Fetch(t, folder, uid)
		if st.Size != int64(len(server)) {
			t.Errorf("%s: st_size %d, server size %d", rel, st.Size, len(server))
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", rel, err)
		}
		if !bytes.Equal(got, server) {
			t.Errorf("%s: %d bytes differ from the server's %d", rel, len(got), len(server))
		}
		if d, ok := dates[string(server)]; ok && st.Mtim.Sec != d.Unix() {
			t.Errorf("%s: mtime %d, INTERNALDATE %d", rel, st.Mtim.Sec, d.Unix())
		}
		checkSafeName(t, filepath.Base(rel))
	}

	// Reading changed no flags (BODY.PEEK, EXAMINE).
	for folder, uids := range srv.uids {
		for _, uid := range uids {
			before := fmt.Sprint(flagsBefore[fmt.Sprint(folder, uid)])
			if after := fmt.Sprint(srv.Flags(t, folder, uid)); after != before {
				t.Errorf("%s UID %d: flags %s became %s", folder, uid, before, after)
			}
		}
	}

	// rsync twice: the second run transfers nothing.
	needTool(t, "rsync")
	backup := t.TempDir()
	rsync(t, m.dir+"/", backup+"/")
	if out := rsync(t, "--stats", m.dir+"/", backup+"/"); !strings.Contains(out, "Number of regular files transferred: 0") {
		t.Errorf("second rsync transferred files:\n%s", out)
	}
	if n := len(emlFiles(t, srv.Server, backup)); n != want {
		t.Errorf("backup holds %d messages, want %d", n, want)
	}

	// grep finds a message by a word of its body.
	out, err := exec.Command("grep", "-rl", "Rechnung", m.dir).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Errorf("grep -rl Rechnung: %v %s", err, out)
	}

	fetched := bodyFetches(t, srv)
	if fetched != want {
		t.Errorf("%d body fetches for %d messages: each should be fetched once", fetched, want)
	}

	// A remount with the same cache shows the same names and inodes and
	// reads everything without downloading a body.
	m.stop(t)
	m2 := mount(t, srv, cacheDir)
	files2 := emlFiles(t, srv.Server, m2.dir)
	for rel := range files {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(m2.dir, rel), &st); err != nil {
			t.Errorf("after remount: %v", err)
			continue
		}
		if st.Ino != inodes[rel] {
			t.Errorf("%s: inode %d became %d after remount", rel, inodes[rel], st.Ino)
		}
		if _, err := os.ReadFile(filepath.Join(m2.dir, rel)); err != nil {
			t.Error(err)
		}
	}
	if len(files2) != len(files) {
		t.Errorf("remount shows %d files, first mount %d", len(files2), len(files))
	}
	if n := bodyFetches(t, srv) - fetched; n != 0 {
		t.Errorf("remount downloaded %d bodies, want 0", n)
	}

	// A message appended on the server appears; an expunged one disappears.
	newMsg := sample.Messages()[0]
	newMsg.Raw = bytes.Replace(newMsg.Raw, []byte("Subject: "), []byte("Subject: Fresh "), 1)
	uid := srv.Append(t, "INBOX", newMsg.Raw, newMsg.Date)
	gone := srv.uids["INBOX"][0]
	srv.Expunge(t, "INBOX", gone)
	waitFor(t, "new message to appear and expunged to vanish", func() bool {
		found, vanished := false, true
		for rel, u := range emlFiles(t, srv.Server, m2.dir) {
			if strings.HasPrefix(rel, "INBOX/") && u == uid {
				found = true
			}
			if strings.HasPrefix(rel, "INBOX/") && u == gone {
				vanished = false
			}
		}
		return found && vanished
	})
}

func rsync(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("rsync", append([]string{"-a"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rsync %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func checkSafeName(t *testing.T, name string) {
	t.Helper()
	switch {
	case !utf8.ValidString(name):
		t.Errorf("name %q is not UTF-8", name)
	case len(name) > 255:
		t.Errorf("name %q is %d bytes", name, len(name))
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "."):
		t.Errorf("name %q starts with - or .", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		t.Errorf("name %q has control characters", name)
	case strings.ContainsAny(name, `/\:*?"<>|`):
		t.Errorf("name %q has characters other file systems refuse", name)
	}
}

func TestWrongPasswordDoesNotMount(t *testing.T) {
	needFUSE(t)
	srv := dovecottest.Start(t)
	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--server", srv.TLSAddr, "--tls-ca", srv.CAFile,
		"--user", srv.User, "--cache", t.TempDir(), dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD=wrong")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("mailfs with a wrong password succeeded:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "login refused") {
		t.Errorf("want one line saying the login was refused, got:\n%s", out)
	}
	if strings.Contains(string(out), "wrong") {
		t.Errorf("the password appears in the output:\n%s", out)
	}
	if mountinfo.IsMounted(dir) {
		t.Error("mounted despite the wrong password")
	}
}

func TestTLSRequiredOffLoopback(t *testing.T) {
	cmd := exec.Command(binary, "mount", "--server", "imap.example.com", "--tls", "none", "--user", "u", t.TempDir())
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD=x")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "without TLS") {
		t.Errorf("want a refusal to send a password without TLS, got %v:\n%s", err, out)
	}
}

func TestUIDValidityChangeKeepsBodies(t *testing.T) {
	srv := seed(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m := mount(t, srv, cacheDir)
	before := emlFiles(t, srv.Server, filepath.Join(m.dir, "Newsletters"))
	for rel := range before {
		if _, err := os.ReadFile(filepath.Join(m.dir, "Newsletters", rel)); err != nil {
			t.Fatal(err)
		}
	}
	m.stop(t)
	old := srv.UIDValidity(t, "Newsletters")
	srv.ResetUIDValidity(t, "Newsletters")
	if srv.UIDValidity(t, "Newsletters") == old {
		t.Fatal("UIDVALIDITY did not change")
	}
	fetched := bodyFetches(t, srv)
	m2 := mount(t, srv, cacheDir)
	after := emlFiles(t, srv.Server, filepath.Join(m2.dir, "Newsletters"))
	if len(after) != len(before) {
		t.Fatalf("%d messages after the reset, %d before", len(after), len(before))
	}
	for rel, uid := range after {
		got, err := os.ReadFile(filepath.Join(m2.dir, "Newsletters", rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, srv.Fetch(t, "Newsletters", uid)) {
			t.Errorf("%s differs from the server after the reset", rel)
		}
	}
	if n := bodyFetches(t, srv) - fetched; n != 0 {
		t.Errorf("%d bodies downloaded again after a UIDVALIDITY change, want 0", n)
	}
}

// TestBigMessageStreams reads a large message through the mount and checks
// that mailfs's peak memory does not grow with the message.
func TestBigMessageStreams(t *testing.T) {
	const size = 48 << 20
	big := sample.Big(size)
	srv := seed(t, big)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"))
	var path string
	for rel := range emlFiles(t, srv.Server, filepath.Join(m.dir, "INBOX")) {
		if fi, err := os.Stat(filepath.Join(m.dir, "INBOX", rel)); err == nil && fi.Size() > size/2 {
			path = filepath.Join(m.dir, "INBOX", rel)
		}
	}
	if path == "" {
		t.Fatal("big message not found")
	}
	base := peakRSS(t, m.cmd.Process.Pid)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big.Raw) {
		t.Fatalf("big message: %d bytes read, %d on the server, or content differs", len(got), len(big.Raw))
	}
	grew := peakRSS(t, m.cmd.Process.Pid) - base
	t.Logf("peak RSS grew by %d KiB reading a %d MiB message", grew>>10, size>>20)
	if grew > 24<<20 {
		t.Errorf("peak RSS grew by %d MiB reading a %d MiB message: bodies must stream", grew>>20, size>>20)
	}
}

func peakRSS(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestOutageAndExpungedMessage: what is cached stays readable while the
// server is down, what is not fails fast with an error (never a hang or an
// empty file), and a message expunged before it was read fails too.
func TestOutageAndExpungedMessage(t *testing.T) {
	srv := seed(t)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"))
	inbox := filepath.Join(m.dir, "INBOX")
	byUID := map[uint32]string{}
	for rel, uid := range emlFiles(t, srv.Server, inbox) {
		byUID[uid] = filepath.Join(inbox, rel)
	}
	// Read out of name order, so that read-ahead fetches nothing early.
	uids := srv.uids["INBOX"]
	cached, expunged, uncached := byUID[uids[0]], byUID[uids[1]], byUID[uids[2]]
	srv.Expunge(t, "INBOX", uids[1])
	if b, err := os.ReadFile(expunged); err == nil {
		t.Errorf("reading an expunged message succeeded with %d bytes", len(b))
	}
	want, err := os.ReadFile(cached)
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	if got, err := os.ReadFile(cached); err != nil || !bytes.Equal(got, want) {
		t.Errorf("cached message during outage: %v", err)
	}
	start := time.Now()
	if b, err := os.ReadFile(uncached); err == nil {
		t.Errorf("reading an uncached message during an outage succeeded with %d bytes", len(b))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("failing read took %v", d)
	}
	if _, err := os.ReadDir(inbox); err != nil {
		t.Errorf("listing during outage: %v", err)
	}
	// The log comes through a pipe: it may reach the buffer after the
	// read failed.
	waitFor(t, "a log line naming the file that failed", func() bool {
		return strings.Contains(m.logs.String(), filepath.Base(uncached))
	})

	srv.Restart(t)
	if got, err := os.ReadFile(uncached); err != nil || !bytes.Equal(got, srv.Fetch(t, "INBOX", uids[2])) {
		t.Errorf("after the server came back: %v", err)
	}
}

// TestRenderedViews mounts with every format: plain ls renders nothing,
// sizes are exact, rsync copies valid PDFs, safe HTML and MHTML, DOCX
// packages that hold the body text, and a remount renders nothing again.
func TestRenderedViews(t *testing.T) {
	needTool(t, "rsync")
	needTool(t, "qpdf")
	needTool(t, "pdftotext")
	srv := seed(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	m := mount(t, srv, cacheDir, "--formats", "eml,html,pdf,txt,mht,docx,msg")
	rendered := func(m *mounted) int { return strings.Count(m.logs.String(), `msg=rendered`) }

	ls := exec.Command("ls", filepath.Join(m.dir, "INBOX"))
	out, err := ls.Output()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(out))
	if n := rendered(m); n != 0 {
		t.Errorf("plain ls rendered %d files", n)
	}
	for _, ext := range []string{".eml", ".html", ".pdf", ".txt", ".mht", ".docx", ".msg"} {
		found := false
		for _, n := range names {
			found = found || strings.HasSuffix(n, ext)
		}
		if !found {
			t.Errorf("no %s file in INBOX", ext)
		}
	}

	backup := t.TempDir()
	rsync(t, m.dir+"/", backup+"/")
	msgs := sample.Messages()
	views := 0
	err = filepath.WalkDir(backup, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		mounted, err := os.Stat(filepath.Join(m.dir, strings.TrimPrefix(p, backup)))
		if err != nil {
			return err
		}
		local, _ := os.Stat(p)
		if local.Size() != mounted.Size() || local.Size() == 0 {
			t.Errorf("%s: copied %d bytes, mount says %d", p, local.Size(), mounted.Size())
		}
		b, _ := os.ReadFile(p)
		switch filepath.Ext(p) {
		case ".pdf":
			views++
			if out, err := exec.Command("qpdf", "--check", p).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check %s: %v\n%s", p, err, out)
			}
			txt, err := exec.Command("pdftotext", p, "-").Output()
			if err != nil || len(bytes.TrimSpace(txt)) == 0 {
				t.Errorf("pdftotext %s: %v", p, err)
			}
			if strings.Contains(p, "Rechnung 2024-0117") && !bytes.Contains(txt, []byte("Abrechnungszeitraum")) {
				t.Errorf("%s: body text missing from the PDF:\n%s", p, txt)
			}
		case ".html":
			views++
			low := bytes.ToLower(b)
			for _, bad := range []string{"<script", "&lt;script", "src=\"http", "src='http", "src=&#34;http"} {
				if bytes.Contains(low, []byte(bad)) {
					t.Errorf("%s contains %s", p, bad)
				}
			}
			// HTML bodies are sandboxed frames (render/doc.go), nothing else.
			frames := bytes.Count(low, []byte("<iframe"))
			if n := bytes.Count(b, []byte(`<iframe class="mailfs-frame" title="message body" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="`)); n != frames {
				t.Errorf("%s: %d of %d frames sandboxed", p, n, frames)
			}
		case ".mht":
			views++
			if !bytes.Contains(b, []byte("\r\nContent-Type: multipart/related; type=\"text/html\"; boundary=")) ||
				!bytes.Contains(b, []byte("Content-Location: http://mailfs.invalid/message.html\r\n")) {
				t.Errorf("%s is not an MHTML file:\n%.300s", p, b)
			}
		case ".txt":
			views++
			if strings.Contains(p, "Rechnung 2024-0117") && !bytes.Contains(b, []byte("Abrechnungszeitraum Dezember 2023")) {
				t.Errorf("%s: decoded body missing:\n%s", p, b)
			}
		case ".docx":
			views++
			doc := docxDocument(t, p, b)
			if strings.Contains(p, "Rechnung 2024-0117") && !bytes.Contains(doc, []byte("Abrechnungszeitraum")) {
				t.Errorf("%s: body text missing from the DOCX", p)
			}
		case ".msg":
			views++
			// A compound file (render/msg_test.go reads them with olefile
			// and msgconvert) whose PR_BODY holds the text, in UTF-16.
			if !bytes.HasPrefix(b, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) {
				t.Errorf("%s is not a compound file", p)
			}
			if strings.Contains(p, "Rechnung 2024-0117") && !bytes.Contains(b, utf16LE("Abrechnungszeitraum")) {
				t.Errorf("%s: body text missing from the .msg", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if views != 6*len(msgs) {
		t.Errorf("%d views copied, want %d", views, 6*len(msgs))
	}
	if n := rendered(m); n != 6*len(msgs) {
		t.Errorf("rendered %d views, want each of %d exactly once", n, 6*len(msgs))
	}

	// A remount with the same cache renders nothing and gives equal bytes.
	m.stop(t)
	m2 := mount(t, srv, cacheDir, "--formats", "eml,html,pdf,txt,mht,docx,msg")
	rsync(t, "--checksum", "--delete", m2.dir+"/", backup+"/")
	if out := rsync(t, "--checksum", "--stats", m2.dir+"/", backup+"/"); !strings.Contains(out, "Number of regular files transferred: 0") {
		t.Errorf("views changed after a remount:\n%s", out)
	}
	if n := rendered(m2); n != 0 {
		t.Errorf("remount rendered %d views again", n)
	}
}

// utf16LE encodes ASCII text as a .msg stores strings.
func utf16LE(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// docxDocument returns the word/document.xml of a .docx file's bytes.
func docxDocument(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Errorf("%s: not a zip: %v", name, err)
		return nil
	}
	for _, f := range z.File {
		if f.Name == "word/document.xml" {
			r, err := f.Open()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return nil
			}
			defer r.Close()
			var doc bytes.Buffer
			if _, err := doc.ReadFrom(r); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			return doc.Bytes()
		}
	}
	t.Errorf("%s: no word/document.xml", name)
	return nil
}

// TestDemo runs the README's first command and reads the sample mailbox.
func TestDemo(t *testing.T) {
	dir, done, logs := demoMount(t)
	want := map[string]bool{}
	for _, m := range sample.Messages() {
		want[string(m.Raw)] = true
	}
	files := emlFiles(t, nil, dir)
	if len(files) != len(want) {
		t.Errorf("demo shows %d messages, the sample has %d", len(files), len(want))
	}
	for rel := range files {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || !want[string(b)] {
			t.Errorf("%s: not a sample message (%v)", rel, err)
		}
	}
	// An unmount from outside ends mailfs with status 0.
	if out, err := exec.Command("fusermount3", "-u", dir).CombinedOutput(); err != nil {
		t.Fatalf("fusermount3 -u: %v %s", err, out)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mailfs exit after unmount: %v\n%s", err, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mailfs still running after fusermount3 -u")
	}
}

// TestConfigAccounts mounts two accounts from a config file, one of them
// unreachable, with folder and date filters on the other.
func TestConfigAccounts(t *testing.T) {
	needFUSE(t)
	srv := seed(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	config := fmt.Sprintf(`cache_dir = %q
poll = "1s"

[[account]]
name = "work"
server = %q
tls = "starttls"
tls_ca = %q
user = %q
password_file = %q
include = ["INBOX", "Archiv/*"]
exclude = ["Archiv/2023"]
since = %s

[[account]]
name = "down"
server = "127.0.0.1:1"
tls = "none"
user = "nobody"
password_cmd = "echo x"
`, filepath.Join(dir, "cache"), srv.Addr, srv.CAFile, srv.User, pwFile, since.Format(time.DateOnly))
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := t.TempDir()
	logs := startMount(t, exec.Command(binary, "mount", "--config", cfgFile, "--log-level", "debug", mp), mp).logs

	top, err := os.ReadDir(mp)
	if err != nil || len(top) != 2 || top[0].Name() != "down" || top[1].Name() != "work" {
		t.Fatalf("top level: %v %v", top, err)
	}
	if down, err := os.ReadDir(filepath.Join(mp, "down")); err != nil || len(down) != 0 {
		t.Errorf("unreachable account: %v %v, want an empty directory", down, err)
	}
	if !strings.Contains(logs.String(), `account=down`) {
		t.Errorf("the unreachable account is not logged:\n%s", logs)
	}
	var folders []string
	filepath.WalkDir(filepath.Join(mp, "work"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(mp, "work"), p)
			folders = append(folders, rel)
		}
		return nil
	})
	if got := strings.Join(folders, ","); got != ".,Archiv,Archiv/2024,INBOX" {
		t.Errorf("folders %s, want .,Archiv,Archiv/2024,INBOX", got)
	}
	want := 0
	for _, msg := range sample.Messages() {
		if (msg.Folder == "INBOX" || msg.Folder == "Archiv/2024") && !msg.Date.Before(since) {
			want++
		}
	}
	files := emlFiles(t, nil, filepath.Join(mp, "work"))
	if len(files) != want {
		t.Errorf("%d messages shown, want %d since %s", len(files), want, since.Format(time.DateOnly))
	}
	for rel := range files {
		if rel < "INBOX/2024-06-01" && strings.HasPrefix(rel, "INBOX/") {
			t.Errorf("%s is older than the since filter", rel)
		}
	}
}

// TestProviderHidesAllMail: the gmail preset hides the folder the server
// flags \All (Gmail's All Mail, in any language), and show_all_mail shows it.
func TestProviderHidesAllMail(t *testing.T) {
	needFUSE(t)
	srv := dovecottest.Start(t)
	srv.Create(t, "All Mail")
	m := sample.Messages()[0]
	srv.Append(t, "All Mail", m.Raw, m.Date)
	srv.Append(t, "INBOX", m.Raw, m.Date)
	dir := t.TempDir()
	for _, show := range []bool{false, true} {
		config := fmt.Sprintf(`[[account]]
name = "g"
provider = "gmail"
server = %q
tls = "starttls"
tls_ca = %q
user = %q
password_env = "TEST_PW"
show_all_mail = %v
cache_dir = %q
`, srv.Addr, srv.CAFile, srv.User, show, filepath.Join(dir, fmt.Sprint("cache", show)))
		cfgFile := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		mp := t.TempDir()
		cmd := exec.Command(binary, "mount", "--config", cfgFile, mp)
		cmd.Env = append(os.Environ(), "TEST_PW="+srv.Password)
		mt := startMount(t, cmd, mp)
		logs := mt.logs
		_, err := os.Stat(filepath.Join(mp, "g", "All Mail"))
		if shown := err == nil; shown != show {
			t.Errorf("show_all_mail = %v: All Mail shown = %v (%v)\n%s", show, shown, err, logs)
		}
		if _, err := os.Stat(filepath.Join(mp, "g", "INBOX")); err != nil {
			t.Errorf("INBOX: %v", err)
		}
		mt.stop(t)
	}
}

// TestIdleShowsNewMailAtOnce: with polling far off, IMAP IDLE on INBOX
// still brings a new message (and takes an expunged one away) quickly.
func TestIdleShowsNewMailAtOnce(t *testing.T) {
	srv := seed(t)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"), "--poll", "1h")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mailfs log:\n%s", m.logs)
		}
	})
	inbox := filepath.Join(m.dir, "INBOX")
	before := len(emlFiles(t, srv.Server, inbox))
	waitFor(t, "IDLE to start", func() bool { return strings.Contains(m.logs.String(), `msg=idle folder=INBOX`) })
	msg := sample.Messages()[0]
	uid := srv.Append(t, "INBOX", msg.Raw, msg.Date)
	waitFor(t, "the new message", func() bool {
		for _, u := range emlFiles(t, srv.Server, inbox) {
			if u == uid {
				return true
			}
		}
		return false
	})
	srv.Expunge(t, "INBOX", uid)
	waitFor(t, "the expunged message to go", func() bool { return len(emlFiles(t, srv.Server, inbox)) == before })
}

// TestIdleReconnectCatchesUp: mail delivered while the IDLE connection is
// down appears as soon as IDLE is back, not at the next poll.
func TestIdleReconnectCatchesUp(t *testing.T) {
	srv := seed(t)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"), "--poll", "1h")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mailfs log:\n%s", m.logs)
		}
	})
	inbox := filepath.Join(m.dir, "INBOX")
	idles := func() int { return strings.Count(m.logs.String(), `msg=idle folder=INBOX`) }
	lost := func() int {
		return strings.Count(m.logs.String(), `msg="idle: connection lost, reconnecting" folder=INBOX`)
	}
	waitFor(t, "IDLE to start", func() bool { return idles() == 1 })
	msg := sample.Messages()[0]
	// Kick every connection and deliver while IDLE waits to reconnect
	// (a second at first, longer after each loss). Should IDLE be back
	// before the message is in, the delivery proves nothing: again.
	var uid uint32
	for attempt := 1; ; attempt++ {
		started := idles()
		srv.Kick(t)
		waitFor(t, "IDLE to lose its connection", func() bool { return lost() == attempt })
		uid = srv.Append(t, "INBOX", msg.Raw, msg.Date)
		if idles() == started {
			break
		}
		if attempt == 3 {
			t.Fatal("IDLE reconnected before each delivery: no delivery during a reconnect")
		}
	}
	waitFor(t, "IDLE to come back", func() bool { return idles() > 1 })
	waitFor(t, "the message delivered during the reconnect", func() bool {
		for _, u := range emlFiles(t, srv.Server, inbox) {
			if u == uid {
				return true
			}
		}
		return false
	})
}

// TestUnreachableServerSaysSo: one line naming the address and the cause.
func TestUnreachableServerSaysSo(t *testing.T) {
	cmd := exec.Command(binary, "mount", "--server", "127.0.0.1:1", "--tls", "none", "--user", "u", t.TempDir())
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD=x")
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "cannot reach 127.0.0.1:1") || !strings.Contains(lines[0], "refused") {
		t.Errorf("want one line saying 127.0.0.1:1 cannot be reached, got %v:\n%s", err, out)
	}
}
