package dovecottest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// helperID is the name the helpers' own connections give in an IMAP ID
// command, so Commands can leave their sessions out.
const helperID = "mailfs-dovecottest"

// commandLine matches a tagged command: "TAG [UID ]VERB ...".
var commandLine = regexp.MustCompile(`^[^\s()*+%"\\{]+ (UID )?[A-Za-z]+( |$)`)

// Commands returns the tagged commands that clients other than this
// package's helpers (Dial included) sent after login, oldest session first,
// without their tags: e.g. `UID FETCH 2 (UID BODY.PEEK[])`. A test counts
// what the code under test fetched with it. Lines of a literal that happen
// to look like a command are included too.
func (s *Server) Commands(t TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.rawlog, "*.in"))
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
		if bytes.Contains(b, []byte(`"`+helperID+`"`)) {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 64<<20) // a literal's line may be long
		for sc.Scan() {
			_, line, _ := strings.Cut(sc.Text(), " ") // drop the timestamp
			line = strings.TrimRight(line, "\r")
			if commandLine.MatchString(line) {
				_, cmd, _ := strings.Cut(line, " ")
				cmds = append(cmds, cmd)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("dovecottest: read %s: %v", f, err)
		}
	}
	return cmds
}
