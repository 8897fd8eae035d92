package main

// Issue 13: a folder's mbox (--formats …,mbox) read through a real mount
// of a Dovecot account, checked by readers we did not write: Python's
// mailbox.mbox and mutt.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailfs/imapsrc/sample"
)

// mboxPython reads an mbox with Python's mailbox module and prints, per
// message, its From line and its bytes.
const mboxPython = `
import base64, json, mailbox, sys
box = mailbox.mbox(sys.argv[1], create=False)
print(json.dumps([{"from": box.get_message(k).get_from(), "raw": base64.b64encode(box.get_bytes(k)).decode()} for k in box.keys()]))
`

func TestFolderMbox(t *testing.T) {
	needTool(t, "mutt")
	needTool(t, "script")
	at := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	quoting := sample.Message{Folder: "INBOX", Date: at("2024-05-06T07:08:09Z"), Raw: []byte(
		"Return-Path: <bounces@lists.example>\r\nFrom: Ann <ann@example.com>\r\nSubject: quoting\r\n" +
			"Message-ID: <quoting@example.com>\r\n\r\nFrom the start\r\n>From quoted\r\n>>From twice\r\nFrom\r\n\r\nFrom x\r\n")}
	noEnd := sample.Message{Folder: "INBOX", Date: at("2024-05-07T07:08:09Z"), Raw: []byte(
		"From: b@example.com\r\nSubject: no line end\r\nMessage-ID: <noend@example.com>\r\n\r\nlast line")}
	srv := seed(t, quoting, noEnd)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"), "--formats", "eml,mbox")

	for _, folder := range []string{"INBOX", "Projekte 🚀", "Archiv/2023"} {
		dir := filepath.Join(m.dir, folder)
		name := "." + filepath.Base(folder) + ".mbox"
		path := filepath.Join(dir, name)

		// ls -a shows it; ls -l (which stats every name it shows) does
		// not download a body.
		before := bodyFetches(t, srv)
		if out, err := exec.Command("ls", "-a", dir).CombinedOutput(); err != nil || !strings.Contains(string(out), name+"\n") {
			t.Fatalf("ls -a %s: %v\n%s", dir, err, out)
		}
		if out, err := exec.Command("ls", "-l", dir).CombinedOutput(); err != nil {
			t.Fatalf("ls -l %s: %v\n%s", dir, err, out)
		}
		if got := bodyFetches(t, srv); got != before {
			t.Errorf("ls -l of %s downloaded %d bodies", folder, got-before)
		}

		// The folder's messages in UID order (as appended).
		var want [][]byte
		for _, msg := range append(sample.Messages(), quoting, noEnd) {
			if msg.Folder == folder {
				want = append(want, mboxLF(msg.Raw))
			}
		}
		// stat tells the exact size before the first read.
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != fi.Size() {
			t.Fatalf("%s: stat says %d bytes, read %d", name, fi.Size(), len(got))
		}
		if again, _ := exec.Command("cat", path).Output(); !bytes.Equal(again, got) {
			t.Errorf("%s: a second read gave other bytes", name)
		}
		if n := bytes.Count(got, []byte("\nFrom ")) + 1; n != len(want) {
			t.Errorf("%s: %d From lines, %d messages", name, n, len(want))
		}

		if got := bodyFetches(t, srv); got != before+len(want) {
			t.Errorf("stat of %s downloaded %d bodies, want the %d of the folder", name, got-before, len(want))
		}
		// Its .eml files with their dates (the INTERNALDATE), by content.
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		emls := map[string]time.Time{}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".eml") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := e.Info()
			emls[string(mboxLF(b))] = fi.ModTime()
		}
		if len(emls) != len(want) || len(want) == 0 {
			t.Fatalf("%s: %d .eml files, %d messages appended", folder, len(emls), len(want))
		}

		// Python's mailbox gives every message back: the .eml with LF
		// line ends, once one '>' goes from each ^>+From line.
		py, err := exec.Command("/usr/bin/python3", "-c", mboxPython, path).Output()
		if err != nil {
			t.Fatalf("python mailbox: %v", err)
		}
		var read []struct {
			From string
			Raw  []byte
		}
		if err := json.Unmarshal(py, &read); err != nil {
			t.Fatal(err)
		}
		if len(read) != len(want) {
			t.Fatalf("%s: Python read %d messages, the folder holds %d", name, len(read), len(want))
		}
		for i, r := range read {
			got := unquoteMboxrd(r.Raw)
			if !bytes.Equal(got, want[i]) {
				t.Errorf("%s message %d: Python read\n%q\nwant\n%q", name, i, got, want[i])
			}
			date, ok := emls[string(got)]
			if !ok {
				t.Errorf("%s message %d: no .eml has its bytes", name, i)
			}
			f := strings.SplitN(r.From, " ", 2)
			if len(f) != 2 {
				t.Errorf("%s message %d: From line %q", name, i, r.From)
				continue
			}
			if d, err := time.Parse(time.ANSIC, f[1]); err != nil || !d.Equal(date.UTC().Truncate(time.Second)) {
				t.Errorf("%s message %d: From line date %q, want the INTERNALDATE %v", name, i, f[1], date.UTC())
			}
			if bytes.Contains(got, []byte("Message-ID: <quoting@example.com>")) && f[0] != "bounces@lists.example" {
				t.Errorf("envelope sender %q, want Return-Path's", f[0])
			}
		}

		// mutt opens it and counts the same messages.
		if n := muttCount(t, path); n != len(want) {
			t.Errorf("mutt counts %d messages in %s, the folder holds %d", n, name, len(want))
		}
	}
	if !strings.Contains(m.logs.String(), "mbox download done") {
		t.Errorf("no download progress logged:\n%s", m.logs)
	}
}

// mboxLF is a message as an mbox gives it back: LF line ends, and one at
// the end.
func mboxLF(raw []byte) []byte {
	b := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}

// unquoteMboxrd takes one '>' from each line matching ^>+From .
func unquoteMboxrd(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, l := range lines {
		if rest := bytes.TrimLeft(l, ">"); len(rest) < len(l) && bytes.HasPrefix(rest, []byte("From ")) {
			lines[i] = l[1:]
		}
	}
	return bytes.Join(lines, nil)
}

// muttCount opens an mbox in mutt and returns the number of messages it
// found: mutt tags them all and pipes each to a command that adds a line
// to a file. mutt wants a terminal: script(1) gives it one.
func muttCount(t *testing.T, path string) int {
	t.Helper()
	dir := t.TempDir()
	out, rc := filepath.Join(dir, "count"), filepath.Join(dir, "muttrc")
	conf := "set folder=" + dir + "\nset pipe_split=yes\nset wait_key=no\nset read_only\nset sort=mailbox-order\n"
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", `mutt -n -F "$RC" -R -f "$MBOX" -e "$PUSH"`, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+dir, "RC="+rc, "MBOX="+path, "OUT="+out,
		`PUSH=push "<tag-pattern>~A<enter><tag-prefix><pipe-message>cat >/dev/null; echo m >>\"$OUT\"<enter><quit>"`)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mutt: %v\n%q", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("mutt piped no message: %v", err)
	}
	return bytes.Count(b, []byte("m\n"))
}

// A folder's mbox streams: reading the mbox of a folder holding a big
// message needs no memory for the message, and gives the size stat said.
func TestFolderMboxStreams(t *testing.T) {
	const size = 40 << 20
	big := sample.Big(size)
	srv := seed(t, big)
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"), "--formats", "eml,mbox")
	path := filepath.Join(m.dir, "INBOX", ".INBOX.mbox")
	base := peakRSS(t, m.cmd.Process.Pid)
	start := time.Now()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	statted := time.Since(start)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start = time.Now()
	n, err := io.Copy(io.Discard, f)
	if err != nil || n != fi.Size() {
		t.Fatalf("read %d bytes (%v), stat said %d", n, err, fi.Size())
	}
	grew := peakRSS(t, m.cmd.Process.Pid) - base
	t.Logf("mbox of %d MiB: stat (downloading) %v, read %v; peak RSS grew by %d KiB", fi.Size()>>20, statted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), grew>>10)
	if grew > 24<<20 {
		t.Errorf("peak RSS grew by %d MiB making and reading a %d MiB mbox: it must stream", grew>>20, fi.Size()>>20)
	}
}

// mailfs export --format mbox writes each folder's mbox, the bytes a
// mount shows, under the folder hierarchy.
func TestExportMbox(t *testing.T) {
	srv := seed(t)
	out := filepath.Join(t.TempDir(), "export")
	cmd := exec.Command(binary, "export", "--format", "mbox", "--output", out, "--server", srv.Addr, "--tls", "starttls",
		"--tls-ca", srv.CAFile, "--user", srv.User, "--cache", filepath.Join(t.TempDir(), "cache"))
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, b)
	}
	m := mount(t, srv, filepath.Join(t.TempDir(), "cache"), "--formats", "mbox")
	counts := map[string]int{}
	for _, msg := range sample.Messages() {
		counts[msg.Folder]++
	}
	for _, folder := range sample.Folders() {
		got, err := os.ReadFile(filepath.Join(out, folder+".mbox"))
		if err != nil {
			t.Errorf("export of %s: %v", folder, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(m.dir, folder, "."+filepath.Base(folder)+".mbox"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the export's %d bytes differ from the mount's %d", folder, len(got), len(want))
		}
		if n := bytes.Count(got, []byte("\nFrom ")) + min(len(got), 1); n != counts[folder] {
			t.Errorf("%s: %d messages exported, %d in the folder", folder, n, counts[folder])
		}
	}
}
