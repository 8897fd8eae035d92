package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc/imaptest"
)

// TestMountSkipsBadItems: a server that lists folders under names no
// client can read (a control character, NUL, CRLF, broken modified UTF-7,
// an empty name) and describes messages with an RFC822.SIZE of -5, above
// int64, or a bad INTERNALDATE still mounts; the other folders and
// messages are shown, and each bad item is logged once, not at every poll.
func TestMountSkipsBadItems(t *testing.T) {
	needFUSE(t)
	s := imaptest.StartScripted(t)
	date := time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)
	for i, subject := range []string{"one", "minus", "three", "huge", "baddate", "six"} {
		s.Append("INBOX", []byte("Subject: "+subject+"\r\n\r\nbody\r\n"), date.Add(time.Duration(i)*time.Minute))
	}
	s.SetFaults("INBOX", 2, &imaptest.Faults{Size: "-5"})
	s.SetFaults("INBOX", 4, &imaptest.Faults{Size: "99999999999999999999"})
	s.SetFaults("INBOX", 5, &imaptest.Faults{Date: `"31-Foo-2020 99:00:00 +0000"`})
	for i, line := range []string{
		"* LIST () \"/\" \"ctl\x01name\"",
		"* LIST () \"/\" \"nul\x00name\"",
		"* LIST () \"/\" {8}\r\ncr\r\nlf!!",
		`* LIST () "/" "&Jjo"`,
		`* LIST () "/" ""`,
	} {
		name := "Bad" + string(rune('A'+i))
		s.AddFolder(name, 1)
		s.SetListLine(name, line)
		s.AddFolder("Good"+string(rune('A'+i)), 1) // listed after a bad one
	}

	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--server", s.Addr, "--tls", "none", "--user", s.User,
		"--cache", t.TempDir(), "--poll", "1s", dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+s.Password)
	m := startMount(t, cmd, dir)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"GoodA", "GoodB", "GoodC", "GoodD", "GoodE", "INBOX"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("folders %q, want %q", names, want)
	}
	files, err := filepath.Glob(filepath.Join(dir, "INBOX", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var stems []string
	for _, f := range files {
		stems = append(stems, strings.TrimSuffix(filepath.Base(f), ".eml"))
		if b, err := os.ReadFile(f); err != nil || !strings.HasPrefix(string(b), "Subject: ") {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	// Messages 1, 3 and 6, named from subject, date and size (they have
	// no Message-ID).
	var want []string
	for _, i := range []int{0, 2, 5} {
		subject := []string{"one", "minus", "three", "huge", "baddate", "six"}[i]
		d := date.Add(time.Duration(i) * time.Minute)
		size := int64(len("Subject: " + subject + "\r\n\r\nbody\r\n"))
		want = append(want, cache.MessageStem(d, subject, cache.NameID("", d, subject, size)))
	}
	if strings.Join(stems, "|") != strings.Join(want, "|") {
		t.Errorf("INBOX shows %q, want %q", stems, want)
	}
	time.Sleep(2500 * time.Millisecond) // two polls more
	logs := m.logs.String()
	if n := strings.Count(logs, "skipping a folder"); n != 5 {
		t.Errorf("%d folders reported, want 5 (each once)\n%s", n, logs)
	}
	if n := strings.Count(logs, "skipping a message"); n != 3 {
		t.Errorf("%d messages reported, want 3 (each once)\n%s", n, logs)
	}
}
