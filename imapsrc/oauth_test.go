package imapsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// tokenServer is an in-process IMAP server whose one user logs in only by
// XOAUTH2 or OAUTHBEARER with the token in valid.
type tokenServer struct {
	addr  string
	user  *imapmemserver.User
	mechs []string // advertised as AUTH=…

	mu       sync.Mutex
	valid    string   // the token accepted now
	attempts []string // "MECH token" per AUTHENTICATE, in order
	afterErr [][]byte // the client's responses to error challenges
}

const tokenUser = "alice@example.com"

func startTokenServer(t *testing.T, valid string, mechs ...string) *tokenServer {
	t.Helper()
	ts := &tokenServer{user: imapmemserver.NewUser(tokenUser, ""), mechs: mechs, valid: valid}
	if err := ts.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &tokenSession{srv: ts}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true, // loopback only
		Logger:       log.New(testLogWriter{t}, "token imap server: ", 0),
	})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// testLogWriter sends the server's log lines to t.Log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (ts *tokenServer) setValid(tok string) {
	ts.mu.Lock()
	ts.valid = tok
	ts.mu.Unlock()
}

// check records an attempt and reports whether it may log in.
func (ts *tokenServer) check(mech, user, tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.attempts = append(ts.attempts, mech+" "+tok)
	return user == tokenUser && tok == ts.valid
}

func (ts *tokenServer) log() (attempts []string, afterErr [][]byte) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.attempts...), append([][]byte(nil), ts.afterErr...)
}

type tokenSession struct {
	*imapmemserver.UserSession // nil until authenticated
	srv                        *tokenServer
}

var _ imapserver.SessionSASL = (*tokenSession)(nil)

func (s *tokenSession) Login(string, string) error { return imapserver.ErrAuthFailed }

func (s *tokenSession) AuthenticateMechanisms() []string { return s.srv.mechs }

func (s *tokenSession) Authenticate(mech string) (sasl.Server, error) {
	ok := func() { s.UserSession = imapmemserver.NewUserSession(s.srv.user) }
	switch mech {
	case "OAUTHBEARER":
		return &recordingServer{srv: s.srv, Server: sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if !s.srv.check(mech, o.Username, o.Token) {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			ok()
			return nil
		})}, nil
	case "XOAUTH2":
		return &xoauth2Server{srv: s.srv, ok: ok}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// recordingServer records the response to an error challenge.
type recordingServer struct {
	sasl.Server
	srv    *tokenServer
	failed bool
}

func (r *recordingServer) Next(resp []byte) ([]byte, bool, error) {
	if r.failed {
		r.srv.mu.Lock()
		r.srv.afterErr = append(r.srv.afterErr, resp)
		r.srv.mu.Unlock()
	}
	ch, done, err := r.Server.Next(resp)
	if !done && len(ch) > 0 {
		r.failed = true
	}
	return ch, done, err
}

// xoauth2Server is Google's XOAUTH2 as a server: an error challenge with
// JSON, then NO after the client's (empty) response.
type xoauth2Server struct {
	srv    *tokenServer
	ok     func()
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		x.srv.mu.Lock()
		x.srv.afterErr = append(x.srv.afterErr, resp)
		x.srv.mu.Unlock()
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials (Failure)"}
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	user, tok, ok := parseXOAuth2(resp)
	if ok && x.srv.check("XOAUTH2", user, tok) {
		x.ok()
		return nil, true, nil
	}
	x.failed = true
	return []byte(`{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`), false, nil
}

func parseXOAuth2(resp []byte) (user, tok string, ok bool) {
	s, found := strings.CutSuffix(string(resp), "\x01\x01")
	if !found {
		return "", "", false
	}
	u, a, found := strings.Cut(s, "\x01")
	if !found || !strings.HasPrefix(u, "user=") || !strings.HasPrefix(a, "auth=Bearer ") {
		return "", "", false
	}
	return strings.TrimPrefix(u, "user="), strings.TrimPrefix(a, "auth=Bearer "), true
}

// counterCmd returns a token command printing PREFIX-N, N counting runs,
// and a function reporting how often it ran.
func counterCmd(t *testing.T, prefix string) (string, func() int) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	cmd := fmt.Sprintf(`n=$(cat %[1]q 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]q; echo %[2]s-$n`, count, prefix)
	return cmd, func() int {
		b, err := os.ReadFile(count)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
}

func tokenConfig(ts *tokenServer, cmd, auth string) Config {
	return Config{Addr: ts.addr, TLS: TLSNone, User: tokenUser, TokenCmd: cmd, Auth: auth, Conns: 2}
}

func TestOAuthLogin(t *testing.T) {
	tests := []struct {
		name     string
		mechs    []string // advertised
		auth     string   // Config.Auth
		wantMech string
	}{
		{"xoauth2 chosen", []string{"XOAUTH2", "OAUTHBEARER"}, AuthXOAuth2, "XOAUTH2"},
		{"oauthbearer chosen", []string{"XOAUTH2", "OAUTHBEARER"}, AuthOAuthBearer, "OAUTHBEARER"},
		{"auto prefers oauthbearer", []string{"XOAUTH2", "OAUTHBEARER"}, "", "OAUTHBEARER"},
		{"auto falls back to xoauth2", []string{"XOAUTH2"}, "", "XOAUTH2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startTokenServer(t, "good-1", tt.mechs...)
			cmd, runs := counterCmd(t, "good")
			src, err := Dial(context.Background(), tokenConfig(ts, cmd, tt.auth), nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer src.Close()
			// The session really is logged in: the folder list works.
			if err := src.do(context.Background(), "list", "", func(cn *conn) error {
				_, err := cn.c.List("", "*", nil).Collect()
				return err
			}); err != nil {
				t.Fatalf("LIST after login: %v", err)
			}
			// A second connection reuses the token without running the command.
			cn, err := src.get(context.Background(), "")
			if err != nil {
				t.Fatalf("second connection: %v", err)
			}
			cn2, err := src.get(context.Background(), "")
			if err != nil {
				t.Fatalf("third connection: %v", err)
			}
			src.put(cn)
			src.put(cn2)
			if n := runs(); n != 1 {
				t.Errorf("token command ran %d times, want 1", n)
			}
			attempts, _ := ts.log()
			if len(attempts) == 0 {
				t.Fatal("no AUTHENTICATE reached the server")
			}
			for _, a := range attempts {
				if a != tt.wantMech+" good-1" {
					t.Errorf("attempt %q, want %q", a, tt.wantMech+" good-1")
				}
			}
		})
	}
}

func TestOAuthRefreshAfterRefusal(t *testing.T) {
	for _, mech := range []string{AuthXOAuth2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			// The command first prints tok-1, which the server no longer
			// accepts (expired); run again it prints tok-2.
			ts := startTokenServer(t, "tok-2", "XOAUTH2", "OAUTHBEARER")
			cmd, runs := counterCmd(t, "tok")
			src, err := Dial(context.Background(), tokenConfig(ts, cmd, mech), nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer src.Close()
			if n := runs(); n != 2 {
				t.Errorf("token command ran %d times, want 2", n)
			}
			want := strings.ToUpper(mech)
			attempts, afterErr := ts.log()
			if strings.Join(attempts, ",") != want+" tok-1,"+want+" tok-2" {
				t.Errorf("attempts = %q, want tok-1 then tok-2", attempts)
			}
			// After the error challenge the client answered as the mechanism
			// says: empty for XOAUTH2, %x01 for OAUTHBEARER.
			wantResp := []byte{}
			if mech == AuthOAuthBearer {
				wantResp = []byte{1}
			}
			if len(afterErr) != 1 || !bytes.Equal(afterErr[0], wantResp) {
				t.Errorf("responses to the error challenge = %q, want [%q]", afterErr, wantResp)
			}

			// Later the token expires again: a new connection refreshes it.
			ts.setValid("tok-3")
			src.Close() // drop the idle connection so that get dials
			cn, err := src.get(context.Background(), "")
			if err != nil {
				t.Fatalf("connection after the second expiry: %v", err)
			}
			src.put(cn)
			if n := runs(); n != 3 {
				t.Errorf("token command ran %d times, want 3", n)
			}
		})
	}
}

func TestOAuthWrongToken(t *testing.T) {
	const secret = "wrong-secret-token-XYZ"
	for _, mech := range []string{AuthXOAuth2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			ts := startTokenServer(t, "the-right-one", "XOAUTH2", "OAUTHBEARER")
			dir := t.TempDir()
			count := filepath.Join(dir, "count")
			cmd := fmt.Sprintf(`echo x >> %q; echo %s`, count, secret)
			_, err := Dial(context.Background(), tokenConfig(ts, cmd, mech), nil)
			if err == nil {
				t.Fatal("Dial succeeded with a wrong token")
			}
			if !errors.Is(err, ErrAuth) {
				t.Errorf("error %q is not ErrAuth", err)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) {
				t.Errorf("error contains the token: %q", msg)
			}
			for _, want := range []string{"login refused", tokenUser, strings.ToUpper(mech), "token command"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			b, _ := os.ReadFile(count)
			if n := strings.Count(string(b), "x"); n != 2 {
				t.Errorf("token command ran %d times, want 2 (once more after the refusal)", n)
			}
			if attempts, _ := ts.log(); len(attempts) != 2 {
				t.Errorf("%d login attempts, want 2", len(attempts))
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestTokenCommandErrors(t *testing.T) {
	ts := startTokenServer(t, "x", "XOAUTH2")
	old := tokenCmdTimeout
	tokenCmdTimeout = 500 * time.Millisecond
	t.Cleanup(func() { tokenCmdTimeout = old })
	tests := []struct {
		name, cmd, want string
	}{
		{"fails", `echo 'no such account' >&2; exit 3`, "token command failed: exit status 3: no such account"},
		{"prints nothing", `true`, "printed no token"},
		{"spaces", `echo 'two words'`, "spaces or control characters"},
		{"hangs", `sleep 30`, "did not finish within 500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Dial(context.Background(), tokenConfig(ts, tt.cmd, ""), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Dial error = %v, want it to contain %q", err, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if attempts, _ := ts.log(); len(attempts) != 0 {
		t.Errorf("a broken token command still led to %d logins", len(attempts))
	}
}

func TestTokenFirstLine(t *testing.T) {
	// pass(1)-style output: the secret on the first line, more below.
	tok, err := runTokenCmd(context.Background(), `printf '  abc.def-123\nuser: me\n'`)
	if err != nil || tok != "abc.def-123" {
		t.Errorf("runTokenCmd = %q, %v; want abc.def-123", tok, err)
	}
}

func TestAuthConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"password default", Config{Addr: "127.0.0.1", TLS: TLSNone, Password: "p"}, ""},
		{"token auto", Config{Addr: "127.0.0.1", TLS: TLSNone, TokenCmd: "x"}, ""},
		{"xoauth2 without command", Config{Addr: "127.0.0.1", TLS: TLSNone, Auth: AuthXOAuth2}, "needs a token command"},
		{"password with command", Config{Addr: "127.0.0.1", TLS: TLSNone, Auth: AuthPassword, TokenCmd: "x"}, "drop one"},
		{"unknown", Config{Addr: "127.0.0.1", TLS: TLSNone, Auth: "kerberos"}, "unknown login method"},
		{"token without TLS to remote", Config{Addr: "192.0.2.1", TLS: TLSNone, TokenCmd: "x"}, "without TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.normalize()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("normalize() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
