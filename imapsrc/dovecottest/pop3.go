package dovecottest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pop3Binary is where dovecot-pop3d puts the POP3 server process.
const pop3Binary = "/usr/lib/dovecot/pop3"

// lookPOP3 skips (fails in CI) a test when dovecot-pop3d is missing.
func lookPOP3(t TB) {
	t.Helper()
	if isExecutable(pop3Binary) {
		return
	}
	msg := "dovecottest: " + pop3Binary + " not found: install it with `apt-get install dovecot-pop3d`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// POP3Commands returns the commands clients sent in POP3 sessions after
// login (Dovecot's rawlog starts there), oldest session first: e.g.
// "RETR 1". A test checks with it that no DELE was ever sent.
func (s *Server) POP3Commands(t TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.rawlog+"-pop3", "*.in"))
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	sort.Strings(files) // names start with the session's start time
	var cmds []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			_, line, _ := strings.Cut(sc.Text(), " ") // drop the timestamp
			if line = strings.TrimRight(line, "\r"); line != "" {
				cmds = append(cmds, line)
			}
		}
	}
	return cmds
}
