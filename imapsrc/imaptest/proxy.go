package imaptest

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ProxyConfig says which faults a Proxy injects while its faults are on.
// Probabilities are per body literal (BODY[] or BODY[]<origin>; every
// BODY[…] section with AllSections).
type ProxyConfig struct {
	Seed int64 // seeds the random choices; the same seed, the same choices

	Cut float64 // probability of cutting the connection inside a literal
	RST float64 // share of the cuts made by TCP RST; the others by FIN

	Stall    float64       // probability of stopping the stream inside a literal …
	StallFor time.Duration // … for this long (then it goes on)

	Delay time.Duration // added before each chunk forwarded, both directions

	AllSections bool // cut in every BODY[…] literal, headers too
}

// Proxy forwards TCP connections from Addr to a target address and
// injects faults into what the server sends. Faults are on from the start.
type Proxy struct {
	Addr string // "127.0.0.1:PORT" to connect to instead of the target

	target string
	cfg    ProxyConfig
	ln     net.Listener
	on     atomic.Bool

	mu    sync.Mutex // guards rng and conns
	rng   *rand.Rand
	conns map[net.Conn]bool

	literals, cuts, resets, stalls, accepted atomic.Int64
}

// StartProxy starts a proxy in front of target (host:port) and stops it
// when the test ends.
func StartProxy(t testing.TB, target string, cfg ProxyConfig) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{
		Addr: ln.Addr().String(), target: target, cfg: cfg, ln: ln,
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d61696c6673)),
		conns: map[net.Conn]bool{},
	}
	p.on.Store(true)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// SetFaults turns fault injection on or off; connections already open
// follow at once (a cut or stall chosen but not yet reached is dropped).
func (p *Proxy) SetFaults(on bool) { p.on.Store(on) }

// Literals is how many body literals the servers sent through the proxy.
func (p *Proxy) Literals() int64 { return p.literals.Load() }

// Cuts is how many connections the proxy cut inside a literal (FIN or RST).
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// Resets is how many of the cuts were by RST.
func (p *Proxy) Resets() int64 { return p.resets.Load() }

// Stalls is how many times the proxy stopped a stream inside a literal.
func (p *Proxy) Stalls() int64 { return p.stalls.Load() }

// Conns is how many connections the proxy accepted.
func (p *Proxy) Conns() int64 { return p.accepted.Load() }

// Close stops accepting and closes every open connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		go p.handle(c)
	}
}

func (p *Proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = true
	}
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// handle forwards one connection until both directions have ended.
func (p *Proxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, s)
	defer p.untrack(c, s)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.up(c, s)
	}()
	p.down(s, c)
	wg.Wait()
	c.Close()
	s.Close()
}

// up copies what the client sends to the server.
func (p *Proxy) up(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.delay()
			if _, werr := s.Write(buf[:n]); werr != nil {
				c.Close()
				return
			}
		}
		if errors.Is(err, io.EOF) {
			closeWrite(s)
			return
		}
		if err != nil {
			s.Close()
			return
		}
	}
}

// down copies what the server sends to the client, cutting or stalling
// inside body literals as the configuration and the dice say.
func (p *Proxy) down(s, c net.Conn) {
	sc := litScanner{all: p.cfg.AllSections}
	buf := make([]byte, 32<<10)
	var pos int64 // stream offset of buf[0]
	cutAt, stallAt := int64(-1), int64(-1)
	rst := false
	for {
		n, err := s.Read(buf)
		for _, l := range sc.scan(buf[:n]) {
			p.literals.Add(1)
			if !p.on.Load() || cutAt >= 0 || stallAt >= 0 {
				continue
			}
			p.mu.Lock()
			dice, at, how := p.rng.Float64(), p.rng.Int64N(l.size), p.rng.Float64()
			p.mu.Unlock()
			start := pos + int64(l.off)
			switch {
			case dice < p.cfg.Cut:
				cutAt, rst = start+at, how < p.cfg.RST
			case dice < p.cfg.Cut+p.cfg.Stall:
				stallAt = start + at
			}
		}
		chunk, base := buf[:n], pos
		pos += int64(n)
		for len(chunk) > 0 {
			k, event := len(chunk), ""
			if stallAt >= 0 && stallAt-base < int64(k) {
				k, event = int(stallAt-base), "stall"
			}
			if cutAt >= 0 && cutAt-base < int64(k) {
				k, event = int(cutAt-base), "cut"
			}
			p.delay()
			if _, werr := c.Write(chunk[:k]); werr != nil {
				s.Close()
				return
			}
			chunk, base = chunk[k:], base+int64(k)
			switch {
			case event == "stall":
				stallAt = -1
				if p.on.Load() {
					p.stalls.Add(1)
					time.Sleep(p.cfg.StallFor)
				}
			case event == "cut" && p.on.Load():
				p.cut(s, c, rst)
				return
			case event == "cut":
				cutAt = -1
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				closeWrite(c)
			} else {
				c.Close()
			}
			return
		}
	}
}

// cut ends both connections: towards the client by RST (linger 0, then
// close) or by FIN (the write side closed; the client's end is read until
// it closes, for at most a few seconds, so the kernel sends no RST).
func (p *Proxy) cut(s, c net.Conn, rst bool) {
	p.cuts.Add(1)
	s.Close()
	tc, ok := c.(*net.TCPConn)
	if rst && ok {
		p.resets.Add(1)
		tc.SetLinger(0)
		c.Close()
		return
	}
	closeWrite(c)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
}

func (p *Proxy) delay() {
	if p.cfg.Delay > 0 {
		time.Sleep(p.cfg.Delay)
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		c.Close()
	}
}
