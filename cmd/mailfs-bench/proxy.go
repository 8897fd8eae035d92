package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
)

// countingProxy sits between mailfs and Dovecot for the profile runs only
// (it adds a hop, so timed runs connect directly). It counts connections
// and the client's tagged commands by verb; server-to-client bytes are
// copied with splice and not looked at.
type countingProxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	conns     int
	verbs     map[string]int
	bodyCmds  int // UID FETCH commands asking for BODY.PEEK[] (whole bodies)
	bodyUIDs  int // UIDs named in those commands
	clientOut int64
}

var tagged = regexp.MustCompile(`^[^\s()*+%"\\{]+ ((?:UID )?[A-Za-z]+)(?: (.*))?$`)

func newProxy(target string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, target: target, verbs: map[string]int{}}
	go p.serve()
	return p, nil
}

func (p *countingProxy) Addr() string { return p.ln.Addr().String() }
func (p *countingProxy) Close()       { p.ln.Close() }

func (p *countingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		go func() {
			io.Copy(c, s) // server → client: splice
			c.Close()
		}()
		go func() {
			p.scan(io.TeeReader(c, s))
			s.Close()
		}()
	}
}

// scan counts the commands in what the client sends.
func (p *countingProxy) scan(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			p.count(strings.TrimRight(line, "\r\n"), len(line))
		}
		if err != nil {
			io.Copy(io.Discard, br)
			return
		}
	}
}

func (p *countingProxy) count(line string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clientOut += int64(n)
	m := tagged.FindStringSubmatch(line)
	if m == nil {
		return
	}
	verb := strings.ToUpper(m[1])
	p.verbs[verb]++
	if verb == "UID FETCH" && strings.Contains(strings.ToUpper(m[2]), "BODY.PEEK[]") {
		p.bodyCmds++
		set, _, _ := strings.Cut(m[2], " ")
		p.bodyUIDs += setSize(set)
	}
}

// setSize counts the UIDs in a sequence set like "1,4:7" (a range with *
// counts as one).
func setSize(set string) int {
	n := 0
	for _, part := range strings.Split(set, ",") {
		a, b, ok := strings.Cut(part, ":")
		if !ok {
			n++
			continue
		}
		var x, y int
		if _, err := fmt.Sscan(a, &x); err != nil {
			n++
			continue
		}
		if _, err := fmt.Sscan(b, &y); err != nil {
			n++
			continue
		}
		if y < x {
			x, y = y, x
		}
		n += y - x + 1
	}
	return n
}

func (p *countingProxy) snapshot() (conns int, verbs map[string]int, bodyCmds, bodyUIDs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := map[string]int{}
	for k, n := range p.verbs {
		v[k] = n
	}
	return p.conns, v, p.bodyCmds, p.bodyUIDs
}
