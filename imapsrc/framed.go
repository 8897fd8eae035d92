package imapsrc

// A framed connection sits between the server and go-imap and passes the
// server's responses on whole, one at a time, so that when go-imap gives up
// on a response it cannot parse (and with it the connection) we know which
// one it was: the last one passed on. Responses known to be bad are left
// out. It is used only on connections of its own, for a listing that broke
// on an ordinary connection (skip.go); it never carries message bodies.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
)

// maxResponse bounds one response on a framed connection. Listings are
// small; a bigger response means the framing went wrong.
const maxResponse = 1 << 20

// framedConn is a net.Conn whose reads hand go-imap one whole response at
// a time (never a byte of the next before the last byte of this one) and
// leave out the responses in skip.
type framedConn struct {
	net.Conn
	r    *bufio.Reader
	skip map[string]bool // raw responses not passed on; not changed while in use

	mu      sync.Mutex
	cur     []byte // the response passed on last
	rest    []byte // the part of cur not yet read
	reading bool   // go-imap asked for more than cur: reading the next response
	err     error  // the error that ended reading, if any
}

func newFramedConn(nc net.Conn, skip map[string]bool) *framedConn {
	return &framedConn{Conn: nc, r: bufio.NewReader(nc), skip: skip}
}

func (f *framedConn) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.rest) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.reading = true
		f.mu.Unlock()
		resp, err := readResponse(f.r) // only go-imap's reader calls Read
		f.mu.Lock()
		f.reading = false
		if err != nil {
			f.err = err
		} else if f.skip[string(resp)] {
			continue
		}
		if len(resp) > 0 {
			f.cur, f.rest = resp, resp
		}
	}
	n := copy(p, f.rest)
	f.rest = f.rest[n:]
	return n, nil
}

// culprit returns the response go-imap failed on, once the client is
// closed: the last one passed on, provided go-imap asked for nothing after
// it and reading never failed (else the connection, not a response, was
// at fault).
func (f *framedConn) culprit() ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil || f.reading || f.cur == nil {
		return nil, false
	}
	return f.cur, true
}

// readResponse reads one response as the server sent it: a line up to LF,
// continued past every literal announced at the end of a line ({N} or
// {N+}, the N bytes included). In a LIST or LSUB response a line break
// inside a quoted string does not end it either, as go-imap reads quoted
// strings up to their closing quote. On an error it returns what it read.
func readResponse(r *bufio.Reader) ([]byte, error) {
	var resp []byte
	quotes, inQuote := false, false
	for {
		start := len(resp)
		line, err := readLine(r, maxResponse-len(resp))
		resp = append(resp, line...)
		if err != nil {
			return resp, err
		}
		if start == 0 {
			quotes = isListResponse(resp)
		}
		if quotes {
			if inQuote = scanQuotes(resp[start:], inQuote); inQuote {
				continue
			}
		}
		n, ok := literalAtEnd(resp[start:])
		if !ok {
			return resp, nil
		}
		if n > int64(maxResponse-len(resp)) {
			return resp, fmt.Errorf("literal of %d bytes on a framed connection", n)
		}
		lit := make([]byte, n)
		got, err := io.ReadFull(r, lit)
		resp = append(resp, lit[:got]...)
		if err != nil {
			return resp, err
		}
	}
}

// readLine reads up to and including the next LF, at most about limit bytes.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		line = append(line, part...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
		if len(line) > limit {
			return line, errors.New("response too long")
		}
	}
}

// isListResponse reports whether resp begins "* LIST " or "* LSUB ".
func isListResponse(resp []byte) bool {
	if len(resp) < 7 {
		return false
	}
	head := strings.ToUpper(string(resp[:7]))
	return head == "* LIST " || head == "* LSUB "
}

// scanQuotes follows quoted strings ("…", with \" and \\ escapes) through
// line and reports whether one is still open at its end.
func scanQuotes(line []byte, inQuote bool) bool {
	for i := 0; i < len(line); i++ {
		switch {
		case inQuote && line[i] == '\\':
			i++
		case line[i] == '"':
			inQuote = !inQuote
		}
	}
	return inQuote
}

// literalAtEnd reports the size of a literal announced at the end of line
// ("{N}\r\n", "{N+}\r\n", also with a bare LF).
func literalAtEnd(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if !bytes.HasSuffix(line, []byte("}")) {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	digits := strings.TrimSuffix(string(line[open+1:len(line)-1]), "+")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits == "" || digits[0] == '+' {
		return 0, false
	}
	return n, true
}

// ownTLSGreeting stands in for the server's greeting on a connection that
// mailfs upgraded with STARTTLS itself: go-imap waits for one, and the
// real one came before TLS.
const ownTLSGreeting = "* OK [mailfs] TLS started\r\n"

// greetedConn is a net.Conn whose first bytes read are a given greeting.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (g *greetedConn) Read(p []byte) (int, error) { return g.r.Read(p) }

// startTLS upgrades a plain connection with STARTTLS, as go-imap's
// NewStartTLS does, for a connection on which something must sit between
// TLS and go-imap. The server's greeting is read here (PREAUTH before TLS
// is refused, and so is anything sent between the server's OK and the TLS
// handshake); the connection returned starts with ownTLSGreeting.
func startTLS(ctx context.Context, raw net.Conn, tc *tls.Config) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	br := bufio.NewReaderSize(raw, 4096)
	readLine := func() (string, error) {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
	greeting, err := readLine()
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(strings.ToUpper(greeting), "* OK") {
		return nil, fmt.Errorf("unexpected greeting before STARTTLS: %.100q", greeting)
	}
	if _, err := io.WriteString(raw, "T1 STARTTLS\r\n"); err != nil {
		return nil, err
	}
	for {
		line, err := readLine()
		if err != nil {
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
		if strings.HasPrefix(line, "* ") {
			continue // e.g. CAPABILITY
		}
		if !strings.HasPrefix(strings.ToUpper(line), "T1 OK") {
			return nil, fmt.Errorf("STARTTLS refused: %.100q", line)
		}
		break
	}
	if br.Buffered() > 0 {
		return nil, errors.New("server sent data before the TLS handshake")
	}
	tconn := tls.Client(raw, tc)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return &greetedConn{Conn: tconn, r: io.MultiReader(strings.NewReader(ownTLSGreeting), tconn)}, nil
}
