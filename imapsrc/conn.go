package imapsrc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailfs/cache"
)

// TLSMode says how the connection to the server is protected.
type TLSMode string

const (
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS TLSMode = "starttls" // plain connection upgraded with STARTTLS (port 143)
	TLSNone     TLSMode = "none"     // no TLS: only allowed to a loopback address
)

// Config says where the account is and how to log in.
type Config struct {
	Addr     string  // host:port; the port defaults from TLS
	TLS      TLSMode // default TLSImplicit
	CAFile   string  // PEM file of extra trusted CAs, for a private CA
	User     string
	Password string // for Auth "password"; never logged or put into an error
	Conns    int    // connections at most; default 4

	// StallTimeout is how long an operation may go without progress
	// before its connection is closed and it fails (stall.go); default
	// 2 minutes. The total time of an operation is never limited.
	StallTimeout time.Duration

	// TokenCmd is a command (run with sh -c) printing an OAuth2 access
	// token. It is run when the first connection logs in, again when the
	// server refuses the token (then the login is tried once more), and
	// when the token is 45 minutes old.
	TokenCmd string
	// Auth is how to log in: AuthPassword (LOGIN, the default without
	// TokenCmd), AuthXOAuth2 or AuthOAuthBearer (SASL with the token). With
	// TokenCmd and no Auth, OAUTHBEARER is used if the server offers it,
	// else XOAUTH2.
	Auth string

	// Filter hides folders and messages; HideSpecialUse hides folders by
	// RFC 6154 attribute (`\All` for Gmail's All Mail in any language).
	Filter         Filter
	HideSpecialUse []string

	tokens *tokenSource // set by normalize when TokenCmd is; shared by copies
}

// ErrAuth means the server refused the user name, password or token.
var ErrAuth = errors.New("login refused")

// normalize fills defaults and refuses unsafe settings.
func (c *Config) normalize() error { return c.Normalize("993", "143") }

// Normalize fills defaults and refuses unsafe settings (a password or token
// without TLS off loopback), with tlsPort the default port for implicit TLS
// and plainPort that for STARTTLS and none. imapsrc/pop3 calls it with
// POP3's ports, so that both protocols follow the same rules.
func (c *Config) Normalize(tlsPort, plainPort string) error {
	if c.TLS == "" {
		c.TLS = TLSImplicit
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 2 * time.Minute
	}
	if err := c.TLS.Check(); err != nil {
		return err
	}
	port := plainPort
	if c.TLS == TLSImplicit {
		port = tlsPort
	}
	if c.Addr == "" {
		return errors.New("no server given")
	}
	if err := CheckAuth(c.Auth, c.TokenCmd != ""); err != nil {
		return err
	}
	if c.TokenCmd != "" && c.tokens == nil {
		c.tokens = &tokenSource{cmd: c.TokenCmd}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		c.Addr = net.JoinHostPort(strings.Trim(c.Addr, "[]"), port)
	}
	if c.TLS == TLSNone && !isLoopback(c.host()) {
		return fmt.Errorf("refusing to send a password or token without TLS to %s: use --tls implicit or starttls (--tls none is only for loopback servers)", c.host())
	}
	return nil
}

// Check says what is wrong with a TLS mode; "" is the default
// (TLSImplicit).
func (m TLSMode) Check() error {
	switch m {
	case "", TLSImplicit, TLSStartTLS, TLSNone:
		return nil
	}
	return fmt.Errorf("unknown TLS mode %q (want implicit, starttls or none)", m)
}

// CheckAuth says what is wrong with a login method (Config.Auth) given
// whether a token command is set.
func CheckAuth(auth string, tokenCmd bool) error {
	switch auth {
	case "":
	case AuthPassword:
		if tokenCmd {
			return errors.New("a token command was given, but the login is by password: drop one of them")
		}
	case AuthXOAuth2, AuthOAuthBearer:
		if !tokenCmd {
			return fmt.Errorf("login by %s needs a token command", strings.ToUpper(auth))
		}
	default:
		return fmt.Errorf("unknown login method %q (want %s, %s or %s)", auth, AuthPassword, AuthXOAuth2, AuthOAuthBearer)
	}
	return nil
}

func (c *Config) host() string {
	h, _, _ := net.SplitHostPort(c.Addr)
	return h
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TLSConfig is the TLS configuration for the server: verified against
// the system's CAs and CAFile, TLS 1.2 at least.
func (c *Config) TLSConfig() (*tls.Config, error) { return c.tlsConfig() }

func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.host(), MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate found in CA file %s", c.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// conn is one logged-in connection and the mailbox it has selected.
type conn struct {
	c           *imapclient.Client
	raw         *idleConn
	selected    string
	uidValidity uint32

	dog    atomic.Pointer[watchdog] // of the operation running on it, if any
	useful atomic.Bool              // only progress() counts, not every byte
}

func newConn(c *imapclient.Client, raw *idleConn) *conn {
	cn := &conn{c: c, raw: raw}
	onBytes := func() {
		if !cn.useful.Load() {
			cn.progress()
		}
	}
	raw.onBytes.Store(&onBytes) // go-imap's reader goroutine already reads
	return cn
}

// progress tells the running operation's watchdog that it moved on.
func (cn *conn) progress() {
	if w := cn.dog.Load(); w != nil {
		w.kick()
	}
}

// usefulOnly says whether bytes alone count as progress (false) or only
// what the operation reports with progress (true).
func (cn *conn) usefulOnly(on bool) { cn.useful.Store(on) }

// watch starts a watchdog that closes the connection when the operation
// makes no progress for limit; the returned function ends the watch and
// reports whether it fired.
func (cn *conn) watch(limit time.Duration) func() bool {
	w := newWatchdog(limit, cn.close)
	cn.dog.Store(w)
	return func() bool {
		cn.dog.Store(nil)
		cn.usefulOnly(false)
		return w.stop()
	}
}

// dial opens and logs in one connection. The dial obeys ctx and must be
// done within Config.StallTimeout; later commands are watched by run. A
// refused OAuth2 token is fetched again and the login tried once more, on
// a fresh connection.
func dial(ctx context.Context, cfg *Config) (*conn, error) {
	return dialWith(ctx, cfg, nil)
}

// dialWith is dial with a handler for what the server sends unasked.
func dialWith(ctx context.Context, cfg *Config, h *imapclient.UnilateralDataHandler) (*conn, error) {
	return dialVia(ctx, cfg, h, nil)
}

// dialVia is dialWith with wrap, if not nil, put between the plain (after
// TLS) stream and go-imap: see framed.go.
func dialVia(parent context.Context, cfg *Config, h *imapclient.UnilateralDataHandler, wrap func(net.Conn) net.Conn) (*conn, error) {
	ctx, cancel := context.WithTimeout(parent, cfg.StallTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		c, raw, err := connect(ctx, cfg, h, wrap)
		if err == nil {
			stop := context.AfterFunc(ctx, func() { c.Close() })
			err = login(ctx, c, cfg, attempt == 0)
			stop()
			if err == nil {
				return newConn(c, raw), nil
			}
			c.Close()
		}
		if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s did not finish the login within %s: %w (check --server and the network)", cfg.Addr, cfg.StallTimeout, err)
		}
		if errors.Is(err, errRetryToken) {
			continue
		}
		return nil, err
	}
}

// connect opens one connection, sets up TLS and waits for the greeting.
// With wrap, STARTTLS is done here rather than by go-imap, which would
// leave no place for wrap.
func connect(ctx context.Context, cfg *Config, h *imapclient.UnilateralDataHandler, wrap func(net.Conn) net.Conn) (*imapclient.Client, *idleConn, error) {
	ownTLS := wrap != nil
	if wrap == nil {
		wrap = func(nc net.Conn) net.Conn { return nc }
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	d := &net.Dialer{Timeout: 15 * time.Second}
	tcp, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach %s: %w (check --server and the network)", cfg.Addr, unwrapNet(err))
	}
	raw := &idleConn{Conn: tcp}
	opts := &imapclient.Options{TLSConfig: tc, UnilateralDataHandler: h}
	var c *imapclient.Client
	switch cfg.TLS {
	case TLSImplicit:
		tconn := tls.Client(raw, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, nil, fmt.Errorf("TLS with %s failed: %w (for a private CA use --tls-ca FILE)", cfg.Addr, err)
		}
		c = imapclient.New(wrap(tconn), opts)
	case TLSStartTLS:
		if ownTLS {
			var tconn net.Conn
			if tconn, err = startTLS(ctx, raw, tc); err == nil {
				c = imapclient.New(wrap(tconn), opts)
			}
		} else {
			c, err = imapclient.NewStartTLS(raw, opts)
		}
		if err != nil {
			raw.Close()
			return nil, nil, fmt.Errorf("STARTTLS with %s failed: %w (the server must offer STARTTLS; for a private CA use --tls-ca FILE)", cfg.Addr, err)
		}
	default:
		c = imapclient.New(wrap(raw), opts)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("greeting from %s: %w", cfg.Addr, err)
	}
	return c, raw, nil
}

// unwrapNet drops the repetition in net errors ("dial tcp ADDR: connect: X").
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// errRetryToken tells dial that the token was refused and forgotten, and
// the login is worth one more try with a new one.
var errRetryToken = errors.New("token refused, fetching a new one")

// login authenticates by password or by token. With mayRetry, a refused
// token is forgotten and errRetryToken returned.
func login(ctx context.Context, c *imapclient.Client, cfg *Config, mayRetry bool) error {
	if cfg.tokens == nil {
		if err := c.Login(cfg.User, cfg.Password).Wait(); err != nil {
			var ie *imap.Error
			if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
				return fmt.Errorf("%w for user %q at %s (%s): check the user name and password", ErrAuth, cfg.User, cfg.Addr, ie.Text)
			}
			return fmt.Errorf("login at %s: %w", cfg.Addr, err)
		}
		return nil
	}
	tok, err := cfg.tokens.token(ctx)
	if err != nil {
		return err
	}
	err = authOAuth(c, cfg, tok)
	if errors.Is(err, errTokenRefused) {
		cfg.tokens.refused(tok)
		if mayRetry {
			return errRetryToken
		}
		return fmt.Errorf("%w for user %q: %v, also after running the token command again: check the user name, the token command and the token's scope", ErrAuth, cfg.User, err)
	}
	return err
}

// examine selects folder read-only (EXAMINE), so nothing we do can change
// flags or expunge, and checks its UIDVALIDITY when want is not zero.
func (cn *conn) examine(folder string, want uint32) error {
	if cn.selected != folder {
		data, err := cn.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			cn.selected = ""
			return mapNo(err, folder)
		}
		cn.selected, cn.uidValidity = folder, data.UIDValidity
	}
	if want != 0 && cn.uidValidity != want {
		return fmt.Errorf("%q: %w", folder, errUIDValidity)
	}
	return nil
}

// examineFresh is examine for listing: a folder this connection already
// has selected is brought up to date first (NOOP), since a session's view
// of its selected mailbox only changes when the server may tell it so.
func (cn *conn) examineFresh(folder string, want uint32) error {
	if cn.selected == folder {
		if err := cn.c.Noop().Wait(); err != nil {
			return err
		}
	}
	return cn.examine(folder, want)
}

// refresh sends NOOP when a mailbox is selected, so that a STATUS sent
// after it sees the mailbox as it is now: a server answers STATUS of the
// selected mailbox from the session's view (RFC 3501 6.3.10), which
// otherwise lags behind what other clients did. It is pipelined; the
// returned function waits for the answer.
func (cn *conn) refresh() func() error {
	if cn.selected == "" {
		return func() error { return nil }
	}
	return cn.c.Noop().Wait
}

func (cn *conn) close() { cn.c.Close() }

// abandon closes the connection while a literal is pending and unread:
// go-imap's reader goroutine waits until the literal was read to its end
// or an error, and Close waits for that goroutine, so the literal is read
// to the error that closing the socket brings.
func (cn *conn) abandon(lit io.Reader) {
	cn.raw.Close()
	if lit != nil {
		io.Copy(io.Discard, lit)
	}
	cn.close()
}

// broken reports whether the connection can no longer be used.
func (cn *conn) broken() bool {
	select {
	case <-cn.c.Closed():
		return true
	default:
		return false
	}
}

// run runs op on a pooled connection, watched for stalls, up to attempts
// times while the connection breaks under it.
func (s *Source) run(ctx context.Context, what, folder string, attempts int, op func(cn *conn) error) error {
	var err error
	for attempt := 0; attempt < attempts; attempt++ {
		var cn *conn
		cn, err = s.get(ctx, folder)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, cn.close)
		endWatch := cn.watch(s.cfg.StallTimeout)
		err = op(cn)
		if endWatch() {
			err = fmt.Errorf("%s: no progress for %s, connection closed (the server stalls or repeats itself): %w", what, s.cfg.StallTimeout, err)
		}
		stop()
		if err != nil && !serverAnswered(err) {
			// go-imap may not have noticed yet that the connection is
			// dead (its reader goroutine is still closing it): never
			// hand it to the next operation.
			cn.close()
		}
		broken := cn.broken()
		s.put(cn)
		if err == nil || !broken || ctx.Err() != nil {
			break
		}
		if attempt+1 < attempts {
			s.log.Warn("connection lost, retrying", "op", what, "err", err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// serverAnswered reports whether err is the server's answer (NO, BAD, a
// missing folder, a new UIDVALIDITY) on a connection that is still fine.
func serverAnswered(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) || errors.Is(err, cache.ErrGone) || errors.Is(err, errUIDValidity)
}
