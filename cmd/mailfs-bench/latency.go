package main

import (
	"io"
	"net"
	"sync"
	"time"

	"mailfs/imapsrc/dovecottest"
)

// With -rtt, mailfs and mbsync reach each server through a proxy that
// holds every chunk of bytes for half the round trip in each direction,
// as a distant server would: latency without a bandwidth limit (chunks
// in flight overlap, in order). Timed runs of both peers go through the
// same proxy.

// delayProxy forwards TCP connections to target, delaying each direction.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration // one way
}

func newDelayProxy(target string, rtt time.Duration) (*delayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &delayProxy{ln: ln, target: target, delay: rtt / 2}
	go p.serve()
	return p, nil
}

func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

func (p *delayProxy) Close() error { return p.ln.Close() }

func (p *delayProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func (p *delayProxy) relay(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(s, c) }()
	go func() { defer wg.Done(); p.pipe(c, s) }()
	wg.Wait()
	c.Close()
	s.Close()
}

// chunk is bytes read at a time, to be written a delay later.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies from src to dst, each chunk p.delay after it was read. The
// end of src (or an error) reaches dst after the same delay.
func (p *delayProxy) pipe(dst, src net.Conn) {
	q := make(chan chunk, 4096)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 64<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{b[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				q <- chunk{nil, time.Now().Add(p.delay)}
				return
			}
		}
	}()
	for ch := range q {
		time.Sleep(time.Until(ch.at))
		if ch.b == nil {
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			break
		}
		if _, err := dst.Write(ch.b); err != nil {
			break
		}
	}
	io.Copy(io.Discard, src) // unblock the reader if dst went away
	for range q {
	}
}

// serverAddr is the address the peers use for srv: the server's own, or
// with -rtt its delaying proxy's.
func (b *bench) serverAddr(srv *dovecottest.Server) string {
	if b.rtt <= 0 {
		return srv.Addr
	}
	b.proxiesMu.Lock()
	defer b.proxiesMu.Unlock()
	if p := b.proxies[srv.Addr]; p != nil {
		return p.Addr()
	}
	p, err := newDelayProxy(srv.Addr, b.rtt)
	if err != nil {
		fatalf("latency proxy: %v", err)
	}
	if b.proxies == nil {
		b.proxies = map[string]*delayProxy{}
	}
	b.proxies[srv.Addr] = p
	return p.Addr()
}
