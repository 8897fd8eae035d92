package imapsrc

// OAuth2 login: the SASL mechanisms XOAUTH2 (Google, Microsoft) and
// OAUTHBEARER (RFC 7628), with an access token printed by a command the
// user names (oama, pizauth, a provider's CLI, …). mailfs never sees a
// refresh token or a client secret: getting and refreshing tokens is the
// command's job, and a token that the server refuses is fetched again by
// running the command once more.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// Values of Config.Auth.
const (
	AuthPassword    = "password"    // LOGIN with Config.Password (the default)
	AuthXOAuth2     = "xoauth2"     // SASL XOAUTH2 with a token from Config.TokenCmd
	AuthOAuthBearer = "oauthbearer" // SASL OAUTHBEARER (RFC 7628) likewise
)

// tokenCmdTimeout bounds one run of the token command; a variable for tests.
var tokenCmdTimeout = 60 * time.Second

// maxTokenAge is how long a token is used before the command is asked
// again. Google's and Microsoft's access tokens live an hour; token helpers
// cache them, so asking early is cheap and saves a refused login.
const maxTokenAge = 45 * time.Minute

// tokenSource runs the token command and keeps its answer in memory, shared
// by every connection of a Source.
type tokenSource struct {
	cmd string

	mu  sync.Mutex // guards tok and got; held while the command runs, so it runs once for all waiters
	tok string
	got time.Time
}

// token returns the cached token or runs the command for a new one.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok != "" && time.Since(ts.got) < maxTokenAge {
		return ts.tok, nil
	}
	tok, err := runTokenCmd(ctx, ts.cmd)
	if err != nil {
		return "", err
	}
	ts.tok, ts.got = tok, time.Now()
	return tok, nil
}

// refused forgets tok after the server refused it, so that the next call
// of token runs the command again. A token already replaced by another
// connection's refresh is left alone.
func (ts *tokenSource) refused(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok == tok {
		ts.tok = ""
	}
}

// runTokenCmd runs the token command and checks what it printed.
func runTokenCmd(ctx context.Context, cmdline string) (string, error) {
	tok, err := RunSecretCmd(ctx, cmdline, tokenCmdTimeout, nil)
	if err != nil {
		return "", fmt.Errorf("token %w", err)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", errors.New("token command printed no token")
	}
	for _, r := range tok {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", errors.New("token command printed a token with spaces or control characters")
		}
	}
	return tok, nil
}

// RunSecretCmd runs cmdline with sh -c and returns the first line it
// prints, without its line end; the rest is ignored (pass(1) puts other
// data there). It is how both a password command and a token command are
// run. Neither its output nor the secret ever goes into an error. Its
// error output goes to stderr when that is not nil (where a passphrase
// prompt can be seen); otherwise the first line of it goes into the error
// of a failed run.
func RunSecretCmd(ctx context.Context, cmdline string, timeout time.Duration, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
	var errOut bytes.Buffer
	cmd.Stderr = stderr
	if stderr == nil {
		cmd.Stderr = &limitedBuffer{buf: &errOut, max: 4096}
	}
	// A grandchild that keeps stdout open must not hold us past the timeout.
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("command did not finish within %v", timeout)
	}
	if err != nil {
		msg := fmt.Sprintf("command failed: %v", err)
		if line := firstLine(errOut.String()); line != "" {
			msg += ": " + line
		}
		return "", errors.New(msg)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// firstLine is s's first non-blank line, trimmed and cut to 200 bytes.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			return line
		}
	}
	return ""
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// oauthError is what the server said in its SASL error challenge
// (RFC 7628 §3.2.2; XOAUTH2 sends the same JSON).
type oauthError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

func parseOAuthError(challenge []byte) *oauthError {
	e := &oauthError{}
	if json.Unmarshal(challenge, e) != nil || e.Status == "" {
		e.Status = "unknown"
	}
	return e
}

func (e *oauthError) String() string {
	s := "status " + e.Status
	if e.Scope != "" {
		s += ", scope " + e.Scope
	}
	return s
}

// xoauth2Client is the SASL client of Google's XOAUTH2 mechanism
// (https://developers.google.com/gmail/imap/xoauth2-protocol), which
// Microsoft implements too. go-sasl has none.
type xoauth2Client struct {
	user, token string
	failure     *oauthError // the server's error challenge, if it sent one
}

var _ sasl.Client = (*xoauth2Client)(nil)

func (c *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the only challenge XOAUTH2 has, the error report, with the
// empty response after which the server sends its final NO.
//
// imapclient writes an empty continuation response as "=" (go-imap issue
// #760), which strict servers such as Dovecot answer with BAD rather than
// NO; login treats either as a refusal because failure is set here.
func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	c.failure = parseOAuthError(challenge)
	return []byte{}, nil
}

// oauthBearerClient is go-sasl's OAUTHBEARER client with a Next that
// follows RFC 7628 §3.2.3: after an error challenge the client sends the
// dummy response %x01 and the server ends with NO. go-sasl's Next returns
// an error instead, which would leave the command hanging half-way.
type oauthBearerClient struct {
	sasl.Client
	failure *oauthError
}

func newOAuthBearerClient(user, token, addr string) *oauthBearerClient {
	opts := &sasl.OAuthBearerOptions{Username: user, Token: token}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		opts.Host = host
		opts.Port, _ = strconv.Atoi(port)
	}
	return &oauthBearerClient{Client: sasl.NewOAuthBearerClient(opts)}
}

func (c *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	c.failure = parseOAuthError(challenge)
	return []byte{0x01}, nil
}

// Token returns the OAuth2 access token from TokenCmd (cached for all
// copies of the normalized Config), for imapsrc/pop3.
func (c *Config) Token(ctx context.Context) (string, error) { return c.tokens.token(ctx) }

// TokenRefused forgets tok after the server refused it, so that the next
// Token runs the command again.
func (c *Config) TokenRefused(tok string) { c.tokens.refused(tok) }

// OAuthClient returns the SASL client of mech (AuthXOAuth2 or
// AuthOAuthBearer) for tok, and a function that describes the server's
// error challenge once one came ("" before), for imapsrc/pop3.
func OAuthClient(mech, user, tok, addr string) (sasl.Client, func() string) {
	if mech == AuthOAuthBearer {
		cl := newOAuthBearerClient(user, tok, addr)
		return cl, func() string { return describe(cl.failure) }
	}
	cl := &xoauth2Client{user: user, token: tok}
	return cl, func() string { return describe(cl.failure) }
}

func describe(e *oauthError) string {
	if e == nil {
		return ""
	}
	return e.String()
}

// chooseMech picks the SASL mechanism for a token: cfg.Auth if given,
// else OAUTHBEARER when the server offers it, else XOAUTH2.
func chooseMech(c *imapclient.Client, auth string) string {
	if auth != "" {
		return auth
	}
	for _, m := range c.Caps().AuthMechanisms() {
		if strings.EqualFold(m, sasl.OAuthBearer) {
			return AuthOAuthBearer
		}
	}
	return AuthXOAuth2
}

// errTokenRefused is returned by authOAuth when the server refused the
// token, as opposed to failing in some other way.
var errTokenRefused = errors.New("token refused")

// authOAuth logs in with tok by XOAUTH2 or OAUTHBEARER.
func authOAuth(c *imapclient.Client, cfg *Config, tok string) error {
	var (
		client  sasl.Client
		failure func() *oauthError
		mech    = chooseMech(c, cfg.Auth)
	)
	switch mech {
	case AuthOAuthBearer:
		cl := newOAuthBearerClient(cfg.User, tok, cfg.Addr)
		client, failure = cl, func() *oauthError { return cl.failure }
	default:
		cl := &xoauth2Client{user: cfg.User, token: tok}
		client, failure = cl, func() *oauthError { return cl.failure }
	}
	err := c.Authenticate(client)
	if err == nil {
		return nil
	}
	var ie *imap.Error
	isNo := errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo
	if f := failure(); f != nil || isNo {
		why := ""
		if ie != nil {
			why = ie.Text
		}
		if f != nil {
			if why != "" {
				why += "; "
			}
			why += f.String()
		}
		return fmt.Errorf("%w: %s by %s (%s)", errTokenRefused, strings.ToUpper(mech), cfg.Addr, why)
	}
	return fmt.Errorf("authenticate (%s) at %s: %w", strings.ToUpper(mech), cfg.Addr, err)
}
