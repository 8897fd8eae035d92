package imaptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// caps is what the server announces.
const caps = "IMAP4rev1 IDLE"

// sconn is one client connection of a Scripted server.
type sconn struct {
	s  *Scripted
	nc net.Conn
	r  *bufio.Reader

	wmu sync.Mutex // guards w and the session view below (IDLE updates come from other goroutines)
	w   *bufio.Writer

	loggedIn bool
	selected string       // wire name of the selected folder, "" for none
	view     []uint32     // UIDs of the selected folder as this session was last told
	selName  atomic.Value // selected, for other goroutines (which hold Scripted.mu, so may not take wmu)
	idling   atomic.Bool
}

// isSelected reports whether the session has the folder selected.
func (c *sconn) isSelected(name string) bool {
	sel, _ := c.selName.Load().(string)
	return sel != "" && sel == name
}

func (c *sconn) serve() {
	defer func() {
		c.nc.Close()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	c.send("* OK [CAPABILITY " + caps + "] scripted server ready")
	for {
		text, lits, err := c.readCommand()
		if err != nil {
			return
		}
		a := &args{text: text, lits: lits}
		tag, _ := a.next()
		verb, _ := a.next()
		verb = strings.ToUpper(verb)
		if verb == "UID" {
			sub, _ := a.next()
			verb += " " + strings.ToUpper(sub)
		}
		c.s.mu.Lock()
		c.s.counts[verb]++
		c.s.mu.Unlock()
		if err := c.command(tag, verb, a); err != nil {
			return
		}
	}
}

// command runs one command; an error ends the connection.
func (c *sconn) command(tag, verb string, a *args) error {
	if !c.loggedIn && verb != "LOGIN" && verb != "CAPABILITY" && verb != "NOOP" && verb != "LOGOUT" {
		return c.send(tag + " BAD log in first")
	}
	switch verb {
	case "CAPABILITY":
		c.send("* CAPABILITY " + caps)
		return c.send(tag + " OK CAPABILITY completed")
	case "LOGIN":
		user, _ := a.next()
		pass, _ := a.next()
		if user != c.s.User || pass != c.s.Password {
			return c.send(tag + " NO [AUTHENTICATIONFAILED] wrong user or password")
		}
		c.loggedIn = true
		return c.send(tag + " OK [CAPABILITY " + caps + "] logged in")
	case "LOGOUT":
		c.send("* BYE see you")
		c.send(tag + " OK LOGOUT completed")
		return io.EOF
	case "NOOP":
		c.wmu.Lock()
		c.updates()
		c.wmu.Unlock()
		return c.send(tag + " OK NOOP completed")
	case "LIST":
		return c.list(tag)
	case "STATUS":
		return c.status(tag, a)
	case "EXAMINE", "SELECT":
		return c.examine(tag, verb, a)
	case "UID SEARCH":
		return c.search(tag, a)
	case "UID FETCH":
		return c.fetch(tag, a)
	case "IDLE":
		return c.idle(tag)
	}
	return c.send(tag + " BAD unknown command " + verb)
}

func (c *sconn) list(tag string) error {
	c.s.mu.Lock()
	var lines []string
	for _, f := range c.s.folders {
		if f.listLine != "" {
			lines = append(lines, f.listLine)
		} else {
			lines = append(lines, `* LIST (\HasNoChildren) "/" `+astring(f.name))
		}
	}
	lines = append(lines, c.s.listExtra...)
	c.s.mu.Unlock()
	for _, l := range lines {
		c.send(l)
	}
	return c.send(tag + " OK LIST completed")
}

func (c *sconn) status(tag string, a *args) error {
	name, _ := a.next()
	c.s.mu.Lock()
	f := c.s.folder(name)
	var line string
	if f != nil {
		line = fmt.Sprintf("* STATUS %s (MESSAGES %d UIDNEXT %d UIDVALIDITY %d)", astring(name), len(f.msgs), f.uidNext, f.uidValidity)
	}
	c.s.mu.Unlock()
	if f == nil {
		return c.send(tag + " NO [NONEXISTENT] no such mailbox")
	}
	c.send(line)
	return c.send(tag + " OK STATUS completed")
}

func (c *sconn) examine(tag, verb string, a *args) error {
	name, _ := a.next()
	c.s.mu.Lock()
	f := c.s.folder(name)
	var n int
	var uv, next uint32
	var view []uint32
	if f != nil {
		n, uv, next = len(f.msgs), f.uidValidity, f.uidNext
		for _, m := range f.msgs {
			view = append(view, m.UID)
		}
	}
	c.s.mu.Unlock()
	c.wmu.Lock()
	c.selected, c.view = "", nil
	if f != nil {
		c.selected, c.view = f.name, view
	}
	c.selName.Store(c.selected)
	c.wmu.Unlock()
	if f == nil {
		return c.send(tag + " NO [NONEXISTENT] no such mailbox")
	}
	c.send(`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`)
	c.send(fmt.Sprintf("* %d EXISTS", n))
	c.send("* 0 RECENT")
	c.send(fmt.Sprintf("* OK [UIDVALIDITY %d] UIDs valid", uv))
	c.send(fmt.Sprintf("* OK [UIDNEXT %d] predicted next UID", next))
	c.send(`* OK [PERMANENTFLAGS ()] read-only`)
	return c.send(tag + " OK [READ-ONLY] " + verb + " completed")
}

// updates writes EXPUNGE and EXISTS responses for what changed in the
// selected folder since the session was last told; c.wmu must be held.
func (c *sconn) updates() {
	if c.selected == "" {
		return
	}
	c.s.mu.Lock()
	f := c.s.folder(c.selected)
	now := map[uint32]bool{}
	var uids []uint32
	if f != nil {
		for _, m := range f.msgs {
			now[m.UID] = true
			uids = append(uids, m.UID)
		}
	}
	c.s.mu.Unlock()
	kept := c.view[:0:0]
	var gone []int
	for i, uid := range c.view {
		if now[uid] {
			kept = append(kept, uid)
		} else {
			gone = append(gone, i+1)
		}
	}
	for i := len(gone) - 1; i >= 0; i-- {
		fmt.Fprintf(c.w, "* %d EXPUNGE\r\n", gone[i])
	}
	if len(uids) != len(kept) || len(gone) > 0 {
		fmt.Fprintf(c.w, "* %d EXISTS\r\n", len(uids))
	}
	c.view = uids
}

func (c *sconn) idle(tag string) error {
	if err := c.send("+ idling"); err != nil {
		return err
	}
	c.idling.Store(true)
	c.wmu.Lock()
	c.updates()
	c.w.Flush()
	c.wmu.Unlock()
	line, err := c.r.ReadString('\n')
	c.idling.Store(false)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(line), "DONE") {
		return c.send(tag + " BAD expected DONE")
	}
	return c.send(tag + " OK IDLE terminated")
}

func (c *sconn) search(tag string, a *args) error {
	var set string
	for {
		tok, ok := a.next()
		if !ok {
			break
		}
		if strings.EqualFold(tok, "UID") {
			set, _ = a.next()
		}
	}
	c.s.mu.Lock()
	var hits []string
	if f := c.s.folder(c.selected); f != nil {
		in := parseSet(set, f.maxUID())
		for _, m := range f.msgs {
			if set == "" || in(m.UID) {
				hits = append(hits, strconv.FormatUint(uint64(m.UID), 10))
			}
		}
	}
	c.s.mu.Unlock()
	c.send(strings.TrimSpace("* SEARCH " + strings.Join(hits, " ")))
	return c.send(tag + " OK SEARCH completed")
}

func (f *folder) maxUID() uint32 {
	if len(f.msgs) == 0 {
		return 0
	}
	return f.msgs[len(f.msgs)-1].UID
}

// send writes one line and flushes it.
func (c *sconn) send(line string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

var literalAtEnd = regexp.MustCompile(`\{(\d+)(\+?)\}\r\n$`)

// readCommand reads one command, answering synchronizing literals with a
// continuation request. Literals are returned apart; their places in the
// text are marked \x00INDEX\x00.
func (c *sconn) readCommand() (string, [][]byte, error) {
	var text strings.Builder
	var lits [][]byte
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		m := literalAtEnd.FindStringSubmatch(line)
		if m == nil {
			text.WriteString(strings.TrimRight(line, "\r\n"))
			return text.String(), lits, nil
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 1<<20 {
			return "", nil, fmt.Errorf("literal of %s bytes", m[1])
		}
		if m[2] == "" {
			if err := c.send("+ go ahead"); err != nil {
				return "", nil, err
			}
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return "", nil, err
		}
		text.WriteString(line[:len(line)-len(m[0])])
		fmt.Fprintf(&text, "\x00%d\x00", len(lits))
		lits = append(lits, lit)
	}
}

// args splits a command's text into atoms, strings and lists.
type args struct {
	text string
	lits [][]byte
	i    int
}

// next returns the next argument: an atom, the contents of a quoted string
// or literal, or a parenthesised list as raw text.
func (a *args) next() (string, bool) {
	for a.i < len(a.text) && a.text[a.i] == ' ' {
		a.i++
	}
	if a.i >= len(a.text) {
		return "", false
	}
	switch a.text[a.i] {
	case '"':
		var b strings.Builder
		for a.i++; a.i < len(a.text) && a.text[a.i] != '"'; a.i++ {
			if a.text[a.i] == '\\' && a.i+1 < len(a.text) {
				a.i++
			}
			b.WriteByte(a.text[a.i])
		}
		a.i++
		return b.String(), true
	case 0:
		end := strings.IndexByte(a.text[a.i+1:], 0)
		n, _ := strconv.Atoi(a.text[a.i+1 : a.i+1+end])
		a.i += end + 2
		if n < len(a.lits) {
			return string(a.lits[n]), true
		}
		return "", true
	case '(':
		depth, start := 0, a.i
		for ; a.i < len(a.text); a.i++ {
			switch a.text[a.i] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				a.i++
				break
			}
		}
		return a.text[start:a.i], true
	}
	start := a.i
	for a.i < len(a.text) && a.text[a.i] != ' ' {
		a.i++
	}
	return a.text[start:a.i], true
}

// rest returns the text not yet read.
func (a *args) rest() string { return strings.TrimSpace(a.text[a.i:]) }

// astring encodes s as a quoted string, or as a literal when it cannot be
// quoted.
func astring(s string) string {
	quotable := len(s) < 1000
	for i := 0; i < len(s) && quotable; i++ {
		quotable = s[i] != 0 && s[i] != '\r' && s[i] != '\n' && s[i] < 0x80
	}
	if !quotable {
		return fmt.Sprintf("{%d}\r\n%s", len(s), s)
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// parseSet parses a UID set ("1:*,7"), with * meaning max, into a test.
func parseSet(set string, max uint32) func(uint32) bool {
	type span struct{ lo, hi uint32 }
	var spans []span
	num := func(s string) uint32 {
		if s == "*" {
			return max
		}
		n, _ := strconv.ParseUint(s, 10, 32)
		return uint32(n)
	}
	for _, part := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, b := num(lo), num(lo)
		if isRange {
			b = num(hi)
		}
		if a > b {
			a, b = b, a
		}
		spans = append(spans, span{a, b})
	}
	return func(uid uint32) bool {
		for _, s := range spans {
			if uid >= s.lo && uid <= s.hi {
				return true
			}
		}
		return false
	}
}
