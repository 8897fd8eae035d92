package main

// Issue 9 §4: migrating between two accounts of one mount with rsync -a,
// the way the README tells users to (one account read-only, the other
// read_write): everything arrives with its bytes and INTERNALDATE, a
// second run transfers nothing, and after new mail the next run transfers
// exactly the new message.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mailfs/imapsrc/dovecottest"
	"mailfs/imapsrc/sample"
)

func TestMigrateBetweenAccounts(t *testing.T) {
	needFUSE(t)
	needTool(t, "rsync")
	old := seed(t)
	dst := dovecottest.Start(t)
	dir := t.TempDir()
	acct := func(name string, srv *dovecottest.Server, rw bool) string {
		pw := filepath.Join(dir, name+".pw")
		if err := os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("[[account]]\nname = %q\nserver = %q\ntls = \"starttls\"\ntls_ca = %q\nuser = %q\npassword_file = %q\nread_write = %v\n",
			name, srv.Addr, srv.CAFile, srv.User, pw, rw)
	}
	config := fmt.Sprintf("cache_dir = %q\npoll = \"1s\"\n", filepath.Join(dir, "cache")) +
		acct("old", old.Server, false) + acct("new", dst, true)
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := t.TempDir()
	startMount(t, exec.Command(binary, "mount", "--config", cfgFile, "--log-level", "debug", mp), mp)

	migrate := func() int { return transferred(t, mp+"/old/", mp+"/new/") }
	// The flags file of each folder with messages travels too
	// (flags_test.go); empty folders have the same one on both sides.
	withMail := map[string]bool{}
	for _, m := range sample.Messages() {
		withMail[m.Folder] = true
	}
	flagFiles := len(withMail)
	if n, want := migrate(), messageCount(old)+flagFiles; n != want {
		t.Errorf("first run transferred %d files, want %d", n, want)
	}
	for _, f := range sample.Folders() {
		sameMessages(t, old.Server, dst, f)
		sameFlags(t, old.Server, dst, f)
	}
	if n := migrate(); n != 0 {
		t.Errorf("second run transferred %d files, want 0", n)
	}

	msg := sample.Messages()[0]
	msg.Raw = []byte(strings.Replace(string(msg.Raw), "Subject: ", "Subject: New mail ", 1))
	old.Append(t, "INBOX", msg.Raw, msg.Date)
	mountShows(t, filepath.Join(mp, "old", "INBOX"), msg.Raw)
	if n := migrate(); n != 2 {
		t.Errorf("the run after new mail transferred %d files, want 2 (the message and INBOX's flags file)", n)
	}
	sameMessages(t, old.Server, dst, "INBOX")
}
