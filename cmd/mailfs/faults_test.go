package main

// Issue 8, item 2 through the real mount: a server whose RFC822.SIZE is
// wrong. rsync trusts st_size, so the first run must fail (or copy the
// exact bytes), never copy a cut or NUL-padded file with exit status 0;
// the second run copies every message exactly.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mailfs/imapsrc/imaptest"
)

func TestLyingSizesNeverCopyWrongBytes(t *testing.T) {
	needFUSE(t)
	needTool(t, "rsync")
	srv := imaptest.StartScripted(t)
	body := bytes.Repeat([]byte("0123456789abcdef\r\n"), 112)[:2017-40]
	want := map[string][]byte{}
	for i, lie := range []string{"100", "50000", "0", ""} {
		raw := fmt.Appendf(nil, "Subject: size %s\r\nMessage-ID: <%d@x>\r\n\r\n%s", lie, i, body)
		uid := srv.Append("INBOX", raw, time.Date(2024, 3, 1+i, 12, 0, 0, 0, time.UTC))
		if lie != "" {
			srv.SetFaults("INBOX", uid, &imaptest.Faults{Size: lie})
		}
		want[lie] = raw
	}

	dir := t.TempDir()
	cmd := exec.Command(binary, "mount", "--server", srv.Addr, "--tls", "none", "--user", srv.User,
		"--cache", t.TempDir(), "--poll", "1h", "--log-level", "debug", dir)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	m := startMount(t, cmd, dir)

	check := func(run int, dst string, rsyncErr error) (exact int) {
		files, _ := filepath.Glob(filepath.Join(dst, "INBOX", "*.eml"))
		for _, f := range files {
			got, _ := os.ReadFile(f)
			ok := false
			for _, w := range want {
				ok = ok || bytes.Equal(got, w)
			}
			if ok {
				exact++
			} else {
				t.Errorf("run %d: %s holds %d wrong bytes (rsync: %v)\n%s", run, filepath.Base(f), len(got), rsyncErr, m.logs)
			}
		}
		return exact
	}
	dst := t.TempDir()
	out, err := exec.Command("rsync", "-a", m.dir+"/", dst+"/").CombinedOutput()
	exact := check(1, dst, err)
	if err == nil && exact != len(want) {
		t.Errorf("first rsync succeeded with %d of %d messages exact:\n%s", exact, len(want), out)
	}
	t.Logf("first rsync: %v, %d of %d exact\n%s", err, exact, len(want), out)

	out, err = exec.Command("rsync", "-a", m.dir+"/", dst+"/").CombinedOutput()
	if err != nil {
		t.Errorf("second rsync: %v\n%s\n%s", err, out, m.logs)
	}
	if n := check(2, dst, err); n != len(want) {
		t.Errorf("second rsync: %d of %d messages exact", n, len(want))
	}
}
