package imapsrc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
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
	Password string
	Conns    int // connections at most; default 4
}

// ErrAuth means the server refused the user name or password.
var ErrAuth = errors.New("login refused")

// normalize fills defaults and refuses unsafe settings.
func (c *Config) normalize() error {
	if c.TLS == "" {
		c.TLS = TLSImplicit
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	port := ""
	switch c.TLS {
	case TLSImplicit:
		port = "993"
	case TLSStartTLS:
		port = "143"
	case TLSNone:
		port = "143"
	default:
		return fmt.Errorf("unknown TLS mode %q (want implicit, starttls or none)", c.TLS)
	}
	if c.Addr == "" {
		return errors.New("no server given")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		c.Addr = net.JoinHostPort(strings.Trim(c.Addr, "[]"), port)
	}
	if c.TLS == TLSNone && !isLoopback(c.host()) {
		return fmt.Errorf("refusing to send a password without TLS to %s: use --tls implicit or starttls (--tls none is only for loopback servers)", c.host())
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
	selected    string
	uidValidity uint32
}

// dial opens and logs in one connection. The dial obeys ctx; later commands
// are bounded by go-imap's own read timeouts.
func dial(ctx context.Context, cfg *Config) (*conn, error) {
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 15 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Addr, err)
	}
	opts := &imapclient.Options{TLSConfig: tc}
	var c *imapclient.Client
	switch cfg.TLS {
	case TLSImplicit:
		tconn := tls.Client(raw, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS with %s: %w", cfg.Addr, err)
		}
		c = imapclient.New(tconn, opts)
	case TLSStartTLS:
		c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", cfg.Addr, err)
		}
	default:
		c = imapclient.New(raw, opts)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", cfg.Addr, err)
	}
	if err := c.Login(cfg.User, cfg.Password).Wait(); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			return nil, fmt.Errorf("%w for user %q at %s (%s): check the user name and password", ErrAuth, cfg.User, cfg.Addr, ie.Text)
		}
		return nil, fmt.Errorf("login at %s: %w", cfg.Addr, err)
	}
	return &conn{c: c}, nil
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

func (cn *conn) close() { cn.c.Close() }

// broken reports whether the connection can no longer be used.
func (cn *conn) broken() bool {
	select {
	case <-cn.c.Closed():
		return true
	default:
		return false
	}
}
