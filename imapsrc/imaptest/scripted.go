package imaptest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message a Scripted server holds.
type Message struct {
	UID   uint32
	Date  time.Time // INTERNALDATE
	Flags []string  // sent in FETCH FLAGS; nothing ever changes them
	Raw   []byte    // the exact bytes, BODY[]
}

// Faults say how a Scripted server misbehaves when it sends a message. The
// zero value behaves. Raw fields are sent as they are, unchecked.
type Faults struct {
	// Times limits the faults to the first Times FETCH responses that
	// carry a body (BODY[] or a part of it) under this setting (with Cut:
	// that were cut); then the server behaves. 0: always.
	Times int

	Size string // RFC822.SIZE sent, raw ("0", "-5", "99999999999999999999"); "": the true size
	Date string // INTERNALDATE sent, raw, quotes included if wanted ("\"31-Foo-2020 99:00:00 +0000\""); "": the true one

	// The body literal (BODY[] and BODY[]<origin.length>).
	Section  string // section the response names instead of the one asked: "HEADER" (sends the header), "1" or "TEXT" (the text)
	Body     []byte // bytes sent instead of the message's (nil: the message)
	Announce string // literal length announced, raw ("99999999999"); "": the length of what is sent
	// Cut closes the connection after the body's first Keep bytes (an
	// offset in the message: a partial fetch is cut only in the part
	// holding that offset). Keep at or past the end cuts after the whole
	// literal, before the closing parenthesis.
	Cut     bool
	Keep    int64
	Reset   bool   // cut by TCP RST instead of FIN
	NoParen bool   // omit the ")" that closes the FETCH response
	Status  string // tagged completion of the FETCH instead of "OK ...": "NO [UNAVAILABLE] later", "BAD broken"
	Repeat  bool   // send this message's FETCH response again and again, never completing
	Flood   bool   // instead of this message's response, send "* N EXISTS" forever
	Rate    int    // bytes per second of the body literal (a slow link); 0: as fast as possible

	// Response replaces the whole answer to a UID FETCH that includes this
	// message: these bytes are sent as they are ("TAG" replaced by the
	// command's tag), then the connection is closed. For fuzzing.
	Response []byte
}

// BodyFault is a named way of sending a broken body, for table tests.
type BodyFault struct {
	Name string
	Faults
}

// BrokenBodies lists the ways a server can send a message of size bytes
// (at least 100) whose body must not be taken as complete: every one of
// them is an error for a careful client (issue 8, item 1). Some end with a
// cut connection, some with a stall (a literal announced longer than what
// comes), some with a response a parser must refuse.
func BrokenBodies(size int) []BodyFault {
	n := strconv.Itoa
	return []BodyFault{
		{"cut by FIN inside the literal", Faults{Cut: true, Keep: int64(size / 2)}},
		{"cut by RST inside the literal", Faults{Cut: true, Keep: int64(size / 3), Reset: true}},
		{"cut right after the announcement", Faults{Cut: true, Keep: 0}},
		{"cut after the literal, before the parenthesis", Faults{Cut: true, Keep: int64(size)}},
		{"literal announced longer, then cut", Faults{Announce: n(size + 3000), Cut: true, Keep: int64(size)}},
		{"literal announced longer, then silence", Faults{Announce: n(size + 3000)}},
		{"huge literal, 5 bytes, cut", Faults{Announce: "99999999999", Body: []byte("hello"), Cut: true, Keep: 5}},
		{"literal announced shorter", Faults{Announce: n(size / 2)}},
		{"no closing parenthesis", Faults{NoParen: true}},
		{"BODY[HEADER] instead of BODY[]", Faults{Section: "HEADER"}},
		{"BODY[1] instead of BODY[]", Faults{Section: "1"}},
		{"BODY[TEXT] instead of BODY[]", Faults{Section: "TEXT"}},
		{"tagged NO after the body", Faults{Status: "NO [UNAVAILABLE] body lost"}},
		{"tagged BAD after the body", Faults{Status: "BAD internal error"}},
	}
}

// faultSet is a Faults as set by a test, with how often it was used.
type faultSet struct {
	Faults
	used int
}

func (f *faultSet) active() bool { return f != nil && (f.Times == 0 || f.used < f.Times) }

type faultKey struct {
	folder string
	uid    uint32 // 0: every message of the folder
}

// folder is one mailbox of a Scripted server.
type folder struct {
	name        string // on the wire (modified UTF-7)
	uidValidity uint32
	uidNext     uint32
	msgs        []Message // by UID
	listLine    string    // raw LIST response replacing the normal one, "" for the normal one
}

// Scripted is a small IMAP4rev1 server on 127.0.0.1 for tests. Its state
// and faults may be changed at any time; open connections see the change
// with their next command (and at once while they IDLE).
type Scripted struct {
	Addr     string // "127.0.0.1:PORT", plain IMAP
	User     string
	Password string

	ln net.Listener

	mu        sync.Mutex // guards everything below
	folders   []*folder  // in LIST order
	faults    map[faultKey]*faultSet
	listExtra []string // raw lines sent with every LIST answer
	counts    map[string]int
	bodies    int   // body literals begun (whole or partial)
	partials  int   // of which partial (BODY[]<o.n>)
	bodyBytes int64 // bytes of body literals sent
	conns     map[*sconn]bool
	closed    bool

	lastTag      string // of the last FETCH answered with Faults.Response
	lastResponse []byte // the bytes sent then
}

// StartScripted starts a server holding an empty INBOX (UIDVALIDITY 1)
// and stops it when the test ends.
func StartScripted(t testing.TB) *Scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Scripted{
		Addr: ln.Addr().String(), User: "alice", Password: "secret", ln: ln,
		faults: map[faultKey]*faultSet{}, counts: map[string]int{}, conns: map[*sconn]bool{},
	}
	s.folders = []*folder{{name: "INBOX", uidValidity: 1, uidNext: 1}}
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and closes every connection.
func (s *Scripted) Close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = map[*sconn]bool{}
	s.mu.Unlock()
	for c := range conns {
		c.nc.Close()
	}
}

// Kick closes every open connection (the server goes on accepting).
func (s *Scripted) Kick() {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[*sconn]bool{}
	s.mu.Unlock()
	for c := range conns {
		c.nc.Close()
	}
}

// AddFolder creates a folder (name as on the wire: modified UTF-7, or any
// bytes at all) with the given UIDVALIDITY.
func (s *Scripted) AddFolder(name string, uidValidity uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.folder(name) == nil {
		s.folders = append(s.folders, &folder{name: name, uidValidity: uidValidity, uidNext: 1})
	}
}

// SetListLine replaces the folder's line in LIST answers with raw (the
// whole response without its final CRLF, "* LIST () \"/\" …"; it may hold
// CRLFs of literals). "" restores the normal line.
func (s *Scripted) SetListLine(name, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.folder(name); f != nil {
		f.listLine = raw
	}
}

// AddListLines adds raw lines (as for SetListLine) to every LIST answer,
// for names that exist nowhere else.
func (s *Scripted) AddListLines(raw ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listExtra = append(s.listExtra, raw...)
}

// Append adds a message to a folder (created with UIDVALIDITY 1 if
// missing) and returns its UID. Clients in IDLE on it are told at once.
func (s *Scripted) Append(name string, raw []byte, date time.Time, flags ...string) uint32 {
	s.mu.Lock()
	f := s.folder(name)
	if f == nil {
		f = &folder{name: name, uidValidity: 1, uidNext: 1}
		s.folders = append(s.folders, f)
	}
	uid := f.uidNext
	f.uidNext++
	f.msgs = append(f.msgs, Message{UID: uid, Date: date, Flags: flags, Raw: raw})
	s.mu.Unlock()
	s.wakeIdlers()
	return uid
}

// Expunge removes a message.
func (s *Scripted) Expunge(name string, uid uint32) {
	s.mu.Lock()
	if f := s.folder(name); f != nil {
		if i, ok := f.index(uid); ok {
			f.msgs = append(f.msgs[:i:i], f.msgs[i+1:]...)
		}
	}
	s.mu.Unlock()
	s.wakeIdlers()
}

// Messages returns a copy of a folder's messages.
func (s *Scripted) Messages(name string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.folder(name); f != nil {
		return append([]Message(nil), f.msgs...)
	}
	return nil
}

// SetMessages replaces a folder's messages and UIDVALIDITY, as a server
// does that rebuilt its index: msgs carry their new UIDs (any order).
// Connections that have the folder selected are closed, as a real server
// must when a selected mailbox's UIDVALIDITY changes.
func (s *Scripted) SetMessages(name string, uidValidity uint32, msgs []Message) {
	s.mu.Lock()
	for c := range s.conns {
		if c.isSelected(name) {
			c.nc.Close()
		}
	}
	f := s.folder(name)
	if f == nil {
		f = &folder{name: name}
		s.folders = append(s.folders, f)
	}
	f.uidValidity = uidValidity
	f.msgs = append([]Message(nil), msgs...)
	sort.Slice(f.msgs, func(i, j int) bool { return f.msgs[i].UID < f.msgs[j].UID })
	f.uidNext = 1
	if n := len(f.msgs); n > 0 {
		f.uidNext = f.msgs[n-1].UID + 1
	}
	s.mu.Unlock()
	s.wakeIdlers()
}

// Renumber gives a folder a new UIDVALIDITY and its messages new UIDs from
// first on, in the same order.
func (s *Scripted) Renumber(name string, uidValidity, first uint32) {
	msgs := s.Messages(name)
	for i := range msgs {
		msgs[i].UID = first + uint32(i)
	}
	s.SetMessages(name, uidValidity, msgs)
}

// SetFaults sets the faults of one message (uid > 0), of every message of a
// folder (uid 0), or of every message of the server (folder "" and uid 0).
// The most specific setting applies. nil removes a setting.
func (s *Scripted) SetFaults(folder string, uid uint32, f *Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := faultKey{folder, uid}
	if f == nil {
		delete(s.faults, k)
		return
	}
	s.faults[k] = &faultSet{Faults: *f}
}

// faultsFor finds the setting for a message; s.mu must be held.
func (s *Scripted) faultsFor(folder string, uid uint32) *faultSet {
	for _, k := range []faultKey{{folder, uid}, {folder, 0}, {"", 0}} {
		if f := s.faults[k]; f != nil {
			return f
		}
	}
	return nil
}

// Count is how many commands of a kind the server received: "LOGIN",
// "LIST", "STATUS", "EXAMINE", "NOOP", "IDLE", "UID FETCH", "UID SEARCH", …
func (s *Scripted) Count(verb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[strings.ToUpper(verb)]
}

// BodyFetches is how many body literals (BODY[], whole or partial) the
// server began to send.
func (s *Scripted) BodyFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies
}

// PartialFetches is how many of BodyFetches were partial (BODY[]<o.n>).
func (s *Scripted) PartialFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partials
}

// BodyBytes is how many bytes of body literals the server sent.
func (s *Scripted) BodyBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodyBytes
}

// LastResponse returns the last Faults.Response sent, as sent (with the
// tag in place of "TAG"), and the tag.
func (s *Scripted) LastResponse() (tag string, sent []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastTag, s.lastResponse
}

// folder finds a folder by its wire name; s.mu must be held.
func (s *Scripted) folder(name string) *folder {
	for _, f := range s.folders {
		if f.name == name || strings.EqualFold(name, "INBOX") && f.name == "INBOX" {
			return f
		}
	}
	return nil
}

func (f *folder) index(uid uint32) (int, bool) {
	i := sort.Search(len(f.msgs), func(i int) bool { return f.msgs[i].UID >= uid })
	return i, i < len(f.msgs) && f.msgs[i].UID == uid
}

func (s *Scripted) serve() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &sconn{s: s, nc: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		go c.serve()
	}
}

// wakeIdlers tells connections in IDLE about changes of their folder.
func (s *Scripted) wakeIdlers() {
	s.mu.Lock()
	var idlers []*sconn
	for c := range s.conns {
		if c.idling.Load() {
			idlers = append(idlers, c)
		}
	}
	s.mu.Unlock()
	for _, c := range idlers {
		go func() {
			c.wmu.Lock()
			defer c.wmu.Unlock()
			c.updates()
			c.w.Flush()
		}()
	}
}

// errCut ends a connection the server cut on purpose.
var errCut = errors.New("cut by a fault")

// imapDate formats an INTERNALDATE.
func imapDate(t time.Time) string { return fmt.Sprintf("%q", t.Format("02-Jan-2006 15:04:05 -0700")) }
