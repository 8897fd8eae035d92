package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"mailfs/imapsrc"
)

// client is one POP3 connection: RFC 1939 with CAPA (RFC 2449), STLS
// (RFC 2595) and AUTH (RFC 5034). It sends commands one at a time, or a
// batch at once where the server offers PIPELINING.
type client struct {
	nc   net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	caps map[string]string // CAPA: name (upper case) -> arguments
	addr string
}

// serverError is a "-ERR" answer.
type serverError struct {
	cmd, text string
}

func (e *serverError) Error() string {
	return fmt.Sprintf("%s: the server said: %s", e.cmd, e.text)
}

// stallConn turns a time limit into a limit on the time between two reads
// (or writes) that make progress: a big RETR over a slow link may take an
// hour, a silent server fails within the limit.
type stallConn struct {
	net.Conn
	limit time.Duration
}

func (c *stallConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.limit))
	return c.Conn.Read(b)
}

func (c *stallConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.limit))
	return c.Conn.Write(b)
}

// dial connects, sets up TLS as cfg says (a normalized imapsrc.Config:
// certificates always verified, no TLS only to loopback), reads the
// greeting and the capabilities, and logs in.
func dial(ctx context.Context, cfg *imapsrc.Config) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.StallTimeout)
	defer cancel()
	tc, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 15 * time.Second}
	tcp, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, fmt.Errorf("cannot reach %s: %w (check --server and the network)", cfg.Addr, err)
	}
	var nc net.Conn = &stallConn{Conn: tcp, limit: cfg.StallTimeout}
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	defer stop()
	fail := func(err error) (*client, error) {
		tcp.Close()
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s did not finish the login within %s: %w (check --server and the network)", cfg.Addr, cfg.StallTimeout, err)
		}
		return nil, err
	}
	if cfg.TLS == imapsrc.TLSImplicit {
		t := tls.Client(nc, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS with %s failed: %w (for a private CA use --tls-ca FILE)", cfg.Addr, err))
		}
		nc = t
	}
	c := newClient(nc, cfg.Addr)
	if _, err := c.status("greeting"); err != nil {
		return fail(fmt.Errorf("greeting from %s: %w", cfg.Addr, err))
	}
	c.capa()
	if cfg.TLS == imapsrc.TLSStartTLS {
		if _, err := c.cmd("STLS"); err != nil {
			return fail(fmt.Errorf("STLS with %s failed: %w (the server must offer STLS; for a private CA use --tls-ca FILE)", cfg.Addr, err))
		}
		t := tls.Client(nc, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS with %s failed: %w (for a private CA use --tls-ca FILE)", cfg.Addr, err))
		}
		c = newClient(t, cfg.Addr)
		c.capa() // may differ once encrypted (RFC 2595 section 4)
	}
	if err := c.login(ctx, cfg); err != nil {
		return fail(err)
	}
	if _, ok := c.caps["UIDL"]; !ok && len(c.caps) > 0 {
		// Servers without CAPA may still have UIDL: it is tried then.
		return fail(fmt.Errorf("%s does not offer UIDL, which mailfs needs to tell messages apart", cfg.Addr))
	}
	return c, nil
}

func newClient(nc net.Conn, addr string) *client {
	return &client{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriter(nc), addr: addr}
}

func (c *client) close() error { return c.nc.Close() }

// send writes command lines. DELE is refused here, the one place every
// command passes: reading never deletes anything, and this mode has no
// other use for it.
func (c *client) send(lines ...string) error {
	for _, l := range lines {
		if verb, _, _ := strings.Cut(l, " "); strings.EqualFold(verb, "DELE") {
			panic("pop3: DELE must never be sent")
		}
		c.w.WriteString(l)
		c.w.WriteString("\r\n")
	}
	return c.w.Flush()
}

// status reads one status line: the text after "+OK", or a serverError
// for "-ERR". what names the command in errors.
func (c *client) status(what string) (string, error) {
	line, err := c.line()
	if err != nil {
		return "", err
	}
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		return strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " "), nil
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		return "", &serverError{cmd: what, text: strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")}
	}
	return "", fmt.Errorf("%s: unexpected answer %q", what, trimLine(line))
}

// line reads one CRLF-terminated line of a status or SASL answer (at most
// 64 KiB), without its CRLF.
func (c *client) line() (string, error) {
	b, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("the server sent an overlong line")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errCut
		}
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func trimLine(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// cmd sends one command and reads its status line.
func (c *client) cmd(line string) (string, error) {
	if err := c.send(line); err != nil {
		return "", err
	}
	return c.status(verbOf(line))
}

func verbOf(line string) string {
	verb, _, _ := strings.Cut(line, " ")
	return verb
}

// multi sends commands whose answers are multi-line (one at a time, or all
// at once with PIPELINING) and calls fn with each command's index and
// body, in order; a command answered "-ERR" is passed with a nil reader
// and its error. fn need not read the body to its end. An error from fn
// or the connection ends it; the connection is then unusable if commands
// are still unanswered (the caller closes it).
func (c *client) multi(cmds []string, fn func(i int, body io.Reader, err error) error) error {
	window := 1
	if _, ok := c.caps["PIPELINING"]; ok {
		window = 64 // bounded, so that neither side's send buffer can fill up and stall
	}
	for start := 0; start < len(cmds); start += window {
		batch := cmds[start:min(start+window, len(cmds))]
		if err := c.send(batch...); err != nil {
			return err
		}
		for j, cmd := range batch {
			_, serr := c.status(verbOf(cmd))
			var se *serverError
			if serr != nil && !errors.As(serr, &se) {
				return serr
			}
			if serr != nil {
				if err := fn(start+j, nil, serr); err != nil {
					return err
				}
				continue
			}
			d := newDotReader(c.r)
			if err := fn(start+j, d, nil); err != nil {
				return err
			}
			if err := d.drain(); err != nil {
				return err
			}
		}
	}
	return nil
}

// lines runs one multi-line command and returns its lines.
func (c *client) lines(cmd string) ([]string, error) {
	var out []string
	err := c.multi([]string{cmd}, func(_ int, body io.Reader, err error) error {
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			out = append(out, strings.TrimRight(sc.Text(), "\r"))
		}
		return sc.Err()
	})
	return out, err
}

// capa reads the capabilities; a server without CAPA has none listed.
func (c *client) capa() {
	c.caps = map[string]string{}
	lines, err := c.lines("CAPA")
	if err != nil {
		return
	}
	for _, l := range lines {
		name, args, _ := strings.Cut(l, " ")
		c.caps[strings.ToUpper(name)] = args
	}
}

// hasSASL reports whether the server lists mech under SASL.
func (c *client) hasSASL(mech string) bool {
	for _, m := range strings.Fields(c.caps["SASL"]) {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// Tests set forceUSER to log in with USER/PASS where SASL PLAIN is offered.
var forceUSER bool

// login authenticates: with a token by XOAUTH2 or OAUTHBEARER (cfg.Auth,
// else OAUTHBEARER where offered), with a password by SASL PLAIN where
// offered, else USER/PASS. A refused token is fetched again and tried
// once more.
func (c *client) login(ctx context.Context, cfg *imapsrc.Config) error {
	refused := func(why string) error {
		return fmt.Errorf("%w for user %q at %s (%s): check the user name and password", imapsrc.ErrAuth, cfg.User, cfg.Addr, why)
	}
	if cfg.TokenCmd == "" {
		var err error
		if c.hasSASL("PLAIN") && !forceUSER {
			err = c.auth(sasl.NewPlainClient("", cfg.User, cfg.Password))
		} else if _, err = c.cmd("USER " + cfg.User); err == nil {
			_, err = c.cmd("PASS " + cfg.Password)
		}
		if se := (*serverError)(nil); errors.As(err, &se) {
			return refused(se.text)
		}
		return err
	}
	mech := cfg.Auth
	if mech == "" || mech == imapsrc.AuthPassword {
		mech = imapsrc.AuthXOAuth2
		if c.hasSASL("OAUTHBEARER") {
			mech = imapsrc.AuthOAuthBearer
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := cfg.Token(ctx)
		if err != nil {
			return err
		}
		sc, failure := imapsrc.OAuthClient(mech, cfg.User, tok, cfg.Addr)
		err = c.auth(sc)
		se := (*serverError)(nil)
		if !errors.As(err, &se) {
			return err
		}
		cfg.TokenRefused(tok)
		why := se.text
		if f := failure(); f != "" {
			why += "; " + f
		}
		if attempt == 0 {
			continue // the same connection: POP3 allows another AUTH after a failed one
		}
		return fmt.Errorf("%w for user %q at %s: %s by %s refused (%s), also after running the token command again: check the user name, the token command and the token's scope",
			imapsrc.ErrAuth, cfg.User, cfg.Addr, strings.ToUpper(mech), cfg.Addr, why)
	}
}

// auth runs one SASL exchange (RFC 5034). The initial response goes on
// the AUTH line unless that would make it longer than 255 octets.
func (c *client) auth(sc sasl.Client) error {
	mech, ir, err := sc.Start()
	if err != nil {
		return err
	}
	line := "AUTH " + mech
	if ir != nil {
		enc := base64.StdEncoding.EncodeToString(ir)
		if enc == "" {
			enc = "="
		}
		if len(line)+1+len(enc)+2 <= 255 {
			line += " " + enc
			ir = nil
		}
	}
	if err := c.send(line); err != nil {
		return err
	}
	for {
		l, err := c.line()
		if err != nil {
			return err
		}
		switch {
		case l == "+OK" || strings.HasPrefix(l, "+OK "):
			return nil
		case l == "-ERR" || strings.HasPrefix(l, "-ERR "):
			return &serverError{cmd: "AUTH " + mech, text: strings.TrimPrefix(strings.TrimPrefix(l, "-ERR"), " ")}
		case l == "+" || strings.HasPrefix(l, "+ "):
			var resp []byte
			if ir != nil {
				resp, ir = ir, nil // the initial response, not sent on the AUTH line
			} else {
				chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(l, "+")))
				if err != nil {
					c.send("*") // cancel the exchange
					return fmt.Errorf("AUTH %s: a challenge that is not base64", mech)
				}
				if resp, err = sc.Next(chal); err != nil {
					c.send("*")
					return err
				}
			}
			if err := c.send(base64.StdEncoding.EncodeToString(resp)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("AUTH %s: unexpected answer %q", mech, trimLine(l))
		}
	}
}

// listing is a session's view of the maildrop: message numbers with their
// unique ids (UIDL) and sizes (LIST), in order.
type listing struct {
	num   []int
	uidl  []string
	sizes map[int]int64
}

// list asks UIDL and LIST.
func (c *client) list() (listing, error) {
	var l listing
	lines, err := c.lines("UIDL")
	if err != nil {
		return l, fmt.Errorf("UIDL (mailfs needs it to tell messages apart): %w", err)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 {
			return l, fmt.Errorf("UIDL: unexpected line %q", trimLine(line))
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 {
			return l, fmt.Errorf("UIDL: unexpected line %q", trimLine(line))
		}
		l.num, l.uidl = append(l.num, n), append(l.uidl, f[1])
	}
	lines, err = c.lines("LIST")
	if err != nil {
		return l, err
	}
	l.sizes = make(map[int]int64, len(lines))
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 {
			return l, fmt.Errorf("LIST: unexpected line %q", trimLine(line))
		}
		n, err1 := strconv.Atoi(f[0])
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || size < 0 {
			return l, fmt.Errorf("LIST: unexpected line %q", trimLine(line))
		}
		l.sizes[n] = size
	}
	return l, nil
}

// quit ends the session politely. Without DELE, the UPDATE state it
// enters deletes nothing.
func (c *client) quit() {
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	c.cmd("QUIT")
	c.close()
}
